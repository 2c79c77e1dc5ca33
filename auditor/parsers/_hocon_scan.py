"""A HOCON tokenizer for what pyhocon cannot do: find `include` statements and key positions.

pyhocon would follow an `include` (a local file, a glob, a URL) and keeps no source positions. This
scan runs first: it blanks every include statement out of the text (keeping line and column of the
rest) and records it, maps each key path to the line where it is last set, bounds nesting depth,
and rejects Go-template sources (docker-jitsi-meet's `{{ … }}` defaults) with a clear message.
Semantics still come from pyhocon; this only locates things.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Literal

from auditor.parsers.base import MAX_DEPTH, ConfigParseError

_FORBIDDEN = frozenset('$"{}[]:=,+#`^?!@*&\\')
_PUNCT = frozenset("{}[],:=")
_FORM_NAMES = ("required", "url", "file", "classpath", "package")
_INCLUDE_FORMS = tuple(f + "(" for f in _FORM_NAMES)

TokKind = Literal["ws", "nl", "comment", "str", "unq", "subst", "punct", "other", "include"]


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokKind
    text: str
    start: int
    end: int
    line: int


@dataclass(frozen=True, slots=True)
class HoconInclude:
    target: str
    kind: Literal["file", "url", "classpath", "package"]
    required: bool
    line: int
    # The object the statement stands in (() the root, ("a", "b") inside `a { b { … } }`): HOCON merges an
    # included file into that object. None: inside a list or in a value, where HOCON has no include.
    scope: tuple[str, ...] | None = field(default=(), compare=False)


@dataclass(slots=True)
class ScanResult:
    text: str  # the input with include statements blanked out
    includes: list[HoconInclude] = field(default_factory=list)
    key_lines: dict[tuple[str, ...], int] = field(default_factory=dict)


def tokenize(text: str, path: str) -> list[Token]:
    tokens: list[Token] = []
    n, i, line = len(text), 0, 1
    while i < n:
        c, start, start_line = text[i], i, line
        if c == "\n":
            kind: TokKind = "nl"
            i += 1
            line += 1
        elif c.isspace() or c == "\ufeff":
            kind = "ws"
            while i < n and text[i] != "\n" and (text[i].isspace() or text[i] == "\ufeff"):
                i += 1
        elif c == "#" or text.startswith("//", i):
            kind = "comment"
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith('"""', i):
            kind = "str"
            j = text.find('"""', i + 3)
            i = n if j < 0 else j + 3
            while i < n and text[i] == '"':  # """…"""" : extra quotes belong to the content
                i += 1
            line += text.count("\n", start, i)
        elif c == '"':
            kind = "str"
            i += 1
            while i < n and text[i] != '"' and text[i] != "\n":
                i += 2 if text[i] == "\\" and text[i + 1 : i + 2] not in ("", "\n") else 1
            i = min(n, i + 1) if i < n and text[i] == '"' else min(i, n)
        elif text.startswith("${", i):
            kind = "subst"
            j = text.find("}", i)
            i = n if j < 0 else j + 1
            line += text.count("\n", start, i)
        elif text.startswith("+=", i):
            kind, i = "punct", i + 2
        elif c in _PUNCT:
            if text.startswith("{{", i):
                raise ConfigParseError(path, "'{{' found: a Go template (docker-jitsi-meet defaults), not HOCON", line)
            kind, i = "punct", i + 1
        elif c in _FORBIDDEN:
            kind, i = "other", i + 1
        else:
            kind = "unq"
            while i < n and not (text[i] in _FORBIDDEN or text[i].isspace() or text.startswith("//", i)):
                i += 1
        tokens.append(Token(kind, text[start:i], start, i, start_line))
    return tokens


def _string_value(token: Token) -> str:
    raw = token.text
    if raw.startswith('"""'):
        return raw[3:-3] if len(raw) >= 6 else raw[3:]
    try:
        value = json.loads(raw)
    except ValueError:
        return raw.strip('"')
    return value if isinstance(value, str) else raw


def _find_includes(tokens: list[Token]) -> list[tuple[int, int, HoconInclude]]:
    """(first token, token after, include) for each include statement pyhocon would act upon."""
    found = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if tok.kind != "unq" or tok.text.lower() != "include":
            i += 1
            continue
        j = i + 1
        while j < n and tokens[j].kind == "ws":
            j += 1
        if j >= n:
            break
        nxt = tokens[j]
        lowered = nxt.text.lower()
        if nxt.kind == "str":
            target = _string_value(nxt)
            kind: Literal["file", "url", "classpath", "package"] = (
                "url" if target.startswith(("http://", "https://", "file://")) else "file"
            )
            found.append((i, j + 1, HoconInclude(target, kind, False, tok.line)))
            i = j + 1
        elif nxt.kind == "unq" and lowered.startswith(_INCLUDE_FORMS):
            # required(…) / url(…) / file(…) / classpath(…): runs to the balancing ")" on this line
            depth, k, target, forms = 0, j, None, []
            while k < n and tokens[k].kind != "nl":
                t = tokens[k]
                if t.kind == "unq":
                    forms += [f for f in _FORM_NAMES if f in t.text.lower()]
                    depth += t.text.count("(") - t.text.count(")")
                elif t.kind == "str" and target is None:
                    target = _string_value(t)
                k += 1
                if depth <= 0 and target is not None:
                    break
            kinds = [f for f in forms if f != "required"]
            kind = kinds[0] if kinds else "file"  # type: ignore[assignment]
            found.append((i, k, HoconInclude(target or "", kind, "required" in forms, tok.line)))
            i = k
        else:
            i = j
    return found


