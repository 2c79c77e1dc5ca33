"""nginx configuration: crossplane's lexer and directive table on text from the target.

crossplane.parse() opens paths on the local disk and follows includes there, which is wrong for a
remote host (and dangerous: `include /etc/shadow;` would read the auditor's own file). Writing the
target's files into a temp tree would still need every include path rewritten. Instead this module
feeds crossplane's lexer (`_lex_file_object`, `_balance_braces`) the collected text, builds the block
tree itself, checks each directive with crossplane's `analyze` (context and argument counts; findings
become warnings, not failures, since crossplane's table lags nginx releases), and resolves `include`
against the provided file map only: glob(3) matching, relative to nginx's configuration directory.

A file that is a Jitsi site on its own (no `http {}` around its `server` blocks) is read as the
content of an http block, without context checks. Servers get the directives that matter for an
audit with nginx's inheritance applied: a level that sets a directive at all (e.g. any `add_header`)
does not inherit that directive from the outer level.
"""

from __future__ import annotations

import posixpath
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crossplane.analyzer import DIRECTIVES, analyze, enter_block_ctx
from crossplane.errors import NgxParserBaseException
from crossplane.lexer import _balance_braces, _lex_file_object

from auditor.parsers._paths import PathIndex, is_url, resolve
from auditor.parsers.base import MAX_DEPTH, ConfigParseError, Location, TextBudget, deadline

MAX_SECONDS = 5.0
MAX_FILE_BYTES = 512 * 1024  # a Jitsi site is ~10 KiB, Debian's mime.types 5 KiB
MAX_TOTAL_BYTES = 2 * 1024 * 1024  # all files of one parse together
MAX_STATEMENTS = 50_000  # after include expansion (a Debian tree with mime.types has ~1500)
MAX_INCLUDE_DEPTH = 16

_LOCATION_MODIFIERS = ("=", "~*", "~", "^~")


UNSEEN = "include"  # an include that named no collected file: the only `include` left in the expanded tree


def _inherited(name: str) -> bool:
    """Directives merged from the enclosing level when a level does not set them at all."""
    return name.startswith("ssl_") or name in _INHERITED


_INHERITED = frozenset(
    {
        "add_header",
        "add_trailer",
        "server_tokens",
        "limit_req",
        "limit_req_status",
        "limit_conn",
        "limit_conn_status",
        "client_max_body_size",
        "http2",
        "ssi",
        "gzip",
        "access_log",
        "error_log",
        "proxy_set_header",
        "proxy_hide_header",
        "proxy_ssl_verify",
        "proxy_ssl_protocols",
        "resolver",
    }
)


@dataclass(frozen=True, slots=True)
class NginxDirective:
    name: str
    args: list[str]
    location: Location


@dataclass(frozen=True, slots=True)
class NginxStatement:
    """A node of the configuration tree, includes already spliced in."""

    name: str
    args: list[str]
    location: Location
    block: list[NginxStatement] | None = None


class _Directives:
    __slots__ = ()
    directives: list[NginxDirective]

    def directive(self, name: str) -> NginxDirective | None:
        """The effective directive (the last one, as nginx takes for single-valued directives)."""
        found = self.directives_named(name)
        return found[-1] if found else None

    def directives_named(self, name: str) -> list[NginxDirective]:
        return [d for d in self.directives if d.name == name]

    def add_headers(self) -> list[NginxDirective]:
        return self.directives_named("add_header")


@dataclass(frozen=True, slots=True)
class NginxLocation(_Directives):
    modifier: str | None  # "=", "~", "~*", "^~" or None (prefix match; also "@name" locations)
    path: str
    directives: list[NginxDirective]  # own + inherited
    line: int
    file: str = ""
    own: list[NginxDirective] = field(default_factory=list, repr=False)  # set in this block itself

    def unseen_includes(self, found: NginxDirective | None = None) -> list[NginxDirective]:
        """Includes in this location block of files not in the evidence: they may set the directive
        `found` (None: unset) or add to the block (a proxy_pass, a limit_req, nested locations). Those of
        the enclosing server block are its own unseen_includes()."""
        if found is not None and any(o is found for o in self.own):
            return []
        return [d for d in self.own if d.name == UNSEEN and d.args]

    @property
    def location(self) -> Location:
        return Location(self.file, self.line)


