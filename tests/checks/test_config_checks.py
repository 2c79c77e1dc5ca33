"""Every configuration check of the catalogue passes, fails (and where it applies, is unclear or not
applicable) on realistic inline configuration, with its evidence pointing at the file and line.

CASES is the registry the coverage test reads: each check id of the catalogue modules needs a pass and a
fail case (the few that cannot pass or fail by design are listed in NO_PASS / NO_FAIL with the reason).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import pytest

from auditor.registry import checks_in_module
from tests.checks.base import (
    APACHE_MAIN,
    APACHE_SECURITY,
    APACHE_SITE,
    APACHE_SSL,
    CERT,
    COMPOSE,
    COMPOSE_TEXT,
    CONFIG_JS,
    ENV,
    ENV_TEXT,
    FINDMNT_ENCRYPTED,
    FOCUS_PW,
    INTERFACE_JS,
    JIBRI,
    JIBRI_TEXT,
    JICOFO,
    JICOFO_PROPS,
    JVB,
    JVB_PROPS,
    JVB_PW,
    JWT_SECRET,
    JWT_SITE_EDITS,
    LDAP_CONF,
    LDAP_PW,
    LDAP_SITE_EDITS,
    LSBLK_ENCRYPTED,
    NGINX,
    PROSODY_MAIN,
    PROSODY_SITE,
    SASL,
    SASL_TEXT,
    TURN,
    D,
    Edit,
    apache_files,
    apply,
    base_files,
    findings,
    make_cert,
    snapshot,
)

CATALOGUE_MODULES = (
    "room_policy", "jwt", "sso", "ldap", "moderation", "prosody_tls", "jicofo", "videobridge",
    "web_client", "nginx", "certificates", "coturn", "jibri", "secret_hygiene", "docker_env",
)  # fmt: skip
NO_PASS = {"sso.mfa_delegated": "MFA at the identity provider is never visible: unclear (declare it) or fail"}
NO_FAIL: dict[str, str] = {}


def _variant(name: str) -> dict[str, str]:
    files = base_files()
    if name == "jwt":
        return apply(files, JWT_SITE_EDITS)
    if name == "ldap":
        return {**apply(files, LDAP_SITE_EDITS), SASL: SASL_TEXT}
    if name == "jibri":
        return {**files, JIBRI: JIBRI_TEXT}
    if name == "docker":
        return {ENV: ENV_TEXT, COMPOSE: COMPOSE_TEXT}
    if name == "stock-prosody":  # a prosody.cfg.lua that serves only localhost, nothing of Jitsi beside it
        return {PROSODY_MAIN: files[PROSODY_MAIN]}
    if name == "docker-web":  # the web container's CONFIG volume too: XMPP domain meet.jitsi, public name D
        return {ENV: ENV_TEXT, COMPOSE: COMPOSE_TEXT, DOCKER_JS: DOCKER_JS_TEXT, DOCKER_CERT: make_cert(sans=(D,))}
    if name == "apache":
        return apache_files()
    assert name == "base"
    return files


@dataclass(frozen=True)
class Case:
    check: str
    status: str
    edits: tuple[Edit, ...] = ()
    msg: str = ""
    where: tuple[str, str | None] | None = None  # (path, first line containing this text; None: no line)
    variant: str = "base"
    commands: tuple[tuple[str, str], ...] = ()
    modes: tuple[tuple[str, int | None], ...] = ()
    packages: tuple[tuple[str, str], ...] = ()
    drop: tuple[str, ...] = field(default=())
    denied: tuple[str, ...] = ()  # collected but unreadable
    missing: tuple[str, ...] = ()  # named (by the plan or a configuration) but not on the host

    @property
    def id(self) -> str:
        return f"{self.check}-{self.status}-{self.msg[:24]}"


def _sub(path: str, old: str, new: str) -> Edit:
    return (path, old, new)


REC = (("lsblk", LSBLK_ENCRYPTED), ("findmnt", FINDMNT_ENCRYPTED))
DOCKER_JS = "/srv/jitsi-cfg/web/config.js"
DOCKER_CERT = "/srv/jitsi-cfg/web/keys/cert.crt"
DOCKER_JS_TEXT = (
    "var config = {};\nconfig.hosts = {};\nconfig.hosts.domain = 'meet.jitsi';\n"
    f"config.bosh = 'https://{D}/http-bind';\n"
)
_ENV_JVB_PW, _ENV_JICOFO_PW = "7a1e3f5c9b2d4e6f8a0c2e4b6d8f1a3c", "3f9c2a7d8e1b4c6a9f0e2d4b6c8a1e3f"  # in ENV_TEXT
DOCKER_JVB = "/srv/jitsi-cfg/jvb/jvb.conf"
DOCKER_JVB_TEXT = (  # docker-jitsi-meet jvb/rootfs/defaults/jvb.conf, rendered
    "videobridge {\n  apis {\n    xmpp-client {\n      configs {\n        shard0 {\n"
    '          HOSTNAME = "xmpp.meet.jitsi"\n          DOMAIN = "auth.meet.jitsi"\n          USERNAME = "jvb"\n'
    f'          PASSWORD = "{_ENV_JVB_PW}"\n'
    "        }\n      }\n    }\n  }\n}\n"
)
DOCKER_JICOFO = "/srv/jitsi-cfg/jicofo/jicofo.conf"
DOCKER_JICOFO_TEXT = (  # docker-jitsi-meet jicofo/rootfs/defaults/jicofo.conf, rendered with ENABLE_JVB_XMPP_SERVER
    "jicofo {\n  xmpp {\n    client {\n      username = \"focus\"\n"
    f'      password = "{_ENV_JICOFO_PW}"\n'
    "    }\n    service {\n      username = \"focus\"\n"
    f'      password = "{_ENV_JICOFO_PW}"\n'
    "    }\n  }\n}\n"
)
# the non-comment lines of the turnserver.conf that Debian's coturn 4.6 package installs
STOCK_TURN = "syslog\nno-rfc5780\nno-stun-backward-compatibility\nresponse-origin-only-with-rfc5780\n"
SS_NO_TURN = (
    'tcp LISTEN 0 511 0.0.0.0:443 0.0.0.0:* users:(("nginx",pid=7,fd=6))\n'
    'udp UNCONN 0 0 0.0.0.0:10000 0.0.0.0:* users:(("java",pid=9,fd=50))\n'
    'tcp LISTEN 0 128 127.0.0.1:5222 0.0.0.0:* users:(("lua5.4",pid=8,fd=7))\n'
)
# the host's process names (/proc/<pid>/comm); coturn in a container with its own network: no socket in ss
PS_NO_TURN = "systemd\nkthreadd\nsshd\nnginx\njava\nlua5.4\ndockerd\ncontainerd-shim\n"
PS_TURN = PS_NO_TURN + "turnserver\n"
_MAIN_HEAD = "-- Prosody configuration for a single Jitsi Meet host.\n"
_COMMENTED_SECRETS = ('--sql = { driver = "MySQL", username = "prosody", password = "secret" }\n'
                      '--\tcomponent_secret = "password"\n')
CONF_MUC = f'Component "conference.{D}"'

CASES: list[Case] = [
    # -- room policy --------------------------------------------------------------------------------
    Case("rooms.restrict_room_creation", "pass", where=(PROSODY_SITE, "restrict_room_creation = true")),
    Case("rooms.restrict_room_creation", "fail", (_sub(PROSODY_SITE, "    restrict_room_creation = true\n    storage = \"memory\"\n    modules_enabled", "    storage = \"memory\"\n    modules_enabled"),), "CVE-2021-33506", (PROSODY_SITE, CONF_MUC)),
    Case("rooms.restrict_room_creation", "unclear", msg="permission denied", denied=(PROSODY_MAIN, PROSODY_SITE)),
    Case("auth.guest_domain_consistent", "pass", msg=f"guest.{D}", where=(CONFIG_JS, "anonymousdomain")),
    Case("auth.guest_domain_consistent", "fail", (_sub(PROSODY_SITE, 'authentication = "internal_hashed"\n    modules_enabled = {\n        "bosh"', 'authentication = "jitsi-anonymous"\n    modules_enabled = {\n        "bosh"'),), "anonymous too", (CONFIG_JS, "anonymousdomain")),
    Case("auth.guest_domain_consistent", "fail", (_sub(CONFIG_JS, f"anonymousdomain: 'guest.{D}'", f"anonymousdomain: 'visitors.{D}'"),), "no such VirtualHost", (CONFIG_JS, "anonymousdomain")),
    Case("auth.guest_domain_consistent", "not_applicable", (_sub(CONFIG_JS, f"        anonymousdomain: 'guest.{D}',\n", ""), _sub(PROSODY_SITE, f'VirtualHost "guest.{D}"\n    authentication = "jitsi-anonymous"\n', "")), "no guest domain"),
    Case("auth.jicofo_login_url", "pass", where=(JICOFO, "login-url")),
    Case("auth.jicofo_login_url", "fail", (_sub(JICOFO, f'login-url = "{D}"', f'login-url = "auth.{D}"'),), "internal service-account", (JICOFO, "login-url")),
    Case("auth.jicofo_login_url", "fail", (_sub(JICOFO, f'login-url = "{D}"', f'login-url = "guest.{D}"'),), "anyone becomes a host", (JICOFO, "login-url")),
    Case("auth.jicofo_login_url", "pass", ((JICOFO, "", None), (JICOFO_PROPS, "", f"org.jitsi.jicofo.auth.URL=XMPP:{D}\n")), "jicofo logins go to", (JICOFO_PROPS, "auth.URL")),
    Case("auth.jicofo_login_url", "not_applicable", variant="jwt", msg="not enabled"),
    Case("auth.registration_closed", "pass"),
    Case("auth.registration_closed", "unclear", msg="part of the prosody configuration", denied=(PROSODY_SITE,)),
    Case("xmpp.admins", "unclear", msg="part of the prosody configuration", denied=(PROSODY_SITE,)),
    Case("auth.registration_closed", "fail", (_sub(PROSODY_MAIN, "allow_registration = false", "allow_registration = true"),), "registration is open", (PROSODY_MAIN, "allow_registration")),
    # -- JWT ---------------------------------------------------------------------------------------------
    Case("jwt.signing_keys", "pass", variant="jwt", where=(PROSODY_SITE, "asap_key_server")),
    Case("jwt.signing_keys", "fail", (_sub(PROSODY_SITE, f'asap_key_server = "https://keys.{D}/asap"', 'app_secret = "changeme"'),), "default", (PROSODY_SITE, "app_secret"), "jwt"),
    Case("jwt.signing_keys", "pass", (_sub(PROSODY_SITE, f'asap_key_server = "https://keys.{D}/asap"', f'app_secret = "{JWT_SECRET}"'),), "strong HS256", (PROSODY_SITE, "app_secret"), "jwt"),
    Case("jwt.signing_keys", "not_applicable", msg="no VirtualHost uses token"),
    Case("jwt.signing_keys", "fail", ((ENV, "ENABLE_AUTH=1", "ENABLE_AUTH=1\nJWT_APP_SECRET=s3cr37"), (ENV, "AUTH_TYPE=internal", "AUTH_TYPE=jwt")), "JWT_APP_SECRET", (ENV, "JWT_APP_SECRET"), "docker"),
    Case("jwt.asymmetric_keys", "pass", variant="jwt", where=(PROSODY_SITE, "asap_key_server")),
    Case("jwt.asymmetric_keys", "fail", (_sub(PROSODY_SITE, f'asap_key_server = "https://keys.{D}/asap"', f'app_secret = "{JWT_SECRET}"'),), "shared HS256", (PROSODY_SITE, "app_secret"), "jwt"),
    Case("jwt.empty_token_refused", "pass", variant="jwt"),
    Case("jwt.empty_token_refused", "fail", (_sub(PROSODY_SITE, "allow_empty_token = false", "allow_empty_token = true"),), "without a token", (PROSODY_SITE, "allow_empty_token"), "jwt"),
    Case("jwt.accepted_issuers_audiences", "pass", variant="jwt"),
    Case("jwt.accepted_issuers_audiences", "fail", (_sub(PROSODY_SITE, 'asap_accepted_audiences = { "jitsi" }', 'asap_accepted_audiences = { "*" }'),), "include *", (PROSODY_SITE, "asap_accepted_audiences"), "jwt"),
    Case("jwt.accepted_issuers_audiences", "fail", (_sub(PROSODY_SITE, '    asap_accepted_audiences = { "jitsi" }\n', ""),), "default *", (PROSODY_SITE, f'VirtualHost "{D}"'), "jwt"),
    Case("jwt.token_verification", "pass", variant="jwt", where=(PROSODY_SITE, CONF_MUC)),
    Case("jwt.token_verification", "fail", (_sub(PROSODY_SITE, '\n        "token_verification";', ""),), "any token opens any room", (PROSODY_SITE, CONF_MUC), "jwt"),
    # -- SSO ---------------------------------------------------------------------------------------------
    Case("sso.legacy_shibboleth", "pass"),
    Case("sso.legacy_shibboleth", "fail", ((JICOFO_PROPS, "", "org.jitsi.jicofo.auth.URL=shibboleth:default\n"),), "Shibboleth", (JICOFO_PROPS, "shibboleth")),
    Case("sso.legacy_shibboleth", "unclear", msg="permission denied", denied=(JICOFO,)),
    Case("sso.token_auth_url", "pass", variant="jwt", msg=f"sso.{D}", where=(CONFIG_JS, "tokenAuthUrl")),
    Case("sso.token_auth_url", "fail", (_sub(CONFIG_JS, f"tokenAuthUrl: 'https://sso.{D}", f"tokenAuthUrl: 'http://sso.{D}"),), "plain HTTP", (CONFIG_JS, "tokenAuthUrl"), "jwt"),
    Case("sso.token_auth_url", "unclear", (_sub(CONFIG_JS, f"\n    tokenAuthUrl: 'https://sso.{D}/login?room={{room}}',", ""),), "without tokenAuthUrl", variant="jwt"),
    Case("sso.token_auth_url", "not_applicable", msg="no token authentication"),
    Case("sso.mfa_delegated", "fail", msg="no identity provider", where=(PROSODY_SITE, 'authentication = "internal_hashed"')),
    Case("sso.mfa_delegated", "unclear", variant="jwt", msg="declare it", where=(CONFIG_JS, "tokenAuthUrl")),
    # -- LDAP --------------------------------------------------------------------------------------------
    Case("ldap.transport_encrypted", "pass", variant="ldap", msg="ldaps://", where=(SASL, "ldap_servers")),
    Case("ldap.transport_encrypted", "fail", (_sub(SASL, "ldaps://", "ldap://"),), "without TLS", (SASL, "ldap_servers"), "ldap"),
    Case("ldap.transport_encrypted", "pass", (_sub(SASL, "ldaps://", "ldap://"), _sub(SASL, "ldap_auth_method", "ldap_start_tls: yes\nldap_auth_method")), "StartTLS", (SASL, "ldap_start_tls"), "ldap"),
    Case("ldap.transport_encrypted", "unclear", ((SASL, "", None),), "saslauthd.conf", variant="ldap"),
    Case("ldap.transport_encrypted", "not_applicable", msg="no VirtualHost authenticates"),
    Case("ldap.peer_verified", "pass", variant="ldap", where=(SASL, "ldap_tls_check_peer")),
    Case("ldap.peer_verified", "fail", (_sub(SASL, "ldap_tls_check_peer: yes", "ldap_tls_check_peer: no"),), "not verified", (SASL, "ldap_tls_check_peer"), "ldap"),
    Case("ldap.peer_verified", "fail", ((LDAP_CONF, "", "BASE dc=example,dc=org\nTLS_REQCERT allow\n"),), "TLS_REQCERT", (LDAP_CONF, "TLS_REQCERT"), "ldap"),
    Case("ldap.plain_auth_encrypted", "pass", variant="ldap"),
    Case("ldap.plain_auth_encrypted", "fail", (_sub(PROSODY_SITE, 'cyrus_application_name = "xmpp"', 'cyrus_application_name = "xmpp"\n    allow_unencrypted_plain_auth = true'),), "unencrypted connections", (PROSODY_SITE, "allow_unencrypted_plain_auth"), "ldap"),
    Case("ldap.bind_password", "pass", variant="ldap", where=(SASL, "ldap_bind_pw")),
    Case("ldap.bind_password", "fail", (_sub(SASL, f"ldap_bind_pw: {LDAP_PW}", "ldap_bind_pw: password"),), "default", (SASL, "ldap_bind_pw"), "ldap"),
    Case("ldap.bind_password", "not_applicable", (_sub(SASL, f"ldap_bind_pw: {LDAP_PW}\n", ""), _sub(SASL, "ldap_bind_dn: cn=jitsi,ou=services,dc=example,dc=org\n", "")), "anonymously", variant="ldap"),
    # -- moderation --------------------------------------------------------------------------------------
    Case("rooms.wait_for_host", "pass", msg="muc_wait_for_host", where=(PROSODY_SITE, CONF_MUC)),
    Case("rooms.wait_for_host", "pass", (_sub(PROSODY_SITE, '        "muc_wait_for_host";\n', ""),), "jicofo requires", (JICOFO, "enabled = true")),
    Case("rooms.wait_for_host", "fail", (_sub(PROSODY_SITE, '        "muc_wait_for_host";\n', ""),), "any token holder", variant="jwt"),
    Case("rooms.wait_for_host", "fail", (_sub(PROSODY_SITE, '        "muc_wait_for_host";\n', ""), _sub(JICOFO, "enabled = true", "enabled = false")), "first participant"),
    Case("rooms.persistent_lobby", "pass", msg="persistent_lobby", where=(PROSODY_SITE, f'VirtualHost "{D}"')),
    Case("rooms.persistent_lobby", "fail", (_sub(PROSODY_SITE, '        "persistent_lobby";\n', ""),), "until a moderator"),
    Case("rooms.end_conference", "pass", where=(PROSODY_SITE, 'Component "endconference')),
    Case("rooms.end_conference", "fail", (_sub(PROSODY_SITE, f'Component "endconference.{D}" "end_conference"\n    muc_component = "conference.{D}"\n', ""),), "no end_conference", (PROSODY_SITE, f'VirtualHost "{D}"')),
    Case("rooms.polls_server_side", "pass", where=(PROSODY_SITE, 'Component "polls.')),
    Case("rooms.polls_server_side", "fail", (_sub(PROSODY_SITE, f'Component "polls.{D}" "polls_component"\n', ""), _sub(PROSODY_SITE, '        "polls";\n', "")), "without server-side validation"),
    Case("rooms.polls_server_side", "pass", (_sub(PROSODY_SITE, f'Component "polls.{D}" "polls_component"\n', ""), _sub(CONFIG_JS, "enableInsecureRoomNameWarning: true,", "enableInsecureRoomNameWarning: true,\n    disablePolls: true,")), "disabled in config.js", (CONFIG_JS, "disablePolls")),
    Case("rooms.moderator_rights", "pass"),
    Case("rooms.moderator_rights", "fail", (_sub(PROSODY_SITE, '"muc_meeting_id";', '"muc_meeting_id";\n        "muc_allowners";'),), "every participant a moderator", (PROSODY_SITE, CONF_MUC)),
    Case("rooms.max_occupants", "pass", msg="100", where=(PROSODY_SITE, "muc_max_occupants = 100")),
    Case("rooms.max_occupants", "fail", (_sub(PROSODY_SITE, '        "muc_max_occupants";\n', ""),), "no participant limit", (PROSODY_SITE, CONF_MUC)),
    Case("rooms.max_occupants", "fail", (_sub(ENV, "MAX_PARTICIPANTS=100\n", ""),), "MAX_PARTICIPANTS", variant="docker"),
    Case("rooms.join_rate_limit", "pass", where=(PROSODY_SITE, CONF_MUC)),
    Case("rooms.join_rate_limit", "fail", (_sub(PROSODY_SITE, '        "muc_rate_limit";\n', ""),), "not rate limited", (PROSODY_SITE, CONF_MUC)),
    Case("rooms.meeting_passwords", "pass", where=(PROSODY_SITE, CONF_MUC)),
    Case("rooms.meeting_passwords", "fail", (_sub(CONFIG_JS, "enableInsecureRoomNameWarning: true,", "enableInsecureRoomNameWarning: true,\n    securityUi: { disableLobbyPassword: true },"),), "hides the room password", (CONFIG_JS, "securityUi")),
    Case("xmpp.connection_limits", "pass", where=(PROSODY_MAIN, "limits = {")),
    Case("xmpp.connection_limits", "fail", (_sub(PROSODY_MAIN, '    "limits";\n', ""),), "not loaded", (PROSODY_MAIN, "limits = {")),
    Case("xmpp.connection_limits", "unclear", msg="prosody.cfg.lua", drop=(PROSODY_MAIN,)),
    # -- prosody transport ---------------------------------------------------------------------------------
    Case("xmpp.s2s_disabled", "pass", where=(PROSODY_MAIN, "modules_disabled")),
    Case("xmpp.s2s_disabled", "fail", (_sub(PROSODY_MAIN, '    "s2s";\n', ""),), "listens beyond loopback", commands=(("ss", 'tcp LISTEN 0 128 0.0.0.0:5269 0.0.0.0:* users:(("lua5.4",pid=9,fd=8))\n'),)),
    Case("xmpp.s2s_disabled", "unclear", (_sub(PROSODY_MAIN, '    "s2s";\n', ""),), "whether port 5269 is reachable is unknown"),
    Case("xmpp.s2s_disabled", "pass", (_sub(PROSODY_MAIN, 'modules_disabled = {\n    "s2s";\n}\n', 'interfaces = { "*" }\ns2s_interfaces = { "127.0.0.1", "::1" }\n'),), "s2s_interfaces = { 127.0.0.1, ::1 } binds port 5269 to loopback", (PROSODY_MAIN, "s2s_interfaces")),
    Case("xmpp.s2s_disabled", "unclear", (_sub(PROSODY_MAIN, 'modules_disabled = {\n    "s2s";\n}\n', 'interfaces = { "127.0.0.1" }\ns2s_interfaces = { "*" }\n'),), "unknown"),
    Case("xmpp.s2s_disabled", "pass", (_sub(PROSODY_MAIN, '    "s2s";\n', ""),), "port 5269 is only bound to loopback (ss)", commands=(("ss", 'tcp LISTEN 0 128 127.0.0.1:5269 0.0.0.0:* users:(("lua5.4",pid=9,fd=8))\n'),)),
    Case("xmpp.s2s_encryption", "not_applicable", msg="s2s is disabled"),
    Case("xmpp.s2s_encryption", "pass", (_sub(PROSODY_MAIN, '    "s2s";\n', ""),), "require encryption", (PROSODY_MAIN, "s2s_secure_auth")),
    Case("xmpp.s2s_encryption", "fail", (_sub(PROSODY_MAIN, '    "s2s";\n', ""), _sub(PROSODY_MAIN, "s2s_secure_auth = true", "s2s_secure_auth = false")), "s2s_secure_auth = false", (PROSODY_MAIN, "s2s_secure_auth")),
    Case("xmpp.tls_protocol", "pass", where=(PROSODY_SITE, "ssl = {")),
    Case("xmpp.tls_protocol", "fail", (_sub(PROSODY_SITE, 'protocol = "tlsv1_2+"', 'protocol = "tlsv1+"'),), "tlsv1+", (PROSODY_SITE, "ssl = {")),
    Case("xmpp.tls_protocol", "unclear", (_sub(PROSODY_SITE, 'protocol = "tlsv1_2+";\n', ""),), "version"),
    Case("xmpp.tls_protocol", "pass", (_sub(PROSODY_SITE, 'protocol = "tlsv1_2+";\n', ""),), "0.12 defaults", packages=(("prosody", "0.12.4-1~bookworm1"),)),
    Case("xmpp.http_interfaces", "pass", where=(PROSODY_MAIN, "http_interfaces")),
    Case("xmpp.http_interfaces", "fail", (_sub(PROSODY_MAIN, 'http_interfaces = { "127.0.0.1", "::1" }', 'http_interfaces = { "*", "::" }'),), "bound to *", (PROSODY_MAIN, "http_interfaces")),
    Case("xmpp.http_interfaces", "unclear", (_sub(PROSODY_MAIN, 'http_interfaces = { "127.0.0.1", "::1" }\n', ""),), "prosody version"),
    Case("xmpp.http_interfaces", "fail", (_sub(PROSODY_MAIN, 'http_interfaces = { "127.0.0.1", "::1" }\n', ""),), "0.11", packages=(("prosody", "0.11.9-2"),)),
    Case("xmpp.bosh_secure_assumption", "pass", where=(PROSODY_SITE, "consider_bosh_secure")),
    Case("xmpp.bosh_secure_assumption", "fail", (_sub(PROSODY_MAIN, 'http_interfaces = { "127.0.0.1", "::1" }', 'http_interfaces = { "*" }'),), "trusted as secure", (PROSODY_SITE, "consider_bosh_secure")),
    # prosody 0.12+ ignores cross_domain_bosh: its mod_http answers CORS for every origin unless http_cors_override says no
    Case("xmpp.cross_domain", "pass", (_sub(PROSODY_SITE, "cross_domain_bosh = false;", "cross_domain_bosh = false;\nhttp_cors_override = { bosh = { enabled = false }; websocket = { enabled = false } };"),), where=(PROSODY_SITE, "http_cors_override")),
    Case("xmpp.cross_domain", "pass", msg="honours", where=(PROSODY_SITE, "cross_domain_bosh"), packages=(("prosody", "0.11.9-2"),)),
    Case("xmpp.cross_domain", "fail", msg="every origin", packages=(("prosody", "13.0.1-1"),)),
    Case("xmpp.cross_domain", "unclear", msg="version is unknown"),
    Case("xmpp.cross_domain", "fail", (_sub(PROSODY_SITE, "cross_domain_bosh = false", "cross_domain_bosh = true"),), "any web origin", (PROSODY_SITE, "cross_domain_bosh")),
    Case("xmpp.admins", "pass", where=(PROSODY_MAIN, "admins")),
    Case("xmpp.admins", "fail", (_sub(PROSODY_MAIN, 'admins = { "ops@meet.example.org" }', f'admins = {{ "ops@guest.{D}" }}'),), "anonymous hosts", (PROSODY_MAIN, "admins")),
    Case("xmpp.logging", "pass", where=(PROSODY_MAIN, "log = {")),
    Case("xmpp.logging", "fail", (_sub(PROSODY_MAIN, 'info = "/var/log/prosody/prosody.log"', 'debug = "/var/log/prosody/prosody.log"'),), "debug", (PROSODY_MAIN, "log = {")),
    # Debian's mixed table (named levels and a positional sink): a debug sink among them was missed (was: pass,
    # "prosody logs 1, error, info"), and the positional index was named as a level
    Case("xmpp.logging", "fail", (_sub(PROSODY_MAIN, '    error = "/var/log/prosody/prosody.err";\n', '    error = "/var/log/prosody/prosody.err";\n'
         '    { levels = { min = "debug" }; to = "file"; filename = "/var/log/prosody/debug.log" };\n'),), "debug level", (PROSODY_MAIN, "log = {")),
    Case("xmpp.logging", "pass", (_sub(PROSODY_MAIN, '    error = "/var/log/prosody/prosody.err";\n', '    error = "/var/log/prosody/prosody.err";\n'
         '    { levels = { "error" }; to = "syslog"; };\n'),), "prosody logs error, info (/var/log/prosody/prosody.err"),
    # prosody's loggingmanager: a "*sink" string logs from debug up, a sink table without levels logs every level
    Case("xmpp.logging", "fail", (_sub(PROSODY_MAIN, '    error = "/var/log/prosody/prosody.err";\n', '    error = "/var/log/prosody/prosody.err";\n'
         '    "*syslog";\n'),), "debug level", (PROSODY_MAIN, "log = {")),
    Case("xmpp.logging", "fail", (_sub(PROSODY_MAIN, '    error = "/var/log/prosody/prosody.err";\n', '    error = "/var/log/prosody/prosody.err";\n'
         '    { to = "syslog" };\n'),), "debug level", (PROSODY_MAIN, "log = {")),
    Case("xmpp.logging", "fail", (_sub(PROSODY_MAIN, 'log = {\n    info = "/var/log/prosody/prosody.log";\n    error = "/var/log/prosody/prosody.err";\n}',
                                       'log = "*syslog"'),), "debug level", (PROSODY_MAIN, "log = ")),
    Case("xmpp.logging", "pass", (_sub(PROSODY_MAIN, 'log = {\n    info = "/var/log/prosody/prosody.log";\n    error = "/var/log/prosody/prosody.err";\n}',
                                       'log = "/var/log/prosody/prosody.log"'),), "prosody logs info", (PROSODY_MAIN, "log = ")),
    # the global `debug = true` lowers prosody's default sinks (no log setting, or a file name alone) to debug
    Case("xmpp.logging", "fail", (_sub(PROSODY_MAIN, 'log = {\n    info = "/var/log/prosody/prosody.log";\n    error = "/var/log/prosody/prosody.err";\n}',
                                       'debug = true\nlog = "/var/log/prosody/prosody.log"'),), "debug = true", (PROSODY_MAIN, "log = ")),
    Case("xmpp.logging", "fail", (_sub(PROSODY_MAIN, 'log = {\n    info = "/var/log/prosody/prosody.log";\n    error = "/var/log/prosody/prosody.err";\n}',
                                       'debug = true'),), "debug = true", (PROSODY_MAIN, "debug = true")),
    Case("xmpp.logging", "pass", (_sub(PROSODY_MAIN, 'log = {\n    info = "/var/log/prosody/prosody.log";\n    error = "/var/log/prosody/prosody.err";\n}',
                                       'debug = false'),), "no log setting"),
    # -- jicofo ------------------------------------------------------------------------------------------
    Case("jicofo.always_trust_mode", "pass"),
    Case("jicofo.always_trust_mode", "fail", ((JICOFO_PROPS, "", "org.jitsi.jicofo.BRIDGE_MUC=JvbBrewery@internal.auth.meet.example.org\norg.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED=true\n"),), "any XMPP certificate", (JICOFO_PROPS, "ALWAYS_TRUST")),
    Case("jicofo.always_trust_mode", "unclear", msg="permission denied", denied=(JICOFO,)),
    Case("jicofo.certificate_verification", "pass"),
    Case("jicofo.certificate_verification", "fail", (_sub(JICOFO, 'username = "focus"', 'username = "focus"\n      hostname = "xmpp.internal.example.org"\n      disable-certificate-verification = true'),), "xmpp.internal.example.org", (JICOFO, "disable-certificate-verification")),
    Case("jicofo.use_tls", "pass"),
    Case("jicofo.use_tls", "fail", (_sub(JICOFO, 'username = "focus"', 'username = "focus"\n      hostname = "xmpp.internal.example.org"\n      use-tls = false'),), "without TLS", (JICOFO, "use-tls")),
    Case("jicofo.rest_bind", "pass", where=(JICOFO, 'host = "127.0.0.1"')),
    Case("jicofo.rest_bind", "fail", (_sub(JICOFO, 'host = "127.0.0.1"', 'host = "0.0.0.0"'),), "0.0.0.0:8888", (JICOFO, 'host = "0.0.0.0"')),
    Case("jicofo.rest_bind", "unclear", (_sub(JICOFO, 'host = "127.0.0.1"', 'port = 8888'),), "version"),
    Case("jicofo.rest_bind", "fail", (_sub(JICOFO, 'host = "127.0.0.1"', 'port = 8888'),), "1.0-1100", packages=(("jicofo", "1.0-1100-1"),)),
    # -- videobridge -------------------------------------------------------------------------------------
    Case("jvb.shutdown_api", "pass"),
    Case("jvb.shutdown_api", "fail", (_sub(JVB, "    private {\n      host = 127.0.0.1\n    }", "    private {\n      host = 0.0.0.0\n    }"), _sub(JVB, "videobridge {\n", "videobridge {\n  rest { shutdown { enabled = true } }\n")), "binds 0.0.0.0", (JVB, "rest { shutdown")),
    Case("jvb.shutdown_api", "unclear", ((JVB, "", "videobridge { apis { "),), "jvb.conf"),
    Case("jvb.public_http", "pass", where=(JVB, "port = 9090")),
    Case("jvb.public_http", "fail", (_sub(JVB, "      host = 127.0.0.1\n      port = 9090", "      port = 9090"),), "port 9090", (JVB, "port = 9090")),
    Case("jvb.stun_mapping", "pass", where=(JVB, "addresses")),
    Case("jvb.stun_mapping", "fail", (_sub(JVB, f'addresses = [ "{D}:3478" ]', 'addresses = [ "meet-jit-si-turnrelay.jitsi.net:443" ]'),), "meet-jit-si-turnrelay", (JVB, "addresses")),
    Case("jvb.stats_exposure", "pass"),
    Case("jvb.stats_exposure", "fail", ((JVB_PROPS, "", "org.jitsi.videobridge.ENABLE_STATISTICS=true\norg.jitsi.videobridge.STATISTICS_TRANSPORT=muc,callstats\n"),), "leave the deployment", (JVB_PROPS, "STATISTICS_TRANSPORT")),
    Case("jvb.websocket_tls", "pass", where=(JVB, "enabled = true")),
    Case("jvb.websocket_tls", "fail", (_sub(JVB, "tls = true", "tls = false"),), "ws://", (JVB, "tls = false")),
    Case("jvb.websocket_tls", "not_applicable", (_sub(JVB, "  websockets {\n    enabled = true", "  websockets {\n    enabled = false"),), "not enabled"),
    # -- web client ----------------------------------------------------------------------------------------
    Case("web.p2p_stun_servers", "pass", where=(CONFIG_JS, "stunServers")),
    Case("web.p2p_stun_servers", "fail", (_sub(CONFIG_JS, f"urls: 'stun:{D}:3478'", "urls: 'stun:meet-jit-si-turnrelay.jitsi.net:443'"),), "third-party STUN", (CONFIG_JS, "stunServers")),
    Case("web.p2p_stun_servers", "fail", (_sub(CONFIG_JS, f",\n        stunServers: [ {{ urls: 'stun:{D}:3478' }} ]", ""),), "not set"),
    Case("web.p2p_stun_servers", "not_applicable", (_sub(CONFIG_JS, "enabled: true,\n        iceTransportPolicy", "enabled: false,\n        iceTransportPolicy"),), "disabled"),
    Case("web.p2p_stun_servers", "unclear", ((CONFIG_JS, "", "var config = { broken: "),), "config.js"),
    Case("web.ice_transport_policy", "pass", where=(CONFIG_JS, "iceTransportPolicy")),
    Case("web.ice_transport_policy", "fail", (_sub(CONFIG_JS, "        iceTransportPolicy: 'relay',\n", ""),), "IP addresses"),
    Case("web.gravatar", "pass", where=(CONFIG_JS, "gravatar")),
    Case("web.gravatar", "fail", (_sub(CONFIG_JS, "    gravatar: { disabled: true },\n", ""), _sub(CONFIG_JS, "disableThirdPartyRequests: true", "disableThirdPartyRequests: false")), "Gravatar"),
    Case("web.analytics", "pass"),
    Case("web.analytics", "fail", (_sub(CONFIG_JS, "analytics: {}", "analytics: { amplitudeAPPKey: 'a1b2c3d4e5' }"),), "amplitudeAPPKey", (CONFIG_JS, "analytics")),
    Case("web.jaas", "pass"),
    Case("web.jaas", "fail", (_sub(CONFIG_JS, "analytics: {}", "analytics: {},\n    enableJaaS: true"),), "JaaS", (CONFIG_JS, "enableJaaS")),
    Case("web.insecure_room_name_warning", "pass", where=(CONFIG_JS, "enableInsecureRoomNameWarning")),
    Case("web.insecure_room_name_warning", "fail", (_sub(CONFIG_JS, "enableInsecureRoomNameWarning: true", "enableInsecureRoomNameWarning: false"),), "guessable", (CONFIG_JS, "enableInsecureRoomNameWarning")),
    Case("web.local_recording_notify", "pass", where=(CONFIG_JS, "localRecording")),
    Case("web.local_recording_notify", "fail", (_sub(CONFIG_JS, "disable: true, notifyAllParticipants: true", "notifyAllParticipants: false"),), "without the others", (CONFIG_JS, "localRecording")),
    Case("web.local_recording_notify", "pass", (_sub(CONFIG_JS, "disable: true, ", ""),), "everyone is notified", (CONFIG_JS, "localRecording")),
    Case("web.in_browser_recording", "pass", where=(CONFIG_JS, "localRecording")),
    Case("web.in_browser_recording", "fail", (_sub(CONFIG_JS, "disable: true, ", ""),), "saved unencrypted", (CONFIG_JS, "localRecording")),
    Case("web.file_sharing", "pass"),
    Case("web.file_sharing", "fail", (_sub(CONFIG_JS, "fileSharing: { enabled: false }", f"fileSharing: {{ enabled: true, apiUrl: 'https://files.{D}/v1/documents' }}"),), "stored unencrypted", (CONFIG_JS, "fileSharing")),
    Case("web.watermark", "pass", where=(INTERFACE_JS, "SHOW_JITSI_WATERMARK")),
    Case("web.watermark", "fail", (_sub(INTERFACE_JS, "SHOW_JITSI_WATERMARK: false", "SHOW_JITSI_WATERMARK: true"),), "jitsi.org", (INTERFACE_JS, "SHOW_JITSI_WATERMARK")),
    Case("web.watermark", "unclear", msg="interface_config.js", drop=(INTERFACE_JS,)),
    Case("web.remote_controls", "pass"),
    Case("web.remote_controls", "fail", (_sub(CONFIG_JS, "analytics: {}", "analytics: {},\n    disableRemoteMute: true"),), "disableRemoteMute", (CONFIG_JS, "disableRemoteMute")),
    Case("web.deep_linking", "pass", where=(CONFIG_JS, "deeplinking")),
    Case("web.deep_linking", "fail", (_sub(CONFIG_JS, "    deeplinking: { disabled: true },\n", ""),), "app stores"),
    Case("web.xmpp_signalling_tls", "pass", msg="bosh and websocket use TLS", where=(CONFIG_JS, "websocket:")),
    Case("web.xmpp_signalling_tls", "pass", (_sub(CONFIG_JS, f"bosh: 'https://{D}/'", f"bosh: '//{D}/'"),), "page's own HTTPS", (CONFIG_JS, "bosh:")),
    Case("web.xmpp_signalling_tls", "fail", (_sub(CONFIG_JS, f"websocket: 'wss://{D}/'", f"websocket: 'ws://{D}/'"),), f"websocket ws://{D}/xmpp-websocket", (CONFIG_JS, "websocket:")),
    Case("web.xmpp_signalling_tls", "fail", (_sub(CONFIG_JS, f"bosh: 'https://{D}/'", f"bosh: 'http://{D}/'"),), "in clear text: bosh http://", (CONFIG_JS, "bosh:")),
    Case("web.xmpp_signalling_tls", "unclear", (_sub(CONFIG_JS, f"    bosh: 'https://{D}/' + subdir + 'http-bind',\n    websocket: 'wss://{D}/' + subdir + 'xmpp-websocket',\n", ""),), "neither bosh nor websocket"),
    Case("web.xmpp_signalling_tls", "unclear", (_sub(CONFIG_JS, f"websocket: 'wss://{D}/' + subdir + 'xmpp-websocket'", "websocket: 5280"),), "websocket is not a URL"),
    Case("web.xmpp_signalling_tls", "pass", variant="docker", msg="docker web image"),
    Case("web.config_js_secrets", "pass"),
    Case("web.config_js_secrets", "fail", (_sub(CONFIG_JS, "analytics: {}", "analytics: {},\n    callStatsSecret: 'Zx8Kq2Lm7Wp4Rt9Vn3Bc6Hd1Gf5Js0Ya'"),), "public client configuration", (CONFIG_JS, "callStatsSecret")),
    Case("web.config_js_secrets", "fail", (_sub(CONFIG_JS, f"{{ urls: 'stun:{D}:3478' }}", f"{{ urls: 'turn:{D}:3478', username: 'static', credential: 'Pq8Rt2Wx7Kz4Mv9Ln3Bs6Hc1Gd5Jf0Ya' }}"),), "public client configuration", (CONFIG_JS, "stunServers")),
    # -- nginx -------------------------------------------------------------------------------------------
    Case("web.tls_mozilla_profile", "pass", msg="intermediate", where=(NGINX, "ssl_protocols")),
    Case("web.tls_mozilla_profile", "fail", (_sub(NGINX, "ECDHE-RSA-CHACHA20-POLY1305;", "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-SHA:AES256-SHA;"),), "outside Mozilla intermediate", (NGINX, "ssl_ciphers")),
    Case("web.tls_mozilla_profile", "pass", (_sub(NGINX, "ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1.3;"),), "modern", (NGINX, "ssl_protocols")),
    Case("web.tls_mozilla_profile", "unclear", (_sub(NGINX, "    ssl_protocols TLSv1.2 TLSv1.3;\n", ""),), "ssl_protocols not set"),
    Case("web.tls_mozilla_profile", "unclear", msg="nginx configuration", drop=(NGINX,)),
    Case("web.hsts_max_age", "pass", where=(NGINX, "Strict-Transport-Security")),
    Case("web.hsts_max_age", "fail", (_sub(NGINX, "max-age=63072000", "max-age=3600"),), "under six months", (NGINX, "Strict-Transport-Security")),
    Case("web.ocsp_stapling", "pass", where=(NGINX, "ssl_stapling on")),
    Case("web.ocsp_stapling", "fail", (_sub(NGINX, "    ssl_stapling on;\n    ssl_stapling_verify on;\n", ""),), "off", (NGINX, "server {@2")),
    # nothing to staple without an OCSP responder (Let's Encrypt since 2025, self-signed): not a failure
    Case("web.ocsp_stapling", "not_applicable", ((CERT, "", make_cert(ocsp=False)), _sub(NGINX, "    ssl_stapling on;\n    ssl_stapling_verify on;\n", "")), "no OCSP responder", (CERT, "BEGIN CERTIFICATE")),
    Case("web.ocsp_stapling", "not_applicable", ((CERT, "", make_cert(self_signed=True)),), "no OCSP responder", variant="apache"),
    Case("web.http_redirect", "pass", where=(NGINX, "server {")),
    Case("web.http_redirect", "fail", (_sub(NGINX, "        return 301 https://$host$request_uri;\n    }", "        root /usr/share/jitsi-meet;\n    }\n    location = /http-bind {\n        proxy_pass http://127.0.0.1:5280/http-bind;\n    }"),), "plain HTTP", (NGINX, "server {")),
    Case("web.http_redirect", "fail", (_sub(ENV, "ENABLE_HTTP_REDIRECT=1", "ENABLE_HTTP_REDIRECT=0"),), "port 8000", (ENV, "ENABLE_HTTP_REDIRECT"), "docker"),
    Case("web.security_headers", "pass", where=(NGINX, "Referrer-Policy")),
    Case("web.security_headers", "fail", (_sub(NGINX, '    add_header Referrer-Policy "strict-origin-when-cross-origin" always;\n', ""),), "Referrer-Policy", (NGINX, "server {@2")),
    Case("web.server_tokens", "pass", where=(NGINX, "server_tokens off")),
    Case("web.server_tokens", "fail", (_sub(NGINX, "server_tokens off;", "server_tokens on;"),), "announces its version", (NGINX, "server_tokens on")),
    Case("web.server_tokens", "unclear", (_sub(NGINX, "server_tokens off;\n", ""),), "nginx.conf"),
    Case("web.internal_locations", "pass"),
    Case("web.internal_locations", "fail", (_sub(NGINX, "    location = /http-bind {", "    location /colibri/ {\n        proxy_pass http://127.0.0.1:8080/colibri/;\n    }\n    location = /http-bind {"),), "internal endpoint", (NGINX, "location /colibri/")),
    # -- the same checks on an Apache front (variant "apache": no nginx configuration) ------------------
    Case("web.tls_mozilla_profile", "pass", variant="apache", msg="intermediate", where=(APACHE_SITE, "SSLProtocol")),
    Case("web.tls_mozilla_profile", "pass", (_sub(APACHE_SITE, "SSLProtocol -all +TLSv1.2 +TLSv1.3", "SSLProtocol TLSv1.2 TLSv1.3"),), "replaces the ones before it", (APACHE_SITE, "SSLProtocol"), "apache"),
    Case("web.tls_mozilla_profile", "fail", (_sub(APACHE_SITE, "SSLProtocol -all +TLSv1.2 +TLSv1.3", "SSLProtocol all -SSLv3"),), "beyond TLS 1.2/1.3: TLSv1, TLSv1.1", (APACHE_SITE, "SSLProtocol"), "apache"),
    Case("web.tls_mozilla_profile", "fail", (_sub(APACHE_SITE, "SSLProtocol -all +TLSv1.2 +TLSv1.3\n", ""),), "beyond TLS 1.2/1.3", (APACHE_SSL, "SSLProtocol"), "apache"),
    Case("web.tls_mozilla_profile", "fail", (_sub(APACHE_SITE, "ECDHE-RSA-CHACHA20-POLY1305\n", "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-SHA\n"),), "outside Mozilla intermediate", (APACHE_SITE, "SSLCipherSuite"), "apache"),
    Case("web.tls_mozilla_profile", "unclear", (_sub(APACHE_SITE, "SSLProtocol -all +TLSv1.2 +TLSv1.3\n", ""), _sub(APACHE_SSL, "\tSSLProtocol all -SSLv3\n", "")), "SSLProtocol not set", variant="apache"),
    Case("web.tls_mozilla_profile", "unclear", (_sub(APACHE_SITE, "+TLSv1.3\n", "+TLSv1.4\n"),), "Apache refuses", (APACHE_SITE, "SSLProtocol"), "apache"),
    Case("web.tls_mozilla_profile", "unclear", ((APACHE_SITE, "", "<VirtualHost *:443>\n    ServerName x\n"),), "is never closed", variant="apache"),
    Case("web.hsts_max_age", "pass", variant="apache", where=(APACHE_SITE, "Strict-Transport-Security")),
    Case("web.hsts_max_age", "fail", (_sub(APACHE_SITE, "max-age=63072000", "max-age=3600"),), "under six months", (APACHE_SITE, "Strict-Transport-Security"), "apache"),
    Case("web.hsts_max_age", "fail", (_sub(APACHE_SITE, "Header always set Strict", "Header set Strict"),), "without `Header always`", (APACHE_SITE, "Strict-Transport-Security"), "apache"),
    Case("web.hsts_max_age", "not_applicable", (_sub(APACHE_SITE, '    Header always set Strict-Transport-Security "max-age=63072000"\n', ""),), "no HSTS header", (APACHE_SITE, "<VirtualHost *:443>"), "apache"),
    Case("web.ocsp_stapling", "pass", variant="apache", where=(APACHE_SITE, "SSLUseStapling on")),
    Case("web.ocsp_stapling", "fail", (_sub(APACHE_SITE, "    SSLUseStapling on\n", ""),), "off", (APACHE_SITE, "<VirtualHost *:443>"), "apache"),
    Case("web.ocsp_stapling", "fail", (_sub(APACHE_SITE, "SSLStaplingCache", "#SSLStaplingCache"),), "no SSLStaplingCache", (APACHE_SITE, "SSLUseStapling on"), "apache"),
    Case("web.http_redirect", "pass", variant="apache", where=(APACHE_SITE, "Redirect permanent")),
    Case("web.http_redirect", "fail", (_sub(APACHE_SITE, f"    Redirect permanent / https://{D}/\n", '    DocumentRoot "/usr/share/jitsi-meet"\n'),), "plain HTTP", (APACHE_SITE, "<VirtualHost *:80>"), "apache"),
    Case("web.http_redirect", "fail", (_sub(APACHE_SITE, f"    Redirect permanent / https://{D}/\n", f"    Redirect permanent /room https://{D}/room\n    ProxyPass /http-bind http://localhost:5280/http-bind\n"),), "plain HTTP", (APACHE_SITE, "<VirtualHost *:80>"), "apache"),
    Case("web.security_headers", "pass", variant="apache", where=(APACHE_SITE, "Referrer-Policy")),
    Case("web.security_headers", "fail", (_sub(APACHE_SITE, '    Header always set Referrer-Policy "strict-origin-when-cross-origin"\n', ""),), "Referrer-Policy", (APACHE_SITE, "<VirtualHost *:443>"), "apache"),
    Case("web.security_headers", "fail", (_sub(APACHE_SITE, "frame-ancestors 'self'", "default-src 'self'"),), "frame-ancestors", (APACHE_SITE, "<VirtualHost *:443>"), "apache"),
    Case("web.server_tokens", "pass", variant="apache", where=(APACHE_SECURITY, "ServerTokens Prod")),
    Case("web.server_tokens", "fail", ((APACHE_SECURITY, "", "ServerTokens OS\nServerSignature On\n"),), "announces its version and OS; ServerSignature", (APACHE_SECURITY, "ServerTokens OS"), "apache"),
    Case("web.server_tokens", "fail", ((APACHE_SECURITY, "", "TraceEnable Off\n"),), "default Full", (APACHE_MAIN, None), "apache"),
    Case("web.server_tokens", "unclear", msg="security.conf", variant="apache", drop=(APACHE_MAIN,)),
    Case("web.internal_locations", "pass", variant="apache", msg="by Apache"),
    Case("web.internal_locations", "fail", (_sub(APACHE_SITE, "    ProxyPreserveHost on\n", "    ProxyPreserveHost on\n    ProxyPass /colibri/ http://127.0.0.1:8080/colibri/\n"),), "internal endpoint", (APACHE_SITE, "ProxyPass /colibri/"), "apache"),
    Case("web.internal_locations", "fail", (_sub(APACHE_SITE, "    ProxyPreserveHost on\n", "    <Location /about/>\n        ProxyPass http://127.0.0.1:8080/about/\n    </Location>\n"),), "internal endpoint", (APACHE_SITE, "ProxyPass http://127.0.0.1:8080/about/"), "apache"),
    Case("jvb.stats_exposure", "fail", (_sub(APACHE_SITE, "    ProxyPreserveHost on\n", "    ProxyPass /colibri/stats http://127.0.0.1:8080/colibri/stats\n"),), "leave the deployment", (APACHE_SITE, "ProxyPass /colibri/stats"), "apache"),
    # -- certificates ------------------------------------------------------------------------------------
    Case("cert.trusted_issuer", "pass", msg="Let's Encrypt", where=(CERT, "BEGIN CERTIFICATE")),
    Case("cert.trusted_issuer", "fail", ((CERT, "", make_cert(self_signed=True)),), "self-signed", (CERT, "BEGIN CERTIFICATE")),
    Case("cert.trusted_issuer", "unclear", msg="not in the evidence", drop=(CERT,)),
    Case("cert.key_strength", "pass", msg="EC 256"),
    Case("cert.key_strength", "fail", ((CERT, "", make_cert(rsa_bits=1024)),), "RSA key of 1024 bits", (CERT, "BEGIN CERTIFICATE")),
    Case("cert.expiry", "pass", msg="more days"),
    Case("cert.expiry", "fail", ((CERT, "", make_cert(days=-2, start_days=-92)),), "expired", (CERT, "BEGIN CERTIFICATE")),
    Case("cert.expiry", "fail", ((CERT, "", make_cert(days=5)),), "expires in", (CERT, "BEGIN CERTIFICATE")),
    Case("cert.domain_coverage", "pass", msg=D),
    Case("cert.domain_coverage", "pass", ((CERT, "", make_cert(sans=("*.example.org",))),), "covers"),
    Case("cert.domain_coverage", "fail", ((CERT, "", make_cert(sans=("other.example.net",))),), "does not cover", (CERT, "BEGIN CERTIFICATE")),
    # docker: the certificate is for PUBLIC_URL's host; the XMPP domain meet.jitsi is internal
    Case("cert.domain_coverage", "pass", msg=f"covers {D}", variant="docker-web"),
    Case("cert.domain_coverage", "fail", ((DOCKER_CERT, "", make_cert(sans=("meet.jitsi",))),), f"does not cover {D}",
         variant="docker-web"),
    # -- coturn ------------------------------------------------------------------------------------------
    Case("turn.auth_secret", "pass", where=(TURN, "use-auth-secret")),
    Case("turn.auth_secret", "fail", (_sub(TURN, "static-auth-secret=Vq7rT2xK9mW4pL8sZ3nB6cY1dF5gH0jA", "static-auth-secret=changeme"),), "default", (TURN, "static-auth-secret")),
    # static-auth-secret alone turns the shared-secret mechanism on, over lt-cred-mech users: both lines go
    Case("turn.auth_secret", "fail", (_sub(TURN, "use-auth-secret\nstatic-auth-secret=Vq7rT2xK9mW4pL8sZ3nB6cY1dF5gH0jA\n", "lt-cred-mech\nuser=jitsi:Kx7Lm2Qz9Wt4Rp8Vn3Bs6Hd1Gf5Jc0Ya\n"),), "static long-term"),
    Case("turn.auth_secret", "not_applicable", msg="no turnserver.conf", drop=(TURN,)),
    Case("turn.denied_peer_ips", "pass", where=(TURN, "denied-peer-ip")),
    Case("turn.admin_cli", "pass", where=(TURN, "no-cli")),
    Case("turn.admin_cli", "fail", (_sub(TURN, "no-cli\n", "cli-password=Secret12\n"),), "password is", (TURN, "cli-password"), packages=(("coturn", "4.6.1-1"),)),
    Case("turn.denied_peer_ips", "fail", (_sub(TURN, "denied-peer-ip=10.0.0.0-10.255.255.255\n", ""),), "10.0.0.0/8", (TURN, "denied-peer-ip")),
    Case("turn.no_loopback_peers", "pass", where=(TURN, "no-loopback-peers")),
    Case("turn.no_loopback_peers", "fail", (_sub(TURN, "no-loopback-peers", "allow-loopback-peers"),), "local services", (TURN, "allow-loopback-peers")),
    Case("turn.no_loopback_peers", "unclear", (_sub(TURN, "no-loopback-peers\n", ""),), "coturn version"),
    Case("turn.no_loopback_peers", "pass", (_sub(TURN, "no-loopback-peers\n", ""),), "4.6.1", packages=(("coturn", "4.6.1-1"),)),
    Case("turn.no_multicast_peers", "pass", where=(TURN, "no-multicast-peers")),
    Case("turn.no_multicast_peers", "fail", (_sub(TURN, "no-multicast-peers\n", ""),), "not set"),
    Case("turn.tls", "pass", where=(TURN, "cert=")),
    Case("turn.tls", "fail", (_sub(TURN, "no-tlsv1\n", ""),), "TLS 1.0/1.1", (TURN, "cert=")),
    Case("turn.tls", "fail", (_sub(TURN, f"cert=/etc/jitsi/meet/{D}.crt\n", ""),), "no cert/pkey"),
    Case("turn.no_tcp_relay", "pass", where=(TURN, "no-tcp-relay")),
    Case("turn.no_tcp_relay", "fail", (_sub(TURN, "no-tcp-relay\n", ""),), "allowed"),
    # Debian's coturn package installed, never started (its stock turnserver.conf, nothing listening): was
    # fail (high) for a relay that does not run; judged as soon as anything listens on its ports
    Case("turn.auth_secret", "not_applicable", ((TURN, "", STOCK_TURN),), "coturn is not running", commands=(("ss", SS_NO_TURN),)),
    Case("turn.denied_peer_ips", "not_applicable", ((TURN, "", STOCK_TURN),), "nothing listens on 3478/5349", commands=(("ss", SS_NO_TURN),)),
    Case("turn.auth_secret", "fail", ((TURN, "", STOCK_TURN),), "use-auth-secret is not set",
         commands=(("ss", SS_NO_TURN + 'udp UNCONN 0 0 0.0.0.0:3478 0.0.0.0:* users:(("turnserver",pid=12,fd=15))\n'),)),
    Case("turn.tls", "fail", ((TURN, "", STOCK_TURN + "tls-listening-port=5443\n"),), "no cert/pkey",
         commands=(("ss", SS_NO_TURN + "tcp LISTEN 0 4096 0.0.0.0:5443 0.0.0.0:*\n"),)),  # no process: ss without root
    # a turnserver process among the host's processes runs coturn, though ss shows no socket of it (its own
    # network namespace: docker with userland-proxy off, iptables publishing): judged, not "not running"
    Case("turn.auth_secret", "fail", ((TURN, "", STOCK_TURN),), "use-auth-secret is not set",
         commands=(("ss", SS_NO_TURN), ("processes", PS_TURN))),
    Case("turn.denied_peer_ips", "fail", ((TURN, "", STOCK_TURN),), "10.0.0.0/8",
         commands=(("ss", SS_NO_TURN), ("processes", PS_TURN))),
    Case("turn.tls", "fail", ((TURN, "", STOCK_TURN),), "no cert/pkey", commands=(("ss", SS_NO_TURN), ("processes", PS_TURN))),
    Case("turn.auth_secret", "not_applicable", ((TURN, "", STOCK_TURN),),
         "no turnserver process among the host's processes and nothing listens on 3478/5349",
         commands=(("ss", SS_NO_TURN), ("processes", PS_NO_TURN))),
    Case("turn.no_tcp_relay", "not_applicable", ((TURN, "", STOCK_TURN),), "coturn is not running",
         commands=(("ss", SS_NO_TURN), ("processes", ""))),  # collected empty: no turnserver either
    # the process list alone decides nothing: listeners unknown (a --root audit) stay "judged", as before
    Case("turn.auth_secret", "fail", ((TURN, "", STOCK_TURN),), "use-auth-secret is not set",
         commands=(("processes", PS_NO_TURN),)),
    # -- jibri -------------------------------------------------------------------------------------------
    Case("jibri.recordings_directory", "pass", variant="jibri", msg="/srv/recordings", where=(JIBRI, "recordings-directory")),
    Case("jibri.recordings_directory", "fail", (_sub(JIBRI, '"/srv/recordings"', '"/tmp/recordings"'),), "/tmp/recordings", (JIBRI, "recordings-directory"), "jibri"),
    Case("jibri.recordings_directory", "not_applicable", msg="no Jibri"),
    Case("jibri.recordings_encrypted", "pass", variant="jibri", commands=REC, msg="dm-crypt", where=(JIBRI, "recordings-directory")),
    Case("jibri.recordings_encrypted", "fail", variant="jibri", commands=(("lsblk", LSBLK_ENCRYPTED.replace('NAME="recordings_crypt" TYPE="crypt"', 'NAME="sdb2" TYPE="part"')), ("findmnt", FINDMNT_ENCRYPTED.replace("/dev/mapper/recordings_crypt", "/dev/sdb2"))), msg="not encrypted", where=("cmd:findmnt", None)),
    Case("jibri.recordings_encrypted", "unclear", variant="jibri", msg="findmnt/lsblk"),
    Case("jibri.recordings_encrypted", "unclear", ((JIBRI, "", "jibri { recording { recordings-directory = "),), "jibri.conf", variant="jibri"),
    Case("jibri.finalize_script", "pass", variant="jibri", where=(JIBRI, "finalize-script")),
    Case("jibri.finalize_script", "fail", (_sub(JIBRI, "/usr/local/bin/jibri-finalize.sh", "/path/to/finalize"),), "stay on the recorder", (JIBRI, "finalize-script"), "jibri"),
    Case("jibri.upload_targets", "pass", variant="jibri"),
    Case("jibri.upload_targets", "fail", (_sub(JIBRI, 'rtmp-allow-list = [ "^rtmp://live\\\\.example\\\\.org/.*$" ]', 'rtmp-allow-list = [ ".*" ]'),), "any RTMP server", (JIBRI, "rtmp-allow-list"), "jibri"),
    Case("jibri.upload_targets", "fail", (_sub(CONFIG_JS, "analytics: {}", "analytics: {},\n    dropbox: { appKey: 'k3y4pp' }"),), "Dropbox", (CONFIG_JS, "dropbox"), "jibri"),
    Case("jibri.xmpp_cert_verification", "pass", variant="jibri", where=(JIBRI, "environments")),
    Case("jibri.xmpp_cert_verification", "fail", (_sub(JIBRI, "trust-all-xmpp-certs = false", "trust-all-xmpp-certs = true"),), "prod", (JIBRI, "environments"), "jibri"),
    # the key has no default in jibri.conf (getBoolean): an environment without it is refused, verifies nothing
    Case("jibri.xmpp_cert_verification", "unclear", (_sub(JIBRI, "trust-all-xmpp-certs = false", ""),),
         "environment(s) prod do not set trust-all-xmpp-certs, which Jibri requires", (JIBRI, "environments"), "jibri"),
    Case("jibri.chrome_cert_verification", "pass", variant="jibri", where=(JIBRI, None)),
    Case("jibri.chrome_cert_verification", "fail", (_sub(JIBRI, "  api {\n", '  chrome { flags = [ "--kiosk", "--ignore-certificate-errors" ] }\n  api {\n'),), "accepts any certificate", (JIBRI, "--ignore-certificate-errors"), "jibri"),
    # a prosody without a Jitsi VirtualHost: nothing can be said of its meetings (was: fail)
    Case("rooms.end_conference", "unclear", msg="no VirtualHost besides localhost", variant="stock-prosody"),
    Case("rooms.persistent_lobby", "unclear", msg="no VirtualHost besides localhost", variant="stock-prosody"),
    Case("rooms.polls_server_side", "unclear", msg="no VirtualHost besides localhost", variant="stock-prosody"),
    # the Jitsi host file unreadable (root-only 0600, no --sudo) beside a readable config.js: the polls component
    # may well be in it (was: fail, "enabled in the client without server-side validation")
    Case("rooms.polls_server_side", "unclear", msg="permission denied", denied=(PROSODY_SITE,)),
    Case("rooms.polls_server_side", "unclear", msg="no VirtualHost besides localhost", drop=(PROSODY_SITE,)),
    # -- secret hygiene ----------------------------------------------------------------------------------
    Case("secrets.reuse", "pass", msg="shared by design"),
    Case("secrets.reuse", "fail", (_sub(JVB, f'PASSWORD = "{JVB_PW}"', f'PASSWORD = "{FOCUS_PW}"'),), "shared across purposes", (JVB, "PASSWORD")),
    # docker-jitsi-meet renders .env's JVB_AUTH_PASSWORD into jvb.conf's shard0 and JICOFO_AUTH_PASSWORD into
    # jicofo.conf's client and service connections: one purpose each (was: fail, "shared across purposes")
    Case("secrets.reuse", "pass", ((DOCKER_JVB, "", DOCKER_JVB_TEXT), (DOCKER_JICOFO, "", DOCKER_JICOFO_TEXT)),
         "2 pair(s) shared by design", variant="docker"),
    Case("secrets.reuse", "fail", ((DOCKER_JVB, "", DOCKER_JVB_TEXT.replace(_ENV_JVB_PW, _ENV_JICOFO_PW)),),
         "JICOFO_AUTH_PASSWORD = jvb.conf", (DOCKER_JVB, "PASSWORD"), variant="docker"),
    # the Jitsi host file (TURN and JWT secrets) unreadable: a reuse with it cannot be ruled out (was: pass)
    Case("secrets.reuse", "unclear", msg=f"but {PROSODY_SITE} could not be read", denied=(PROSODY_SITE,)),
    Case("secrets.file_permissions", "pass", msg="none world-readable"),
    Case("secrets.file_permissions", "fail", msg="world-readable", where=(PROSODY_SITE, None), modes=((PROSODY_SITE, 0o644),)),
    Case("secrets.file_permissions", "unclear", msg="no recorded mode", modes=((JICOFO, None),)),
    # Debian's stock prosody.cfg.lua and example.com.cfg.lua (0644) hold secrets only in comments
    Case("secrets.file_permissions", "pass", (_sub(PROSODY_MAIN, _MAIN_HEAD, _MAIN_HEAD + _COMMENTED_SECRETS),),
         "none world-readable", modes=((PROSODY_MAIN, 0o644),)),
    Case("secrets.file_permissions", "fail", (_sub(PROSODY_MAIN, _MAIN_HEAD, _MAIN_HEAD + _COMMENTED_SECRETS
                                                   + 'component_secret = "Vq3rT8zLw2Xk9Pn4"\n'),),
         "world-readable", (PROSODY_MAIN, None), modes=((PROSODY_MAIN, 0o644),)),
    # the key Debian's example.com.cfg.lua names is not on the host: nothing to judge, not "no recorded mode"
    Case("secrets.file_permissions", "pass", msg="none world-readable", missing=("/etc/prosody/certs/example.com.key",)),
    # -- docker .env -------------------------------------------------------------------------------------
    Case("docker.auth_enabled", "pass", variant="docker", where=(ENV, "ENABLE_AUTH")),
    Case("docker.auth_enabled", "fail", (_sub(ENV, "ENABLE_AUTH=1", "ENABLE_AUTH=0"),), "anyone can create", (ENV, "ENABLE_AUTH"), "docker"),
    Case("docker.auth_enabled", "not_applicable", msg="not a docker deployment"),
    Case("docker.image_tag", "pass", variant="docker", msg="stable-10314", where=(ENV, "JITSI_IMAGE_VERSION")),
    Case("docker.image_tag", "fail", (_sub(ENV, "JITSI_IMAGE_VERSION=stable-10314", "JITSI_IMAGE_VERSION=latest"),), "latest", (ENV, "JITSI_IMAGE_VERSION"), "docker"),
    Case("docker.image_tag", "fail", (_sub(ENV, "JITSI_IMAGE_VERSION=stable-10314\n", ""),), "unstable", (COMPOSE, "web:"), "docker"),
    Case("docker.passwords_generated", "pass", variant="docker", msg="strong"),
    Case("docker.passwords_generated", "fail", (_sub(ENV, "JVB_AUTH_PASSWORD=7a1e3f5c9b2d4e6f8a0c2e4b6d8f1a3c", "JVB_AUTH_PASSWORD=passw0rd"),), "default", (ENV, "JVB_AUTH_PASSWORD"), "docker"),
    Case("docker.passwords_generated", "fail", (_sub(ENV, "JICOFO_AUTH_PASSWORD=3f9c2a7d8e1b4c6a9f0e2d4b6c8a1e3f", "JICOFO_AUTH_PASSWORD="),), "empty", variant="docker"),
    Case("docker.advertise_ips", "pass", variant="docker", where=(ENV, "JVB_ADVERTISE_IPS")),
    Case("docker.advertise_ips", "fail", (_sub(ENV, "JVB_ADVERTISE_IPS=203.0.113.5\n", ""),), "meet-jit-si-turnrelay", variant="docker"),
]


def _line_of(text: str, needle: str) -> int:
    """Line of the first occurrence of `needle` (`needle@2`: of the second)."""
    needle, _, nth = needle.partition("@")
    seen = 0
    for n, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == int(nth or 1):
                return n
    raise AssertionError(f"{needle!r} not in the file")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_check_case(case: Case) -> None:
    files = apply(_variant(case.variant), case.edits)
    for path in case.drop:
        files.pop(path, None)
    modes: dict[str, int | None] = {p: 0o640 for p in files}  # None: no recorded mode
    modes.update(dict(case.modes))
    snap = snapshot(files, dict(case.commands), modes=modes, packages=dict(case.packages) or None, denied=case.denied,
                    missing=case.missing)
    finding = findings(snap)[case.check]
    assert finding.status.value == case.status, f"{case.check}: {finding.status.value}: {finding.message}"
    assert case.msg in finding.message, finding.message
    if case.where is not None:
        path, needle = case.where
        line = None if needle is None or path.startswith("cmd:") else _line_of(files[path], needle)
        places = [(e.location.path, e.location.line) for e in finding.evidence]
        assert (path, line) in places, f"expected {path}:{line} in {places}"
    for e in finding.evidence:  # evidence never carries a secret value
        assert "Vq7rT2xK9mW4" not in (e.excerpt or "") and "Rk3Lm9Qz2Wx7" not in (e.excerpt or "")


def _catalogue_ids() -> set[str]:
    ids: set[str] = set()
    for name in CATALOGUE_MODULES:
        ids |= {c.id for c in checks_in_module(importlib.import_module(f"checks.{name}"))}
    return ids


def test_every_catalogue_check_has_a_pass_and_a_fail_case() -> None:
    ids = _catalogue_ids()
    passed = {c.check for c in CASES if c.status == "pass"}
    failed = {c.check for c in CASES if c.status == "fail"}
    assert not (ids - passed - set(NO_PASS)), f"no pass case: {sorted(ids - passed - set(NO_PASS))}"
    assert not (ids - failed - set(NO_FAIL)), f"no fail case: {sorted(ids - failed - set(NO_FAIL))}"
    assert {c.check for c in CASES} <= ids


def test_base_deployment_passes_every_applicable_catalogue_check() -> None:
    """The hardened base is the pass fixture: nothing in it fails."""
    snap = snapshot(base_files(), dict(REC))
    failed = {k: f.message for k, f in findings(snap).items() if k in _catalogue_ids() and f.status.value == "fail"}
    assert failed == {"sso.mfa_delegated": "authentication is internal_hashed: no identity provider that could enforce MFA"}


def test_apache_base_deployment_passes_every_applicable_catalogue_check() -> None:
    """The same hardened base with Apache as its front: nothing more fails than with nginx."""
    snap = snapshot(apache_files(), dict(REC))
    failed = {k: f.message for k, f in findings(snap).items() if k in _catalogue_ids() and f.status.value == "fail"}
    assert failed == {"sso.mfa_delegated": "authentication is internal_hashed: no identity provider that could enforce MFA"}


@pytest.mark.parametrize("processes", ["not collected", "no /proc", "over the cap"])
def test_coturn_without_a_known_process_list_is_judged_by_the_listeners_alone(processes: str) -> None:
    """A snapshot without the process list (older collector, saved before it existed) or with one that could
    not be collected: what ss shows decides, with today's message."""
    from auditor.snapshot import CollectedItem, ItemStatus

    files = base_files() | {TURN: STOCK_TURN}
    snap = snapshot(files, {"ss": SS_NO_TURN})
    if processes == "no /proc":
        snap.add(CollectedItem("cmd:processes", "command", ItemStatus.MISSING, error="no /proc/<pid>/comm to read"))
    elif processes == "over the cap":
        snap.add(CollectedItem("cmd:processes", "command", ItemStatus.TOO_LARGE, error="output larger than ..."))
    found = findings(snap)["turn.auth_secret"]
    assert found.status.value == "not_applicable"
    assert found.message.startswith("coturn is not running: no turnserver process and nothing listens on 3478/5349 (ss)")
    # ss sees turnserver: running whatever the process list says
    snap = snapshot(files, {"ss": SS_NO_TURN + 'udp UNCONN 0 0 0.0.0.0:3478 0.0.0.0:* users:(("turnserver",pid=1,fd=3))\n',
                            "processes": PS_NO_TURN})
    assert findings(snap)["turn.auth_secret"].status.value == "fail"


