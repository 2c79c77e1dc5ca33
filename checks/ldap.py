"""Directory (LDAP / Active Directory) authentication through cyrus/saslauthd, mod_auth_ldap or docker."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.facts import ANONYMOUS_AUTH, truthy
from auditor.model import CheckResult, Evidence, Severity
from auditor.registry import check
from checks._common import complete_prosody, ev, evs, file_error, parsed, secret_verdict, short, why_missing

HANDBOOK_LDAP = "https://jitsi.github.io/handbook/docs/devops-guide/ldap-authentication"
SASLAUTHD = "https://github.com/cyrusimap/cyrus-sasl/blob/master/saslauthd/LDAP_SASLAUTHD"
LDAP_AUTH = {"cyrus", "ldap", "ldap2"}


@dataclass
class LdapSetup:
    """Where the LDAP client settings of this deployment come from, normalized."""

    source: str  # saslauthd, mod_auth_ldap, docker
    urls: list[str] = field(default_factory=list)
    urls_ev: Evidence | None = None
    start_tls: bool | None = None
    start_tls_ev: Evidence | None = None
    check_peer: bool | None = None
    check_peer_ev: Evidence | None = None
    bind_pw: str | None = None
    bind_pw_ev: Evidence | None = None
    has_bind_dn: bool = False


def _setup(ctx: AuditContext) -> LdapSetup | CheckResult:
    v = ctx.view
    if v.prosody is not None:
        kinds = {h: v.auth_of(h)[0] for h in v.hosts()}
        ldap_hosts = [h for h, k in kinds.items() if k in LDAP_AUTH]
        if not ldap_hosts:
            return CheckResult.not_applicable("no VirtualHost authenticates against LDAP (cyrus / ldap)")
        host = ldap_hosts[0]
        if kinds[host] in ("ldap", "ldap2"):
            s = LdapSetup("mod_auth_ldap")
            server = v.p_get(host, "ldap_server")
            if server:
                s.urls, s.urls_ev = str(server[0]).split(), server[1]
            tls = v.p_get(host, "ldap_tls")
            if tls:
                s.start_tls, s.start_tls_ev = truthy(tls[0]), tls[1]
            pw = v.p_get(host, "ldap_password")
            if pw:
                s.bind_pw, s.bind_pw_ev = str(pw[0]), pw[1]
            s.has_bind_dn = v.p_get(host, "ldap_rootdn") is not None
            return s
        return _saslauthd(ctx)
    if v.env_ok:
        enabled, _ = v.env_flag("ENABLE_AUTH", False)
        kind, where = v.docker_auth_type()
        if not (enabled and (kind or "").lower() == "ldap"):
            return CheckResult.not_applicable("docker PROSODY_AUTH_TYPE/AUTH_TYPE is not ldap", *evs(where))
        s = LdapSetup("docker")
        url, s.urls_ev = v.env_get("LDAP_URL")
        s.urls = (url or "").split()
        s.start_tls, s.start_tls_ev = v.env_flag("LDAP_START_TLS", False)
        s.check_peer, s.check_peer_ev = v.env_flag("LDAP_TLS_CHECK_PEER", False)
        s.bind_pw, s.bind_pw_ev = v.env_get("LDAP_BINDPW")
        s.has_bind_dn = bool(v.env_get("LDAP_BINDDN")[0])
        return s
    return CheckResult.unclear(why_missing(ctx, "prosody configuration"))


def _saslauthd(ctx: AuditContext) -> LdapSetup | CheckResult:
    conf = parsed(ctx, Role.SASLAUTHD)
    if conf is None:
        error = file_error(ctx, Role.SASLAUTHD)
        return CheckResult.unclear(
            f"cannot tell: cyrus authentication is on but {error or '/etc/saslauthd.conf is not in the evidence'}"
        )
    s = LdapSetup("saslauthd")
    path, kv = conf

    def get(name: str) -> tuple[str | None, Evidence | None]:
        entry = kv.get(name)
        if entry is None:
            return None, None
        return entry.value, ev(path, entry.line, f"{name}: {short(entry.value)}")

    servers, s.urls_ev = get("ldap_servers")
    s.urls = (servers or "").split()
    start, s.start_tls_ev = get("ldap_start_tls")
    s.start_tls = truthy(start) if start is not None else False
    peer, s.check_peer_ev = get("ldap_tls_check_peer")
    s.check_peer = truthy(peer) if peer is not None else False  # saslauthd's default: no
    if s.check_peer_ev is None:
        s.check_peer_ev = ev(path, None, "ldap_tls_check_peer not set (saslauthd default: no)")
    pw, s.bind_pw_ev = get("ldap_bind_pw")
    if pw is None:
        pw, s.bind_pw_ev = get("ldap_password")
    s.bind_pw = pw
    s.has_bind_dn = "ldap_bind_dn" in kv or "ldap_dn" in kv
    return s


@check(
    "ldap.transport_encrypted",
    title="Prosody talks to the directory over ldaps:// or StartTLS",
    severity=Severity.HIGH,
    criteria=("auth.directory", "enc.in_transit"),
    rationale="""saslauthd binds to the directory with each user's password (ldap_auth_method: bind) and with
    the service bind password: over plain ldap:// both cross the network in clear text.""",
    remediation="""/etc/saslauthd.conf: ldap_servers: ldaps://ldap.example.org/  (or ldap_start_tls: yes)
    mod_auth_ldap: ldap_tls = true. Docker: LDAP_URL=ldaps://ldap.example.org/ or LDAP_START_TLS=1""",
    references=(HANDBOOK_LDAP, SASLAUTHD),
)
@complete_prosody
def transport_encrypted(ctx: AuditContext) -> CheckResult:
    s = _setup(ctx)
    if isinstance(s, CheckResult):
        return s
    if not s.urls:
        return CheckResult.unclear(f"cannot tell: no LDAP server URL in the {s.source} settings", *evs(s.urls_ev))
    plain = [u for u in s.urls if not u.lower().startswith(("ldaps://", "ldapi://"))]
    if plain and not s.start_tls:
        return CheckResult.failed(
            f"LDAP server {plain[0]} is reached without TLS (no ldaps:// and no StartTLS)",
            *evs(s.urls_ev, s.start_tls_ev),
        )
    how = "StartTLS" if plain else "ldaps://"
    return CheckResult.passed(f"the directory is reached over {how}", *evs(s.urls_ev, s.start_tls_ev))


