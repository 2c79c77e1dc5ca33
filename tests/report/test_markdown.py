"""Markdown for pull-request comments: tables stay tables, nothing from a target becomes markup."""

from __future__ import annotations

import re

from auditor.gating.baseline import parse_baseline
from auditor.gating.gate import GateConfig
from auditor.gating.waivers import parse_waivers
from auditor.model import Severity
from auditor.report.markdown import MAX_CHARS, md, render_markdown
from tests.report.fixtures import NOW, context, make_results


def _cells(row: str) -> list[str]:
    """Split a table row on unescaped pipes (what GitHub's table parser does)."""
    inner = row.strip()[1:-1]
    return re.split(r"(?<!\\)\|", inner)


def test_md_escapes_markup() -> None:
    hostile = (
        "a|b `code` <img src=x onerror=alert(1)> [link](javascript:x) *em* @team https://evil.example"
        " \x1b[31m"
    )
    out = md(hostile, None)
    assert "|" not in out.replace("\\|", "")
    assert "`" not in out.replace("\\`", "")
    assert "<" not in out and ">" not in out
    assert "[" not in out.replace("\\[", "") and "*" not in out.replace("\\*", "")
    assert "@team" not in out and "https://" not in out
    assert "\x1b" not in out and "\n" not in md("two\nlines")


def test_tables_keep_their_shape_with_hostile_values() -> None:
    results = make_results(hostile=True)
    text = render_markdown(results, context(results))
    assert "<script" not in text and "<img" not in text and "<!--" not in text
    header_cols = None
    for line in text.splitlines():
        if line.startswith("| Severity"):
            header_cols = len(_cells(line))
        elif line.startswith("|") and header_cols and not line.startswith("|---"):
            if len(_cells(line)) != header_cols:
                # a new table started (criteria table) with its own header
                assert line.startswith("| Criterion") or line.startswith("| Target"), line
                header_cols = len(_cells(line))
        elif not line.startswith("|"):
            header_cols = None
    assert "@\u200deveryone" in text and "@everyone" not in text


def test_gate_states_and_sections() -> None:
    results = make_results()
    waivers = parse_waivers(
        "waivers:\n  - {check: secrets.weak_or_default, justification: rotated, "
        "expires: 2099-01-01, approver: CISO}\n  - {check: web.hsts, justification: x, "
        "expires: 2024-01-01, approver: CISO}\n",
        "w.yaml",
    )
    baseline = parse_baseline(
        {
            "schema_version": "1.0",
            "targets": [
                {
                    "target": "config-repo",
                    "findings": [
                        {"check_id": "web.tls_configuration", "status": "fail"},
                        {"check_id": "xmpp.c2s_encryption", "status": "fail", "title": "XMPP c2s"},
                    ],
                }
            ],
        },
        "base.json",
    )
    cfg = GateConfig(fail_on=Severity.MEDIUM, waivers=waivers, baseline=baseline, today=NOW.date())
    text = render_markdown(results, context(results, config=cfg))
    assert text.startswith("## ❌ jitsi-audit")
    assert "### Failed checks that gate the run" in text
    assert "waived, new (until 2099-01-01: rotated)" in text
    assert "unchanged" in text and "new" in text
    assert "### Fixed since the baseline (1)" in text and "`xmpp.c2s_encryption`" in text
    assert "expired on 2024-01-01" in text
    assert text.count("<details>") == text.count("</details>")


def test_long_reports_are_cut_for_a_comment() -> None:
    results = make_results() * 60
    text = render_markdown(results, context(results))
    assert len(text) <= MAX_CHARS + 200
    assert "report cut" in text
    assert text.count("<details>") == text.count("</details>")


def test_md_values_read_back_as_written() -> None:
    """Rendered by a CommonMark parser (markdown-it-py, GitHub's dialect's base) inside a table, a value
    reads exactly as it was: no entity shown as text, no markup taken away."""
    from html import unescape

    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("table")
    for value in (
        "Peer-to-peer calls do not reveal participants' IP addresses",
        'a "quoted" value & <tag> #hash \\backslash *star* _under_ [br](x) a|b `tick` ~tilde~ !bang',
        "&#x27; &amp; &copy; already-entity-like text",
        "ops@example.org https://example.org www.example.org",
    ):
        html_out = parser.render(f"| h |\n|---|\n| {md(value, None)} |\n")
        cell = re.search(r"<td>(.*?)</td>", html_out, re.S)
        assert cell is not None, html_out
        assert "<" not in cell.group(1), cell.group(1)  # no markup made from the value
        assert unescape(cell.group(1)).replace("\u200d", "") == value
