"""Loading a saved snapshot (--snapshot) or advisory data: files that may come from anywhere. A gzip bomb,
truncated gzip, FIFO or oversized file is one line of error, never a hang or unbounded memory."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

import auditor.snapshot as snapshot_module
from auditor.advisories.data import AdvisoryDataError, load_file
from auditor.cli import main
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot, SnapshotError
from tests.core.test_user_files import no_hang


def _snap() -> Snapshot:
    snap = Snapshot("saved-host", "ssh")
    text = "var config = {};\n"
    snap.add(CollectedItem("/etc/jitsi/meet/x-config.js", "file", ItemStatus.OK, text.encode(), size=len(text)))
    return snap


@pytest.mark.parametrize("name", ["s.json", "s.json.gz"])
def test_saved_snapshots_load_again(tmp_path: Path, name: str) -> None:
    _snap().save(tmp_path / name)
    loaded = Snapshot.load(tmp_path / name)
    assert loaded.target == "saved-host" and list(loaded.items) == ["/etc/jitsi/meet/x-config.js"]


def test_concatenated_gzip_members_are_read(tmp_path: Path) -> None:
    blob = _snap().to_json()
    import json

    text = json.dumps(blob).encode()
    (tmp_path / "s.gz").write_bytes(gzip.compress(text[:10]) + gzip.compress(text[10:]))
    assert Snapshot.load(tmp_path / "s.gz").target == "saved-host"


def test_a_gzip_bomb_is_refused_before_it_is_inflated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot_module, "MAX_SNAPSHOT_BYTES", 1024 * 1024)
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(b"\0" * (8 * 1024 * 1024)))
    assert bomb.stat().st_size < 64 * 1024
    with pytest.raises(SnapshotError, match=r"^larger than 1048576 bytes once decompressed$"):
        Snapshot.load(bomb)


@pytest.mark.parametrize(("blob", "message"), [
    (gzip.compress(b'{"target": "x"}', mtime=0)[:-12], "truncated gzip data"),  # mtime: the same id in every xdist worker
    (b"\x1f\x8b" + b"not gzip at all", "not a valid gzip file"),
])
def test_broken_gzip_is_one_line(tmp_path: Path, blob: bytes, message: str) -> None:
    (tmp_path / "s.gz").write_bytes(blob)
    with pytest.raises(SnapshotError, match=message) as info:
        Snapshot.load(tmp_path / "s.gz")
    assert "\n" not in str(info.value)


def test_a_fifo_snapshot_is_an_incomplete_target_not_a_hang(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "snap.json"
    os.mkfifo(fifo)
    with no_hang(), pytest.raises(SystemExit) as stop:
        main(["--snapshot", str(fifo), "-q", "-f", "json"])
    assert stop.value.code == 3
    err = capsys.readouterr().err
    assert f"cannot load snapshot: file {fifo} is not a regular file" in err


def test_advisory_data_from_a_fifo_is_one_line(tmp_path: Path) -> None:
    fifo = tmp_path / "advisories.json"
    os.mkfifo(fifo)
    with no_hang(), pytest.raises(AdvisoryDataError, match=r"^advisory data .* is not a regular file$"):
        load_file(fifo)
