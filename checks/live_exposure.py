"""Live exposure: which internal service ports answer the auditor, compared with the sockets seen by ss."""

from __future__ import annotations

from auditor.context import AuditContext
from auditor.listeners import listeners
from auditor.model import CheckResult, Severity
from auditor.probes.judge import ev, listener_disagreement, need, vantage_text
from auditor.probes.model import INTERNAL_TCP_PORTS
from auditor.registry import check

TAGS = ("live", "exposure")
FIREWALL = "https://jitsi.github.io/handbook/docs/devops-guide/devops-guide-quickstart#setup-and-configure-your-firewall"


@check(
    "live.internal_ports",
    title="Internal service ports do not answer the auditor",
    severity=Severity.HIGH,
    criteria=("mgmt.access_control", "mgmt.central_control"),
    rationale="""Only 80, 443, 10000/udp (and TURN 3478/5349, TCP media 4443) need to be public. Prosody's
    client, server-to-server, component and HTTP ports, its console, the videobridge REST/COLIBRI API and
    jicofo's REST API are for local components; reachable, they invite brute force, component hijacking
    (5347 with a weak secret) and conference manipulation.""",
    remediation="""Bind them to 127.0.0.1 (prosody c2s_interfaces/component_interface/http_interfaces,
    jvb.conf http-servers.private.host, jicofo.conf jicofo.rest.host) or block them in the firewall.""",
    references=(FIREWALL,),
    tags=TAGS,
)
def internal_ports(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "exposure")
    if res is None or res.exposure is None:
        return early or CheckResult.unclear("cannot tell: no exposure results")
    socks = listeners(ctx.deployment.snapshot)
    exposed, quiet = [], []
    evidence = []
    for state in res.exposure.ports:
        if state.proto != "tcp" or state.port not in INTERNAL_TCP_PORTS:
            continue
        what = state.answer or state.service
        evidence.append(ev("exposure", f"tcp/{state.port}", f"{state.state}: {what}"))
        if state.state == "open":
            owner = ""
            bound = [s for s in socks or [] if s.proto == "tcp" and s.port == state.port]
            if bound:
                owners = sorted({f"{s.process} on {s.address}" if s.process else f"bound to {s.address}"
                                 for s in bound})
                owner = f"; ss: {', '.join(owners)}"
            exposed.append(f"{state.port} ({state.service}: {state.answer or 'open'}{owner})")
        elif state.state in ("closed", "filtered"):
            quiet.append(state.port)
    where = vantage_text(res)
    if exposed:
        msg = f"reachable {where}: " + "; ".join(exposed)
        if (d := listener_disagreement(ctx, res)) is not None:
            msg += f"; {d}"
        return CheckResult.failed(msg, *evidence)
    if not quiet:
        return CheckResult.unclear("cannot tell: the internal ports could not be tested", *evidence)
    held = []
    for s in socks or []:
        if s.proto == "tcp" and s.port in INTERNAL_TCP_PORTS and not s.loopback_only and s.port in quiet:
            held.append(str(s.port))
    note = f" (ports {', '.join(sorted(set(held)))} listen publicly; a firewall holds them)" if held else ""
    return CheckResult.passed(f"no internal port answers {where}{note}", *evidence)


@check(
    "live.prosody_plain_http",
    title="Prosody's plain-text HTTP port is not reachable",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit", "enc.all_channels"),
    rationale="""Prosody serves BOSH and websockets on 5280 without TLS; reachable from outside, a client
    (or a misconfigured bosh URL) sends XMPP logins and chat in clear text.""",
    remediation="""http_interfaces = { "127.0.0.1" } in prosody.cfg.lua (prosody 0.11 listened on every
    interface by default) and let nginx proxy /http-bind and /xmpp-websocket over HTTPS.""",
    references=("https://prosody.im/doc/http",),
    tags=TAGS,
)
def prosody_plain_http(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "exposure")
    if res is None or res.exposure is None:
        return early or CheckResult.unclear("cannot tell: no exposure results")
    state = res.exposure.get(5280)
    direct = [a for a in (res.http.direct if res.http else ()) if a.port == 5280]
    if state is None:
        return CheckResult.unclear("cannot tell: port 5280 was not tested")
    evidence = [ev("exposure", "tcp/5280", f"{state.state}: {state.answer or ''}")]
    evidence += [ev("http", "5280/http-bind", f"HTTP {a.status} -> {a.kind}") for a in direct]
    if state.state != "open":
        if state.state in ("closed", "filtered"):
            return CheckResult.passed(f"port 5280 is {state.state} {vantage_text(res)}", *evidence)
        return CheckResult.unclear(f"cannot tell: port 5280 {state.state}", *evidence)
    if any(a.kind == "bosh" for a in direct):
        return CheckResult.failed(f"prosody answers BOSH in plain text on port 5280 {vantage_text(res)}",
                                  *evidence)
    return CheckResult.failed(f"port 5280 answers {vantage_text(res)} ({state.answer or 'open'})", *evidence)


@check(
    "live.udp_media",
    title="The videobridge media port answers on UDP 10000",
    severity=Severity.INFO,
    criteria=("enc.all_channels",),
    rationale="""Media should flow over UDP 10000; when it is closed clients fall back to TURN/TCP (slower,
    more load). Silence is normal: the videobridge only answers STUN from clients of a conference.""",
    remediation="Open UDP 10000 in the firewall and make sure the videobridge advertises the public address.",
    references=(FIREWALL,),
    tags=TAGS,
)
def udp_media(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "exposure")
    if res is None or res.exposure is None:
        return early or CheckResult.unclear("cannot tell: no exposure results")
    state = res.exposure.get(10000, "udp")
    if state is None:
        return CheckResult.unclear("cannot tell: UDP 10000 was not tested")
    evidence = ev("exposure", "udp/10000", f"{state.state}: {state.answer or ''}")
    if state.state == "open":
        return CheckResult.passed("UDP 10000 answers", evidence)
    if state.state == "closed":
        return CheckResult.failed(f"UDP 10000 is closed {vantage_text(res)} (port unreachable)", evidence)
    return CheckResult.unclear("cannot tell: UDP 10000 did not answer (normal for a videobridge)", evidence)
