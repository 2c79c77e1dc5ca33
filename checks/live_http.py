"""Live HTTP: redirect, headers, the public config.js and internal APIs reachable through the proxy."""

from __future__ import annotations

import re

from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.model import NO_JS_TO_COMPARE, CheckResult, Severity
from auditor.probes.judge import (
    HSTS_MIN_AGE,
    api_disagreement,
    config_js_disagreement,
    ev,
    exposed_endpoints,
    hsts_disagreement,
    need,
)
from auditor.probes.model import ConfigJsInfo
from auditor.registry import check
from checks._common import file_error

TAGS = ("live", "http")
_VERSION_RE = re.compile(r"/\s*v?\d|(?<!\d)\d+\.\d+")  # a number from its first digit: linear


def _not_read(cfg: ConfigJsInfo | None) -> str:
    return f"cannot tell: /config.js not read ({cfg.parse_error if cfg else 'no answer'})"


@check(
    "live.https_redirect",
    title="Plain HTTP redirects to HTTPS",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit",),
    rationale="""A site that answers http:// with content lets a first visit (or a link) run unencrypted,
    where an attacker in the path can rewrite the page and the client code.""",
    remediation="In the port-80 server block: location / { return 301 https://$host$request_uri; }",
    references=("https://jitsi.github.io/handbook/docs/devops-guide/devops-guide-quickstart",),
    tags=TAGS,
)
def https_redirect(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "http")
    if res is None or res.http is None:
        return early or CheckResult.unclear("cannot tell: no HTTP results")
    plain = res.http.plain
    if plain is None:
        port80 = res.exposure.get(80) if res.exposure else None
        if port80 is not None and port80.state in ("closed", "filtered"):
            return CheckResult.passed(f"plain HTTP does not answer (port 80 {port80.state})")
        return CheckResult.unclear("cannot tell: plain HTTP was not tried")
    evidence = ev("http", f"{plain.port}{plain.path}", f"HTTP {plain.status} Location: {plain.location}")
    if plain.error:
        return CheckResult.passed(f"plain HTTP gives no content ({plain.error})", evidence)
    if plain.status in (301, 302, 303, 307, 308) and (plain.location or "").lower().startswith("https://"):
        return CheckResult.passed(f"http:// answers {plain.status} to {plain.location}", evidence)
    return CheckResult.failed(f"http:// answers HTTP {plain.status} without a redirect to https://", evidence)


@check(
    "live.hsts",
    title="The HTTPS answer carries a long-lived HSTS header",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit",),
    rationale="""HSTS tells browsers never to use plain HTTP for the site; without it (or with a short
    max-age) an attacker can strip HTTPS on a first or expired visit.""",
    remediation='add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;',
    references=("https://www.rfc-editor.org/rfc/rfc6797",),
    tags=TAGS,
)
def hsts(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "http")
    if res is None or res.http is None:
        return early or CheckResult.unclear("cannot tell: no HTTP results")
    if res.http.https is None or res.http.https.status is None:
        why = res.http.https.error if res.http.https else "no answer"
        return CheckResult.unclear(f"cannot tell: the HTTPS front did not answer ({why})")
    h = res.http.hsts
    note = hsts_disagreement(ctx, res)
    if h is None:
        return CheckResult.failed("no Strict-Transport-Security header" + (f"; {note}" if note else ""),
                                  ev("http", f"{res.http.https.port}/", "no Strict-Transport-Security"))
    evidence = ev("http", f"{res.http.https.port}/", f"Strict-Transport-Security: {h.raw}")
    if h.max_age is None or h.max_age < HSTS_MIN_AGE:
        return CheckResult.failed(f"HSTS max-age {h.max_age} is shorter than 180 days", evidence)
    sub = "with" if h.include_subdomains else "without"
    return CheckResult.passed(f"HSTS max-age {h.max_age} s, {sub} includeSubDomains", evidence)


