"""Listening sockets from `ss -Hltnup` output collected on the host."""

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


def exposed(snapshot: Snapshot, port: int, proto: str = "tcp") -> bool | None:
    """True if something listens on `port` beyond loopback, False if only on loopback or not at all."""
    socks = listeners(snapshot)
    if socks is None:
        return None
    return any(s.port == port and s.proto == proto and not s.loopback_only for s in socks)
