"""`jitsi-audit merge`: JSON reports of split runs into one, validated, with the run's exit code recomputed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import main
from auditor.report.json_model import ReportModel
from auditor.report.merge import MAX_BYTES, MergeError, load_report
from tests.core.test_user_files import no_hang

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Split runs over fixture trees (as CI jobs would write them)."""
    from auditor.cli import app

    d = tmp_path_factory.mktemp("reports")
    runs = {
        "hardened": ["--root", str(FIXTURES / "hardened")],
        "legacy": ["--root", str(FIXTURES / "debian-2020")],
        "unreadable": ["--root", str(FIXTURES / "no-such-tree")],  # incomplete: exit 3
        "ci-profile": ["--root", str(FIXTURES / "jwt"), "--profile", "ci"],
        "critical-only": ["--root", str(FIXTURES / "ldap"), "--fail-on", "critical"],
        "both": ["--root", str(FIXTURES / "hardened"), "--root", str(FIXTURES / "jwt")],
    }
    out = {}
    for name, args in runs.items():
        path = d / f"{name}.json"
        CliRunner().invoke(app, [*args, "-q", "-o", str(path)])
        out[name] = path
    return out


def test_merge_two_runs(reports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = (json.loads(reports[n].read_text()) for n in ("hardened", "legacy"))
    target = tmp_path / "merged.json"
    code, _, err = _run(["merge", str(reports["hardened"]), str(reports["legacy"]), "-o", str(target)], capsys)
    merged = json.loads(target.read_text())
    ReportModel.model_validate(merged)
    assert [t["target"] for t in merged["targets"]] == [a["targets"][0]["target"], b["targets"][0]["target"]]
    assert merged["targets"][1] == b["targets"][0]  # entries are carried over unchanged
    assert merged["profile"] == a["profile"] and merged["fail_on"] == a["fail_on"]
    assert code == merged["exit_code"] == max(a["exit_code"], b["exit_code"]) == 1
    assert "merged 2 reports, 2 targets (0 incomplete): exit 1" in err


def test_incomplete_wins(reports: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["merge", str(reports["hardened"]), str(reports["unreadable"]), str(reports["legacy"])], capsys)
    merged = json.loads(out)
    assert code == merged["exit_code"] == 3 and len(merged["targets"]) == 3


def test_exit_code_is_recomputed_from_targets(reports: dict[str, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(reports["hardened"].read_text())
    data["targets"][0]["complete"] = False  # e.g. a report edited by hand: the target says incomplete
    data["targets"][0]["error"], data["targets"][0]["error_stage"] = "connection refused", "connect"
    data["exit_code"] = 0
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    code, out, _ = _run(["merge", str(edited)], capsys)
    assert code == json.loads(out)["exit_code"] == 3


@pytest.mark.parametrize(
    ("other", "message"),
    [
        ("ci-profile", "mixed profiles"),
        ("critical-only", "mixed --fail-on"),
        ("hardened", "is given twice"),
        ("both", "is in both"),
    ],
)
def test_refusals(reports: dict[str, Path], other: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["merge", str(reports["hardened"]), str(reports[other])], capsys)
    assert code == 2 and out == "" and message in err


def test_schema_problems_are_named(reports: dict[str, Path], tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(reports["hardened"].read_text())
    old = tmp_path / "old.json"
    old.write_text(json.dumps({**data, "schema_version": "0.9"}))
    code, _, err = _run(["merge", str(old)], capsys)
    assert code == 2 and "schema version '0.9'" in err
    del data["targets"][0]["findings"][0]["severity"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    code, _, err = _run(["merge", str(broken)], capsys)
    assert code == 2 and "does not match the report schema at targets.0.findings.0.severity" in err
    (tmp_path / "junk.json").write_text("{not json")
    code, _, err = _run(["merge", str(tmp_path / "junk.json")], capsys)
    assert code == 2 and "not JSON" in err
    code, _, err = _run(["merge", str(tmp_path / "absent.json")], capsys)
    assert code == 2 and "cannot read" in err


def test_fifo_or_huge_report_is_refused_promptly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "run.json"
    os.mkfifo(fifo)  # no writer: reading it would block forever
    with no_hang():
        code, _, err = _run(["merge", str(fifo)], capsys)
    assert code == 2 and f"report {fifo} is not a regular file" in err
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(MAX_BYTES + 1)
    with pytest.raises(MergeError, match=rf"^report .*huge\.json is larger than {MAX_BYTES} bytes$"):
        load_report(huge)


def test_mixed_tool_versions_warn(reports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(reports["legacy"].read_text())
    data["tool"]["version"] = "0.0.9"
    older = tmp_path / "older.json"
    older.write_text(json.dumps(data))
    code, out, err = _run(["merge", str(reports["hardened"]), str(older)], capsys)
    assert code == 1 and "different jitsi-audit versions (0.0.9, " in err
    assert json.loads(out)["tool"]["name"] == "jitsi-audit"


def test_the_same_file_twice_and_a_newer_schema(reports: dict[str, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    hardened = reports["hardened"]
    code, out, err = _run(["merge", str(hardened), str(hardened)], capsys)
    assert code == 2 and out == "" and f"{hardened} is given twice" in err
    (tmp_path / "link.json").symlink_to(hardened)
    code, _, err = _run(["merge", str(hardened), str(tmp_path / "link.json")], capsys)
    assert code == 2 and "given twice" in err
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({**json.loads(hardened.read_text()), "schema_version": "1.1"}))
    code, _, err = _run(["merge", str(newer)], capsys)
    assert code == 2 and "schema version '1.1'" in err and "same major version" not in err


def test_the_run_level_gate_is_kept_when_the_runs_agree(reports: dict[str, Path], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    a, b = (json.loads(reports[n].read_text()) for n in ("hardened", "legacy"))
    assert a["gate"] is not None and b["gate"]["failed"]
    code, out, err = _run(["merge", str(reports["hardened"]), str(reports["legacy"])], capsys)
    gate = json.loads(out)["gate"]
    assert code == 1 and gate["failed"] is True and gate["waivers"] == a["gate"]["waivers"] and "different settings" not in err
    b["gate"]["waivers"] = "waivers.yaml"  # a run gated with a waivers file, the other without
    waived = tmp_path / "waived.json"
    waived.write_text(json.dumps(b))
    _, out, err = _run(["merge", str(reports["hardened"]), str(waived)], capsys)
    assert json.loads(out)["gate"] is None and "gated with different settings" in err
