"""A loopback TCP server whose handler answers each connection with raw bytes (or nothing): the probe tests'
fake TLS and plain-text ports, the security suite's fake SSH servers."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

Handler = Callable[[socket.socket], None]


class Server:
    """A TCP server on 127.0.0.1, on a free port the kernel picks (`port`; SO_REUSEADDR, as
    socket.create_server sets it), calling `handler` for each connection in a daemon thread of its own
    and counting the connections in `accepted`.

    The connection is closed when the handler returns; with `keep_open` it stays open until close(): a
    peer that never hangs up (a handler may still close it itself). An OSError in the handler (the
    client hung up, a timeout the handler set, a TLS error) ends that connection quietly; any other
    exception escapes its thread, where pytest reports it. Accepted sockets have no timeout unless the
    handler sets one. close() stops listening and closes the connections kept open; a handler still
    running finishes on its own."""

    def __init__(self, handler: Handler, *, keep_open: bool = False) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self.handler = handler
        self.keep_open = keep_open
        self._kept: list[socket.socket] = []
        self._closed = False
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            with self._lock:
                if self._closed:  # accepted while close() ran
                    conn.close()
                    return
                self.accepted += 1
                if self.keep_open:
                    self._kept.append(conn)
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            with contextlib.suppress(OSError):
                self.handler(conn)
        finally:
            if not self.keep_open:
                conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            kept, self._kept = self._kept, []
        for sock in (self.sock, *kept):
            # shutdown first: a bare close() would leave a blocked accept() (or recv()) waiting, the
            # socket still listening (or open) in the kernel
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