@check(
    "live.security_headers",
    title="The web front sends clickjacking, MIME-sniffing and referrer protections",
    severity=Severity.LOW,
    criteria=("mgmt.access_control",),
    rationale="""Without frame-ancestors (or X-Frame-Options) any site can embed the meeting page and trick
    users into clicks; without nosniff and a Referrer-Policy, responses are sniffed and meeting URLs leak
    to third parties in the Referer header.""",
    remediation="""add_header X-Content-Type-Options nosniff always;
    add_header Referrer-Policy strict-origin-when-cross-origin always;
    add_header Content-Security-Policy "frame-ancestors 'self'" always;""",
    references=("https://owasp.org/www-project-secure-headers/",),
    tags=TAGS,
)
def security_headers(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "http")
    if res is None or res.http is None:
        return early or CheckResult.unclear("cannot tell: no HTTP results")
    http = res.http
    if http.https is None or http.https.status is None:
        return CheckResult.unclear("cannot tell: the HTTPS front did not answer")
    csp = (http.header("content-security-policy") or "").lower()
    missing = []
    if "frame-ancestors" not in csp and not http.header("x-frame-options"):
        missing.append("frame-ancestors/X-Frame-Options")
    if (http.header("x-content-type-options") or "").lower() != "nosniff":
        missing.append("X-Content-Type-Options: nosniff")
    if not http.header("referrer-policy"):
        missing.append("Referrer-Policy")
    extra = "" if http.header("permissions-policy") else " (no Permissions-Policy either)"
    shown = [(k, v) for k, v in http.headers if k not in ("server", "x-powered-by")]
    evidence = [ev("http", f"{http.https.port}/", f"{k}: {v}") for k, v in shown]
    if missing:
        return CheckResult.failed(f"missing {', '.join(missing)}{extra}", *evidence)
    return CheckResult.passed(f"clickjacking, sniffing and referrer protections are sent{extra}", *evidence)


@check(
    "live.server_version",
    title="The web front does not disclose software versions",
    severity=Severity.LOW,
    criteria=("mgmt.central_control",),
    rationale="A Server or X-Powered-By header with a version tells attackers which flaws to try first.",
    remediation="nginx: server_tokens off; (and remove X-Powered-By in any proxied application).",
    references=("https://nginx.org/en/docs/http/ngx_http_core_module.html#server_tokens",),
    tags=TAGS,
)
def server_version(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "http")
    if res is None or res.http is None:
        return early or CheckResult.unclear("cannot tell: no HTTP results")
    answers = [a for a in (res.http.https, res.http.plain, *res.http.direct) if a is not None and a.status]
    if not answers:
        return CheckResult.unclear("cannot tell: no HTTP answer")
    found = {f"{a.port}: {a.server}" for a in answers if a.server and _VERSION_RE.search(a.server)}
    powered = res.http.header("x-powered-by")
    if powered:
        found.add(f"X-Powered-By: {powered}")
    if found:
        return CheckResult.failed(f"versions disclosed ({'; '.join(sorted(found))})",
                                  *[ev("http", "server", f) for f in sorted(found)])
    return CheckResult.passed("no version in Server or X-Powered-By headers")


@check(
    "live.config_js_secrets",
    title="The public config.js holds no secret or TURN credential",
    severity=Severity.HIGH,
    criteria=("enc.key_strength", "mgmt.access_control"),
    rationale="""/config.js is served to everyone. A static TURN credential there lets anyone relay
    traffic through the TURN server; an API or analytics secret there is public.""",
    remediation="""Remove secrets from config.js; use prosody's mod_external_services with a TURN shared
    secret (time-limited credentials) instead of static TURN users.""",
    references=("https://jitsi.github.io/handbook/docs/devops-guide/turn",),
    tags=TAGS,
)
def config_js_secrets(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "http")
    if res is None or res.http is None:
        return early or CheckResult.unclear("cannot tell: no HTTP results")
    cfg = res.http.config_js
    if cfg is None or not cfg.parsed:
        return CheckResult.unclear(_not_read(cfg))
    if not cfg.secrets:
        return CheckResult.passed("no secret-named setting has a value in the public config.js")
    names = [f"{s.name} ({'TURN credential, ' if s.turn else ''}{s.length} characters)" for s in cfg.secrets]
    evidence = [ev("http", "config.js", f"{s.name}: {s.secret_class}") for s in cfg.secrets]
    return CheckResult.failed(f"the public /config.js exposes {', '.join(names)}", *evidence)


