"""jicofo.conf / jvb.conf / jibri.conf: HOCON through pyhocon, made safe for remote input.

pyhocon is the HOCON grammar, but left alone on a target's file it would (1) fill `${X}` from the
auditor's own environment, (2) follow `include` to local files, globs and URLs, (3) turn durations
into timedelta objects (and mangle strings such as `5m.example.com`). So:
- include statements are removed by a grammar-aware scan before pyhocon sees the text, and recorded
  (`_hocon_scan`); pyhocon's own loaders are replaced for the time of the parse as a backstop;
- substitutions resolve against the document only; an unresolvable `${X}` stays the text "${X}" and
  is listed in `unresolved`; the environment is never read;
- durations and sizes stay the text written ("60 seconds", "10 MiB").
pyparsing has no time limit: the input is capped (128 KiB by default) and a CPU-time deadline
applies. pyhocon mutates pyparsing globals while parsing, so parses are serialised by a lock. The pyhocon
half lives in `_hocon_pyhocon`, imported at the first parse.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from auditor.parsers._hocon_scan import HoconInclude, scan
from auditor.parsers.base import WALL_FACTOR, ConfigParseError, deadline, prepare_text

__all__ = ["HoconDoc", "HoconInclude", "parse_hocon", "split_path"]

MAX_BYTES = 128 * 1024  # real jicofo.conf/jvb.conf are a few KiB; reference.conf files ~20 KiB
MAX_SECONDS = 2.0
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class HoconDoc:
    path: str
    data: dict[str, Any]
    includes: list[HoconInclude]
    unresolved: list[str] = field(default_factory=list)  # substitutions left as "${…}" text
    key_lines: dict[tuple[str, ...], int] = field(default_factory=dict, repr=False)
    # Set when the includes were merged in (auditor.hocon_includes): where each key path was last set,
    # as (file, line), and the file as written, without what it includes.
    origins: dict[tuple[str, ...], tuple[str, int | None]] = field(default_factory=dict, repr=False)
    own: HoconDoc | None = field(default=None, repr=False)

    def get(self, dotted_key: str) -> Any | None:
        """The value at a HOCON path (`a.b."c.d"`); a dotted key that is one key (`"org.jitsi.x"`)
        is found too."""
        return _lookup(self.data, split_path(dotted_key))

    def line_of(self, dotted_key: str) -> int | None:
        """Best-effort line where the key is (last) set in this file; None if it cannot be located."""
        segments = split_path(dotted_key)
        line = self.key_lines.get(segments)
        if line is None:  # a segmentation differing from the written one: compare joined forms
            joined = ".".join(segments)
            for key, candidate in self.key_lines.items():
                if ".".join(key) == joined:
                    line = candidate if line is None else max(line, candidate)
        return line

    def where(self, dotted_key: str) -> tuple[str, int | None]:
        """(file, line) where the value of the key was set: an included file's own path and line when the
        value came from it; else this file and `line_of`."""
        if not self.origins:
            return self.path, self.line_of(dotted_key)
        segments = split_path(dotted_key)
        found = self.origins.get(segments)
        if found is None:
            joined = ".".join(segments)
            found = next((o for key, o in self.origins.items() if ".".join(key) == joined), None)
        if found is None:  # not located: the file of the nearest enclosing object that is, without a line
            for cut in range(len(segments) - 1, 0, -1):
                if (outer := self.origins.get(segments[:cut])) is not None:
                    return outer[0], None
            return self.path, None
        return found


def split_path(dotted: str) -> tuple[str, ...]:
    """HOCON path expression: `.` separates, double quotes protect (`a."b.c"` → ("a", "b.c"))."""
    segments: list[str] = []
    current, quoted, i = "", False, 0
    while i < len(dotted):
        c = dotted[i]
        if c == '"':
            quoted = not quoted
        elif c == "\\" and quoted and i + 1 < len(dotted):
            i += 1
            current += dotted[i]
        elif c == "." and not quoted:
            segments.append(current)
            current = ""
        else:
            current += c
        i += 1
    segments.append(current)
    return tuple(segments)


def _lookup(node: Any, segments: tuple[str, ...]) -> Any | None:
    if not segments:
        return node
    if not isinstance(node, dict):
        return None
    for cut in range(len(segments), 0, -1):  # longest key first: "a.b" before "a" then "b"
        key = ".".join(segments[:cut])
        if key in node:
            found = _lookup(node[key], segments[cut:])
            if found is not None:
                return found
    return None


def parse_hocon(text: str, path: str, *, max_bytes: int = MAX_BYTES, max_seconds: float = MAX_SECONDS) -> HoconDoc:
    text = prepare_text(text, path, max_bytes)
    scanned = scan(text, path)
    unresolved: list[str] = []
    if not _LOCK.acquire(timeout=max_seconds * WALL_FACTOR + 1):  # another thread's parse, bounded
        raise ConfigParseError(path, "HOCON parser busy")
    try:
        from auditor.parsers._hocon_pyhocon import parse_tree  # pyhocon only when there is HOCON to parse

        with deadline(max_seconds, path):
            data = parse_tree(scanned.text, path, unresolved)
    finally:
        _LOCK.release()
    if not isinstance(data, dict):
        raise ConfigParseError(path, "the document is not an object")
    return HoconDoc(path, data, scanned.includes, sorted(set(unresolved)), scanned.key_lines)
