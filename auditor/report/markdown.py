"""`--format markdown`: a short report for a pull-request / merge-request comment (GitHub, GitLab).

Verdict first, then one table of scores per target, the failed checks that gate the run, the other
failures (waived, below --fail-on, unchanged since the baseline) folded away, what was fixed since the
baseline, and the criteria matrix folded away. Every target-derived value goes through `md`: control
characters removed, one line, HTML special characters as entities (so no tag or comment can be
injected), Markdown punctuation backslash-escaped (no table break with `|`, no code span with a
backtick, no link or emphasis), and `@` defused so a value cannot mention a user or team.
The comment stays under GitHub's 65,536 character limit: long lists are cut with a note.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.gating.baseline import BaselineState
from auditor.gating.gate import GateReport, TargetGate
from auditor.model import Finding, Status
from auditor.report.common import SEVERITY_ORDER, clean, fleet_rows, gate_of, gate_state, location_text, verdict

if TYPE_CHECKING:
    from auditor.engine import TargetResult
    from auditor.report.formats import RenderContext

MAX_CHARS = 60_000
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~])")
_CODE_UNSAFE = re.compile(r"[^A-Za-z0-9._:/+-]")
_RATING_ICON = {"Fully": "🟢", "Partially": "🟡", "No": "🔴", "Unclear": "🟣", "N/A": "⚪"}


def md(value: object, limit: int | None = 300) -> str:
    """A target-derived value made inert for a Markdown table cell or line."""
    text = " ".join(clean(value).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    # Markdown punctuation first, then HTML: the other way round, the `#` of the entity for an apostrophe
    # (&#x27;) was escaped too, and the reader saw "participants&#x27; IP addresses".
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = html.escape(text, quote=True)  # <, >, &, quotes: no HTML tags, comments or entities of ours
    # `@name` would notify a user or team, `https://` and `www.` would become links: a zero-width joiner
    # keeps them readable and inert.
    return text.replace("@", "@\u200d").replace("://", ":\u200d//").replace("www.", "www\u200d.")


def code(value: object) -> str:
    """An identifier (check id, profile name) as a code span; characters outside [A-Za-z0-9._:/+-] dropped."""
    return "`" + _CODE_UNSAFE.sub("", clean(value))[:80] + "`"


def _where(f: Finding) -> str:
    if not f.evidence:
        return ""
    first = md(location_text(f.evidence[0]), 120)
    more = f" (+{len(f.evidence) - 1})" if len(f.evidence) > 1 else ""
    return first + more


def _finding_rows(rows: list[tuple[TargetResult, Finding, TargetGate]], multi: bool) -> list[str]:
    head = "| Severity | Check | " + ("Target | " if multi else "") + "State | Finding | Where |"
    sep = "|---|---|" + ("---|" if multi else "") + "---|---|---|"
    out = [head, sep]
    for r, f, tg in rows:
        fg = tg.get(f.check_id)
        state = ", ".join(gate_state(fg, f)) or "—"
        if fg.waiver is not None:
            state += f" (until {fg.waiver.expires.isoformat()}: {md(fg.waiver.justification, 80)})"
        target = f"{md(r.target, 60)} | " if multi else ""
        out.append(
            f"| {f.severity.value} | {code(f.check_id)} {md(f.title, 100)} | {target}"
            f"{state} | {md(f.message)} | {_where(f)} |"
        )
    return out


def _scores_table(results: list[TargetResult], ctx: RenderContext, gate: GateReport) -> list[str]:
    cats = ctx.profile.categories
    head = "| Target | Overall | " + " | ".join(md(t, 40) for _, t in cats) + " | Gating | Waived |"
    extra = ""
    if gate.has_baseline:
        head += " New | Fixed |"
        extra = "---|---|"
    out = [head, "|---|---|" + "---|" * len(cats) + "---|---|" + extra]
    for i, r in enumerate(results):
        tg = gate.target(i)
        if r.scores is None:
            cells = ["incomplete"] + ["—"] * len(cats)
        else:
            by = {c.category: c.score for c in r.scores.categories}
            cells = [_num(r.scores.overall)] + [_num(by.get(c)) for c, _ in cats]
        line = f"| {md(r.target, 80)} | " + " | ".join(cells) + f" | {len(tg.gating)} | {len(tg.waived)} |"
        if gate.has_baseline:
            line += f" {tg.count(BaselineState.NEW)} | {tg.count(BaselineState.FIXED)} |"
        out.append(line)
    return out


def _fleet_table(results: list[TargetResult]) -> list[str]:
    """The fleet summary: complete?, roles, failed findings by severity, error (the terminal's fleet table)."""
    out = ["| Target | Complete | Roles | Score | " + " | ".join(s.value.capitalize() for s in SEVERITY_ORDER)
           + " | Error |", "|---|---|---|---|" + "---|" * len(SEVERITY_ORDER) + "---|"]
    for row in fleet_rows(results):
        out.append(f"| {md(row.target, 80)} | {'yes' if row.complete else '**no**'} | {md(row.roles_label, 80)} | "
                   f"{_num(row.score)} | " + " | ".join(str(row.failed[s]) for s in SEVERITY_ORDER)
                   + f" | {md(row.error or '', 200)} |")
    return out


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:g}"


