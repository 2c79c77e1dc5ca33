"""`--format csv`: one row per check and target, for spreadsheets and GRC tools.

Written with the standard library's csv module (RFC 4180 quoting, CRLF line ends). A cell that a
spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a
leading apostrophe, the usual guard against CSV/formula injection; control characters are replaced.
Rows (column `kind`): `criterion` — the 33 criteria ratings (status = rating, state = verified or
declared); `finding` — every check result with its gate state, waiver and baseline state; `fixed` —
with --baseline, each failure of the baseline that no longer fails; `min-score` — each failed minimum
score; `incomplete` — a target that could not be audited.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from auditor.model import Evidence
from auditor.report.common import clean, gate_of, gate_state, location_text, sorted_findings

if TYPE_CHECKING:
    from auditor.engine import TargetResult
    from auditor.report.formats import RenderContext

COLUMNS = (
    "kind",
    "target",
    "check_id",
    "title",
    "severity",
    "status",
    "state",
    "gates",
    "baseline",
    "waiver_justification",
    "waiver_approver",
    "waiver_expires",
    "criteria",
    "message",
    "evidence",
    "remediation",
)
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A safe CSV cell: no control characters (but newlines), no formula trigger at the start."""
    text = "" if value is None else clean(value)
    if text.startswith(_FORMULA_PREFIXES):
        text = "'" + text
    return text


def _evidence(evs: tuple[Evidence, ...]) -> str:
    return "; ".join(location_text(e) for e in evs)


def csv_rows(results: list[TargetResult], ctx: RenderContext) -> list[dict[str, str]]:
    gate = gate_of(results, ctx)
    rows: list[dict[str, str]] = []
    for i, r in enumerate(results):
        tg = gate.target(i)
        if r.error:
            rows.append({"kind": "incomplete", "target": r.target, "status": "incomplete",
                         "state": r.error_stage or "", "message": r.error})
        for c in r.criteria:
            rows.append({"kind": "criterion", "target": r.target, "check_id": c.id, "title": c.title,
                         "status": c.rating.value, "state": c.basis.value, "criteria": c.category,
                         "message": " / ".join(c.reasons), "evidence": " ".join(c.check_ids)})
        for f in sorted_findings(r.findings):
            fg = tg.get(f.check_id)
            w = fg.waiver
            rows.append(
                {
                    "kind": "finding",
                    "target": r.target,
                    "check_id": f.check_id,
                    "title": f.title,
                    "severity": f.severity.value,
                    "status": f.status.value,
                    "state": ", ".join(gate_state(fg, f)),
                    "gates": "yes" if fg.gates else "no",
                    "baseline": fg.baseline.value if fg.baseline else "",
                    "waiver_justification": w.justification if w else "",
                    "waiver_approver": w.approver if w else "",
                    "waiver_expires": w.expires.isoformat() if w else "",
                    "criteria": " ".join(f.criteria),
                    "message": f.message,
                    "evidence": _evidence(f.evidence),
                    "remediation": f.remediation,
                }
            )
        for x in tg.fixed:
            rows.append({"kind": "fixed", "target": r.target, "check_id": x.check_id, "title": x.title,
                         "severity": x.severity,
                         "status": x.status_now or "not run", "state": "fixed", "gates": "no",
                         "baseline": "fixed"})
        for th in tg.thresholds_failed:
            rows.append({"kind": "min-score", "target": r.target, "check_id": f"score.{th.scope}", "status": "fail",
                         "state": "gates", "gates": "yes", "message": th.describe()})
    return rows


def render_csv(results: list[TargetResult], ctx: RenderContext) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, restval="", lineterminator="\r\n")
    writer.writeheader()
    for row in csv_rows(results, ctx):
        writer.writerow({k: cell(v) for k, v in row.items()})
    return buf.getvalue()
