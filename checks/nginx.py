"""The web front end, nginx or Apache: TLS profile, HSTS, OCSP, plain-HTTP service, headers, and proxied
internal APIs. Each check judges nginx's configuration when it was collected, else Apache's
(checks/_apache_web.py), else docker-jitsi-meet's web image from its .env."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.context import AuditContext
from auditor.facts import APACHE_NOTE, unseen_include, unseen_location_include
from auditor.model import CheckResult, Evidence, Severity, Status
from auditor.parsers.base import Location
from auditor.parsers.nginx import NginxConfig, NginxServer
from auditor.registry import check
from checks import _apache_web as apache
from checks._common import evs, short, why_missing
from checks._web_rules import (
    HEADER_NEEDS,
    HSTS_MIN_AGE,
    JITSI_PATHS,
    MOZILLA_GUIDELINES,
    is_internal_proxy,
    judge_tls12_ciphers,
    max_age_seconds,
)

MOZILLA = "https://ssl-config.mozilla.org/#server=nginx&config=intermediate"
MOZILLA_APACHE = "https://ssl-config.mozilla.org/#server=apache&config=intermediate"
NGINX_SSL = "https://nginx.org/en/docs/http/ngx_http_ssl_module.html"
APACHE_SSL = "https://httpd.apache.org/docs/2.4/mod/mod_ssl.html"
OWASP_HEADERS = "https://owasp.org/www-project-secure-headers/"


def _config(ctx: AuditContext) -> NginxConfig | None:
    pf = ctx.deployment.nginx
    return pf.value if pf is not None and pf.value is not None else None


def tls_server(ctx: AuditContext) -> NginxServer | None:
    conf = _config(ctx)
    return conf.tls_server(ctx.view.own_domain()) if conf is not None else None


DockerImage = Callable[[AuditContext], CheckResult]  # what docker-jitsi-meet's web image does, from its .env


def _https_server(ctx: AuditContext, rule: apache.ApacheRule, docker: DockerImage) -> NginxServer | CheckResult:
    """nginx's HTTPS server block to judge; without one, the finished result: the Apache front judged by
    `rule`, the docker web image judged by `docker` (no nginx configuration, an .env), or why it cannot
    tell."""
    server = tls_server(ctx)
    return server if server is not None else _elsewhere(ctx, rule, docker)


def _nginx_config(ctx: AuditContext, rule: apache.ApacheRule, docker: DockerImage) -> NginxConfig | CheckResult:
    """`_https_server` for the checks that judge every server block."""
    conf = _config(ctx)
    return conf if conf is not None else _elsewhere(ctx, rule, docker)


def _elsewhere(ctx: AuditContext, rule: apache.ApacheRule, docker: DockerImage) -> CheckResult:
    judged = apache.judge(ctx, rule)
    if judged is not None:
        return judged
    if ctx.view.env_ok and _config(ctx) is None:
        return docker(ctx)
    return _no_nginx(ctx)


def _no_nginx(ctx: AuditContext) -> CheckResult:
    pf = ctx.deployment.nginx
    if pf is not None and pf.value is None:
        return CheckResult.unclear(f"cannot tell: {pf.error or 'nginx configuration unreadable'}")
    if _config(ctx) is not None:
        return CheckResult.unclear("cannot tell: no HTTPS server block in the nginx configuration")
    apache = ctx.view.apache_front()
    if apache is not None:
        return CheckResult.unclear(f"cannot tell: {APACHE_NOTE}", apache)
    return CheckResult.unclear(why_missing(ctx, "nginx configuration"))


@check(
    "web.tls_mozilla_profile",
    title="HTTPS follows Mozilla's intermediate or modern TLS profile",
    severity=Severity.LOW,
    criteria=("enc.algorithm", "enc.key_strength"),
    rationale="""Beyond outright weak suites, CBC-mode and non-forward-secret suites (AES-CBC, RSA key exchange)
    are legacy. Mozilla's intermediate profile allows TLS 1.2 with ECDHE/DHE AEAD suites only and TLS 1.3;
    the modern profile allows TLS 1.3 only. nginx's default ssl_ciphers (HIGH:!aNULL:!MD5) is neither, nor is
    Debian's Apache ssl.conf (SSLProtocol all -SSLv3, SSLCipherSuite HIGH:!aNULL).""",
    remediation="""nginx: ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;   (modern: ssl_protocols TLSv1.3;)
    Apache: SSLProtocol -all +TLSv1.2 +TLSv1.3   (modern: -all +TLSv1.3)
    SSLCipherSuite with the same list; SSLHonorCipherOrder off""",
    references=(MOZILLA, MOZILLA_APACHE, MOZILLA_GUIDELINES),
)
def tls_mozilla_profile(ctx: AuditContext) -> CheckResult:
    server = _https_server(ctx, apache.tls_profile, lambda _: CheckResult.passed(
        "the docker web image uses Mozilla's intermediate profile"))
    if isinstance(server, CheckResult):
        return server
    protocols_d = server.directive("ssl_protocols")
    hidden = unseen_include(server, protocols_d)
    if protocols_d is None:
        return CheckResult.unclear(f"cannot tell: ssl_protocols not set in view, but {hidden}" if hidden else
                                   "cannot tell: ssl_protocols not set; nginx's default depends on its version")
    protocols = set(protocols_d.args)
    where = [Evidence(protocols_d.location, "ssl_protocols " + " ".join(protocols_d.args))]
    if hidden:
        return CheckResult.unclear(f"cannot tell: ssl_protocols set at the http level, but {hidden}", *where)
    extra = protocols - {"TLSv1.2", "TLSv1.3"}
    if extra:
        return CheckResult.failed(f"protocols beyond TLS 1.2/1.3 allowed: {', '.join(sorted(extra))}", *where)
    if protocols == {"TLSv1.3"}:
        return CheckResult.passed("TLS 1.3 only: Mozilla modern profile", *where)
    ciphers_d = server.directive("ssl_ciphers")
    hidden = unseen_include(server, ciphers_d)
    if hidden:
        return CheckResult.unclear(f"cannot tell: ssl_ciphers {'not set in view' if ciphers_d is None else 'set at the http level'}, but {hidden}", *where)
    ciphers = " ".join(ciphers_d.args).strip("\"'") if ciphers_d else "HIGH:!aNULL:!MD5"
    if ciphers_d is not None:
        where.append(Evidence(ciphers_d.location, "ssl_ciphers " + short(ciphers, 60)))
    return judge_tls12_ciphers(ciphers, where, "" if ciphers_d else " (nginx's default cipher list)")