def _reqcert_allow(ctx: AuditContext) -> Evidence | None:
    for item in ctx.deployment.snapshot.files():
        if item.key.endswith("/ldap/ldap.conf") and item.ok:
            for n, line in enumerate(item.text().splitlines(), start=1):
                parts = line.split()
                if len(parts) >= 2 and parts[0].upper() == "TLS_REQCERT" and parts[1].lower() in ("never", "allow"):
                    return ev(item.key, n, line.strip())
    return None


@check(
    "ldap.peer_verified",
    title="The directory server's TLS certificate is verified",
    severity=Severity.HIGH,
    criteria=("auth.directory", "enc.in_transit"),
    rationale="""TLS without peer verification protects against nobody on the path: an attacker presenting any
    certificate receives every user's password. saslauthd does not verify by default, docker's
    LDAP_TLS_CHECK_PEER defaults to 0 and its prosody image writes TLS_REQCERT allow.""",
    remediation="""/etc/saslauthd.conf: ldap_tls_check_peer: yes and ldap_tls_cacert_file: /etc/ssl/certs/ca-certificates.crt;
    /etc/ldap/ldap.conf: TLS_REQCERT demand. Docker: LDAP_TLS_CHECK_PEER=1""",
    references=(HANDBOOK_LDAP, SASLAUTHD),
)
@complete_prosody
def peer_verified(ctx: AuditContext) -> CheckResult:
    s = _setup(ctx)
    if isinstance(s, CheckResult):
        return s
    reqcert = _reqcert_allow(ctx)
    if s.source == "mod_auth_ldap":
        if reqcert is not None:
            return CheckResult.failed("ldap.conf accepts any server certificate", reqcert)
        return CheckResult.unclear(
            "cannot tell: mod_auth_ldap verifies through OpenLDAP's ldap.conf, which is not in the evidence",
            *evs(s.start_tls_ev),
        )
    if not s.check_peer:
        return CheckResult.failed(
            "the LDAP server certificate is not verified (ldap_tls_check_peer off)", *evs(s.check_peer_ev, reqcert)
        )
    if reqcert is not None:
        return CheckResult.failed("ldap.conf TLS_REQCERT accepts any server certificate", reqcert, *evs(s.check_peer_ev))
    return CheckResult.passed("the LDAP server certificate is verified", *evs(s.check_peer_ev))


