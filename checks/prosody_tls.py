"""Prosody's own transport security: s2s, TLS settings, HTTP listeners, BOSH/websocket, admins, logging."""

from __future__ import annotations

from typing import Any

from auditor.advisories.docker import ImageRef, deployment_images
from auditor.advisories.versions import docker_stable
from auditor.context import AuditContext
from auditor.facts import ANONYMOUS_AUTH, View, cipher_string_is_weak, prosody_version, truthy
from auditor.listeners import exposed
from auditor.model import CheckResult, Evidence, Severity
from auditor.parsers.base import Location
from auditor.registry import check
from checks._common import (
    anonymous_hosts,
    docker_flag,
    evs,
    is_loopback,
    lua_list,
    module_hosts,
    prosody_or_docker,
    section_ev,
    short,
)
from checks.transport import xmpp_port_reachable

PROSODY_SEC = "https://prosody.im/doc/security"
PROSODY_S2S = "https://prosody.im/doc/s2s"
PROSODY_HTTP = "https://prosody.im/doc/http"
PROSODY_ADVANCED_SSL = "https://prosody.im/doc/advanced_ssl_config"
PROSODY_LOGGING = "https://prosody.im/doc/logging"
_WEAK_PROSODY_PROTOCOLS = ("sslv2", "sslv3", "sslv23", "tlsv1", "tlsv1+", "tlsv1_1", "tlsv1_1+")


def _main_file_missing(v: View, setting: str) -> CheckResult | None:
    """Unclear when prosody.cfg.lua (where `setting`) is not in the evidence, else None."""
    assert v.prosody is not None
    if v.prosody.main_path is None:
        return CheckResult.unclear(f"cannot tell: {setting} in prosody.cfg.lua, which is not in the evidence")
    return None


def _s2s_enabled(ctx: AuditContext, settings: str) -> tuple[bool, Evidence] | CheckResult:
    """Whether prosody loads s2s, and where that shows; unclear without prosody.cfg.lua (where `settings`)."""
    v = ctx.view
    missing = _main_file_missing(v, settings)
    if missing is not None:
        return missing
    disabled = v.p_get(None, "modules_disabled")
    if not v.module_enabled(None, "s2s"):
        where = disabled[1] if disabled else section_ev(v, None, "s2s not loaded")
        return False, where
    return True, section_ev(v, None, "s2s not in modules_disabled (auto-loaded)")


def _docker_s2s(v: View) -> CheckResult:
    flag, where = v.env_flag("PROSODY_ENABLE_S2S", False)
    visitors, w2 = v.env_flag("ENABLE_VISITORS", False)
    if flag or visitors:
        return CheckResult.failed("s2s is enabled in the prosody container", *evs(where, w2))
    return CheckResult.passed("docker disables s2s (PROSODY_ENABLE_S2S off)", *evs(where))


@check(
    "xmpp.s2s_disabled",
    title="Server-to-server federation is off or not reachable",
    severity=Severity.MEDIUM,
    criteria=("mgmt.access_control", "enc.all_channels"),
    rationale="""Prosody loads s2s automatically: unless modules_disabled = { "s2s" }, port 5269 accepts other
    XMPP servers. A Jitsi deployment needs federation only for visitors; otherwise it is attack surface
    (spoofed domains when s2s_secure_auth is off). docker-jitsi-meet disables it.""",
    remediation="""In the global section of prosody.cfg.lua: modules_disabled = { "s2s" } (or firewall 5269).""",
    references=(PROSODY_S2S,),
)
@prosody_or_docker(_docker_s2s)
def s2s_disabled(ctx: AuditContext) -> CheckResult:
    s2s = _s2s_enabled(ctx, "modules_disabled is set")
    if isinstance(s2s, CheckResult):
        return s2s
    enabled, where = s2s
    if not enabled:
        return CheckResult.passed("s2s is disabled", where)
    reachable, how, seen = xmpp_port_reachable(ctx, 5269, "s2s")
    if reachable is False:
        return CheckResult.passed(f"s2s is loaded, but {how}", where, *seen)
    if reachable is True:
        return CheckResult.failed(f"s2s is enabled and {how}", where, *seen)
    return CheckResult.unclear(f"cannot tell: s2s is enabled and {how}", where, *seen)


