"""An httpx client that connects to the probed address while speaking to the public name (SNI + Host)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import httpx

from auditor.probes.net import host_for_url

MAX_BODY = 1 << 20


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    headers: httpx.Headers
    body: bytes
    truncated: bool


class WebClient:
    """GETs and POSTs to https://address:port with SNI/Host = domain; certificates are not verified here
    (the TLS probe judges them), so a bad certificate still lets the HTTP checks run."""

    def __init__(self, domain: str, address: str, timeout: float) -> None:
        self.domain = domain
        self.address = address
        # Not create_default_context(): loading the system CA store costs ~0.1 s of CPU per client, for
        # certificates that are not verified here anyway.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self._client = httpx.Client(
            verify=ctx,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"User-Agent": "jitsi-audit (live probe)", "Accept-Encoding": "identity"},
            trust_env=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> WebClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, scheme: str, port: int, path: str) -> str:
        default = 443 if scheme == "https" else 80
        netloc = host_for_url(self.address) + ("" if port == default else f":{port}")
        return f"{scheme}://{netloc}{path}"

    def request(self, method: str, scheme: str, port: int, path: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None, limit: int = MAX_BODY) -> Fetched:
        host = self.domain if port in (80, 443) else f"{self.domain}:{port}"
        hdrs = {"Host": host, **(headers or {})}
        ext = {"sni_hostname": self.domain} if scheme == "https" else {}
        req = self._client.build_request(method, self.url(scheme, port, path), content=body, headers=hdrs,
                                         extensions=ext)
        resp = self._client.send(req, stream=True)
        try:
            data = bytearray()
            truncated = False
            if resp.status_code != 101:
                for chunk in resp.iter_raw():
                    data += chunk
                    if len(data) > limit:
                        truncated = True
                        break
            return Fetched(resp.status_code, resp.headers, bytes(data[:limit]), truncated)
        finally:
            resp.close()
