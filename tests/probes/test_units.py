"""Unit tests of the probe building blocks (pure functions and loopback sockets on high ports)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from auditor.probes import ProbeOptions, ProbeTarget, run_probes
from auditor.probes.configjs import compare, flatten
from auditor.probes.exposure import UDP_WAIT, UDP_WAIT_MIN, probe_exposure, udp_wait
from auditor.probes.http import classify_endpoint, parse_hsts
from auditor.probes.model import (
    ConfigJsInfo,
    ExposureResult,
    PortState,
    ProbeResults,
    ProbeRun,
    TlsEndpoint,
    TlsResult,
)
from auditor.probes.net import run_with_deadline, sanitize, tcp_state, udp_stun
from auditor.probes.tls import classify_cipher, hostname_matches
from auditor.probes.webclient import Fetched
from auditor.probes.xmpp import features
from auditor.redaction import Redactor


def test_cipher_classification() -> None:
    gcm = classify_cipher("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLSv1.2", 128, False, 253)
    assert gcm.forward_secrecy and gcm.aead and not gcm.weak
    rsa_cbc = classify_cipher("TLS_RSA_WITH_AES_128_CBC_SHA", "TLSv1.2", 128, False, None)
    assert not rsa_cbc.forward_secrecy and not rsa_cbc.aead and not rsa_cbc.weak
    assert classify_cipher("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLSv1.0", 168, False, None).weak
    assert classify_cipher("TLS_ECDHE_RSA_WITH_RC4_128_SHA", "TLSv1.0", 128, False, 256).weak
    assert classify_cipher("TLS_DH_anon_WITH_AES_128_CBC_SHA", "TLSv1.2", 128, True, 2048).weak
    tls13 = classify_cipher("TLS_AES_256_GCM_SHA384", "TLSv1.3", 256, False, 253)
    assert tls13.forward_secrecy and tls13.aead


def test_hostname_matching() -> None:
    assert hostname_matches("meet.example.org", ["meet.example.org"])
    assert hostname_matches("meet.example.org", ["*.example.org"])
    assert not hostname_matches("a.meet.example.org", ["*.example.org"])
    assert not hostname_matches("example.org", ["*.example.org"])
    assert not hostname_matches("meet.example.org", ["other.example.org"])


def test_hsts_parsing() -> None:
    h = parse_hsts('max-age="31536000"; includeSubDomains; preload')
    assert (h.max_age, h.include_subdomains, h.preload) == (31536000, True, True)
    assert parse_hsts("includeSubDomains").max_age is None


def test_stream_features() -> None:
    text = ("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
            "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>"
            "<mechanism>PLAIN</mechanism></mechanisms></stream:features>")
    assert features(text) == (("SCRAM-SHA-1", "PLAIN"), True, True)
    assert features("<stream:features><starttls xmlns='x'/></stream:features>") == ((), True, False)
    assert features("<stream:features/>") == ((), False, False)


def test_public_config_keeps_only_verdicts_of_secrets() -> None:
    values = {
        "hosts": {"domain": "meet.example.org"},
        "callStatsSecret": "0123456789abcdef0123456789",
        "p2p": {"iceServers": [{"urls": "turns:meet.example.org:5349", "username": "u", "credential": "hunter2"}]},
        "emptySecret": "",
    }
    plain, secrets = flatten(values)
    assert plain["hosts.domain"] == '"meet.example.org"'
    assert plain["emptySecret"] == '""'
    by_name = {s.name: s for s in secrets}
    assert set(by_name) == {"callStatsSecret", "p2p.iceServers[0].credential"}
    assert by_name["p2p.iceServers[0].credential"].turn and by_name["p2p.iceServers[0].credential"].length == 7
    dumped = json.dumps([plain, [vars_of(s) for s in secrets]])
    assert "hunter2" not in dumped and "0123456789abcdef" not in dumped


def vars_of(obj: object) -> dict[str, object]:
    return {k: getattr(obj, k) for k in obj.__slots__}  # type: ignore[attr-defined]


def test_compare_with_the_redacted_ssh_copy() -> None:
    public_values = {"hosts": {"domain": "meet.example.org"}, "callStatsSecret": "0123456789abcdef0123456789",
                     "p2p": {"enabled": True}}
    plain, secrets = flatten(public_values)
    public = ConfigJsInfo(200, 1, None, True, None, tuple(sorted(plain.items())), tuple(secrets))
    marker = Redactor().verdict("0123456789abcdef0123456789").marker()  # what redaction leaves in the SSH copy
    ssh_same = {"hosts": {"domain": "meet.example.org"}, "callStatsSecret": marker, "p2p": {"enabled": True}}
    assert compare(public, ssh_same) == []
    ssh_other = {"hosts": {"domain": "meet.example.org"}, "p2p": {"enabled": False}}
    assert compare(public, ssh_other) == ["p2p.enabled", "callStatsSecret"]


def _fetched(status: int, ctype: str, body: bytes) -> Fetched:
    import httpx

    return Fetched(status, httpx.Headers({"content-type": ctype}), body, False)


def test_catch_all_is_not_an_api() -> None:
    index = _fetched(200, "text/html", b"<!DOCTYPE html><html>jitsi</html>")
    assert classify_endpoint(index, index)[0] == "catch_all"
    assert classify_endpoint(_fetched(200, "text/html", b"<html>other</html>"), index)[0] == "catch_all"
    assert classify_endpoint(_fetched(200, "application/json", b'{"x":1}'), index)[0] == "api"
    assert classify_endpoint(_fetched(200, "text/plain", b""), index)[0] == "api"
    assert classify_endpoint(_fetched(404, "text/html", b"<html>404</html>"), index)[0] == "absent"
    assert classify_endpoint(_fetched(502, "text/html", b"<html>bad gateway</html>"), index)[0] == "upstream_down"


def test_results_round_trip_through_json() -> None:
    res = ProbeResults(
        domain="meet.example.org", address="192.0.2.1", vantage="internal", intrusive=False,
        started_at="2026-01-01T00:00:00+00:00", seconds=1.5,
        runs=(ProbeRun("exposure", "ok", None, 0.1), ProbeRun("tls", "timeout", "no result within 1 s", 1.0)),
        exposure=ExposureResult((PortState("tcp", 443, "open", "nginx HTTPS", "TLS", 0.01),)),
        tls=TlsResult((TlsEndpoint(443, "web HTTPS", protocols=("TLSv1.2",), mozilla_intermediate=()),)),
    )
    data = json.loads(json.dumps(res.to_json()))
    assert ProbeResults.from_json(data) == res
    assert res.unavailable("tls") == "the tls probe timed out: no result within 1 s"
    assert res.unavailable("exposure") is None
    assert res.unavailable("http") == "the http probe was not run"


def test_run_with_deadline() -> None:
    assert run_with_deadline(lambda: 42, 1.0) == ("ok", 42, None)
    status, _, exc = run_with_deadline(lambda: 1 // 0, 1.0)
    assert status == "error" and isinstance(exc, ZeroDivisionError)
    start = time.monotonic()
    assert run_with_deadline(lambda: time.sleep(3), 0.2)[0] == "timeout"
    assert time.monotonic() - start < 1.0


def test_sanitize_strips_control_characters() -> None:
    assert sanitize(b"SSH-2.0-x\r\n\x1b[31mred\x00", 40) == "SSH-2.0-x [31mred"
    assert len(sanitize("a" * 500, 50)) == 50


@pytest.fixture
def listener() -> Iterator[tuple[str, int]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock.getsockname()
    sock.close()


def test_tcp_states(listener: tuple[str, int]) -> None:
    assert tcp_state(*listener, 1.0)[0] == "open"
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert tcp_state("127.0.0.1", port, 1.0)[0] == "closed"


def test_a_port_that_drops_connection_attempts_is_filtered_within_the_timeout() -> None:
    dropper = socket.socket()
    dropper.bind(("127.0.0.1", 0))
    dropper.listen(0)
    address: tuple[str, int] = dropper.getsockname()  # AF_INET: (host, port)
    holder = socket.create_connection(address, timeout=1)  # fills the accept queue: later SYNs are dropped
    try:
        start = time.monotonic()
        state, took = tcp_state(*address, 0.5)
        assert state == "filtered"
        assert 0.4 < took < 1.5 and time.monotonic() - start < 1.5
    finally:
        holder.close()
        dropper.close()


def test_udp_stun_states() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    assert udp_stun("127.0.0.1", port, 0.3)[0] == "unknown"
    silent.close()
    assert udp_stun("127.0.0.1", port, 0.3)[0] == "closed"

    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(2)
    address: tuple[str, int] = server.getsockname()  # AF_INET: (host, port)

    def answer() -> None:
        data, peer = server.recvfrom(2048)
        server.sendto(b"\x01\x01\x00\x00" + data[4:20], peer)  # a binding success with the same transaction id

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    assert udp_stun(*address, 1.0) == ("open", "STUN binding response")
    t.join(2)
    server.close()


def test_udp_wait_is_a_few_round_trips_within_bounds() -> None:
    assert udp_wait([]) == UDP_WAIT == 1.0  # nothing answered over TCP: no round trip measured
    assert udp_wait([0.0004, 0.001]) == UDP_WAIT_MIN == 0.25  # a LAN: the floor
    assert udp_wait([0.02, 0.1, 0.05]) == pytest.approx(0.4)  # 4 x the slowest answered connect
    assert udp_wait([0.3]) == UDP_WAIT  # a slow link: the ceiling
    assert udp_wait([-1.0]) == UDP_WAIT


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_exposure_records_answered_connects_only(listener: tuple[str, int]) -> None:
    closed = _free_port(socket.SOCK_STREAM)
    target = ProbeTarget("loopback.test", "127.0.0.1", https_port=closed, http_port=closed)
    connects: list[float] = []
    res = probe_exposure(target, "127.0.0.1", ProbeOptions(tcp_ports=(listener[1],), udp_ports=()),
                         time.monotonic() + 5, ("tcp",), connects=connects)
    assert {(p.port, p.state) for p in res.ports} == {(listener[1], "open"), (closed, "closed")}
    assert len(connects) == 2 and all(0 <= s < 0.5 for s in connects)


def test_a_silent_udp_port_costs_a_few_round_trips_not_a_second() -> None:
    """On loopback a round trip is microseconds (the closed TCP ports' RSTs): the silent UDP port is given
    up after the 0.25 s floor instead of the fixed 1 s."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    closed = _free_port(socket.SOCK_STREAM)
    try:
        target = ProbeTarget("loopback.test", "127.0.0.1", https_port=closed, http_port=closed)
        res = run_probes(target, ProbeOptions(probes=("exposure",), tcp_ports=(closed,),
                                              udp_ports=(silent.getsockname()[1],)))
    finally:
        silent.close()
    assert res.exposure is not None and [r.status for r in res.runs] == ["ok"]
    (udp,) = [p for p in res.exposure.ports if p.proto == "udp"]
    assert udp.state == "unknown"
    assert UDP_WAIT_MIN - 0.01 <= udp.seconds < 0.6


def test_mozilla_issue_sets_are_sorted_whatever_the_hash_order() -> None:
    """sslyze prints Python sets in hash order (PYTHONHASHSEED): the same server must read the same."""
    from auditor.probes.tls import _sorted_sets

    assert _sorted_sets("TLS versions {'TLSv1.1', 'TLSv1'} are supported, but should be rejected.") == (
        "TLS versions {'TLSv1', 'TLSv1.1'} are supported, but should be rejected.")
    one = _sorted_sets("Cipher suites {'TLS_RSA_WITH_AES_256_CBC_SHA', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA'} are supported")
    two = _sorted_sets("Cipher suites {'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_RSA_WITH_AES_256_CBC_SHA'} are supported")
    assert one == two
    assert _sorted_sets("should have at least one of {'rsa', 'ecdsa'}; {}") == "should have at least one of {'ecdsa', 'rsa'}; {}"


@pytest.mark.parametrize(
    ("bosh", "path"),
    [
        ("https://meet.example.org/http-bind", "/http-bind"),
        ("//meet.example.org/sub/http-bind", "/sub/http-bind"),
        ("/other-bind", "/other-bind"),
        ("https://elsewhere.example.net/x", "/http-bind"),  # another host: the default path
        ("//[x/http-bind", "/http-bind"),  # not a URL (urlsplit raises): the default, no exception
    ],
)
def test_bosh_path_from_the_public_config_js(bosh: str, path: str) -> None:
    from auditor.probes.model import ConfigJsInfo, HttpResult
    from auditor.probes.runner import _xmpp_domain_and_path

    values = (("hosts.domain", json.dumps("meet.jitsi")), ("bosh", json.dumps(bosh)))
    http = HttpResult(None, None, config_js=ConfigJsInfo(200, 10, None, True, values=values))
    target = ProbeTarget("meet.example.org")
    assert _xmpp_domain_and_path(target, http) == ("meet.jitsi", path)
