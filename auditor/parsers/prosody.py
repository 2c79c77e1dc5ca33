"""prosody.cfg.lua and conf.d/*.cfg.lua: evaluated in a sandboxed Lua that mimics prosody's loader.

Prosody's configuration is Lua code, so the only faithful reader is a Lua interpreter (string
concatenation, `Lua.*` helpers, the curried `Component "x" "type"` form). lupa runs it in a fresh
Lua 5.4 state per file, with a memory cap, an instruction and CPU-time budget enforced by a debug
hook, and an environment that offers no `io`, `require`, `load`, `dofile`, `debug`, `pcall` or
coroutines; `os` (and `Lua.os`) is a stub whose only function, `getenv`, returns nil, and `ENV_*`
reads nil: the target's environment is unknown here. `Include`/`RunScript` are recorded, never
executed; `FileContents`/`FileLine(s)`/`Credential` return `{"__file__": path}` placeholders.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Literal

from lupa import lua54

from auditor.parsers._prosody_lua import LOADER
from auditor.parsers.base import DEFAULT_MAX_BYTES, MAX_DEPTH, ConfigParseError, prepare_text

SectionKind = Literal["global", "VirtualHost", "Component"]

MAX_MEMORY = 64 * 1024 * 1024
MAX_STEPS = 10_000_000  # Lua VM instructions; a real config needs a few thousand
MAX_SECONDS = 2.0  # CPU seconds, checked by the same hook
MAX_VALUES = 200_000  # Lua values converted to Python, all sections together
_HOOK_EVERY = 100


@dataclass(frozen=True, slots=True)
class ProsodySection:
    kind: SectionKind
    name: str | None
    component_type: str | None
    options: dict[str, Any]
    option_lines: dict[str, int]
    line: int | None


@dataclass(frozen=True, slots=True)
class ProsodyConfig:
    path: str
    sections: list[ProsodySection]
    includes: list[tuple[str, int]]
    run_scripts: list[tuple[str, int]] = field(default_factory=list)

    @property
    def global_section(self) -> ProsodySection:
        return self.sections[0]

    def section(self, name: str) -> ProsodySection | None:
        name = name.lower()
        return next((s for s in self.sections if s.name == name), None)


def parse_prosody(
    text: str,
    path: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_steps: int = MAX_STEPS,
    max_seconds: float = MAX_SECONDS,
    max_memory: int = MAX_MEMORY,
) -> ProsodyConfig:
    text = prepare_text(text, path, max_bytes)
    try:
        lua = lua54.LuaRuntime(register_eval=False, register_builtins=False, encoding=None, max_memory=max_memory)
        lua.execute(b"python = nil")  # lupa's helper table: nothing of Python reachable from Lua
        run = lua.execute(LOADER.encode())
        result = run(text.encode("utf-8"), max_steps, max_seconds, _HOOK_EVERY)
    except ConfigParseError:
        raise
    except Exception as exc:  # lupa.LuaError / LuaMemoryError raised outside the loader's pcall
        raise ConfigParseError(path, _lua_message(str(exc))[1] or "Lua evaluation failed") from None
    if not result[0]:
        line, message = _lua_message(_text(result[1]))
        raise ConfigParseError(path, message, line)
    _, raw_sections, raw_includes, raw_scripts = result
    budget = _Budget(path, MAX_VALUES)
    starts = _assignment_starts(text)
    sections = [_section(rec, budget, starts) for rec in _array(raw_sections, budget)]
    includes = [(_text(item[1]), int(item[2])) for item in _array(raw_includes, budget)]
    scripts = [(_text(item[1]), int(item[2])) for item in _array(raw_scripts, budget)]
    return ProsodyConfig(path, sections, includes, scripts)


# -- Lua values to Python ---------------------------------------------------------------------------

_MESSAGE_RE = re.compile(r"^cfg:(\d+): ?(.*)$", re.S)
_INTERNAL_PREFIX = re.compile(r'^(?:\[string "[^"]*"\]:\d+: ?)+')  # a position in the loader itself


# Lua's syntax errors quote the token they stopped at: a string literal there is the configuration's
# value (a secret, when the line that held it was not recognised as a setting): named, never quoted.
_NEAR_STRING_RE = re.compile(r"""near '(?:["']|\[=*\[).*?'(?=$|\n| \(|\))""", re.S)


# Any other token it quotes may be a piece of an unquoted value (`secret = pa ss`: "near 'ss'"): only
# Lua's own words and punctuation are kept; a name or a number is named by its kind.
_NEAR_TOKEN_RE = re.compile(r"near '([^'\n]{1,200})'")
_LUA_WORDS = frozenset({
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in", "local",
    "nil", "not", "or", "repeat", "return", "then", "true", "until", "while", "<eof>",
})
_PUNCTUATION_RE = re.compile(r"[^A-Za-z0-9_]{1,3}")
# Runtime errors name the variable they stumbled on: an unquoted value reads as one (`password = ab.cd`:
# "global 'ab'"), so it is named by its kind. Fields and methods keep their names (`("a"):gsub(...)`).
_NAMED_RE = re.compile(r"\((global|local|upvalue|constant) '[^'\n]{0,200}'\)")


def _near_token(m: re.Match[str]) -> str:
    token = m.group(1)
    if token in _LUA_WORDS or _PUNCTUATION_RE.fullmatch(token):
        return m.group(0)
    return "near a number" if token[0].isdigit() else "near a name"


def _lua_message(message: str) -> tuple[int | None, str]:
    message = _INTERNAL_PREFIX.sub("", message.split("\nstack traceback", 1)[0])
    message = _NEAR_STRING_RE.sub("near a string literal", message)
    message = _NEAR_TOKEN_RE.sub(_near_token, message)
    message = _NAMED_RE.sub(lambda m: f"(a {m.group(1)})", message)
    m = _MESSAGE_RE.match(message)
    if m:
        return int(m.group(1)), m.group(2)
    if "not enough memory" in message:
        return None, "memory limit exceeded"
    if "stack overflow" in message:
        return None, "nesting too deep"
    return None, message.split("\n", 1)[0]


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _array(table: Any, budget: _Budget) -> list[Any]:
    out = []
    i = 1
    while (item := table[i]) is not None:
        budget.spend()
        out.append(item)
        i += 1
    return out


class _Budget:
    def __init__(self, path: str, limit: int) -> None:
        self.path, self.left = path, limit

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise ConfigParseError(self.path, f"more than {MAX_VALUES} values in the configuration")


def _to_python(value: Any, budget: _Budget, depth: int = 0) -> Any:
    budget.spend()
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    kind = lua54.lua_type(value)
    if kind != "table":
        return {"__lua__": kind or type(value).__name__}
    if depth >= MAX_DEPTH:
        raise ConfigParseError(budget.path, f"tables nested deeper than {MAX_DEPTH} levels (or cyclic)")
    items = []
    for item in value.items():
        budget.spend()
        items.append(item)
    keys = [k for k, _ in items]
    if all(isinstance(k, int) and not isinstance(k, bool) for k in keys) and sorted(keys) == list(
        range(1, len(keys) + 1)
    ):
        ordered = sorted(items, key=lambda kv: kv[0])
        return [_to_python(v, budget, depth + 1) for _, v in ordered]
    converted = {_key(k): _to_python(v, budget, depth + 1) for k, v in items}
    return dict(sorted(converted.items()))  # Lua's hash order is arbitrary: be deterministic


def _key(key: Any) -> str:
    if isinstance(key, bytes):
        return key.decode("utf-8", "replace")
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int | float):
        return repr(key)
    return f"<{lua54.lua_type(key) or type(key).__name__}>"