@dataclass(frozen=True, slots=True)
class NginxServer(_Directives):
    listen: list[list[str]]
    server_names: list[str]
    directives: list[NginxDirective]  # own + inherited from http
    locations: list[NginxLocation]
    file: str = ""
    line: int = 0
    own: list[NginxDirective] = field(default_factory=list, repr=False)  # set in this block itself
    http_unseen: list[NginxDirective] = field(default_factory=list, repr=False)

    def is_own(self, d: NginxDirective) -> bool:
        """Whether `d` is set in this server block (else it is inherited from the http level)."""
        return any(o is d for o in self.own)

    def unseen_includes(self, found: NginxDirective | None = None) -> list[NginxDirective]:
        """Includes of files not in the evidence that may set the directive `found` (None: unset) or
        override it: in this server block or at the http level when unset; in this block when `found` is
        inherited from the http level; none when this block sets it itself."""
        if found is not None and self.is_own(found):
            return []
        own = [d for d in self.own if d.name == UNSEEN and d.args]
        return own if found is not None else own + [d for d in self.http_unseen if d.name == UNSEEN and d.args]

    @property
    def location(self) -> Location:
        return Location(self.file, self.line)

    @property
    def ssl(self) -> bool:
        return any("ssl" in args or "quic" in args for args in self.listen)

    @property
    def terminates_tls(self) -> bool:
        """A TLS listener, or the old `ssl on;` directive."""
        on = self.directive("ssl")
        return self.ssl or (on is not None and on.args[:1] == ["on"])


@dataclass(frozen=True, slots=True)
class NginxInclude:
    pattern: str
    resolved: str
    location: Location
    matched: list[str]


@dataclass(frozen=True, slots=True)
class NginxConfig:
    entry: str
    servers: list[NginxServer]
    http_directives: list[NginxDirective]
    statements: list[NginxStatement] = field(default_factory=list, repr=False)
    files: list[str] = field(default_factory=list)
    includes: list[NginxInclude] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    site_only: bool = False  # the entry was a lone site file, read as the inside of `http {}`

    @property
    def unresolved_includes(self) -> list[NginxInclude]:
        return [i for i in self.includes if not i.matched]

    def tls_server(self, own_domain: str | None) -> NginxServer | None:
        """The server block that terminates HTTPS (`listen ... ssl`, `ssl on;` or port 443) for the
        domain, else the first such block."""
        candidates = [s for s in self.servers if s.terminates_tls or any("443" in " ".join(a) for a in s.listen)]
        for s in candidates:
            if own_domain and own_domain in s.server_names:
                return s
        return candidates[0] if candidates else None


def parse_nginx(
    files: Mapping[str, str],
    entry: str,
    *,
    conf_dir: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_seconds: float = MAX_SECONDS,
) -> NginxConfig:
    """Parse `entry` (nginx.conf or a lone site file) and what its includes name within `files`."""
    if entry not in files:
        raise ConfigParseError(entry, "entry file not among the provided files")
    with deadline(max_seconds, entry):
        reader = _Reader(files, conf_dir if conf_dir is not None else _default_conf_dir(entry), max_bytes)
        raw = reader.raw(entry)
        site_only = not any(s["directive"] in ("http", "events") for s in raw)
        reader.check_ctx = not site_only
        statements = reader.expand(raw, entry, ("http",) if site_only else (), (entry,))
        http_level = (
            statements if site_only else [s for top in statements if top.name == "http" for s in (top.block or [])]
        )
        http_directives = [_directive(s) for s in http_level if s.block is None]
        blocks = [s for s in http_level if s.name == "server" and s.block is not None]
        servers = [_server(s, http_directives) for s in blocks]
    return NginxConfig(
        entry, servers, http_directives, statements, reader.order, reader.includes, reader.warnings, site_only
    )


