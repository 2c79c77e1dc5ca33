"""The foundation checks (checks/authentication, rooms, transport, privacy, exposure, secrets, recording)
each pass on the hardened inline deployment and fail on a one-line change of the real setting, with the
evidence pointing at the file that decides it. The catalogue checks have their own cases."""

from __future__ import annotations

import importlib

import pytest

from auditor.registry import checks_in_module
from tests.checks.base import CONFIG_JS, JVB, NGINX, PROSODY_SITE, Edit, apply, base_files, findings, snapshot

FOUNDATION = ("authentication", "rooms", "transport", "privacy", "exposure", "secrets", "recording")
SITE_AUTH = 'authentication = "internal_hashed"\n    modules_enabled = {\n        "bosh"'

# check id -> (edits that make it fail, the file its failing evidence names)
FAILS: dict[str, tuple[tuple[Edit, ...], str | None]] = {
    "auth.room_creation_restricted": (((PROSODY_SITE, SITE_AUTH, SITE_AUTH.replace("internal_hashed", "jitsi-anonymous")),), PROSODY_SITE),
    "auth.secure_domain": (((PROSODY_SITE, SITE_AUTH, SITE_AUTH.replace("internal_hashed", "jitsi-anonymous")),), None),
    "auth.service_accounts_hashed": (((PROSODY_SITE, SITE_AUTH, SITE_AUTH.replace("internal_hashed", "internal_plain")),), PROSODY_SITE),
    "rooms.lobby_available": (((PROSODY_SITE, '        "muc_lobby_rooms";\n', ""),), None),
    "rooms.welcome_page_open": (((PROSODY_SITE, SITE_AUTH, SITE_AUTH.replace("internal_hashed", "jitsi-anonymous")), (CONFIG_JS, "welcomePage: { disabled: true }", "welcomePage: { disabled: false }")), CONFIG_JS),
    "privacy.e2ee_available": (((CONFIG_JS, "e2ee: { disabled: false }", "e2ee: { disabled: true }"),), CONFIG_JS),
    "exposure.jvb_rest_api": (((JVB, "    private {\n      host = 127.0.0.1\n    }", "    private {\n      host = 0.0.0.0\n    }"), (JVB, "  apis {\n", "  apis {\n    rest { enabled = true }\n")), JVB),
    "web.tls_configuration": (((NGINX, "ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;"),), NGINX),
    "xmpp.c2s_encryption": (((PROSODY_SITE, "    c2s_require_encryption = true\n    lobby_muc", "    c2s_require_encryption = false\n    lobby_muc"),), PROSODY_SITE),
}
# Evidence beside the files that a failure needs: c2s without required TLS fails only where 5222 is reachable.
COMMANDS: dict[str, dict[str, str]] = {
    "xmpp.c2s_encryption": {"ss": 'tcp LISTEN 0 128 0.0.0.0:5222 0.0.0.0:* users:(("lua5.4",pid=812,fd=9))\n'},
}


def _foundation_ids() -> set[str]:
    return {c.id for name in FOUNDATION for c in checks_in_module(importlib.import_module(f"checks.{name}"))}


def test_the_hardened_base_passes_the_foundation_security_checks() -> None:
    found = findings(snapshot(base_files()))
    for check_id in FAILS:
        assert found[check_id].status.value == "pass", f"{check_id}: {found[check_id].message}"


@pytest.mark.parametrize("check_id", sorted(FAILS))
def test_a_one_line_change_fails_it(check_id: str) -> None:
    edits, path = FAILS[check_id]
    files = apply(base_files(), edits)
    finding = findings(snapshot(files, commands=COMMANDS.get(check_id)))[check_id]
    assert finding.status.value == "fail", f"{check_id}: {finding.message}"
    if path is not None:
        assert path in {e.location.path for e in finding.evidence}, finding.evidence


def test_the_listed_checks_are_foundation_checks() -> None:
    assert set(FAILS) <= _foundation_ids() | {"web.tls_configuration", "xmpp.c2s_encryption"}


def test_weak_tls_names_what_is_weak() -> None:
    """Only the deprecated protocols are called weak: TLS 1.2 beside them is listed, not blamed."""
    files = apply(base_files(), FAILS["web.tls_configuration"][0])
    finding = findings(snapshot(files))["web.tls_configuration"]
    assert finding.message.startswith("weak TLS allowed: deprecated protocols TLSv1, TLSv1.1 (protocols: ")
    ciphers = apply(base_files(), ((NGINX, "ssl_ciphers ", "ssl_ciphers RC4-SHA:"),))
    finding = findings(snapshot(ciphers))["web.tls_configuration"]
    assert finding.status.value == "fail" and finding.message.startswith("weak TLS allowed: weak cipher suites")


def test_a_prosody_without_a_jitsi_host_says_so() -> None:
    """A stock prosody.cfg.lua (only localhost): the reason is that, not 'no prosody configuration'."""
    main = "/etc/prosody/prosody.cfg.lua"
    finding = findings(snapshot({main: base_files()[main]}))["auth.room_creation_restricted"]
    assert finding.status.value == "unclear"
    assert "the prosody configuration has no VirtualHost besides localhost" in finding.message


def test_a_jitsi_host_file_the_main_configuration_does_not_include_is_named() -> None:
    """Upstream's prosody.cfg.lua.dist has no Include line: the Jitsi file is collected but not loaded."""
    main, site = "/etc/prosody/prosody.cfg.lua", PROSODY_SITE
    files = base_files()
    text = files[main].replace('Include "conf.d/*.cfg.lua"\n', "")
    assert text != files[main]
    finding = findings(snapshot({main: text, site: files[site]}))["auth.room_creation_restricted"]
    assert finding.status.value == "unclear"
    assert f"{site} defines VirtualHost 'meet.example.org', but {main} does not include it" in finding.message
