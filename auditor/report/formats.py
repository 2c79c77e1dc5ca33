"""The output formats: name → renderer, and file extension → format name.

A renderer takes the run's results and returns the whole document as text. Add a format by adding
an entry here; the CLI picks it up for --format and for -o FILE by extension. The formats that hold
one entry per target (JSON, SARIF) also write their text in pieces (`report_pieces`), target by
target, so a fleet's report is never held whole in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the renderers import what they need when they run: the CLI imports this for names
    from auditor.criteria import Profile
    from auditor.engine import TargetResult
    from auditor.gating.gate import GateReport
    from auditor.model import Severity


@dataclass(frozen=True, slots=True)
class RenderContext:
    profile: Profile
    fail_on: Severity
    exit_code: int
    color: bool | None = None  # terminal only: None = decide from the stream
    demo_note: str | None = None
    gate: GateReport | None = None  # waivers, baseline, minimum scores (None: --fail-on alone)


Renderer = Callable[[list["TargetResult"], RenderContext], str]
Streamer = Callable[[list["TargetResult"], RenderContext], Iterator[str]]


def _table(results: list[TargetResult], ctx: RenderContext) -> str:
    from io import StringIO

    from auditor.report.terminal import render_terminal

    buf = StringIO()
    render_terminal(results, ctx.profile, ctx.fail_on, buf, color=ctx.color, demo_note=ctx.demo_note,
                    width=None if ctx.color else 120, gate=ctx.gate)
    if len(results) > 1:
        from auditor.report.fleet import render_fleet_summary

        render_fleet_summary(results, buf, color=ctx.color, width=None if ctx.color else 120)
    if ctx.gate is not None:
        from auditor.report.gate_text import render_gate_text

        buf.write(render_gate_text(results, ctx.gate))
    return buf.getvalue()


def _json(results: list[TargetResult], ctx: RenderContext) -> str:
    from auditor.report.json_report import render_json

    return render_json(results, ctx.profile, ctx.fail_on.value, ctx.exit_code, ctx.gate)


def _json_pieces(results: list[TargetResult], ctx: RenderContext) -> Iterator[str]:
    from auditor.report.json_report import iter_json

    return iter_json(results, ctx.profile, ctx.fail_on.value, ctx.exit_code, ctx.gate)


def _sarif(results: list[TargetResult], ctx: RenderContext) -> str:
    from auditor.report.sarif import render_sarif

    return render_sarif(results, ctx)


def _sarif_pieces(results: list[TargetResult], ctx: RenderContext) -> Iterator[str]:
    from auditor.report.sarif import iter_sarif

    return iter_sarif(results, ctx)


def _junit(results: list[TargetResult], ctx: RenderContext) -> str:
    from auditor.report.junit import render_junit

    return render_junit(results, ctx)


def _html(results: list[TargetResult], ctx: RenderContext) -> str:
    from auditor.report.html import render_html

    return render_html(results, ctx)


def _markdown(results: list[TargetResult], ctx: RenderContext) -> str:
    from auditor.report.markdown import render_markdown

    return render_markdown(results, ctx)


def _csv(results: list[TargetResult], ctx: RenderContext) -> str:
    from auditor.report.csv_report import render_csv

    return render_csv(results, ctx)


RENDERERS: dict[str, Renderer] = {
    "table": _table,
    "json": _json,
    "sarif": _sarif,
    "junit": _junit,
    "html": _html,
    "markdown": _markdown,
    "csv": _csv,
}
STREAMERS: dict[str, Streamer] = {
    "json": _json_pieces,
    "sarif": _sarif_pieces,
}


def report_pieces(kind: str, results: list[TargetResult], ctx: RenderContext) -> Iterator[str]:
    """The text of format `kind` in pieces whose concatenation is `RENDERERS[kind](results, ctx)`: target
    by target for the formats in STREAMERS, else the whole text as one piece. Lazy: nothing is rendered
    before the first piece is asked for."""
    streamer = STREAMERS.get(kind)
    if streamer is not None:
        yield from streamer(results, ctx)
    else:
        yield RENDERERS[kind](results, ctx)


EXTENSIONS: dict[str, str] = {
    ".json": "json",
    ".txt": "table",
    ".sarif": "sarif",
    ".xml": "junit",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".csv": "csv",
}
