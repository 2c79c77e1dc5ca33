"""Videobridge: shutdown API, public HTTP server, STUN mapping, statistics and colibri websockets."""

from __future__ import annotations

from auditor.apache_front import apache_config
from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.facts import (
    is_third_party_host,
    stun_host,
    third_party_doubt,
    truthy,
    unseen_apache_include,
    unseen_location_include,
)
from auditor.listeners import exposed
from auditor.model import CheckResult, Evidence, Severity
from auditor.registry import check
from checks._common import ev, evs, file_error, is_loopback, parsed, short, why_missing

JVB_REF = "https://github.com/jitsi/jitsi-videobridge/blob/master/jvb/src/main/resources/reference.conf"
JVB_REST = "https://github.com/jitsi/jitsi-videobridge/blob/master/doc/rest.md"
JVB_WS = "https://github.com/jitsi/jitsi-videobridge/blob/master/doc/web-sockets.md"
_STATS_PATHS = ("/colibri/stats", "/metrics", "/debug")


def _jvb(ctx: AuditContext) -> CheckResult | None:
    """Unclear when there is no usable jvb.conf (and no legacy files or docker env to go by)."""
    pf = ctx.deployment.jvb
    if pf is not None and pf.value is None:
        return CheckResult.unclear(f"cannot tell: {pf.error or 'jvb.conf unreadable'}")
    legacy = parsed(ctx, Role.JVB_PROPERTIES) is not None or ctx.deployment.first(Role.JVB_ENV) is not None
    if pf is None and not legacy and not ctx.view.env_ok:
        return CheckResult.unclear(why_missing(ctx, "videobridge configuration"))
    return None


@check(
    "jvb.shutdown_api",
    title="The videobridge shutdown API is off or private",
    severity=Severity.MEDIUM,
    criteria=("mgmt.central_control",),
    rationale="""videobridge.rest.shutdown.enabled = true exposes POST /colibri/shutdown on the private HTTP
    server: whoever reaches it stops the bridge and every meeting on it.""",
    remediation="""jvb.conf: videobridge { rest { shutdown { enabled = false } } } (the default), or keep
    http-servers.private.host = 127.0.0.1. Docker: SHUTDOWN_REST_ENABLED=0""",
    references=(JVB_REST, JVB_REF),
)
def shutdown_api(ctx: AuditContext) -> CheckResult:
    early = _jvb(ctx)
    if early:
        return early
    v = ctx.view
    pf = ctx.deployment.jvb
    if pf is None:
        if v.env_ok:
            flag, where = v.env_flag("SHUTDOWN_REST_ENABLED", False)
            if flag:
                return CheckResult.passed("the shutdown API is on, published on 127.0.0.1:8080 only", *evs(where))
            return CheckResult.passed("the shutdown API is off", *evs(where))
        legacy = _legacy_shutdown(ctx)
        if legacy is None:
            if gap := file_error(ctx, Role.JVB_PROPERTIES):  # the setting may be in it
                return CheckResult.unclear(f"cannot tell: {gap}")
            return CheckResult.passed("legacy videobridge without the shutdown API setting (off by default)")
        rest = ctx.fact("jvb.rest_public")
        if rest.value is True:
            return CheckResult.failed(f"the shutdown API is on and the REST API serving it is public ({rest.note})",
                                      legacy, *rest.evidence)
        if rest.value is None:
            return CheckResult.unclear(f"cannot tell: the shutdown API is on; {rest.note or 'REST exposure unknown'}",
                                       legacy, *rest.evidence)
        return CheckResult.passed(f"the shutdown API is on, but not served ({rest.note})", legacy, *rest.evidence)
    got = v.hocon(pf, "videobridge.rest.shutdown.enabled")
    if got is None:  # an upgraded host keeps its sip-communicator.properties, which the bridge still reads
        legacy = _legacy_shutdown(ctx)
        if legacy is not None:
            got = (True, legacy)
    if got is None and (gap := file_error(ctx, Role.JVB_PROPERTIES)):
        return CheckResult.unclear(f"cannot tell: not enabled in {pf.path}, but {gap}", ev(pf.path, None, "rest.shutdown not enabled"))
    if got is None or truthy(got[0]) is not True:
        return CheckResult.passed("the shutdown API is off", *evs(got[1] if got else ev(pf.path, None, "rest.shutdown not enabled")))
    host = v.hocon(pf, "videobridge.http-servers.private.host")
    bind = str(host[0]) if host else "127.0.0.1"
    if is_loopback(bind):
        return CheckResult.passed("the shutdown API is on, but only on the loopback private server", got[1], *evs(host[1] if host else None))
    return CheckResult.failed(f"the shutdown API is on and the private server binds {bind}", got[1], *evs(host[1] if host else None))


