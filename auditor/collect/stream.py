"""Decode the collector's stream (see remote_collector.sh) into a Snapshot.

The stream comes from the audited host, which may be hostile, so decoding is strictly bounded
(line length, record count, total bytes, facts) and never raises: a malformed line becomes one
entry in `Snapshot.errors` and decoding goes on; a stream without its end marker keeps what was
received and is marked incomplete (`facts["collection"] == "incomplete"`).

Keys are plain strings used only as dictionary keys. Nothing from the stream is ever written to
the local filesystem, so a key such as `/../../etc/passwd` or one with newlines or terminal escape
sequences cannot escape anything here; output layers sanitise what they print.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from auditor.collect import plan
from auditor.snapshot import COMMAND_PREFIX, CollectedItem, ItemStatus, Snapshot

MAX_KEY_LENGTH = 4096
MAX_ERROR_LENGTH = 300


@dataclass(frozen=True, slots=True)
class StreamLimits:
    max_line: int = plan.b64_length(max(plan.FILE_SIZE_CAP, plan.COMMAND_OUTPUT_CAP)) + 64 * 1024
    max_records: int = 20_000
    max_total_bytes: int = 2 * plan.b64_length(plan.TOTAL_SIZE_CAP)
    max_facts: int = 200
    max_errors: int = 200


_STATUSES = {s.value: s for s in ItemStatus}
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_OWNER_RE = re.compile(r"^[A-Za-z0-9_.@$-]{1,64}$")
_MODE_RE = re.compile(r"^[0-7]{1,5}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Format 2: a text field is ":" + the text when the text has only these characters, else base64.
_PLAIN_TEXT_RE = re.compile(r"[A-Za-z0-9/._+,@%=:-]*")
PLAIN_MARK = ":"
FORMAT_1 = "1"  # every text field in base64 (collectors installed by older versions)
SUPPORTED_FORMATS = (FORMAT_1, plan.STREAM_FORMAT)


def one_line(text: str, limit: int = MAX_ERROR_LENGTH) -> str:
    """Printable one-line form of text from the target (control characters escaped)."""
    cleaned = _CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def quoted(text: str, limit: int = MAX_ERROR_LENGTH) -> str:
    """one_line(text) in quotes, for messages (repr() would print one_line's escapes with two backslashes)."""
    return f"'{one_line(text, limit)}'"


def _b64(field: str) -> bytes:
    return base64.b64decode(field.encode("ascii"), validate=True)


def _text_field(field: str, stream_format: str) -> bytes:
    """The bytes of a text field (key, link target, error detail, fact value)."""
    if stream_format != FORMAT_1 and field.startswith(PLAIN_MARK):
        plain = field[len(PLAIN_MARK) :]
        if not _PLAIN_TEXT_RE.fullmatch(plain):
            raise ValueError("unexpected character in a plain text field")
        return plain.encode("ascii")
    return _b64(field)


def _key_text(raw: bytes) -> str:
    # Undecodable bytes stay visible as \xNN rather than surrogates that break UTF-8 writers.
    return raw.decode("utf-8", errors="backslashreplace")


@lru_cache(maxsize=1)
def _plan_sha256() -> str:
    """The plan's hash (the plan data and the script's code, ~1 ms): fixed for the process."""
    return plan.plan_sha256()


class _BadRecord(Exception):
    pass


class StreamDecoder:
    """Incremental decoder: `feed()` chunks as they arrive, then `finish()`."""

    def __init__(self, snapshot: Snapshot, limits: StreamLimits | None = None) -> None:
        self.snapshot = snapshot
        self.limits = limits or StreamLimits()
        self._buffer = bytearray()
        self._skipping = False  # inside an over-long line: drop bytes until its newline
        self._line_no = 0
        self._records = 0
        self.bytes_received = 0
        self.header: tuple[str, str, str] | None = None  # (format, collector version, plan sha256)
        self.ended = False
        self.overflow = False
        self._rejected = False
        self._errors_dropped = 0

    # -- public ---------------------------------------------------------------------------------
    @property
    def full(self) -> bool:
        """True when the caller should stop reading (limit reached or stream rejected)."""
        return self.overflow or self._rejected

    @property
    def complete(self) -> bool:
        return self.ended and not self.overflow and not self._rejected

    def feed(self, data: bytes) -> None:
        if self.full or not data:
            return
        room = self.limits.max_total_bytes - self.bytes_received
        too_much = len(data) > room
        if too_much:
            data = data[:room]
        self.bytes_received += len(data)
        start = 0
        while start < len(data) and not self.full:
            newline = data.find(b"\n", start)
            if newline < 0:
                self._append(data[start:])
                break
            self._append(data[start:newline])
            start = newline + 1
            self._end_line()
        if too_much and not self.full:
            self.overflow = True
            self._error(f"stream larger than {self.limits.max_total_bytes} bytes: the rest was dropped")

    def finish(self) -> Snapshot:
        """Finalise: flags a missing end marker; returns the snapshot (never raises)."""
        if self._buffer or self._skipping:
            self._buffer.clear()
            self._skipping = False
            self._error(f"line {self._line_no + 1}: incomplete last line dropped")
        if self.header is None and not self._rejected:
            self._error("no collector output received")
        elif not self.ended and not self._rejected:
            self._error(f"stream ended early: {self._records} records received, end marker missing")
        if self._errors_dropped:
            self.snapshot.errors.append(f"collect: {self._errors_dropped} more stream errors not shown")
            self._errors_dropped = 0
        self.snapshot.facts["collection"] = "complete" if self.complete else "incomplete"
        apply_command_facts(self.snapshot)
        return self.snapshot

    # -- lines ----------------------------------------------------------------------------------
    def _append(self, chunk: bytes) -> None:
        if self._skipping:
            return
        if len(self._buffer) + len(chunk) > self.limits.max_line:
            self._buffer.clear()
            self._skipping = True
            self._error(f"line {self._line_no + 1}: longer than {self.limits.max_line} bytes, dropped")
            return
        self._buffer += chunk

    def _end_line(self) -> None:
        self._line_no += 1
        if self._skipping:
            self._skipping = False
            return
        line = bytes(self._buffer)
        self._buffer.clear()
        try:
            self._line(line)
        except _BadRecord as exc:
            self._error(f"line {self._line_no}: {exc}")
        except Exception as exc:  # a decoder bug must not cost the audit; report it as data
            self._error(f"line {self._line_no}: undecodable record ({type(exc).__name__})")

    def _line(self, line: bytes) -> None:
        if self.ended:
            if line.strip():
                raise _BadRecord("data after the end marker ignored")
            return
        if self.header is not None:
            self._records += 1  # every line after the header, well-formed or not
        try:
            text = line.decode("ascii")
        except UnicodeDecodeError:
            raise _BadRecord("non-ASCII bytes in record") from None
        fields = text.split("\t")
        if self.header is None:
            self._header(fields)
            return
        if self._records > self.limits.max_records:
            self.overflow = True
            raise _BadRecord(f"more than {self.limits.max_records} records: the rest was dropped")
        kind = fields[0]
        if kind in ("F", "C"):
            self._item(fields)
        elif kind == "E":
            self._collector_error(fields)
        elif kind == "M":
            self._fact(fields)
        elif kind == "Z":
            self._end(fields)
        else:
            raise _BadRecord(f"unknown record type {quoted(kind[:16])}")

    def _header(self, fields: list[str]) -> None:
        if len(fields) != 4 or fields[0] != plan.STREAM_MAGIC:
            self._rejected = True
            raise _BadRecord("not a jitsi-audit collector stream (bad header)")
        if fields[1] not in SUPPORTED_FORMATS:
            self._rejected = True
            raise _BadRecord(f"unsupported stream format {quoted(fields[1][:16])}")
        self.header = (fields[1], one_line(fields[2], 32), one_line(fields[3], 64))
        facts = self.snapshot.facts
        facts["collector.version"] = self.header[1]
        facts["collector.plan_sha256"] = self.header[2]
        if self.header[2] != _plan_sha256():
            self.snapshot.errors.append(
                "collect: the collector on the host does not match this jitsi-audit "
                f"(collector {self.header[1]}, plan {self.header[2][:12]}; expected collector "
                f"{plan.COLLECTOR_VERSION}, plan {_plan_sha256()[:12]}); reinstall it from "
                "`jitsi-audit collector --print`"
            )

    # -- records --------------------------------------------------------------------------------
    @property
    def _format(self) -> str:
        return self.header[0] if self.header is not None else plan.STREAM_FORMAT

    def _item(self, fields: list[str]) -> None:
        if len(fields) != 11:
            raise _BadRecord(f"{fields[0]} record with {len(fields)} fields (expected 11)")
        kind, key_f, status_s, mode_s, owner_s, group_s, size_s, link_f, exit_s, reason, content_b64 = fields
        fmt = self._format
        try:
            raw_key = _text_field(key_f, fmt)
        except (binascii.Error, ValueError):
            raise _BadRecord("key is neither base64 nor plain text") from None
        if not raw_key or len(raw_key) > MAX_KEY_LENGTH or b"\x00" in raw_key:
            raise _BadRecord("empty, over-long or NUL-bearing key")
        name = _key_text(raw_key)
        if kind == "F":
            if not name.startswith("/"):
                raise _BadRecord(f"file key not absolute: {quoted(name, 80)}")
            key = name
        else:
            if not _NAME_RE.match(name):
                raise _BadRecord(f"bad command name {quoted(name, 80)}")
            key = COMMAND_PREFIX + name
        status = _STATUSES.get(status_s)
        if status is None:
            raise _BadRecord(f"unknown status {quoted(status_s[:32])} for {quoted(key, 80)}")
        mode = int(mode_s, 8) if _MODE_RE.match(mode_s) else None
        owner = owner_s if _OWNER_RE.match(owner_s) else None
        group = group_s if _OWNER_RE.match(group_s) else None
        size = int(size_s) if size_s.isdigit() and len(size_s) < 19 else None
        exit_code = int(exit_s) if exit_s.isdigit() and len(exit_s) < 4 else None
        link_target = None
        if link_f != "-":
            try:
                link_target = _key_text(_text_field(link_f, fmt))[:MAX_KEY_LENGTH]
            except (binascii.Error, ValueError):
                raise _BadRecord(f"link target of {quoted(key, 80)} is neither base64 nor plain text") from None
        content = None
        if content_b64 != "-":
            try:
                content = _b64(content_b64)
            except (binascii.Error, ValueError):
                raise _BadRecord(f"content of {quoted(key, 80)} is not base64") from None
        if kind == "C" and size is None and content is not None:
            size = len(content)
        error = None
        if reason != "-":
            error = plan.REASONS.get(reason) or f"reason {quoted(reason[:32])}"
            if reason == "timeout":
                error = "command timed out (killed)"
        if status is ItemStatus.OK and content is None and error is None:
            raise _BadRecord(f"ok item {quoted(key, 80)} without content or reason")
        if key in self.snapshot.items:
            return  # first record wins (a referenced certificate may also match a glob)
        self.snapshot.add(
            CollectedItem(
                key=key,
                kind="file" if kind == "F" else "command",
                status=status,
                content=content,
                size=size,
                mode=mode,
                owner=owner,
                group=group,
                link_target=link_target,
                error=error,
                exit_code=exit_code,
            )
        )

    def _collector_error(self, fields: list[str]) -> None:
        if len(fields) != 3:
            raise _BadRecord("E record with a wrong number of fields")
        detail = ""
        if fields[2] != "-":
            try:
                detail = _key_text(_text_field(fields[2], self._format))
            except (binascii.Error, ValueError):
                raise _BadRecord("E record detail is neither base64 nor plain text") from None
        code = one_line(fields[1][:40])
        self._error(f"{code}: {one_line(detail)}" if detail else code, prefix="collector")

    def _fact(self, fields: list[str]) -> None:
        if len(fields) != 3 or not _NAME_RE.match(fields[1]):
            raise _BadRecord("malformed M record")
        if len(self.snapshot.facts) >= self.limits.max_facts:
            raise _BadRecord("too many facts")
        try:
            value = _key_text(_text_field(fields[2], self._format))
        except (binascii.Error, ValueError):
            raise _BadRecord("M record value is neither base64 nor plain text") from None
        name = fields[1]
        if name in ("collection", "transport") or name.startswith("collector."):
            raise _BadRecord(f"reserved fact name {name!r}")
        self.snapshot.facts.setdefault(name, value[:MAX_KEY_LENGTH])

    def _end(self, fields: list[str]) -> None:
        if len(fields) != 2 or not fields[1].isdigit():
            raise _BadRecord("malformed end marker")
        self.ended = True
        announced = int(fields[1])
        received = self._records - 1  # the marker itself is not counted by the collector
        if announced != received:
            self._error(f"end marker announces {announced} records, {received} received")

    def _error(self, message: str, prefix: str = "collect") -> None:
        if len(self.snapshot.errors) >= self.limits.max_errors:
            self._errors_dropped += 1
            return
        self.snapshot.errors.append(f"{prefix}: {one_line(message)}")


def decode_stream(
    data: bytes | Iterable[bytes],
    snapshot: Snapshot,
    limits: StreamLimits | None = None,
) -> Snapshot:
    """Decode a whole stream (bytes or chunks) into `snapshot` and return it. Never raises."""
    decoder = StreamDecoder(snapshot, limits)
    chunks: Iterable[bytes] = (data,) if isinstance(data, bytes | bytearray) else data
    for chunk in chunks:
        decoder.feed(bytes(chunk))
        if decoder.full:
            break
    return decoder.finish()


def apply_command_facts(snapshot: Snapshot) -> None:
    """Copy the one-line outputs of hostname / id / uname into facts (for the report header)."""
    for fact, name in (("hostname", plan.CMD_HOSTNAME), ("user", plan.CMD_ID), ("uname", plan.CMD_UNAME)):
        item = snapshot.command(name)
        if item is not None and item.ok and item.exit_code == 0:
            value = one_line(item.text().strip(), 200)
            if value:
                snapshot.facts.setdefault(fact, value)
    euid = snapshot.facts.get("euid")
    if euid is not None:
        snapshot.facts.setdefault("privileged", "yes" if euid == "0" else "no")
