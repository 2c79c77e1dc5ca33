"""`--format junit`: JUnit XML for CI test reports (GitLab, Jenkins, Azure DevOps, GitHub test actions).

One <testsuite> per target, one <testcase> per check (classname = target, name = check id: title):
- pass                        → a passing testcase
- fail                        → <failure type="SEVERITY">; the message says whether it gates the run,
                                is below --fail-on, or is unchanged since the baseline
- fail, waived                → <skipped> "waived: justification (approver, until DATE)"
- unclear                     → <error type="unclear">: missing evidence is not a pass
- not_applicable              → <skipped> "not applicable: reason"
A target that could not be audited is one <testcase name="audit"> with an <error>; each minimum
score (--min-score, profile thresholds) is a testcase `score.SCOPE` that fails when not met.
Written with the standard library's xml.etree (no extra dependency; it escapes text and attributes);
characters XML 1.0 cannot carry (escape sequences, NUL) are replaced first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC
from typing import TYPE_CHECKING

from auditor.gating.baseline import BaselineState
from auditor.gating.gate import TargetGate
from auditor.model import Finding, Status
from auditor.report.common import clean, fleet_rows, gate_of, location_text

if TYPE_CHECKING:
    from auditor.engine import TargetResult
    from auditor.report.formats import RenderContext

# Not allowed in XML 1.0 documents (besides the surrogates Python strings may hold).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(value: object) -> str:
    return _XML_INVALID.sub("\ufffd", clean(value))


def _details(f: Finding, extra: list[str]) -> str:
    lines = [f"{f.check_id} [{f.severity.value}] {f.title}", f"status: {f.status.value}"]
    lines.append(f"message: {f.message}")
    lines += extra
    for ev in f.evidence:
        lines.append(f"evidence: {location_text(ev)}" + (f": {ev.excerpt}" if ev.excerpt else ""))
    if f.status is not Status.PASS:
        lines.append("remediation: " + f.remediation)
    if f.criteria:
        lines.append("criteria: " + ", ".join(f.criteria))
    return xml_text("\n".join(lines))


def _testcase(suite: ET.Element, result: TargetResult, f: Finding, tg: TargetGate, fixed: set[str]) -> str:
    """Adds the testcase and returns its outcome: pass, failure, error or skipped."""
    case = ET.SubElement(
        suite,
        "testcase",
        {"classname": xml_text(result.target), "name": xml_text(f"{f.check_id}: {f.title}"), "time": "0"},
    )
    fg = tg.get(f.check_id)
    extra: list[str] = []
    outcome = "pass"
    if f.status is Status.FAIL:
        if fg.waiver is not None:
            w = fg.waiver
            msg = f"waived: {w.justification} (approved by {w.approver}, until {w.expires.isoformat()})"
            ET.SubElement(case, "skipped", {"message": xml_text(msg)})
            extra.append(f"waiver: {w.source}")
            outcome = "skipped"
        else:
            if fg.gates:
                state = "gates the run"
            elif not fg.severity_gates:
                state = "does not gate: below --fail-on"
            else:
                state = "does not gate: unchanged since the baseline"
            if fg.baseline is BaselineState.NEW:
                state += " (new since the baseline)"
            el = ET.SubElement(
                case, "failure", {"message": xml_text(f"{f.message} [{state}]"), "type": f.severity.value}
            )
            el.text = _details(f, [f"gate: {state}"])
            outcome = "failure"
    elif f.status is Status.UNCLEAR:
        el = ET.SubElement(case, "error", {"message": xml_text(f"unclear: {f.message}"), "type": "unclear"})
        el.text = _details(f, [])
        outcome = "error"
    elif f.status is Status.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", {"message": xml_text(f"not applicable: {f.message}")})
        outcome = "skipped"
    if f.check_id in fixed:
        extra.append("fixed since the baseline")
    if outcome in ("pass", "skipped"):
        out = ET.SubElement(case, "system-out")
        out.text = _details(f, extra)
    return outcome


def junit_element(results: list[TargetResult], ctx: RenderContext) -> ET.Element:
    gate = gate_of(results, ctx)
    root = ET.Element("testsuites", {"name": "jitsi-audit"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for i, r in enumerate(results):
        tg = gate.target(i)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite = ET.SubElement(root, "testsuite", {"name": xml_text(r.target)})
        duration = max(0.0, (r.finished_at - r.started_at).total_seconds())
        props = ET.SubElement(suite, "properties")
        _prop(props, "profile", ctx.profile.name)
        _prop(props, "fail_on", ctx.fail_on.value)
        (row,) = fleet_rows([r])  # the fleet summary's columns (the suites' counts total them)
        _prop(props, "complete", "yes" if row.complete else "no")
        _prop(props, "roles", row.roles_label)
        for sev, n in row.failed.items():
            _prop(props, f"failed.{sev.value}", str(n))
        if row.error:
            _prop(props, "error", row.error)
        if r.scores is not None and r.scores.overall is not None:
            _prop(props, "score.overall", f"{r.scores.overall:g}")
        if gate.has_baseline:
            _prop(props, "baseline", gate.baseline_source or "")
        for c in r.criteria:
            basis = " (declared)" if c.basis.value == "declared" else ""
            _prop(props, f"criterion.{c.id}", f"{c.rating.value}{basis}")
        for w in gate.expired:
            _prop(props, "expired_waiver", f"{w.check_id} expired on {w.expires.isoformat()} ({w.source}); "
                                           "it no longer applies")
        if r.error:
            case = ET.SubElement(
                suite, "testcase", {"classname": xml_text(r.target), "name": "audit", "time": "0"}
            )
            why = xml_text(f"audit incomplete ({r.error_stage}): {r.error}")
            ET.SubElement(case, "error", {"message": why, "type": "incomplete"})
            counts["tests"] += 1
            counts["errors"] += 1
        fixed = {x.check_id for x in tg.fixed}
        for f in sorted(r.findings, key=lambda x: x.check_id):
            outcome = _testcase(suite, r, f, tg, fixed)
            counts["tests"] += 1
            key = {"failure": "failures", "error": "errors", "skipped": "skipped"}.get(outcome)
            if key:
                counts[key] += 1
        for th in tg.thresholds:
            case = ET.SubElement(
                suite, "testcase", {"classname": xml_text(r.target), "name": f"score.{th.scope}", "time": "0"}
            )
            counts["tests"] += 1
            if not th.met:
                ET.SubElement(case, "failure", {"message": xml_text(th.describe()), "type": "min-score"})
                counts["failures"] += 1
        if r.notes:
            err = ET.SubElement(suite, "system-err")
            err.text = xml_text("\n".join(r.notes))
        suite.set("tests", str(counts["tests"]))
        suite.set("failures", str(counts["failures"]))
        suite.set("errors", str(counts["errors"]))
        suite.set("skipped", str(counts["skipped"]))
        suite.set("time", f"{duration:.3f}")
        suite.set("timestamp", r.started_at.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat())
        for k in totals:
            totals[k] += counts[k]
    for k, v in totals.items():
        if k != "skipped":
            root.set(k, str(v))
    return root


def _prop(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, "property", {"name": name, "value": xml_text(value)})


def render_junit(results: list[TargetResult], ctx: RenderContext) -> str:
    root = junit_element(results, ctx)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
