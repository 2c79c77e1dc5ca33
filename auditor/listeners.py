"""Listening sockets from `ss -Hltnup` output collected on the host, and what a docker:// target's
containers publish (auditor.transports.containers records it)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from auditor.snapshot import Snapshot

_PROC_RE = re.compile(r'users:\(\("([^"]{0,64})"')


@dataclass(frozen=True, slots=True)
class Listener:
    proto: str  # tcp / udp
    address: str
    port: int
    process: str | None

    @property
    def loopback_only(self) -> bool:
        addr = self.address.strip("[]").split("%", 1)[0]
        if addr in ("*", "0.0.0.0", "::", ""):
            return False
        try:
            return ipaddress.ip_address(addr).is_loopback
        except ValueError:
            return addr == "localhost"


def parse_ss(text: str) -> list[Listener]:
    """Parse `ss -Hltnup`: `tcp LISTEN 0 511 0.0.0.0:443 0.0.0.0:* users:(("nginx",pid=1,fd=6))`."""
    found: list[Listener] = []
    for line in text.splitlines()[:5000]:
        fields = line.split()
        if len(fields) < 5:
            continue
        proto = fields[0].lower()
        if proto not in ("tcp", "udp"):
            continue
        local = fields[4]
        addr, _, port = local.rpartition(":")
        if not port.isdigit():
            continue
        m = _PROC_RE.search(line)
        found.append(Listener(proto, addr, int(port), m.group(1) if m else None))
    return found


def listeners(snapshot: Snapshot) -> list[Listener] | None:
    """None when the socket list was not collected (then exposure cannot be told from the host side)."""
    item = snapshot.command("ss")
    if item is None or not item.ok:
        return None
    return parse_ss(item.text())


_PUBLISHED_RE = re.compile(
    r"(\d{1,5})/(tcp|udp|sctp)->(\*|ingress|\[[0-9A-Fa-f:.]+\]|[0-9.]+):(\d{1,5}(?:-\d{1,5})?|any)")
# the services a docker:// target audits (auditor.transports.containers.CONFIG_DIRS)
_SERVICES = ("web", "prosody", "jicofo", "jvb", "jibri", "jigasi")


def exposed(snapshot: Snapshot, port: int, proto: str = "tcp") -> bool | None:
    """True if something listens on `port` beyond loopback, False if only on loopback or not at all.

    For containers (docker://, kubectl://), `port` is the port inside them: exposed when docker publishes it
    beyond the docker host's loopback (kubectl: a hostPort, or a NodePort / LoadBalancer Service selecting
    the pod), or when a container on the host's network listens on it beyond loopback."""
    socks = listeners(snapshot)
    if socks is not None:
        return any(s.port == port and s.proto == proto and not s.loopback_only for s in socks)
    return _published(snapshot, port, proto)


def _published(snapshot: Snapshot, port: int, proto: str) -> bool | None:
    """None unless every audited container's publishing is known."""
    services = [s for s in _SERVICES if f"containers.{s}" in snapshot.facts]
    if snapshot.transport not in ("docker", "kubectl") or not services:
        return None
    answer = False
    for service in services:
        if snapshot.facts.get(f"containers.{service}.network") == "host":
            item = snapshot.command(f"ss@{service}")
            if item is None or not item.ok:
                return None
            answer = answer or any(s.port == port and s.proto == proto and not s.loopback_only
                                   for s in parse_ss(item.text()))
            continue
        value = snapshot.facts.get(f"containers.{service}.published")
        if value is None:
            return None
        for entry in value.split() if value != "none" else ():
            match = _PUBLISHED_RE.fullmatch(entry)
            if match is None:  # not what the transport writes: not known, rather than "not published"
                return None
            if int(match[1]) == port and match[2] == proto:
                answer = answer or not _loopback(match[3].strip("[]"))
    return answer


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # "*", or not an address: not known to stay on the host
        return False
