"""`--format html`: one self-contained file for people (operators, auditors, management).

No script, no external stylesheet, font, image or link is loaded: the CSS is inline, the score chart
is inline SVG, and a Content-Security-Policy meta tag (`default-src 'none'`) forbids the browser to
fetch or run anything even if the file is opened from a hostile place. Every value that came from a
target (names, messages, paths, excerpts, facts, errors) goes through `esc` (control characters
replaced, then html.escape with quotes); nothing target-derived is ever put into a tag, attribute
name, URL, style or id.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from auditor import __version__
from auditor.gating.baseline import BaselineState
from auditor.gating.gate import GateReport, TargetGate
from auditor.gating.thresholds import OVERALL
from auditor.model import CriterionRating, Finding, Rating, Status
from auditor.report.common import SEVERITY_ORDER, clean, fleet_rows, gate_of, gate_state, location_text, verdict

if TYPE_CHECKING:
    from auditor.criteria import Profile
    from auditor.engine import TargetResult
    from auditor.report.formats import RenderContext
    from auditor.snapshot import Snapshot

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_RATING_CLASS = {
    Rating.FULLY.value: "r-fully",
    Rating.PARTIALLY.value: "r-partially",
    Rating.NO.value: "r-no",
    Rating.UNCLEAR.value: "r-unclear",
    Rating.NA.value: "r-na",
}

_CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,"DejaVu Sans",sans-serif;color:var(--fg);
background:var(--bg);margin:0 auto;max-width:1180px;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:21px;border-bottom:2px solid var(--line);padding-bottom:4px;
margin-top:36px}h3{font-size:17px;margin:26px 0 8px}h4{font-size:15px;margin:18px 0 6px}
.meta{color:var(--muted);margin:0 0 12px}
.verdict{display:inline-block;padding:4px 12px;border-radius:6px;font-weight:600;margin:6px 0}
.v-ok{background:#dafbe1;color:#116329}.v-fail{background:#ffebe9;color:#a40e26}
.v-inc{background:#fff1e5;color:#953800}
.box{border:1px solid var(--line);border-radius:6px;padding:10px 14px;margin:10px 0;background:var(--soft)}
.warn{border-color:#d4a72c;background:#fff8c5}.bad{border-color:#ff8182;background:#ffebe9}
table{border-collapse:collapse;width:100%;margin:6px 0 14px}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.rating{font-weight:600;white-space:nowrap;text-align:center;width:110px}
table.criteria{table-layout:fixed}table.criteria th:nth-child(1){width:38%}
table.criteria th:nth-child(2),table.criteria th:nth-child(3){width:120px}
table.criteria td{overflow-wrap:anywhere}
.r-fully{background:#dafbe1;color:#116329}.r-partially{background:#fff8c5;color:#7d4e00}
.r-no{background:#ffebe9;color:#a40e26}.r-unclear{background:#fbefff;color:#6e40c9}
.r-na{background:#eff2f5;color:#59636e}.r-other{background:#fff;color:var(--fg)}
.badge{display:inline-block;font-size:12px;font-weight:600;padding:1px 7px;border-radius:10px;
margin-left:4px;border:1px solid transparent;white-space:nowrap}
.b-gates{background:#cf222e;color:#fff}.b-waived{background:#ddf4ff;color:#0550ae;border-color:#54aeff}
.b-new{background:#ffebe9;color:#a40e26;border-color:#ff8182}.b-unchanged{background:#eff2f5;color:#59636e}
.b-fixed{background:#dafbe1;color:#116329}.b-below{background:#fff;color:#59636e;border-color:var(--line)}
.b-declared{background:#fff8c5;color:#7d4e00}
.sev{display:inline-block;min-width:70px;text-align:center;font-size:12px;font-weight:700;border-radius:4px;
padding:1px 6px;color:#fff;text-transform:uppercase}
.s-critical{background:#8b0000}.s-high{background:#cf222e}.s-medium{background:#bf8700}
.s-low{background:#0969da}.s-info{background:#6e7781}
.finding{border:1px solid var(--line);border-left:5px solid #6e7781;border-radius:6px;padding:8px 12px;
margin:8px 0}
.f-critical{border-left-color:#8b0000}.f-high{border-left-color:#cf222e}.f-medium{border-left-color:#bf8700}
.f-low{border-left-color:#0969da}.f-waived{opacity:.8;border-left-style:dashed}
.finding .title{font-weight:600}.finding .id{font-family:ui-monospace,"DejaVu Sans Mono",monospace;
color:var(--muted)}
code,pre{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:12.5px}
pre{background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:6px 8px;margin:4px 0;
white-space:pre-wrap;word-break:break-word}
ul.ev{margin:4px 0;padding-left:20px}
.small{font-size:12px;color:var(--muted)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.mono,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;word-break:break-all}
nav table{margin:4px 0}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
svg text{font-family:-apple-system,"Segoe UI",Helvetica,Arial,"DejaVu Sans",sans-serif}
@media print{details{display:block}.finding{break-inside:avoid}}
"""


