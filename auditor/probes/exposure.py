"""Which of Jitsi's ports answer from where the auditor stands, and what answers on them."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from auditor.probes.model import (
    JITSI_TCP_PORTS,
    JITSI_UDP_PORTS,
    ExposureResult,
    PortState,
    ProbeOptions,
    ProbeTarget,
)
from auditor.probes.net import converse, parallel_map, sanitize, tcp_state, udp_stun

_XMPP_OPEN = (
    "<?xml version='1.0'?><stream:stream to='{to}' xmlns='{ns}' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)
# How long a UDP port may stay silent before it is "cannot tell" (a silent port costs the whole wait, and
# the wait is on the probes' critical path). A STUN server answers within one network round trip plus
# microseconds of work, so the wait follows the host's measured round trip: UDP_WAIT_RTTS times the
# slowest TCP connect of the exposure probe's ports that answered (a connect that is answered, by SYN-ACK
# or RST, takes one round trip), never under UDP_WAIT_MIN (scheduling jitter, a busy STUN server) nor
# over UDP_WAIT (the fixed wait used when no TCP port answered, so no round trip was measured).
UDP_WAIT = 1.0
UDP_WAIT_MIN = 0.25
UDP_WAIT_RTTS = 4.0
_SERVER_RE = re.compile(rb"^server:[ \t]*([^\r\n]{1,100})", re.I | re.M)
_STATUS_RE = re.compile(rb"^HTTP/\d(?:\.\d)? (\d{3})")


def udp_wait(connect_seconds: Iterable[float]) -> float:
    """The UDP wait for a host whose answered TCP connects took `connect_seconds` (see UDP_WAIT_RTTS)."""
    measured = [s for s in connect_seconds if s >= 0]
    if not measured:
        return UDP_WAIT
    return round(min(UDP_WAIT, max(UDP_WAIT_MIN, UDP_WAIT_RTTS * max(measured))), 3)


def _service(port: int, target: ProbeTarget) -> tuple[str, str]:
    if port == target.https_port:
        return "web HTTPS", "tls"
    if port == target.http_port:
        return "web HTTP", "http"
    return JITSI_TCP_PORTS.get(port, ("unknown", "banner"))


def describe(address: str, port: int, kind: str, domain: str, timeout: float) -> str | None:
    """A short, safe description of what answers on an open port."""
    try:
        if kind == "http":
            req = f"GET / HTTP/1.0\r\nHost: {domain}\r\nUser-Agent: jitsi-audit\r\n\r\n".encode()
            data = converse(address, port, req, timeout, limit=2048, until=b"\r\n\r\n")
            return _http_summary(data)
        if kind in ("xmpp", "xmpp-server", "xmpp-component"):
            ns = {"xmpp": "jabber:client", "xmpp-server": "jabber:server"}.get(kind,
                                                                              "jabber:component:accept")
            data = converse(address, port, _XMPP_OPEN.format(to=domain, ns=ns).encode(), timeout,
                            limit=4096, until=b"</stream:features>")
            return _xmpp_summary(data)
        if kind == "tls":
            return "TLS service (see the TLS probe)"
        if kind == "silent":
            return None
        data = converse(address, port, b"\r\n", timeout, first_wait=min(0.5, timeout), limit=512)
        return sanitize(data) or None
    except OSError as exc:
        return f"no answer ({type(exc).__name__})"


def _http_summary(data: bytes) -> str | None:
    m = _STATUS_RE.match(data)
    if not m:
        return f"non-HTTP answer: {sanitize(data, 60)}" if data else None
    server = _SERVER_RE.search(data)
    return f"HTTP {m.group(1).decode()}" + (f" (Server: {sanitize(server.group(1), 60)})" if server else "")


def _xmpp_summary(data: bytes) -> str | None:
    text = data.decode("utf-8", "replace")
    if "<stream:stream" not in text and "<stream:error" not in text:
        return f"non-XMPP answer: {sanitize(data, 60)}" if data else None
    parts = ["XMPP stream"]
    if "<starttls" in text:
        parts.append("STARTTLS offered")
    mechs = re.findall(r"<mechanism>([^<]{1,40})</mechanism>", text)
    if mechs:
        parts.append("SASL " + " ".join(mechs))
    if "<stream:error" in text:
        cond = re.search(r"<([a-z-]{1,40}) xmlns=['\"]urn:ietf:params:xml:ns:xmpp-streams", text)
        parts.append(f"stream error {cond.group(1)}" if cond else "stream error")
    return ", ".join(parts)


def probe_exposure(target: ProbeTarget, address: str, options: ProbeOptions,
                   deadline: float, protos: tuple[str, ...] = ("tcp", "udp"), *, wait: float = UDP_WAIT,
                   connects: list[float] | None = None) -> ExposureResult:
    """TCP and UDP ports; `protos` restricts (the runner waits for TCP only, UDP runs alongside).

    `wait`: how long a UDP port may stay silent (`udp_wait`); `connects` receives the seconds of every
    TCP connect that was answered (open or closed), the host's round trips."""
    ports = list(dict.fromkeys([*options.tcp_ports, target.https_port, target.http_port]))
    limit = max(1, options.max_connections)

    def tcp(port: int) -> PortState:
        service, kind = _service(port, target)
        state, took = tcp_state(address, port, options.connect_timeout)
        if connects is not None and state in ("open", "closed"):
            connects.append(took)  # list.append is atomic: the pool's threads share the list
        answer = None
        if state == "open":
            start = time.monotonic()
            answer = describe(address, port, kind, target.domain, min(options.io_timeout, 2.0))
            took += time.monotonic() - start
        return PortState("tcp", port, state, service, answer, round(took, 3))

    def udp(port: int) -> PortState:
        start = time.monotonic()
        state, answer = udp_stun(address, port, min(options.connect_timeout, wait))
        return PortState("udp", port, state, JITSI_UDP_PORTS.get(port, "unknown"), answer,
                         round(time.monotonic() - start, 3))

    def one(item: tuple[str, int]) -> PortState:
        return tcp(item[1]) if item[0] == "tcp" else udp(item[1])

    items = [("udp", p) for p in options.udp_ports if "udp" in protos] + [
        ("tcp", p) for p in ports if "tcp" in protos]  # UDP waits longest
    results = parallel_map(one, items, limit, deadline)
    states = [got or PortState(proto, port, "error",
                               _service(port, target)[0] if proto == "tcp" else JITSI_UDP_PORTS.get(port, "unknown"),
                               "probe ran out of time")
              for (proto, port), got in zip(items, results, strict=True)]
    return ExposureResult(tuple(sorted(states, key=lambda s: (s.proto, s.port))))
