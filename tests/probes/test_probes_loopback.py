"""run_probes against real nginx and prosody on loopback (see tests/probes/servers.py)."""

from __future__ import annotations

import json
import socket
import time
from functools import cache
from typing import Any

import pytest

from auditor.probes import ProbeOptions, ProbeResults, ProbeTarget, run_probes
from tests.probes.servers import Host, ProbeLab

pytestmark = pytest.mark.filterwarnings("ignore:Parsed a serial number")

FAST = ProbeOptions(connect_timeout=1.0, io_timeout=3.0)


@cache
def _probe(host_key: tuple[str, str, str], intrusive: bool) -> tuple[ProbeResults, float]:
    domain, address, ca = host_key
    start = time.monotonic()
    res = run_probes(ProbeTarget(domain, address, ca_bundle=ca, intrusive=intrusive), FAST)
    return res, time.monotonic() - start


def probe(host: Host, intrusive: bool = False) -> ProbeResults:
    return _probe((host.domain, host.address, host.ca), intrusive)[0]


def test_good_host(probe_lab: ProbeLab) -> None:
    res = probe(probe_lab.good)
    assert [r.status for r in res.runs] == ["ok", "ok", "ok", "ok"]
    assert res.exposure is not None and res.tls is not None and res.http is not None and res.xmpp is not None
    assert {p.port for p in res.exposure.ports if p.state == "open" and p.proto == "tcp"} == {80, 443}
    web = res.tls.get(443)
    assert web is not None and web.scanned
    assert web.protocols == ("TLSv1.2", "TLSv1.3")
    assert all(c.forward_secrecy and c.aead and not c.weak for c in web.ciphers)
    assert web.certificate is not None
    cert = web.certificate
    assert cert.trusted and cert.hostname_match and not cert.self_signed and 80 < cert.days_left <= 90
    assert cert.key_type == "RSA" and cert.key_size == 2048
    assert web.mozilla_intermediate == ()
    assert web.heartbleed is False and web.compression is False and web.secure_renegotiation is True
    assert res.http.plain is not None and res.http.plain.status == 301
    assert (res.http.plain.location or "").startswith("https://good.probe-lab.test")
    assert res.http.hsts is not None and res.http.hsts.max_age == 63072000 and res.http.hsts.include_subdomains
    assert res.http.header("x-content-type-options") == "nosniff"
    kinds = {e.path: e.kind for e in res.http.endpoints}
    assert kinds["/http-bind"] == "bosh" and kinds["/xmpp-websocket"] == "websocket"
    assert kinds["/colibri/stats"] == "catch_all" and kinds["/about/health"] == "catch_all"
    assert kinds["/conference-request/v1"] == "api"
    assert res.http.config_js is not None and res.http.config_js.parsed and not res.http.config_js.secrets
    assert res.xmpp.bosh is not None and res.xmpp.bosh.ok
    assert "ANONYMOUS" not in res.xmpp.bosh.mechanisms and "SCRAM-SHA-1" in res.xmpp.bosh.mechanisms
    assert res.xmpp.c2s is None  # 5222 is not reachable on the public address


