"""The operator's terminal report (rich): criteria tables per category, then failed findings.

Every value that came from a target is passed through `safe` (control characters and escape
sequences removed) and put into rich `Text` objects, never into markup strings.
"""

from __future__ import annotations

from typing import IO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.criteria import Profile
from auditor.engine import TargetResult
from auditor.gating.gate import GateReport, TargetGate
from auditor.model import Rating, Severity, Status
from auditor.report.safe_text import safe as safe  # re-exported: other modules import it from here

RATING_STYLE = {
    Rating.FULLY: "bold green",
    Rating.PARTIALLY: "yellow",
    Rating.NO: "bold red",
    Rating.UNCLEAR: "magenta",
    Rating.NA: "dim",
}
SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def _rating_text(value: str) -> Text:
    try:
        style = RATING_STYLE[Rating(value)]
    except ValueError:
        style = ""
    return Text(value, style=style)


def render_terminal(
    results: list[TargetResult],
    profile: Profile,
    fail_on: Severity,
    out: IO[str],
    *,
    color: bool | None = None,
    demo_note: str | None = None,
    width: int | None = None,
    gate: GateReport | None = None,
) -> None:
    console = Console(file=out, force_terminal=color, no_color=color is False, width=width, highlight=False)
    if demo_note:
        console.print(Text(demo_note, style="bold cyan"))
    for i, result in enumerate(results):
        _render_target(console, result, profile, fail_on, gate.target(i) if gate else None)


def _render_target(
    console: Console, result: TargetResult, profile: Profile, fail_on: Severity, tg: TargetGate | None = None
) -> None:
    console.rule(Text(f"jitsi-audit · {safe(result.target)}", style="bold"))
    if result.error:
        console.print(
            Text(f"AUDIT INCOMPLETE ({result.error_stage}): {safe(result.error)}", style="bold red")
        )
        return
    snap = result.snapshot
    if snap is not None:
        used = [i for i in snap.items.values() if i.ok]
        source = f"{snap.transport}" + (f" {safe(snap.root)}" if snap.root else "")
        line = f"evidence: {len(used)} items read via {source}"
        if snap.host_key:
            line += f" · host key {snap.host_key.key_type} {snap.host_key.fingerprint_sha256}"
        console.print(Text(line, style="dim"))
    if result.deployment is not None:
        roles = sorted({f"{f.role.value}" for f in result.deployment.files if f.active})
        console.print(Text("configuration found: " + (", ".join(roles) or "none"), style="dim"))
    live = result.probes.get("live")
    if live is not None:
        runs = ", ".join(f"{r.name} {r.status}" + (" (intrusive)" if r.intrusive else "") for r in live.runs)
        where = f"live probes from an {live.vantage} vantage of {safe(live.domain)}"
        console.print(Text(f"{where} ({safe(live.address or '?')}): {runs}", style="dim"))
        for note in live.notes:
            console.print(Text(f"probe note: {safe(note)}", style="dim"))
    elif result.snapshot is not None and result.snapshot.transport == "ssh":
        console.print(Text("live probes: not run", style="dim"))
    scores = {c.category: c for c in (result.scores.categories if result.scores else ())}
    for cat_id, cat_title in profile.categories:
        table = Table(title=None, show_lines=False, expand=False, title_justify="left")
        sc = scores.get(cat_id)
        heading = f"{cat_title}" + (f" — score {sc.score:g}/100" if sc and sc.score is not None else "")
        table.add_column(heading, overflow="fold", ratio=5)
        table.add_column("This deployment", no_wrap=True)
        table.add_column("Review 2020 (Jitsi)", no_wrap=True)
        table.add_column("Why", overflow="fold", ratio=6)
        for c in result.criteria:
            if c.category != cat_id:
                continue
            rating = _rating_text(c.rating.value)
            if c.basis.value == "declared":
                rating.append(" (declared)", style="dim")
            table.add_row(
                Text(c.title), rating, _rating_text(c.review_2020.get("jitsi", "")), Text(safe(c.reasons[0]))
            )
        console.print(table)
    if result.scores is not None:
        overall = result.scores.overall
        cov = result.scores.coverage
        console.print(
            Text(
                f"Overall score: {overall if overall is not None else '—'}/100"
                f"  (criteria with evidence: {round((cov or 0) * 100)}%)",
                style="bold",
            )
        )
    _render_findings(console, result, fail_on, tg)


def _render_findings(
    console: Console, result: TargetResult, fail_on: Severity, tg: TargetGate | None = None
) -> None:
    failed = [f for f in result.findings if f.status is Status.FAIL]
    failed.sort(key=lambda f: (-f.severity.rank, f.check_id))
    unclear = result.unclear_findings()
    console.print()
    if not failed:
        console.print(Text("No failed checks.", style="green"))
    else:
        console.print(Text(f"Failed checks ({len(failed)}), most severe first:", style="bold"))
    for f in failed:
        head = Text()
        head.append(f" {f.severity.value.upper()} ", style=SEVERITY_STYLE[f.severity])
        head.append(f" {f.check_id}: {f.title}", style="bold")
        fg = tg.get(f.check_id) if tg is not None else None
        gates = fg.gates if fg is not None else f.severity.rank >= fail_on.rank
        if gates:
            head.append("  [gates]", style="red")
        if fg is not None and fg.waiver is not None:
            head.append(f"  [waived until {fg.waiver.expires.isoformat()}]", style="blue")
        if fg is not None and fg.baseline is not None:
            head.append(f"  [{fg.baseline.value}]", style="dim")
        console.print(head)
        console.print(Text(f"   {safe(f.message)}"))
        for e in f.evidence[:6]:
            loc = safe(str(e.location))
            console.print(Text(f"   at {loc}" + (f": {safe(e.excerpt)}" if e.excerpt else ""), style="dim"))
        first, *rest = f.remediation.splitlines() or [""]
        console.print(Text(f"   fix: {first.strip()}", style="cyan"))
        for line in rest:
            console.print(Text(f"        {line.strip()}", style="cyan"))
    if unclear:
        console.print(
            Text(f"\nUnclear ({len(unclear)}): evidence missing or unreadable", style="bold magenta")
        )
        for f in unclear:
            console.print(Text(f"   {f.check_id}: {safe(f.message)}", style="magenta"))
    for note in result.notes:
        console.print(Text(f"note: {safe(note)}", style="yellow"))
