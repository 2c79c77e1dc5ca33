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
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar

from auditor import json_input
from auditor.user_files import read_user_file

SNAPSHOT_FORMAT = "jitsi-audit-snapshot/1"

# Keys of command items start with this prefix; file items are keyed by their absolute path.
COMMAND_PREFIX = "cmd:"
# facts["layout"] of a copy of a host's root read by the collector (auditor.transports.local)
HOST_COPY_LAYOUT = "host root copy"


T = TypeVar("T")

MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024
# A --root collection stops at 5 000 files and a live one reads far fewer: a saved snapshot with more
# items was not made by this tool, and each item costs discovery and perhaps a parse.
MAX_SNAPSHOT_ITEMS = 20_000


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
    def from_json(cls, data: Any, where: str = "item") -> CollectedItem:
        """An item as `to_json` wrote it; anything else (a saved snapshot may come from anywhere) is a
        SnapshotError naming the item and the field, never a TypeError deep in a check."""
        if not isinstance(data, dict):
            raise SnapshotError(f"{where} is {_json_type(data)}, not an object")
        key = _required(data, "key", str, where)
        where = f"{where} ({_short(key)})"
        kind = _field(data, "kind", str, where) or "file"
        if kind not in ("file", "command"):
            raise SnapshotError(f"{where}: kind {_short(kind)} is neither 'file' nor 'command'")
        status = _required(data, "status", str, where)
        try:
            item_status = ItemStatus(status)
        except ValueError:
            raise SnapshotError(f"{where}: unknown status {_short(str(status))}") from None
        content = _field(data, "content_b64", str, where)
        mode = data.get("mode")
        if mode is not None and not (isinstance(mode, str | int) and _MODE_RE.fullmatch(str(mode))):
            raise SnapshotError(f"{where}: mode must be octal permission bits, not {_short(str(mode))}")
        try:
            blob = None if content is None else base64.b64decode(content, validate=True)
        except ValueError:  # binascii.Error
            raise SnapshotError(f"{where}: content_b64 is not base64") from None
        return cls(
            key=key,
            kind="command" if kind == "command" else "file",
            status=item_status,
            content=blob,
            size=_count(data, "size", where),
            mode=None if mode is None else int(str(mode), 8),
            owner=_field(data, "owner", str, where),
            group=_field(data, "group", str, where),
            link_target=_field(data, "link_target", str, where),
            error=_field(data, "error", str, where),
            redactions=_count(data, "redactions", where) or 0,
            exit_code=_field(data, "exit_code", int, where),
        )


# -- reading a saved snapshot's JSON: every field's type checked, every failure one line ----------
_MODE_RE = re.compile(r"[0-7]{1,6}")  # to_json writes f"{mode:04o}"
_JSON_TYPES = {str: "a string", int: "an integer", dict: "an object", list: "a list"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a number"
    return next((name for t, name in _JSON_TYPES.items() if isinstance(value, t)), type(value).__name__)


def _short(text: str) -> str:
    """A value of the file in a message: quoted, cut, control characters escaped (repr)."""
    return repr(text if len(text) <= 80 else text[:80] + "...")


def _field(data: dict[str, Any], name: str, kind: type[T], where: str) -> T | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):  # bool is an int to isinstance
        raise SnapshotError(f"{where}: {name!r} must be {_JSON_TYPES[kind]}, not {_json_type(value)}")
    return value


def _required(data: dict[str, Any], name: str, kind: type[T], where: str) -> T:
    value = _field(data, name, kind, where)
    if value is None:
        raise SnapshotError(f"{where}: {name!r} is missing")
    return value


def _count(data: dict[str, Any], name: str, where: str) -> int | None:
    value = _field(data, name, int, where)
    if value is not None and value < 0:
        raise SnapshotError(f"{where}: {name!r} must not be negative")
    return value


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise SnapshotError(f"{where}: expected a string, not {_json_type(value)}")


def _timestamp(data: dict[str, Any], name: str) -> datetime | None:
    text = _field(data, name, str, "snapshot")
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise SnapshotError(f"snapshot: {name!r} is not an ISO 8601 time ({_short(text)})") from None
    # A time without an offset is read as UTC: naive and aware times cannot be compared or subtracted.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


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

    def configuration_tree(self) -> bool:
        """A --root directory of configuration files (a repository), not a copy of a host's root."""
        return self.transport == "dir" and self.facts.get("layout") != HOST_COPY_LAYOUT

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
    def from_json(cls, data: Any) -> Snapshot:
        if not isinstance(data, dict):
            raise SnapshotError(f"not a jitsi-audit snapshot (the JSON is {_json_type(data)}, not an object)")
        if data.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotError(f"not a jitsi-audit snapshot (format {_short(str(data.get('format')))})")
        hk = _field(data, "host_key", dict, "snapshot")
        facts = _field(data, "facts", dict, "snapshot") or {}
        errors = _field(data, "errors", list, "snapshot") or []
        items = _field(data, "items", list, "snapshot") or []
        if len(items) > MAX_SNAPSHOT_ITEMS:
            raise SnapshotError(f"snapshot: more than {MAX_SNAPSHOT_ITEMS} items")
        started = _timestamp(data, "started_at")
        if started is None:
            raise SnapshotError("snapshot: 'started_at' is missing")
        snap = cls(
            target=_required(data, "target", str, "snapshot"),
            transport=_field(data, "transport", str, "snapshot") or "snapshot",
            root=_field(data, "root", str, "snapshot"),
            started_at=started,
            finished_at=_timestamp(data, "finished_at"),
            host_key=None
            if not hk
            else HostKey(
                _required(hk, "type", str, "snapshot: host_key"),
                _required(hk, "fingerprint", str, "snapshot: host_key"),
            ),
            facts={str(k): _scalar(v, f"snapshot: fact {_short(str(k))}") for k, v in facts.items()},
            errors=[_scalar(e, "snapshot: errors") for e in errors],
        )
        for i, raw in enumerate(items):
            snap.add(CollectedItem.from_json(raw, f"item {i}"))
        return snap

    def save(self, path: Path) -> None:
        from auditor.atomic_output import atomic_binary

        blob = json.dumps(self.to_json(), indent=1, sort_keys=True).encode()
        with atomic_binary(path) as out:
            out.write(gzip.compress(blob) if path.suffix == ".gz" else blob)

    @classmethod
    def load(cls, path: Path) -> Snapshot:
        """A snapshot saved by `save` (JSON, gzipped or not): at most MAX_SNAPSHOT_BYTES, also once
        decompressed (a saved snapshot may come from anywhere: a gzip bomb is refused, not inflated)."""
        blob = read_user_file(path, "file", SnapshotError, max_bytes=MAX_SNAPSHOT_BYTES)
        if blob[:2] == b"\x1f\x8b":
            blob = _gunzip(blob, MAX_SNAPSHOT_BYTES)
        try:
            data = json_input.loads(blob)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too deep
            raise SnapshotError(f"not valid JSON ({' '.join(str(exc).split())[:200]})") from None
        del blob  # up to MAX_SNAPSHOT_BYTES not to be held while the items are decoded from `data`
        return cls.from_json(data)
