"""Package versions of an offline tree: a copy of a host's root (a backup, a mounted disk image, a VM
image build) holds dpkg's database, `var/lib/dpkg/status`. What a live audit learns from `dpkg-query -W` on
the host (auditor.collect.plan.COMMANDS) is read from it instead, for the same packages and in the same
form (`Package<TAB>Version<TAB>Status-Abbrev`), so the advisory matching and the client-era checks judge
an offline copy as they judge the host it came from.

The file is untrusted like everything in the tree (auditor.transports.local reads it, at most STATUS_CAP
bytes): each field is bounded, and a version that is not a Debian version is left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.collect import plan
from auditor.snapshot import COMMAND_PREFIX

STATUS_PATH = "var/lib/dpkg/status"
STATUS_CAP = 64 * 1024 * 1024  # a desktop system's database is ~3-10 MB
KEY = COMMAND_PREFIX + plan.CMD_DPKG

# dpkg's three status words as `${db:Status-Abbrev}` prints them (want, error flag, state)
_WANT = {"unknown": "u", "install": "i", "hold": "h", "deinstall": "r", "purge": "p"}
_STATE = {"not-installed": "n", "config-files": "c", "half-installed": "H", "unpacked": "U",
          "half-configured": "F", "triggers-awaited": "W", "triggers-pending": "t", "installed": "i"}
_EFLAG = {"ok": " ", "reinstreq": "R"}
_VERSION_RE = re.compile(r"[0-9][A-Za-z0-9.+~:-]{0,127}")  # [epoch:]upstream[-revision], Debian policy 5.6.12
_FIELD_RE = re.compile(rb"(Package|Version|Status):[ \t]*([^\n]{0,256})")
_STANZA_END_RE = re.compile(rb"\n[ \t]*\n")


def _stanzas(data: bytes) -> Iterator[bytes]:
    """The stanzas of `data` one at a time (re.split's list of a database of tiny hostile stanzas, a
    64 MB one of `ab\\n\\n`, took a gigabyte)."""
    start = 0
    for m in _STANZA_END_RE.finditer(data):
        yield data[start : m.start()]
        start = m.end()
    yield data[start:]


def status_abbrev(status: str) -> str | None:
    """`install ok installed` -> `ii ` (None when the field is not dpkg's three words)."""
    words = status.split()
    if len(words) != 3 or words[0] not in _WANT or words[1] not in _EFLAG or words[2] not in _STATE:
        return None
    return _WANT[words[0]] + _STATE[words[2]] + _EFLAG[words[1]]


def listing(data: bytes, packages: tuple[str, ...] = plan.JITSI_PACKAGES) -> str:
    """dpkg-query's lines for `packages` from the text of a status database, sorted by name as dpkg-query
    prints them; entries with a field missing or malformed are left out."""
    wanted = frozenset(packages)
    lines: list[tuple[str, str]] = []
    for stanza in _stanzas(data):
        fields: dict[bytes, str] = {}
        for m in _FIELD_RE.finditer(stanza):
            if m.start() == 0 or stanza[m.start() - 1 : m.start()] == b"\n":  # a field, not a continuation
                fields.setdefault(m.group(1), m.group(2).decode("utf-8", "replace").strip())
        name, version, status = fields.get(b"Package"), fields.get(b"Version"), fields.get(b"Status")
        if name not in wanted or not version or status is None:
            continue
        abbrev = status_abbrev(status)
        if abbrev is None or not _VERSION_RE.fullmatch(version):
            continue
        lines.append((name, f"{name}\t{version}\t{abbrev}\n"))
    return "".join(line for _name, line in sorted(lines))
