"""Helpers the live checks share: getting the probe results, evidence, and config-vs-live disagreements."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from auditor.listeners import listeners
from auditor.model import OFFLINE, CheckResult, Evidence
from auditor.parsers.base import Location
from auditor.probes.configjs import compare
from auditor.probes.model import (
    INTERNAL_TCP_PORTS,
    LIVE_KEY,
    PROXY_PATHS,
    WEAK_PROTOCOLS,
    ProbeResults,
    TlsEndpoint,
)

if TYPE_CHECKING:
    from auditor.context import AuditContext

HSTS_MIN_AGE = 15_552_000  # 180 days


def live(ctx: AuditContext) -> ProbeResults | None:
    value = ctx.probes.get(LIVE_KEY)
    if isinstance(value, ProbeResults):
        return value
    if isinstance(value, dict):  # a saved evidence bundle audited again
        try:
            return ProbeResults.from_json(value)
        except (TypeError, ValueError, KeyError):
            return None
    return None


def need(ctx: AuditContext, probe: str) -> tuple[ProbeResults | None, CheckResult | None]:
    """The results when `probe` ran; else what the check returns (n/a offline, otherwise unclear)."""
    res = live(ctx)
    if res is None:
        return None, CheckResult.not_applicable(OFFLINE)
    why = res.unavailable(probe)
    if why is not None:
        return None, CheckResult.unclear(f"cannot tell: {why}")
    return res, None


def ev(probe: str, where: str, excerpt: str | None = None) -> Evidence:
    return Evidence(Location(f"live:{probe}/{where}"), excerpt)


def fact_value(ctx: AuditContext, key: str) -> Any:
    fact = ctx.facts.items.get(key)
    return None if fact is None else fact.value


def scanned(res: ProbeResults) -> list[TlsEndpoint]:
    return [e for e in res.tls.endpoints if e.scanned] if res.tls else []


def vantage_text(res: ProbeResults) -> str:
    return f"from {'outside' if res.vantage == 'external' else 'inside'} the host's network"


# -- disagreements between the configuration read over SSH and what the host answers -------------


def tls_disagreement(ctx: AuditContext, res: ProbeResults) -> str | None:
    configured = fact_value(ctx, "web.tls_protocols")
    weak_configured = fact_value(ctx, "web.weak_tls")
    https = res.tls.get(_https_port(res)) if res.tls else None
    if https is None or not https.scanned or weak_configured is not False:
        return None
    live_weak = [p for p in https.protocols if p in WEAK_PROTOCOLS]
    if not live_weak:
        return None
    listed = " ".join(configured) if isinstance(configured, list) else "strong protocols only"
    front = "Apache" if ctx.deployment.nginx is None and ctx.deployment.apache is not None else "nginx"
    return (f"the {front} configuration allows {listed}, but port {https.port} accepts {', '.join(live_weak)}: "
            "another server block, a load balancer or a different server answers")


def hsts_disagreement(ctx: AuditContext, res: ProbeResults) -> str | None:
    if res.http is None or res.http.https is None or res.http.https.status is None:
        return None
    if fact_value(ctx, "web.hsts") is True and res.http.hsts is None:
        return "the configuration sets Strict-Transport-Security, but the live HTTPS answer has none"
    return None


def api_disagreement(ctx: AuditContext, res: ProbeResults) -> str | None:
    exposed = exposed_endpoints(res)
    if exposed and fact_value(ctx, "jvb.rest_public") is False:
        return (f"the configuration keeps the internal APIs private, but {', '.join(e for e, _ in exposed)} "
                "answer through the web front")
    return None


def anonymous_disagreement(ctx: AuditContext, res: ProbeResults) -> str | None:
    if res.xmpp is None or res.xmpp.bosh is None or "ANONYMOUS" not in res.xmpp.bosh.mechanisms:
        return None
    secure = fact_value(ctx, "auth.secure_domain") is True
    if secure and fact_value(ctx, "auth.main") not in ("jwt", "anonymous"):
        return (f"the configuration requires authentication on the main domain, but {res.xmpp.domain} "
                "offers SASL ANONYMOUS over BOSH")
    return None


def c2s_disagreement(ctx: AuditContext, res: ProbeResults) -> str | None:
    c2s = res.xmpp.c2s if res.xmpp else None
    if c2s is None or not c2s.ok:
        return None
    if fact_value(ctx, "xmpp.c2s_require_encryption") is True and not c2s.starttls_required:
        return "prosody is configured to require encryption, but port 5222 lets clients continue without TLS"
    return None


def config_js_disagreement(ctx: AuditContext, res: ProbeResults) -> str | None:
    public = res.http.config_js if res.http else None
    ssh = ctx.view.cfg if ctx.view.cfg_ok else None
    if public is None or not public.parsed or ssh is None or ssh.value is None:
        return None
    diffs = compare(public, ssh.value.values)
    if not diffs:
        return None
    shown = ", ".join(diffs[:8]) + (f" and {len(diffs) - 8} more" if len(diffs) > 8 else "")
    return f"the public /config.js differs from {ssh.path} read over SSH ({shown})"


def listener_disagreement(ctx: AuditContext, res: ProbeResults) -> str | None:
    socks = listeners(ctx.deployment.snapshot)
    if socks is None or res.exposure is None:
        return None
    surprises = []
    for port in sorted(INTERNAL_TCP_PORTS):
        if res.exposure.is_open(port) is not True:
            continue
        bound = [s for s in socks if s.proto == "tcp" and s.port == port]
        if bound and all(s.loopback_only for s in bound):
            surprises.append(str(port))
    if not surprises:
        return None
    return (f"port(s) {', '.join(surprises)} listen only on loopback according to ss, yet answer the "
            "auditor: a port forward, a container proxy or another host answers")


DISAGREEMENTS: tuple[Callable[[AuditContext, ProbeResults], str | None], ...] = (
    tls_disagreement, hsts_disagreement, api_disagreement, anonymous_disagreement, c2s_disagreement,
    config_js_disagreement, listener_disagreement,
)


def exposed_endpoints(res: ProbeResults) -> list[tuple[str, str]]:
    """(path, what answered) of internal APIs that answer through the web front."""
    expected = {p for p, _, ok in PROXY_PATHS if ok}
    if res.http is None:
        return []
    return [(e.path, e.note or e.kind or "") for e in res.http.endpoints
            if e.kind == "api" and e.path not in expected and e.path not in ("/http-bind", "/xmpp-websocket")]


def _https_port(res: ProbeResults) -> int:
    if res.tls:
        for e in res.tls.endpoints:
            if e.service == "web HTTPS":
                return e.port
    return 443
