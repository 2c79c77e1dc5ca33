"""Options of the command line as --help shows them and as they are refused: `--no-color` is one flag
(no `--no-no-color`), `--vantage` takes external or internal only and says so before any host is
contacted, and `verify --help` states the exit codes `verify` gives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import auditor.cli as cli
from tests.loopback import Server

DEMO = Path(__file__).resolve().parent.parent.parent / "examples" / "demo"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_no_color_is_one_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    assert "--no-color" in out and "--no-no-color" not in out
    code, out, err = run(["--no-no-color", "--root", str(DEMO)], capsys)
    assert code == 2 and out == "" and "--no-no-color" in err


def test_no_color_still_audits(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--no-color", "--root", str(DEMO), "-q", "-f", "table"], capsys)
    assert code in (1, 3), err  # the demo has failed checks: never a usage error
    assert "\x1b[" not in out and "jitsi-audit" in out


@pytest.mark.parametrize("value", ["foo", "Internal", ""])
def test_unknown_vantage_is_a_usage_error_before_any_host_is_contacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    ssh = Server(lambda conn: None)  # accepts and hangs up: a contacted host would be incomplete (exit 3)
    try:
        host = [f"ssh://nobody@127.0.0.1:{ssh.port}", "--no-probes", "--known-hosts", str(tmp_path / "kh"), "-q"]
        code, out, err = run([*host, "--vantage", value], capsys)
        assert code == 2 and out == "", err
        assert err == f"jitsi-audit: --vantage must be external or internal, not {value!r}\n"
        assert ssh.accepted == 0
        code, _, err = run([*host, "--vantage", "internal"], capsys)  # a valid value goes on to the host
        assert code == 3 and ssh.accepted == 1, err
    finally:
        ssh.close()


def test_unknown_vantage_is_refused_for_offline_audits_too(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--root", str(DEMO), "--vantage", "foo", "-q"], capsys)
    assert code == 2 and out == "" and "--vantage must be external or internal" in err


def test_verify_help_states_the_exit_codes_verify_gives(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["verify", "--help"], capsys)
    assert code == 0
    text = " ".join(out.split())
    assert "1 changed or not a bundle at all" in text and "2 the file or key cannot be read" in text
    junk = tmp_path / "junk.tar.gz"
    junk.write_text("not a tar archive\n", encoding="utf-8")
    code, out, _ = run(["verify", str(junk)], capsys)
    assert code == 1 and "not a readable .tar.gz bundle" in out  # not a bundle at all: 1, as the help says
    code, _, err = run(["verify", str(tmp_path / "missing.tar.gz")], capsys)
    assert code == 2 and err.endswith("missing.tar.gz: no such file\n")
    code, _, err = run(["verify", str(tmp_path)], capsys)
    assert code == 2 and err.endswith(": not a regular file\n")
    code, _, err = run(["verify", str(junk), "--pubkey", str(tmp_path / "missing.pub")], capsys)
    assert code == 2 and "missing.pub" in err


def test_a_password_in_a_target_reaches_no_output(tmp_path: Path) -> None:
    """The target is refused (keys or the agent only), and its password is shown in no report or message."""
    outs = [tmp_path / f"r.{ext}" for ext in ("json", "md", "sarif", "xml", "html", "csv", "txt")]
    run = subprocess.run([sys.executable, "-m", "auditor.cli", "ssh://x:SEKRETpw123@127.0.0.1:1", "--no-probes", "-q",
                          "--timeout", "2", *(a for o in outs for a in ("-o", str(o)))],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 3, run.stderr
    assert "ssh://x:***@127.0.0.1:1" in run.stderr and "passwords in the target are not supported" in run.stderr
    for text in (run.stdout, run.stderr, *(o.read_text() for o in outs)):
        assert "SEKRETpw123" not in text


def test_a_root_whose_name_is_not_utf8_is_reported_escaped(tmp_path: Path) -> None:
    """Reports are UTF-8: such a name was a UnicodeEncodeError traceback, exit 1 and empty or cut report files."""
    import os
    import shutil

    bad = Path(os.fsdecode(bytes(tmp_path) + b"/bad\xffname"))
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "jwt", bad)
    outs = [tmp_path / f"r.{ext}" for ext in ("json", "md", "sarif", "html", "csv")]
    run = subprocess.run([sys.executable, "-m", "auditor.cli", "--root", str(bad), "-q",
                          *(a for o in outs for a in ("-o", str(o)))], capture_output=True, timeout=120, check=False)
    assert run.returncode in (0, 1) and b"Traceback" not in run.stderr, run.stderr[-400:]
    data = json.loads(outs[0].read_text(encoding="utf-8"))
    assert data["targets"][0]["target"].endswith("bad\\xffname") and data["fleet"][0]["target"].endswith("bad\\xffname")
    assert json.loads(outs[2].read_text(encoding="utf-8"))["runs"]
    assert all(o.stat().st_size > 0 for o in outs)
