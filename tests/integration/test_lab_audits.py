"""Every lab variant audited with the real CLI over real SSH and HTTPS: facts, ratings, failed checks.

The expectations come from what each variant is (tests/lab/variants.py and README): a hardened secure
domain, today's Debian defaults, a 2020 install never changed, token auth, a docker-jitsi-meet host,
an expired certificate, an unreadable prosody file, a host whose sshd is down, a slow link.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.lab import LabHost

pytestmark = pytest.mark.lab


def audit(host: LabHost, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    """Audit with the real CLI; `--sudo` (the installed collector) wherever the variant allows it."""
    out = tmp_path / f"{host.name}.json"
    if host.sudo_collector:
        extra = ("--sudo", *extra)
    cmd = [
        sys.executable, "-m", "auditor.cli",
        f"ssh://{host.ssh_user}@{host.address}:{host.ssh_port}",
        "-i", host.ssh_key, "--known-hosts", host.known_hosts,
        "--domain", host.domain, "--ca-bundle", host.ca_cert,
        "-f", "json", "-o", str(out), "-q", *extra,
    ]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    report = json.loads(out.read_text()) if out.exists() else {}
    return run.returncode, report, run.stderr


def target(report: dict[str, Any]) -> dict[str, Any]:
    targets = report["targets"]
    assert len(targets) == 1
    t: dict[str, Any] = targets[0]
    return t


def status(t: dict[str, Any], check_id: str) -> str:
    return next(str(f["status"]) for f in t["findings"] if f["check_id"] == check_id)


def rating(t: dict[str, Any], criterion: str) -> str:
    return next(str(c["rating"]) for c in t["criteria"] if c["id"] == criterion)


def message(t: dict[str, Any], check_id: str) -> str:
    return next(str(f["message"]) for f in t["findings"] if f["check_id"] == check_id)


def failed(t: dict[str, Any]) -> set[str]:
    return {f["check_id"] for f in t["findings"] if f["status"] == "fail"}


def test_hardened(lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    code, report, err = audit(lab_host("hardened"), tmp_path)
    t = target(report)
    assert t["complete"], err
    facts = t["facts"]
    assert facts["auth.main"] == "internal_hashed"
    assert facts["auth.secure_domain"] is True and facts["auth.guest_domain"] is True
    assert facts["lobby.enabled"] is True and facts["web.weak_tls"] is False and facts["web.hsts"] is True
    assert facts["jvb.rest_public"] is False and facts["secrets.weak_or_default"] is False
    assert t["host_key"]["fingerprint"].startswith("SHA256:")
    assert status(t, "live.tls_protocols") == "pass" and status(t, "live.xmpp_anonymous") != "fail"
    assert status(t, "live.internal_ports") == "pass"
    assert rating(t, "enc.algorithm") == "Fully" and rating(t, "mgmt.access_control") in ("Fully", "Partially")
    assert rating(t, "auth.rbac") == "Partially"
    assert not {f["check_id"] for f in t["findings"] if f["status"] == "fail" and f["severity"] in ("high", "critical")}
    assert code == 0, err


def test_debian_default(lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    code, report, err = audit(lab_host("debian-default"), tmp_path)
    t = target(report)
    facts = t["facts"]
    assert facts["auth.main"] == "anonymous" and facts["auth.secure_domain"] is False
    assert facts["privacy.third_party_stun"] is True  # the bridge's STUN mapping to meet-jit-si-turnrelay.jitsi.net
    assert facts["web.tls_protocols"] == ["TLSv1.2", "TLSv1.3"] and facts["web.weak_tls"] is False
    assert {"auth.room_creation_restricted", "live.xmpp_anonymous"} <= failed(t)
    assert rating(t, "auth.rbac") == "No"
    # Debian's prosody package ships conf.avail and conf.d 0754 root:prosody: the 0644 site file (TURN
    # secret) inside cannot be read by others, and the collector reports those directories' modes
    perms = next(f for f in t["findings"] if f["check_id"] == "secrets.file_permissions")
    listed = {e["path"] for e in perms["evidence"]}
    assert listed and not any(p.startswith("/etc/prosody/") for p in listed), listed
    assert code == 1, err


def test_legacy_2020(lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    code, report, err = audit(lab_host("legacy-2020"), tmp_path)  # no sudo on this host
    t = target(report)
    assert t["complete"], err
    facts = t["facts"]
    assert facts["auth.main"] == "anonymous"
    assert facts["web.weak_tls"] is True and "TLSv1" in facts["web.tls_protocols"]
    assert {
        "auth.service_accounts_hashed",  # internal_plain on the auth host
        "jicofo.always_trust_mode",  # ALWAYS_TRUST_MODE_ENABLED=true
        "web.tls_configuration",
        "live.tls_protocols",  # and the live port really accepts TLS 1.0/1.1
        "live.internal_ports",  # jicofo REST 8888 and prosody 5280 answer from outside
        "live.prosody_plain_http",
        "privacy.third_party_stun",
        "secrets.weak_or_default",
    } <= failed(t)
    assert rating(t, "enc.algorithm") == "Partially" and rating(t, "enc.at_rest_provider") == "No"
    assert rating(t, "mgmt.central_control") == "No"
    # coturn's config is root-only and there is no sudo here: the audit says it is incomplete.
    assert any("turnserver.conf: permission denied" in n for n in t["notes"])
    assert code == 3, err


def test_jwt(lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    code, report, err = audit(lab_host("jwt"), tmp_path)
    t = target(report)
    assert t["facts"]["auth.main"] == "jwt" and t["facts"]["auth.secure_domain"] is True
    assert status(t, "auth.token_sso") == "pass" and status(t, "jwt.empty_token_refused") == "pass"
    assert rating(t, "auth.sso") in ("Fully", "Partially")
    assert code in (0, 1), err


def test_docker_style_found_without_flags(lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    """The CONFIG volume and .env of a docker-jitsi-meet host are found by the collector itself."""
    code, report, err = audit(lab_host("docker-style"), tmp_path)
    t = target(report)
    roles = {c["role"] for c in t["collected"] if c["role"]}
    assert {"docker_env", "docker_compose", "config_js", "prosody_include", "jicofo_conf", "jvb_conf"} <= roles
    assert t["facts"]["auth.main"] == "anonymous"
    assert "docker.passwords_generated" in failed(t)  # one password left at docker's passw0rd
    # the web container's server blocks (CONFIG/web/nginx/site-confs/default, which nginx.conf includes as
    # /config/nginx/site-confs/*): without them "no HTTPS server block at all"
    sites = {c["key"] for c in t["collected"] if c["role"] == "nginx_site"}
    assert any(k.endswith("/web/nginx/site-confs/default") for k in sites), sites
    assert "served over plain HTTP" in message(t, "web.http_redirect")  # ENABLE_HTTP_REDIRECT=0
    # the certificate is for the public name (PUBLIC_URL), not for the internal XMPP domain meet.jitsi
    assert status(t, "cert.domain_coverage") == "pass", message(t, "cert.domain_coverage")
    # Debian's coturn package is installed (its stock turnserver.conf) but never started: not judged
    assert status(t, "turn.auth_secret") == "not_applicable", message(t, "turn.auth_secret")
    assert code == 1, err


def test_docker_style_web_front_on_its_own_ports(lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    """docker-jitsi-meet publishes HTTPS on 8443 and HTTP on 8000: --https-port/--http-port probe those."""
    host = lab_host("docker-style")
    assert host.web_port == 8443
    code, report, err = audit(host, tmp_path, "--https-port", "8443", "--http-port", "8000")
    live = target(report)["probes"]["live"]
    web = [e for e in live["tls"]["endpoints"] if e["service"] == "web HTTPS"]
    assert [(e["port"], e["status"]) for e in web] == [(8443, "ok")]
    assert web[0]["protocols"] and web[0]["certificate"]["hostname_match"] is True
    assert live["http"]["https"]["port"] == 8443 and live["http"]["https"]["status"] == 200
    assert live["http"]["plain"]["port"] == 8000
    # nginx serves config.js through SSI: the public file agrees with the one read over SSH
    t = target(report)
    assert status(t, "live.config_js_matches") == "pass", message(t, "live.config_js_matches")
    assert code == 1, err


def test_expired_certificate(lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    code, report, err = audit(lab_host("expired-cert"), tmp_path)
    t = target(report)
    assert {"cert.expiry", "live.tls_certificate"} <= failed(t)
    assert code == 1, err


def test_unreadable_config_is_incomplete_not_passed(lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    code, report, err = audit(lab_host("unreadable-config"), tmp_path)
    t = target(report)
    assert t["facts"]["auth.main"] is None
    assert status(t, "auth.room_creation_restricted") == "unclear"
    assert any("permission denied" in n for n in t["notes"])
    assert code == 3, err


def test_ssh_down_is_one_line_and_exit_3(lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    code, report, err = audit(lab_host("ssh-down"), tmp_path)
    t = target(report)
    assert not t["complete"] and t["error_stage"] == "connect"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "connect" in lines[0] and "Traceback" not in err
    assert code == 3


def test_slow_link_still_completes(lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    code, report, err = audit(lab_host("slow-link"), tmp_path)
    t = target(report)
    assert t["complete"], err
    assert t["facts"]["auth.main"] is not None
    assert code in (0, 1), err