@check(
    "ldap.plain_auth_encrypted",
    title="Plain-text SASL logins are refused on unencrypted connections",
    severity=Severity.MEDIUM,
    criteria=("auth.directory", "enc.in_transit"),
    rationale="""Directory logins use SASL PLAIN (the password itself). allow_unencrypted_plain_auth = true
    accepts it on unencrypted XMPP connections; docker's LDAP mode always sets it. The handbook calls it
    insecure: it is acceptable only when every client connection is encrypted or loopback.""",
    remediation="""Remove allow_unencrypted_plain_auth = true and keep c2s_require_encryption = true, or make sure
    port 5222 is bound to 127.0.0.1 and clients come only through nginx over TLS.""",
    references=(HANDBOOK_LDAP, "https://prosody.im/doc/modules/mod_saslauth"),
)
@complete_prosody
def plain_auth_encrypted(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    if v.prosody is None:
        if v.env_ok:
            enabled, _ = v.env_flag("ENABLE_AUTH", False)
            kind, where = v.docker_auth_type()
            if enabled and (kind or "").lower() == "ldap":
                return CheckResult.failed(
                    "docker LDAP mode sets allow_unencrypted_plain_auth = true", *evs(where)
                )
            return CheckResult.passed("docker sets allow_unencrypted_plain_auth only in LDAP mode", *evs(where))
        return CheckResult.unclear(why_missing(ctx, "prosody configuration"))
    bad = []
    for host in v.hosts():
        if (v.auth_of(host)[0] or "") in ANONYMOUS_AUTH:
            continue
        got = v.p_get(host, "allow_unencrypted_plain_auth")
        if got is not None and truthy(got[0]) is True:
            bad.append((host, got[1]))
    if bad:
        return CheckResult.failed(
            f"plain-text passwords are accepted over unencrypted connections on {', '.join(h for h, _ in bad)}",
            *dict.fromkeys(e for _, e in bad),
        )
    return CheckResult.passed("allow_unencrypted_plain_auth is not enabled on any authenticated host")


@check(
    "ldap.bind_password",
    title="The directory bind password is strong",
    severity=Severity.HIGH,
    criteria=("auth.directory", "enc.key_strength"),
    rationale="""The bind account searches the whole directory; a default or short bind password (docker's
    example LdapUserPassw0rd) exposes every user entry. Only the verdict is reported, never the value.""",
    remediation="""Give the bind account a random password of 16+ characters (ldap_bind_pw in /etc/saslauthd.conf,
    LDAP_BINDPW in .env) and read-only rights on the user subtree.""",
    references=(HANDBOOK_LDAP,),
)
@complete_prosody
def bind_password(ctx: AuditContext) -> CheckResult:
    s = _setup(ctx)
    if isinstance(s, CheckResult):
        return s
    if s.bind_pw is None:
        if s.has_bind_dn:
            return CheckResult.failed("a bind DN is set without a bind password", *evs(s.urls_ev))
        return CheckResult.not_applicable("no bind account: the directory is searched anonymously", *evs(s.urls_ev))
    verdict = secret_verdict(s.bind_pw)
    if verdict is None:
        return CheckResult.unclear("cannot tell: the bind password was not judged at collection", *evs(s.bind_pw_ev))
    if verdict.weak:
        return CheckResult.failed(
            f"the bind password is {verdict.secret_class} ({verdict.length} characters)", *evs(s.bind_pw_ev)
        )
    return CheckResult.passed(f"the bind password is strong ({verdict.length} characters)", *evs(s.bind_pw_ev))
