"""The web front as a browser (and a stranger) sees it: redirect, headers, config.js, proxied internals."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import replace

import httpx

from auditor.probes.configjs import config_js_info
from auditor.probes.model import PROXY_PATHS, HstsInfo, HttpAnswer, HttpResult, ProbeOptions, ProbeTarget
from auditor.probes.net import sanitize
from auditor.probes.webclient import Fetched, WebClient

SECURITY_HEADERS = (
    "strict-transport-security",
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
    "server",
    "x-powered-by",
)
_HSTS_AGE = re.compile(r"max-age\s*=\s*\"?(\d{1,12})", re.I)


def parse_hsts(raw: str) -> HstsInfo:
    m = _HSTS_AGE.search(raw)
    tokens = {t.strip().lower() for t in raw.split(";")}
    return HstsInfo(sanitize(raw, 200), int(m.group(1)) if m else None, "includesubdomains" in tokens,
                    "preload" in tokens)


def _answer(path: str, port: int, got: Fetched | None, error: str | None = None) -> HttpAnswer:
    if got is None:
        return HttpAnswer(path, port, error=error or "no answer")
    ctype = got.headers.get("content-type")
    return HttpAnswer(
        path, port, got.status, sanitize(ctype, 80) if ctype else None,
        sanitize(got.headers["server"], 80) if "server" in got.headers else None,
        sanitize(got.headers["location"], 200) if "location" in got.headers else None, len(got.body),
    )


def _fetch(client: WebClient, method: str, scheme: str, port: int, path: str, **kw: object) -> tuple[
        Fetched | None, str | None]:
    try:
        return client.request(method, scheme, port, path, **kw), None  # type: ignore[arg-type]
    except httpx.TimeoutException:
        return None, "timed out"
    except (httpx.HTTPError, OSError) as exc:
        return None, sanitize(f"{type(exc).__name__}: {exc}", 160)


def _is_html(got: Fetched) -> bool:
    ctype = got.headers.get("content-type", "").lower()
    return "html" in ctype or got.body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))


def classify_endpoint(got: Fetched, baseline: Fetched | None) -> tuple[str, str | None]:
    """api (a real internal response), catch_all (Jitsi's index.html for unknown paths), absent, denied,
    upstream_down (the proxy has a location but nothing behind it) or other."""
    if baseline is not None and got.status == baseline.status and (
            hashlib.sha256(got.body).digest() == hashlib.sha256(baseline.body).digest()):
        return "catch_all", None
    if got.status in (404, 410):
        return "absent", None
    if got.status in (401, 403):
        return "denied", None
    if got.status in (502, 503, 504):
        return "upstream_down", f"HTTP {got.status} from the proxy"
    if got.status == 200 and _is_html(got):
        return "catch_all", "an HTML page (not an API answer)"
    ctype = got.headers.get("content-type", "").lower()
    if "json" in ctype or "text/plain" in ctype or "xml" in ctype or not got.body or got.status == 405:
        return "api", f"HTTP {got.status} {ctype or 'no content type'}"
    return "other", f"HTTP {got.status} {ctype or 'no content type'}"


def _endpoint(client: WebClient, port: int, path: str, baseline: Fetched | None, what: str) -> HttpAnswer:
    got, err = _fetch(client, "GET", "https", port, path, limit=64 * 1024)
    ans = _answer(path, port, got, err)
    if got is None:
        return ans
    kind, note = classify_endpoint(got, baseline)
    return replace(ans, kind=kind, note=f"{what}: {note}" if note else what)


def _bosh_kind(got: Fetched | None) -> str | None:
    """bosh when prosody's BOSH handler answers (its GET page names BOSH; a POST answer is a <body/>)."""
    if got is None:
        return None
    text = got.body[:2048].decode("utf-8", "replace").lower()
    if "bosh" in text or text.lstrip().startswith("<body"):
        return "bosh"
    return "catch_all" if _is_html(got) else "other"


def _xmpp_endpoints(client: WebClient, port: int) -> list[HttpAnswer]:
    out = []
    got, err = _fetch(client, "GET", "https", port, "/http-bind", limit=8192)
    ans = _answer("/http-bind", port, got, err)
    out.append(replace(ans, kind=_bosh_kind(got)))
    ws_headers = {
        "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "ZGppdHNpLWF1ZGl0LXByb2Jl", "Sec-WebSocket-Protocol": "xmpp",
    }
    got, err = _fetch(client, "GET", "https", port, "/xmpp-websocket", headers=ws_headers, limit=4096)
    ans = _answer("/xmpp-websocket", port, got, err)
    kind = None
    if got is not None:
        kind = "websocket" if got.status == 101 else "catch_all" if _is_html(got) else "other"
    out.append(replace(ans, kind=kind))
    return out


def _prosody_direct(client: WebClient, open_ports: set[int] | None) -> list[HttpAnswer]:
    out = []
    for port in (5280,):
        if open_ports is not None and port not in open_ports:
            continue
        got, err = _fetch(client, "GET", "http", port, "/http-bind", limit=8192)
        ans = _answer("/http-bind", port, got, err)
        kind = _bosh_kind(got)
        out.append(replace(ans, kind=kind, note="prosody HTTP in plain text" if kind == "bosh" else None))
    return out


def probe_http(target: ProbeTarget, address: str, options: ProbeOptions, deadline: float,
               open_ports: set[int] | None) -> HttpResult:
    port, plain_port = target.https_port, target.http_port
    with WebClient(target.domain, address, options.io_timeout) as client:
        plain = None
        if open_ports is None or plain_port in open_ports:
            got, err = _fetch(client, "GET", "http", plain_port, "/", limit=16 * 1024)
            plain = _answer("/", plain_port, got, err)
    with WebClient(target.domain, address, options.io_timeout) as client:
        got, err = _fetch(client, "GET", "https", port, "/", limit=256 * 1024)
        https = _answer("/", port, got, err)
        headers: list[tuple[str, str]] = []
        hsts = None
        if got is not None:
            for name in SECURITY_HEADERS:
                values = got.headers.get_list(name)
                if values:
                    headers.append((name, sanitize(", ".join(values), 400)))
            raw = got.headers.get("strict-transport-security")
            hsts = parse_hsts(raw) if raw else None
        cfg_got, _ = _fetch(client, "GET", "https", port, "/config.js")
        config = config_js_info(cfg_got.status if cfg_got else None, cfg_got.body if cfg_got else b"",
                                cfg_got.truncated if cfg_got else False)
        unknown = f"/jitsiaudit{secrets.token_hex(6)}"
        baseline, _ = _fetch(client, "GET", "https", port, unknown, limit=256 * 1024)
        endpoints = _xmpp_endpoints(client, port)
        for path, what, _expected in PROXY_PATHS:
            if time.monotonic() > deadline:
                break
            endpoints.append(_endpoint(client, port, path, baseline, what))
    with WebClient(target.domain, address, options.io_timeout) as client:
        direct = _prosody_direct(client, open_ports)
    return HttpResult(plain, https, tuple(headers), hsts, config, tuple(endpoints), tuple(direct))
