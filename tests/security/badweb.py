"""A misbehaving web front for the live-probe fault tests, run inside a lab host's network namespace
in place of its nginx (`ip netns exec NS python -m tests.security.badweb MODE`).

Modes (HTTPS port 443 / HTTP port 80):
  tls-garbage   443 answers every ClientHello with bytes that are not TLS, then closes;
                80 answers 503 Service Unavailable to every request.
  slow-loris    443 accepts and never says a word (a handshake that never ends);
                80 sends a status line, then one header byte every 2 seconds, forever.
Every connection gets its own daemon thread; the process lives until it is killed.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable

Handler = Callable[[socket.socket], None]


def _garbage(conn: socket.socket) -> None:
    conn.recv(4096)
    conn.sendall(b"SSH-2.0-not-tls\r\n" + bytes(range(256)))


def _silent(conn: socket.socket) -> None:
    time.sleep(3600)


def _http_503(conn: socket.socket) -> None:
    conn.settimeout(30)
    while True:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        body = b"<h1>503</h1>"
        conn.sendall(
            b"HTTP/1.1 503 Service Unavailable\r\nServer: badweb\r\nContent-Type: text/html\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )


def _slow_headers(conn: socket.socket) -> None:
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while True:
        conn.sendall(b"X")
        time.sleep(2)


def serve(port: int, handler: Handler) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(64)

    def one(conn: socket.socket) -> None:
        try:
            handler(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def loop() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


MODES: dict[str, tuple[Handler, Handler]] = {
    "tls-garbage": (_garbage, _http_503),
    "slow-loris": (_silent, _slow_headers),
}
# What each mode does to the live probes (counted for the README's reliability figures).
FAULTS: dict[str, tuple[str, ...]] = {
    "tls-garbage": ("TLS handshake failure", "HTTP 5xx"),
    "slow-loris": ("TLS handshake that never ends", "HTTP slow-loris headers"),
}


def main() -> None:
    tls, http = MODES[sys.argv[1]]
    serve(443, tls)
    serve(80, http)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
