"""Apache httpd configuration: a small, bounded reader written for text from the target.

No well-kept Python library reads httpd's configuration: `apacheconfig` on PyPI has had no release
since 2019 and was written for trusted files (it opens includes on the local disk and bounds neither
size, nesting nor include count). httpd's grammar is small, so this module implements the part an
audit needs, following httpd's own rules (ap_cfg_getline, ap_getword_conf):

- one directive per logical line; a backslash as the very last character of a line continues it on the
  next line; a line whose first non-blank character is `#` is a comment (a later `#` is text);
- arguments are separated by blanks; one that starts with a double or single quote runs to the matching
  quote, inside which a backslash escapes that quote or a backslash;
- `<Name args>` opens a section that `</Name>` closes in the same file; directive and section names are
  case-insensitive;
- `Include` / `IncludeOptional` name a file, a glob or a directory, relative to ServerRoot (the last
  `ServerRoot` read, else the directory above sites-*/conf-*/mods-*, else the entry's directory), and are
  resolved ONLY among the collected texts given to `parse_apache`: never on the local disk, never a URL;
  a name holding a `${VARIABLE}` is left unresolved (variables are not expanded);
- `<IfModule>`, `<IfDefine>`, `<IfVersion>`, `<IfFile>`, `<IfDirective>` and `<IfSection>` are read as if
  their condition held (every module loaded, every name defined): their content applies where they
  stand. A negated condition (`<IfModule !mod_ssl.c>`) is therefore false and its content skipped.

The input is untrusted: each file passes prepare_text (size cap, UTF-8, no NUL); a directive's logical
line is at most MAX_LINE characters and holds no control character (comments are skipped unread);
sections nest at most MAX_DEPTH deep (spliced includes count as a level); includes nest at most
MAX_INCLUDE_DEPTH deep and splice at most MAX_INCLUDES files; at most MAX_STATEMENTS directives after
expansion. An unterminated or mismatched section, an unterminated quote, a bad name, an include cycle or
a bound reached is a ConfigParseError naming the file and line. Files are read line by line with an
explicit section stack; only include expansion and the model's section tree recurse, and MAX_DEPTH caps
both.

The typed model with httpd's merge rules is in auditor/parsers/_apache_model.py.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping, Sequence

from auditor.parsers._apache_model import (
    PROTOCOLS,
    ApacheConfig,
    ApacheDirective,
    ApacheHeader,
    ApacheInclude,
    ApacheProxy,
    ApacheRedirect,
    ApacheSection,
    ApacheVirtualHost,
    Node,
    build_config,
    ssl_protocols,
)
from auditor.parsers._paths import PathIndex, has_magic, is_url, normalize, resolve
from auditor.parsers.base import MAX_DEPTH, ConfigParseError, Location, TextBudget, deadline

__all__ = [
    "PROTOCOLS",
    "ApacheConfig",
    "ApacheDirective",
    "ApacheHeader",
    "ApacheInclude",
    "ApacheProxy",
    "ApacheRedirect",
    "ApacheSection",
    "ApacheVirtualHost",
    "parse_apache",
    "ssl_protocols",
]

MAX_FILE_BYTES = 512 * 1024  # a Jitsi site is ~2 KiB, Debian's apache2.conf 7 KiB
MAX_TOTAL_BYTES = 2 * 1024 * 1024  # all files of one parse together
MAX_LINE = 64 * 1024  # characters of one logical line (continuations joined)
MAX_STATEMENTS = 50_000  # directives and sections, after include expansion
MAX_INCLUDE_DEPTH = 16
MAX_INCLUDES = 256  # files spliced in by Include / IncludeOptional, counted each time
MAX_SECONDS = 5.0  # CPU seconds for one parse, includes and model included

_BLANK = " \t\r\f\v"
_WORD = re.compile(r"""[ \t\r\f\v]*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^ \t\r\f\v]+))""", re.S)
_HEAD = re.compile(r"([^ \t\r\f\v]*)(.*)", re.S)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_CONDITIONALS = frozenset({"ifmodule", "ifdefine", "ifversion", "iffile", "ifdirective", "ifsection"})
_INCLUDES = frozenset({"include", "includeoptional"})
_LAYOUT_DIRS = frozenset({"sites-enabled", "sites-available", "conf-enabled", "conf-available",
                          "mods-enabled", "mods-available", "conf.d"})  # fmt: skip
_MAIN_NAMES = frozenset({"apache2.conf", "httpd.conf"})


def parse_apache(
    files: Mapping[str, str],
    entry: str | Sequence[str],
    *,
    server_root: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_seconds: float = MAX_SECONDS,
) -> ApacheConfig:
    """Parse `entry` (apache2.conf, or site files read together in this order, as apache2.conf would
    include them) and what their includes name within `files`."""
    entries = [entry] if isinstance(entry, str) else list(entry)
    if not entries:
        raise ConfigParseError("", "no entry file")
    for path in entries:
        if path not in files:
            raise ConfigParseError(path, "entry file not among the provided files")
    first = entries[0]
    # The counts above bound the work of each include, not how many there are nor how many collected
    # files each glob is compared with: a time bound, as for nginx.
    with deadline(max_seconds, first):
        reader = _Reader(files, server_root if server_root is not None else _default_server_root(first), max_bytes)
        nodes = [node for path in entries for node in reader.expand(reader.tree(path), (path,), 0)]
        site_only = posixpath.basename(first) not in _MAIN_NAMES
        return build_config(first, nodes, reader.order, reader.includes, reader.warnings, site_only)


def _default_server_root(entry: str) -> str:
    """Debian's compiled-in ServerRoot is /etc/apache2, the directory apache2.conf is in; a lone site
    file under sites-*/conf-*/mods-* has it one level up."""
    directory = posixpath.dirname(entry)
    if posixpath.basename(directory) in _LAYOUT_DIRS:
        return posixpath.dirname(directory)
    return directory


class _Reader:
    def __init__(self, files: Mapping[str, str], server_root: str, max_bytes: int) -> None:
        self.files, self.server_root = files, normalize(server_root)
        self.trees: dict[str, list[Node]] = {}
        self.order: list[str] = []
        self.includes: list[ApacheInclude] = []
        self.warnings: list[str] = []
        self.texts = TextBudget(files, max_bytes, MAX_TOTAL_BYTES)
        self.index = PathIndex(files)
        self.statements = 0
        self.spliced = 0

    def tree(self, path: str) -> list[Node]:
        if path not in self.trees:
            self.trees[path] = _parse_file(self.texts.read(path), path)
            self.order.append(path)
        return self.trees[path]

    def expand(self, nodes: list[Node], chain: tuple[str, ...], depth: int) -> list[Node]:
        """`nodes` with includes spliced in and conditional sections resolved; `depth` counts sections
        and includes across files."""
        out: list[Node] = []
        for node in nodes:
            self.statements += 1
            if self.statements > MAX_STATEMENTS:
                raise ConfigParseError(node.path, f"more than {MAX_STATEMENTS} directives after includes", node.line)
            key = node.name.lower()
            if node.children is None:
                if key in _INCLUDES:
                    out.extend(self._include(node, chain, depth))
                    continue
                if key == "serverroot" and len(node.args) == 1:  # httpd applies it while reading
                    self.server_root = normalize(node.args[0])
                out.append(node)
                continue
            if depth >= MAX_DEPTH:
                message = f"sections nested deeper than {MAX_DEPTH} levels (includes count)"
                raise ConfigParseError(node.path, message, node.line)
            if key in _CONDITIONALS:
                if not (node.args and node.args[0].startswith("!")):
                    out.extend(self.expand(node.children, chain, depth + 1))
                continue
            out.append(Node(node.name, node.args, node.path, node.line, self.expand(node.children, chain, depth + 1)))
        return out

    def _include(self, node: Node, chain: tuple[str, ...], depth: int) -> list[Node]:
        where = Location(node.path, node.line)
        if len(node.args) != 1:
            self.warnings.append(f"{where}: {node.name} takes one argument, not followed")
            return []
        pattern = node.args[0]
        unresolvable = is_url(pattern) or "${" in pattern
        resolved = pattern if unresolvable else resolve(self.server_root, pattern)
        matched = [] if unresolvable else _matches(resolved, self.index)
        self.includes.append(ApacheInclude(pattern, resolved, where, matched, node.name.lower() == "includeoptional"))
        # An include that names no collected file stays where it stood, as a directive: what it would set
        # is unknown from there on (httpd takes a single-valued directive's last occurrence).
        out: list[Node] = [] if matched else [node]
        for target in matched:
            if target in chain:
                raise ConfigParseError(node.path, f"include cycle: {_excerpt(target)} is already being read", node.line)
            if len(chain) >= MAX_INCLUDE_DEPTH:
                raise ConfigParseError(node.path, f"includes nested deeper than {MAX_INCLUDE_DEPTH}", node.line)
            self.spliced += 1
            if self.spliced > MAX_INCLUDES:
                raise ConfigParseError(node.path, f"more than {MAX_INCLUDES} included files", node.line)
            out.extend(self.expand(self.tree(target), (*chain, target), depth + 1))
        return out


def _matches(resolved: str, index: PathIndex) -> list[str]:
    """The collected files an include names: a file, a glob, or (httpd reads directories whole) every
    file below a directory, sorted."""
    found = index.expand(resolved)
    if found or has_magic(resolved):
        return found
    return index.below(resolved)


def _parse_file(text: str, path: str) -> list[Node]:
    root: list[Node] = []
    opened: list[Node] = []
    current = root
    count = 0
    for line, raw in _logical_lines(text):
        stripped = raw.strip(_BLANK)
        if not stripped or stripped.startswith("#"):
            continue
        if len(stripped) > MAX_LINE:
            raise ConfigParseError(path, f"line longer than {MAX_LINE} characters", line)
        bad = _CONTROL.search(stripped)
        if bad is not None:
            raise ConfigParseError(path, f"control character U+{ord(bad.group()):04X}: not a text configuration", line)
        count += 1
        if count > MAX_STATEMENTS:
            raise ConfigParseError(path, f"more than {MAX_STATEMENTS} directives", line)
        if stripped.startswith("</"):
            if not stripped.endswith(">"):
                raise ConfigParseError(path, "closing section tag without its '>'", line)
            name = stripped[2:-1].strip(_BLANK)
            if not opened:
                raise ConfigParseError(path, f"</{_excerpt(name)}> closes no open section", line)
            top = opened.pop()
            if name.lower() != top.name.lower():
                raise ConfigParseError(
                    path, f"expected </{top.name}> (opened on line {top.line}) but saw </{_excerpt(name)}>", line
                )
            current = opened[-1].children if opened and opened[-1].children is not None else root
            continue
        section = stripped.startswith("<")
        if section and not stripped.endswith(">"):
            raise ConfigParseError(path, "section tag without its closing '>'", line)
        name, rest = _head(stripped[1:-1] if section else stripped, path, line)
        node = Node(name, _words(rest, path, line), path, line, [] if section else None)
        current.append(node)
        if section:
            if len(opened) >= MAX_DEPTH:
                raise ConfigParseError(path, f"sections nested deeper than {MAX_DEPTH} levels", line)
            opened.append(node)
            current = node.children if node.children is not None else root
    if opened:
        top = opened[-1]
        raise ConfigParseError(path, f"<{top.name}> is never closed (end of file)", top.line)
    return root


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each logical line: backslash-newline continuations joined (as
    httpd does, a continued comment goes on too). Their total is bounded by the file's size."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        start = i + 1
        line = lines[i].removesuffix("\r")
        parts: list[str] = []
        while line.endswith("\\") and i + 1 < len(lines):
            parts.append(line[:-1])
            i += 1
            line = lines[i].removesuffix("\r")
        parts.append(line)
        i += 1
        yield start, "".join(parts)


def _head(text: str, path: str, line: int) -> tuple[str, str]:
    m = _HEAD.match(text)
    name, rest = (m.group(1), m.group(2)) if m else ("", text)
    if not _NAME.fullmatch(name):
        # not quoted: a line that is no directive may be a value (a secret's continuation)
        raise ConfigParseError(path, "invalid directive or section name", line)
    return name, rest


def _words(text: str, path: str, line: int) -> list[str]:
    """ap_getword_conf's split: blanks separate, quotes group, backslash escapes the quote and itself."""
    words: list[str] = []
    pos = 0
    while (m := _WORD.match(text, pos)) is not None:
        double, single, bare = m.groups()
        if bare is not None:
            if bare[0] in "\"'":
                raise ConfigParseError(path, "quoted argument without its closing quote", line)
            words.append(bare.replace("\\\\", "\\"))
        elif double is not None:
            words.append(re.sub(r'\\([\\"])', r"\1", double))
        else:
            words.append(re.sub(r"\\([\\'])", r"\1", single or ""))
        pos = m.end()
    return words


def _excerpt(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