def esc(value: object) -> str:
    """Escape for HTML text and attribute values (control characters replaced first)."""
    return html.escape(clean(value), quote=True)


def _rating_cell(value: str, extra: str = "") -> str:
    cls = _RATING_CLASS.get(value, "r-other")
    return f'<td class="rating {cls}">{esc(value)}{extra}</td>'


def _badges(labels: Iterable[str]) -> str:
    cls = {"gates": "b-gates", "waived": "b-waived", "new": "b-new", "unchanged": "b-unchanged",
           "fixed": "b-fixed", "below --fail-on": "b-below", "declared": "b-declared"}
    return "".join(f'<span class="badge {cls.get(lbl, "b-below")}">{esc(lbl)}</span>' for lbl in labels)


# -- score chart --------------------------------------------------------------------------------


def _bar_colour(score: float | None) -> str:
    if score is None:
        return "#d1d9e0"
    if score >= 80:
        return "#2da44e"
    if score >= 50:
        return "#d4a72c"
    return "#cf222e"


def score_chart(result: TargetResult, profile: Profile, tg: TargetGate, index: int = 1) -> str:
    """Horizontal bars, one per category plus the overall score, with minimum-score markers."""
    if result.scores is None:
        return '<p class="small">No scores: the target could not be audited.</p>'
    titles = dict(profile.categories)
    rows: list[tuple[str, float | None, str]] = [
        (titles.get(c.category, c.category), c.score, c.category) for c in result.scores.categories
    ]
    rows.append(("Overall", result.scores.overall, OVERALL))
    minimums = {t.scope: t.minimum for t in tg.thresholds}
    label_w, bar_w, row_h, top = 210, 380, 30, 26
    width, height = label_w + bar_w + 70, top + row_h * len(rows) + 12
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="chart-title-{index}">',
        f'<title id="chart-title-{index}">Scores per category (0-100)</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for tick in (0, 25, 50, 75, 100):
        x = label_w + bar_w * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 8}" stroke="#eaeef2"/>')
        parts.append(f'<text x="{x:.1f}" y="{top - 10}" font-size="10" fill="#59636e" '
                     f'text-anchor="middle">{tick}</text>')
    for i, (title, score, scope) in enumerate(rows):
        y = top + i * row_h
        bold = ' font-weight="700"' if scope == OVERALL else ""
        parts.append(f'<text x="{label_w - 8}" y="{y + 18}" font-size="12.5" fill="#1f2328" '
                     f'text-anchor="end"{bold}>{esc(title)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{bar_w}" height="18" fill="#f6f8fa" '
                     f'stroke="#d1d9e0"/>')
        if score is not None:
            w = bar_w * max(0.0, min(score, 100.0)) / 100
            parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="18" '
                         f'fill="{_bar_colour(score)}"><title>{esc(title)}: {score:g}/100</title></rect>')
            parts.append(f'<text x="{label_w + bar_w + 8}" y="{y + 18}" font-size="12.5" fill="#1f2328"'
                         f'{bold}>{score:g}</text>')
        else:
            parts.append(f'<text x="{label_w + bar_w + 8}" y="{y + 18}" font-size="12" '
                         f'fill="#59636e">n/a</text>')
        if scope in minimums:
            mx = label_w + bar_w * minimums[scope] / 100
            parts.append(f'<line x1="{mx:.1f}" y1="{y + 1}" x2="{mx:.1f}" y2="{y + 27}" stroke="#1f2328" '
                         'stroke-width="2" stroke-dasharray="3,2">'
                         f"<title>minimum {minimums[scope]:g}</title></line>")
    parts.append("</svg>")
    return "".join(parts)