@check(
    "live.config_js_matches",
    title="The config.js users get is the one the audit read",
    severity=Severity.MEDIUM,
    criteria=("mgmt.central_control",),
    rationale="""When the site serves a different config.js than the file read over SSH (another server block,
    a CDN, a docker volume), the findings drawn from config.js do not describe what users get.""",
    remediation="Find which file the web server really serves for /config.js and keep a single copy.",
    tags=TAGS,
)
def config_js_matches(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "http")
    if res is None or res.http is None:
        return early or CheckResult.unclear("cannot tell: no HTTP results")
    if not ctx.view.cfg_ok:
        if gap := file_error(ctx, Role.CONFIG_JS):  # there, but unreadable or broken: nothing to compare yet
            return CheckResult.unclear(f"cannot tell: {gap}")
        return CheckResult.not_applicable(NO_JS_TO_COMPARE)
    cfg = res.http.config_js
    if cfg is None or not cfg.parsed:
        return CheckResult.unclear(_not_read(cfg))
    diff = config_js_disagreement(ctx, res)
    if diff:
        return CheckResult.failed(diff, ev("http", "443/config.js", f"sha256 {cfg.sha256}"))
    return CheckResult.passed("the public /config.js has the same settings as the copy read over SSH")


@check(
    "live.internal_endpoints",
    title="No internal API answers through the web front",
    severity=Severity.HIGH,
    criteria=("mgmt.access_control", "mgmt.central_control"),
    rationale="""The videobridge's COLIBRI/REST API, statistics, health and debug endpoints are for local
    components and monitoring; proxied to the internet they leak conference data or allow control. Jicofo's
    /conference-request/v1 is meant to be public.""",
    remediation="Remove nginx locations proxying /colibri/ (not /colibri-ws/), /about/, /stats or /debug.",
    references=("https://github.com/jitsi/jitsi-videobridge/blob/master/doc/rest.md",),
    tags=TAGS,
)
def internal_endpoints(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "http")
    if res is None or res.http is None:
        return early or CheckResult.unclear("cannot tell: no HTTP results")
    tried = [e for e in res.http.endpoints if e.path not in ("/http-bind", "/xmpp-websocket")]
    if not tried or all(e.status is None for e in tried):
        return CheckResult.unclear("cannot tell: the web front did not answer the endpoint probes")
    exposed = exposed_endpoints(res)
    evidence = [ev("http", f"{e.port}{e.path}", f"HTTP {e.status} {e.content_type or ''} -> {e.kind}")
                for e in tried]
    if exposed:
        msg = "reachable through the web front: " + ", ".join(f"{p} ({what})" for p, what in exposed)
        if (d := api_disagreement(ctx, res)) is not None:
            msg += f"; {d}"
        return CheckResult.failed(msg, *evidence)
    return CheckResult.passed("internal APIs are not reachable through the web front (unknown paths get the "
                              "site's page)", *evidence)


@check(
    "live.xmpp_endpoints",
    title="BOSH or XMPP websocket answers through the web front",
    severity=Severity.INFO,
    criteria=("enc.all_channels",),
    rationale="Browsers and apps signal over /http-bind or /xmpp-websocket; without either, meetings fail.",
    remediation="Proxy /http-bind and /xmpp-websocket to prosody's HTTP port (127.0.0.1:5280) in nginx.",
    tags=TAGS,
)
def xmpp_endpoints(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "http")
    if res is None or res.http is None:
        return early or CheckResult.unclear("cannot tell: no HTTP results")
    bosh, ws = res.http.endpoint("/http-bind"), res.http.endpoint("/xmpp-websocket")
    ok = [name for name, e, kind in (("BOSH", bosh, "bosh"), ("websocket", ws, "websocket"))
          if e is not None and e.kind == kind]
    evidence = [ev("http", f"{e.port}{e.path}", f"HTTP {e.status} -> {e.kind}") for e in (bosh, ws) if e]
    if ok:
        return CheckResult.passed(f"{' and '.join(ok)} answer(s)", *evidence)
    return CheckResult.failed("neither /http-bind nor /xmpp-websocket reaches prosody", *evidence)
