"""Reading user-named files: hostile paths (directory, FIFO, device, huge, missing) fail promptly, in one line."""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from auditor.user_files import read_user_file, read_user_text, read_user_text_sha256


class Boom(ValueError):
    pass


@contextmanager
def no_hang(seconds: float = 5.0) -> Iterator[None]:
    """Turns a read that blocks (a FIFO without a writer) into a test failure instead of a stuck run."""

    def expire(signum: int, frame: object) -> None:
        raise AssertionError(f"still blocked after {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _one_line(exc: pytest.ExceptionInfo[Boom]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_regular_file(tmp_path: Path) -> None:
    p = tmp_path / "w.yaml"
    p.write_bytes("waivers: []  # é\n".encode())
    assert read_user_file(p, "waivers", Boom, max_bytes=100) == "waivers: []  # é\n".encode()
    assert read_user_text(p, "waivers", Boom, max_bytes=100) == "waivers: []  # é\n"
    exact = tmp_path / "exact"
    exact.write_bytes(b"x" * 10)
    assert read_user_file(exact, "waivers", Boom, max_bytes=10) == b"x" * 10  # the cap itself is allowed
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert read_user_text(empty, "waivers", Boom, max_bytes=10) == ""


def test_too_large(tmp_path: Path) -> None:
    p = tmp_path / "big.json"
    p.write_bytes(b"x" * 11)
    with pytest.raises(Boom) as exc:
        read_user_file(p, "baseline", Boom, max_bytes=10)
    assert _one_line(exc) == f"baseline {p} is larger than 10 bytes"
    sparse = tmp_path / "sparse.json"
    with sparse.open("wb") as f:
        f.truncate(64 * 1024 * 1024 * 1024)  # 64 GiB, refused by its size before any read
    with pytest.raises(Boom, match="is larger than 1024 bytes"):
        read_user_file(sparse, "baseline", Boom, max_bytes=1024)


def test_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "bin.yaml"
    p.write_bytes(b"\xff\xfe waivers")
    with pytest.raises(Boom) as exc:
        read_user_text(p, "waivers", Boom, max_bytes=100)
    assert _one_line(exc) == f"waivers {p} is not UTF-8 text"
    assert read_user_file(p, "waivers", Boom, max_bytes=100) == b"\xff\xfe waivers"  # bytes are not decoded
    with pytest.raises(Boom, match="is not UTF-8 text"):
        read_user_text_sha256(p, "waivers", Boom, max_bytes=100)


def test_text_and_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    p = tmp_path / "w.yaml"
    blob = "\ufeffwaivers: []  # é\r\n".encode()
    p.write_bytes(blob)
    assert read_user_text_sha256(p, "waivers", Boom, max_bytes=100) == (blob.decode(), hashlib.sha256(blob).hexdigest())


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(Boom) as exc:
        read_user_text(tmp_path, "inventory", Boom, max_bytes=100)
    assert _one_line(exc) == f"inventory {tmp_path} is not a regular file"


def test_fifo_returns_promptly(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)  # no writer: a plain open() would block forever
    with no_hang(), pytest.raises(Boom) as exc:
        read_user_text(fifo, "waivers", Boom, max_bytes=100)
    assert _one_line(exc) == f"waivers {fifo} is not a regular file"


def test_fifo_through_a_symlink(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "fifo")
    with no_hang(), pytest.raises(Boom, match="is not a regular file"):
        read_user_file(tmp_path / "link.yaml", "profile", Boom, max_bytes=100)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_character_device(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    with no_hang(), pytest.raises(Boom) as exc:
        read_user_file(Path(device), "signing key", Boom, max_bytes=1024)
    assert _one_line(exc) == f"signing key {device} is not a regular file"


def test_missing(tmp_path: Path) -> None:
    with pytest.raises(Boom) as exc:
        read_user_text(tmp_path / "nope.ini", "inventory", Boom, max_bytes=100)
    assert _one_line(exc) == f"cannot read inventory {tmp_path / 'nope.ini'}: No such file or directory"
    with pytest.raises(Boom, match=r"cannot read inventory .*: Not a directory"):
        (tmp_path / "file").write_text("x")
        read_user_text(tmp_path / "file" / "below", "inventory", Boom, max_bytes=100)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied(tmp_path: Path) -> None:
    p = tmp_path / "secret.pem"
    p.write_text("key")
    p.chmod(0)
    with pytest.raises(Boom) as exc:
        read_user_file(p, "signing key", Boom, max_bytes=100)
    assert _one_line(exc) == f"cannot read signing key {p}: Permission denied"


def test_permission_denied_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same as root, who is never refused: the open fails as it does for anyone else."""
    p = tmp_path / "secret.pem"
    p.write_text("key")

    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied", str(p))

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(Boom) as exc:
        read_user_file(p, "signing key", Boom, max_bytes=100)
    assert _one_line(exc) == f"cannot read signing key {p}: Permission denied"


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_a_size_of_zero_is_not_trusted() -> None:
    """/proc files say 0 bytes: the cap is still kept by what is read, not by the size the stat gives."""
    status = Path("/proc/self/status")
    assert os.stat(status).st_size == 0
    assert read_user_text(status, "report", Boom, max_bytes=1024 * 1024).startswith("Name:")
    with pytest.raises(Boom, match=r"^report /proc/self/status is larger than 100 bytes$"):
        read_user_file(status, "report", Boom, max_bytes=100)