def _criteria(r: TargetResult) -> list[str]:
    if not r.criteria:
        return []
    out = [
        f"<details><summary>Criteria of {md(r.target, 80)}</summary>",
        "",
        "| Criterion | This deployment | Review 2020 (Jitsi) | Why |",
        "|---|---|---|---|",
    ]
    for c in r.criteria:
        declared = " (declared)" if c.basis.value == "declared" else ""
        ref = c.review_2020.get("jitsi", "")
        out.append(
            f"| {md(c.title, 90)} | {_RATING_ICON.get(c.rating.value, '')} {md(c.rating.value)}{declared} | "
            f"{md(ref)} | {md(c.reasons[0] if c.reasons else '', 160)} |"
        )
    out += ["", "</details>", ""]
    return out


def render_markdown(results: list[TargetResult], ctx: RenderContext) -> str:
    gate = gate_of(results, ctx)
    icon = "✅" if ctx.exit_code == 0 else ("⚠️" if ctx.exit_code == 3 else "❌")
    lines = [
        f"## {icon} jitsi-audit: {md(verdict(ctx.exit_code), None)}",
        "",
        f"Profile {code(ctx.profile.name)} · fails on **{ctx.fail_on.value}** and above"
        + (f" · baseline {md(gate.baseline_source, 100)}" if gate.baseline_source else "")
        + (f" · waivers {md(gate.waivers_source, 100)}" if gate.waivers_source else "")
        + f" · jitsi-audit {md(__version__, 40)}",
        "",
    ]
    lines += [*_scores_table(results, ctx, gate), ""]
    if len(results) > 1:
        lines += [*_fleet_table(results), ""]
    for r in results:
        if r.error:
            lines.append(f"> **{md(r.target, 80)}: audit incomplete** ({md(r.error_stage)}): {md(r.error)}")
            lines.append("")
    for reason in gate.reasons():
        lines.append(f"- {md(reason, 400)}")
    if gate.reasons():
        lines.append("")
    for w in gate.expired:
        lines.append(f"> ⚠️ waiver for {code(w.check_id)} expired on "
                     f"{w.expires.isoformat()} and no longer applies ({md(w.source, 100)})")
    if gate.expired:
        lines.append("")
    multi = len(results) > 1
    gating: list[tuple[TargetResult, Finding, TargetGate]] = []
    other: list[tuple[TargetResult, Finding, TargetGate]] = []
    for i, r in enumerate(results):
        tg = gate.target(i)
        for f in sorted(r.findings, key=lambda x: (-x.severity.rank, x.check_id)):
            if f.status is Status.FAIL:
                (gating if tg.get(f.check_id).gates else other).append((r, f, tg))
    if gating:
        lines += [f"### Failed checks that gate the run ({len(gating)})", ""]
        lines += [*_finding_rows(gating, multi), ""]
    else:
        lines += ["No failed check gates the run.", ""]
    if other:
        lines += [f"<details><summary>Other failed checks ({len(other)}): waived, below --fail-on or "
                  "unchanged since the baseline</summary>", ""]
        lines += [*_finding_rows(other, multi), "", "</details>", ""]
    fixed = [(r, x) for i, r in enumerate(results) for x in gate.target(i).fixed]
    if fixed:
        lines += [f"### Fixed since the baseline ({len(fixed)})", ""]
        for r, x in fixed:
            target = f" on {md(r.target, 80)}" if multi else ""
            lines.append(f"- {code(x.check_id)} {md(x.title, 100)}{target}: now "
                         f"{md(x.status_now or 'not run')}")
        lines.append("")
    unclear = sum(1 for r in results for f in r.findings if f.status is Status.UNCLEAR)
    if unclear:
        lines += [f"{unclear} check(s) are unclear (evidence missing or unreadable): full report.", ""]
    for r in results:
        lines += _criteria(r)
    text = "\n".join(lines) + "\n"
    if len(text) > MAX_CHARS:
        cut = text[:MAX_CHARS].rsplit("\n", 1)[0]
        # close an open <details> so the rest of the page renders
        if cut.count("<details>") > cut.count("</details>"):
            cut += "\n\n</details>"
        text = cut + "\n\n… report cut to fit a comment; see the full HTML or JSON report.\n"
    return text