def scan(text: str, path: str) -> ScanResult:
    tokens = tokenize(text, path)
    result = ScanResult(text)
    includes = _find_includes(tokens)
    scopes: dict[int, tuple[str, ...] | None] = {}
    if includes:
        chars = list(text)
        starts = {first: (n, after) for n, (first, after, _) in enumerate(includes)}
        kept: list[Token] = []
        idx = 0
        while idx < len(tokens):
            if idx in starts:  # the statement becomes one marker token: the key walk finds its object
                n, after = starts[idx]
                kept.append(Token("include", str(n), tokens[idx].start, tokens[after - 1].end, tokens[idx].line))
                for tok in tokens[idx:after]:
                    for k in range(tok.start, tok.end):
                        if chars[k] != "\n":
                            chars[k] = " "
                idx = after
                continue
            kept.append(tokens[idx])
            idx += 1
        result.text = "".join(chars)
        tokens = kept
    _walk_keys(tokens, path, result.key_lines, scopes)
    result.includes = [replace(inc, scope=scopes.get(n)) for n, (_, _, inc) in enumerate(includes)]
    return result


@dataclass(slots=True)
class _Frame:
    kind: Literal["obj", "list"]
    path: tuple[str, ...] | None  # None: inside a list, not addressable by a dotted key
    expect_key: bool = True
    value_path: tuple[str, ...] | None = None


def _key_segments(parts: list[Token]) -> tuple[str, ...]:
    while parts and parts[-1].kind == "ws":
        parts.pop()
    segments: list[str] = []
    current, started = "", False
    for tok in parts:
        if tok.kind == "str":
            current += _string_value(tok)
            started = True
        elif tok.kind == "ws":
            current += tok.text if started else ""
        else:
            pieces = tok.text.split(".")
            current += pieces[0]
            for piece in pieces[1:]:
                segments.append(current)
                current = piece
            started = True
    segments.append(current)
    return tuple(segments)


def _walk_keys(
    tokens: list[Token], path: str, lines: dict[tuple[str, ...], int], scopes: dict[int, tuple[str, ...] | None]
) -> None:
    """Fills `lines` (key path -> line where last set) and `scopes` (include marker -> its object's path,
    None where it stands in a list or a value)."""
    sig = [t for t in tokens if t.kind not in ("comment",)]
    stack = [_Frame("obj", ())]
    first = next((t for t in sig if t.kind not in ("ws", "nl")), None)
    i, n = 0, len(sig)
    if first is not None and first.text == "{":  # the whole file wrapped in braces
        i = sig.index(first) + 1
    while i < n:
        tok = sig[i]
        frame = stack[-1]
        if len(stack) > MAX_DEPTH:
            raise ConfigParseError(path, f"objects nested deeper than {MAX_DEPTH} levels", tok.line)
        if tok.kind == "include":
            scopes[int(tok.text)] = frame.path if frame.kind == "obj" and frame.expect_key else None
            i += 1
            continue
        if frame.kind == "list":
            if tok.text == "]" and tok.kind == "punct":
                stack.pop() if len(stack) > 1 else None
            elif tok.kind == "punct" and tok.text in "{[":
                stack.append(_Frame("obj" if tok.text == "{" else "list", None))
            i += 1
            continue
        if frame.expect_key:
            if tok.kind in ("ws", "nl") or tok.text == ",":
                i += 1
                continue
            if tok.kind == "punct" and tok.text == "}":
                if len(stack) > 1:
                    stack.pop()
                i += 1
                continue
            parts: list[Token] = []
            while i < n and sig[i].kind in ("unq", "str", "ws"):
                parts.append(sig[i])
                i += 1
            j = i
            while parts and j < n and sig[j].kind == "nl":  # `key` NEWLINE `{` is allowed
                j += 1
            sep = sig[j] if j < n else None
            if sep is not None and sep.kind == "punct" and sep.text in ("{", ":", "=", "+="):
                i = j
            frame.expect_key = False
            if not parts or sep is None or sep.kind != "punct" or sep.text not in ("{", ":", "=", "+="):
                if not parts:
                    i += 1  # something else in key position: let pyhocon judge it
                continue
            key = (*frame.path, *_key_segments(parts)) if frame.path is not None else None
            if key is not None:
                lines[key] = parts[0].line
            if sep.text == "{":
                stack.append(_Frame("obj", key))
            else:
                frame.value_path = key
            i += 1
            continue
        # inside a value: runs to a newline, a comma or the closing brace
        if tok.kind == "nl" or tok.text == ",":
            frame.expect_key = True
        elif tok.kind == "punct" and tok.text == "}":
            if len(stack) > 1:
                stack.pop()
        elif tok.kind == "punct" and tok.text == "{":
            stack.append(_Frame("obj", frame.value_path))
        elif tok.kind == "punct" and tok.text == "[":
            stack.append(_Frame("list", None))
        i += 1