# -- sections -----------------------------------------------------------------------------------


def _criteria_tables(result: TargetResult, profile: Profile) -> str:
    if not result.criteria:
        return ""
    scores = {c.category: c for c in (result.scores.categories if result.scores else ())}
    out = ['<h3>Criteria: this deployment beside the 2020 review of Jitsi Meet</h3>']
    by_cat: dict[str, list[CriterionRating]] = {}
    for c in result.criteria:
        by_cat.setdefault(c.category, []).append(c)
    for cat_id, cat_title in profile.categories:
        rows = by_cat.get(cat_id, [])
        if not rows:
            continue
        sc = scores.get(cat_id)
        score = f" — score {sc.score:g}/100" if sc is not None and sc.score is not None else ""
        out.append(f"<h4>{esc(cat_title)}{esc(score)}</h4>")
        out.append('<table class="criteria"><thead><tr><th>Criterion</th><th>This deployment</th>'
                   "<th>Review 2020 (Jitsi)</th><th>Why</th></tr></thead><tbody>")
        for c in rows:
            extra = _badges(["declared"]) if c.basis.value == "declared" else ""
            why = "".join(f"<div>{esc(r)}</div>" for r in c.reasons) or "&nbsp;"
            out.append(
                f'<tr><td>{esc(c.title)}<div class="small mono">{esc(c.id)}</div></td>'
                f"{_rating_cell(c.rating.value, extra)}{_rating_cell(c.review_2020.get('jitsi', ''))}"
                f"<td>{why}</td></tr>"
            )
        out.append("</tbody></table>")
    return "".join(out)


def _evidence_list(f: Finding) -> str:
    if not f.evidence:
        return ""
    items = []
    for ev in f.evidence:
        excerpt = f"<pre>{esc(ev.excerpt)}</pre>" if ev.excerpt else ""
        items.append(f"<li><code>{esc(location_text(ev))}</code>{excerpt}</li>")
    return f'<div class="small">Evidence</div><ul class="ev">{"".join(items)}</ul>'


def _finding(f: Finding, tg: TargetGate, fixed: set[str]) -> str:
    fg = tg.get(f.check_id)
    labels = gate_state(fg, f)
    if f.check_id in fixed:
        labels.append("fixed")
    cls = f"finding f-{f.severity.value}" + (" f-waived" if fg.waived else "")
    parts = [
        f'<article class="{cls}"><div><span class="sev s-{f.severity.value}">{esc(f.severity.value)}</span> '
        f'<span class="title">{esc(f.title)}</span> <span class="id">{esc(f.check_id)}</span>'
        f"{_badges(labels)}</div>",
        f"<p>{esc(f.message)}</p>",
    ]
    if fg.waiver is not None:
        w = fg.waiver
        parts.append(
            f'<div class="box"><strong>Waived</strong> until {esc(w.expires.isoformat())} (UTC, inclusive), '
            f"approved by {esc(w.approver)}: {esc(w.justification)} "
            f'<span class="small">{esc(w.source)}</span></div>'
        )
    parts.append(_evidence_list(f))
    if f.status is not Status.PASS:
        parts.append(f'<div class="small">Remediation</div><pre>{esc(f.remediation)}</pre>')
    if f.references:
        refs = ", ".join(f"<code>{esc(r)}</code>" for r in f.references)
        parts.append(f'<div class="small">References: {refs}</div>')
    parts.append(f'<div class="small">Criteria: {esc(", ".join(f.criteria))}</div></article>')
    return "".join(parts)


