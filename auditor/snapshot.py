"""The snapshot: everything collected from one target, as evidence.

A snapshot is produced once per target by a transport (SSH, a local directory, a saved file) and is
the only input of the parsers and checks. Its content is already redacted (see auditor.redaction):
secret values never reach a snapshot, so whatever is written or printed from it is safe.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from auditor import json_input
from auditor.user_files import read_user_file

SNAPSHOT_FORMAT = "jitsi-audit-snapshot/1"

# Keys of command items start with this prefix; file items are keyed by their absolute path.
COMMAND_PREFIX = "cmd:"


MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024


class SnapshotError(ValueError):
    """A saved snapshot that cannot be loaded; one line."""


def _gunzip(blob: bytes, limit: int) -> bytes:
    """Every gzip member of `blob`, refusing more than `limit` bytes of output before producing them."""
    out: list[bytes] = []
    size = 0
    while blob:
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            part = inflate.decompress(blob, limit - size + 1)
        except zlib.error as exc:
            raise SnapshotError(f"not a valid gzip file ({exc})") from None
        size += len(part)
        if size > limit or inflate.unconsumed_tail:
            raise SnapshotError(f"larger than {limit} bytes once decompressed")
        if not inflate.eof:
            raise SnapshotError("truncated gzip data")
        out.append(part)
        blob = inflate.unused_data
    return b"".join(out)


class ItemStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"
    PERMISSION_DENIED = "permission_denied"
    TOO_LARGE = "too_large"
    NOT_REGULAR = "not_regular"  # a directory, device, socket or a link leading outside the tree
    ERROR = "error"


ItemKind = Literal["file", "command"]


@dataclass(frozen=True, slots=True)
class CollectedItem:
    """One file or one command output.

    `sha256` is the hash of `content` as stored (after redaction); `redactions` says how many secret
    values were replaced in it, so a verifier knows the stored bytes differ from the target's file.
    """

    key: str
    kind: ItemKind
    status: ItemStatus
    content: bytes | None = None
    size: int | None = None  # size on the target, before any redaction
    mode: int | None = None  # st_mode permission bits (e.g. 0o640)
    owner: str | None = None
    group: str | None = None
    link_target: str | None = None  # where a symlink pointed, when the item was reached through one
    error: str | None = None  # one-line reason when status is not OK
    redactions: int = 0
    exit_code: int | None = None  # commands only

    @property
    def ok(self) -> bool:
        return self.status is ItemStatus.OK and self.content is not None

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.content).hexdigest() if self.content is not None else None

    @property
    def path(self) -> str:
        return self.key

    def text(self) -> str:
        """Content decoded as UTF-8; undecodable bytes become U+FFFD (never raises)."""
        return (self.content or b"").decode("utf-8", errors="replace")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "kind": self.kind,
            "status": self.status.value,
            "size": self.size,
            "mode": None if self.mode is None else f"{self.mode:04o}",
            "owner": self.owner,
            "group": self.group,
            "link_target": self.link_target,
            "error": self.error,
            "redactions": self.redactions,
            "exit_code": self.exit_code,
            "sha256": self.sha256,
        }
        if self.content is not None:
            data["content_b64"] = base64.b64encode(self.content).decode("ascii")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CollectedItem:
        content = data.get("content_b64")
        mode = data.get("mode")
        return cls(
            key=str(data["key"]),
            kind="command" if data.get("kind") == "command" else "file",
            status=ItemStatus(data["status"]),
            content=None if content is None else base64.b64decode(content),
            size=data.get("size"),
            mode=None if mode is None else int(str(mode), 8),
            owner=data.get("owner"),
            group=data.get("group"),
            link_target=data.get("link_target"),
            error=data.get("error"),
            redactions=int(data.get("redactions") or 0),
            exit_code=data.get("exit_code"),
        )


@dataclass(frozen=True, slots=True)
class HostKey:
    """The SSH host key the target presented (recorded for the report and the evidence)."""

    key_type: str
    fingerprint_sha256: str  # "SHA256:..." as ssh-keygen prints it


@dataclass(slots=True)
class Snapshot:
    target: str
    transport: str  # "ssh", "dir", "snapshot", ...
    items: dict[str, CollectedItem] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    root: str | None = None  # for directory audits: the directory given
    host_key: HostKey | None = None
    facts: dict[str, str] = field(default_factory=dict)  # hostname, user, sudo, uname ...
    errors: list[str] = field(default_factory=list)  # one-line collection errors (stage: reason)

    def add(self, item: CollectedItem) -> None:
        self.items[item.key] = item

    def get(self, key: str) -> CollectedItem | None:
        return self.items.get(key)

    def files(self) -> Iterator[CollectedItem]:
        return (i for i in self.items.values() if i.kind == "file")

    def command(self, name: str) -> CollectedItem | None:
        return self.items.get(COMMAND_PREFIX + name)

    def with_items(self, items: dict[str, CollectedItem]) -> Snapshot:
        return replace(self, items=items)

    # -- persistence -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": SNAPSHOT_FORMAT,
            "target": self.target,
            "transport": self.transport,
            "root": self.root,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "host_key": None
            if self.host_key is None
            else {"type": self.host_key.key_type, "fingerprint": self.host_key.fingerprint_sha256},
            "facts": self.facts,
            "errors": self.errors,
            "items": [item.to_json() for item in sorted(self.items.values(), key=lambda i: i.key)],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        if data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"not a jitsi-audit snapshot (format {data.get('format')!r})")
        hk = data.get("host_key")
        finished = data.get("finished_at")
        snap = cls(
            target=str(data["target"]),
            transport=str(data.get("transport", "snapshot")),
            root=data.get("root"),
            started_at=datetime.fromisoformat(data["started_at"]),
            finished_at=datetime.fromisoformat(finished) if finished else None,
            host_key=None if not hk else HostKey(str(hk["type"]), str(hk["fingerprint"])),
            facts={str(k): str(v) for k, v in (data.get("facts") or {}).items()},
            errors=[str(e) for e in data.get("errors") or []],
        )
        for raw in data.get("items") or []:
            snap.add(CollectedItem.from_json(raw))
        return snap

    def save(self, path: Path) -> None:
        blob = json.dumps(self.to_json(), indent=1, sort_keys=True).encode()
        path.write_bytes(gzip.compress(blob) if path.suffix == ".gz" else blob)

    @classmethod
    def load(cls, path: Path) -> Snapshot:
        """A snapshot saved by `save` (JSON, gzipped or not): at most MAX_SNAPSHOT_BYTES, also once
        decompressed (a saved snapshot may come from anywhere: a gzip bomb is refused, not inflated)."""
        blob = read_user_file(path, "file", SnapshotError, max_bytes=MAX_SNAPSHOT_BYTES)
        if blob[:2] == b"\x1f\x8b":
            blob = _gunzip(blob, MAX_SNAPSHOT_BYTES)
        return cls.from_json(json_input.loads(blob))