def _legacy_shutdown(ctx: AuditContext) -> Evidence | None:
    """org.jitsi.videobridge.ENABLE_REST_SHUTDOWN=true in the legacy sip-communicator.properties (the 2020
    scalable example sets it; videobridge 2.x still reads the legacy name)."""
    props = parsed(ctx, Role.JVB_PROPERTIES)
    entry = props[1].get("org.jitsi.videobridge.ENABLE_REST_SHUTDOWN") if props is not None else None
    if props is None or entry is None or truthy(entry.value) is not True:
        return None
    return ev(props[0], entry.line, f"ENABLE_REST_SHUTDOWN={short(entry.value)}")


@check(
    "jvb.public_http",
    title="The videobridge public HTTP server (9090, colibri-ws) is not reachable directly",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit", "mgmt.access_control"),
    rationale="""The Debian package wrote http-servers.public.port = 9090 from 2020-09 to 2026-05; it binds all
    interfaces unless a host is set, so colibri websockets (and anything else on it) are served in clear
    text next to nginx's TLS endpoint.""",
    remediation="""jvb.conf: videobridge { http-servers { public { host = 127.0.0.1, port = 9090 } } } and let nginx
    proxy /colibri-ws/ over TLS (or firewall 9090).""",
    references=(JVB_WS, JVB_REF),
)
def public_http(ctx: AuditContext) -> CheckResult:
    early = _jvb(ctx)
    if early:
        return early
    v = ctx.view
    pf = ctx.deployment.jvb
    if pf is None:
        if v.env_ok:
            return CheckResult.passed("docker does not publish the videobridge's 9090 port")
        return CheckResult.not_applicable("legacy videobridge without a public HTTP server")
    port = v.hocon(pf, "videobridge.http-servers.public.port")
    if port is None or str(port[0]).strip() in ("-1", "0"):
        return CheckResult.passed("no public HTTP server", *evs(port[1] if port else None))
    number = str(port[0]).strip()
    public = exposed(ctx.deployment.snapshot, int(number)) if number.isdigit() and int(number) < 65536 else None
    host = v.hocon(pf, "videobridge.http-servers.public.host")
    where = evs(port[1], host[1] if host else None)
    if host is not None and is_loopback(str(host[0])):
        return CheckResult.passed(f"public HTTP server on {host[0]}:{port[0]} behind nginx", *where)
    if public is False:
        return CheckResult.passed(f"port {port[0]} is configured but not listening beyond loopback", *where)
    state = "listens on all interfaces" if public else "binds all interfaces (no host set)"
    return CheckResult.failed(f"the videobridge HTTP server on port {port[0]} {state}", *where)


