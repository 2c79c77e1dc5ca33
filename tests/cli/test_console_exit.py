"""The installed console script ends with os._exit after its output (auditor.cli.entry): everything it
writes must still be there, whole, and its exit status must be the one `main()` gives."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from auditor.cli import main

REPO = Path(__file__).resolve().parent.parent.parent
DEMO = REPO / "examples" / "demo"
ENV = {"NO_COLOR": "1", "COLUMNS": "120", "PYTHONIOENCODING": "utf-8"}


def _script() -> str:
    exe = Path(sys.executable).with_name("jitsi-audit")
    path = str(exe) if exe.exists() else shutil.which("jitsi-audit")
    assert path, "the jitsi-audit entry point is not installed (pip install -e .)"
    return path


def _console(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # buffered streams, as for a user (PYTHONUNBUFFERED would hide a missing flush)
    drop = ("FORCE_COLOR", "CLICOLOR_FORCE", "PYTHONUNBUFFERED")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run([_script(), *args], capture_output=True, text=True, encoding="utf-8", cwd=cwd,
                          env={**env, **ENV}, timeout=300, check=False)


def _in_process(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue()


def test_entry_point_is_the_fast_exit() -> None:
    text = Path(_script()).read_text(encoding="utf-8")
    assert "from auditor.cli import entry" in text


def test_reports_stdout_and_bundle_complete(tmp_path: Path) -> None:
    """One run through the console script: a large JSON report on a pipe (block-buffered stdout), SARIF
    and Markdown files and an evidence bundle; each equal to what `main()` writes in process."""
    fast, slow = tmp_path / "console", tmp_path / "in-process"
    fast.mkdir()
    slow.mkdir()
    common = ["--root", str(DEMO), "-f", "json", "-q"]
    run = _console(*common, "-o", str(fast / "r.sarif"), "-o", str(fast / "r.md"),
                   "--evidence", str(fast / "evidence.tar.gz"), cwd=tmp_path)
    code, expected_stdout = _in_process(*common, "-o", str(slow / "r.sarif"), "-o", str(slow / "r.md"))
    assert run.returncode == code == 1, run.stderr  # the demo tree fails checks
    assert len(run.stdout) > 65536  # more than a pipe's buffer holds: its end is lost without the flush
    streamed, expected = json.loads(run.stdout), json.loads(expected_stdout)
    assert streamed["targets"][0]["findings"] == expected["targets"][0]["findings"]
    assert len(expected["targets"][0]["findings"]) > 100
    for name in ("r.sarif", "r.md"):
        assert (fast / name).read_bytes() == (slow / name).read_bytes(), name
    assert "evidence bundle" in run.stderr and "manifest sha256" in run.stderr
    verified = _console("verify", str(fast / "evidence.tar.gz"), cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK ")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--root", "DEMO", "--fail-on", "nonsense"], 2, "--fail-on must be one of"),
    (["version"], 0, "jitsi-audit "),
    (["--version"], 0, "jitsi-audit "),
    (["--version", "--root", "/nonexistent", "--fail-on", "nonsense"], 0, "jitsi-audit "),
])
def test_exit_status_and_messages(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    run = _console(*(str(DEMO) if a == "DEMO" else a for a in args), cwd=tmp_path)
    assert run.returncode == code
    assert message in run.stdout + run.stderr


def test_many_small_writes_complete(tmp_path: Path) -> None:
    """`checks` writes one line per check: the last lines sit in stdout's buffer when main() returns."""
    run = _console("checks", cwd=tmp_path)
    code, expected = _in_process("checks")
    assert run.returncode == code == 0
    assert run.stdout == expected
    assert len(expected.splitlines()) > 100


def test_exit_3_for_an_unparsable_file_says_why_on_stderr(tmp_path: Path) -> None:
    """Exit 3 with an empty stderr left a CI log without the reason (it was only in the report's notes)."""
    broken = REPO / "tests" / "fixtures" / "broken-syntax"
    run = _console("--root", str(broken), "-q", "-f", "json", "-o", str(tmp_path / "r.json"), cwd=tmp_path)
    assert run.returncode == 3, run.stderr
    [line] = [ln for ln in run.stderr.splitlines() if "evidence: not usable:" in ln]
    assert line.startswith(f"jitsi-audit: {broken}: evidence: not usable: /") and "more in the report's notes" in line
