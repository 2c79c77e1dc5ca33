"""The JSON and SARIF reports are written in pieces, target by target, with the very text the whole
document would have: `json.dumps(document, indent=2, ensure_ascii=False) + "\\n"`. Every JSON entry is
still validated against the schema, and no entry is built before the previous one has been handed out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import pytest
import typer
from pydantic import ValidationError

import auditor.report.json_report as json_report
from auditor.cli import _write_report
from auditor.engine import TargetResult
from auditor.gating.baseline import parse_baseline
from auditor.gating.gate import GateConfig
from auditor.model import Severity
from auditor.report.formats import RENDERERS, STREAMERS, report_pieces
from auditor.report.json_report import iter_json, render_json, report_dict
from auditor.report.jsontext import dumps_with_list, list_marker
from auditor.report.sarif import iter_sarif, sarif_dict
from tests.report.fixtures import NOW, context, make_results


def _reference(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


class _Frozen(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _Frozen:
        return cls.fromtimestamp(NOW.timestamp(), UTC)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """`generated_at` the same in two renderings."""
    monkeypatch.setattr(json_report, "datetime", _Frozen)


def _baseline_config() -> GateConfig:
    baseline = parse_baseline(
        {"schema_version": "1.0", "targets": [{"target": "config-repo", "complete": True, "findings": [
            {"check_id": "xmpp.c2s_encryption", "status": "fail", "title": "XMPP", "severity": "medium"}]}]},
        "previous.json",
    )
    return GateConfig(fail_on=Severity.MEDIUM, baseline=baseline, today=NOW.date())


def _fleet(n: int, hostile: bool = False) -> list[TargetResult]:
    base = make_results(hostile=hostile)
    return [base[i % len(base)] for i in range(n)]


@pytest.mark.parametrize("hostile", [False, True])
@pytest.mark.parametrize("config", [None, "baseline"])
@pytest.mark.parametrize("count", [0, 1, 3, 7])
def test_json_pieces_make_the_text_of_the_whole_document(
    frozen: None, hostile: bool, config: str | None, count: int
) -> None:
    results = _fleet(count, hostile)
    ctx = context(results, config=_baseline_config() if config else None)
    data = report_dict(results, ctx.profile, ctx.fail_on.value, ctx.exit_code, ctx.gate)
    expected = _reference(data) + "\n"
    assert render_json(results, ctx.profile, ctx.fail_on.value, ctx.exit_code, ctx.gate) == expected
    assert "".join(report_pieces("json", results, ctx)) == expected
    assert RENDERERS["json"](results, ctx) == expected
    assert len(json.loads(expected)["targets"]) == count


@pytest.mark.parametrize("hostile", [False, True])
@pytest.mark.parametrize("config", [None, "baseline"])
@pytest.mark.parametrize("count", [0, 1, 3, 7])
def test_sarif_pieces_make_the_text_of_the_whole_document(hostile: bool, config: str | None, count: int) -> None:
    results = _fleet(count, hostile)
    ctx = context(results, config=_baseline_config() if config else None)
    expected = _reference(sarif_dict(results, ctx)) + "\n"
    assert "".join(iter_sarif(results, ctx)) == expected
    assert "".join(report_pieces("sarif", results, ctx)) == expected
    assert RENDERERS["sarif"](results, ctx) == expected
    if count and config and not hostile:  # the baseline's fixed finding is among the streamed results
        assert any(r.get("baselineState") == "absent" for r in json.loads(expected)["runs"][0]["results"])


def test_each_json_entry_is_built_only_once_the_previous_one_is_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    results = _fleet(5)
    ctx = context(results)
    built: list[str] = []
    real = json_report.target_dict

    def spy(result: TargetResult, gate: Any = None) -> dict[str, Any]:
        built.append(result.target)
        return real(result, gate)

    monkeypatch.setattr(json_report, "target_dict", spy)
    pieces = iter_json(results, ctx.profile, ctx.fail_on.value, ctx.exit_code, ctx.gate)
    head = next(pieces)
    assert built == [] and head.endswith('"targets": ')  # the document around the entries comes first
    entries = 0
    for piece in pieces:
        if piece.lstrip().startswith("{"):  # an entry's text
            entries += 1
            assert len(built) == entries  # built for this piece, and no further
            assert json.loads(piece)["target"] == results[entries - 1].target
    assert entries == len(built) == 5


def test_every_json_entry_is_still_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    results = _fleet(3)
    ctx = context(results)
    real = json_report.target_dict

    def third_is_wrong(result: TargetResult, gate: Any = None) -> dict[str, Any]:
        entry = real(result, gate)
        if result is results[2]:
            entry["complete"] = "maybe"
        return entry

    monkeypatch.setattr(json_report, "target_dict", third_is_wrong)
    with pytest.raises(ValidationError):
        render_json(results, ctx.profile, ctx.fail_on.value, ctx.exit_code, ctx.gate)
    head = next(iter_json(results, ctx.profile, "not-a-severity", ctx.exit_code, ctx.gate))  # a str: valid
    assert '"fail_on": "not-a-severity"' in head
    with pytest.raises(ValidationError):  # the document around the entries is validated too
        next(iter_json(results, ctx.profile, None, ctx.exit_code, ctx.gate))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "document",
    [
        {"a": 1, "items": "MARK", "z": {"nested": [], "empty": {}}},
        {"items": "MARK"},
        ["x", "MARK", {"k": "v"}],
        "MARK",
        {"outer": [{"deeper": {"items": "MARK", "after": [1.5, None]}}]},
    ],
)
@pytest.mark.parametrize(
    "items",
    [
        [],
        [1],
        [{"k": "line\nbreak \u2028 é \U0001f512 \x00", "l": [[], {}, [1, {"m": None}]]}, "s", 0.0001, [], {}],
        [{"nan": float("nan")}, {"surrogate": "\udcff"}, {"x": 1e-05}],  # pieces json writes
    ],
)
def test_a_list_written_item_by_item_has_the_text_of_the_whole(document: Any, items: list[Any]) -> None:
    marker = list_marker()
    text = json.dumps(document).replace('"MARK"', json.dumps(marker))
    doc = json.loads(text)
    whole = json.loads(json.dumps(document).replace('"MARK"', json.dumps(items)))
    pieces = list(dumps_with_list(doc, marker, iter(items)))
    assert "".join(pieces) == _reference(whole)


def test_the_marker_must_stand_once() -> None:
    marker = list_marker()
    assert marker != list_marker()
    with pytest.raises(ValueError, match="exactly once"):
        list(dumps_with_list({"a": "b"}, marker, []))
    with pytest.raises(ValueError, match="exactly once"):
        list(dumps_with_list({"a": marker, "b": marker}, marker, []))
    # the same text inside a longer string is not the marker
    assert "".join(dumps_with_list({"a": f"x{marker}", "b": marker}, marker, [1])) == _reference(
        {"a": f"x{marker}", "b": [1]}
    )


def test_every_formats_pieces_make_its_text(frozen: None) -> None:
    assert set(STREAMERS) == {"json", "sarif"}
    results = make_results()
    ctx = context(results)
    for kind in RENDERERS:
        assert "".join(report_pieces(kind, results, ctx)) == RENDERERS[kind](results, ctx)


def test_write_report_writes_the_pieces_to_a_file_or_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    _write_report(out, iter(["{", "\n  é", "\n}\n"]))
    assert out.read_text(encoding="utf-8") == "{\n  é\n}\n"
    _write_report(None, iter(["a", "b"]))
    assert capsys.readouterr().out == "ab"


def test_write_report_opens_the_file_only_once_the_first_piece_exists(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    out.write_text("previous report", encoding="utf-8")

    def broken() -> Any:
        raise RuntimeError("renderer bug")
        yield ""  # pragma: no cover

    with pytest.raises(RuntimeError):
        _write_report(out, broken())
    assert out.read_text(encoding="utf-8") == "previous report"


def test_write_report_to_an_unwritable_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(typer.Exit) as exc:
        _write_report(tmp_path / "missing-dir" / "r.json", iter(["{}\n"]))
    assert exc.value.exit_code == 2
