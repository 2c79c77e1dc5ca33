"""`jitsi-audit merge A.json B.json ... -o merged.json`: one report from the JSON reports of split runs.

Each input is validated against the report schema (auditor.report.json_model). Inputs must agree on
the schema version, the profile (name, version, catalogue version) and --fail-on: a fleet judged by
different rules is not one run. A target may appear in one input only.

The merged exit code is recomputed: 3 when any target is incomplete (or an input run said 3), else 1
when any input run failed its gates (findings at or above --fail-on, waivers, baselines and minimum
scores were judged by that run, with the files it was given), else 0.

The run-level gate block (waivers file, baseline, minimum scores, expired waivers) is kept when every
input was gated with the same settings, failed when any input failed; inputs gated differently give
no run-level block and a warning (each target keeps its own gate block either way).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from auditor import __version__, json_input
from auditor.report.json_model import SCHEMA_VERSION, ReportModel
from auditor.user_files import read_user_file

MAX_BYTES = 256 * 1024 * 1024


class MergeError(ValueError):
    """An input that cannot be merged: one line naming the file."""


def load_report(path: Path) -> dict[str, Any]:
    blob = read_user_file(path, "report", MergeError, max_bytes=MAX_BYTES)
    try:
        data = json_input.loads(blob)
    except ValueError as exc:
        raise MergeError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise MergeError(f"{path}: not a jitsi-audit JSON report")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise MergeError(f"{path}: schema version {str(version)[:20]!r}; this jitsi-audit merges reports of schema "
                         f"{SCHEMA_VERSION} only (audit again, or merge with the jitsi-audit that wrote them)")
    try:
        ReportModel.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "document"
        raise MergeError(f"{path}: does not match the report schema at {where}: {first.get('msg')} "
                         f"({exc.error_count()} problem(s))") from None
    if data.get("exit_code") not in (0, 1, 3):
        raise MergeError(f"{path}: exit_code {data.get('exit_code')!r} is not a run's result (0, 1 or 3)")
    return data


def _profile_key(data: dict[str, Any]) -> tuple[Any, ...]:
    p = data["profile"]
    return p["name"], p["version"], p["catalogue"], p["catalogue_version"]


def merged_exit_code(reports: list[dict[str, Any]]) -> int:
    targets = [t for r in reports for t in r["targets"]]
    if any(not t["complete"] for t in targets) or any(r["exit_code"] == 3 for r in reports):
        return 3
    return 1 if any(r["exit_code"] == 1 for r in reports) else 0


def merge_reports(paths: list[Path]) -> tuple[dict[str, Any], list[str]]:
    """The merged report and warnings (one line each). Raises MergeError."""
    if not paths:
        raise MergeError("give the JSON reports to merge")
    given: dict[str, Path] = {}
    for p in paths:
        key = str(p.resolve()) if p.exists() else str(p)
        if key in given:
            raise MergeError(f"{p} is given twice (as {given[key]} and {p})" if str(given[key]) != str(p)
                             else f"{p} is given twice")
        given[key] = p
    reports = [(p, load_report(p)) for p in paths]
    first_path, first = reports[0]
    warnings: list[str] = []
    for path, data in reports[1:]:
        if _profile_key(data) != _profile_key(first):
            raise MergeError(f"mixed profiles: {first_path} used {_describe(first)}, {path} used {_describe(data)}; "
                             "merge only runs of the same profile")
        if data["fail_on"] != first["fail_on"]:
            raise MergeError(f"mixed --fail-on: {first_path} used {first['fail_on']}, {path} used {data['fail_on']}")
    seen: dict[str, Path] = {}
    for path, data in reports:
        for t in data["targets"]:
            if t["target"] in seen:
                raise MergeError(f"target {t['target']!r} is in both {seen[t['target']]} and {path}; "
                                 "split the fleet so each host is audited by one run")
            seen[t["target"]] = path
    tools = sorted({d["tool"]["version"] for _, d in reports})
    if len(tools) > 1:
        warnings.append(f"the inputs were written by different jitsi-audit versions ({', '.join(tools)})")
    data_list = [d for _, d in reports]
    merged = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "jitsi-audit", "version": tools[0] if len(tools) == 1 else __version__},
        "profile": first["profile"],
        "generated_at": datetime.now(UTC).isoformat(),
        "fail_on": first["fail_on"],
        "exit_code": merged_exit_code(data_list),
        "gate": _merged_gate(reports, warnings),
        "fleet": [_fleet_row(t) for d in data_list for t in d["targets"]],
        "targets": [t for d in data_list for t in d["targets"]],
    }
    ReportModel.model_validate(merged)
    return merged, warnings


def _describe(data: dict[str, Any]) -> str:
    p = data["profile"]
    return f"{p['name']} v{p['version']} (catalogue {p['catalogue']} v{p['catalogue_version']})"


_PER_RUN = ("failed", "expired_waivers", "date_utc")  # what may differ between runs gated alike


def _merged_gate(reports: list[tuple[Path, dict[str, Any]]], warnings: list[str]) -> dict[str, Any] | None:
    gates = [(path, data.get("gate")) for path, data in reports]
    if all(g is None for _, g in gates):
        return None
    settings = {path: None if g is None else {k: v for k, v in g.items() if k not in _PER_RUN} for path, g in gates}
    first_path, first = gates[0]
    if first is None or any(v != settings[first_path] for v in settings.values()):
        differ = next(str(path) for path, v in settings.items() if v != settings[first_path])
        warnings.append(f"the inputs were gated with different settings ({first_path} and {differ}: waivers, "
                        "baseline or minimum scores): no run-level gate in the merged report; "
                        "each target keeps its own")
        return None
    expired: list[Any] = []
    for _, g in gates:
        expired += [w for w in (g or {}).get("expired_waivers", []) if w not in expired]
    return {**first, "date_utc": max(str((g or {}).get("date_utc", "")) for _, g in gates),
            "expired_waivers": expired, "failed": any(bool((g or {}).get("failed")) for _, g in gates)}


def _fleet_row(target: dict[str, Any]) -> dict[str, Any]:
    """The fleet summary's row of a target, from its entry (an input may predate the summary)."""
    failed = dict.fromkeys(("critical", "high", "medium", "low", "info"), 0)
    for f in target["findings"]:
        if f["status"] == "fail":
            failed[f["severity"]] += 1
    scores = target.get("scores")
    error = f"{target.get('error_stage')}: {target['error']}" if target.get("error") else None
    return {"target": target["target"], "complete": target["complete"], "roles": list(target.get("host_roles", [])),
            "score": scores.get("overall") if isinstance(scores, dict) else None, "failed": failed, "error": error}