@check(
    "jvb.stun_mapping",
    title="The videobridge discovers its address without third-party STUN servers",
    severity=Severity.MEDIUM,
    criteria=("jur.data_location", "jur.privacy"),
    rationale="""ice4j.harvest.mapping.stun.addresses defaults to meet-jit-si-turnrelay.jitsi.net:443 (8x8) in the
    Debian postinst and docker: every bridge start tells a third party the server's address. Static mappings
    or an own STUN server avoid it.""",
    remediation="""jvb.conf: ice4j { harvest { mapping { stun { addresses = [ "meet.example.org:3478" ] }
    static-mappings = [ { local-address = "10.0.0.5", public-address = "203.0.113.5" } ] } } }
    Docker: JVB_STUN_SERVERS=meet.example.org:3478 or JVB_ADVERTISE_IPS=203.0.113.5""",
    references=("https://github.com/jitsi/ice4j/blob/master/doc/configuration.md",),
)
def stun_mapping(ctx: AuditContext) -> CheckResult:
    early = _jvb(ctx)
    if early:
        return early
    v = ctx.view
    own = v.own_domains()  # docker: the public host, not only the internal XMPP domain
    pf = ctx.deployment.jvb
    addresses: list[str] = []
    where: list[Evidence] = []
    if pf is not None:
        got = v.hocon(pf, "ice4j.harvest.mapping.stun.addresses")
        if got is not None:
            addresses = [str(a) for a in got[0]] if isinstance(got[0], list) else [str(got[0])]
            where.append(got[1])
    props = parsed(ctx, Role.JVB_PROPERTIES)
    if props is not None:
        entry = props[1].get("org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES")
        if entry is not None:
            addresses += entry.value.split(",")
            where.append(ev(props[0], entry.line, f"STUN_MAPPING_HARVESTER_ADDRESSES={short(entry.value)}"))
    if pf is None and props is None and v.env_ok:
        disabled, e1 = v.env_flag("JVB_DISABLE_STUN", False)
        if disabled:
            return CheckResult.passed("JVB_DISABLE_STUN: the bridge uses no STUN server", *evs(e1))
        raw, e2 = v.env_get("JVB_STUN_SERVERS", "meet-jit-si-turnrelay.jitsi.net:443")
        addresses = (raw or "").split(",")
        where += evs(e2)
    third = [a.strip() for a in addresses if a.strip() and is_third_party_host(stun_host(a), own)]
    if third:
        if doubt := third_party_doubt(v, [stun_host(a) for a in third]):
            return CheckResult.unclear(doubt, *where)
        return CheckResult.failed(f"the bridge asks third-party STUN servers: {', '.join(third)}", *where)
    if addresses:
        # no own domain known (every address looks own): a file that names them may be unusable
        if not own and (doubt := third_party_doubt(v, [stun_host(a) for a in addresses])):
            return CheckResult.unclear(doubt, *where)
        return CheckResult.passed("the bridge's STUN servers are the operator's own", *where)
    return CheckResult.passed("no STUN mapping harvester configured", *where)