def test_coturn_not_ruled_out_by_a_partial_process_list() -> None:
    """/proc mounted hidepid= without root: the collected list holds only the auditing user's processes. It
    still finds turnserver when it is there, but its absence is not "none among the host's processes": the
    listeners decide, with their own message."""
    from auditor.processes import PARTIAL_FACT

    files = base_files() | {TURN: STOCK_TURN}
    snap = snapshot(files, {"ss": SS_NO_TURN, "processes": "sshd\nbash\n"})
    snap.facts[PARTIAL_FACT] = "/proc/1/comm not readable (/proc mounted hidepid=): only this user's processes listed"
    found = findings(snap)["turn.auth_secret"]
    assert found.status.value == "not_applicable"
    assert found.message.startswith("coturn is not running: no turnserver process and nothing listens on 3478/5349 (ss)")
    assert "among the host's processes" not in found.message
    snap = snapshot(files, {"ss": SS_NO_TURN, "processes": "sshd\nturnserver\n"})
    snap.facts[PARTIAL_FACT] = "partial"
    assert findings(snap)["turn.auth_secret"].status.value == "fail"


def test_unreadable_file_makes_checks_unclear_not_pass() -> None:
    from auditor.snapshot import CollectedItem, ItemStatus

    snap = snapshot({k: v for k, v in base_files().items() if k != TURN})
    snap.add(CollectedItem(TURN, "file", ItemStatus.PERMISSION_DENIED, None, error="permission denied"))
    found = findings(snap)
    for cid in ("turn.auth_secret", "turn.denied_peer_ips", "turn.tls"):
        assert found[cid].status.value == "unclear", (cid, found[cid].message)
        assert "permission denied" in found[cid].message