def _section(rec: Any, budget: _Budget, starts: dict[str, list[int]]) -> ProsodySection:
    kind = _text(rec[b"kind"])
    name = rec[b"name"]
    ctype = rec[b"ctype"]
    line = rec[b"line"]
    options: dict[str, Any] = {}
    lines: dict[str, int] = {}
    raw_options, raw_lines = rec[b"options"], rec[b"lines"]
    for raw_key in _array(rec[b"order"], budget):
        key = _text(raw_key)
        # nil (e.g. `x = ENV_X`) is kept as None: the assignment is evidence, the value unknown
        options[key] = _to_python(raw_options[raw_key], budget, 1)
        lines[key] = _statement_start(starts, key, int(raw_lines[raw_key]))
    assert kind in ("global", "VirtualHost", "Component")
    return ProsodySection(
        kind,  # type: ignore[arg-type]
        None if name is None else _text(name),
        None if ctype is None else _text(ctype),
        options,
        lines,
        None if line is None else int(line),
    )


# -- where an assignment starts ---------------------------------------------------------------------
# Lua reports the line where an assignment statement *ends* (`modules_enabled = { … }` → the line of
# the closing brace). A light scan of the source finds where statements on each name start; the
# recorded line is mapped to the nearest such start at or before it.

_LONG_OPEN = re.compile(r"\[(=*)\[")
_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT = _IDENT_START | frozenset("0123456789")


def _assignment_starts(text: str) -> dict[str, list[int]]:
    """Lines where `name = …`, `name:append …` or `name {…}` statements begin, per name."""
    out: dict[str, list[int]] = {}
    n, i, line = len(text), 0, 1
    pending: tuple[str, int] | None = None

    def record() -> None:
        if pending is not None:
            out.setdefault(pending[0], []).append(pending[1])

    while i < n:
        c = text[i]
        if c == "\n":
            line, i = line + 1, i + 1
        elif c in " \t\r\f\v":
            i += 1
        elif text.startswith("--", i):
            m = _LONG_OPEN.match(text, i + 2)
            end = _long_end(text, m) if m else text.find("\n", i)
            end = n if end < 0 else end
            line += text.count("\n", i, end)
            i = end
        elif c in "\"'" or (c == "[" and _LONG_OPEN.match(text, i)):
            record()  # `name "string"`: a call
            m = _LONG_OPEN.match(text, i) if c == "[" else None
            end = _long_end(text, m) if m else _string_end(text, i)
            end = n if end < 0 else end
            line += text.count("\n", i, end)
            i, pending = end, None
        elif c in _IDENT_START:
            j = i + 1
            while j < n and text[j] in _IDENT:
                j += 1
            pending, i = (text[i:j], line), j
        elif c in "=<>~" and text.startswith("=", i + 1):
            pending, i = None, i + 2
        else:
            if c in "=:{(" and not text.startswith("::", i):
                record()
            pending, i = None, i + 1
    return out


def _long_end(text: str, m: re.Match[str]) -> int:
    close = "]" + m.group(1) + "]"
    j = text.find(close, m.end())
    return -1 if j < 0 else j + len(close)


def _string_end(text: str, start: int) -> int:
    quote, i, n = text[start], start + 1, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == quote or c == "\n":  # an unescaped newline ends (breaks) a short string
            return i + 1
        else:
            i += 1
    return n


def _statement_start(starts: dict[str, list[int]], key: str, line: int) -> int:
    candidates = starts.get(key)
    if not candidates:
        return line
    idx = bisect_right(candidates, line)
    return candidates[idx - 1] if idx else line
