"""The fleet summary: one row per target (complete?, roles, score, failed findings by severity, error).

Printed after the per-host sections of the terminal report when a run has several targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.engine import TargetResult
from auditor.model import Severity, Status
from auditor.report.terminal import SEVERITY_STYLE, safe

ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)


@dataclass(frozen=True, slots=True)
class FleetRow:
    target: str
    complete: bool
    roles: str
    score: float | None
    failed: dict[Severity, int]
    error: str | None


def fleet_rows(results: list[TargetResult]) -> list[FleetRow]:
    rows = []
    for r in results:
        failed = {s: 0 for s in ORDER}
        for f in r.findings:
            if f.status is Status.FAIL:
                failed[f.severity] += 1
        roles = r.roles.label if r.roles is not None and r.roles.known else ("—" if r.error else "unknown")
        error = f"{r.error_stage}: {r.error}" if r.error else None
        rows.append(FleetRow(r.target, r.complete, roles, r.scores.overall if r.scores else None, failed, error))
    return rows


def render_fleet_summary(results: list[TargetResult], out: IO[str], *, color: bool | None = None,
                         width: int | None = None) -> None:
    console = Console(file=out, force_terminal=color, no_color=color is False, width=width, highlight=False)
    rows = fleet_rows(results)
    complete = sum(1 for r in rows if r.complete)
    table = Table(title=Text(f"Fleet: {len(rows)} targets, {complete} complete, {len(rows) - complete} incomplete",
                             style="bold"), title_justify="left", expand=False)
    table.add_column("target", overflow="fold")
    table.add_column("complete", no_wrap=True)
    table.add_column("roles", overflow="fold")
    table.add_column("score", justify="right", no_wrap=True)
    for sev in ORDER:
        table.add_column(sev.value, justify="right", no_wrap=True)
    table.add_column("error", overflow="fold")
    for row in rows:
        table.add_row(
            Text(safe(row.target)),
            Text("yes", style="green") if row.complete else Text("NO", style="bold red"),
            Text(row.roles.replace("+", ", ")),  # wraps between roles, not inside "jicofo"
            Text("—" if row.score is None else f"{row.score:g}"),
            *[Text(str(row.failed[s]), style=SEVERITY_STYLE[s] if row.failed[s] else "dim") for s in ORDER],
            Text(safe(row.error or ""), style="red"),
        )
    console.print()
    console.print(table)