def test_an_unreadable_file_is_the_reason_only_for_what_it_holds() -> None:
    """What is short of prosody's configuration names the prosody file that failed; when prosody's files
    are simply absent, another file's read error is mentioned, not given as the cause."""
    from auditor.engine import prepare_snapshot
    from auditor.facts import View, missing_reason
    from auditor.snapshot import CollectedItem, ItemStatus

    def reason(files: dict[str, str], denied: str) -> str:
        snap = snapshot(files)
        snap.add(CollectedItem(denied, "file", ItemStatus.PERMISSION_DENIED, None, error="permission denied"))
        why, error = missing_reason(View(prepare_snapshot(snap).deployment), "prosody configuration")
        return f"{why}: {error}" if error else why

    base = base_files()
    absent = reason({k: v for k, v in base.items() if k not in (PROSODY_MAIN, PROSODY_SITE, TURN)}, TURN)
    assert absent.startswith("no prosody configuration in the evidence (not read either: "), absent
    assert TURN in absent
    denied = reason({k: v for k, v in base.items() if k not in (PROSODY_SITE, TURN)} | {TURN: base[TURN]},
                    PROSODY_SITE)
    assert denied.startswith("no usable prosody configuration: ") and PROSODY_SITE in denied, denied
    # a docker .env holds every component's settings: its error is a cause for any of them
    env_denied = reason({k: v for k, v in base.items() if k not in (PROSODY_MAIN, PROSODY_SITE)}, ENV)
    assert env_denied.startswith("no usable prosody configuration: ") and ENV in env_denied, env_denied


