"""Locations of keys in config.js / interface_config.js: a light scan, for line numbers only.

A tokenizer that knows comments, strings, template literals and regular-expression literals, then a
walk that finds `var|let|const <name> = {…}` object literals and `<name>.a.b = …` assignments and
records the line of every key path (the last one wins, as the last assignment does at run time).
What the values are always comes from evaluating the file; this only says where they were written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from auditor.parsers.base import MAX_DEPTH

Kind = Literal["name", "str", "num", "punct", "template", "regex"]

# One alternation per token; `/` and backquote are left to code (regex literals and templates need
# the previous token or nested scanning). Every branch is linear: no nested quantifiers.
_TOKEN = re.compile(
    r"""
    [^\S\n]*  # blanks before the token
    (?:(?P<nl>\n)
    |(?P<end>\Z)
    |(?P<comment>//[^\n]*|<!--[^\n]*|/\*[\s\S]*?(?:\*/|\Z))
    |(?P<str>'(?:[^'\\\n]|\\[\s\S])*(?:'|(?=\n)|\Z)|"(?:[^"\\\n]|\\[\s\S])*(?:"|(?=\n)|\Z))
    |(?P<name>[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff]*)
    |(?P<num>\.?\d[\w.]*)
    |(?P<special>[/`])
    |(?P<punct>===|!==|\.\.\.|\*\*=|<<=|>>=|>>>|==|!=|<=|>=|&&|\|\||\?\?|\?\.|=>|\+\+|--|[-+*%&|^]=|\*\*|<<|>>|.))
    """,
    re.X,
)
# after these tokens a `/` starts a regular expression, not a division
_REGEX_AFTER_WORDS = frozenset(
    {"return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else"}
    | {"yield", "await"}
)
_FLAGS = re.compile(r"[\w$]*")


@dataclass(frozen=True, slots=True)
class Tok:
    kind: Kind
    text: str
    line: int


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
    append = toks.append
    n, i, line = len(text), 0, 1
    while i < n:
        m = _TOKEN.match(text, i)
        assert m is not None  # some branch matches at any position
        kind, end = m.lastgroup, m.end()
        if kind == "nl":
            line += 1
        elif kind == "special":
            start = m.start(kind)
            if text[start] == "`":
                end = _template_end(text, start)
                append(Tok("template", "`", line))
                line += text.count("\n", start, end)
            elif _regex_allowed(toks):
                end = _regex_end(text, start)
                append(Tok("regex", text[start:end], line))
            elif text.startswith("/=", start):
                end = start + 2
                append(Tok("punct", "/=", line))
            else:
                append(Tok("punct", "/", line))
        elif kind == "comment" or kind == "str":
            if kind == "str":
                append(Tok("str", m.group(kind), line))
            line += text.count("\n", m.start(kind), end)
        elif kind is not None and kind != "end":
            append(Tok(kind, m.group(kind), line))  # type: ignore[arg-type]
        if end <= i:  # nothing consumed (only at the end of the text)
            break
        i = end
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
            m = _FLAGS.match(text, i + 1)
            return m.end() if m else i + 1
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
