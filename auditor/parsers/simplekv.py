"""Line-based formats: coturn's turnserver.conf, saslauthd.conf, and shell-style env files.

- turnserver.conf, as coturn reads it: `#` starts a comment only at the start of a line; the name
  ends at the first blank or `=`, any run of blanks and `=` separates it from the value; one pair of
  double quotes around the value is dropped; a bare name is a flag (`no-tlsv1`). The name is kept
  as written: coturn matches it against its long option names, so `--no-tlsv1` is not `no-tlsv1` (it
  logs "Bad configuration format" and ignores the line). Options repeat (`denied-peer-ip`,
  `listening-ip`), so every name maps to the list of its occurrences.
- saslauthd.conf (`ldap_servers: ldap://…`): `name: value`, names lowercased, a line without
  the colon an error (as saslauthd has it); a later line wins.
- /etc/jitsi/*/config, /etc/default/*: `[export] NAME=value` with shell quoting (single quotes
  literal, double quotes with `\\` escapes, possibly over several lines), `#` comments; nothing is
  expanded (`$X` stays text) and lines that are not assignments are skipped. A later line wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditor.parsers.base import DEFAULT_MAX_BYTES, ConfigParseError, prepare_text

_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class KVValue:
    value: str | None  # None: a bare flag
    line: int


def parse_turnserver(text: str, path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, list[KVValue]]:
    text = prepare_text(text, path, max_bytes)
    result: dict[str, list[KVValue]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        i = 0
        while i < len(line) and line[i] not in " \t=":
            i += 1
        name, rest = line[:i], line[i:].lstrip(" \t=")
        value: str | None = rest if rest else None
        if value is not None and value.startswith('"'):
            value = value[1:-1] if len(value) > 1 and value.endswith('"') else value[1:]
        result.setdefault(name, []).append(KVValue(value, number))
    return result


def parse_colon_kv(text: str, path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, KVValue]:
    text = prepare_text(text, path, max_bytes)
    result: dict[str, KVValue] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ConfigParseError(path, "expected `name: value`", number)
        result[name.strip().lower()] = KVValue(value.strip(), number)  # saslauthd lowercases names
    return result


def parse_shell_env(text: str, path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, KVValue]:
    text = prepare_text(text, path, max_bytes)
    result: dict[str, KVValue] = {}
    n, pos, number = len(text), 0, 1
    while pos < n:
        eol = text.find("\n", pos)
        eol = n if eol < 0 else eol
        line = text[pos:eol]
        body = line.lstrip()
        if body.startswith(("export ", "export\t")):
            body = body[7:].lstrip()
        m = _SHELL_NAME.match(body)
        if m and body.startswith("=", m.end()):
            start = pos + (len(line) - len(body)) + m.end() + 1
            word = _shell_word(text, start)
            if word is None:
                raise ConfigParseError(path, "unterminated quote", number)
            value, end = word
            result[m.group(0)] = KVValue(value, number)
            if end > eol:  # the quoted value ran over several lines
                number += text.count("\n", eol, end)
                eol = text.find("\n", end)
                eol = n if eol < 0 else eol
        pos, number = eol + 1, number + 1
    return result


def _shell_word(text: str, i: int) -> tuple[str, int] | None:
    """The word starting at `i` as sh reads it, without expansion, and where it ends; None if a quote
    is left open. Quotes may span lines; an unquoted blank, newline or `;` ends the word."""
    out: list[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c in " \t\n;":
            break
        if c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                return None
            out.append(text[i + 1 : j])
            i = j + 1
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\$`\n':
                    if text[i + 1] != "\n":
                        out.append(text[i + 1])
                    i += 2
                else:
                    out.append(text[i])
                    i += 1
            if i >= n:
                return None
            i += 1
        elif c == "\\" and i + 1 < n:
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out), i
