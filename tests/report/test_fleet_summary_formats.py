"""The fleet summary (target, complete?, roles, score, failed findings by severity, error) in every format
that can hold one: the terminal and Markdown tables, the HTML report's head, JSON `fleet`, SARIF's run
properties, JUnit's suite properties; `merge` writes the same rows from the targets' entries."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from auditor.report.common import SEVERITY_ORDER, fleet_rows
from auditor.report.formats import RENDERERS
from auditor.report.json_model import ReportModel
from tests.report.fixtures import context, make_results


def _expected() -> list[dict[str, object]]:
    results = make_results()
    failed = {t: {s.value: 0 for s in SEVERITY_ORDER} for t in (r.target for r in results)}
    for r in results:
        for f in r.findings:
            if f.status.value == "fail":
                failed[r.target][f.severity.value] += 1
    return [{"target": r.target, "complete": r.complete, "roles": [], "score": r.scores.overall if r.scores else None,
             "failed": failed[r.target], "error": f"{r.error_stage}: {r.error}" if r.error else None}
            for r in results]


def test_json_sarif_and_junit_carry_the_rows() -> None:
    results = make_results()
    ctx = context(results)
    expected = _expected()
    assert [row.to_json() for row in fleet_rows(results)] == expected
    assert any(sum(row["failed"].values()) for row in expected)  # type: ignore[attr-defined]
    assert expected[-1]["complete"] is False and expected[-1]["error"] == "connect: connection refused"
    data = json.loads(RENDERERS["json"](results, ctx))
    ReportModel.model_validate(data)
    assert data["fleet"] == expected
    sarif = json.loads(RENDERERS["sarif"](results, ctx))["runs"][0]["properties"]["targets"]
    assert [{k: t[k] for k in ("target", "complete", "roles", "failed", "error")} for t in sarif] == [
        {k: row[k] for k in ("target", "complete", "roles", "failed", "error")} for row in expected]
    suites = ET.fromstring(RENDERERS["junit"](results, ctx)).findall("testsuite")
    for suite, row in zip(suites, expected, strict=True):
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert props["complete"] == ("yes" if row["complete"] else "no")
        assert {s.value: int(props[f"failed.{s.value}"] or "") for s in SEVERITY_ORDER} == row["failed"]
        assert props.get("error") == row["error"]


def test_markdown_and_html_show_the_table() -> None:
    results = make_results()
    ctx = context(results)
    markdown = RENDERERS["markdown"](results, ctx)
    assert "| Target | Complete | Roles | Score | Critical | High | Medium | Low | Info | Error |" in markdown
    for row in _expected():
        cells = [str(row["failed"][s.value]) for s in SEVERITY_ORDER]  # type: ignore[index]
        assert " | ".join(cells) in markdown
    assert "| down.example.org | **no** | — | — | 0 | 0 | 0 | 0 | 0 | connect: connection refused |" in markdown
    html = RENDERERS["html"](results, ctx)
    assert '<strong>Fleet: 3 targets</strong><table>' in html
    assert '<td><a href="#target-3">down.example.org</a></td><td><strong>incomplete</strong></td>' in html
    one = RENDERERS["markdown"](results[:1], context(results[:1]))
    assert "| Target | Complete |" not in one  # one target: its own report, no fleet table


def test_merge_writes_the_rows_the_runs_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from auditor.cli import main

    results = make_results()
    ctx = context(results)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(RENDERERS["json"](results[:2], context(results[:2])))
    b.write_text(RENDERERS["json"](results[2:], context(results[2:], exit_code=3)))
    with pytest.raises(SystemExit):
        main(["merge", str(a), str(b), "-o", str(tmp_path / "m.json")])
    capsys.readouterr()
    merged = json.loads((tmp_path / "m.json").read_text())
    assert merged["fleet"] == json.loads(RENDERERS["json"](results, ctx))["fleet"]
    # an input without the summary (an earlier jitsi-audit): its rows come from its targets' entries
    old = json.loads(a.read_text())
    del old["fleet"]
    a.write_text(json.dumps(old))
    with pytest.raises(SystemExit):
        main(["merge", str(a), str(b), "-o", str(tmp_path / "m2.json")])
    capsys.readouterr()
    assert json.loads((tmp_path / "m2.json").read_text())["fleet"] == merged["fleet"]
