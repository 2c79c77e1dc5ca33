"""`jitsi-audit merge A.json B.json ... -o merged.json`: one report from the JSON reports of split runs.

Each input is validated against the report schema (auditor.report.json_model). Inputs must agree on
the schema version, the profile (name, version, catalogue version, and the content of the user's
profile files it was built from, by SHA-256) and --fail-on: a fleet judged by different rules is not
one run. A target may appear in one input only. Inputs that read different declarations files merge
with a warning (each target's ratings keep their own; the merged profile block names none).

The merged exit code is recomputed: 3 when any target is incomplete (or an input run said 3), else 1
when any input run failed its gates (findings at or above --fail-on, waivers, baselines and minimum
scores were judged by that run, with the files it was given), else 0.

The run-level gate block (waivers file, baseline, minimum scores, expired waivers) is kept when every
input was gated with the same settings, failed when any input failed; inputs gated differently give
no run-level block and a warning naming two inputs and what differed (each target keeps its own gate
block either way).

The waivers file and the baseline are compared by content: the SHA-256 of the bytes each run read
(`waivers_sha256`, `baseline_sha256`), not the paths it was given, which differ between CI jobs that
check the same repository out in different directories. Equal digests at different paths are the same
settings: the merged block names the first input's path and a note lists the others. An input written
before the digests were recorded (no `*_sha256`, or null beside a path) is compared by path, as then:
it agrees with another input when both name the same path, and the merged block's digest is then null,
since what that run read is unknown. A run given no file agrees only with runs given none.
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


def _profile_files_differ(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two runs' user profile files differ in content (by SHA-256, base first; the paths may differ
    between CI jobs). Reports written before the digests were recorded have no `files`: not compared."""
    if "files" not in a["profile"] or "files" not in b["profile"]:
        return False
    return [f["sha256"] for f in a["profile"]["files"]] != [f["sha256"] for f in b["profile"]["files"]]


def _merged_profile(reports: list[tuple[Path, dict[str, Any]]], warnings: list[str]) -> dict[str, Any]:
    """The first input's profile block; its declarations only when every input read the same content."""
    profile = dict(reports[0][1]["profile"])
    declared = [(path, (d["profile"].get("declarations") or {}).get("sha256")) for path, d in reports]
    if len({digest for _, digest in declared}) > 1:
        (pa, da), (pb, db) = next((declared[0], x) for x in declared[1:] if x[1] != declared[0][1])
        warnings.append(f"the inputs used different declarations ({pa}: {_short_digest(da)}, {pb}: "
                        f"{_short_digest(db)}): each target's ratings keep their own, the merged profile "
                        "block names none")
        profile.pop("declarations", None)
    return profile


def _short_digest(digest: str | None) -> str:
    return f"sha256 {digest[:12]}…" if digest else "none"


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
        if _profile_files_differ(first, data):
            raise MergeError(f"mixed profiles: {first_path} and {path} used {_describe(first)} from profile files "
                             "that differ in content; merge only runs of the same profile")
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
        "profile": _merged_profile(reports, warnings),
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
_FILES = ("waivers", "baseline")  # the gating inputs: a path and the SHA-256 of its bytes (`<kind>_sha256`)
_FILE_KEYS = (*_FILES, *(f"{kind}_sha256" for kind in _FILES))


def _merged_gate(reports: list[tuple[Path, dict[str, Any]]], warnings: list[str]) -> dict[str, Any] | None:
    gates = [(path, data.get("gate")) for path, data in reports]
    if all(g is None for _, g in gates):
        return None
    differ = _gate_difference(gates)
    if differ is not None:
        warnings.append(f"the inputs were gated with different settings ({differ}): no run-level gate in the "
                        "merged report; each target keeps its own")
        return None
    blocks = [g for _, g in gates if g is not None]  # every input has one (else they differ)
    merged = dict(blocks[0])
    for kind in _FILES:
        digests = [g.get(f"{kind}_sha256") for g in blocks]
        # the content all inputs read; unknown (null) when an input compared by path did not record it
        merged[f"{kind}_sha256"] = digests[0] if None not in digests else None
        paths = list(dict.fromkeys(str(g.get(kind)) for g in blocks))
        if len(paths) > 1:  # only with equal digests
            shown = ", ".join(_short(p) for p in paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
            warnings.append(f"the inputs read the same {kind} file (sha256 {str(digests[0])[:12]}…) from different "
                            f"paths ({shown}): the merged gate names the first")
    expired: list[Any] = []
    for g in blocks:
        expired += [w for w in g.get("expired_waivers", []) if w not in expired]
    return {**merged, "date_utc": max(str(g.get("date_utc", "")) for g in blocks),
            "expired_waivers": expired, "failed": any(bool(g.get("failed")) for g in blocks)}


def _gate_difference(gates: list[tuple[Path, dict[str, Any] | None]]) -> str | None:
    """What differs between the inputs' gate settings, naming two inputs, or None when they agree."""
    first_path, first = gates[0]
    for path, g in gates:
        if (g is None) != (first is None):
            gated, other = (path, first_path) if first is None else (first_path, path)
            return f"{first_path} and {path}: {gated} has a run-level gate, {other} none"
    blocks = [(path, g) for path, g in gates if g is not None]
    for kind in _FILES:
        files = [(path, g.get(kind), g.get(f"{kind}_sha256")) for path, g in blocks]
        p0, f0, _ = files[0]
        for p, f, _ in files:
            if (f is None) != (f0 is None):
                given, other = (p, p0) if f0 is None else (p0, p)
                return f"{p0} and {p}: {given} was given a {kind} file, {other} none"
        if f0 is None:
            continue
        hashed = [(p, d) for p, _, d in files if d is not None]
        for p, d in hashed:
            if d != hashed[0][1]:
                return (f"{hashed[0][0]} and {p}: the {kind} files differ in content "
                        f"(sha256 {str(hashed[0][1])[:12]}… and {str(d)[:12]}…)")
        old = next((i for i, (_, _, d) in enumerate(files) if d is None), None)
        if old is not None:  # an input that did not record the digest: by path
            for i, (_, f, _) in enumerate(files):
                if f != files[old][1]:
                    (pa, fa, _), (pb, fb, _) = (files[j] for j in sorted((old, i)))  # in the inputs' order
                    return (f"{pa} and {pb}: the {kind} files are at different paths ({_short(fa)} and "
                            f"{_short(fb)}) and {files[old][0]} has no sha256 of its content to compare")
    others = [(path, {k: v for k, v in g.items() if k not in _PER_RUN and k not in _FILE_KEYS}) for path, g in blocks]
    p0, o0 = others[0]
    for p, o in others:
        if o != o0:
            keys = sorted(k for k in {*o, *o0} if o.get(k) != o0.get(k))
            return f"{p0} and {p}: {', '.join(k.replace('_', ' ') for k in keys)} differ"
    return None


def _short(path: object) -> str:
    """A path from an input, for a warning line: the report's text, cut short."""
    text = str(path)
    return text if len(text) <= 240 else text[:239] + "…"


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
