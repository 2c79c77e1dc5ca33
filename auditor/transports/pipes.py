"""Reading a child's stdout and stderr as they come, within a deadline (the local collector, docker and
kubectl execs, ansible-inventory)."""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Callable


def read_output(proc: subprocess.Popen[bytes], deadline: float, on_stdout: Callable[[bytes], bool], *,
                stderr_cap: int, until_stdout_closes: bool) -> tuple[bool, bytes]:
    """Feed `proc`'s stdout to `on_stdout` (which returns True to stop reading) and keep the first
    `stderr_cap` bytes of its stderr, until stdout closes (`until_stdout_closes`) or both do, `on_stdout`
    asks to stop, or `deadline` (time.monotonic) passes. Returns (timed out, stderr)."""
    assert proc.stdout is not None and proc.stderr is not None
    stderr = bytearray()
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    open_fds = {out_fd, err_fd}
    while out_fd in open_fds if until_stdout_closes else open_fds:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True, bytes(stderr)
        ready, _, _ = select.select(list(open_fds), [], [], min(remaining, 1.0))
        stop = False
        for fd in ready:
            data = os.read(fd, 65536)
            if not data:
                open_fds.discard(fd)
            elif fd == err_fd:
                stderr += data[: max(0, stderr_cap - len(stderr))]
            else:
                stop = on_stdout(data) or stop
        if stop:
            break
    return False, bytes(stderr)