@check(
    "jvb.stats_exposure",
    title="Videobridge statistics go nowhere outside the deployment",
    severity=Severity.LOW,
    criteria=("jur.privacy", "mgmt.central_control"),
    rationale="""Legacy STATISTICS_TRANSPORT=callstats sent per-conference statistics to callstats.io (and the
    callstats integration was log4j-exposed, JSA-2021-0004); an nginx location or Apache ProxyPass forwarding
    /colibri/stats or /metrics publishes conference counts and load to anyone.""",
    remediation="""Remove callstats from org.jitsi.videobridge.STATISTICS_TRANSPORT and any nginx location (Apache
    ProxyPass) forwarding /colibri/stats, /metrics or /debug; scrape statistics from 127.0.0.1:8080 instead.""",
    references=(JVB_REST, "JSA-2021-0004"),
)
def stats_exposure(ctx: AuditContext) -> CheckResult:
    found: list[Evidence] = []
    props = parsed(ctx, Role.JVB_PROPERTIES)
    if props is not None:
        entry = props[1].get("org.jitsi.videobridge.STATISTICS_TRANSPORT")
        if entry is not None and "callstats" in str(entry.value).lower():
            found.append(ev(props[0], entry.line, f"STATISTICS_TRANSPORT={short(entry.value)}"))
    nginx = ctx.deployment.nginx
    if nginx is not None and nginx.value is not None:
        for server in nginx.value.servers:
            for loc in server.locations:
                if any(p in loc.path for p in _STATS_PATHS) and loc.directive("proxy_pass"):
                    found.append(Evidence(loc.location, f"location {loc.path} proxied"))
    apache = apache_config(ctx.deployment)
    for proxy in apache.proxies() if apache is not None else []:
        if any(p in proxy.path for p in _STATS_PATHS):
            found.append(Evidence(proxy.location, f"{proxy.directive.name} {short(proxy.path, 40)} proxied"))
    if found:
        return CheckResult.failed("bridge statistics leave the deployment", *found)
    early = _jvb(ctx)
    if early:
        return early
    for server in nginx.value.servers if nginx is not None and nginx.value is not None else []:
        hidden = unseen_location_include(server)
        if hidden:
            return CheckResult.unclear(f"cannot tell whether a stats location is public: {hidden}",
                                       Evidence(server.location, "server block"))
    hidden = unseen_apache_include(apache) if apache is not None else None
    if hidden:
        return CheckResult.unclear(f"cannot tell whether a stats location is public: {hidden}")
    if gap := file_error(ctx, Role.JVB_PROPERTIES):  # STATISTICS_TRANSPORT may name callstats in it
        return CheckResult.unclear(f"cannot tell whether statistics go to callstats: {gap}")
    return CheckResult.passed("statistics stay local (no callstats, no public stats location)")


@check(
    "jvb.websocket_tls",
    title="Colibri websockets are announced over TLS for the public domain",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit", "enc.all_channels"),
    rationale="""Clients open the bridge channel at the URL the bridge announces from videobridge.websockets
    {domain, tls}. tls = false makes browsers use ws:// (cleartext bridge signalling); a domain other than
    the public one breaks the channel or sends it elsewhere.""",
    remediation="""jvb.conf: videobridge { websockets { enabled = true, domain = "meet.example.org:443", tls = true } }""",
    references=(JVB_WS,),
)
def websocket_tls(ctx: AuditContext) -> CheckResult:
    early = _jvb(ctx)
    if early:
        return early
    v = ctx.view
    pf = ctx.deployment.jvb
    if pf is None:
        if v.env_ok:
            return CheckResult.passed("the docker web container proxies colibri-ws over TLS")
        return CheckResult.not_applicable("legacy videobridge without colibri websockets")
    enabled = v.hocon(pf, "videobridge.websockets.enabled")
    if enabled is None or truthy(enabled[0]) is not True:
        return CheckResult.not_applicable("colibri websockets are not enabled", *evs(enabled[1] if enabled else None))
    tls = v.hocon(pf, "videobridge.websockets.tls")
    domain = v.hocon(pf, "videobridge.websockets.domain")
    where = evs(enabled[1], tls[1] if tls else None, domain[1] if domain else None)
    if tls is None or truthy(tls[0]) is not True:
        return CheckResult.failed("colibri websockets are announced without TLS (ws://)", *where)
    owns = v.own_domains()  # docker: the public host; meet.jitsi is internal
    host = str(domain[0]).rsplit(":", 1)[0] if domain else None
    if owns and host and is_third_party_host(host, owns):
        if doubt := third_party_doubt(v, [host]):
            return CheckResult.unclear(doubt, *where)
        return CheckResult.failed(f"colibri websockets are announced for {host}, not {v.public_domain()}", *where)
    # no own domain known: the domain is compared with nothing, and a file naming the deployment's
    # domains may be unusable (as jvb.stun_mapping): not a pass on TLS alone
    if host and not owns and (doubt := third_party_doubt(v, [host])):
        return CheckResult.unclear(doubt, *where)
    return CheckResult.passed("colibri websockets are announced over TLS", *where)
