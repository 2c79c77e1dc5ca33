"""Java .properties (sip-communicator.properties), read by hand after java.util.Properties.load.

Small and exact enough not to need a library: logical lines joined over an odd number of trailing
backslashes (continuation lines lose their leading whitespace), `#`/`!` comment lines, the key ending
at the first unescaped `=`, `:` or whitespace, `\\t \\n \\r \\f \\uXXXX` escapes. A later key wins.
Linear in the input size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from auditor.parsers.base import DEFAULT_MAX_BYTES, ConfigParseError, prepare_text

_WS = " \t\f"
_LINE_SPLIT = re.compile(r"\r\n|\r|\n")
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


@dataclass(frozen=True, slots=True)
class PropValue:
    value: str
    line: int
    # the value as written (escapes kept, a line break where a continuation joined two lines): what
    # redaction must replace when the escapes make it differ from `value`
    written: str = field(default="", compare=False, repr=False)


def parse_properties(text: str, path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, PropValue]:
    text = prepare_text(text, path, max_bytes)
    result: dict[str, PropValue] = {}
    lines = _LINE_SPLIT.split(text)
    i = 0
    while i < len(lines):
        start = i
        natural = lines[i].lstrip(_WS)
        i += 1
        if not natural or natural[0] in "#!":
            continue
        parts, current = [natural], natural
        while _continues(current):
            parts[-1] = current[:-1]  # on the last line too: Java drops the dangling backslash
            if i >= len(lines):
                break
            current = lines[i].lstrip(_WS)
            parts.append(current)
            i += 1
        joined = "".join(parts)
        key, value = _split(joined)
        written = _written(parts, len(joined) - len(value))
        result[_unescape(key, path, start + 1)] = PropValue(_unescape(value, path, start + 1), start + 1, written)
    return result


def _written(parts: list[str], start: int) -> str:
    """The value starting at `start` of the joined `parts`, a line break between the parts it spans."""
    out, pos = [], 0
    for part in parts:
        if pos + len(part) > start:
            out.append(part[max(0, start - pos) :])
        pos += len(part)
    return "\n".join(out)


def _continues(line: str) -> bool:
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1


def _split(line: str) -> tuple[str, str]:
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c in "=:" or c in _WS:
            break
        i += 1
    key, j = line[:i], i
    while j < n and line[j] in _WS:
        j += 1
    if j < n and line[j] in "=:":
        j += 1
        while j < n and line[j] in _WS:
            j += 1
    return key, line[j:]


def _unescape(raw: str, path: str, line: int) -> str:
    if "\\" not in raw:
        return raw
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt == "u":
            digits = raw[i + 2 : i + 6]
            if len(digits) != 4 or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise ConfigParseError(path, "malformed \\uxxxx escape", line)
            out.append(chr(int(digits, 16)))
            i += 6
        else:
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
    result = "".join(out)
    try:  # \ud83d\ude00 is one character; a lone surrogate is not text
        return result.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        return result.encode("utf-8", "replace").decode("utf-8")
