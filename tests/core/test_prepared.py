"""A live audit redacts and parses the collected evidence once (engine.prepare_snapshot): the probes learn
the domain of an address target from it, and audit_snapshot reuses it with the same results."""

from __future__ import annotations

from pathlib import Path

import pytest

import auditor.engine as engine
from auditor.criteria import load_profile
from auditor.deployment import Deployment, ParseBudget, build_deployment
from auditor.live import _domain_from, _prepare
from auditor.registry import all_checks
from auditor.snapshot import Snapshot
from auditor.transports.local import collect_local_dir

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def test_a_prepared_snapshot_audits_like_a_plain_one_without_a_second_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    profile = load_profile("default")
    checks = profile.apply_to_checks(all_checks(profile.criterion_ids))
    snap = collect_local_dir(DEMO)
    plain = engine.audit_snapshot(snap, profile, checks)

    built: list[Snapshot] = []
    real = build_deployment  # the function engine calls (imported there from auditor.deployment)

    def counting(snapshot: Snapshot, budget: ParseBudget | None = None) -> Deployment:
        built.append(snapshot)
        return real(snapshot, budget)

    monkeypatch.setattr(engine, "build_deployment", counting)
    prepared = _prepare(snap)
    assert prepared is not None and len(built) == 1
    assert _domain_from(prepared) == "meet.example.org"  # the demo's config.js / prosody VirtualHost
    again = engine.audit_snapshot(snap, profile, checks, prepared=prepared)
    assert len(built) == 1, "the prepared deployment is reused, not built again"
    assert again.snapshot is prepared.snapshot and again.deployment is prepared.deployment
    assert [(f.check_id, f.status, f.message) for f in again.findings] == [
        (f.check_id, f.status, f.message) for f in plain.findings]
    assert again.criteria == plain.criteria and again.scores == plain.scores and again.notes == plain.notes
    # the redaction happened in prepare: no secret value of the tree survives in the prepared snapshot
    assert plain.snapshot is not None
    assert prepared.snapshot.items.keys() == plain.snapshot.items.keys()
    assert all(prepared.snapshot.items[k].content == plain.snapshot.items[k].content for k in plain.snapshot.items)
