"""Typed transport errors, one per stage, each with a one-line message naming host and stage.

    TransportError
    ├── ConnectError   TCP, DNS, SSH handshake, jump host, ProxyCommand      (CLI: exit 3)
    ├── HostKeyError   unknown, changed or revoked host key                   (CLI: exit 3)
    ├── AuthError      no accepted key                                        (CLI: exit 3)
    └── CollectError   sudo refused, timeout, stream cut short (keeps `snapshot`) (CLI: exit 3)

Messages never contain secrets; text that came from the target is passed through `one_line`.
"""

from __future__ import annotations

from auditor.collect.stream import one_line
from auditor.snapshot import HostKey, Snapshot


class TransportError(Exception):
    """Base: `str(exc)` is "<stage>: <reason>" where the reason names the host."""

    def __init__(self, host: str, stage: str, reason: str) -> None:
        self.host = one_line(host, 200)
        self.stage = stage
        self.reason = one_line(reason, 600)
        super().__init__(f"{stage}: {self.reason}")


class ConnectError(TransportError):
    pass


class AuthError(TransportError):
    pass


class HostKeyError(TransportError):
    """`offered` is the key the server presented; `known` the fingerprint on file, if any."""

    def __init__(
        self, host: str, reason: str, offered: HostKey | None = None, known: str | None = None
    ) -> None:
        super().__init__(host, "host key", reason)
        self.offered = offered
        self.known = known


class CollectError(TransportError):
    """Collection failed after connecting; `snapshot` holds what was received (may be partial)."""

    def __init__(self, host: str, stage: str, reason: str, snapshot: Snapshot | None = None) -> None:
        super().__init__(host, stage, reason)
        self.snapshot = snapshot