def _hsts(server: NginxServer) -> Any:
    found = None
    for h in server.add_headers():
        if h.args and h.args[0].lower() == "strict-transport-security":
            found = h
    return found


def _docker_hsts_max_age(ctx: AuditContext) -> CheckResult:
    flag, where = ctx.view.env_flag("ENABLE_HSTS", True)
    if flag:
        return CheckResult.passed("the docker web image sends max-age=63072000", *evs(where))
    return CheckResult.not_applicable("HSTS is disabled (ENABLE_HSTS=0); see web.hsts", *evs(where))


@check(
    "web.hsts_max_age",
    title="HSTS is sent with a max-age of at least six months, on every response",
    severity=Severity.LOW,
    criteria=("enc.in_transit",),
    rationale="""A short HSTS max-age lapses between visits and the first plain-HTTP request can be intercepted
    again; without `always` nginx (and Apache's `Header` without `always`) omits the header on error responses.
    Jitsi's templates use two years.""",
    remediation="""nginx: add_header Strict-Transport-Security "max-age=63072000" always;
    Apache: Header always set Strict-Transport-Security "max-age=63072000" """,
    references=("https://www.rfc-editor.org/rfc/rfc6797", MOZILLA_GUIDELINES),
)
def hsts_max_age(ctx: AuditContext) -> CheckResult:
    server = _https_server(ctx, apache.hsts_max_age, _docker_hsts_max_age)
    if isinstance(server, CheckResult):
        return server
    header = _hsts(server)
    if header is None:
        hidden = unseen_include(server)
        if hidden:
            return CheckResult.unclear(f"cannot tell: no HSTS header in view, but {hidden}",
                                       Evidence(server.location, "HTTPS server"))
        return CheckResult.not_applicable("no HSTS header at all (see web.hsts)", Evidence(server.location, "HTTPS server"))
    where = Evidence(header.location, "add_header " + short(" ".join(header.args)))
    age = max_age_seconds(" ".join(header.args[1:2]))
    if age is None:
        return CheckResult.failed("the HSTS header has no max-age", where)
    if age < HSTS_MIN_AGE:
        return CheckResult.failed(f"HSTS max-age is {age} s (under six months)", where)
    if "always" not in header.args[2:]:
        return CheckResult.failed(f"HSTS max-age {age} s, but without `always` (missing on error responses)", where)
    return CheckResult.passed(f"HSTS max-age {age} s on every response", where)