def test_good_host_suites_are_found_by_elimination(probe_lab: ProbeLab, monkeypatch: pytest.MonkeyPatch) -> None:
    """What keeps the TLS scan cheap, counted rather than timed (the timings are benchmarks/run.py's):
    every accepted suite by elimination, no per-suite fallback, and the whole scan of the HTTPS port in
    a few dozen connections (sslyze's per-suite scan tries each of the ~400 suite-version pairs its clients can offer)."""
    host = probe_lab.good
    connects: list[int] = []
    real = socket.socket.connect

    def counted(sock: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[:2] == (host.address, 443):
            connects.append(1)
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", counted)
    res = run_probes(ProbeTarget(host.domain, host.address, ca_bundle=host.ca),
                     ProbeOptions(connect_timeout=1.0, io_timeout=3.0, probes=("tls",)))
    assert res.tls is not None
    web = res.tls.get(443)
    assert web is not None and web.scanned and web.suite_scan == "full", web
    assert 10 < len(connects) < 80, len(connects)


def test_weak_host(probe_lab: ProbeLab) -> None:
    res = probe(probe_lab.weak)
    assert res.exposure is not None and res.tls is not None and res.http is not None and res.xmpp is not None
    states = {p.port: p for p in res.exposure.ports if p.proto == "tcp"}
    assert states[5222].state == "open" and "XMPP stream" in (states[5222].answer or "")
    assert states[5280].state == "open" and (states[5280].answer or "").startswith("HTTP")
    assert states[8888].state == "filtered", "a port that drops SYNs is reported as filtered, not as an error"
    assert states[8888].seconds < 2.0
    assert states[8080].state == "closed"
    web = res.tls.get(443)
    assert web is not None and web.scanned
    assert "TLSv1.0" in web.protocols and "TLSv1.1" in web.protocols
    assert any(not c.forward_secrecy for c in web.ciphers)
    assert web.certificate is not None and web.certificate.self_signed
    assert web.mozilla_intermediate and any(i.startswith("tls_versions") for i in web.mozilla_intermediate)
    c2s = res.tls.get(5222)
    assert c2s is not None and c2s.scanned and c2s.starttls == "xmpp" and c2s.suite_scan == "full"
    assert c2s.protocols == ("TLSv1.2", "TLSv1.3")
    second = res.tls.get(5281)  # a secondary port gets every suite too (elimination), weaknesses show
    assert second is not None and second.scanned and second.suite_scan == "full"
    assert second.protocols == ("TLSv1.0", "TLSv1.1", "TLSv1.2")
    assert any(c.weak for c in second.ciphers) and any(not c.forward_secrecy for c in second.ciphers)
    assert web.suite_scan == "full"
    s2s = res.tls.get(5269)
    assert s2s is not None and s2s.scanned and s2s.starttls == "xmpp-server"
    assert res.http.plain is not None and res.http.plain.status == 200
    assert res.http.hsts is None
    assert res.http.https is not None and (res.http.https.server or "").startswith("nginx/1.")
    kinds = {e.path: e.kind for e in res.http.endpoints}
    assert kinds["/colibri/stats"] == "api" and kinds["/about/health"] == "api"
    assert [d.kind for d in res.http.direct] == ["bosh"]
    cfg = res.http.config_js
    assert cfg is not None and cfg.parsed
    assert {s.name for s in cfg.secrets} == {"callStatsSecret", "p2p.iceServers[0].credential"}
    assert res.xmpp.bosh is not None and res.xmpp.bosh.mechanisms == ("ANONYMOUS",)
    assert res.xmpp.c2s is not None and res.xmpp.c2s.starttls and not res.xmpp.c2s.starttls_required
    assert not res.xmpp.logins, "no login attempt without the intrusive flag"


def test_results_never_hold_secret_values(probe_lab: ProbeLab) -> None:
    text = json.dumps(probe(probe_lab.weak, intrusive=True).to_json())
    for canary in probe_lab.weak.canaries:
        assert canary not in text
    assert "passw0rd" not in text


def test_results_survive_json(probe_lab: ProbeLab) -> None:
    res = probe(probe_lab.weak)
    assert ProbeResults.from_json(json.loads(json.dumps(res.to_json()))) == res


def test_intrusive_default_password(probe_lab: ProbeLab) -> None:
    res = probe(probe_lab.weak, intrusive=True)
    assert res.intrusive and res.xmpp is not None
    outcome = {a.account.split("@")[0]: a.outcome for a in res.xmpp.logins}
    assert outcome == {"focus": "accepted", "jvb": "rejected"}
    assert res.run("xmpp") is not None and res.run("xmpp").intrusive  # type: ignore[union-attr]
    assert any("intrusive" in n for n in res.notes)


def test_expired_certificate(probe_lab: ProbeLab) -> None:
    res = probe(probe_lab.expired)
    assert res.tls is not None
    web = res.tls.get(443)
    assert web is not None and web.certificate is not None
    assert web.certificate.days_left < 0 and not web.certificate.trusted
    assert web.certificate.validation_error and "encountered" not in web.certificate.validation_error
    assert web.mozilla_intermediate and any("path_validation" in i for i in web.mozilla_intermediate)


def test_a_probe_out_of_time_is_recorded_and_the_rest_goes_on(probe_lab: ProbeLab) -> None:
    host = probe_lab.weak
    options = ProbeOptions(connect_timeout=1.0, io_timeout=3.0, tls_timeout=0.05, exposure_timeout=10)
    res = run_probes(ProbeTarget(host.domain, host.address, ca_bundle=host.ca), options)
    runs = {r.name: r for r in res.runs}
    assert runs["exposure"].status == "ok" and runs["http"].status == "ok" and runs["xmpp"].status == "ok"
    tls = runs["tls"]
    if tls.status == "ok":  # the scan itself gave up at its deadline: every endpoint says so
        assert res.tls is not None and all(e.status == "timeout" for e in res.tls.endpoints)
    else:
        assert tls.status == "timeout" and res.tls is None and res.unavailable("tls")


def test_unresolvable_name_fails_every_probe_with_the_reason() -> None:
    res = run_probes(ProbeTarget("does-not-exist.invalid"), FAST)
    assert res.address is None
    assert {r.status for r in res.runs} == {"failed"}
    assert all("cannot resolve" in (r.reason or "") for r in res.runs)


def test_nothing_listening(probe_lab: ProbeLab) -> None:
    """An address where nothing answers: every port closed, probes fail fast with reasons, no exception."""
    address = probe_lab.good.address.rsplit(".", 1)[0] + ".99"
    start = time.monotonic()
    res = run_probes(ProbeTarget("nothing.probe-lab.test", address), FAST)
    assert time.monotonic() - start < 10
    assert res.exposure is not None and all(p.state == "closed" for p in res.exposure.ports)
    assert res.tls is not None and res.tls.endpoints[0].status == "unreachable"
    assert res.http is not None and res.http.https is not None and res.http.https.error


@pytest.mark.parametrize("probes", [("exposure",), ("tls",), ("http", "xmpp")])
def test_probes_can_run_alone(probe_lab: ProbeLab, probes: tuple[str, ...]) -> None:
    host = probe_lab.good
    res = run_probes(ProbeTarget(host.domain, host.address, ca_bundle=host.ca),
                     ProbeOptions(connect_timeout=1.0, io_timeout=3.0, probes=probes))
    assert [r.name for r in res.runs] == list(probes)
    assert all(r.status == "ok" for r in res.runs)


def test_a_failure_choosing_the_later_tls_ports_still_scans_them(probe_lab: ProbeLab,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The ports after the web front's follow the exposure result; a bug there must not leave them out."""
    import auditor.probes.tls as tls

    def broken(_answered_in: float | None) -> float:
        raise RuntimeError("boom")

    monkeypatch.setattr(tls, "s2s_read_timeout", broken)
    host = probe_lab.weak
    res = run_probes(ProbeTarget(host.domain, host.address, ca_bundle=host.ca), FAST)
    assert res.tls is not None
    second = res.tls.get(5281)
    assert second is not None and second.scanned and "TLSv1.0" in second.protocols
    assert {e.port for e in res.tls.endpoints} >= {443, 5222, 5269, 5281}
    assert any(n.startswith("tls: the exposure result could not choose the TLS ports (RuntimeError)")
               for n in res.notes)
