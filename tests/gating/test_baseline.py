"""Baselines: new / unchanged / fixed, and only new failures gate."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from auditor.gating.baseline import BaselineError, BaselineState, load_baseline, parse_baseline
from auditor.gating.gate import GateConfig, evaluate
from auditor.model import Severity
from tests.core.test_user_files import no_hang
from tests.report.fixtures import make_results


def _report(failing: dict[str, list[str]], complete: bool = True) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "generated_at": "2025-01-01T00:00:00+00:00",
        "targets": [
            {
                "target": t,
                "complete": complete,
                "findings": [
                    {"check_id": c, "status": "fail", "title": c, "severity": "high"} for c in checks
                ]
                + [{"check_id": "web.hsts", "status": "pass"}],
            }
            for t, checks in failing.items()
        ],
    }


def test_new_unchanged_fixed() -> None:
    base = parse_baseline(
        _report({"config-repo": ["web.tls_configuration", "xmpp.c2s_encryption", "auth.gone_check"]}),
        "b.json",
    )
    g = evaluate(make_results(), GateConfig(fail_on=Severity.HIGH, baseline=base))
    tg = g.target(0)
    assert tg.get("web.tls_configuration").baseline is BaselineState.UNCHANGED
    assert not tg.get("web.tls_configuration").gates  # known failure: does not gate
    assert tg.get("secrets.weak_or_default").baseline is BaselineState.NEW
    assert tg.get("secrets.weak_or_default").gates
    assert (
        tg.get("web.hsts").baseline is BaselineState.NEW and not tg.get("web.hsts").gates
    )  # below --fail-on
    fixed = {x.check_id: x.status_now for x in tg.fixed}
    # a check this run does not have (disabled by its profile, or gone) was not judged: not fixed
    assert fixed == {"xmpp.c2s_encryption": "pass"}
    assert tg.get("xmpp.c2s_encryption").baseline is None  # passes now: no baseline state of its own
    assert tg.count(BaselineState.NEW) == 4 and tg.count(BaselineState.UNCHANGED) == 1
    assert tg.count(BaselineState.FIXED) == 1
    # a target the baseline does not have: everything failing is new, nothing fixed
    other = g.target(1)
    assert other.in_baseline is False and not other.fixed
    assert all(fg.baseline is BaselineState.NEW for fg in other.findings.values() if fg.failed)
    assert g.failed


def test_only_new_failures_gate() -> None:
    results = make_results()[:1]
    everything = [f.check_id for f in results[0].findings if f.status.value == "fail"]
    base = parse_baseline(_report({"config-repo": everything}), "b.json")
    g = evaluate(results, GateConfig(fail_on=Severity.LOW, baseline=base))
    assert not g.failed and not g.target(0).gating


def test_incomplete_baseline_target_knows_nothing() -> None:
    base = parse_baseline(_report({"config-repo": ["web.tls_configuration"]}, complete=False), "b.json")
    g = evaluate(make_results()[:1], GateConfig(baseline=base))
    assert g.target(0).get("web.tls_configuration").baseline is BaselineState.NEW


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"targets": []},
        {"schema_version": "1.0"},
        {"schema_version": "1.0", "targets": [{"target": 1}]},
        {"schema_version": "1.0", "targets": [{"target": "x", "findings": [{"status": "fail"}]}]},
    ],
)
def test_malformed_baselines(data: Any) -> None:
    with pytest.raises(BaselineError, match=r"b\.json: not a jitsi-audit JSON report"):
        parse_baseline(data, "b.json")


def test_a_target_listed_twice_is_read_together() -> None:
    """A genuine report lists a name twice when the same --root (or a snapshot of it) was given twice:
    refusing it refused jitsi-audit's own report; both entries' failures count."""
    twice = [{"target": "x", "findings": [{"check_id": "web.hsts", "status": "fail"}]},
             {"target": "x", "findings": [{"check_id": "web.gravatar", "status": "fail"}]}]
    base = parse_baseline({"schema_version": "1.0", "targets": twice}, "b.json")
    assert base.failed("x", "web.hsts") and base.failed("x", "web.gravatar")


def test_load_from_file(tmp_path: Path) -> None:
    p = tmp_path / "prev.json"
    p.write_text(json.dumps(_report({"a": ["web.hsts"]})), encoding="utf-8")
    loaded = load_baseline(p)
    assert loaded.failed("a", "web.hsts") and loaded.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    p.write_text("{not json", encoding="utf-8")
    with pytest.raises(BaselineError, match="not a JSON report"):
        load_baseline(p)
    with pytest.raises(BaselineError, match="cannot read"):
        load_baseline(tmp_path / "missing.json")


def test_huge_or_fifo_baseline_is_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(256 * 1024 * 1024 + 1)  # sparse: refused by its size, never read
    with pytest.raises(BaselineError, match=r"^baseline .*huge\.json is larger than 268435456 bytes$"):
        load_baseline(huge)
    os.mkfifo(tmp_path / "fifo.json")
    with no_hang(), pytest.raises(BaselineError, match="is not a regular file"):
        load_baseline(tmp_path / "fifo.json")


def test_a_failure_not_judged_again_is_not_fixed() -> None:
    """Unclear, skipped with the probes, or left out for the host's roles: the baseline's failure was not
    seen again, which is not a fix. A pass, or not applicable for a reason of this run, is."""
    from dataclasses import replace

    from auditor.model import NO_DOCKER_ENV, NO_SECRET, NOT_INTRUSIVE, OFFLINE, Status

    results = make_results()[:1]
    ids = [f.check_id for f in results[0].findings][:8]
    now = {
        ids[0]: (Status.UNCLEAR, "cannot tell: the TLS probe timed out"),
        ids[1]: (Status.NOT_APPLICABLE, OFFLINE),
        ids[2]: (Status.NOT_APPLICABLE, "role jvb: no prosody expected (inventory)"),
        ids[3]: (Status.NOT_APPLICABLE, "server-side recording is off (ENABLE_RECORDING)"),
        ids[4]: (Status.PASS, "fine now"),
        ids[5]: (Status.NOT_APPLICABLE, NOT_INTRUSIVE),
        ids[6]: (Status.NOT_APPLICABLE, NO_DOCKER_ENV),  # e.g. a remote docker daemon: the .env not read
        ids[7]: (Status.NOT_APPLICABLE, NO_SECRET),
    }
    results[0].findings = [replace(f, status=now[f.check_id][0], message=now[f.check_id][1])
                           if f.check_id in now else f for f in results[0].findings]
    base = parse_baseline(_report({"config-repo": ids}), "b.json")
    tg = evaluate(results, GateConfig(fail_on=Severity.HIGH, baseline=base)).target(0)
    assert {x.check_id for x in tg.fixed} == {ids[3], ids[4]}