def _findings(result: TargetResult, tg: TargetGate) -> str:
    fixed = {x.check_id for x in tg.fixed}
    failed = [f for f in result.findings if f.status is Status.FAIL]
    out = [f"<h3>Failed checks ({len(failed)}), grouped by severity</h3>"]
    if not failed:
        out.append("<p>No failed checks.</p>")
    for sev in SEVERITY_ORDER:
        group = sorted((f for f in failed if f.severity is sev), key=lambda f: f.check_id)
        if group:
            out.append(f'<h4><span class="sev s-{sev.value}">{esc(sev.value)}</span> ({len(group)})</h4>')
            out.extend(_finding(f, tg, fixed) for f in group)
    unclear = sorted((f for f in result.findings if f.status is Status.UNCLEAR), key=lambda f: f.check_id)
    if unclear:
        out.append(f"<h3>Unclear ({len(unclear)}): evidence missing or unreadable</h3>")
        out.extend(_finding(f, tg, fixed) for f in unclear)
    ok = (Status.PASS, Status.NOT_APPLICABLE)
    others = sorted((f for f in result.findings if f.status in ok), key=lambda f: f.check_id)
    if others:
        rows = "".join(
            f"<tr><td class=\"mono\">{esc(f.check_id)}</td><td>{esc(f.title)}</td>"
            f"<td>{esc(f.status.value)}</td><td>{esc(f.message)}"
            f"{_badges(['fixed'] if f.check_id in fixed else [])}</td></tr>"
            for f in others
        )
        out.append(
            f"<details><summary>Passed and not applicable checks ({len(others)})</summary>"
            "<table><thead><tr><th>Check</th><th>Title</th><th>Status</th><th>Result</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></details>"
        )
    if tg.fixed:
        rows = "".join(
            f"<tr><td class=\"mono\">{esc(x.check_id)}</td><td>{esc(x.title)}</td><td>{esc(x.severity)}</td>"
            f"<td>{esc(x.status_now or 'not run')}</td></tr>"
            for x in tg.fixed
        )
        out.append(
            f"<h3>Fixed since the baseline ({len(tg.fixed)})</h3>"
            "<table><thead><tr><th>Check</th><th>Title</th><th>Severity</th><th>Status now</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    return "".join(out)


def _collected(result: TargetResult) -> str:
    snap = result.snapshot
    out = ["<h3>Evidence collected</h3>"]
    if snap is None:
        out.append("<p>Nothing was collected.</p>")
        return "".join(out)
    source = f"{snap.transport}" + (f" {snap.root}" if snap.root else "")
    finished = _ts(snap.finished_at) if snap.finished_at else "?"
    lines = [f"<div>Read via <code>{esc(source)}</code>, {len(snap.items)} item(s), from "
             f"{esc(_ts(snap.started_at))} to {esc(finished)}.</div>"]
    if snap.host_key is not None:
        lines.append(f"<div>Host key {esc(snap.host_key.key_type)} "
                     f"<code>{esc(snap.host_key.fingerprint_sha256)}</code></div>")
    lines.append('<div class="small">Secret values were redacted before anything was stored or reported; '
                 "the sha256 is that of the stored (redacted) content.</div>")
    out.append(f'<div class="box">{"".join(lines)}</div>')
    roles = _roles(result, snap)
    rows = []
    for item in sorted(snap.items.values(), key=lambda i: i.key):
        role, active = roles.get(item.key, ("", None))
        role_text = role + (" (inactive)" if active is False else "")
        owner = ":".join(x for x in (item.owner, item.group) if x)
        rows.append(
            f'<tr><td class="mono">{esc(item.key)}</td><td>{esc(role_text)}</td>'
            f"<td>{esc(item.status.value)}</td>"
            f'<td class="num">{esc("" if item.size is None else item.size)}</td>'
            f'<td class="mono">{esc("" if item.mode is None else f"{item.mode:04o}")} {esc(owner)}</td>'
            f'<td class="mono">{esc((item.sha256 or "")[:16])}</td><td class="num">{item.redactions}</td>'
            f"<td>{esc(item.error or '')}</td></tr>"
        )
    if rows:
        out.append(
            "<details open><summary>Items</summary><table><thead><tr><th>Path / command</th><th>Role</th>"
            "<th>Status</th><th>Size</th><th>Mode owner</th><th>sha256 (first 16)</th><th>Redacted</th>"
            f"<th>Error</th></tr></thead><tbody>{''.join(rows)}</tbody></table></details>"
        )
    if snap.errors:
        errors = "".join(f"<li>{esc(e)}</li>" for e in snap.errors)
        out.append(f"<h4>Collection errors</h4><ul>{errors}</ul>")
    if result.facts is not None:
        facts = result.facts.as_dict()
        frows = "".join(
            f'<tr><td class="mono">{esc(k)}</td><td class="mono">{esc(_fact(v))}</td></tr>'
            for k, v in facts.items()
        )
        out.append("<details><summary>Deployment facts</summary><table><thead><tr><th>Fact</th><th>Value</th>"
                   f"</tr></thead><tbody>{frows}</tbody></table></details>")
    return "".join(out)


def _roles(result: TargetResult, snap: Snapshot) -> dict[str, tuple[str, bool | None]]:
    """Role and activity of each collected file: the deployment's own discovery, or (for a result
    without a deployment) a new one."""
    if result.deployment is not None:
        return {f.path: (f.role.value, f.active) for f in result.deployment.files}
    try:
        from auditor.discovery import discover

        return {f.path: (f.role.value, f.active) for f in discover(snap)}
    except Exception:  # the roles are a convenience; the item list stands without them
        return {}


def _fact(value: Any) -> str:
    if value is None:
        return "unknown"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _digest(sha256: str | None) -> str:
    """The SHA-256 of a gating file as read, shortened (the JSON report has it whole)."""
    return f' <span title="sha256 {esc(sha256)}">(sha256 {esc(sha256[:12])}…)</span>' if sha256 else ""


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _target_summary(result: TargetResult, tg: TargetGate, gate: GateReport) -> str:
    rows: list[tuple[str, str]] = []
    snap = result.snapshot
    if snap is not None:
        rows.append(("Transport", esc(snap.transport + (f" {snap.root}" if snap.root else ""))))
    rows.append(("Audited", f"{esc(_ts(result.started_at))} – {esc(_ts(result.finished_at))}"))
    incomplete = f"<strong>no</strong> ({esc(result.error_stage)})"
    rows.append(("Complete", "yes" if result.complete else incomplete))
    if result.scores is not None:
        overall = result.scores.overall
        cov = result.scores.coverage
        rows.append(("Overall score", f"{'n/a' if overall is None else f'{overall:g}'}/100 "
                                      f"(criteria with evidence: {round((cov or 0) * 100)}%)"))
    failed = sum(1 for f in result.findings if f.status is Status.FAIL)
    unclear = sum(1 for f in result.findings if f.status is Status.UNCLEAR)
    rows.append(("Findings", f"{failed} failed, {len(tg.gating)} gate the run, {len(tg.waived)} waived, "
                             f"{unclear} unclear"))
    if gate.has_baseline:
        rows.append(("Against the baseline",
                     f"{tg.count(BaselineState.NEW)} new, {tg.count(BaselineState.UNCHANGED)} unchanged, "
                     f"{tg.count(BaselineState.FIXED)} fixed"
                     + ("" if tg.in_baseline else " (target not in the baseline)")))
    for th in tg.thresholds:
        rows.append(("Minimum score", esc(th.describe())))
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="summary">{body}</table>'


def render_html(results: list[TargetResult], ctx: RenderContext) -> str:
    gate = gate_of(results, ctx)
    profile = ctx.profile
    now = datetime.now(UTC)
    incomplete = any(not r.complete for r in results)
    vclass = "v-inc" if ctx.exit_code == 3 or incomplete else ("v-fail" if ctx.exit_code else "v-ok")
    names = ", ".join(clean(r.target) for r in results[:3]) + (" …" if len(results) > 3 else "")
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>jitsi-audit report: {esc(names)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header><h1>jitsi-audit report</h1>",
        f'<p class="meta">Generated {esc(_ts(now))} by jitsi-audit {esc(__version__)} · profile '
        f"<code>{esc(profile.name)}</code> (v{profile.version}, catalogue v{profile.catalogue_version}) · "
        f"fails on <strong>{esc(ctx.fail_on.value)}</strong> and above</p>",
        f'<div class="verdict {vclass}">Exit code {ctx.exit_code}: {esc(verdict(ctx.exit_code))}</div>',
    ]
    if ctx.demo_note:
        head.append(f'<div class="box">{esc(ctx.demo_note)}</div>')
    if gate.waivers_source:
        head.append(f'<div class="small">Waivers: <code>{esc(gate.waivers_source)}</code>'
                    f"{_digest(gate.waivers_sha256)} (judged on {esc(gate.today.isoformat())} UTC; a waiver is valid "
                    "through the end of its expiry day, UTC)</div>")
    if gate.baseline_source:
        head.append(f'<div class="small">Baseline: <code>{esc(gate.baseline_source)}</code>'
                    f"{_digest(gate.baseline_sha256)} — only "
                    "failures new since the baseline gate the run</div>")
    if gate.expired:
        items = "".join(
            f"<li><code>{esc(w.check_id)}</code> expired {esc(w.expires.isoformat())} ({esc(w.source)}): "
            f"{esc(w.justification)}</li>"
            for w in gate.expired
        )
        head.append('<div class="box warn"><strong>Expired waivers no longer apply</strong>'
                    f"<ul>{items}</ul></div>")
    reasons = gate.reasons()
    if reasons:
        head.append('<div class="box bad"><strong>Why the run fails the gate</strong><ul>'
                    + "".join(f"<li>{esc(r)}</li>" for r in reasons) + "</ul></div>")
    if len(results) > 1:  # the fleet summary, each target linking to its section
        sev_heads = "".join(f"<th>{esc(s.value)}</th>" for s in SEVERITY_ORDER)
        rows = "".join(
            f'<tr><td><a href="#target-{i + 1}">{esc(row.target)}</a></td>'
            f"<td>{'yes' if row.complete else '<strong>incomplete</strong>'}</td><td>{esc(row.roles_label)}</td>"
            f"<td>{'—' if row.score is None else esc(f'{row.score:g}')}</td>"
            + "".join(f"<td>{row.failed[s]}</td>" for s in SEVERITY_ORDER)
            + f"<td>{esc(row.error or '')}</td></tr>"
            for i, row in enumerate(fleet_rows(results))
        )
        head.append(f"<nav><strong>Fleet: {len(results)} targets</strong><table><thead><tr><th>target</th>"
                    f"<th>complete</th><th>roles</th><th>score</th>{sev_heads}<th>error</th></tr></thead>"
                    f"<tbody>{rows}</tbody></table></nav>")
    head.append("</header>")
    body: list[str] = []
    for i, r in enumerate(results):
        tg = gate.target(i)
        body.append(f'<section id="target-{i + 1}"><h2>{esc(r.target)}</h2>')
        if r.error:
            body.append(f'<div class="box bad"><strong>Audit incomplete</strong> ({esc(r.error_stage)}): '
                        f"{esc(r.error)}</div>")
        body.append(_target_summary(r, tg, gate))
        if r.scores is not None:
            body.append("<h3>Scores</h3>" + score_chart(r, profile, tg, i + 1))
        body.append(_criteria_tables(r, profile))
        if r.complete:
            body.append(_findings(r, tg))
        for note in r.notes:
            body.append(f'<div class="box warn">note: {esc(note)}</div>')
        body.append(_collected(r))
        body.append("</section>")
    foot = (
        '<footer class="small"><h3>How to read this report</h3><p>Ratings: Fully, Partially, No, '
        "Unclear (the evidence does not show it; never counted as a pass), N/A. <em>declared</em> ratings "
        "come from the operator's declarations file, not from the configuration. Scores: Fully = 1, "
        "Partially = 0.5, No and Unclear = 0 point per criterion, N/A left out; a category score is "
        "100 × points / rated criteria and the overall score is the mean of the category scores. The review "
        "column is the rating the 2020 Orange Cyberdefense review gave Jitsi Meet.</p></footer>"
        "</body></html>\n"
    )
    return "\n".join(head) + "\n" + "\n".join(body) + "\n" + foot
