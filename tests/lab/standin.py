"""Stand-in for jicofo / jitsi-videobridge (Java, not packaged in Debian) inside a lab host.

It only listens where the host's jicofo.conf / jvb.conf say the real service would, and answers the
few HTTP routes an exposure check may probe (/about/health, /about/version, /colibri/stats,
/conference-request/v1). UDP 10000 is bound and silently drops datagrams. Standard library only:
it runs with the system python3 as the unprivileged jicofo or jvb user.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def split_addr(spec: str) -> tuple[str, int]:
    host, _, port = spec.rpartition(":")
    return host.strip("[]"), int(port)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr: tuple[str, int], role: str, version: str) -> None:
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.role = role
        self.version = version
        super().__init__(addr, Handler)


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "Jetty(9.4.56.v20240826)"
    sys_version = ""

    def _send(self, code: int, body: object | None, ctype: str = "application/json") -> None:
        data = (
            b""
            if body is None
            else (json.dumps(body).encode() if ctype.endswith("json") else str(body).encode())
        )
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        role = self.server.role
        if path == "/about/health":
            self._send(200, None)
        elif path == "/about/version":
            self._send(
                200,
                {"name": "JVB" if role == "jvb" else "Jicofo", "version": self.server.version, "os": "Linux"},
            )
        elif role == "jvb" and path == "/colibri/stats":
            self._send(200, {"conferences": 0, "participants": 0, "version": self.server.version})
        elif role == "jicofo" and path == "/stats":
            self._send(200, {"conferences": 0, "participants": 0})
        elif path.startswith("/colibri-ws/"):
            # The real bridge only upgrades with a valid conference/endpoint id.
            self._send(404, {"error": "unknown endpoint"})
        else:
            self._send(404, "Not Found", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.server.role == "jicofo" and self.path.startswith("/conference-request/v1"):
            self._send(
                200, {"ready": True, "focusJid": "focus", "sessionId": "lab", "vnode": None, "properties": {}}
            )
        else:
            self._send(404, "Not Found", "text/plain")

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {format % args}\n")
        sys.stderr.flush()


def bind(spec: str, kind: int) -> socket.socket:
    host, port = split_addr(spec)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    if kind == socket.SOCK_STREAM:
        sock.listen(16)
    return sock


def udp_sink(sock: socket.socket) -> None:
    while True:
        sock.recvfrom(2048)


def tcp_sink(sock: socket.socket) -> None:
    """Accept and close (legacy JVB ICE/TCP harvester port 4443)."""
    while True:
        conn, _ = sock.accept()
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["jicofo", "jvb"], required=True)
    parser.add_argument("--version", default="")
    parser.add_argument("--http", action="append", default=[])
    parser.add_argument("--udp", action="append", default=[])
    parser.add_argument("--tcp", action="append", default=[])
    args = parser.parse_args()
    threads = []
    for spec in args.http:
        server = Server(split_addr(spec), args.role, args.version)
        threads.append(threading.Thread(target=server.serve_forever, daemon=True))
    # Bind everything before starting threads: a failed bind must end the process, not one thread.
    threads += [
        threading.Thread(target=udp_sink, args=(bind(s, socket.SOCK_DGRAM),), daemon=True) for s in args.udp
    ]
    threads += [
        threading.Thread(target=tcp_sink, args=(bind(s, socket.SOCK_STREAM),), daemon=True) for s in args.tcp
    ]
    for t in threads:
        t.start()
    sys.stderr.write(f"{args.role} stand-in listening: http={args.http} udp={args.udp} tcp={args.tcp}\n")
    sys.stderr.flush()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
