"""Find the secret-bearing settings of a deployment and their verdicts (names only, never values).

Values were replaced by redaction markers right after collection; this module walks the parsed
structures (and, for files that did not parse, the text) to pair each marker with the setting name.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from auditor.deployment import Deployment
from auditor.discovery import Role, not_configuration
from auditor.parsers.base import Location
from auditor.parsers.hocon import HoconDoc
from auditor.redaction import BARE_LITERALS, MARKER_PREFIX, MARKER_RE, PEM_MARKER, SecretVerdict, is_secret_name

# Bounded and starting at a name's first character: unbounded runs made a long line quadratic.
_LINE_KEY_RE = re.compile(
    r"(?<![A-Za-z0-9_.\-])([\[\"']?[A-Za-z_][A-Za-z0-9_.\-]{0,255}[\"'\]]?)[ \t]{0,64}(?:=|:|[ \t])[ \t]{0,64}[\"'`]?"
    + MARKER_RE.pattern
)


# Whole-line comments of the formats read line by line (shell, YAML, dotenv, INI; JavaScript, HOCON); Lua's
# `--` only in .lua files (elsewhere a line starting so is a command's option: `--arg KEY "$KEY" \`)
_COMMENT_STARTS = ("#", ";", "//")
_LUA_COMMENT_STARTS = (*_COMMENT_STARTS, "--")


@dataclass(frozen=True, slots=True)
class SecretSetting:
    name: str  # e.g. "jicofo.conf: jicofo.xmpp.client.password"
    location: Location
    verdict: SecretVerdict


def _walk(value: Any, prefix: str, *, markers_only: bool = True) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{prefix}.{k}" if prefix else str(k), markers_only=markers_only)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{prefix}[{i}]", markers_only=markers_only)
    elif isinstance(value, str) and (not markers_only or MARKER_RE.search(value)):
        yield prefix, value


def secret_settings(dep: Deployment) -> list[SecretSetting]:
    found: dict[tuple[str, str], SecretSetting] = {}
    claimed: set[int] = set()  # reuse groups of values found under a secret's name

    def add(name: str, path: str, line: int | None, raw: str) -> None:
        verdict = SecretVerdict.from_marker(raw)
        if verdict is not None:
            label = f"{posixpath.basename(path)}: {name}"
            found.setdefault((path, name), SecretSetting(label, Location(path, line), verdict))
            if is_secret_name(name):
                claimed.add(verdict.group)

    handled: set[str] = set()
    seen_content: set[str | None] = set()
    for role, files in dep.parsed.items():
        for pf in files:
            if pf.value is None or role in (Role.PRIVATE_KEY, Role.CERTIFICATE, Role.DOCKER_COMPOSE):
                continue
            item = dep.snapshot.get(pf.path)
            digest = item.sha256 if item is not None else None
            handled.add(pf.path)
            if digest in seen_content:
                continue  # the same file reached twice (a symlink and its target): report it once
            seen_content.add(digest)
            for name, raw, line in _structured(pf.value):
                add(name, pf.path, line, raw)
    # Files that did not parse (or have no parser) are still scanned line by line, but not their comment
    # lines (`# password: "secret-password"`, an example) nor the templates of an offline tree, which
    # discovery leaves out too (their `{{ x }}` are where the values go). Every file's lines, those
    # included, tell which values stand under a secret's name.
    offline = dep.snapshot.transport == "dir"
    for item in dep.snapshot.files():
        if not item.ok or item.redactions == 0:
            continue
        # a binary file (an image, an archive) has no settings: markers there are copies
        binary = b"\0" in (item.content or b"")[:8192]
        judged = item.key not in handled and not not_configuration(item.key, offline) and not binary
        comments = _LUA_COMMENT_STARTS if item.key.endswith(".lua") else _COMMENT_STARTS
        for lineno, text in enumerate(item.text().splitlines(), start=1):
            if MARKER_PREFIX not in text:
                continue
            comment = text.lstrip().startswith(comments)
            for m in _LINE_KEY_RE.finditer(text):
                name = m.group(1).strip("[]\"'")
                if judged and not comment:
                    add(name, item.key, lineno, m.group(0))
                elif is_secret_name(name) and (verdict := SecretVerdict.from_marker(m.group(0))) is not None:
                    claimed.add(verdict.group)
    # A secret's value is replaced wherever it stands, for safety: a weak MONGO_INITDB_ROOT_PASSWORD `root`
    # also in a Dockerfile's `USER root`. Under a name that is no secret's, a marker of a value some
    # secret-named setting holds is that copy, not a setting (it made USER a weak secret reused with the
    # password). Under other names (`Authorization: Bearer ...`, a JWT, `user=NAME:...`) it is one.
    kept = (s for key, s in found.items() if is_secret_name(key[1]) or s.verdict.group not in claimed)
    return sorted(kept, key=lambda s: (s.location.path, s.location.line or 0, s.name))


def _structured(value: Any, *, markers_only: bool = True) -> Iterator[tuple[str, str, int | None]]:
    """(dotted name, raw value, line) for each marker (or, not `markers_only`, each string) found in a
    parsed structure."""
    sections = getattr(value, "sections", None)
    if sections is not None:  # prosody
        for section in sections:
            scope = section.name or "global"
            for key, v in section.options.items():
                for name, raw in _walk(v, key, markers_only=markers_only):
                    yield f"{scope}/{name}", raw, section.option_lines.get(key)
        return
    if isinstance(value, HoconDoc) and value.own is not None:
        # with its includes merged: the file as written (the included files are parsed files of their own,
        # inactive): each setting is reported once, in the file where it is written
        value = value.own
    data = getattr(value, "data", None)
    if isinstance(data, dict):  # HOCON
        line_of = getattr(value, "line_of", None)
        for name, raw in _walk(data, "", markers_only=markers_only):
            yield name, raw, line_of(name) if callable(line_of) else None
        return
    values = getattr(value, "values", None)
    if isinstance(values, dict):  # config.js
        line_of = getattr(value, "line_of", None)
        for name, raw in _walk(values, "", markers_only=markers_only):
            yield name, raw, line_of(name) if callable(line_of) else None
        return
    if isinstance(value, dict):  # properties, dotenv, simple key-value formats: {key: obj with value/line}
        for key, entry in value.items():
            value = getattr(entry, "value", entry)
            line = getattr(entry, "line", None)
            for r in value if isinstance(value, list) else [value]:
                r_value = getattr(r, "value", r)
                if isinstance(r_value, str) and (not markers_only or MARKER_RE.search(r_value)):
                    yield str(key), r_value, getattr(r, "line", line)
            written = getattr(entry, "written", None)  # properties: the value with its escapes as written
            if not markers_only and isinstance(written, str) and written and written != value:
                yield str(key), written, line


_NAME_PARTS_RE = re.compile(r"[./\[\]\s]+")  # a blank too: a properties key `some\\ password`
_ITEM_SUFFIX_RE = re.compile(r"(?:\[\d{1,9}\]){1,16}$")  # `name[0]`, `name[0][1]`: the list's name
_ANY_MARKER_RE = re.compile(MARKER_PREFIX + r"[a-z]{1,16}_\d{1,6}_g\d{1,4}")  # no groups: for re.split


def unredacted_secret_values(dep: Deployment) -> list[str]:
    """Secret values that the parsers read but the lexical redaction left in the snapshot: a value that
    only the parser puts together or finds under a secret name (a HOCON `${substitution}`, a dotenv
    `${VAR}`, a Lua local, a Java properties key written with escapes, a multi-line or concatenated
    string whose other pieces were redacted). Each is returned whole, without the markers in it, and
    line by line, for `redact_snapshot` to replace everywhere; the same for the files that did parse."""
    found: list[str] = []
    for role, files in dep.parsed.items():
        if role in (Role.PRIVATE_KEY, Role.CERTIFICATE, Role.DOCKER_COMPOSE, Role.PROSODY_ACCOUNT):
            continue
        for pf in files:
            if pf.value is None:
                continue
            for name, raw, _ in _structured(pf.value, markers_only=False):
                # an item of a list under a secret name (`turn_credentials = { s, "..." }`) is one too
                parts = [part for part in _NAME_PARTS_RE.split(_ITEM_SUFFIX_RE.sub("", name)) if part]
                if not (is_secret_name(name) or (parts and is_secret_name(parts[-1]))):
                    continue
                if MARKER_RE.fullmatch(raw.strip()) or raw.strip().lower() in BARE_LITERALS:
                    continue
                for piece in _ANY_MARKER_RE.split(raw):
                    found += _pieces(piece)
    return list(dict.fromkeys(found))


def _pieces(text: str) -> list[str]:
    """A piece of a value between markers: itself, stripped, and each of its lines stripped. Blanks and
    punctuation alone are left out (they would be replaced wherever they appear)."""
    candidates = [text, text.strip(), *(line.strip() for line in text.splitlines())]
    return [c for c in candidates if len(c.strip()) >= 3 and any(ch.isalnum() for ch in c)]


def private_key_files(dep: Deployment) -> list[str]:
    return [i.key for i in dep.snapshot.files() if i.ok and PEM_MARKER in i.text()]
