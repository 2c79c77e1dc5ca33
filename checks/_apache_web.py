"""The web-front checks of checks/nginx.py judged on an Apache front (jitsi-meet-web-config's Apache
site). Not a check module: each function is one check's Apache half, called by the check itself."""

from __future__ import annotations

from collections.abc import Callable

from auditor import apache_front
from auditor.context import AuditContext
from auditor.facts import unseen_apache_include, unseen_include
from auditor.model import CheckResult, Evidence
from auditor.parsers.apache import ApacheConfig, ApacheDirective, ApacheVirtualHost
from auditor.parsers.base import Location
from checks._common import short
from checks._web_rules import (
    HEADER_NEEDS,
    HSTS_MIN_AGE,
    JITSI_PATHS,
    is_internal_proxy,
    judge_tls12_ciphers,
    max_age_seconds,
)

ApacheRule = Callable[[AuditContext, ApacheConfig], CheckResult]
_SECURE_TOKENS = ("prod", "productonly")


def judge(ctx: AuditContext, rule: ApacheRule) -> CheckResult | None:
    """`rule` applied to the Apache configuration when Apache is the web front (no nginx configuration
    collected); unclear when its files could not be read or parsed; None when there is none."""
    pf = apache_front.apache_file(ctx.deployment)
    if pf is None:
        return None
    if pf.value is None:
        return CheckResult.unclear(f"cannot tell: {pf.error or pf.path + ': Apache configuration unreadable'}")
    return rule(ctx, pf.value)


def _tls_vhost(ctx: AuditContext, conf: ApacheConfig) -> ApacheVirtualHost | CheckResult:
    vhost = apache_front.tls_vhost(conf, ctx.view.own_domain())
    if vhost is None:
        return CheckResult.unclear(f"cannot tell: {apache_front.NO_TLS_VHOST}")
    return vhost


def _vhost_ev(vhost: ApacheVirtualHost, what: str = "HTTPS virtual host") -> Evidence:
    return Evidence(vhost.location, f"<VirtualHost {' '.join(vhost.addresses)}> ({what})"[:120])


def _seen(name: str, d: ApacheDirective | None) -> str:
    return f"{name} not set in view" if d is None else f"{name} is set ({short(d.text, 40)}) before it"


def _ev(d: ApacheDirective, limit: int = 80) -> Evidence:
    return Evidence(d.location, short(d.text, limit))


def tls_profile(ctx: AuditContext, conf: ApacheConfig) -> CheckResult:
    vhost = _tls_vhost(ctx, conf)
    if isinstance(vhost, CheckResult):
        return vhost
    got = apache_front.protocols(vhost)
    hidden = unseen_include(vhost, got.directive)
    if hidden:
        return CheckResult.unclear(f"cannot tell: {_seen('SSLProtocol', got.directive)}, but {hidden}",
                                   _ev(got.directive) if got.directive is not None else _vhost_ev(vhost))
    if got.directive is None:
        return CheckResult.unclear(f"cannot tell: {got.problem}", _vhost_ev(vhost))
    where = [_ev(got.directive)]
    if got.enabled is None:
        return CheckResult.unclear(f"cannot tell: {got.problem}", *where)
    enabled = set(got.enabled)
    extra = enabled - {"TLSv1.2", "TLSv1.3"}
    if extra:
        return CheckResult.failed(f"Apache allows protocols beyond TLS 1.2/1.3: {', '.join(sorted(extra))}", *where)
    if not enabled:
        return CheckResult.unclear("cannot tell: SSLProtocol enables no protocol at all (Apache would not start)", *where)
    if enabled == {"TLSv1.3"}:
        how = f" ({got.problem})" if got.problem else ""
        return CheckResult.passed(f"TLS 1.3 only{how}: Mozilla modern profile", *where)
    suite = apache_front.tls12_ciphers(vhost)
    if suite is not None:
        where.append(_ev(suite, 60))
    hidden = unseen_include(vhost, suite)
    if hidden:
        return CheckResult.unclear(f"cannot tell: {_seen('SSLCipherSuite', suite)}, but {hidden}", *where)
    ciphers = apache_front.cipher_string(suite) if suite is not None else apache_front.CIPHER_DEFAULT
    return judge_tls12_ciphers(ciphers, where, "" if suite is not None else " (Apache's default cipher list)")


def hsts_max_age(ctx: AuditContext, conf: ApacheConfig) -> CheckResult:
    vhost = _tls_vhost(ctx, conf)
    if isinstance(vhost, CheckResult):
        return vhost
    header = vhost.response_headers().get("strict-transport-security")
    if header is None:
        hidden = unseen_include(vhost)
        if hidden:
            return CheckResult.unclear(f"cannot tell: no HSTS header in view, but {hidden}", _vhost_ev(vhost))
        return CheckResult.not_applicable("no HSTS header at all (see web.hsts)", _vhost_ev(vhost))
    where = _ev(header.directive)
    age = max_age_seconds(header.value or "")
    if age is None:
        return CheckResult.failed("the HSTS header has no max-age", where)
    if age < HSTS_MIN_AGE:
        return CheckResult.failed(f"HSTS max-age is {age} s (under six months)", where)
    if not header.always:
        return CheckResult.failed(
            f"HSTS max-age {age} s, but without `Header always` (Apache omits it on error responses)", where
        )
    return CheckResult.passed(f"HSTS max-age {age} s on every response", where)


