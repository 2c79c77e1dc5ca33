"""Reading a file the user named (inventory, waivers, baseline, profile, key, ...) with a size cap.

Only regular files are read: a directory, FIFO, socket or device is refused after a stat, before it is
opened (opening a device can have effects), and the open itself is non-blocking, so a FIFO swapped in
meanwhile cannot hang it. At most `max_bytes + 1` bytes are read, so /dev/zero or a huge file cannot
exhaust memory. Every failure raises the caller's error class with one line naming what the file is
and its path. Standard library only: the command line imports this before anything heavy.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

_CHUNK = 64 * 1024
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def read_user_file(path: Path, what: str, error: type[Exception], *, max_bytes: int) -> bytes:
    """The bytes of the regular file `path` (at most `max_bytes`); `what` names it in errors ("waivers")."""

    def cannot(exc: OSError) -> Exception:
        return error(f"cannot read {what} {path}: {exc.strerror or exc}")

    def check(st: os.stat_result) -> None:
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{what} {path} is not a regular file")
        if st.st_size > max_bytes:
            raise error(f"{what} {path} is larger than {max_bytes} bytes")

    try:
        check(os.stat(path))
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        raise cannot(exc) from None
    try:
        st = os.fstat(fd)
        check(st)  # the same checks on what was opened: the path may have been replaced after the stat
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, max(st.st_size + 1, _CHUNK)))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise cannot(exc) from None
    finally:
        os.close(fd)
    if left <= 0:  # grew after the stat, or a /proc-like file whose size says 0
        raise error(f"{what} {path} is larger than {max_bytes} bytes")
    return b"".join(chunks)


def read_user_text(path: Path, what: str, error: type[Exception], *, max_bytes: int) -> str:
    """`read_user_file` decoded as UTF-8; text that is not UTF-8 is an `error` too."""
    return _decoded(read_user_file(path, what, error, max_bytes=max_bytes), path, what, error)


def read_user_text_sha256(path: Path, what: str, error: type[Exception], *, max_bytes: int) -> tuple[str, str]:
    """`read_user_text` and the SHA-256 (hex) of the bytes it decoded: a report records what the run read
    (two runs given the same file at different paths read the same content)."""
    blob = read_user_file(path, what, error, max_bytes=max_bytes)
    return _decoded(blob, path, what, error), hashlib.sha256(blob).hexdigest()


def _decoded(blob: bytes, path: Path, what: str, error: type[Exception]) -> str:
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not UTF-8 text") from None