@check(
    "web.ocsp_stapling",
    title="OCSP stapling is on for the CA-issued certificate",
    severity=Severity.INFO,
    criteria=("enc.in_transit",),
    rationale="""With stapling the server hands out the CA's signed revocation status: clients need not ask the CA
    (which learns who visits) and a revoked certificate is noticed. Not in Jitsi's template.""",
    remediation="""nginx, in the HTTPS server: ssl_stapling on; ssl_stapling_verify on; ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;
    Apache: SSLUseStapling on in the HTTPS virtual host and SSLStaplingCache shmcb:${APACHE_RUN_DIR}/ssl_stapling(32768)
    outside it. (Let's Encrypt stopped OCSP in 2025: there, leave it off.)""",
    references=(NGINX_SSL, APACHE_SSL),
)
def ocsp_stapling(ctx: AuditContext) -> CheckResult:
    # imported here: checks.certificates imports this module (tls_server)
    from checks.certificates import web_certificate

    cert = web_certificate(ctx)
    if cert is not None and cert[1].has_ocsp_url is False:
        path, leaf = cert
        return CheckResult.not_applicable(
            "the certificate names no OCSP responder (self-signed, a private CA, or Let's Encrypt since 2025): "
            "nothing to staple", Evidence(Location(path, leaf.line or None), "no OCSP URL in Authority Information Access"))
    server = _https_server(ctx, apache.ocsp_stapling, lambda _: CheckResult.failed(
        "the docker web image does not staple OCSP"))
    if isinstance(server, CheckResult):
        return _unless_cert_unknown(ctx, server, cert is None)
    d = server.directive("ssl_stapling")
    if d is not None and d.args[:1] == ["on"]:
        return CheckResult.passed("OCSP stapling is on", Evidence(d.location, "ssl_stapling on"))
    hidden = unseen_include(server, d)
    if hidden:
        return CheckResult.unclear(f"cannot tell: ssl_stapling not set in this server block, but {hidden}",
                                   Evidence(server.location, "HTTPS server"))
    off = CheckResult.failed("OCSP stapling is off", Evidence(d.location if d else server.location, "ssl_stapling off or not set"))
    return _unless_cert_unknown(ctx, off, cert is None)


def _unless_cert_unknown(ctx: AuditContext, result: CheckResult, unknown: bool) -> CheckResult:
    """A failed stapling verdict is unclear when the certificate is not in the evidence: Jitsi's self-signed
    one and Let's Encrypt's since 2025 name no OCSP responder, and then there is nothing to staple."""
    from checks.certificates import web_certificate_or_reason  # here: checks.certificates imports this module

    if result.status is not Status.FAIL or not unknown:
        return result
    why = web_certificate_or_reason(ctx)
    reason = why.message.removeprefix("cannot tell: ") if isinstance(why, CheckResult) else "it is not in the evidence"
    return CheckResult.unclear(f"cannot tell: {result.message}, but whether the certificate names an OCSP responder "
                               f"is unknown ({reason})", *result.evidence)


def _serves_jitsi(server: NginxServer) -> bool:
    if any(any(p in loc.path for p in JITSI_PATHS) for loc in server.locations):
        return True
    root = server.directive("root")
    return root is not None and "jitsi-meet" in " ".join(root.args)


def _redirects(server: NginxServer) -> bool:
    for d in server.directives:
        if d.name == "return" and any("https://" in a for a in d.args):
            return True
        if d.name == "rewrite" and any(a.startswith("https://") for a in d.args[1:]):
            return True
    for loc in server.locations:
        if loc.path == "/" and any(
            d.name == "return" and any("https://" in a for a in d.args) for d in loc.directives
        ):
            return True
    return False