def split_nginx_dump(text: str) -> dict[str, str]:
    """`nginx -T` output → {path: text}, split on its `# configuration file PATH:` markers."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines(keepends=True):
        if line.startswith("# configuration file ") and line.rstrip().endswith(":"):
            current = out.setdefault(line[len("# configuration file ") :].rstrip()[:-1], [])
        elif current is not None:
            current.append(line)
    return {path: "".join(lines) for path, lines in out.items()}


def _default_conf_dir(entry: str) -> str:
    """nginx resolves relative includes against its prefix configuration directory, not the
    including file's: for a lone site file under sites-*/ or conf.d/ that is the parent directory."""
    directory = posixpath.dirname(entry)
    if posixpath.basename(directory) in ("sites-enabled", "sites-available", "conf.d"):
        return posixpath.dirname(directory)
    return directory


class _Reader:
    def __init__(self, files: Mapping[str, str], conf_dir: str, max_bytes: int) -> None:
        self.files, self.conf_dir = files, conf_dir
        self.cache: dict[str, list[dict[str, Any]]] = {}
        self.order: list[str] = []
        self.includes: list[NginxInclude] = []
        self.warnings: list[str] = []
        self.check_ctx = True
        self.texts = TextBudget(files, max_bytes, MAX_TOTAL_BYTES)
        self.index = PathIndex(files)
        self.named = 0  # files named by the includes, each time
        self.parsed = 0  # statements in the files read
        self.statements = 0  # statements after include expansion

    def raw(self, path: str) -> list[dict[str, Any]]:
        if path not in self.cache:
            text = self.texts.read(path)
            self.cache[path] = _built(text, path)
            self.parsed += _count(self.cache[path])
            if self.parsed > MAX_STATEMENTS:  # checked as files are read, before any include fan-out
                raise ConfigParseError(path, f"more than {MAX_STATEMENTS} directives")
            self.order.append(path)
        return self.cache[path]

    def expand(
        self,
        raw: list[dict[str, Any]],
        path: str,
        ctx: tuple[str, ...],
        chain: tuple[str, ...],
        depth: int = 0,
    ) -> list[NginxStatement]:
        """Statements with includes spliced in; `depth` counts blocks across files (nested locations
        keep crossplane's ctx at ("http", "location"), so ctx length alone does not bound it)."""
        out: list[NginxStatement] = []
        for stmt in raw:
            self.statements += 1
            if self.statements > MAX_STATEMENTS:
                raise ConfigParseError(path, f"more than {MAX_STATEMENTS} directives after includes")
            where = Location(path, stmt["line"])
            self._analyze(stmt, path, ctx)
            if stmt["directive"] == "include" and len(stmt["args"]) == 1 and stmt["block"] is None:
                out.extend(self._include(stmt["args"][0], where, ctx, chain, depth))
                continue
            block = None
            if stmt["block"] is not None:
                if depth >= MAX_DEPTH:
                    raise ConfigParseError(path, f"blocks nested deeper than {MAX_DEPTH}", stmt["line"])
                block = self.expand(stmt["block"], path, enter_block_ctx(stmt, ctx), chain, depth + 1)
            out.append(NginxStatement(stmt["directive"], list(stmt["args"]), where, block))
        return out

    def _analyze(self, stmt: dict[str, Any], path: str, ctx: tuple[str, ...]) -> None:
        term = "{" if stmt["block"] is not None else ";"
        try:
            analyze(path, stmt, term, ctx, strict=False, check_ctx=self.check_ctx, check_args=True)
        except NgxParserBaseException as exc:
            self.warnings.append(f"{path}:{stmt['line']}: {_without_input(exc.strerror)}")
        except Exception:  # crossplane formats some messages with the argument itself
            self.warnings.append(f"{path}:{stmt['line']}: invalid arguments to {stmt['directive']!r}")

    def _include(
        self, pattern: str, where: Location, ctx: tuple[str, ...], chain: tuple[str, ...], depth: int
    ) -> list[NginxStatement]:
        resolved = pattern if is_url(pattern) else resolve(self.conf_dir, pattern)
        matched = [] if is_url(pattern) else self.index.expand(resolved)
        # Every include keeps the list of files it names: counted, since includes that are not followed
        # (too deep, cycles) add no statements (35 000 globs naming 5 000 files each held 1.4 GB).
        self.named += len(matched)
        if self.named > MAX_STATEMENTS:
            raise ConfigParseError(where.path, f"includes name more than {MAX_STATEMENTS} files in all", where.line)
        self.includes.append(NginxInclude(pattern, resolved, where, matched))
        out: list[NginxStatement] = []
        if not matched:  # stays in the tree where it stood: what it would set is unknown there (UNSEEN)
            out.append(NginxStatement(UNSEEN, [pattern], where))
        elif len(chain) >= MAX_INCLUDE_DEPTH:  # one warning per include, not per file its glob names
            self.warnings.append(f"{where}: includes nested deeper than {MAX_INCLUDE_DEPTH}")
            return out
        for target in matched:
            if target in chain:
                self.warnings.append(f"{where}: include cycle through {target}, not followed")
                continue
            out.extend(self.expand(self.raw(target), target, ctx, (*chain, target), depth + 1))
        return out


