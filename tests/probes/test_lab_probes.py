"""run_probes against the lab's real Jitsi hosts (tests/lab): hardened, legacy-2020, expired-cert, docker.

The hosts are this module's own ("p-<variant>"), started once and stopped at the end of the module.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

from auditor.probes import LIVE_KEY, ProbeOptions, ProbeResults, ProbeTarget, run_probes
from tests.lab import LabHost
from tests.probes.conftest import HostFactory, lab_hosts_fixture

pytestmark = [pytest.mark.lab, pytest.mark.filterwarnings("ignore:Parsed a serial number")]



lab_hosts = lab_hosts_fixture("p")


def target(host: LabHost, intrusive: bool = False) -> ProbeTarget:
    return ProbeTarget(host.domain, host.address, ca_bundle=host.ca_cert, https_port=host.web_port,
                       http_port=host.http_port, intrusive=intrusive)


@cache
def _probe(name: str, intrusive: bool, host_json: str) -> tuple[ProbeResults, float]:
    host = LabHost.from_json(json.loads(host_json))
    start = time.monotonic()
    return run_probes(target(host, intrusive), ProbeOptions()), time.monotonic() - start


def probe(host: LabHost, intrusive: bool = False) -> tuple[ProbeResults, float]:
    return _probe(host.name, intrusive, json.dumps(host.to_json()))


def _tcp(ports: list[str]) -> set[int]:
    return {int(p.split("/")[1].rsplit(":", 1)[-1]) for p in ports if p.startswith("tcp/")}


def assert_exposure_matches_the_lab(res: ProbeResults, host: LabHost) -> None:
    assert res.exposure is not None
    scanned = {p.port: p.state for p in res.exposure.ports if p.proto == "tcp"}
    for port in _tcp(host.open_ports) & set(scanned):
        assert scanned[port] == "open", (port, scanned[port])
    for port in _tcp(host.closed_ports) & set(scanned):
        assert scanned[port] in ("closed", "filtered"), (port, scanned[port])


def assert_no_canary(res: ProbeResults, host: LabHost) -> None:
    text = json.dumps(res.to_json())
    for secret in [*host.canaries, *host.weak_secrets]:
        assert secret not in text


def test_hardened(lab_hosts: HostFactory) -> None:
    host = lab_hosts("hardened")
    res, _ = probe(host)
    assert all(r.status == "ok" for r in res.runs), res.runs
    assert_exposure_matches_the_lab(res, host)
    assert res.tls is not None and res.http is not None and res.xmpp is not None
    web = res.tls.get(443)
    assert web is not None and web.protocols == ("TLSv1.2", "TLSv1.3")
    assert web.certificate is not None and web.certificate.trusted and web.certificate.hostname_match
    assert web.mozilla_intermediate == ()
    turns = res.tls.get(5349)
    assert turns is not None and turns.scanned and "TLSv1.0" not in turns.protocols
    assert res.http.plain is not None and res.http.plain.status == 301
    assert res.http.hsts is not None and res.http.hsts.include_subdomains
    assert not any(e.kind == "api" for e in res.http.endpoints if e.path.startswith(("/colibri", "/about")))
    assert res.xmpp.bosh is not None and res.xmpp.bosh.ok and "ANONYMOUS" not in res.xmpp.bosh.mechanisms
    # every TLS port's suites by elimination, none left to sslyze's per-suite scan or sampled (what keeps
    # the scan to a few dozen connections a port; its timings are benchmarks/run.py's, not a test's)
    scanned = [e for e in res.tls.endpoints if e.scanned]
    assert {e.port for e in scanned} >= {443, 5349} and all(e.suite_scan == "full" for e in scanned), scanned
    assert_no_canary(res, host)


def test_legacy_2020(lab_hosts: HostFactory) -> None:
    host = lab_hosts("legacy-2020")
    res, _ = probe(host)
    assert_exposure_matches_the_lab(res, host)
    assert res.exposure is not None and res.tls is not None and res.http is not None and res.xmpp is not None
    for port in (5222, 5280, 8080, 8888):
        state = res.exposure.get(port)
        assert state is not None and state.state == "open" and state.answer, port
    web = res.tls.get(443)
    assert web is not None and {"TLSv1.0", "TLSv1.1"} <= set(web.protocols)
    assert web.certificate is not None and web.certificate.self_signed
    c2s = res.tls.get(5222)
    assert c2s is not None and c2s.scanned and c2s.starttls == "xmpp"
    media = res.tls.get(4443)
    assert media is not None and media.status == "no_tls"  # the videobridge's TCP port is not TLS
    assert media.error is not None and media.error.startswith("not TLS: no TLS answer to two ClientHellos")
    assert [d.kind for d in res.http.direct] == ["bosh"]
    assert res.xmpp.bosh is not None and "ANONYMOUS" in res.xmpp.bosh.mechanisms
    assert res.xmpp.c2s is not None and res.xmpp.c2s.starttls_required is False
    assert_no_canary(res, host)


def test_expired_certificate(lab_hosts: HostFactory) -> None:
    res, _ = probe(lab_hosts("expired-cert"))
    assert res.tls is not None
    web = res.tls.get(443)
    assert web is not None and web.certificate is not None
    assert web.certificate.days_left < 0 and not web.certificate.trusted


def test_docker_style_with_intrusive_logins(lab_hosts: HostFactory) -> None:
    host = lab_hosts("docker-style")
    res, _ = probe(host, intrusive=True)
    assert res.tls is not None and res.http is not None and res.xmpp is not None
    web = res.tls.get(8443)
    assert web is not None and web.scanned and web.service == "web HTTPS"
    assert res.xmpp.domain == "meet.jitsi", "the XMPP domain comes from the public config.js"
    outcome = {a.account: a.outcome for a in res.xmpp.logins}
    assert outcome["jvb@auth.meet.jitsi"] == "accepted"  # JVB_AUTH_PASSWORD=passw0rd
    assert_no_canary(res, host)


def test_audit_with_ssh_collection_and_probes_side_by_side(lab_hosts: HostFactory) -> None:
    """What the CLI does: collect over SSH while probing, then judge both together."""
    from auditor.criteria import load_profile
    from auditor.engine import audit_snapshot
    from auditor.live import LiveOptions, collect_host
    from auditor.model import Rating, Status
    from auditor.registry import all_checks

    host = lab_hosts("legacy-2020")
    options = LiveOptions(known_hosts=Path(host.known_hosts), identity=Path(host.ssh_key), sudo=host.sudo_collector)
    with ThreadPoolExecutor(2) as pool:
        snap_f = pool.submit(collect_host, host.ssh_target, options)
        probes_f = pool.submit(run_probes, target(host), ProbeOptions())
        snapshot, probes = snap_f.result(timeout=120), probes_f.result(timeout=120)
    profile = load_profile("default")
    result = audit_snapshot(snapshot, profile, all_checks(profile.criterion_ids, with_plugins=False),
                            probes={LIVE_KEY: probes})
    found = {f.check_id: f for f in result.findings}
    for cid in ("live.tls_protocols", "live.internal_ports", "live.prosody_plain_http", "live.xmpp_anonymous",
                "live.xmpp_c2s_tls"):
        assert found[cid].status is Status.FAIL, (cid, found[cid].message)
    assert "ss: " in found["live.internal_ports"].message  # cross-checked with the sockets seen over SSH
    assert found["live.config_js_matches"].status is Status.PASS
    ratings = {c.id: c.rating for c in result.criteria}
    assert ratings["enc.in_transit"] in (Rating.PARTIALLY, Rating.NO)
    assert ratings["mgmt.central_control"] is Rating.NO
    text = json.dumps([probes.to_json(), [(f.message, [e.excerpt for e in f.evidence]) for f in result.findings]])
    for secret in [*host.canaries, *host.weak_secrets]:
        assert secret not in text
