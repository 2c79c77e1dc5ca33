"""Who may create rooms: the conference MUC, the guest domain, jicofo's login and open registration."""

from __future__ import annotations

from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.facts import ANONYMOUS_AUTH, truthy
from auditor.model import CheckResult, Severity
from auditor.registry import check
from checks._common import (
    absent_from_prosody,
    anonymous_hosts,
    complete_prosody,
    conference_mucs,
    ev,
    evs,
    parsed,
    section_ev,
    short,
    why_missing,
)

TEMPLATE = "https://github.com/jitsi/jitsi-meet/blob/master/doc/debian/jitsi-meet-prosody/prosody.cfg.lua-jvb.example"
SECURE_DOMAIN = "https://jitsi.github.io/handbook/docs/devops-guide/secure-domain"


@check(
    "rooms.restrict_room_creation",
    title="Only jicofo can create rooms on the conference MUC (restrict_room_creation)",
    severity=Severity.HIGH,
    criteria=("mgmt.access_control", "auth.rbac"),
    rationale="""Without restrict_room_creation on the conference MUC any XMPP client can create a room
    directly, bypassing jicofo and the secure-domain or token rules, and become its owner
    (CVE-2021-33506). Installs older than 2021-05 lack the line unless the package upgrade added it.""",
    remediation="""In the Jitsi prosody file:
    Component "conference.meet.example.org" "muc"
        restrict_room_creation = true""",
    references=("CVE-2021-33506", TEMPLATE),
)
@complete_prosody
def restrict_room_creation(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    if v.prosody is None:
        if v.env_ok:
            return CheckResult.passed(
                "docker-jitsi-meet's prosody template always sets restrict_room_creation = true",
                *evs(v.env_get("XMPP_MUC_DOMAIN")[1]),
            )
        return CheckResult.unclear(why_missing(ctx, "prosody configuration"))
    mucs = conference_mucs(v)
    if not mucs:
        return CheckResult.unclear("cannot tell: no conference MUC component in the prosody configuration")
    bad = []
    good = []
    for muc in mucs:
        got = v.p_get(muc, "restrict_room_creation")
        value = got[0] if got else None
        if value is True or (isinstance(value, str) and value in ("admin", "local")):
            good.append(got[1] if got else section_ev(v, muc))
        else:
            bad.append(got[1] if got else section_ev(v, muc, f'Component "{muc}": restrict_room_creation not set'))
    if bad:
        return CheckResult.failed(
            "any XMPP user can create rooms directly on the conference MUC (CVE-2021-33506 class)", *bad
        )
    return CheckResult.passed("room creation on the conference MUC is restricted", *good)


@check(
    "auth.guest_domain_consistent",
    title="The guest domain of config.js is an anonymous prosody host next to an authenticated main domain",
    severity=Severity.MEDIUM,
    criteria=("auth.rbac", "mgmt.access_control"),
    rationale="""A secure domain needs three parts that agree: an authenticated main VirtualHost, an anonymous
    guest VirtualHost and config.js hosts.anonymousdomain naming it. A guest domain beside an anonymous
    main domain does nothing (everyone is already anonymous); a guest domain name with no such host breaks
    guest joins; a guest domain that requires a login is not a guest domain.""",
    remediation="""VirtualHost "guest.meet.example.org"
        authentication = "jitsi-anonymous"
    and in config.js: hosts: { domain: 'meet.example.org', anonymousdomain: 'guest.meet.example.org' }""",
    references=(SECURE_DOMAIN,),
)
@complete_prosody
def guest_domain_consistent(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    if not v.cfg_ok and v.prosody is None:
        return CheckResult.unclear(why_missing(ctx, "config.js or prosody configuration"))
    guest = v.js("hosts.anonymousdomain") if v.cfg_ok else None
    if not isinstance(guest, str) or not guest:
        anon = [h for h in anonymous_hosts(v) if h != v.main_host and not h.startswith(("auth.", "recorder."))]
        if anon:
            where = section_ev(v, anon[0])
            if v.cfg_ok:
                return CheckResult.failed(
                    f"anonymous host {anon[0]} exists but config.js hosts.anonymousdomain does not name it",
                    where,
                    v.js_ev("hosts.anonymousdomain"),
                )
        return CheckResult.not_applicable("no guest domain configured (config.js hosts.anonymousdomain unset)")
    cfg_ev = v.js_ev("hosts.anonymousdomain")
    if v.prosody is None:
        return CheckResult.unclear(why_missing(ctx, "prosody configuration"), cfg_ev)
    if guest not in v.hosts():
        return absent_from_prosody(ctx, f"config.js names guest domain {guest}, but prosody has no such VirtualHost",
                                   cfg_ev)
    auth, auth_ev = v.auth_of(guest)
    if auth not in ANONYMOUS_AUTH:
        message = f"guest domain {guest} uses authentication {auth or 'internal_hashed (default)'}, not anonymous"
        if auth is None:  # the default: an unusable file may set it
            return absent_from_prosody(ctx, message, cfg_ev)
        return CheckResult.failed(message, *evs(cfg_ev, auth_ev))
    main_auth, main_ev = v.auth_of(v.main_host) if v.main_host else (None, None)
    if main_auth in ANONYMOUS_AUTH:
        return CheckResult.failed(
            f"a guest domain is configured but the main domain {v.main_host} is anonymous too: it restricts nothing",
            *evs(cfg_ev, main_ev),
        )
    return CheckResult.passed(
        f"guests join through anonymous {guest}; the main domain uses {main_auth or 'internal_hashed'}",
        *evs(cfg_ev, auth_ev, main_ev),
    )


@check(
    "auth.jicofo_login_url",
    title="Jicofo's authentication points at the authenticated main domain",
    severity=Severity.MEDIUM,
    criteria=("auth.rbac", "mgmt.access_control"),
    rationale="""jicofo { authentication { login-url } } names the XMPP domain where hosts log in. Pointing it
    at an anonymous domain lets anyone log in as a host; pointing it at the internal auth.<domain> (where
    the focus and jvb service accounts live) sends users' logins to the service-account host.""",
    remediation="""In /etc/jitsi/jicofo/jicofo.conf:
    jicofo { authentication { enabled = true, type = XMPP, login-url = "meet.example.org" } }""",
    references=(SECURE_DOMAIN,),
)
@complete_prosody
def jicofo_login_url(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    jicofo = ctx.deployment.jicofo
    props = parsed(ctx, Role.JICOFO_PROPERTIES)
    login: str | None = None
    where = None
    kind = "XMPP"
    enabled = v.hocon(jicofo, "jicofo.authentication.enabled")
    if enabled is not None and truthy(enabled[0]) is True:
        got_type = v.hocon(jicofo, "jicofo.authentication.type")
        kind = str(got_type[0]).upper() if got_type else "XMPP"
        got = v.hocon(jicofo, "jicofo.authentication.login-url")
        login, where = (str(got[0]), got[1]) if got else (None, enabled[1])
    elif props is not None and props[1].get("org.jitsi.jicofo.auth.URL") is not None:
        entry = props[1]["org.jitsi.jicofo.auth.URL"]
        kind_raw, _, rest = str(entry.value).partition(":")
        kind, login = kind_raw.upper(), rest or None
        where = ev(props[0], entry.line, f"org.jitsi.jicofo.auth.URL={short(entry.value)}")
    elif (jicofo is None or jicofo.value is None) and props is None:
        return CheckResult.unclear(why_missing(ctx, "jicofo configuration"))
    else:
        return CheckResult.not_applicable("jicofo authentication is not enabled (no secure domain)")
    if kind != "XMPP":
        return CheckResult.not_applicable(f"jicofo authentication type {kind} has no XMPP login domain", *evs(where))
    if not login:
        return CheckResult.failed("jicofo authentication is enabled without a login-url", *evs(where))
    if v.prosody is None:
        return CheckResult.unclear(why_missing(ctx, "prosody configuration"), *evs(where))
    if login not in v.hosts():
        return absent_from_prosody(ctx, f"jicofo login-url {login} is not a prosody VirtualHost", *evs(where))
    auth, auth_ev = v.auth_of(login)
    if auth in ANONYMOUS_AUTH:
        return CheckResult.failed(
            f"jicofo sends logins to {login}, an anonymous domain: anyone becomes a host", *evs(where, auth_ev)
        )
    if login.startswith("auth."):
        return CheckResult.failed(
            f"jicofo sends users' logins to {login}, the internal service-account domain", *evs(where, auth_ev)
        )
    return CheckResult.passed(f"jicofo logins go to {login} ({auth or 'internal_hashed'})", *evs(where, auth_ev))


@check(
    "auth.registration_closed",
    title="Nobody can register an XMPP account in-band (allow_registration)",
    severity=Severity.HIGH,
    criteria=("auth.rbac", "mgmt.access_control", "auth.password_policy"),
    rationale="""With mod_register and allow_registration = true anyone can create an account on the host and
    then log in as a meeting host on a secure domain.""",
    remediation="""Remove allow_registration = true (prosody's default is false) and create accounts with
    prosodyctl register <user> meet.example.org <password>.""",
    references=("https://prosody.im/doc/modules/mod_register",),
)
@complete_prosody
def registration_closed(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    if v.prosody is None:
        if v.env_ok:
            return CheckResult.passed("docker-jitsi-meet's prosody template never enables registration")
        return CheckResult.unclear(why_missing(ctx, "prosody configuration"))
    open_hosts = []
    where = []
    for host in [None, *v.hosts()]:
        got = v.p_get(host, "allow_registration")
        if got is not None and truthy(got[0]) is True and (host is not None or not v.hosts()):
            open_hosts.append(host or "global")
            where.append(got[1])
    if open_hosts:
        anon = set(anonymous_hosts(v))
        useful = [h for h in open_hosts if h not in anon]
        if useful:
            return CheckResult.failed(f"in-band registration is open on {', '.join(useful)}", *where)
    return CheckResult.passed("in-band registration is not allowed on any authenticated host")
