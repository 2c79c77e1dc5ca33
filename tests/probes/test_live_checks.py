"""The live checks and the profile rules, fed with real probe results from the loopback lab.

The configuration side is the `hardened` fixture tree (TLS 1.2+, HSTS, private videobridge API), so
probing the weak lab host must show both the live failures and the disagreements with that configuration.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import pytest

from auditor.criteria import load_profile
from auditor.engine import TargetResult, audit_snapshot
from auditor.model import Rating, Status
from auditor.probes import LIVE_KEY, ProbeOptions, ProbeResults, ProbeTarget, run_probes
from auditor.registry import all_checks
from auditor.snapshot import CollectedItem, ItemStatus
from auditor.transports.local import collect_local_dir
from tests.probes.servers import Host, ProbeLab

pytestmark = pytest.mark.filterwarnings("ignore:Parsed a serial number")

HARDENED = Path(__file__).resolve().parents[1] / "fixtures" / "hardened"
SS = (
    'tcp LISTEN 0 511 0.0.0.0:443 0.0.0.0:* users:(("nginx",pid=10,fd=6))\n'
    'tcp LISTEN 0 128 127.0.0.1:5280 0.0.0.0:* users:(("lua5.4",pid=11,fd=7))\n'
    'tcp LISTEN 0 128 0.0.0.0:5222 0.0.0.0:* users:(("lua5.4",pid=11,fd=6))\n'
)
LIVE_CHECKS = sorted(c.id for c in all_checks(with_plugins=False) if c.id.startswith("live."))
_RANK = {Rating.FULLY: 3, Rating.PARTIALLY: 2, Rating.NO: 1}


@cache
def _results(domain: str, address: str, ca: str, intrusive: bool) -> ProbeResults:
    return run_probes(ProbeTarget(domain, address, ca_bundle=ca, intrusive=intrusive),
                      ProbeOptions(connect_timeout=1.0, io_timeout=3.0))


def probed(host: Host, intrusive: bool = False) -> ProbeResults:
    return _results(host.domain, host.address, host.ca, intrusive)


def audit(probes: ProbeResults | dict[str, object] | None) -> TargetResult:
    profile = load_profile("default")
    snap = collect_local_dir(HARDENED)
    snap.add(CollectedItem("cmd:ss", "command", ItemStatus.OK, content=SS.encode(), exit_code=0))
    return audit_snapshot(snap, profile, all_checks(profile.criterion_ids, with_plugins=False),
                          probes=None if probes is None else {LIVE_KEY: probes})


def by_id(result: TargetResult) -> dict[str, tuple[Status, str]]:
    return {f.check_id: (f.status, f.message) for f in result.findings}


def ratings(result: TargetResult) -> dict[str, Rating]:
    return {c.id: c.rating for c in result.criteria}


def test_offline_audit_leaves_every_live_check_not_applicable() -> None:
    found = by_id(audit(None))
    assert LIVE_CHECKS and all(found[c] == (Status.NOT_APPLICABLE, "no live probes in an offline audit")
                                for c in LIVE_CHECKS)


def test_weak_host_fails_the_live_checks(probe_lab: ProbeLab) -> None:
    found = by_id(audit(probed(probe_lab.weak, intrusive=True)))
    failed = {c for c in LIVE_CHECKS if found[c][0] is Status.FAIL}
    assert {
        "live.tls_protocols", "live.tls_ciphers", "live.tls_certificate", "live.tls_mozilla_intermediate",
        "live.https_redirect", "live.hsts", "live.security_headers", "live.server_version",
        "live.config_js_secrets", "live.internal_endpoints", "live.internal_ports", "live.prosody_plain_http",
        "live.xmpp_anonymous", "live.xmpp_c2s_tls", "live.default_credentials", "live.config_agreement",
    } <= failed
    assert "port 443 (web HTTPS) accepts TLSv1.0, TLSv1.1" in found["live.tls_protocols"][1]
    assert "the nginx configuration allows TLSv1.2 TLSv1.3" in found["live.tls_protocols"][1]
    assert "self-signed" in found["live.tls_certificate"][1]
    assert "p2p.iceServers[0].credential (TURN credential" in found["live.config_js_secrets"][1]
    assert "/colibri/stats" in found["live.internal_endpoints"][1]
    ports = found["live.internal_ports"][1]
    assert "5222 (prosody XMPP client" in ports and "5280" in ports and "5269" in ports
    assert "ss: lua5.4 on 127.0.0.1" in ports, "the ss cross-check names the process and its bind address"
    assert "listen only on loopback according to ss" in ports
    assert "focus@auth." in found["live.default_credentials"][1]
    agreement = found["live.config_agreement"][1]
    assert "accepts TLSv1.0" in agreement
    assert "Strict-Transport-Security, but the live HTTPS answer has none" in agreement
    assert "internal APIs private" in agreement


def test_good_host_passes(probe_lab: ProbeLab) -> None:
    found = by_id(audit(probed(probe_lab.good)))
    for cid in ("live.tls_protocols", "live.tls_ciphers", "live.tls_certificate", "live.tls_certificate_key",
                "live.tls_vulnerabilities", "live.tls_mozilla_intermediate", "live.https_redirect", "live.hsts",
                "live.security_headers", "live.server_version", "live.config_js_secrets",
                "live.internal_endpoints", "live.internal_ports", "live.prosody_plain_http",
                "live.xmpp_anonymous", "live.xmpp_c2s_tls", "live.xmpp_endpoints"):
        assert found[cid][0] is Status.PASS, (cid, found[cid])
    assert found["live.default_credentials"] == (Status.NOT_APPLICABLE, "intrusive probes not enabled (--intrusive)")
    assert found["live.tls_ocsp_stapling"][0] is Status.NOT_APPLICABLE
    # The fixture's config.js is another deployment's: the mismatch is reported by setting name (when the
    # SSH copy parsed; otherwise there is nothing to compare with).
    status, message = found["live.config_js_matches"]
    assert (status is Status.FAIL and "differs from /etc/jitsi/meet/meet.hardened.example.org-config.js" in message) or (
        status is Status.NOT_APPLICABLE and message == "no config.js was read over SSH to compare with")


def test_agreement_with_part_of_the_configuration_unreadable_is_unclear(probe_lab: ProbeLab) -> None:
    # the comparisons whose configuration side is unknown are skipped: "no disagreement" would only
    # cover what could be compared
    include = "/etc/prosody/conf.d/meet.hardened.example.org.cfg.lua"
    profile = load_profile("default")

    def agreement(unreadable: bool) -> tuple[Status, str]:
        snap = collect_local_dir(HARDENED)
        del snap.items["/etc/jitsi/meet/meet.hardened.example.org-config.js"]  # another deployment's
        snap.add(CollectedItem("cmd:ss", "command", ItemStatus.OK, content=SS.encode(), exit_code=0))
        if unreadable:
            snap.add(CollectedItem(include, "file", ItemStatus.PERMISSION_DENIED, None, mode=0o600,
                                   error="permission denied"))
        result = audit_snapshot(snap, profile, all_checks(profile.criterion_ids, with_plugins=False),
                                probes={LIVE_KEY: probed(probe_lab.good)})
        return by_id(result)["live.config_agreement"]

    assert agreement(False)[0] is Status.PASS, agreement(False)
    status, message = agreement(True)
    assert status is Status.UNCLEAR and include in message, message


def test_an_unreadable_config_js_is_named_where_it_matters_and_only_there(probe_lab: ProbeLab) -> None:
    config_js = "/etc/jitsi/meet/meet.hardened.example.org-config.js"
    profile = load_profile("default")
    snap = collect_local_dir(HARDENED)
    snap.add(CollectedItem("cmd:ss", "command", ItemStatus.OK, content=SS.encode(), exit_code=0))
    snap.add(CollectedItem(config_js, "file", ItemStatus.PERMISSION_DENIED, None, mode=0o600, error="permission denied"))
    res = dataclasses.replace(probed(probe_lab.good), exposure=None)  # the exposure checks go unclear
    found = by_id(audit_snapshot(snap, profile, all_checks(profile.criterion_ids, with_plugins=False),
                                 probes={LIVE_KEY: res}))
    status, message = found["live.config_js_matches"]  # nothing to compare with yet: not "not applicable"
    assert status is Status.UNCLEAR and config_js in message, message
    # the checks that judge probe answers alone do not blame the file for being unclear
    live_unclear = {c: m for c, (s, m) in found.items() if c.startswith("live.") and s is Status.UNCLEAR
                    and c != "live.config_js_matches"}
    assert live_unclear and not [c for c, m in live_unclear.items() if "could not be read" in m], live_unclear
    assert "could not be read or parsed" in found["web.analytics"][1] or config_js in found["web.analytics"][1]


def test_expired_certificate_fails(probe_lab: ProbeLab) -> None:
    found = by_id(audit(probed(probe_lab.expired)))
    assert found["live.tls_certificate"][0] is Status.FAIL
    assert "expired 30 day(s) ago" in found["live.tls_certificate"][1] or "expired 31" in found[
        "live.tls_certificate"][1]


def test_live_failures_downgrade_and_failed_probes_never_upgrade(probe_lab: ProbeLab) -> None:
    baseline = ratings(audit(None))
    weak = ratings(audit(probed(probe_lab.weak, intrusive=True)))
    for cid in ("enc.algorithm", "enc.in_transit", "enc.all_channels", "enc.key_strength", "auth.rbac",
                "mgmt.central_control"):
        assert weak[cid] in (Rating.PARTIALLY, Rating.NO), (cid, weak[cid])
        if baseline[cid] in _RANK:
            assert _RANK[weak[cid]] <= _RANK[baseline[cid]]
    assert weak["mgmt.central_control"] is Rating.NO
    assert weak["auth.rbac"] is Rating.NO
    nothing = run_probes(ProbeTarget("does-not-exist.invalid"), ProbeOptions(connect_timeout=0.5))
    failed = audit(nothing)
    assert ratings(failed) == baseline
    unclear = {f.check_id for f in failed.findings if f.status is Status.UNCLEAR}
    assert {c for c in LIVE_CHECKS if c not in ("live.default_credentials", "live.config_agreement")} <= unclear
    assert all("cannot resolve" in f.message for f in failed.findings if f.check_id == "live.tls_protocols")


def test_a_timed_out_probe_leaves_its_checks_unclear_with_the_reason(probe_lab: ProbeLab) -> None:
    res = probed(probe_lab.good)
    runs = tuple(dataclasses.replace(r, status="timeout", reason="no result within 45 s")
                 if r.name == "tls" else r for r in res.runs)
    found = by_id(audit(dataclasses.replace(res, runs=runs, tls=None)))
    assert found["live.tls_protocols"] == (Status.UNCLEAR,
                                           "cannot tell: the tls probe timed out: no result within 45 s")
    assert found["live.hsts"][0] is Status.PASS


def test_results_loaded_from_json_are_judged_the_same(probe_lab: ProbeLab) -> None:
    res = probed(probe_lab.weak)
    assert by_id(audit(res.to_json())) == by_id(audit(res))


def test_without_a_web_front_anonymous_login_is_judged_on_port_5222(probe_lab: ProbeLab) -> None:
    """A signalling host of a split deployment has no BOSH behind a web front: SASL ANONYMOUS offered on
    5222 is as open; mechanisms that leave it out prove nothing (STARTTLS may hide them)."""
    from auditor.probes.model import StreamInfo

    res = probed(probe_lab.weak)
    found = res.xmpp
    assert found is not None
    refused = StreamInfo("bosh", found.domain, ok=False, error="Connection refused")

    def judged(mechanisms: tuple[str, ...]) -> tuple[Status, str]:
        c2s = StreamInfo("c2s", found.domain, ok=True, mechanisms=mechanisms, starttls=True, starttls_required=False)
        xmpp = dataclasses.replace(found, bosh=refused, c2s=c2s)
        return by_id(audit(dataclasses.replace(res, xmpp=xmpp)))["live.xmpp_anonymous"]

    status, message = judged(("PLAIN", "ANONYMOUS"))
    assert status is Status.FAIL and "offers SASL ANONYMOUS on port 5222" in message
    assert judged(("PLAIN", "SCRAM-SHA-1")) == (Status.UNCLEAR, "cannot tell: no BOSH session (Connection refused)")
