"""tls_sniff against real loopback servers: a TLS server, one that closes, one that answers in plain text,
one that stays silent; and the TLS probe of a port in SNIFF_FIRST (no_tls with the reason, or scanned)."""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from auditor.probes import tls
from auditor.probes.model import ProbeOptions, ProbeTarget
from auditor.probes.tls_sniff import looks_like_tls, sniff_tls

NAME = "sniff.test"
Handler = Callable[[socket.socket], None]


class Server:
    """A loopback TCP server calling `handler` for each connection (in a thread), counting them."""

    def __init__(self, handler: Handler) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.handler = handler
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.handler(conn)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def serve() -> Iterator[Callable[[Handler], Server]]:
    servers: list[Server] = []

    def start(handler: Handler) -> Server:
        servers.append(Server(handler))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
            .sign(key, hashes.SHA256()))
    root = tmp_path_factory.mktemp("sniff-pki")
    (root / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(Path(root / "cert.pem"), Path(root / "key.pem"))
    return ctx


def _tls_handler(ctx: ssl.SSLContext) -> Handler:
    def handle(conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls_conn:
                tls_conn.recv(1)
        except (ssl.SSLError, OSError):
            pass

    return handle


def _close(conn: socket.socket) -> None:
    conn.recv(4096)


def _plain_text(conn: socket.socket) -> None:
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")


def _silent(conn: socket.socket) -> None:
    conn.settimeout(3)
    try:
        conn.recv(4096)
        time.sleep(1.5)
    except OSError:
        pass


def test_a_tls_server_is_tls_after_one_hello(serve: Callable[[Handler], Server], tls_context: ssl.SSLContext) -> None:
    server = serve(_tls_handler(tls_context))
    got = sniff_tls("127.0.0.1", server.port, NAME, 2.0)
    assert (got.verdict, got.connections) == ("tls", 1)


def test_a_port_that_closes_is_not_tls_after_two_hellos(serve: Callable[[Handler], Server]) -> None:
    server = serve(_close)
    got = sniff_tls("127.0.0.1", server.port, NAME, 2.0)
    assert got.verdict == "not_tls" and got.connections == 2 and server.accepted == 2
    assert "no TLS answer to two ClientHellos" in got.reason and "TLS 1.0-1.2" in got.reason


def test_plain_text_settles_it_in_one_connection(serve: Callable[[Handler], Server]) -> None:
    server = serve(_plain_text)
    got = sniff_tls("127.0.0.1", server.port, NAME, 2.0)
    assert got.verdict == "not_tls" and got.connections == 1 and server.accepted == 1
    assert b"HTTP/1.1".hex() in got.reason


def test_a_silent_port_is_not_tls_within_two_timeouts(serve: Callable[[Handler], Server]) -> None:
    server = serve(_silent)
    start = time.monotonic()
    got = sniff_tls("127.0.0.1", server.port, NAME, 0.3)
    assert got.verdict == "not_tls" and "no answer within 0.3 s" in got.reason
    assert time.monotonic() - start < 1.4


def test_nothing_listening_is_left_to_sslyze() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    assert sniff_tls("127.0.0.1", port, NAME, 1.0).verdict == "unknown"


def test_record_headers() -> None:
    assert looks_like_tls(bytes([22, 3, 3, 0, 40]))
    assert looks_like_tls(bytes([21, 3, 1, 0, 2]))
    assert not looks_like_tls(b"HTTP/1.1 400")
    assert not looks_like_tls(b"\x00\x14\x01\x01")  # a STUN-over-TCP frame


@pytest.fixture()
def sniffed_port(monkeypatch: pytest.MonkeyPatch) -> Callable[[Server], ProbeTarget]:
    def use(server: Server) -> ProbeTarget:
        monkeypatch.setattr(tls, "SNIFF_FIRST", frozenset({server.port}))
        return ProbeTarget(NAME, "127.0.0.1", https_port=1)

    return use


def test_probe_reports_no_tls_with_the_reason(serve: Callable[[Handler], Server],
                                              sniffed_port: Callable[[Server], ProbeTarget]) -> None:
    server = serve(_close)
    target = sniffed_port(server)
    res = tls.probe_tls(target, "127.0.0.1", [server.port], ProbeOptions(io_timeout=2.0),
                        time.monotonic() + 30, 4)
    (ep,) = res.endpoints
    assert ep.status == "no_tls" and ep.error is not None and ep.error.startswith("not TLS:")
    assert server.accepted == 2  # sslyze's connectivity test alone opened 11


def test_a_tls_port_in_sniff_first_is_still_scanned(serve: Callable[[Handler], Server], tls_context: ssl.SSLContext,
                                                    sniffed_port: Callable[[Server], ProbeTarget]) -> None:
    server = serve(_tls_handler(tls_context))
    target = sniffed_port(server)
    res = tls.probe_tls(target, "127.0.0.1", [server.port], ProbeOptions(io_timeout=2.0),
                        time.monotonic() + 60, 4)
    (ep,) = res.endpoints
    assert ep.status == "ok", ep.error
    assert "TLSv1.3" in ep.protocols and ep.certificate is not None and NAME in ep.certificate.names