@pytest.mark.parametrize(("props", "status"), [
    ("org.jitsi.jicofo.BRIDGE_MUC=JvbBrewery@internal.auth.meet.example.org\n", "pass"),
    ("org.jitsi.jicofo.jibri.BREWERY=JibriBrewery@internal.auth.meet.example.org\n", "fail"),
])
def test_recording_on_a_jicofo_from_before_jicofo_conf(props: str, status: str) -> None:
    """A 2020 jicofo has sip-communicator.properties only: it says whether a Jibri brewery is wired in."""
    found = findings(snapshot({JICOFO_PROPS: props}))["recording.server_side"]
    assert found.status.value == status, found.message


def test_the_bridge_http_server_is_judged_on_its_configured_port() -> None:
    """The socket list was read for port 9090 whatever jvb.conf said: a server moved to 9091 and listening
    on every interface passed as 'not listening beyond loopback'."""
    files = apply(base_files(), [_sub(JVB, "      host = 127.0.0.1\n      port = 9090", "      port = 9091")])
    ss = 'tcp LISTEN 0 50 *:9091 *:* users:(("java",pid=7,fd=9))\ntcp LISTEN 0 50 127.0.0.1:9090 *:*\n'
    found = findings(snapshot(files, commands={"ss": ss}))["jvb.public_http"]
    assert found.status.value == "fail" and "port 9091 listens on all interfaces" in found.message, found.message
    quiet = 'tcp LISTEN 0 50 127.0.0.1:9091 *:*\ntcp LISTEN 0 50 *:9090 *:*\n'
    found = findings(snapshot(files, commands={"ss": quiet}))["jvb.public_http"]
    assert found.status.value == "pass" and "9091" in found.message, found.message
