"""Judgement calls of two foundation checks, on the hardened inline deployment with one setting changed.

- xmpp.c2s_encryption with c2s_require_encryption = false: fail only where the evidence shows 5222
  reachable (ss listeners, else c2s_interfaces or interfaces naming loopback only, else the live exposure
  probe), pass where it shows it is not, unclear (with the reason) where nothing tells.
- auth.room_creation_restricted: an anonymous-style provider fails, known authenticating ones pass, an
  unknown provider is unclear and named.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from auditor.criteria import load_profile
from auditor.engine import audit_snapshot
from auditor.model import Finding, Status
from auditor.probes.model import LIVE_KEY, ExposureResult, PortState, ProbeResults, ProbeRun, RunStatus
from auditor.registry import all_checks
from tests.checks.base import ENV, ENV_TEXT, PROSODY_MAIN, PROSODY_SITE, apply, base_files, findings, snapshot

C2S_OFF = ((PROSODY_SITE, "    c2s_require_encryption = true\n    lobby_muc", "    c2s_require_encryption = false\n    lobby_muc"),)
SS_PUBLIC = (
    'tcp LISTEN 0 128 0.0.0.0:5222 0.0.0.0:* users:(("lua5.4",pid=812,fd=9))\n'
    'tcp LISTEN 0 511 0.0.0.0:443 0.0.0.0:* users:(("nginx",pid=90,fd=6))\n'
)
SS_LOOPBACK = (
    'tcp LISTEN 0 128 127.0.0.1:5222 0.0.0.0:* users:(("lua5.4",pid=812,fd=9))\n'
    'tcp LISTEN 0 511 0.0.0.0:443 0.0.0.0:* users:(("nginx",pid=90,fd=6))\n'
)


def _c2s(commands: Mapping[str, str] | None = None, probes: ProbeResults | None = None) -> Finding:
    snap = snapshot(apply(base_files(), C2S_OFF), commands=commands)
    profile = load_profile("default")
    checks = all_checks(profile.criterion_ids, with_plugins=False)
    result = audit_snapshot(snap, profile, checks, probes={LIVE_KEY: probes} if probes is not None else None)
    return {f.check_id: f for f in result.findings}["xmpp.c2s_encryption"]


def _probes(state: str | None, run: RunStatus = "ok") -> ProbeResults:
    ports = (PortState("tcp", 5222, state, "prosody c2s"),) if state else ()
    return ProbeResults(
        domain="meet.example.org",
        address="192.0.2.1",
        vantage="external",
        intrusive=False,
        started_at="2026-01-01T00:00:00+00:00",
        seconds=1.0,
        runs=(ProbeRun("exposure", run, None if run == "ok" else "connection refused"),),
        exposure=ExposureResult(ports),
    )


def test_c2s_required_passes() -> None:
    finding = findings(snapshot(base_files()))["xmpp.c2s_encryption"]
    assert finding.status is Status.PASS, finding.message


def test_c2s_optional_with_unknown_reachability_is_unclear_with_the_reason() -> None:
    finding = _c2s()
    assert finding.status is Status.UNCLEAR, finding.message
    assert "5222" in finding.message and "unknown" in finding.message
    assert PROSODY_SITE in {e.location.path for e in finding.evidence}


def test_c2s_optional_and_5222_listening_publicly_fails() -> None:
    finding = _c2s({"ss": SS_PUBLIC})
    assert finding.status is Status.FAIL, finding.message
    assert "5222" in finding.message


def test_c2s_optional_and_5222_on_loopback_only_passes() -> None:
    finding = _c2s({"ss": SS_LOOPBACK})
    assert finding.status is Status.PASS, finding.message


def _c2s_bound(setting: str, commands: Mapping[str, str] | None = None) -> Finding:
    files = apply(base_files(), (*C2S_OFF, (PROSODY_MAIN, "allow_registration = false\n", f"allow_registration = false\n{setting}\n")))
    return {f.check_id: f for f in findings(snapshot(files, commands=commands)).values()}["xmpp.c2s_encryption"]


def test_c2s_optional_but_bound_to_loopback_by_configuration_passes() -> None:
    finding = _c2s_bound('c2s_interfaces = { "127.0.0.1", "::1" }')
    assert finding.status is Status.PASS, finding.message
    assert "c2s_interfaces = { 127.0.0.1, ::1 } binds port 5222 to loopback" in finding.message
    assert PROSODY_MAIN in {e.location.path for e in finding.evidence}
    # the listeners ss saw outweigh the configuration; a broad c2s_interfaces outweighs `interfaces`
    assert _c2s_bound('c2s_interfaces = { "127.0.0.1" }', {"ss": SS_PUBLIC}).status is Status.FAIL
    assert _c2s_bound('interfaces = { "127.0.0.1" }').status is Status.PASS
    assert _c2s_bound('interfaces = { "127.0.0.1" }\nc2s_interfaces = { "*" }').status is Status.UNCLEAR


@pytest.mark.parametrize(("state", "status"), [("open", Status.FAIL), ("filtered", Status.PASS), ("closed", Status.PASS)])
def test_c2s_optional_judged_by_the_live_exposure_probe_without_listeners(state: str, status: Status) -> None:
    finding = _c2s(probes=_probes(state))
    assert finding.status is status, finding.message
    assert "live:exposure/tcp/5222" in {e.location.path for e in finding.evidence}


def test_c2s_optional_with_a_failed_exposure_probe_is_unclear_naming_the_probe() -> None:
    finding = _c2s(probes=_probes(None, run="failed"))
    assert finding.status is Status.UNCLEAR, finding.message
    assert "exposure probe" in finding.message


def test_c2s_listeners_outrank_the_probe() -> None:
    # ss shows the socket bound to 0.0.0.0: fail although the probe (e.g. from inside a firewall) saw it closed
    assert _c2s({"ss": SS_PUBLIC}, probes=_probes("closed")).status is Status.FAIL


AUTH_LINE = 'authentication = "internal_hashed"\n    modules_enabled = {\n        "bosh"'


def _room_creation(provider: str) -> Finding:
    edit = (PROSODY_SITE, AUTH_LINE, AUTH_LINE.replace("internal_hashed", provider))
    return findings(snapshot(apply(base_files(), (edit,))))["auth.room_creation_restricted"]


@pytest.mark.parametrize("provider", ["anonymous", "jitsi-anonymous"])
def test_anonymous_providers_fail(provider: str) -> None:
    assert _room_creation(provider).status is Status.FAIL


@pytest.mark.parametrize(
    "provider", ["internal_hashed", "internal_plain", "cyrus", "ldap", "token", "matrix_user_verification"]
)
def test_known_authenticating_providers_pass(provider: str) -> None:
    finding = _room_creation(provider)
    assert finding.status is Status.PASS, finding.message


def test_unknown_provider_is_unclear_and_named() -> None:
    finding = _room_creation("http_async")
    assert finding.status is Status.UNCLEAR, finding.message
    assert '"http_async"' in finding.message
    assert PROSODY_SITE in {e.location.path for e in finding.evidence}


def _docker(auth_type: str, prosody_auth_type: str | None = None, check: str = "auth.room_creation_restricted"
            ) -> Finding:
    text = ENV_TEXT
    for line in [ln for ln in text.splitlines() if ln.startswith(("ENABLE_AUTH=", "AUTH_TYPE="))]:
        text = text.replace(line + "\n", "")
    env = text + f"ENABLE_AUTH=1\nAUTH_TYPE={auth_type}\n"
    if prosody_auth_type is not None:
        env += f"PROSODY_AUTH_TYPE={prosody_auth_type}\n"
    return findings(snapshot({ENV: env}))[check]


@pytest.mark.parametrize(("auth_type", "status"), [("matrix", Status.PASS), ("internal", Status.PASS), ("saml", Status.UNCLEAR)])
def test_docker_auth_types(auth_type: str, status: Status) -> None:
    finding = _docker(auth_type)
    assert finding.status is status, finding.message
    if status is Status.UNCLEAR:
        assert '"saml"' in finding.message


def test_docker_prosody_auth_type_wins_over_auth_type() -> None:
    """docker-jitsi-meet's prosody template: PROSODY_AUTH_TYPE, default AUTH_TYPE."""
    assert _docker("internal", "saml").status is Status.UNCLEAR  # prosody runs the unknown provider
    assert _docker("saml", "internal").status is Status.PASS
    assert _docker("internal", "jwt", "jwt.signing_keys").status is not Status.NOT_APPLICABLE
    assert _docker("jwt", "internal", "jwt.signing_keys").status is Status.NOT_APPLICABLE
    assert _docker("internal", "").status is Status.PASS  # set but empty: AUTH_TYPE applies
