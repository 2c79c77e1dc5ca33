"""Locations of keys in config.js / interface_config.js: a light scan, for line numbers only.

A tokenizer that knows comments, strings, template literals and regular-expression literals, then a
walk that finds `var|let|const <name> = {…}` object literals and `<name>.a.b = …` assignments and
records the line of every key path (the last one wins, as the last assignment does at run time).
What the values are always comes from evaluating the file; this only says where they were written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from auditor.parsers.base import MAX_DEPTH

Kind = Literal["name", "str", "num", "punct", "template", "regex"]

_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_NAME = _NAME_START | frozenset("0123456789")
_PUNCT3 = ("===", "!==", "...", "**=", "<<=", ">>=", ">>>")
_PUNCT2 = (
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "??",
    "?.",
    "=>",
    "++",
    "--",
    "+=",
    "-=",
    "*=",
    "/=",
    "%=",
    "&=",
    "|=",
    "^=",
    "**",
    "<<",
    ">>",
)
# after these tokens a `/` starts a regular expression, not a division
_REGEX_AFTER_WORDS = frozenset(
    {
        "return",
        "typeof",
        "instanceof",
        "in",
        "of",
        "new",
        "delete",
        "void",
        "throw",
        "case",
        "do",
        "else",
        "yield",
        "await",
    }
)


@dataclass(frozen=True, slots=True)
class Tok:
    kind: Kind
    text: str
    line: int


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
    n, i, line = len(text), 0, 1
    while i < n:
        c = text[i]
        if c == "\n":
            line, i = line + 1, i + 1
        elif c.isspace():
            i += 1
        elif text.startswith("//", i) or text.startswith("<!--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif c in "'\"":
            j = _quoted_end(text, i)
            toks.append(Tok("str", text[i:j], line))
            line += text.count("\n", i, j)
            i = j
        elif c == "`":
            j = _template_end(text, i)
            toks.append(Tok("template", "`", line))
            line += text.count("\n", i, j)
            i = j
        elif c == "/" and _regex_allowed(toks):
            j = _regex_end(text, i)
            toks.append(Tok("regex", text[i:j], line))
            i = j
        elif c in _NAME_START or ord(c) > 127:
            j = i + 1
            while j < n and (text[j] in _NAME or ord(text[j]) > 127):
                j += 1
            toks.append(Tok("name", text[i:j], line))
            i = j
        elif c.isdigit() or (c == "." and text[i + 1 : i + 2].isdigit()):
            j = i + 1
            while j < n and (text[j] in _NAME or text[j] == "."):
                j += 1
            toks.append(Tok("num", text[i:j], line))
            i = j
        else:
            width = 3 if text.startswith(_PUNCT3, i) else 2 if text.startswith(_PUNCT2, i) else 1
            toks.append(Tok("punct", text[i : i + width], line))
            i += width
    return toks


def _quoted_end(text: str, start: int) -> int:
    quote, i, n = text[start], start + 1, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == quote or c == "\n":
            return i + 1
        else:
            i += 1
    return n


def _template_end(text: str, start: int, nesting: int = 0) -> int:
    """End of a template literal, skipping `${ … }` expressions (nested braces, strings inside)."""
    if nesting > MAX_DEPTH:  # templates nested that deep: treat the rest as one literal
        return len(text)
    i, n, depth = start + 1, len(text), 0
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif depth == 0 and c == "`":
            return i + 1
        elif depth == 0 and text.startswith("${", i):
            depth, i = 1, i + 2
        elif depth > 0 and c in "'\"":
            i = _quoted_end(text, i)
        elif depth > 0 and c == "`":
            i = _template_end(text, i, nesting + 1)
        elif depth > 0 and c == "{":
            depth, i = depth + 1, i + 1
        elif depth > 0 and c == "}":
            depth, i = depth - 1, i + 1
        else:
            i += 1
    return n


def _regex_allowed(toks: list[Tok]) -> bool:
    if not toks:
        return True
    last = toks[-1]
    if last.kind == "name":
        return last.text in _REGEX_AFTER_WORDS
    if last.kind == "punct":
        return last.text not in (")", "]", "}", "++", "--")
    return False


def _regex_end(text: str, start: int) -> int:
    i, n, in_class = start + 1, len(text), False
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "\n":
            return i
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            i += 1
            while i < n and text[i] in _NAME:  # flags
                i += 1
            return i
        i += 1
    return n


def _key_text(tok: Tok) -> str | None:
    if tok.kind in ("name", "num"):
        return tok.text
    if tok.kind == "str":
        raw = tok.text
        if raw.startswith("'"):
            raw = '"' + raw[1:-1].replace('\\"', '"').replace('"', '\\"') + '"'
        try:
            value = json.loads(raw)
        except ValueError:
            return tok.text[1:-1]
        return value if isinstance(value, str) else None
    return None


def key_lines(text: str, variable: str) -> dict[tuple[str, ...], int]:
    toks = tokenize(text)
    lines: dict[tuple[str, ...], int] = {}
    n = len(toks)
    for i, tok in enumerate(toks):
        if tok.kind != "name" or tok.text != variable:
            continue
        prev = toks[i - 1] if i else None
        if prev is not None and prev.kind == "punct" and prev.text in (".", "?."):
            continue  # someone else's property of the same name
        if prev is not None and prev.kind == "name" and prev.text in ("var", "let", "const"):
            if i + 2 < n and toks[i + 1].text == "=" and toks[i + 2].text == "{":
                _object(toks, i + 3, (), lines)
            continue
        path, j = _member_path(toks, i + 1)
        if j < n and toks[j].kind == "punct" and toks[j].text == "=":
            if path:
                lines[path] = tok.line
            if j + 1 < n and toks[j + 1].text == "{":
                _object(toks, j + 2, path, lines)
    return lines


def _member_path(toks: list[Tok], i: int) -> tuple[tuple[str, ...], int]:
    path: list[str] = []
    n = len(toks)
    while i < n:
        t = toks[i]
        if t.text == "." and i + 1 < n and toks[i + 1].kind == "name":
            path.append(toks[i + 1].text)
            i += 2
        elif t.text == "[" and i + 2 < n and toks[i + 1].kind == "str" and toks[i + 2].text == "]":
            key = _key_text(toks[i + 1])
            if key is None:
                break
            path.append(key)
            i += 3
        else:
            break
    return tuple(path), i


def _object(toks: list[Tok], i: int, prefix: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> int:
    """Walk an object literal whose `{` precedes index i; returns the index after its `}`."""
    n = len(toks)
    while i < n:
        t = toks[i]
        if t.text == "}" and t.kind == "punct":
            return i + 1
        if t.text == "," and t.kind == "punct":
            i += 1
            continue
        key = _key_text(t)
        if key is not None and i + 1 < n and toks[i + 1].text == ":":
            path = (*prefix, key)
            lines[path] = t.line
            i += 2
            if i < n and toks[i].text == "{" and len(path) < MAX_DEPTH:
                i = _object(toks, i + 1, path, lines)
                continue
        j = _skip_value(toks, i)
        i = j if j > i else i + 1
    return n


def _skip_value(toks: list[Tok], i: int) -> int:
    """Skip to the `,` or `}` that ends the current property (brackets balanced)."""
    depth, n = 0, len(toks)
    while i < n:
        t = toks[i]
        if t.kind == "punct":
            if t.text in "([{":
                depth += 1
            elif t.text in ")]}":
                if depth == 0:
                    return i
                depth -= 1
            elif t.text == "," and depth == 0:
                return i
        i += 1
    return n
