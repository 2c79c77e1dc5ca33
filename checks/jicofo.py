"""Jicofo: how it trusts prosody's certificate, whether it uses TLS, and where its REST API listens."""

from __future__ import annotations

import re

from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.facts import truthy
from auditor.listeners import exposed
from auditor.model import CheckResult, Severity
from auditor.registry import check
from checks._common import ev, evs, is_loopback, parsed, short, why_missing

JICOFO_REF = "https://github.com/jitsi/jicofo/blob/master/jicofo-common/src/main/resources/reference.conf"
JICOFO_REST_LOOPBACK_BUILD = 1138  # jicofo 1.0-1138 (stable 10314, 2025-06): REST host 0.0.0.0 -> 127.0.0.1


def _no_jicofo(ctx: AuditContext) -> CheckResult | None:
    if ctx.deployment.jicofo is None and parsed(ctx, Role.JICOFO_PROPERTIES) is None:
        return CheckResult.unclear(why_missing(ctx, "jicofo configuration"))
    return None


def _jicofo_bad(ctx: AuditContext) -> CheckResult | None:
    pf = ctx.deployment.jicofo
    if pf is not None and pf.value is None:
        return CheckResult.unclear(f"cannot tell: {pf.error or 'jicofo.conf unreadable'}")
    return None


@check(
    "jicofo.always_trust_mode",
    title="Jicofo does not trust every XMPP certificate (ALWAYS_TRUST_MODE_ENABLED)",
    severity=Severity.HIGH,
    criteria=("enc.in_transit", "enc.all_channels"),
    rationale="""org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED=true disables certificate checks on jicofo's XMPP
    connection: whoever can intercept it impersonates prosody and controls every conference. Installs
    from before 2021 set it and upgrades never removed it.""",
    remediation="""Delete org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED=true from /etc/jitsi/jicofo/sip-communicator.properties
    and trust prosody's certificate through the system CA store instead.""",
    references=(JICOFO_REF,),
)
def always_trust_mode(ctx: AuditContext) -> CheckResult:
    props = parsed(ctx, Role.JICOFO_PROPERTIES)
    if props is not None:
        path, values = props
        entry = values.get("org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED")
        if entry is not None and truthy(entry.value) is True:
            return CheckResult.failed(
                "jicofo accepts any XMPP certificate",
                ev(path, entry.line, f"org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED={short(entry.value)}"),
            )
        return CheckResult.passed("always-trust mode is not enabled", ev(path, None, "no ALWAYS_TRUST_MODE_ENABLED=true"))
    bad = _jicofo_bad(ctx)
    if bad:
        return bad
    if ctx.deployment.jicofo is not None or ctx.view.env_ok:
        return CheckResult.passed("no legacy sip-communicator.properties: always-trust mode does not exist here")
    return CheckResult.unclear(why_missing(ctx, "jicofo configuration"))


