"""The fleet summary: one row per target (complete?, roles, score, failed findings by severity, error).

Printed after the per-host sections of the terminal report when a run has several targets.
"""

from __future__ import annotations

from typing import IO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.engine import TargetResult
from auditor.report.common import SEVERITY_ORDER, fleet_rows
from auditor.report.terminal import SEVERITY_STYLE, safe

ORDER = SEVERITY_ORDER


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
            Text(row.roles_label),  # wraps between roles, not inside "jicofo"
            Text("—" if row.score is None else f"{row.score:g}"),
            *[Text(str(row.failed[s]), style=SEVERITY_STYLE[s] if row.failed[s] else "dim") for s in ORDER],
            Text(safe(row.error or ""), style="red"),
        )
    console.print()
    console.print(table)
