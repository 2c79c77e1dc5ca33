"""A fleet with hosts that fail: one stderr line per failing host, nothing else (no library's traceback)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never says anything (no SSH banner)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


def test_a_silent_ssh_server_gives_one_line_only(silent_server: int) -> None:
    """paramiko's transport thread logs the banner timeout with a traceback; the run's stderr has only the
    audit's own line for that host (and for the refused one beside it)."""
    silent, refused = f"ssh://jaudit@127.0.0.1:{silent_server}", "ssh://jaudit@127.0.0.1:1"
    run = subprocess.run([sys.executable, "-m", "auditor.cli", silent, refused, "--no-probes", "-q", "--timeout", "1",
                          "-f", "json"], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 3, run.stderr
    assert [t["target"] for t in json.loads(run.stdout)["targets"]] == [silent, refused]
    assert run.stderr.splitlines() == [
        f"jitsi-audit: {silent}: connect: SSH handshake with 127.0.0.1:{silent_server} failed: no SSH banner within "
        "1s (not an SSH server, or a silent one)",
        f"jitsi-audit: {refused}: connect: connection to 127.0.0.1:1 refused",
    ], run.stderr