def _docker_http_redirect(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    no_https, e1 = v.env_flag("DISABLE_HTTPS", False)
    redirect, e2 = v.env_flag("ENABLE_HTTP_REDIRECT", False)
    if redirect:
        return CheckResult.passed("port 8000 redirects to HTTPS", *evs(e2))
    if no_https:
        return CheckResult.unclear(
            "cannot tell: HTTPS is disabled in the web container (a proxy in front must provide it)", *evs(e1)
        )
    port, e3 = v.env_get("HTTP_PORT", "8000")
    return CheckResult.failed(f"port {port} serves the full app over plain HTTP (ENABLE_HTTP_REDIRECT off)", *evs(e2, e3))


@check(
    "web.http_redirect",
    title="The app is never served over plain HTTP: port 80 (docker 8000) redirects to HTTPS",
    severity=Severity.HIGH,
    criteria=("enc.in_transit", "enc.all_channels"),
    rationale="""A plain-HTTP server that serves the app (or proxies BOSH/websocket) lets anyone on the path read
    and rewrite the client code, session tokens and chat. docker-jitsi-meet's ENABLE_HTTP_REDIRECT defaults to 0:
    port 8000 then serves the full app in clear text.""",
    remediation="""nginx: server { listen 80; listen [::]:80; server_name meet.example.org;
        location ^~ /.well-known/acme-challenge/ { default_type "text/plain"; root /usr/share/jitsi-meet; }
        location / { return 301 https://$host$request_uri; } }
    Apache: <VirtualHost *:80> ServerName meet.example.org
        Redirect permanent / https://meet.example.org/ </VirtualHost>
    Docker: ENABLE_HTTP_REDIRECT=1 (or do not publish HTTP_PORT).""",
    references=("https://github.com/jitsi/docker-jitsi-meet/blob/master/env.example",),
)
def http_redirect(ctx: AuditContext) -> CheckResult:
    conf = _nginx_config(ctx, apache.http_redirect, _docker_http_redirect)
    if isinstance(conf, CheckResult):
        return conf
    plain = [s for s in conf.servers if not s.terminates_tls and s.listen]
    serving = [s for s in plain if _serves_jitsi(s) and not _redirects(s)]
    hidden = next((why for s in serving if (why := unseen_location_include(s))), None)
    if hidden:  # the redirect may be in the file the evidence lacks
        return CheckResult.unclear(f"cannot tell: a plain-HTTP server serves the app in what is seen, but {hidden}",
                                   *[Evidence(s.location, "listen " + " ".join(s.listen[0])) for s in serving])
    if serving:
        return CheckResult.failed(
            "the Jitsi app is served over plain HTTP", *[Evidence(s.location, "listen " + " ".join(s.listen[0])) for s in serving]
        )
    redirecting = [s for s in plain if _redirects(s)]
    if redirecting:
        return CheckResult.passed("plain HTTP redirects to HTTPS", *[Evidence(s.location, "return 301 https://") for s in redirecting])
    if tls_server(ctx) is None:
        return CheckResult.failed("no HTTPS server block at all")
    return CheckResult.passed("no plain-HTTP server serves the app (HTTPS only)")


def _docker_security_headers(ctx: AuditContext) -> CheckResult:
    csp, where = ctx.view.env_get("CSP_HEADER")
    missing = ["Referrer-Policy"] + ([] if csp and "frame-ancestors" in csp else ["frame-ancestors/X-Frame-Options"])
    return CheckResult.failed(f"missing: {', '.join(missing)}", *evs(where))


@check(
    "web.security_headers",
    title="Security headers: frame-ancestors (clickjacking), Referrer-Policy, X-Content-Type-Options",
    severity=Severity.LOW,
    criteria=("jur.privacy", "mgmt.access_control"),
    rationale="""Without frame-ancestors (or X-Frame-Options) any site can embed the meeting page and trick users
    into granting camera access; without Referrer-Policy the room name leaks in the Referer to every linked
    site; X-Content-Type-Options stops MIME sniffing. Jitsi's Debian templates (nginx and Apache) set none of them.""",
    remediation="""nginx, in the HTTPS server:
    add_header Content-Security-Policy "frame-ancestors 'self'" always;
    add_header Referrer-Policy "strict-origin-when-cross-origin" always;
    add_header X-Content-Type-Options "nosniff" always;
    Apache, in the HTTPS virtual host: Header always set Content-Security-Policy "frame-ancestors 'self'"
    (and Referrer-Policy, X-Content-Type-Options the same way).""",
    references=(OWASP_HEADERS,),
)
def security_headers(ctx: AuditContext) -> CheckResult:
    server = _https_server(ctx, apache.security_headers, _docker_security_headers)
    if isinstance(server, CheckResult):
        return server
    present: dict[str, Evidence] = {}
    for h in server.add_headers():
        if not h.args:
            continue
        name = h.args[0].lower()
        if name == "content-security-policy" and "frame-ancestors" not in " ".join(h.args[1:]):
            continue
        present[name] = Evidence(h.location, "add_header " + short(" ".join(h.args), 60))
    missing = [label for label, names in HEADER_NEEDS.items() if not any(n in present for n in names)]
    hidden = unseen_include(server) if missing else None
    if hidden:
        return CheckResult.unclear(f"cannot tell: {', '.join(missing)} not in view, but {hidden}",
                                   Evidence(server.location, "HTTPS server"), *present.values())
    if missing:
        return CheckResult.failed(f"missing: {', '.join(missing)}", Evidence(server.location, "HTTPS server"), *present.values())
    return CheckResult.passed("clickjacking, referrer and MIME-sniffing headers are sent", *present.values())


@check(
    "web.server_tokens",
    title="The web server does not announce its version (nginx server_tokens off, Apache ServerTokens Prod)",
    severity=Severity.INFO,
    criteria=("mgmt.central_control",),
    rationale="""The web server's version in every Server header and error page tells scanners which known
    vulnerabilities to try. Debian's Apache security.conf sets ServerTokens OS (version and OS) and
    ServerSignature On.""",
    remediation="""nginx, in the http block of nginx.conf (or the site): server_tokens off;
    Apache, in /etc/apache2/conf-enabled/security.conf: ServerTokens Prod and ServerSignature Off""",
    references=(
        "https://nginx.org/en/docs/http/ngx_http_core_module.html#server_tokens",
        "https://httpd.apache.org/docs/2.4/mod/core.html#servertokens",
    ),
)
def server_tokens(ctx: AuditContext) -> CheckResult:
    # docker-jitsi-meet's web/rootfs/defaults/nginx.conf has had `server_tokens off;` in its http block
    # since the first import (2018), unconditionally
    server = _https_server(ctx, apache.server_tokens, lambda _: CheckResult.passed(
        "the docker web image sets server_tokens off (its nginx.conf)"))
    if isinstance(server, CheckResult):
        return server
    d = server.directive("server_tokens")
    if d is not None:
        if d.args[:1] == ["off"]:
            return CheckResult.passed("server_tokens off", Evidence(d.location, "server_tokens off"))
        return CheckResult.failed("nginx announces its version", Evidence(d.location, "server_tokens " + " ".join(d.args)))
    conf = _config(ctx)  # the configuration the HTTPS server block came from
    if conf is not None and conf.site_only:
        return CheckResult.unclear("cannot tell: server_tokens is usually set in nginx.conf, which is not in the evidence")
    hidden = unseen_include(server)
    if hidden:
        return CheckResult.unclear(f"cannot tell: server_tokens not set in view, but {hidden}",
                                   Evidence(server.location, "HTTPS server"))
    return CheckResult.failed("server_tokens not set: nginx announces its version", Evidence(server.location, "HTTPS server"))


@check(
    "web.internal_locations",
    title="The web server does not proxy internal APIs (videobridge /colibri/, /about/, jicofo REST)",
    severity=Severity.HIGH,
    criteria=("mgmt.central_control", "mgmt.access_control"),
    rationale="""The videobridge private API (127.0.0.1:8080: COLIBRI, stats, shutdown, debug) and jicofo's REST
    server (127.0.0.1:8888: debug, stats, move-endpoints, pin) are meant for localhost. Proxying them publishes
    conference control to the Internet. Only /colibri-ws/ and /conference-request/v1 belong in the web front.""",
    remediation="""nginx: remove locations such as `location /colibri/ { proxy_pass http://127.0.0.1:8080; }`,
    `location /about/`, `/metrics`, `/debug`. Apache: remove `ProxyPass /colibri/ http://127.0.0.1:8080/colibri/`
    and the like (ProxyPass, ProxyPassMatch, <Location> with ProxyPass, RewriteRule [P]).
    Keep /colibri-ws/ (websockets) and /conference-request/v1 only.""",
    references=("https://github.com/jitsi/jitsi-videobridge/blob/master/doc/rest.md",),
)
def internal_locations(ctx: AuditContext) -> CheckResult:
    conf = _nginx_config(ctx, apache.internal_locations, lambda _: CheckResult.passed(
        "the docker web image proxies only public Jitsi paths"))
    if isinstance(conf, CheckResult):
        return conf
    found: list[Evidence] = []
    for server in conf.servers:
        for loc in server.locations:
            proxy = loc.directive("proxy_pass")
            if proxy is None:
                continue
            target = " ".join(proxy.args)
            if is_internal_proxy(loc.path, target):
                found.append(Evidence(loc.location, f"location {loc.path} -> {short(target, 50)}"))
    if found:
        return CheckResult.failed(f"{len(found)} internal endpoint(s) proxied to the public", *found)
    for server in conf.servers:
        hidden = unseen_location_include(server)
        if hidden:
            return CheckResult.unclear(f"cannot tell: no internal API is proxied in what is seen, but {hidden}",
                                       Evidence(server.location, "server block"))
    return CheckResult.passed("no internal API is proxied by nginx")
