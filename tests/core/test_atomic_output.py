"""Reports, merged reports, snapshots and evidence bundles appear whole or not at all."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import auditor.cli as cli
from auditor.atomic_output import atomic_binary, atomic_text
from tests.gating.test_cli import fake_audit, run  # noqa: F401 - the fixture, used by name


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".jitsi-audit-"))


def test_a_failure_while_writing_leaves_the_previous_file(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text("the previous run's report\n")
    with pytest.raises(RuntimeError), atomic_text(report) as out:
        out.write('{"targets": [')
        raise RuntimeError("a renderer's bug")
    assert report.read_text() == "the previous run's report\n"
    assert _leftovers(tmp_path) == []
    with atomic_text(report) as out:
        out.write("new\udcff\n")  # a stray surrogate (a name's undecodable byte) is written escaped
    assert report.read_text() == "new\\udcff\n" and _leftovers(tmp_path) == []


def test_modes_follow_the_existing_file_or_the_umask(tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    kept.write_text("old")
    kept.chmod(0o600)
    with atomic_binary(kept) as out:
        out.write(b"new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and kept.read_bytes() == b"new"
    old = os.umask(0o027)
    try:
        with atomic_binary(tmp_path / "fresh.json") as out:
            out.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "fresh.json").stat().st_mode) == 0o640


def test_a_device_or_pipe_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    # renaming over /dev/null (the tool runs as root in CI) would replace the device with a file
    with atomic_text(Path("/dev/null")) as out:
        out.write("discarded\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with atomic_binary(fifo) as out:
        out.write(b"through the pipe")
    reader.join(10)
    assert got == [b"through the pipe"] and stat.S_ISFIFO(fifo.stat().st_mode)
    assert _leftovers(tmp_path) == []


def test_a_report_that_fails_midway_does_not_replace_the_last_one(
    fake_audit: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """A CI step reads the report file after the run: a renderer's exception after the first piece used
    to leave a truncated JSON there."""
    report = fake_audit / "report.json"
    assert run(["--root", str(fake_audit / "ok"), "-q", "-o", str(report)], capsys)[0] == 1
    complete = report.read_text()

    def broken(*args: Any) -> Iterator[str]:
        yield '{"schema_version": '
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(cli, "report_pieces", broken)
    with pytest.raises(RuntimeError):
        cli.main(["--root", str(fake_audit / "ok"), "-q", "-o", str(report)])
    assert report.read_text() == complete and _leftovers(fake_audit) == []
