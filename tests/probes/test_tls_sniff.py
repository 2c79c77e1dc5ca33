"""tls_sniff against real loopback servers: a TLS server, one that closes, one that answers in plain text,
one that stays silent; and the TLS probe of a port in SNIFF_FIRST (no_tls with the reason, or scanned)."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable

import pytest

from auditor.probes import tls
from auditor.probes.model import ProbeOptions, ProbeTarget
from auditor.probes.tls_sniff import looks_like_tls, sniff_tls
from tests.loopback import Handler, Server
from tests.probes.loopback import NAME, tls_context, tls_handler


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    return tls_context(tmp_path_factory.mktemp("sniff-pki"))


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


def test_a_tls_server_is_tls_after_one_hello(serve: Callable[[Handler], Server], context: ssl.SSLContext) -> None:
    server = serve(tls_handler(context))
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


def test_a_silent_port_is_not_tls_after_two_read_timeouts(serve: Callable[[Handler], Server]) -> None:
    server = serve(_silent)
    got = sniff_tls("127.0.0.1", server.port, NAME, 0.3)
    assert got.verdict == "not_tls" and got.connections == 2 and server.accepted == 2
    assert got.reason.count("no answer within 0.3 s") == 2


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


def test_a_tls_port_in_sniff_first_is_still_scanned(serve: Callable[[Handler], Server], context: ssl.SSLContext,
                                                    sniffed_port: Callable[[Server], ProbeTarget]) -> None:
    server = serve(tls_handler(context))
    target = sniffed_port(server)
    res = tls.probe_tls(target, "127.0.0.1", [server.port], ProbeOptions(io_timeout=2.0),
                        time.monotonic() + 60, 4)
    (ep,) = res.endpoints
    assert ep.status == "ok", ep.error
    assert "TLSv1.3" in ep.protocols and ep.certificate is not None and NAME in ep.certificate.names


def test_the_first_ports_are_scanned_before_later_answers(serve: Callable[[Handler], Server],
                                                          context: ssl.SSLContext) -> None:
    """probe_tls(later=...): the web front's scan is under way while the caller still waits for the
    exposure probe; the ports `later` adds are scanned too, and a failing `later` loses nothing."""
    front, other = serve(tls_handler(context)), serve(tls_handler(context))
    target = ProbeTarget(NAME, "127.0.0.1", https_port=front.port)
    seen_before_later: list[int] = []

    def later() -> tuple[list[int], float, int]:
        waited = time.monotonic() + 20
        while not front.accepted and time.monotonic() < waited:
            time.sleep(0.01)
        seen_before_later.append(front.accepted)
        return [other.port], 1.0, 4

    res = tls.probe_tls(target, "127.0.0.1", [front.port], ProbeOptions(io_timeout=2.0), time.monotonic() + 60, 1,
                        later=later)
    assert seen_before_later and seen_before_later[0] >= 1
    assert [(e.port, e.status) for e in res.endpoints] == [(front.port, "ok"), (other.port, "ok")]

    def failing() -> tuple[list[int], float, int]:
        raise RuntimeError("exposure lost")

    res = tls.probe_tls(target, "127.0.0.1", [front.port], ProbeOptions(io_timeout=2.0), time.monotonic() + 60, 2,
                        later=failing)
    assert [(e.port, e.status) for e in res.endpoints] == [(front.port, "ok")]