def ocsp_stapling(ctx: AuditContext, conf: ApacheConfig) -> CheckResult:
    vhost = _tls_vhost(ctx, conf)
    if isinstance(vhost, CheckResult):
        return vhost
    d = vhost.directive("SSLUseStapling")
    hidden = unseen_include(vhost, d)
    if hidden:
        return CheckResult.unclear(f"cannot tell: {_seen('SSLUseStapling', d)}, but {hidden}", _vhost_ev(vhost))
    if d is None or [a.lower() for a in d.args[:1]] != ["on"]:
        where = _ev(d) if d is not None else _vhost_ev(vhost, "SSLUseStapling not set")
        return CheckResult.failed("OCSP stapling is off", where)
    cache = conf.server_directive("SSLStaplingCache")
    if cache is None:
        return CheckResult.failed(
            "SSLUseStapling on, but no SSLStaplingCache in the server configuration: Apache cannot staple "
            "(and refuses to start)", _ev(d)
        )
    return CheckResult.passed("OCSP stapling is on", _ev(d), _ev(cache))


def _serves_jitsi(vhost: ApacheVirtualHost) -> bool:
    root = vhost.directive("DocumentRoot")
    if root is not None and "jitsi-meet" in " ".join(root.args):
        return True
    paths = [d.args[0] for d in vhost.directives if d.key in ("alias", "proxypass", "proxypassmatch") and d.args]
    paths += [s.path for s in vhost.sections if s.key in ("location", "locationmatch")]
    return any(any(p in path for p in JITSI_PATHS) for path in paths)


def _https_redirect(vhost: ApacheVirtualHost) -> ApacheDirective | None:
    """A redirect of the whole site to https:// (a plain `Redirect` of one path does not count)."""
    for r in vhost.redirects():
        whole = r.directive.key in ("redirectmatch", "rewriterule") or r.source == "/"
        if whole and r.target.lower().startswith("https://"):
            return r.directive
    return None


def http_redirect(ctx: AuditContext, conf: ApacheConfig) -> CheckResult:
    plain = [v for v in conf.virtual_hosts if not v.tls]
    serving = [v for v in plain if _serves_jitsi(v) and _https_redirect(v) is None]
    if serving:
        return CheckResult.failed(
            "the Jitsi app is served over plain HTTP", *[_vhost_ev(v, "plain HTTP") for v in serving]
        )
    redirects = [d for v in plain if (d := _https_redirect(v)) is not None]
    if redirects:
        return CheckResult.passed("plain HTTP redirects to HTTPS", *[_ev(d) for d in redirects])
    if apache_front.tls_vhost(conf, ctx.view.own_domain()) is None:
        return CheckResult.failed("no HTTPS virtual host (SSLEngine on) at all")
    return CheckResult.passed("no plain-HTTP virtual host serves the app (HTTPS only)")


def security_headers(ctx: AuditContext, conf: ApacheConfig) -> CheckResult:
    vhost = _tls_vhost(ctx, conf)
    if isinstance(vhost, CheckResult):
        return vhost
    present: dict[str, Evidence] = {}
    for name, header in vhost.response_headers().items():
        if name == "content-security-policy" and "frame-ancestors" not in (header.value or ""):
            continue
        present[name] = _ev(header.directive, 60)
    missing = [label for label, names in HEADER_NEEDS.items() if not any(n in present for n in names)]
    hidden = unseen_include(vhost) if missing else None
    if hidden:
        return CheckResult.unclear(f"cannot tell: {', '.join(missing)} not in view, but {hidden}", _vhost_ev(vhost),
                                   *present.values())
    if missing:
        return CheckResult.failed(f"missing: {', '.join(missing)}", _vhost_ev(vhost), *present.values())
    return CheckResult.passed("clickjacking, referrer and MIME-sniffing headers are sent", *present.values())


def server_tokens(ctx: AuditContext, conf: ApacheConfig) -> CheckResult:
    vhost = _tls_vhost(ctx, conf)
    if isinstance(vhost, CheckResult):
        return vhost
    tokens = conf.server_directive("ServerTokens")
    signature = vhost.directive("ServerSignature")
    if tokens is None and conf.site_only:
        return CheckResult.unclear(
            "cannot tell: ServerTokens is set in apache2.conf or conf-enabled/security.conf, which are not in the evidence"
        )
    hidden = unseen_include(conf, tokens)
    if hidden:
        return CheckResult.unclear(f"cannot tell: {_seen('ServerTokens', tokens)}, but {hidden}", _vhost_ev(vhost))
    problems: list[str] = []
    where: list[Evidence] = []
    if tokens is None:
        problems.append("ServerTokens not set: Apache announces its full version and OS (default Full)")
        where.append(Evidence(Location(conf.entry), "no ServerTokens in the server configuration"))
    else:
        where.append(_ev(tokens))
        value = tokens.args[0].lower() if tokens.args else ""
        if value not in _SECURE_TOKENS:
            shown = " and OS" if value in ("os", "full") else ""
            problems.append(f"ServerTokens {short(' '.join(tokens.args), 20)}: Apache announces its version{shown}")
    if signature is not None:
        where.append(_ev(signature))
        if [a.lower() for a in signature.args[:1]] != ["off"]:
            problems.append("ServerSignature is not Off: error pages carry a footer naming the server")
    if problems:
        return CheckResult.failed("; ".join(problems), *where)
    return CheckResult.passed("ServerTokens Prod and no server signature on error pages", *where)


def internal_locations(ctx: AuditContext, conf: ApacheConfig) -> CheckResult:
    found = [
        Evidence(p.location, f"{p.directive.name} {p.path} -> {short(p.target, 50)}"[:120])
        for p in conf.proxies()
        if is_internal_proxy(p.path, p.target)
    ]
    if found:
        return CheckResult.failed(f"{len(found)} internal endpoint(s) proxied to the public", *found)
    hidden = unseen_apache_include(conf)
    if hidden:
        return CheckResult.unclear(f"cannot tell: no internal API is proxied in what is seen, but {hidden}")
    return CheckResult.passed("no internal API is proxied by Apache")
