"""Debian version comparison: dpkg's algorithm (lib/dpkg/version.c `dpkg_version_compare`).

Implemented here rather than taken from python-debian or python-apt: neither is a dependency of
the project, and the algorithm is small and fully specified. A version is `[epoch:]upstream[-revision]`;
epochs compare numerically, then upstream, then revision, each with `verrevcmp`: alternating runs
of non-digits (compared character by character, letters before other characters, `~` before
everything, even the end of the string) and digits (compared as numbers).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_DIGITS = "0123456789"
_UPSTREAM_RE = re.compile(r"^[0-9A-Za-z.+~:-]+$")
_REVISION_RE = re.compile(r"^[0-9A-Za-z.+~]*$")


class VersionError(ValueError):
    pass


def _order(c: str) -> int:
    if c in _DIGITS:
        return 0
    if c.isascii() and c.isalpha():
        return ord(c)
    if c == "~":
        return -1
    return ord(c) + 256


def verrevcmp(a: str, b: str) -> int:
    """dpkg's comparison of two upstream (or revision) strings: <0, 0 or >0."""
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and a[i] not in _DIGITS) or (j < len(b) and b[j] not in _DIGITS):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i] in _DIGITS and j < len(b) and b[j] in _DIGITS:
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i] in _DIGITS:
            return 1
        if j < len(b) and b[j] in _DIGITS:
            return -1
        if first_diff:
            return first_diff
    return 0


@functools.total_ordering
@dataclass(frozen=True, slots=True)
class DebVersion:
    epoch: int
    upstream: str
    revision: str  # "" when absent (dpkg compares it like "0")

    @classmethod
    def parse(cls, text: str) -> DebVersion:
        """A full Debian version: the revision is what follows the last hyphen."""
        version = text.strip()
        epoch, rest = _split_epoch(version, text)
        upstream, sep, revision = rest.rpartition("-")
        if not sep:
            upstream, revision = rest, ""
        elif not revision:
            raise VersionError(f"empty revision in version {text!r}")
        _check(upstream, revision, text)
        return cls(epoch, upstream, revision)

    @classmethod
    def upstream_only(cls, text: str) -> DebVersion:
        """An upstream version that may itself contain hyphens (`1.0-940`, `2.1-595-g3637fda42`)."""
        epoch, rest = _split_epoch(text.strip(), text)
        _check(rest, "", text)
        return cls(epoch, rest, "")

    def without_revision(self) -> DebVersion:
        return DebVersion(self.epoch, self.upstream, "")

    def compare(self, other: DebVersion) -> int:
        if self.epoch != other.epoch:
            return -1 if self.epoch < other.epoch else 1
        return verrevcmp(self.upstream, other.upstream) or verrevcmp(self.revision, other.revision)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, DebVersion):
            return NotImplemented
        return self.compare(other) < 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DebVersion):
            return NotImplemented
        return self.compare(other) == 0

    def __hash__(self) -> int:  # equal versions ("1.0" and "1.0-0", "01" and "1") may differ in text
        return hash(self.epoch)

    def __str__(self) -> str:
        text = f"{self.epoch}:{self.upstream}" if self.epoch else self.upstream
        return f"{text}-{self.revision}" if self.revision else text


def _split_epoch(version: str, original: str) -> tuple[int, str]:
    if not version:
        raise VersionError("empty version")
    if ":" in version:
        head, rest = version.split(":", 1)
        if not head.isdigit():
            raise VersionError(f"epoch of {original!r} is not a number")
        return int(head), rest
    return 0, version


def _check(upstream: str, revision: str, original: str) -> None:
    if not upstream:
        raise VersionError(f"empty upstream version in {original!r}")
    if not _UPSTREAM_RE.match(upstream):
        raise VersionError(f"invalid character in version {original!r}")
    if not _REVISION_RE.match(revision):
        raise VersionError(f"invalid character in the revision of {original!r}")


def compare_versions(a: str, b: str) -> int:
    """`dpkg --compare-versions a lt b` and friends: -1, 0 or 1."""
    c = DebVersion.parse(a).compare(DebVersion.parse(b))
    return (c > 0) - (c < 0)


def upstream_of(version: str) -> str:
    """The version without its Debian revision (`1.0-940-1` → `1.0-940`, `1:2.0-3` → `1:2.0`)."""
    parsed = DebVersion.parse(version)
    return str(parsed.without_revision())
