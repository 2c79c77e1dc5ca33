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
applies. pyhocon mutates pyparsing globals while parsing, so parses are serialised by a lock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, ClassVar

import pyhocon.config_parser as _pyhocon
from pyhocon.config_tree import ConfigTree, NoneValue
from pyhocon.exceptions import ConfigException
from pyparsing import NoMatch, ParseBaseException, ParserElement

from auditor.parsers._hocon_scan import HoconInclude, scan
from auditor.parsers.base import MAX_DEPTH, WALL_FACTOR, ConfigParseError, deadline, prepare_text

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

    def get(self, dotted_key: str) -> Any | None:
        """The value at a HOCON path (`a.b."c.d"`); a dotted key that is one key (`"org.jitsi.x"`)
        is found too."""
        return _lookup(self.data, split_path(dotted_key))

    def line_of(self, dotted_key: str) -> int | None:
        """Best-effort line where the key is (last) set; None if it cannot be located."""
        segments = split_path(dotted_key)
        line = self.key_lines.get(segments)
        if line is None:  # a segmentation differing from the written one: compare joined forms
            joined = ".".join(segments)
            for key, candidate in self.key_lines.items():
                if ".".join(key) == joined:
                    line = candidate if line is None else max(line, candidate)
        return line


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
        with _sandboxed_pyhocon(unresolved), deadline(max_seconds, path):
            tree = _run_pyhocon(scanned.text, path)
            data = _to_python(tree, path, 0)
    finally:
        _LOCK.release()
    if not isinstance(data, dict):
        raise ConfigParseError(path, "the document is not an object")
    return HoconDoc(path, data, scanned.includes, sorted(set(unresolved)), scanned.key_lines)


# -- pyhocon, contained --------------------------------------------------------------------------------


class _IncludeBlocked(Exception):
    pass


class _NoIncludes:
    """Stands in for pyhocon's ConfigFactory inside its include handler during our parses."""

    @staticmethod
    def parse_file(*_args: Any, **_kwargs: Any) -> Any:
        raise _IncludeBlocked

    @staticmethod
    def parse_URL(*_args: Any, **_kwargs: Any) -> Any:
        raise _IncludeBlocked


class _Parser(_pyhocon.ConfigParser):  # type: ignore[misc]
    unresolved: ClassVar[list[str]] = []

    @classmethod
    def _resolve_variable(cls, config: Any, substitution: Any) -> tuple[bool, Any]:
        # Document only, never os.environ: a missing mandatory ${X} stays its own text.
        try:
            return True, config.get(substitution.variable)
        except ConfigException:
            if substitution.optional:
                return False, None
            cls.unresolved.append(substitution.variable)
            return True, "${" + substitution.variable + "}"

    @classmethod
    def unresolve_substitutions_to_value(cls, config: Any, unresolved_value: Any = None) -> None:
        # What is left (cycles, self-references) becomes "${X}" rather than pyhocon's bare "X".
        for substitution in cls._find_substitutions(config):
            cls.unresolved.append(substitution.variable)
            cls._do_substitute(substitution, "${" + substitution.variable + "}", False)
        cls._final_fixup(config)


@contextmanager
def _sandboxed_pyhocon(unresolved: list[str]) -> Iterator[None]:
    saved = (_pyhocon.ConfigFactory, _pyhocon.get_period_expr, _pyhocon.os)
    saved_ws = ParserElement.DEFAULT_WHITE_CHARS
    _Parser.unresolved = unresolved
    # An empty environment for the self-reference fix-up (`PATH = ${PATH}…`), which reads os.environ
    # on its own; durations as plain text; include loaders that refuse.
    _pyhocon.os = SimpleNamespace(environ={}, path=saved[2].path)
    _pyhocon.get_period_expr = NoMatch
    _pyhocon.ConfigFactory = _NoIncludes
    try:
        yield
    finally:
        _pyhocon.ConfigFactory, _pyhocon.get_period_expr, _pyhocon.os = saved
        # pyhocon sets pyparsing's default whitespace and does not restore it when parsing fails
        ParserElement.set_default_whitespace_chars(saved_ws)
        _Parser.unresolved = []


def _run_pyhocon(text: str, path: str) -> Any:
    try:
        return _Parser.parse(text, None, True, _pyhocon.STR_SUBSTITUTION)
    except ParseBaseException as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        excerpt = exc.line.strip()[:60] if isinstance(exc.line, str) else ""
        raise ConfigParseError(path, f"HOCON syntax error at column {exc.col}: {excerpt!r}", line) from None
    except _IncludeBlocked:
        raise ConfigParseError(path, "include statement not understood; refused") from None
    except RecursionError:
        raise ConfigParseError(path, "nesting too deep") from None
    except ConfigParseError:
        raise
    except Exception as exc:  # pyhocon's ConfigException family and its internal errors
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigParseError(path, f"HOCON error: {message}") from None


def _unquote(key: str) -> str:
    """pyhocon keeps the quotes of a quoted key (`"org.jitsi.x" = 1`); the key is what is inside."""
    if len(key) >= 2 and key[0] == key[-1] == '"':
        try:
            inner = json.loads(key)
        except ValueError:
            return key[1:-1]
        return inner if isinstance(inner, str) else key[1:-1]
    return key


def _to_python(value: Any, path: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ConfigParseError(path, f"objects nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, ConfigTree):
        return {_unquote(str(k)): _to_python(v, path, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_python(v, path, depth + 1) for v in value]
    if value is None or isinstance(value, NoneValue):
        return None
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return str(value)  # drop pyhocon's str subclasses
    if isinstance(value, timedelta):  # not produced while durations are text; kept for safety
        return f"{int(value.total_seconds() * 1000)} ms"
    return str(value)  # anything else pyhocon might leave (ConfigValues): its text
