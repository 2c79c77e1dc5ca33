"""`jitsi-audit merge`: JSON reports of split runs into one, validated, with the run's exit code recomputed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
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


# The gating inputs are compared by content (the sha256 of what each run read), not by path.

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _job(base: Path, name: str, capsys: pytest.CaptureFixture[str], waivers: Path, baseline: Path) -> Path:
    """A CI job's run: its own checkout of the demo tree, audited with the given waivers and baseline."""
    checkout = base / name
    shutil.copytree(EXAMPLES / "demo", checkout / "demo")
    report = checkout / "audit.json"
    code, _, err = _run(["--root", str(checkout / "demo"), "-q", "--waivers", str(waivers), "--baseline",
                         str(baseline), "-o", str(report)], capsys)
    assert code in (0, 1), err
    return report


def _checkout_files(base: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """examples/waivers.yaml and a baseline (a report of the demo tree) as a checkout in `base` holds them."""
    base.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXAMPLES / "waivers.yaml", base / "waivers.yaml")
    _run(["--root", str(EXAMPLES / "demo"), "-q", "-o", str(base / "baseline.json")], capsys)
    return base / "waivers.yaml", base / "baseline.json"


def test_the_same_files_at_different_paths_are_gated_alike(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w1, b1 = _checkout_files(tmp_path / "builds" / "job1", capsys)
    w2, b2 = tmp_path / "builds" / "job2" / "waivers.yaml", tmp_path / "builds" / "job2" / "baseline.json"
    w2.parent.mkdir()
    shutil.copyfile(w1, w2)
    shutil.copyfile(b1, b2)
    r1 = _job(tmp_path / "builds" / "job1", "run", capsys, w1, b1)
    r2 = _job(tmp_path / "builds" / "job2", "run", capsys, w2, b2)
    g1, g2 = (json.loads(r.read_text())["gate"] for r in (r1, r2))
    assert g1["waivers"] == str(w1) and g2["waivers"] == str(w2)  # the paths are kept for the reader
    assert g1["waivers_sha256"] == g2["waivers_sha256"] == _sha256(EXAMPLES / "waivers.yaml")
    assert g1["baseline_sha256"] == g2["baseline_sha256"] == _sha256(b1)
    code, out, err = _run(["merge", str(r1), str(r2)], capsys)
    gate = json.loads(out)["gate"]
    assert gate is not None and "different settings" not in err, err
    assert gate["waivers"] == str(w1) and gate["waivers_sha256"] == g1["waivers_sha256"]
    assert gate["baseline"] == str(b1) and gate["baseline_sha256"] == g1["baseline_sha256"]
    assert gate["failed"] is (code == 1)
    # what differed is said: the paths, the content being the same
    assert f"the same waivers file (sha256 {g1['waivers_sha256'][:12]}…) from different paths ({w1}, {w2})" in err
    assert f"the same baseline file (sha256 {g1['baseline_sha256'][:12]}…) from different paths ({b1}, {b2})" in err


@pytest.mark.parametrize("kind", ["waivers", "baseline"])
def test_different_content_at_the_same_path_is_named(kind: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    waivers, baseline = _checkout_files(tmp_path / "checkout", capsys)
    r1 = _job(tmp_path, "job1", capsys, waivers, baseline)
    first = _sha256(waivers if kind == "waivers" else baseline)
    if kind == "waivers":  # the next job's checkout has another revision of the file, at the same path
        waivers.write_text(waivers.read_text().replace("2027-06-30", "2027-03-31"), encoding="utf-8")
    else:
        _run(["--root", str(FIXTURES / "hardened"), "-q", "-o", str(baseline)], capsys)
    r2 = _job(tmp_path, "job2", capsys, waivers, baseline)
    second = _sha256(waivers if kind == "waivers" else baseline)
    g1, g2 = (json.loads(r.read_text())["gate"] for r in (r1, r2))
    assert g1[kind] == g2[kind] and (g1[f"{kind}_sha256"], g2[f"{kind}_sha256"]) == (first, second) and first != second
    code, out, err = _run(["merge", str(r1), str(r2)], capsys)
    assert code in (0, 1) and json.loads(out)["gate"] is None
    assert (f"gated with different settings ({r1} and {r2}: the {kind} files differ in content "
            f"(sha256 {first[:12]}… and {second[:12]}…))") in err
    other = "baseline" if kind == "waivers" else "waivers"
    assert f"the {other} files" not in err


def test_an_input_without_digests_compares_by_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A report of a jitsi-audit that did not record the digests still merges: its files compare by path."""
    waivers, baseline = _checkout_files(tmp_path / "checkout", capsys)
    r1 = _job(tmp_path, "job1", capsys, waivers, baseline)
    r2 = _job(tmp_path, "job2", capsys, waivers, baseline)
    old = json.loads(r2.read_text())
    del old["gate"]["waivers_sha256"], old["gate"]["baseline_sha256"]
    older = tmp_path / "older.json"
    older.write_text(json.dumps(old))
    code, out, err = _run(["merge", str(r1), str(older)], capsys)
    gate = json.loads(out)["gate"]
    assert gate is not None and "different settings" not in err and "different paths" not in err, err
    assert gate["waivers"] == str(waivers) and gate["baseline"] == str(baseline)
    assert gate["waivers_sha256"] is None and gate["baseline_sha256"] is None  # what the older run read is unknown
    ReportModel.model_validate(json.loads(out))
    # both inputs older: merged as before, the block written with the fields
    first = json.loads(r1.read_text())
    del first["gate"]["waivers_sha256"], first["gate"]["baseline_sha256"]
    (tmp_path / "first.json").write_text(json.dumps(first))
    code, out, err = _run(["merge", str(tmp_path / "first.json"), str(older)], capsys)
    assert code in (0, 1) and json.loads(out)["gate"]["waivers_sha256"] is None and "different settings" not in err
    # at another path, an older input cannot be compared: gated differently, and the warning says why
    old["gate"]["waivers"] = "/builds/job2/waivers.yaml"
    older.write_text(json.dumps(old))
    code, out, err = _run(["merge", str(r1), str(older)], capsys)
    assert code in (0, 1) and json.loads(out)["gate"] is None
    assert (f"({r1} and {older}: the waivers files are at different paths ({waivers} and "
            f"/builds/job2/waivers.yaml) and {older} has no sha256 of its content to compare)") in err


def test_user_profile_files_and_declarations_are_compared_by_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two CI jobs check the same profile out at different paths: they merge. A profile file of the same
    name and version but other content is other rules: refused. Different declarations merge with a
    warning, and the merged profile block names none (each target keeps its own ratings)."""
    from auditor.cli import app

    runs: dict[str, Path] = {}

    def audit(name: str, tree: str, profile_text: str, decl_text: str | None) -> None:
        job = tmp_path / name
        (job / "cfg").mkdir(parents=True)
        (job / "cfg" / "team.yaml").write_text(profile_text, encoding="utf-8")
        args = ["--root", str(FIXTURES / tree), "--profile", str(job / "cfg" / "team.yaml"), "-q",
                "-o", str(job / "run.json")]
        if decl_text is not None:
            (job / "cfg" / "d.yaml").write_text(decl_text, encoding="utf-8")
            args += ["--declarations", str(job / "cfg" / "d.yaml")]
        CliRunner().invoke(app, args)
        runs[name] = job / "run.json"

    team = "extends: default\nprofile: team\nseverities:\n  web.hsts: low\n"
    decl = "jur.headquarters: {rating: N/A, statement: self-hosted}\n"
    audit("a", "hardened", team, decl)
    audit("b", "debian-2020", team, decl)
    audit("c", "jwt", team.replace("low", "critical"), decl)
    audit("d", "ldap", team, decl.replace("self-hosted", "hosted by us"))
    code, out, err = _run(["merge", str(runs["a"]), str(runs["b"])], capsys)
    merged = json.loads(out)
    assert code == 1 and "declarations" not in err
    assert merged["profile"]["files"][0]["path"].startswith(str(tmp_path / "a"))
    assert merged["profile"]["declarations"]["sha256"] == hashlib.sha256(decl.encode()).hexdigest()
    code, out, err = _run(["merge", str(runs["a"]), str(runs["c"])], capsys)
    assert code == 2 and out == "" and "profile files that differ in content" in err
    code, out, err = _run(["merge", str(runs["a"]), str(runs["d"])], capsys)
    assert code == 1 and "declarations" not in json.loads(out)["profile"]
    assert "the inputs used different declarations" in err
    old = json.loads(runs["c"].read_text())
    del old["profile"]["files"]  # a report written before the digests: compared by name and version only
    runs["old"] = tmp_path / "old.json"
    runs["old"].write_text(json.dumps(old))
    assert _run(["merge", str(runs["a"]), str(runs["old"])], capsys)[0] == 1
