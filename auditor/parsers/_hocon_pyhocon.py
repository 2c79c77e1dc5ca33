"""The pyhocon half of auditor.parsers.hocon (see its docstring), imported only when a HOCON file is parsed:
pyhocon and the pyparsing grammar it builds cost ~0.1 s of import, which a host or configuration tree
without jicofo.conf/jvb.conf/jibri.conf (a 2020-era install, a config repository) need not pay."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, ClassVar

import pyhocon.config_parser as _pyhocon
from pyhocon.config_tree import ConfigTree, NoneValue
from pyhocon.exceptions import ConfigException
from pyparsing import NoMatch, ParseBaseException, ParserElement

from auditor.parsers.base import MAX_DEPTH, ConfigParseError


def parse_tree(text: str, path: str, unresolved: list[str]) -> Any:
    """The document as plain Python data (dicts, lists, scalars); the caller holds the lock and deadline."""
    with _sandboxed_pyhocon(unresolved):
        return _to_python(_run_pyhocon(text, path), path, 0)


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
        # no excerpt of the line: it may hold a secret the redaction did not recognise as one
        line = exc.lineno if isinstance(exc.lineno, int) else None
        raise ConfigParseError(path, f"HOCON syntax error at column {exc.col}", line) from None
    except _IncludeBlocked:
        raise ConfigParseError(path, "include statement not understood; refused") from None
    except RecursionError:
        raise ConfigParseError(path, "nesting too deep") from None
    except ConfigParseError:
        raise
    except Exception as exc:  # pyhocon's ConfigException family and its internal errors
        # pyhocon's messages hold tokens and values (`Token 'x' of type ...`): only the kind and the line
        at = _PYHOCON_AT_RE.search(str(exc)[:4096])
        kind = _PYHOCON_ERRORS.get(type(exc).__name__, type(exc).__name__)
        raise ConfigParseError(path, f"HOCON error: {kind}", int(at.group(1)) if at else None) from None


_PYHOCON_AT_RE = re.compile(r"\(line: ?(\d{1,9}), ?col: ?\d{1,9}\)")
_PYHOCON_ERRORS = {
    "ConfigSubstitutionException": "a substitution cannot be resolved (a cycle?)",
    "ConfigWrongTypeException": "values of different types combined",
    "ConfigMissingException": "a path is missing",
}


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
