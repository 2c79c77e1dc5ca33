"""Files the tool writes (reports, merged reports, snapshots, evidence bundles) appear whole or not at
all: written to a temporary file beside the name given, then renamed over it. A run that fails while
writing (a renderer's exception, a full disk, Ctrl-C) leaves the previous file as it was, never a
truncated report that a CI step would read as one."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO


@contextmanager
def atomic_binary(path: Path, prefix: str = ".jitsi-audit-") -> Iterator[BinaryIO]:
    """A binary file object whose content replaces `path` when the block ends without an exception.

    What already stands at `path` and is not a regular file (a FIFO, /dev/stdout, /dev/null, or a link
    to one) is written in place: a rename would replace the device or pipe itself. A symlink to a regular
    file is replaced by the new file, as any program writing that name through a rename does; the rename
    stays on the directory's own filesystem, wherever the link pointed."""
    try:
        target = os.stat(path)
    except OSError:
        target = None
    if target is not None and not stat.S_ISREG(target.st_mode):
        with open(path, "wb") as out:
            yield out
        return
    tmp = path.absolute().parent / f"{prefix}{secrets.token_hex(8)}.tmp"
    # created 0666 less the umask, as any file the user writes (mkstemp's would be 0600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        with contextlib.suppress(OSError):  # an existing file keeps its mode (a 0600 report stays 0600)
            st = os.stat(path, follow_symlinks=False)
            if stat.S_ISREG(st.st_mode):
                os.chmod(tmp, stat.S_IMODE(st.st_mode))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_text(path: Path, prefix: str = ".jitsi-audit-") -> Iterator[TextIO]:
    """`atomic_binary` as UTF-8 text; characters UTF-8 cannot carry (a name's stray surrogates) are
    written escaped."""
    with atomic_binary(path, prefix) as raw, io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace") as out:
        yield out