@check(
    "jicofo.certificate_verification",
    title="Jicofo verifies prosody's certificate (disable-certificate-verification)",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit",),
    rationale="""jicofo.xmpp.client.disable-certificate-verification = true accepts any certificate on the XMPP
    connection that carries conference control. It is acceptable only when that connection stays on
    loopback (the docker template sets it inside the container network).""",
    remediation="""In jicofo.conf: jicofo { xmpp { client { disable-certificate-verification = false } } } and add
    prosody's auth.<domain> certificate to the system CA store (the Debian package does).""",
    references=(JICOFO_REF,),
)
def certificate_verification(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    pf = ctx.deployment.jicofo
    if pf is None:
        if v.env_ok:
            host, where = v.env_get("XMPP_SERVER", "xmpp.meet.jitsi")
            return CheckResult.failed(
                f"the docker jicofo image disables certificate verification towards {host}", *evs(where)
            )
        return _no_jicofo(ctx) or CheckResult.not_applicable("legacy jicofo without jicofo.conf")
    bad = _jicofo_bad(ctx)
    if bad:
        return bad
    problems = []
    kept = []  # set, but to false: where (an include may have reset the main file's true)
    for section in ("client", "service"):
        got = v.hocon(pf, f"jicofo.xmpp.{section}.disable-certificate-verification")
        if got is not None and truthy(got[0]) is not True:
            kept.append(got[1])
        if got is not None and truthy(got[0]) is True:
            target = v.hocon(pf, f"jicofo.xmpp.{section}.hostname")
            problems.append((section, str(target[0]) if target else "localhost", got[1]))
    if problems:
        remote = [p for p in problems if not is_loopback(p[1])]
        if remote:
            return CheckResult.failed(
                f"certificate verification is off towards {remote[0][1]}", *[p[2] for p in problems]
            )
        return CheckResult.passed(
            "certificate verification is off, but only for a loopback connection", *[p[2] for p in problems]
        )
    return CheckResult.passed("jicofo verifies the XMPP server certificate",
                              *(kept or [ev(pf.path, None, "disable-certificate-verification not set")]))


@check(
    "jicofo.use_tls",
    title="Jicofo's XMPP connection uses TLS (use-tls)",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit", "enc.all_channels"),
    rationale="""jicofo.xmpp.client.use-tls = false sends jicofo's password and all conference signalling to
    prosody in clear text: harmless on loopback, a leak when prosody runs on another host.""",
    remediation="""jicofo { xmpp { client { use-tls = true } } } (the default), or keep jicofo and prosody on one host.""",
    references=(JICOFO_REF,),
)
def use_tls(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    pf = ctx.deployment.jicofo
    if pf is None:
        if v.env_ok:
            return CheckResult.passed("the docker jicofo image keeps use-tls at its default (true)")
        return _no_jicofo(ctx) or CheckResult.not_applicable("legacy jicofo without jicofo.conf")
    bad = _jicofo_bad(ctx)
    if bad:
        return bad
    got = v.hocon(pf, "jicofo.xmpp.client.use-tls")
    if got is not None and truthy(got[0]) is False:
        host = v.hocon(pf, "jicofo.xmpp.client.hostname")
        target = str(host[0]) if host else "localhost"
        if is_loopback(target):
            return CheckResult.passed("use-tls is off, but jicofo reaches prosody on loopback", got[1])
        return CheckResult.failed(f"jicofo talks to prosody at {target} without TLS", *evs(got[1], host[1] if host else None))
    return CheckResult.passed("jicofo uses TLS to prosody", *evs(got[1] if got else ev(pf.path, None, "use-tls not set (default true)")))


def _jicofo_build(ctx: AuditContext) -> int | None:
    version = ctx.deployment.packages.get("jicofo")
    m = re.match(r"(?:\d+:)?1\.0-(\d+)", version or "")
    return int(m.group(1)) if m else None


@check(
    "jicofo.rest_bind",
    title="Jicofo's REST API (8888) listens on loopback only",
    severity=Severity.HIGH,
    criteria=("mgmt.central_control", "mgmt.access_control"),
    rationale="""Jicofo's REST server offers /conference-request/v1, /debug, /stats, /metrics, /move-endpoints and
    /pin. Before jicofo 1.0-1138 (mid-2025) it bound 0.0.0.0:8888 by default: conference internals and
    control endpoints reachable by anyone who reaches the host.""",
    remediation="""jicofo { rest { host = "127.0.0.1" } } in /etc/jitsi/jicofo/jicofo.conf (nginx proxies only
    /conference-request/v1), or firewall port 8888.""",
    references=(JICOFO_REF,),
)
def rest_bind(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    pf = ctx.deployment.jicofo
    public = exposed(ctx.deployment.snapshot, 8888)
    if pf is None:
        if v.env_ok:
            return CheckResult.passed("docker publishes jicofo's REST port on 127.0.0.1 only")
        if public is not None:
            if public:
                return CheckResult.failed("port 8888 listens beyond loopback (jicofo REST)")
            return CheckResult.passed("nothing listens publicly on 8888")
        return _no_jicofo(ctx) or CheckResult.unclear(
            "cannot tell: legacy jicofo (no jicofo.conf) served its REST port 8888 on all interfaces unless "
            "firewalled; the listeners were not collected"
        )
    bad = _jicofo_bad(ctx)
    if bad:
        return bad
    enabled = v.hocon(pf, "jicofo.rest.enabled")
    if enabled is not None and truthy(enabled[0]) is False:
        return CheckResult.passed("jicofo's REST API is disabled", enabled[1])
    host = v.hocon(pf, "jicofo.rest.host")
    if host is not None:
        if is_loopback(str(host[0])):
            return CheckResult.passed("jicofo's REST API is bound to loopback", host[1])
        if public is False:
            return CheckResult.passed(f"jicofo binds {host[0]}, but nothing listens publicly on 8888", host[1])
        return CheckResult.failed(f"jicofo's REST API listens on {host[0]}:8888", host[1])
    if public is not None:
        if public:
            return CheckResult.failed("port 8888 listens beyond loopback (jicofo REST)")
        return CheckResult.passed("nothing listens publicly on 8888")
    build = _jicofo_build(ctx)
    if build is None:
        return CheckResult.unclear(
            "cannot tell: jicofo.rest.host not set and neither the jicofo version nor the listeners are known"
        )
    if build >= JICOFO_REST_LOOPBACK_BUILD:
        return CheckResult.passed(f"rest.host not set; jicofo 1.0-{build} binds 127.0.0.1 by default")
    return CheckResult.failed(f"rest.host not set; jicofo 1.0-{build} binds 0.0.0.0:8888 by default")
