"""config.js / interface_config.js: evaluated by QuickJS, never pattern-matched.

These files are JavaScript (comments, trailing commas, `'conference.' + subdomain + …`, SSI guards,
docker's appended `config.x = …` lines), so their meaning is what a JS engine computes. Each file runs
in a fresh QuickJS context with a CPU-time limit, a memory limit and a stack limit, and without
any I/O (QuickJS here has no std/os modules). A small trusted harness evaluates the file, catches
what it throws, and hands back the variable as JSON (functions and undefined dropped). The harness
freezes the Error prototypes first so that no exception can run configuration code while it is
being turned into a message outside the time limit.

nginx SSI directives (`<!--# echo var="subdomain" default="" -->`) are what nginx replaces when it
serves the file (Debian's and docker-jitsi-meet's sites turn `ssi` on for JavaScript): each is replaced
by its default (or "", an unset variable) in the text before it is evaluated, so the values are those
of the file browsers get. docker-jitsi-meet rewrites `subdomain` (`.split('.').join('_')`) before using
it, so replacing directives in the evaluated values instead is not enough. Line numbers come from a
separate light scan (`_js_scan`) of the file as it is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import quickjs

from auditor.parsers._js_scan import key_lines
from auditor.parsers.base import (
    DEFAULT_MAX_BYTES,
    MAX_DEPTH,
    ConfigParseError,
    deadline,
    prepare_text,
    without_quoted_input,
)

MAX_SECONDS = 1.0  # CPU seconds (QuickJS measures clock())
MAX_MEMORY = 64 * 1024 * 1024
MAX_STACK = 512 * 1024
MAX_OUTPUT = 8 * 1024 * 1024  # characters of JSON handed back
LINE_SCAN_SECONDS = 2.0  # the pure-Python location scan (~1 s per MB)

STUB_HOST = "location.host.invalid"  # what `location.host` reads: a visibly unknown host

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_ERROR_NAME_RE = re.compile(r"[A-Za-z][A-Za-z ]{0,40}")
_ENGINE_MESSAGE_RE = re.compile(r"[a-z'\"`][a-z ,;:()'\"`…{}\[\]<>=.\-]{0,300}")  # QuickJS: "expecting '}'"
_SSI_ECHO = re.compile(  # bounded repeats: linear however many directives a string holds
    r'<!--#\s{0,20}echo\s{1,20}var="[^"]{0,200}"(?:\s{1,20}default="(?P<default>[^"]{0,500})")?[^>]{0,200}?-->'
)

_HARNESS = r"""
(function (src, variable, maxOut, stubHost) {
  'use strict';
  const stringify = JSON.stringify, freeze = Object.freeze, own = Object.getOwnPropertyDescriptor;
  const geval = eval, regexExec = RegExp.prototype.exec;
  const stackLine = /at (?:<eval> \()?<input>:(\d+)/;  // the file's own frame, not the harness's
  const errorTypes = [SyntaxError, ReferenceError, TypeError, RangeError, EvalError, URIError,
                      InternalError, AggregateError, Error];
  for (const E of errorTypes) { freeze(E.prototype); freeze(E); }
  const noop = function () {};
  const location = { href: 'https://' + stubHost + '/', protocol: 'https:', host: stubHost,
    hostname: stubHost, port: '', pathname: '/', search: '', hash: '', origin: 'https://' + stubHost };
  const element = function () { return { style: {}, setAttribute: noop, appendChild: noop }; };
  globalThis.window = globalThis;
  globalThis.self = globalThis;
  globalThis.location = location;
  globalThis.document = { location: location, cookie: '', referrer: '', createElement: element,
    getElementById: function () { return null; }, querySelector: function () { return null; },
    getElementsByTagName: function () { return []; }, head: element(), body: element(),
    documentElement: element(), addEventListener: noop };
  globalThis.navigator = { userAgent: '', language: 'en', languages: ['en'], platform: '',
    mediaDevices: {}, product: '' };
  globalThis.console = { log: noop, info: noop, warn: noop, error: noop, debug: noop };
  globalThis.setTimeout = function () { return 0; };
  globalThis.clearTimeout = noop;
  let captured, seen = false;
  Object.defineProperty(globalThis, '__jsaudit_capture', { value: function (v) { captured = v; seen = true; },
    writable: false, configurable: false, enumerable: false });

  function describe(e) {
    let name = 'thrown value', message = typeof e, line = null;
    for (const E of errorTypes) { if (e instanceof E) { name = E.name; message = ''; break; } }
    if (e instanceof Error) {
      const m = own(e, 'message');
      if (m && typeof m.value === 'string') message = m.value.slice(0, 200);
      const s = own(e, 'stack');
      if (s && typeof s.value === 'string') {
        const r = regexExec.call(stackLine, s.value.slice(0, 2000));
        if (r) line = +r[1];
      }
    }
    return stringify({ error: name + (message ? ': ' + message : ''), line: line });
  }
  try {
    geval(src + '\n;__jsaudit_capture(typeof ' + variable + " === 'undefined' ? undefined : " +
          variable + ');');
  } catch (e) {
    return describe(e);
  }
  if (!seen || captured === undefined) return stringify({ missing: true });
  if (captured === null || Array.isArray(captured))
    return stringify({ notObject: captured === null ? 'null' : 'array' });
  if (typeof captured !== 'object') return stringify({ notObject: typeof captured });
  let out;
  try { out = stringify(captured); } catch (e) { return stringify({ unserialisable: describe(e) }); }
  if (typeof out !== 'string' || out.length > maxOut) return stringify({ tooLarge: true });
  return out.length + ':' + out;
})
"""


@dataclass(frozen=True, slots=True)
class JsConfig:
    path: str
    values: dict[str, Any]
    variable: str
    key_lines: dict[tuple[str, ...], int] = field(default_factory=dict, repr=False)

    def get(self, dotted_key: str) -> Any | None:
        node: Any = self.values
        for part in dotted_key.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def line_of(self, dotted_key: str) -> int | None:
        """Line where the key (or, failing that, its nearest enclosing key) was last written."""
        parts = tuple(dotted_key.split("."))
        while parts:
            if parts in self.key_lines:
                return self.key_lines[parts]
            parts = parts[:-1]
        return None


def parse_config_js(
    text: str,
    path: str,
    variable: str = "config",
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_seconds: float = MAX_SECONDS,
    max_memory: int = MAX_MEMORY,
) -> JsConfig:
    if not _IDENTIFIER.match(variable):
        raise ValueError(f"not a JavaScript identifier: {variable!r}")
    text = prepare_text(text, path, max_bytes)
    raw = _evaluate(served_text(text), path, variable, max_seconds, max_memory)
    values = _parse_output(raw, path, variable)
    _within_depth(values, path, 0)
    try:  # locations are best effort: the values stand without them
        with deadline(LINE_SCAN_SECONDS, path):
            lines = key_lines(text, variable)
    except (ConfigParseError, RecursionError):
        lines = {}
    return JsConfig(path, values, variable, lines)


def _evaluate(text: str, path: str, variable: str, max_seconds: float, max_memory: int) -> str:
    context = quickjs.Context()
    context.set_memory_limit(max_memory)
    context.set_time_limit(max_seconds)
    context.set_max_stack_size(MAX_STACK)
    try:
        harness = context.eval(_HARNESS)
        result = harness(text, variable, MAX_OUTPUT, STUB_HOST)
    except quickjs.JSException as exc:  # uncatchable in JS: interrupt, out of memory
        first = str(exc).split("\n", 1)[0]
        if "interrupted" in first:
            raise ConfigParseError(path, f"evaluation exceeded {max_seconds:g} s (endless loop?)") from None
        if "out of memory" in first or "stack overflow" in first or first in ("", "null"):
            raise ConfigParseError(path, "evaluation exceeded the memory or stack limit") from None
        raise ConfigParseError(path, f"evaluation failed: {_engine_message(first)}") from None
    except quickjs.StackOverflow:
        raise ConfigParseError(path, "evaluation exceeded the stack limit") from None
    if not isinstance(result, str):
        raise ConfigParseError(path, "evaluation returned no result")
    return result


def _parse_output(raw: str, path: str, variable: str) -> dict[str, Any]:
    head, sep, body = raw.partition(":")
    if sep and head.isdigit() and int(head) == len(body):
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            raise ConfigParseError(path, f"`{variable}` could not be read back") from None
        if isinstance(value, dict):
            return value
    try:
        status = json.loads(raw)
    except (ValueError, RecursionError):
        raise ConfigParseError(path, "evaluation returned an unexpected result") from None
    if not isinstance(status, dict):
        raise ConfigParseError(path, "evaluation returned an unexpected result")
    if "error" in status:
        line = status.get("line")
        raise ConfigParseError(path, _engine_message(str(status["error"])), line if isinstance(line, int) else None)
    if status.get("missing"):
        raise ConfigParseError(path, f"the file does not define `{variable}`")
    if "notObject" in status:
        raise ConfigParseError(path, f"`{variable}` is not an object ({status['notObject']})")
    if "unserialisable" in status:
        raise ConfigParseError(path, f"`{variable}` cannot be serialised (cyclic or too deep?)")
    raise ConfigParseError(path, f"`{variable}` is too large")


def _engine_message(error: str) -> str:
    """`Name: message` without input: quoted pieces replaced, and the message dropped unless it reads as
    the engine's own (lower-case words and punctuation); the file's code can throw any text."""
    name, sep, message = error.partition(": ")
    message = without_quoted_input(message)
    if not _ERROR_NAME_RE.fullmatch(name):  # the harness's: a built-in error's name, or "thrown value"
        return "an exception"
    return f"{name}: {message}" if sep and _ENGINE_MESSAGE_RE.fullmatch(message) else name


def _within_depth(value: Any, path: str, depth: int) -> None:
    """Raise for values nested deeper than MAX_DEPTH: the checks walk them recursively."""
    if depth > MAX_DEPTH:
        raise ConfigParseError(path, f"values nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        for v in value:
            _within_depth(v, path, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            _within_depth(v, path, depth + 1)


def served_text(text: str) -> str:
    """`text` as nginx serves it with SSI on: each `echo` directive replaced by its default (or "")."""
    return _SSI_ECHO.sub(lambda m: m.group("default") or "", text) if "<!--#" in text else text
