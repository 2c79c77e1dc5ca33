"""A small, strict reader/appender of OpenSSH known_hosts files.

Own code rather than paramiko.HostKeys because we need what OpenSSH does and paramiko does not:
`@revoked` markers, wildcard/negated host patterns, and the line number of a conflicting entry for
the "key changed" message. Host certificates (`@cert-authority`) are not supported: such hosts
count as unknown. Appending writes one plain (unhashed) line and never rewrites the file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MAX_LINE = 16 * 1024
MAX_LINES = 200_000


def fingerprint(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint of a public key blob ("SHA256:..." without padding)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def host_token(host: str, port: int) -> str:
    """The name OpenSSH stores: `host` for port 22, `[host]:port` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


@dataclass(frozen=True, slots=True)
class KnownHostEntry:
    marker: str | None  # "@revoked", "@cert-authority" or None
    hosts: str
    key_type: str
    key_b64: str
    line_no: int

    @property
    def blob(self) -> bytes | None:
        """The key blob, or None when the line's key is not valid base64."""
        try:
            return base64.b64decode(self.key_b64, validate=True)
        except (binascii.Error, ValueError):
            return None

    @property
    def fingerprint(self) -> str:
        blob = self.blob
        return fingerprint(blob) if blob is not None else "SHA256:?"

    @property
    def readable(self) -> bool:
        return self.blob is not None

    def matches(self, token: str) -> bool:
        return _match_host_list(self.hosts, token)


def _glob_match(pattern: str, text: str) -> bool:
    if "*" not in pattern and "?" not in pattern:
        return pattern == text
    return _glob_regex(pattern).fullmatch(text) is not None


@lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A host pattern as a regex, built once per process (each host looks up every line, 3 times)."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


def _match_hashed(entry: str, token: str) -> bool:
    # |1|base64(salt)|base64(HMAC-SHA1(salt, host))
    parts = entry.split("|")
    if len(parts) != 4 or parts[1] != "1":
        return False
    try:
        salt = base64.b64decode(parts[2], validate=True)
        digest = base64.b64decode(parts[3], validate=True)
    except (binascii.Error, ValueError):
        return False
    mac = hmac.new(salt, token.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(mac, digest)


def _match_host_list(hosts: str, token: str) -> bool:
    if hosts.startswith("|"):
        return _match_hashed(hosts, token)
    token = token.lower()
    matched = False
    for pattern in hosts.lower().split(","):
        negated = pattern.startswith("!")
        if _glob_match(pattern[1:] if negated else pattern, token):
            if negated:
                return False
            matched = True
    return matched


class KnownHosts:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[KnownHostEntry] = []
        self._load()

    def _load(self) -> None:
        try:
            with self.path.open("rb") as handle:
                for line_no, raw in enumerate(handle, 1):
                    if line_no > MAX_LINES:
                        break
                    if len(raw) > MAX_LINE:
                        continue
                    entry = self._parse(raw.decode("utf-8", errors="replace"), line_no)
                    if entry is not None:
                        self.entries.append(entry)
        except FileNotFoundError:
            pass

    @staticmethod
    def _parse(line: str, line_no: int) -> KnownHostEntry | None:
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            return None
        marker = None
        if fields[0].startswith("@"):
            marker, fields = fields[0], fields[1:]
        if len(fields) < 3:
            return None
        return KnownHostEntry(marker, fields[0], fields[1], fields[2], line_no)

    def lookup(self, token: str) -> list[KnownHostEntry]:
        """Plain entries (no marker) for this host token whose key can be read. OpenSSH skips a line
        whose key it cannot read; it is no evidence that the host's key changed."""
        return [e for e in self.entries if e.marker is None and e.matches(token) and e.readable]

    def unreadable(self, token: str) -> list[KnownHostEntry]:
        """Plain entries for this host token whose key is not valid base64 (skipped by `lookup`)."""
        return [e for e in self.entries if e.marker is None and e.matches(token) and not e.readable]

    def revoked(self, token: str, key_type: str, key_b64: str) -> KnownHostEntry | None:
        for entry in self.entries:
            if entry.marker == "@revoked" and entry.key_b64 == key_b64 and entry.matches(token):
                return entry
        return None

    def has_cert_authority(self, token: str) -> bool:
        return any(e.marker == "@cert-authority" and e.matches(token) for e in self.entries)

    def append(self, token: str, key_type: str, key_b64: str) -> None:
        """Add one line; creates the file (0600) and its directory (0700) when missing."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "ab") as handle:
            prefix = b""
            size = os.fstat(fd).st_size
            if size > 0:
                prefix = b"" if os.pread(fd, 1, size - 1) == b"\n" else b"\n"
            handle.write(prefix + f"{token} {key_type} {key_b64}\n".encode())
        self.entries.append(KnownHostEntry(None, token, key_type, key_b64, -1))