@check(
    "xmpp.s2s_encryption",
    title="Federated connections are encrypted and authenticated (s2s_require_encryption, s2s_secure_auth)",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit", "enc.all_channels"),
    rationale="""With s2s enabled, s2s_require_encryption = false lets server links run in clear and
    s2s_secure_auth = false (the engine default) accepts dialback instead of certificates, so a spoofed server
    can claim any domain.""",
    remediation="""Global section: s2s_require_encryption = true; s2s_secure_auth = true (or disable s2s).""",
    references=(PROSODY_S2S, PROSODY_SEC),
)
@prosody_or_docker(docker_flag("PROSODY_ENABLE_S2S", False,
    on=CheckResult.failed("docker sets s2s_secure_auth = false when s2s is on"),
    off=CheckResult.not_applicable("s2s is disabled in the prosody container")))  # fmt: skip
def s2s_encryption(ctx: AuditContext) -> CheckResult:
    s2s = _s2s_enabled(ctx, "s2s settings live")
    if isinstance(s2s, CheckResult):
        return s2s
    enabled, where = s2s
    if not enabled:
        return CheckResult.not_applicable("s2s is disabled", where)
    v = ctx.view
    problems: list[str] = []
    evidence: list[Evidence] = []
    req = v.p_get(None, "s2s_require_encryption")
    version = prosody_version(v)
    if req is not None:
        evidence.append(req[1])
        if truthy(req[0]) is False:
            problems.append("s2s_require_encryption = false")
    elif version is not None and version < (0, 12):
        problems.append(f"s2s_require_encryption not set (prosody {version[0]}.{version[1]} default false)")
    auth = v.p_get(None, "s2s_secure_auth")
    if auth is not None:
        evidence.append(auth[1])
        if truthy(auth[0]) is not True:
            problems.append("s2s_secure_auth = false")
    else:
        problems.append("s2s_secure_auth not set (default false)")
    if problems:
        return CheckResult.failed("; ".join(problems), where, *evidence)
    if req is None and version is None:
        return CheckResult.unclear(
            "cannot tell: s2s_require_encryption not set and the prosody version (its default) is unknown",
            where,
            *evidence,
        )
    return CheckResult.passed("server links require encryption and certificate authentication", where, *evidence)


def _ssl_settings(v: Any) -> list[tuple[str, dict[str, Any], Evidence]]:
    out = []
    for host in [None, *v.hosts()]:
        got = v.p_get(host, "ssl")
        if got is not None and isinstance(got[0], dict):
            out.append((host or "global", got[0], got[1]))
    seen: set[tuple[str, int | None]] = set()
    unique = []
    for name, value, where in out:
        key = (where.location.path, where.location.line)
        if key not in seen:
            seen.add(key)
            unique.append((name, value, where))
    return unique


