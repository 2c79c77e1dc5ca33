"""What the web-front checks want of any front (nginx or Apache): Mozilla's suites, the HSTS age, the
security headers, Jitsi's public paths and the internal APIs that must stay private. Not a check module."""

from __future__ import annotations

import re
import ssl

from auditor.model import CheckResult, Evidence

MOZILLA_GUIDELINES = "https://wiki.mozilla.org/Security/Server_Side_TLS"
# Mozilla intermediate (guideline 5.7) TLS 1.2 suites, OpenSSL names.
INTERMEDIATE_TLS12 = frozenset(
    ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305", "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305"]
)
HSTS_MIN_AGE = 15_768_000  # six months
JITSI_PATHS = ("/http-bind", "/xmpp-websocket", "/colibri-ws", "/config.js", "/external_api.js")
# Internal endpoints: videobridge private REST (8080) and jicofo REST (8888), except the public request path.
INTERNAL_PATHS = ("/colibri/", "/about/", "/metrics", "/debug", "/stats", "/move-endpoints", "/pin")
INTERNAL_PORTS = re.compile(r":(?:8080|8888)(?:/|$)")
HEADER_NEEDS = {
    "frame-ancestors/X-Frame-Options": ("content-security-policy", "x-frame-options"),
    "Referrer-Policy": ("referrer-policy",),
    "X-Content-Type-Options": ("x-content-type-options",),
}
_MAX_AGE = re.compile(r"max-age\s*=\s*\"?(\d+)", re.I)


def expand_tls12(ciphers: str) -> list[str] | None:
    """The TLS 1.2 suites an OpenSSL cipher string selects (this machine's OpenSSL), None if it rejects it."""
    try:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.set_ciphers(ciphers)
    except ssl.SSLError:
        return None
    return [c["name"] for c in ctx.get_ciphers() if not c["name"].startswith("TLS_")]


def judge_tls12_ciphers(ciphers: str, where: list[Evidence], default: str = "") -> CheckResult:
    """TLS 1.2 allowed: pass when `ciphers` selects only Mozilla intermediate suites. `default` names the
    server's built-in list when the configuration sets none (" (nginx's default cipher list)")."""
    names = expand_tls12(ciphers)
    if names is None:
        explicit = [t for t in re.split(r"[:\s,]+", ciphers) if t and not t.startswith(("!", "-", "+", "@"))]
        if explicit and all(t in INTERMEDIATE_TLS12 for t in explicit):
            return CheckResult.passed("TLS 1.2/1.3 with Mozilla intermediate suites", *where)
        return CheckResult.unclear("cannot tell: the cipher string could not be expanded here", *where)
    outside = [n for n in names if n not in INTERMEDIATE_TLS12]
    if outside:
        return CheckResult.failed(
            f"{len(outside)} TLS 1.2 suite(s) outside Mozilla intermediate{default}, e.g. {', '.join(outside[:3])}", *where
        )
    return CheckResult.passed("TLS 1.2/1.3 with Mozilla intermediate suites", *where)


def max_age_seconds(value: str) -> int | None:
    m = _MAX_AGE.search(value)
    return int(m.group(1)) if m else None


def is_internal_proxy(path: str, target: str) -> bool:
    """A proxied path or target that reaches the videobridge or jicofo private APIs (websockets and the
    conference request path are public by design)."""
    if "colibri-ws" in path or "conference-request" in path:
        return False
    path = path.lstrip("^")
    return any(path.startswith(p) or path.rstrip("/") + "/" == p for p in INTERNAL_PATHS) or bool(
        INTERNAL_PORTS.search(target)
    )