class _TreeCache:
    """Block trees by file text, shared by the hosts of a run: most of a fleet's nginx files (nginx.conf,
    snippets, the default site) are the same text on every host, and lexing is the costly part. A tree
    depends on the text only (the path names errors, which are never cached) and is only read after it
    is built. Bounded by the texts' total size; least recently used first out."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.size = max_bytes, 0
        self.trees: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self.building: dict[str, threading.Event] = {}
        self.lock = threading.Lock()

    def claim(self, text: str) -> tuple[list[dict[str, Any]] | None, threading.Event | None]:
        """(tree, None) when known; (None, event) when another thread builds it (wait on the event);
        (None, None) when the caller is to build it, then `put` and `release`."""
        with self.lock:
            tree = self.trees.get(text)
            if tree is not None:
                self.trees.move_to_end(text)
                return tree, None
            building = self.building.get(text)
            if building is None:
                self.building[text] = threading.Event()
            return None, building

    def get(self, text: str) -> list[dict[str, Any]] | None:
        with self.lock:
            return self.trees.get(text)

    def put(self, text: str, tree: list[dict[str, Any]]) -> None:
        if len(text) > self.max_bytes // 8:  # a Jitsi site is ~10 KiB; a huge file is not worth the memory
            return
        with self.lock:
            if text not in self.trees:
                self.trees[text] = tree
                self.size += len(text)
            while self.size > self.max_bytes:
                old, _ = self.trees.popitem(last=False)
                self.size -= len(old)

    def release(self, text: str) -> None:
        with self.lock:
            event = self.building.pop(text, None)
        if event is not None:
            event.set()


_TREES = _TreeCache(512 * 1024)  # texts of at most 64 KiB; their trees take ~10x the text
_WAIT_FOR_BUILDER = 2.0  # seconds; then (a builder that failed or is slow) this thread builds it too


def _built(text: str, path: str) -> list[dict[str, Any]]:
    """The hosts of a fleet reach the same files at the same moment: one builds, the others wait."""
    if len(text) > _TREES.max_bytes // 8:
        return _build(text, path)
    tree, building = _TREES.claim(text)
    if tree is not None:
        return tree
    if building is not None:
        building.wait(_WAIT_FOR_BUILDER)
        return _TREES.get(text) or _build(text, path)
    try:
        tree = _build(text, path)
        _TREES.put(text, tree)
        return tree
    finally:
        _TREES.release(text)


def _build(text: str, path: str) -> list[dict[str, Any]]:
    """Block tree from crossplane's token stream: {directive, args, line, block}."""
    # crossplane's lexer only emits a token once something follows it: end the text with a newline
    tokens = _balance_braces(_lex_file_object((text + "\n").splitlines(keepends=True)), path)
    root: list[dict[str, Any]] = []
    stack: list[list[dict[str, Any]]] = [root]
    try:
        for token, line, quoted in tokens:
            if not quoted and token.startswith("#"):
                continue
            if not quoted and token == "}":
                if len(stack) == 1:  # crossplane balances the braces; kept so a slip cannot empty the stack
                    raise ConfigParseError(path, 'unexpected "}"', line)
                stack.pop()
                continue
            if not quoted and token in ("{", ";"):
                raise ConfigParseError(path, f'unexpected "{token}"', line)
            stmt: dict[str, Any] = {"directive": token, "line": line, "args": [], "block": None}
            for arg, arg_line, arg_quoted in tokens:
                if not arg_quoted and arg in ("{", ";", "}"):
                    if arg == "}":
                        message = f'directive "{_known_name(token)}" is not terminated by ";"'
                        raise ConfigParseError(path, message, arg_line)
                    break
                if arg_quoted or not arg.startswith("#"):
                    stmt["args"].append(arg)
            else:
                raise ConfigParseError(path, 'unexpected end of file, expecting ";" or "}"', line)
            if stmt["directive"] == "if":
                _strip_if_parens(stmt["args"])
            stack[-1].append(stmt)
            if arg == "{":  # the unquoted "{" that ended the arguments, whatever the name's quoting
                if len(stack) > MAX_DEPTH:
                    raise ConfigParseError(path, f"blocks nested deeper than {MAX_DEPTH} levels", line)
                stmt["block"] = []
                stack.append(stmt["block"])
    except NgxParserBaseException as exc:
        raise ConfigParseError(path, _without_input(exc.strerror), exc.lineno) from None
    return root