@check(
    "xmpp.tls_protocol",
    title="Prosody accepts only TLS 1.2+ with strong ciphers",
    severity=Severity.MEDIUM,
    criteria=("enc.algorithm", "enc.in_transit"),
    rationale="""Prosody's ssl = { protocol, ciphers } governs c2s (5222), s2s and HTTPS (5281). Prosody 0.11
    defaulted to tlsv1+; the Jitsi template pins tlsv1_2+ with Mozilla intermediate ciphers.""",
    remediation="""In the Jitsi prosody file (global section):
    ssl = { protocol = "tlsv1_2+"; ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305" }""",
    references=(PROSODY_ADVANCED_SSL,),
)
@prosody_or_docker(CheckResult.passed("the docker prosody image pins protocol = tlsv1_2+ with intermediate ciphers"))
def tls_protocol(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    settings = _ssl_settings(v)
    problems = []
    evidence = []
    protocol_seen = False
    for name, value, where in settings:
        protocol = value.get("protocol")
        ciphers = value.get("ciphers")
        if protocol is not None:
            protocol_seen = True
            evidence.append(where)
            if str(protocol).lower() in _WEAK_PROSODY_PROTOCOLS:
                problems.append(f"{name}: protocol {protocol}")
        if isinstance(ciphers, str) and cipher_string_is_weak(ciphers):
            problems.append(f"{name}: weak ciphers {short(ciphers, 40)}")
            evidence.append(where)
    if problems:
        return CheckResult.failed("; ".join(problems), *dict.fromkeys(evidence))
    if protocol_seen:
        return CheckResult.passed("prosody TLS is limited to TLS 1.2+", *dict.fromkeys(evidence))
    version = prosody_version(v)
    if version is None:
        return CheckResult.unclear("cannot tell: ssl.protocol not set and the prosody version (its default) is unknown")
    if version >= (0, 12):
        return CheckResult.passed(f"ssl.protocol not set; prosody {version[0]}.{version[1]} defaults to tlsv1_2+")
    return CheckResult.failed(f"ssl.protocol not set; prosody {version[0]}.{version[1]} defaults to tlsv1+")


@check(
    "xmpp.http_interfaces",
    title="Prosody's HTTP listener (BOSH/websocket on 5280) is bound to loopback",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit", "enc.all_channels"),
    rationale="""nginx reaches BOSH and XMPP websockets on 127.0.0.1:5280 in clear text. Prosody 0.11 listens on
    5280 on all interfaces: anyone can then use BOSH without TLS (and the template's consider_bosh_secure
    makes prosody accept logins there). Port 5281 (HTTPS) listens everywhere unless https_ports = {}.""",
    remediation="""Global section: http_interfaces = { "127.0.0.1", "::1" } and https_ports = { }""",
    references=(PROSODY_HTTP,),
)
@prosody_or_docker(CheckResult.passed("docker keeps prosody's HTTP port on the internal meet.jitsi network"))
def http_interfaces(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    public = exposed(ctx.deployment.snapshot, 5280)
    got = v.p_get(None, "http_interfaces")
    if got is not None:
        addrs = lua_list(got[0])
        if addrs and all(is_loopback(a) for a in addrs):
            return CheckResult.passed("HTTP (5280) is bound to loopback", got[1])
        if public is False:
            return CheckResult.passed("http_interfaces is broad but nothing listens publicly on 5280", got[1])
        return CheckResult.failed(f"HTTP (5280) is bound to {', '.join(addrs) or 'nothing?'}", got[1])
    if public is True:
        return CheckResult.failed("port 5280 listens beyond loopback")
    if public is False:
        return CheckResult.passed("nothing listens publicly on 5280")
    version = prosody_version(v)
    if version is None:
        return CheckResult.unclear(
            "cannot tell: http_interfaces not set and neither the prosody version nor the listeners are known"
        )
    if version >= (0, 12):
        return CheckResult.passed(f"http_interfaces not set; prosody {version[0]}.{version[1]} binds 5280 to loopback")
    return CheckResult.failed(f"http_interfaces not set; prosody {version[0]}.{version[1]} binds 5280 to all interfaces")


@check(
    "xmpp.bosh_secure_assumption",
    title="consider_bosh_secure / consider_websocket_secure only where 5280 is private",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit",),
    rationale="""consider_bosh_secure = true tells prosody that plain HTTP BOSH is encrypted (because nginx
    terminated TLS). If port 5280 is reachable from outside, passwords and tokens cross the network in clear
    while prosody believes the connection is secure.""",
    remediation="""Keep consider_bosh_secure only with http_interfaces = { "127.0.0.1", "::1" } (or a firewall on 5280).""",
    references=(PROSODY_HTTP,),
)
@prosody_or_docker(CheckResult.passed("docker prosody's HTTP port is only on the internal network"))
def bosh_secure_assumption(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    flags = [got for key in ("consider_bosh_secure", "consider_websocket_secure") if (got := v.p_get(None, key))]
    flags += [got for h in v.hosts() for key in ("consider_bosh_secure", "consider_websocket_secure") if (got := v.p_get(h, key))]
    on = list(dict.fromkeys(got[1] for got in flags if truthy(got[0]) is True))
    if not on:
        return CheckResult.passed("prosody does not treat plain HTTP as secure")
    result = http_interfaces.run(ctx)
    if result.status.value == "pass":
        return CheckResult.passed("plain HTTP is trusted, and 5280 is private", *on, *result.evidence)
    if result.status.value == "fail":
        return CheckResult.failed(f"plain HTTP is trusted as secure while {result.message}", *on, *result.evidence)
    return CheckResult.unclear(f"plain HTTP is trusted as secure; {result.message}", *on)


_PROSODY_012_IMAGE = 7210  # docker-jitsi-meet moved to prosody 0.12 in stable-7210 and dropped XMPP_CROSS_DOMAIN
_ANY_ORIGIN = ("prosody 0.12 and later ignore cross_domain_bosh/cross_domain_websocket and answer BOSH and websocket "
               "CORS requests from every origin unless http_cors_override or access_control_allow_origins restricts them")


def _docker_cross_domain(v: View) -> CheckResult:
    raw, where = v.env_get("XMPP_CROSS_DOMAIN")
    tag, e2 = _prosody_image_tag(v)
    stable = docker_stable(tag or "")
    if stable is not None and stable < _PROSODY_012_IMAGE:  # prosody 0.11: the variable still applies
        if raw and raw.strip().lower() != "false":
            what = "every origin" if raw.strip().lower() == "true" else f"the origins {short(raw, 60)}"
            return CheckResult.failed(f"XMPP_CROSS_DOMAIN={short(raw, 40)} accepts {what}", *evs(where, e2))
        return CheckResult.passed("cross-domain BOSH/websocket not enabled (prosody 0.11 image)", *evs(where, e2))
    if stable is None and tag not in ("unstable", "latest"):
        return CheckResult.unclear(f"cannot tell: the prosody image's version is unknown; {_ANY_ORIGIN} (images "
                                   f"from stable-{_PROSODY_012_IMAGE} on, which set neither)", *evs(e2))
    return CheckResult.failed(f"the prosody image (0.12 or later) sets no CORS restriction: {_ANY_ORIGIN}", *evs(e2))


def _prosody_image_tag(v: View) -> tuple[str | None, Evidence | None]:
    """The tag of the jitsi/prosody image: the compose files as .env resolves them, else JITSI_IMAGE_VERSION.
    Of several prosody images (compose files of several deployments), the one judged first is the newest
    release or a moving tag (0.12+: CORS for every origin), so the verdict does not follow path order."""
    images = v.dep.derived("docker.images", deployment_images).images
    refs = [r for r in images if r.jitsi_image == "prosody" and r.tag]
    if refs:
        ref = max(refs, key=_prosody_012_first)
        return ref.tag, Evidence(Location(ref.path, ref.line), f"image {short(ref.reference, 60)}")
    return v.env_get("JITSI_IMAGE_VERSION")


def _prosody_012_first(ref: ImageRef) -> tuple[int, int]:
    """Sort key, the image that decides first: a moving tag (unstable, latest), a release with prosody
    0.12+, a tag of unknown version (unclear), a release with prosody 0.11 (the last to pass)."""
    if ref.tag in ("unstable", "latest"):
        return 3, 0
    stable = docker_stable(ref.tag or "")
    if stable is None:
        return 1, 0
    return (2 if stable >= _PROSODY_012_IMAGE else 0), stable


def _cors_restricted(v: View, app: str) -> Evidence | None:
    """Where prosody 0.12+'s mod_http stops answering CORS for every origin on the HTTP app `app` (bosh,
    websocket): http_cors_override[app] with enabled = false or an origins list, else a non-wildcard
    access_control_allow_origins. None when CORS is open to every origin."""
    override = v.p_get(v.main_host, "http_cors_override")
    entry = override[0].get(app) if override is not None and isinstance(override[0], dict) else None
    if isinstance(entry, dict):
        if entry.get("enabled") is False:
            return override[1] if override else None
        origins = entry.get("origins")
        if entry.get("enabled") is True and origins and origins != "*" and not (isinstance(origins, list) and "*" in origins):
            return override[1] if override else None
    allowed = v.p_get(v.main_host, "access_control_allow_origins")
    if allowed is not None and isinstance(allowed[0], list) and allowed[0] and "*" not in allowed[0]:
        return allowed[1]
    if allowed is not None and isinstance(allowed[0], str) and allowed[0] not in ("", "*"):
        return allowed[1]
    return None


@check(
    "xmpp.cross_domain",
    title="BOSH and XMPP websocket do not accept every web origin",
    severity=Severity.LOW,
    criteria=("mgmt.access_control",),
    rationale="""cross_domain_bosh = true / cross_domain_websocket = true let any web page open XMPP sessions
    to this server from visitors' browsers (CORS for every origin), e.g. to abuse anonymous logins or TURN
    credentials. Prosody 0.12 deprecated both options: its mod_http answers BOSH and websocket CORS requests
    from every origin unless http_cors_override (commented out in Jitsi's template) or
    access_control_allow_origins restricts them.""",
    remediation="""Prosody 0.11: cross_domain_bosh = false; cross_domain_websocket = false (or a list of your own
    origins). Prosody 0.12+: http_cors_override = { bosh = { enabled = false }; websocket = { enabled = false } }
    (or access_control_allow_origins = { "https://meet.example.org" }).""",
    references=("https://prosody.im/doc/modules/mod_bosh", "https://prosody.im/doc/http",
                "https://github.com/jitsi/jitsi-meet/blob/master/doc/debian/jitsi-meet-prosody/prosody.cfg.lua-jvb.example"),
)
@prosody_or_docker(_docker_cross_domain)
def cross_domain(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    bad = []
    seen = []
    for host in [None, *v.hosts()]:
        for key in ("cross_domain_bosh", "cross_domain_websocket"):
            got = v.p_get(host, key)
            if got is None:
                continue
            seen.append(got[1])
            if truthy(got[0]) is True or (isinstance(got[0], list) and "*" in got[0]):
                bad.append(got[1])
    if bad:
        return CheckResult.failed("BOSH or websocket accepts requests from any web origin", *dict.fromkeys(bad))
    restriction = {app: _cors_restricted(v, app) for app in ("bosh", "websocket") if module_hosts(v, app)}
    open_apps = [app for app, where in restriction.items() if where is None]
    if not open_apps:
        restricted = [where for where in restriction.values() if where is not None]
        return CheckResult.passed("cross-domain BOSH/websocket is not open to every origin",
                                  *dict.fromkeys([*seen, *restricted]))
    version = prosody_version(v)
    if version is not None and version >= (0, 12):
        return CheckResult.failed(f"{' and '.join(open_apps)} on prosody {version[0]}.{version[1]}: {_ANY_ORIGIN}",
                                  *dict.fromkeys(seen))
    if version is not None:
        return CheckResult.passed(f"cross-domain BOSH/websocket is off (prosody {version[0]}.{version[1]} honours "
                                  "cross_domain_bosh)", *dict.fromkeys(seen))
    return CheckResult.unclear(f"cannot tell: the prosody version is unknown; {_ANY_ORIGIN}", *dict.fromkeys(seen))


def _docker_admins(v: View) -> CheckResult:
    raw, where = v.env_get("PROSODY_ADMINS")
    n = len([a for a in (raw or "").split(",") if a.strip()])
    return CheckResult.passed(f"{n} admin(s) configured through PROSODY_ADMINS", *evs(where))


@check(
    "xmpp.admins",
    title="Prosody admins are only operators' accounts on authenticated hosts",
    severity=Severity.HIGH,
    criteria=("auth.rbac", "mgmt.central_control"),
    rationale="""A prosody admin owns every room and can run admin commands. An admin JID on an anonymous host
    can be claimed by anyone who logs in with that name; a long list of people defeats the point.""",
    remediation="""Global section: admins = { "ops@meet.example.org" } (accounts on an authenticated host only);
    component admins = { "focus@auth.meet.example.org" } on the MUCs are expected.""",
    references=("https://prosody.im/doc/admins",),
)
@prosody_or_docker(_docker_admins)
def admins(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    got = v.p_get(None, "admins")
    if got is None:
        return _main_file_missing(v, "admins is set") or CheckResult.passed("no global prosody admins")
    jids = lua_list(got[0])
    anon = set(anonymous_hosts(v)) | {h for h in v.hosts() if (v.auth_of(h)[0] or "") in ANONYMOUS_AUTH}
    risky = [j for j in jids if j.split("@")[-1] in anon]
    if risky:
        return CheckResult.failed(f"admin JID(s) on anonymous hosts: {', '.join(risky)}", got[1])
    return CheckResult.passed(f"{len(jids)} global admin(s), none on an anonymous host", got[1])


def _log_entries(value: Any) -> tuple[list[str], list[Any]]:
    """(levels named directly, sink entries) of a prosody `log` table. Debian's is mixed: named levels and
    a positional sink, { info = file; error = file; { levels = { "error" }; to = "syslog" } }, which the
    parser gives as a dict whose positional entry has the key "1"."""
    if isinstance(value, list):
        return [], list(value)
    if not isinstance(value, dict):
        return [], []
    named = [str(k) for k in value if not str(k).isdigit()]
    return named, [v for k, v in value.items() if str(k).isdigit()]


def _log_levels(value: Any) -> list[str]:
    """Levels named by a prosody `log` setting: {info = file}, { { levels = { min = "debug" }, to = ... } }
    or both in one table, read as prosody's loggingmanager does: a "*sink" string (the whole setting or an
    entry) logs from debug up, a sink table without `levels` logs every level, a file name alone from info."""
    if isinstance(value, str):
        return ["debug"] if value.startswith("*") else ["info"]
    levels, entries = _log_entries(value)
    for entry in entries:
        if isinstance(entry, str):
            levels += ["debug"] if entry.startswith("*") else []
            continue
        lv = entry.get("levels") if isinstance(entry, dict) else None
        if lv is None and isinstance(entry, dict):
            levels.append("debug")  # `sink_config.levels or logging_levels`: all of them
        elif isinstance(lv, dict):
            levels += [str(x) for x in lv.values()]
        elif isinstance(lv, list):
            levels += [str(x) for x in lv]
        elif isinstance(lv, str):
            levels.append(lv)
    return levels


def _log_sinks(value: Any) -> str:
    if isinstance(value, str):
        return value
    named, entries = _log_entries(value)
    sinks = [str(value[k]) for k in named] if isinstance(value, dict) else []
    for entry in entries:
        if isinstance(entry, dict):
            sinks.append(str(entry.get("filename") or entry.get("to") or "console"))
    return ", ".join(sinks)


def _docker_logging(v: View) -> CheckResult:
    level, where = v.env_get("LOG_LEVEL", "info")
    if (level or "").lower() == "debug":
        return CheckResult.failed("prosody logs at debug level", *evs(where))
    return CheckResult.passed(f"prosody logs to the container console at {level}", *evs(where))


@check(
    "xmpp.logging",
    title="Prosody logs at info level or above to files, not debug",
    severity=Severity.LOW,
    criteria=("mgmt.audit_reporting", "jur.privacy"),
    rationale="""The prosody log is the only record of logins and room activity (audit), and debug logging writes
    full stanzas: display names, e-mail addresses, room names, tokens. Keep info-level logs in a known place
    and rotated.""",
    remediation="""Global section: log = { info = "/var/log/prosody/prosody.log"; error = "/var/log/prosody/prosody.err" }""",
    references=(PROSODY_LOGGING,),
)
@prosody_or_docker(_docker_logging)
def logging(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    got = v.p_get(None, "log")
    # `debug = true` (global) lowers prosody's default sinks to debug: no log setting, or a file name alone
    debug = v.p_get(None, "debug")
    debug_mode = debug is not None and debug[0] not in (None, False)
    if got is None:
        if debug_mode and debug is not None:
            return CheckResult.failed("prosody logs at debug level (debug = true, no log setting)", debug[1])
        return _main_file_missing(v, "log is set") or CheckResult.passed(
            "no log setting: prosody logs info to stdout (the journal under systemd)"
        )
    if debug_mode and debug is not None and isinstance(got[0], str) and not got[0].startswith("*"):
        return CheckResult.failed("prosody logs at debug level (debug = true, log to a file name)", got[1], debug[1])
    levels = _log_levels(got[0])
    if "debug" in levels:
        return CheckResult.failed("prosody logs at debug level (full stanzas, personal data)", got[1])
    sinks = _log_sinks(got[0])
    shown = ", ".join(dict.fromkeys(levels)) or "info"
    return CheckResult.passed(f"prosody logs {shown} ({short(sinks or 'configured sinks', 60)})", got[1])
