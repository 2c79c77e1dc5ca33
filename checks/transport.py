"""Encryption in transit: the public HTTPS front end and XMPP client connections."""

from __future__ import annotations

from auditor.context import AuditContext
from auditor.facts import WEAK_PROTOCOLS
from auditor.listeners import exposed
from auditor.model import CheckResult, Evidence, Severity
from auditor.probes.judge import ev, live, vantage_text
from auditor.registry import check

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
    reachable, how, seen = _c2s_reachable(ctx)
    if reachable is True:
        return CheckResult.failed(f"client connections may be unencrypted and {how}", *fact.evidence, *seen)
    if reachable is False:
        return CheckResult.passed(f"encryption not required, but {how}", *fact.evidence, *seen)
    return CheckResult.unclear(
        f"cannot tell: encryption is not required on client connections and {how}", *fact.evidence, *seen
    )


def _c2s_reachable(ctx: AuditContext) -> tuple[bool | None, str, list[Evidence]]:
    """Whether port 5222 can be reached beyond the host: the sockets ss listed, else the live exposure
    probe; (None, why not known) when neither says."""
    snap = ctx.deployment.snapshot
    public = exposed(snap, 5222)
    if snap.transport in ("docker", "kubectl") and public is not None:  # what docker / the cluster publishes
        return public, f"port 5222 is {'' if public else 'not '}reachable from outside the containers", []
    if public is True:
        return True, "port 5222 listens beyond loopback (ss)", []
    if public is False:
        return False, "port 5222 is only bound to loopback (ss)", []
    res = live(ctx)
    if res is None:
        return None, "whether port 5222 is reachable is unknown (no listeners collected, no live probe)", []
    answer = res.exposure.is_open(5222) if res.unavailable("exposure") is None and res.exposure else None
    if answer is None:
        why = res.unavailable("exposure") or "port 5222 was not tested"
        return None, f"whether port 5222 is reachable is unknown (no listeners collected; {why})", []
    seen = [ev("exposure", "tcp/5222", "open" if answer else "not open")]
    if answer:
        return True, f"port 5222 answers {vantage_text(res)}", seen
    return False, f"port 5222 does not answer {vantage_text(res)}", seen