def _count(statements: list[dict[str, Any]]) -> int:
    total, stack = 0, [statements]
    while stack:
        block = stack.pop()
        total += len(block)
        stack.extend(s["block"] for s in block if s["block"] is not None)
    return total


def _strip_if_parens(args: list[str]) -> None:
    if args and args[0].startswith("(") and args[-1].endswith(")"):
        args[0] = args[0][1:].lstrip()
        args[-1] = args[-1][:-1].rstrip()
        args[:] = [a for a in args if a]


def _directive(stmt: NginxStatement) -> NginxDirective:
    return NginxDirective(stmt.name, stmt.args, stmt.location)


def _merge(own: list[NginxDirective], outer: Iterable[NginxDirective]) -> list[NginxDirective]:
    names = {d.name for d in own}
    return own + [d for d in outer if _inherited(d.name) and d.name not in names]


def _server(stmt: NginxStatement, http_directives: list[NginxDirective]) -> NginxServer:
    block = stmt.block or []
    own = [_directive(s) for s in block if s.block is None]
    effective = _merge(own, http_directives)
    locations: list[NginxLocation] = []
    for s in block:
        if s.name == "location" and s.block is not None:
            _location(s, effective, locations, 0)
    return NginxServer(
        listen=[d.args for d in own if d.name == "listen"],
        server_names=[a for d in own if d.name == "server_name" for a in d.args],
        directives=effective,
        locations=locations,
        file=stmt.location.path,
        line=stmt.location.line or 0,
        own=own,
        http_unseen=[d for d in http_directives if d.name == UNSEEN],
    )


def _location(stmt: NginxStatement, outer: list[NginxDirective], out: list[NginxLocation], depth: int) -> None:
    modifier, path = _location_args(stmt.args)
    block = stmt.block or []
    own = [_directive(s) for s in block if s.block is None]
    effective = _merge(own, outer)
    out.append(NginxLocation(modifier, path, effective, stmt.location.line or 0, stmt.location.path, own))
    if depth < MAX_DEPTH:
        for s in block:
            if s.name == "location" and s.block is not None:
                _location(s, effective, out, depth + 1)


def _location_args(args: list[str]) -> tuple[str | None, str]:
    if len(args) >= 2 and args[0] in _LOCATION_MODIFIERS:
        return args[0], args[1]
    if len(args) == 1:
        arg = args[0]
        for modifier in _LOCATION_MODIFIERS:  # "=/exact", "~^/re" written without a space
            if arg.startswith(modifier) and len(arg) > len(modifier) and not arg.startswith("@"):
                return modifier, arg[len(modifier) :]
        return None, arg
    return None, " ".join(args)


_QUOTED_RE = re.compile(r'"(?P<inner>[^"\r\n]{0,4096})(?:"|$)')


def _known_name(token: str) -> str:
    """A directive name nginx knows (or a word such as "on"), else `…`: an unknown token may be a value
    (`default SECRET }`)."""
    return token if token in DIRECTIVES or len(token) <= 3 else "…"


def _without_input(message: str | None) -> str:
    """crossplane's message with each quoted piece that is not a known directive replaced: its messages
    quote arguments (`invalid value "x" in "ssl_stapling" directive`)."""
    return _QUOTED_RE.sub(lambda m: f'"{_known_name(m.group("inner"))}"', message or "error")
