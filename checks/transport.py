"""Encryption in transit: the public HTTPS front end and XMPP client connections."""

from __future__ import annotations

from auditor.context import AuditContext
from auditor.facts import WEAK_PROTOCOLS
from auditor.listeners import exposed
from auditor.model import CheckResult, Evidence, Severity
from auditor.probes.judge import ev, live, vantage_text
from auditor.registry import check
from checks._common import is_loopback, lua_list, short

MOZILLA_TLS = "https://ssl-config.mozilla.org/#server=nginx&config=intermediate"


@check(
    "web.tls_configuration",
    title="HTTPS front end allows only TLS 1.2+ with strong ciphers",
    severity=Severity.HIGH,
    criteria=("enc.algorithm", "enc.key_strength", "enc.in_transit"),
    rationale="""TLS 1.0/1.1 and RC4/3DES/EXPORT/NULL suites are broken or deprecated (RFC 8996). Jitsi's nginx
    template allowed TLSv1 and TLSv1.1 until 2020 and upgrades never rewrite the site file.""",
    remediation="""In the nginx site: ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    Apache: SSLProtocol -all +TLSv1.2 +TLSv1.3 and SSLCipherSuite with the same list.""",
    references=(MOZILLA_TLS, "https://www.rfc-editor.org/rfc/rfc8996"),
)
def tls_configuration(ctx: AuditContext) -> CheckResult:
    weak = ctx.fact("web.weak_tls")
    protocols = ctx.fact("web.tls_protocols").value
    if weak.value is None:
        return CheckResult.unclear(
            f"cannot tell: {weak.note or 'no TLS configuration in the evidence'}", *weak.evidence
        )
    listed = ", ".join(protocols) if protocols else "unknown protocols"
    if weak.value:
        # name what is weak: "weak TLS allowed (TLSv1, TLSv1.1, TLSv1.2)" read as if TLS 1.2 were
        old = [p for p in protocols or () if p in WEAK_PROTOCOLS]
        what = f"deprecated protocols {', '.join(old)}" if old else "weak cipher suites"
        return CheckResult.failed(f"weak TLS allowed: {what} (protocols: {listed})", *weak.evidence)
    return CheckResult.passed(f"only strong TLS configured ({listed})", *weak.evidence)


@check(
    "web.hsts",
    title="HTTP Strict Transport Security is sent",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit",),
    rationale="Without HSTS a network attacker can strip HTTPS on a user's first visit and read the session.",
    remediation="""In the HTTPS server block: add_header Strict-Transport-Security "max-age=63072000" always;
    Apache, in the HTTPS virtual host: Header always set Strict-Transport-Security "max-age=63072000" """,
    references=("https://www.rfc-editor.org/rfc/rfc6797",),
)
def hsts(ctx: AuditContext) -> CheckResult:
    return ctx.from_fact(
        "web.hsts",
        good=True,
        pass_msg="HSTS header configured",
        fail_msg="no HSTS header on the HTTPS server",
    )


@check(
    "xmpp.c2s_encryption",
    title="XMPP client connections require encryption where they are reachable",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit", "enc.all_channels"),
    rationale="""c2s_require_encryption = false lets XMPP clients (and credentials) travel in clear text on port
    5222. Jitsi sets it to false on the client domain because browsers come through nginx over TLS;
    that is only acceptable while 5222 is not reachable from outside.""",
    remediation="""Set c2s_require_encryption = true globally and on the VirtualHost, or keep 5222 bound to
    127.0.0.1 (c2s_interfaces = { "127.0.0.1" }) so only local components use it.""",
    references=("https://prosody.im/doc/modules/mod_tls",),
)
def c2s_encryption(ctx: AuditContext) -> CheckResult:
    fact = ctx.fact("xmpp.c2s_require_encryption")
    if fact.value is True:
        return CheckResult.passed("client connections must use TLS", *fact.evidence)
    if fact.value is None:
        return CheckResult.unclear(f"cannot tell: {fact.note or 'no evidence'}", *fact.evidence)
    reachable, how, seen = xmpp_port_reachable(ctx, 5222, "c2s")
    if reachable is True:
        return CheckResult.failed(f"client connections may be unencrypted and {how}", *fact.evidence, *seen)
    if reachable is False:
        return CheckResult.passed(f"encryption not required, but {how}", *fact.evidence, *seen)
    return CheckResult.unclear(
        f"cannot tell: encryption is not required on client connections and {how}", *fact.evidence, *seen
    )


def xmpp_port_reachable(ctx: AuditContext, port: int, kind: str) -> tuple[bool | None, str, list[Evidence]]:
    """Whether prosody's `kind` ("c2s", "s2s") port can be reached beyond the host: what docker or the
    cluster publishes, else the sockets ss listed, else `<kind>_interfaces` (or `interfaces`) naming
    loopback only, else the live exposure probe; (None, why not known) when none says."""
    snap = ctx.deployment.snapshot
    public = exposed(snap, port)
    if snap.transport in ("docker", "kubectl") and public is not None:  # what docker / the cluster publishes
        return public, f"port {port} is {'' if public else 'not '}reachable from outside the containers", []
    if public is True:
        return True, f"port {port} listens beyond loopback (ss)", []
    if public is False:
        return False, f"port {port} is only bound to loopback (ss)", []
    bound = _bound_to_loopback(ctx, kind)
    if bound is not None:
        return False, f"{bound[0]} binds port {port} to loopback", [bound[1]]
    res = live(ctx)
    if res is None:
        return None, f"whether port {port} is reachable is unknown (no listeners collected, no live probe)", []
    answer = res.exposure.is_open(port) if res.unavailable("exposure") is None and res.exposure else None
    if answer is None:
        why = res.unavailable("exposure") or f"port {port} was not tested"
        return None, f"whether port {port} is reachable is unknown (no listeners collected; {why})", []
    seen = [ev("exposure", f"tcp/{port}", "open" if answer else "not open")]
    if answer:
        return True, f"port {port} answers {vantage_text(res)}", seen
    return False, f"port {port} does not answer {vantage_text(res)}", seen


def _bound_to_loopback(ctx: AuditContext, kind: str) -> tuple[str, Evidence] | None:
    """Where prosody's global `<kind>_interfaces`, or else `interfaces`, lists loopback addresses only."""
    v = ctx.view
    if v.prosody is None:
        return None
    for name in (f"{kind}_interfaces", "interfaces"):
        got = v.p_get(None, name)
        if got is None:
            continue
        addrs = lua_list(got[0])
        if addrs and all(is_loopback(a) for a in addrs):
            return f"{name} = {{ {', '.join(short(a, 40) for a in addrs[:4])} }}", got[1]
        return None  # set, and not loopback only: the more specific setting wins
    return None
