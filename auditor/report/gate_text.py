"""Plain-text gate summary appended to the terminal report (`table`) when waivers, a baseline or
minimum scores are in play: which failures gate, which are waived (and until when), new / unchanged /
fixed against the baseline, minimum scores, expired waivers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.gating.baseline import BaselineState
from auditor.gating.gate import GateReport
from auditor.model import Status
from auditor.report.common import one_line

if TYPE_CHECKING:
    from auditor.engine import TargetResult


def render_gate_text(results: list[TargetResult], gate: GateReport) -> str:
    if not (gate.waivers_source or gate.baseline_source or gate.min_scores or gate.expired):
        return ""
    lines = ["", "Gate" + (f" (baseline {one_line(gate.baseline_source)})" if gate.baseline_source else "")]
    for w in gate.expired:
        lines.append(f"  expired waiver no longer applies: {w.check_id} (expired {w.expires.isoformat()}, "
                     f"{one_line(w.source)})")
    for i, r in enumerate(results):
        tg = gate.target(i)
        head = f"  {one_line(r.target, 80)}:"
        if gate.baseline_source:
            head += (f" {tg.count(BaselineState.NEW)} new, {tg.count(BaselineState.UNCHANGED)} unchanged,"
                     f" {tg.count(BaselineState.FIXED)} fixed;")
        head += f" {len(tg.gating)} gating, {len(tg.waived)} waived"
        lines.append(head)
        for f in sorted(r.findings, key=lambda x: (-x.severity.rank, x.check_id)):
            if f.status is not Status.FAIL:
                continue
            fg = tg.get(f.check_id)
            marks = []
            if fg.gates:
                marks.append("GATES")
            if fg.baseline is not None:
                marks.append(fg.baseline.value)
            waiver = fg.waiver
            if waiver is not None:
                marks.append(f"waived until {waiver.expires.isoformat()} by {one_line(waiver.approver, 60)}: "
                             f"{one_line(waiver.justification, 120)}")
            if not fg.severity_gates:
                marks.append("below --fail-on")
            lines.append(f"    {f.severity.value:<8} {f.check_id:<34} {'; '.join(marks)}")
        for x in tg.fixed:
            lines.append(f"    fixed    {x.check_id:<34} now {x.status_now or 'not run'}")
        for th in tg.thresholds:
            lines.append(f"    minimum  {th.describe()}")
    return "\n".join(lines) + "\n"
