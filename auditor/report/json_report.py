"""`--format json`: one document for the whole run, one entry per target."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from auditor import __version__
from auditor.criteria import Profile
from auditor.discovery import discover
from auditor.engine import TargetResult
from auditor.facts import FACT_KEYS
from auditor.gating.gate import GateReport, TargetGate
from auditor.model import Evidence
from auditor.report.common import fleet_rows
from auditor.report.json_model import SCHEMA_VERSION, ReportModel, TargetModel
from auditor.report.jsontext import dumps_with_list, list_marker


def _evidence(evs: tuple[Evidence, ...] | list[Evidence]) -> list[dict[str, Any]]:
    return [e.to_json() for e in evs]


def _jsonable(value: Any) -> Any:
    to_json = getattr(value, "to_json", None)
    return to_json() if callable(to_json) else value


def target_dict(result: TargetResult, gate: TargetGate | None = None) -> dict[str, Any]:
    snap = result.snapshot
    # The deployment already knows each file's role; discover again only for a result without one.
    discovered = result.deployment.files if result.deployment is not None else (discover(snap) if snap else [])
    roles = {f.path: f for f in discovered}
    collected = []
    if snap is not None:
        for item in sorted(snap.items.values(), key=lambda i: i.key):
            found = roles.get(item.key)
            collected.append(
                {
                    "key": item.key,
                    "kind": item.kind,
                    "status": item.status.value,
                    "role": found.role.value if found else None,
                    "active": found.active if found else None,
                    "size": item.size,
                    "mode": None if item.mode is None else f"{item.mode:04o}",
                    "owner": item.owner,
                    "group": item.group,
                    "sha256": item.sha256,
                    "redactions": item.redactions,
                    "error": item.error,
                }
            )
    facts = result.facts
    return {
        "target": result.target,
        "transport": snap.transport if snap else None,
        "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat(),
        "complete": result.complete,
        "error": result.error,
        "error_stage": result.error_stage,
        "host_key": None
        if snap is None or snap.host_key is None
        else {"type": snap.host_key.key_type, "fingerprint": snap.host_key.fingerprint_sha256},
        "host_roles": list(result.roles.roles) if result.roles else [],
        "host_roles_source": result.roles.source if result.roles else None,
        "facts": facts.as_dict() if facts else None,
        "fact_details": {
            k: {"note": facts[k].note, "evidence": _evidence(facts[k].evidence)} for k in FACT_KEYS
        }
        if facts
        else {},
        "criteria": [
            {
                "id": c.id,
                "category": c.category,
                "title": c.title,
                "rating": c.rating.value,
                "basis": c.basis.value,
                "reasons": list(c.reasons),
                "check_ids": list(c.check_ids),
                "review_2020": c.review_2020,
            }
            for c in result.criteria
        ],
        "findings": [
            {
                "check_id": f.check_id,
                "title": f.title,
                "severity": f.severity.value,
                "status": f.status.value,
                "criterion_ids": list(f.criteria),
                "message": f.message,
                "evidence": _evidence(f.evidence),
                "remediation": f.remediation,
                "references": list(f.references),
                **({"gate": gate.get(f.check_id).to_json()} if gate is not None else {}),
            }
            for f in result.findings
        ],
        "scores": None
        if result.scores is None
        else {
            "overall": result.scores.overall,
            "coverage": result.scores.coverage,
            "categories": [
                {"category": c.category, "score": c.score, "rated": c.rated, "unclear": c.unclear}
                for c in result.scores.categories
            ],
        },
        "collected": collected,
        "probes": {k: _jsonable(v) for k, v in result.probes.items()},
        "collection_errors": list(snap.errors) if snap else [],
        "notes": result.notes,
        **({"gate": gate.to_json()} if gate is not None else {}),
    }


def _envelope(
    profile: Profile, fail_on: str, exit_code: int, gate: GateReport | None, targets: Any,
    results: list[TargetResult],
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "jitsi-audit", "version": __version__},
        "profile": {
            "name": profile.name,
            "version": profile.version,
            "catalogue": "orange-cyberdefense-2020",
            "catalogue_version": profile.catalogue_version,
            "files": [{"path": path, "sha256": digest} for path, digest in profile.file_sha256.items()],
            **({"declarations": {"path": profile.declarations_file[0], "sha256": profile.declarations_file[1]}}
               if profile.declarations_file else {}),
        },
        "generated_at": datetime.now(UTC).isoformat(),
        "fail_on": fail_on,
        "exit_code": exit_code,
        **({"gate": gate.to_json()} if gate is not None else {}),
        "fleet": [row.to_json() for row in fleet_rows(results)],
        "targets": targets,
    }


def _validated(entry: dict[str, Any]) -> dict[str, Any]:
    TargetModel.model_validate(entry)  # every entry matches the published schema (the model is dropped)
    return entry


def report_dict(
    results: list[TargetResult],
    profile: Profile,
    fail_on: str,
    exit_code: int,
    gate: GateReport | None = None,
) -> dict[str, Any]:
    """The whole report as one value (tests; `iter_json` writes the same text without holding it)."""
    targets = [target_dict(r, gate.target(i) if gate else None) for i, r in enumerate(results)]
    data = _envelope(profile, fail_on, exit_code, gate, targets, results)
    ReportModel.model_validate(data)  # the report always matches its published schema
    return data


def iter_json(
    results: list[TargetResult], profile: Profile, fail_on: str, exit_code: int, gate: GateReport | None = None
) -> Iterator[str]:
    """The JSON report's text in pieces: the document around the targets, then each target's entry, built,
    validated against the schema, serialised and released before the next one is built, so a fleet's
    report never lives whole in memory (as values, as models or as one text). The text is
    `json.dumps(report_dict(...), indent=2, ensure_ascii=False) + "\\n"`."""
    head = _envelope(profile, fail_on, exit_code, gate, [], results)
    ReportModel.model_validate(head)  # the document around the entries, its targets checked one by one
    marker = list_marker()
    head["targets"] = marker
    entries = (_validated(target_dict(r, gate.target(i) if gate else None)) for i, r in enumerate(results))
    yield from dumps_with_list(head, marker, entries)
    yield "\n"


def render_json(
    results: list[TargetResult], profile: Profile, fail_on: str, exit_code: int, gate: GateReport | None = None
) -> str:
    return "".join(iter_json(results, profile, fail_on, exit_code, gate))
