"""`--format sarif`: SARIF 2.1.0 for code-scanning tools (GitHub, GitLab, Azure DevOps).

One run for the whole invocation. Every check that produced a finding is a rule (title, help text =
rationale-free remediation and references, severity as `level` and as GitHub's numeric
`security-severity`). Results are the failed checks (kind `fail`) and the unclear ones (kind
`review`); with --baseline the fixed ones are added as `absent` results.

Locations:
- directory audits (`--root DIR`): a physical location per evidence file, `uri` relative to the
  audited root (`etc/nginx/sites-available/x.conf`, uriBaseId `AUDITROOT`, `AUDITROOT2`, ... per
  root) with the line as region, so code-scanning annotations land on the configuration line;
- live hosts (and probe or command evidence): logical locations `HOST:/etc/...` (kind `resource`),
  as the files are on the host, not in the repository.

`partialFingerprints["jitsiAudit/v1"]` is the sha256 of check id, target and the first evidence
path (no line, no message), so it stays stable when lines move or messages change.
Waived findings carry an external, accepted `suppression` with the justification.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor import __version__
from auditor.gating.gate import FindingGate, GateReport, TargetGate
from auditor.model import Evidence, Finding, Severity, Status
from auditor.report.common import clean, fleet_rows, gate_of, is_directory_audit, relative_path, sorted_findings
from auditor.report.jsontext import dumps_with_list, list_marker

if TYPE_CHECKING:
    from auditor.engine import TargetResult
    from auditor.report.formats import RenderContext

SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "jitsiAudit/v1"
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub's scale: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def fingerprint(check_id: str, target: str, primary_path: str | None) -> str:
    blob = "\x00".join([check_id, target, primary_path or ""]).encode("utf-8", errors="replace")
    return hashlib.sha256(blob).hexdigest()


def _rule(f: Finding) -> dict[str, Any]:
    refs = [clean(r) for r in f.references]
    help_text = clean(f.remediation)
    if refs:
        help_text += "\n\nReferences:\n" + "\n".join(f"- {r}" for r in refs)
    markdown = "**Remediation**\n\n" + clean(f.remediation).replace("\n", "  \n")
    if refs:
        markdown += "\n\n**References**\n\n" + "\n".join(
            f"- <{r}>" if r.startswith("https://") else f"- {r}" for r in refs
        )
    rule: dict[str, Any] = {
        "id": f.check_id,
        "name": "".join(p.capitalize() for p in f.check_id.replace(".", "_").split("_")),
        "shortDescription": {"text": clean(f.title)},
        "fullDescription": {"text": f"{clean(f.title)} (criteria: {', '.join(f.criteria)})"},
        "help": {"text": help_text, "markdown": markdown},
        "defaultConfiguration": {"level": LEVEL[f.severity]},
        "properties": {
            "severity": f.severity.value,
            "security-severity": SECURITY_SEVERITY[f.severity],
            "criteria": list(f.criteria),
            "tags": ["security", "jitsi", *f.criteria],
            "precision": "high",
        },
    }
    https = [r for r in refs if r.startswith("https://")]
    if https:
        rule["helpUri"] = https[0]
    return rule


class _Locator:
    """Turns evidence into SARIF locations for one target."""

    def __init__(self, result: TargetResult, base_id: str | None) -> None:
        self.result = result
        self.base_id = base_id

    def physical(self, ev: Evidence) -> dict[str, Any] | None:
        rel = relative_path(self.result.snapshot, ev.location.path)
        if rel is None or self.base_id is None:
            return None
        phys: dict[str, Any] = {"artifactLocation": {"uri": _uri_escape(rel), "uriBaseId": self.base_id}}
        # The excerpt is the check's own summary of the evidence, not always the line's text: it goes into
        # the location's message, not into region.snippet.
        if ev.location.line and ev.location.line > 0:
            phys["region"] = {"startLine": ev.location.line}
        return phys

    def location(self, ev: Evidence, index: int | None = None) -> dict[str, Any]:
        loc: dict[str, Any] = {}
        if index is not None:
            loc["id"] = index
        phys = self.physical(ev)
        if phys is not None:
            loc["physicalLocation"] = phys
        else:
            path = clean(ev.location.path)
            # evidence read on another host of the deployment (auditor.across_hosts) already names it
            qualified = path if _ON_ANOTHER_HOST.match(path) else f"{clean(self.result.target)}:{path}"
            logical: dict[str, Any] = {
                "name": path,
                "fullyQualifiedName": qualified,
                "kind": "resource",
            }
            if ev.location.line:
                logical["properties"] = {"line": ev.location.line}
            loc["logicalLocations"] = [logical]
        if ev.excerpt:
            loc["message"] = {"text": clean(ev.excerpt)}
        return loc

    def target_only(self) -> dict[str, Any]:
        name = clean(self.result.target)
        return {"logicalLocations": [{"name": name, "fullyQualifiedName": name, "kind": "namespace"}]}


# "xmpp-1:/etc/prosody/x.cfg.lua" (auditor.across_hosts: a label never starts with "/" nor holds a space), not
# "https://...", nor a file of the target's own whose path has ":/" in it ("/etc/nginx/a:/b.conf")
_ON_ANOTHER_HOST = re.compile(r"^[^/\s]\S*?:/(?!/)")


def _uri_escape(rel: str) -> str:
    from urllib.parse import quote

    return quote(rel, safe="/-._~")


def _result(
    f: Finding, fg: FindingGate, rule_index: int, loc: _Locator, gate: GateReport
) -> dict[str, Any]:
    target = loc.result.target
    failed = f.status is Status.FAIL
    res: dict[str, Any] = {
        "ruleId": f.check_id,
        "ruleIndex": rule_index,
        "kind": "fail" if failed else "review",
        "level": LEVEL[f.severity] if failed else "none",
        "message": {"text": f"{clean(f.title)}: {clean(f.message)}" + ("" if failed else " (unclear)")},
    }
    evidence = list(f.evidence)
    if evidence:
        res["locations"] = [loc.location(evidence[0])]
        if len(evidence) > 1:
            res["relatedLocations"] = [loc.location(e, i) for i, e in enumerate(evidence[1:], start=1)]
    else:
        res["locations"] = [loc.target_only()]
    primary = evidence[0].location.path if evidence else None
    res["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(f.check_id, target, primary)}
    if gate.has_baseline and failed and fg.baseline is not None:
        res["baselineState"] = fg.baseline.value
    if fg.waiver is not None:
        w = fg.waiver
        res["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": clean(w.justification),
                "properties": {
                    "approver": clean(w.approver),
                    "expires": w.expires.isoformat(),
                    "source": clean(w.source),
                },
            }
        ]
    res["properties"] = {
        "target": clean(target),
        "severity": f.severity.value,
        "status": f.status.value,
        "criteria": list(f.criteria),
        "gates": fg.gates,
        "remediation": clean(f.remediation),
    }
    return res


def render_sarif(results: list[TargetResult], ctx: RenderContext) -> str:
    return "".join(iter_sarif(results, ctx))


def iter_sarif(results: list[TargetResult], ctx: RenderContext) -> Iterator[str]:
    """The SARIF text in pieces: the run around its results, then the results target by target, each
    target's built and serialised before the next one's, so a fleet's results never live whole in
    memory. The text is `json.dumps(sarif_dict(...), indent=2, ensure_ascii=False) + "\\n"`."""
    marker = list_marker()
    document, target_results = _document(results, ctx, marker)
    yield from dumps_with_list(document, marker, target_results())
    yield "\n"


def sarif_dict(results: list[TargetResult], ctx: RenderContext) -> dict[str, Any]:
    marker = list_marker()
    document, target_results = _document(results, ctx, marker)
    document["runs"][0]["results"] = list(target_results())
    return document


def _document(
    results: list[TargetResult], ctx: RenderContext, marker: str
) -> tuple[dict[str, Any], Callable[[], Iterator[dict[str, Any]]]]:
    """The SARIF document with `marker` in place of the run's results, and the results' generator (for
    one target after another)."""
    gate = gate_of(results, ctx)
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    for r in results:
        for f in sorted(r.findings, key=lambda x: x.check_id):
            if f.check_id not in rule_index:
                rule_index[f.check_id] = len(rules)
                rules.append(_rule(f))

    base_ids: dict[int, str] = {}
    original_bases: dict[str, Any] = {}
    for i, r in enumerate(results):
        if is_directory_audit(r.snapshot):
            assert r.snapshot is not None and r.snapshot.root is not None
            base = "AUDITROOT" if not base_ids else f"AUDITROOT{len(base_ids) + 1}"
            base_ids[i] = base
            original_bases[base] = {
                "uri": Path(r.snapshot.root).resolve().as_uri().rstrip("/") + "/",
                "description": {"text": f"the directory audited: {clean(r.snapshot.root)}"},
            }

    notifications: list[dict[str, Any]] = []
    for i, r in enumerate(results):
        name = clean(r.target)
        if r.error:
            why = f"audit incomplete ({r.error_stage}): {clean(r.error)}"
            notifications.append(_note("error", f"{name}: {why}"))
        for note in r.notes:
            notifications.append(_note("warning", f"{name}: {clean(note)}"))
        for th in gate.target(i).thresholds_failed:
            notifications.append(_note("error", f"{name}: minimum score not met: {th.describe()}"))

    def target_results() -> Iterator[dict[str, Any]]:
        for i, r in enumerate(results):
            yield from _target_results(r, gate.target(i), _Locator(r, base_ids.get(i)), rule_index, gate)

    config_notes = [
        _note("warning", f"waiver expired on {w.expires.isoformat()} and no longer applies: "
                         f"{w.check_id} ({clean(w.source)})")
        for w in gate.expired
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": all(r.complete for r in results),
        "exitCode": ctx.exit_code,
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    if config_notes:
        invocation["toolConfigurationNotifications"] = config_notes
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "jitsi-audit",
                "version": __version__,
                "rules": rules,
            }
        },
        "invocations": [invocation],
        "results": marker,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "profile": ctx.profile.name,
            "failOn": ctx.fail_on.value,
            "gate": gate.to_json(),
            "targets": [_target_props(r, gate, i) for i, r in enumerate(results)],
        },
    }
    if original_bases:
        run["originalUriBaseIds"] = original_bases
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}, target_results


def _target_results(
    r: TargetResult, tg: TargetGate, loc: _Locator, rule_index: dict[str, int], gate: GateReport
) -> Iterator[dict[str, Any]]:
    """One target's results: its failed and unclear findings, then (with --baseline) the fixed ones."""
    for f in sorted_findings(r.findings):
        if f.status in (Status.FAIL, Status.UNCLEAR):
            yield _result(f, tg.get(f.check_id), rule_index[f.check_id], loc, gate)
    for fixed in tg.fixed:
        entry: dict[str, Any] = {
            "ruleId": fixed.check_id,
            "kind": "pass",
            "level": "none",
            "message": {"text": f"fixed since the baseline: {clean(fixed.title)}"},
            "locations": [loc.target_only()],
            "baselineState": "absent",
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint(fixed.check_id, r.target, None)},
            "properties": {"target": clean(r.target), "status": fixed.status_now or "not run"},
        }
        if fixed.check_id in rule_index:
            entry["ruleIndex"] = rule_index[fixed.check_id]
        yield entry


def _note(level: str, text: str) -> dict[str, Any]:
    return {"level": level, "message": {"text": text}}


def _target_props(r: TargetResult, gate: GateReport, index: int) -> dict[str, Any]:
    scores = r.scores
    (row,) = fleet_rows([r])  # the fleet summary's columns, as every format carries them
    return {
        "target": clean(r.target),
        "complete": r.complete,
        "roles": list(row.roles),
        "failed": {s.value: n for s, n in row.failed.items()},
        "error": clean(row.error) if row.error else None,
        "overallScore": scores.overall if scores else None,
        "coverage": scores.coverage if scores else None,
        "categoryScores": {c.category: c.score for c in scores.categories} if scores else {},
        "thresholds": [t.to_json() for t in gate.target(index).thresholds],
        "criteria": [
            {"id": c.id, "rating": c.rating.value, "basis": c.basis.value, "review2020": c.review_2020.get("jitsi")}
            for c in r.criteria
        ],
    }
