"""What the live probes are given and what they return: frozen, JSON-serialisable, free of secret values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from auditor.probes.jsonable import from_json, to_json

LIVE_KEY = "live"  # AuditContext.probes[LIVE_KEY] holds the ProbeResults

Vantage = Literal["internal", "external"]
RunStatus = Literal["ok", "failed", "timeout", "skipped"]
PROBE_NAMES = ("exposure", "tls", "http", "xmpp")

# Jitsi's TCP port set: port -> (service, kind). Kind says how to ask what answers.
JITSI_TCP_PORTS: dict[int, tuple[str, str]] = {
    80: ("nginx HTTP", "http"),
    443: ("nginx HTTPS", "tls"),
    3478: ("coturn STUN/TURN", "silent"),
    4443: ("videobridge TCP media", "tls"),
    5222: ("prosody XMPP client", "xmpp"),
    5269: ("prosody XMPP server-to-server", "xmpp-server"),
    5280: ("prosody HTTP (BOSH/websocket, plain text)", "http"),
    5281: ("prosody HTTPS", "tls"),
    5347: ("prosody external components", "xmpp-component"),
    5349: ("coturn TURN over TLS", "tls"),
    5582: ("prosody admin console", "banner"),
    8080: ("videobridge private REST/COLIBRI", "http"),
    8888: ("jicofo REST", "http"),
    9090: ("videobridge public HTTP (colibri-ws)", "http"),
}
JITSI_UDP_PORTS: dict[int, str] = {3478: "coturn STUN/TURN", 10000: "videobridge media"}
# Ports that only local components (or nginx) should reach.
INTERNAL_TCP_PORTS = frozenset({5222, 5269, 5280, 5281, 5347, 5582, 8080, 8888, 9090})
# TLS versions a live endpoint should not accept (labels of TlsEndpoint.protocols).
WEAK_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1")
# Internal APIs that must not be reachable through the proxy; (path, what it is, expected to be public).
PROXY_PATHS: tuple[tuple[str, str, bool], ...] = (
    ("/colibri/stats", "videobridge statistics", False),
    ("/colibri/conferences", "videobridge COLIBRI conferences", False),
    ("/about/health", "health endpoint", False),
    ("/about/version", "version endpoint", False),
    ("/stats", "jicofo statistics", False),
    ("/debug", "debug state", False),
    ("/metrics", "Prometheus metrics", False),
    ("/conference-request/v1", "jicofo conference request (expected)", True),
)


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    """Whom to probe. `domain` is the public name (TLS SNI, HTTP Host, XMPP `to`); `address` where to
    connect (an IP, or None to resolve `domain`)."""

    domain: str
    address: str | None = None
    ca_bundle: str | None = None  # PEM trust anchors besides the public stores
    vantage: Vantage = "external"
    intrusive: bool = False  # allow login attempts with known default passwords
    https_port: int = 443
    http_port: int = 80
    xmpp_domain: str | None = None  # XMPP host when it differs from `domain` (docker: meet.jitsi)


@dataclass(frozen=True, slots=True)
class ProbeOptions:
    connect_timeout: float = 2.0  # one TCP connect (a filtered port costs this much)
    io_timeout: float = 5.0  # one read, one HTTP request
    exposure_timeout: float = 15.0  # each probe's whole budget
    tls_timeout: float = 45.0
    http_timeout: float = 30.0
    xmpp_timeout: float = 20.0
    max_connections: int = 10  # concurrent connections to the host, all probes together
    probes: tuple[str, ...] = PROBE_NAMES
    tcp_ports: tuple[int, ...] = tuple(JITSI_TCP_PORTS)
    udp_ports: tuple[int, ...] = tuple(JITSI_UDP_PORTS)


@dataclass(frozen=True, slots=True)
class ProbeRun:
    """How one probe went. A probe that did not complete leaves its checks `unclear` with `reason`."""

    name: str
    status: RunStatus
    reason: str | None = None
    seconds: float = 0.0
    intrusive: bool = False


# -- exposure -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortState:
    proto: str  # tcp / udp
    port: int
    state: str  # open, closed, filtered (no answer to a TCP SYN), unknown (UDP without answer), error
    service: str  # what Jitsi runs there
    answer: str | None = None  # what actually answered: a short, sanitised banner
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class ExposureResult:
    ports: tuple[PortState, ...]

    def get(self, port: int, proto: str = "tcp") -> PortState | None:
        return next((p for p in self.ports if p.port == port and p.proto == proto), None)

    def is_open(self, port: int, proto: str = "tcp") -> bool | None:
        state = self.get(port, proto)
        if state is None or state.state in ("error", "unknown"):
            return None
        return state.state == "open"


# -- TLS ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CipherInfo:
    name: str  # IANA name
    protocol: str
    forward_secrecy: bool
    aead: bool
    weak: bool
    key_size: int
    kx_bits: int | None = None  # ephemeral (EC)DH size


@dataclass(frozen=True, slots=True)
class CertificateSummary:
    subject: str
    issuer: str
    names: tuple[str, ...]  # DNS names of the SAN (or the CN)
    not_after: str  # ISO 8601, UTC
    days_left: int
    key_type: str  # RSA, EC, Ed25519 ...
    key_size: int
    signature_algorithm: str
    self_signed: bool
    hostname_match: bool
    trusted: bool
    trusted_by: tuple[str, ...]  # trust stores that validated the chain
    validation_error: str | None
    chain_length: int
    has_ocsp_url: bool
    lifespan_days: int
    sha256: str


@dataclass(frozen=True, slots=True)
class TlsEndpoint:
    port: int
    service: str
    starttls: str | None = None  # xmpp / xmpp-server
    status: str = "ok"  # ok, no_tls, unreachable, timeout, error
    error: str | None = None
    protocols: tuple[str, ...] = ()
    ciphers: tuple[CipherInfo, ...] = ()
    certificate: CertificateSummary | None = None
    ocsp_stapled: bool | None = None
    compression: bool | None = None
    secure_renegotiation: bool | None = None
    client_renegotiation_dos: bool | None = None
    heartbleed: bool | None = None
    robot: str | None = None
    ccs_injection: bool | None = None
    fallback_scsv: bool | None = None
    extended_master_secret: bool | None = None
    curves: tuple[str, ...] = ()
    mozilla_intermediate: tuple[str, ...] | None = None  # issues; None: not evaluated
    mozilla_modern: tuple[str, ...] | None = None
    incomplete: tuple[str, ...] = ()  # scan commands that did not complete, with the reason
    seconds: float = 0.0
    suite_scan: str = "full"  # full: every suite tried; sampled: a few handshakes per version (tls_quick)

    @property
    def scanned(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True, slots=True)
class TlsResult:
    endpoints: tuple[TlsEndpoint, ...]

    def get(self, port: int) -> TlsEndpoint | None:
        return next((e for e in self.endpoints if e.port == port), None)


# -- HTTP ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    path: str
    port: int
    status: int | None = None
    content_type: str | None = None
    server: str | None = None
    location: str | None = None
    length: int | None = None
    kind: str | None = None  # for endpoint probes: api, catch_all, absent, denied, upstream_down, error ...
    note: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class HstsInfo:
    raw: str
    max_age: int | None
    include_subdomains: bool
    preload: bool


@dataclass(frozen=True, slots=True)
class PublicSecret:
    """A secret-looking setting in the public config.js: its name and a verdict, never its value."""

    name: str
    secret_class: str
    length: int
    turn: bool  # part of an ICE/TURN server entry


@dataclass(frozen=True, slots=True)
class ConfigJsInfo:
    status: int | None
    size: int
    sha256: str | None
    parsed: bool
    parse_error: str | None = None
    values: tuple[tuple[str, str], ...] = ()  # flattened non-secret settings: dotted key -> JSON text
    secrets: tuple[PublicSecret, ...] = ()


@dataclass(frozen=True, slots=True)
class HttpResult:
    plain: HttpAnswer | None  # GET http://domain/
    https: HttpAnswer | None  # GET https://domain/
    headers: tuple[tuple[str, str], ...] = ()  # security-relevant response headers of the HTTPS front
    hsts: HstsInfo | None = None
    config_js: ConfigJsInfo | None = None
    endpoints: tuple[HttpAnswer, ...] = ()  # /http-bind, /xmpp-websocket, internal APIs through the proxy
    direct: tuple[HttpAnswer, ...] = ()  # internal HTTP ports asked directly (prosody 5280 ...)

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers if k == low), None)

    def endpoint(self, path: str) -> HttpAnswer | None:
        return next((e for e in self.endpoints if e.path == path), None)


# -- XMPP ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamInfo:
    transport: str  # bosh / c2s
    domain: str
    ok: bool
    error: str | None = None
    mechanisms: tuple[str, ...] = ()
    starttls: bool | None = None  # c2s: STARTTLS offered
    starttls_required: bool | None = None


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """An intrusive probe: a login with a known default password (the password itself is not recorded)."""

    account: str
    password_source: str  # e.g. "docker-jitsi-meet default (CVE-2020-11878)"
    mechanism: str | None
    outcome: str  # accepted, rejected, error
    note: str | None = None


@dataclass(frozen=True, slots=True)
class XmppResult:
    domain: str
    bosh: StreamInfo | None = None
    c2s: StreamInfo | None = None
    logins: tuple[LoginAttempt, ...] = ()


# -- everything ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProbeResults:
    domain: str
    address: str | None
    vantage: Vantage
    intrusive: bool
    started_at: str
    seconds: float
    runs: tuple[ProbeRun, ...]
    exposure: ExposureResult | None = None
    tls: TlsResult | None = None
    http: HttpResult | None = None
    xmpp: XmppResult | None = None
    notes: tuple[str, ...] = field(default=())

    def run(self, name: str) -> ProbeRun | None:
        return next((r for r in self.runs if r.name == name), None)

    def unavailable(self, name: str) -> str | None:
        """Why probe `name` gave no usable result, or None when it ran."""
        run = self.run(name)
        if run is None:
            return f"the {name} probe was not run"
        if run.status == "ok":
            return None
        what = "timed out" if run.status == "timeout" else run.status
        return f"the {name} probe {what}: {run.reason or 'no reason'}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = to_json(self)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProbeResults:
        return from_json(cls, data)
