"""The typed model of an Apache httpd configuration, with httpd's merge rules applied.

Built by auditor/parsers/apache.py from the section tree (includes spliced in, conditional sections
resolved). What an audit reads, and how httpd merges it:

- the main server's directives (outside every section) are the defaults of every virtual host: a
  single-valued directive (SSLProtocol, SSLUseStapling, ServerSignature ...) that a `<VirtualHost>`
  does not set is the main server's, wherever in the configuration that one appears;
- `Header` directives (mod_headers) and `Redirect*` (mod_alias) of the main server and of the
  virtual host both apply, the main server's first; `RewriteRule`s apply only where `RewriteEngine on`
  is set in the same virtual host (mod_rewrite does not inherit without `RewriteOptions Inherit`);
- `Header` directives inside `<Location>`, `<Directory>` and `<Files>` apply to part of the site only
  and are not counted as the site's headers;
- proxy mappings are read from every level: `ProxyPass PATH URL`, `ProxyPassMatch REGEX URL`, the one-
  argument forms inside `<Location>` / `<LocationMatch>`, and `RewriteRule ... [P]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.parsers.base import Location

# mod_ssl's protocol names (case-sensitive, as httpd compares them) and what `all` stands for. OpenSSL
# as Debian (and every current distribution) builds it has no SSLv3, so `all` is TLS 1.0 to 1.3.
PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_ALL = frozenset({"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"})
_HEADER_SETTERS = frozenset({"set", "append", "merge", "add", "setifempty"})
_REDIRECTS = frozenset({"redirect", "redirectmatch", "redirectpermanent", "redirecttemp"})
_REDIRECT_STATUS = frozenset({"permanent", "temp", "seeother", "gone"})
_LOCATIONS = frozenset({"location", "locationmatch"})


@dataclass(slots=True)
class Node:
    """One directive (children None) or section of a file, as the reader builds the tree."""

    name: str
    args: list[str]
    path: str
    line: int
    children: list[Node] | None = None


@dataclass(frozen=True, slots=True)
class ApacheDirective:
    name: str  # as written; `key` is the case-insensitive name
    args: list[str]
    location: Location

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def text(self) -> str:
        return " ".join([self.name, *self.args])


@dataclass(frozen=True, slots=True)
class ApacheSection:
    """`<Location>`, `<Directory>`, `<Files>`, `<Proxy>`, `<If>` ... with what they hold."""

    name: str
    args: list[str]
    directives: list[ApacheDirective]
    sections: list[ApacheSection]
    location: Location

    @property
    def key(self) -> str:
        return self.name.lower()

    def unseen_includes(self, found: ApacheDirective | None = None) -> list[ApacheDirective]:
        """Includes in this section of files not in the evidence: they may add to it (a ProxyPass in a
        <Location>). Those of the enclosing virtual host or server are its own unseen_includes()."""
        return [d for d in self.directives if d.key in _INCLUDE_KEYS and d.args]

    @property
    def path(self) -> str:
        """The URL path or pattern of a `<Location>` (`<Location ~ "re">`: the pattern)."""
        args = self.args[1:] if self.args[:1] == ["~"] else self.args
        return args[0] if args else ""


@dataclass(frozen=True, slots=True)
class ApacheHeader:
    """A response `Header` directive, split into its parts."""

    always: bool  # the `always` table (also error responses) rather than `onsuccess`
    action: str  # set, append, merge, add, setifempty, unset, edit, echo, note (lower case)
    name: str
    value: str | None
    directive: ApacheDirective

    @property
    def location(self) -> Location:
        return self.directive.location


@dataclass(frozen=True, slots=True)
class ApacheRedirect:
    source: str  # URL path, regex or "" (inside a <Location>)
    target: str
    directive: ApacheDirective


@dataclass(frozen=True, slots=True)
class ApacheProxy:
    path: str  # URL path or regex that is forwarded
    target: str
    directive: ApacheDirective

    @property
    def location(self) -> Location:
        return self.directive.location


# An Include/IncludeOptional left in the tree names no collected file (the reader splices the others).
_INCLUDE_KEYS = ("include", "includeoptional")


def _unseen_after(directives: list[ApacheDirective], found: ApacheDirective | None) -> list[ApacheDirective]:
    """The unseen includes of `directives` that come after `found` (all of them when `found` is None or
    not among them): httpd takes a single-valued directive's last occurrence."""
    start = next((i + 1 for i, d in enumerate(directives) if d is found), 0)
    return [d for d in directives[start:] if d.key in _INCLUDE_KEYS and d.args]


def _last(directives: list[ApacheDirective], key: str) -> ApacheDirective | None:
    for d in reversed(directives):
        if d.key == key:
            return d
    return None


@dataclass(frozen=True, slots=True)
class ApacheVirtualHost:
    addresses: list[str]  # `<VirtualHost *:443 [::]:443>` arguments
    directives: list[ApacheDirective]  # its own
    sections: list[ApacheSection]
    server: list[ApacheDirective] = field(repr=False)  # the main server's, which it inherits
    location: Location

    def directive(self, name: str) -> ApacheDirective | None:
        """The effective single-valued directive: the virtual host's last, else the main server's."""
        key = name.lower()
        return _last(self.directives, key) or _last(self.server, key)

    def own(self, name: str) -> list[ApacheDirective]:
        key = name.lower()
        return [d for d in self.directives if d.key == key]

    def unseen_includes(self, found: ApacheDirective | None = None) -> list[ApacheDirective]:
        """Includes of files not in the evidence that may set the directive `found` (None: unset) or
        override it: after it in this virtual host; for a main-server directive, anywhere in the
        virtual host or after it in the main server."""
        if any(d is found for d in self.directives):
            return _unseen_after(self.directives, found)
        return _unseen_after(self.directives, None) + _unseen_after(self.server, found)

    def inherited(self, name: str) -> list[ApacheDirective]:
        """Directives that add up (Header, Redirect): the main server's, then the virtual host's."""
        key = name.lower()
        return [d for d in (*self.server, *self.directives) if d.key == key]

    @property
    def server_names(self) -> list[str]:
        names = [_host_of(d.args[0]) for d in self.own("ServerName") if d.args]
        return names + [a.lower() for d in self.own("ServerAlias") for a in d.args]

    @property
    def ports(self) -> list[int | None]:
        """The port of each address (None: `*` or an address without a port, i.e. every Listen port)."""
        return [_port_of(a) for a in self.addresses]

    @property
    def tls(self) -> bool:
        engine = self.directive("SSLEngine")
        return engine is not None and [a.lower() for a in engine.args[:1]] == ["on"]

    def headers(self) -> list[ApacheHeader]:
        return [h for d in self.inherited("Header") if (h := _header(d)) is not None]

    def response_headers(self) -> dict[str, ApacheHeader]:
        """The headers the site sends, by lower-case name: mod_headers runs the `onsuccess` and `always`
        tables separately, each in order (an `unset` removes only what its own table set); the
        `always` setting is returned where both tables set a header."""
        tables: dict[tuple[bool, str], ApacheHeader] = {}
        for h in self.headers():
            key = (h.always, h.name.lower())
            if h.action in _HEADER_SETTERS:
                tables[key] = h
            elif h.action == "unset":
                tables.pop(key, None)
        out: dict[str, ApacheHeader] = {}
        for (_, name), h in sorted(tables.items(), key=lambda kv: kv[0][0]):
            out[name] = h  # the always table, sorted last, wins
        return out

    def redirects(self) -> list[ApacheRedirect]:
        """mod_alias redirects (the main server's, the virtual host's, its <Location>s') and the
        virtual host's RewriteRules that redirect (R flag, or an absolute URL without P)."""
        found: list[ApacheRedirect] = []
        for d in (*self.server, *self.directives):
            if d.key in _REDIRECTS:
                found.extend(_redirect(d, None))
        for section in _walk(self.sections):
            if section.key in _LOCATIONS:
                for d in section.directives:
                    if d.key in _REDIRECTS:
                        found.extend(_redirect(d, section.path))
        engine = _last(self.directives, "rewriteengine")
        if engine is not None and [a.lower() for a in engine.args[:1]] == ["on"]:
            for d in self.own("RewriteRule"):
                flags = _rewrite_flags(d)
                if len(d.args) >= 2 and "p" not in flags and (
                    "r" in flags or d.args[1].lower().startswith(("http://", "https://"))
                ):
                    found.append(ApacheRedirect(d.args[0], d.args[1], d))
        return found


@dataclass(frozen=True, slots=True)
class ApacheInclude:
    pattern: str
    resolved: str
    location: Location
    matched: list[str]
    optional: bool


@dataclass(frozen=True, slots=True)
class ApacheConfig:
    entry: str
    server_directives: list[ApacheDirective]
    server_sections: list[ApacheSection]  # <Directory>, <Location> ... of the main server
    virtual_hosts: list[ApacheVirtualHost]
    files: list[str] = field(default_factory=list)
    includes: list[ApacheInclude] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    site_only: bool = False  # the entry was a site file, not apache2.conf

    def server_directive(self, name: str) -> ApacheDirective | None:
        return _last(self.server_directives, name.lower())

    def unseen_includes(self, found: ApacheDirective | None = None) -> list[ApacheDirective]:
        """Includes of files not in the evidence that may set the main-server directive `found` (None:
        unset) or override it: after it in the main server."""
        return _unseen_after(self.server_directives, found)

    @property
    def unresolved_includes(self) -> list[ApacheInclude]:
        return [i for i in self.includes if not i.matched]

    def proxies(self) -> list[ApacheProxy]:
        """Every proxy mapping of the main server and of each virtual host."""
        found = _proxies(self.server_directives, None) + _section_proxies(self.server_sections)
        for vhost in self.virtual_hosts:
            found += _proxies(vhost.directives, None) + _section_proxies(vhost.sections)
        return found


def ssl_protocols(args: list[str]) -> tuple[frozenset[str], bool]:
    """The protocols `SSLProtocol ARGS` enables, as mod_ssl computes them, and whether a bare name
    replaced names before it (`SSLProtocol TLSv1.2 TLSv1.3` is TLS 1.3 alone: httpd warns "Check if a
    +/- prefix is missing"). Raises ValueError with the word httpd would refuse."""
    enabled: frozenset[str] = frozenset()
    replaced = False
    for word in args:
        action, name = (word[0], word[1:]) if word[:1] in ("+", "-") else ("", word)
        if name == "SSLv2":
            if action == "-":
                continue
            raise ValueError(word)
        if name == "all":
            these = _ALL
        elif name in PROTOCOLS:
            these = frozenset({name})
        else:
            raise ValueError(word)
        if action == "-":
            enabled -= these
        elif action == "+":
            enabled |= these
        else:
            replaced = replaced or bool(enabled)
            enabled = these
    return enabled, replaced


def build_config(entry: str, nodes: list[Node], files: list[str], includes: list[ApacheInclude],
                 warnings: list[str], site_only: bool) -> ApacheConfig:  # fmt: skip
    server = [_directive(n) for n in nodes if n.children is None]
    sections = [_section(n) for n in nodes if n.children is not None and n.name.lower() != "virtualhost"]
    vhosts = [_vhost(n, server) for n in nodes if n.children is not None and n.name.lower() == "virtualhost"]
    return ApacheConfig(entry, server, sections, vhosts, files, includes, warnings, site_only)


def _directive(node: Node) -> ApacheDirective:
    return ApacheDirective(node.name, node.args, Location(node.path, node.line))


def _section(node: Node) -> ApacheSection:
    children = node.children or []
    return ApacheSection(
        node.name,
        node.args,
        [_directive(c) for c in children if c.children is None],
        [_section(c) for c in children if c.children is not None],  # depth bounded by the reader
        Location(node.path, node.line),
    )


def _vhost(node: Node, server: list[ApacheDirective]) -> ApacheVirtualHost:
    section = _section(node)
    return ApacheVirtualHost(node.args, section.directives, section.sections, server, section.location)


def _walk(sections: list[ApacheSection]) -> list[ApacheSection]:
    out: list[ApacheSection] = []
    stack = list(reversed(sections))
    while stack:
        section = stack.pop()
        out.append(section)
        stack.extend(reversed(section.sections))
    return out


def _host_of(server_name: str) -> str:
    """`ServerName [scheme://]host[:port]` → host, lower case."""
    name = server_name.split("://", 1)[-1]
    if name.startswith("["):
        return name[1 : name.find("]")].lower() if "]" in name else name.lower()
    return name.rsplit(":", 1)[0].lower() if name.count(":") == 1 else name.lower()


def _port_of(address: str) -> int | None:
    head, sep, port = address.rpartition(":")
    if not sep or head.endswith(":") or not port.isdigit():  # "*", "[::1]" or a bare IPv6 address
        return None
    return int(port) if len(port) <= 5 else None


def _header(d: ApacheDirective) -> ApacheHeader | None:
    args = d.args
    always = bool(args) and args[0].lower() == "always"
    if args and args[0].lower() in ("always", "onsuccess"):
        args = args[1:]
    if len(args) < 2:
        return None
    return ApacheHeader(always, args[0].lower(), args[1], args[2] if len(args) > 2 else None, d)


def _redirect(d: ApacheDirective, section_path: str | None) -> list[ApacheRedirect]:
    args = d.args
    if d.key in ("redirect", "redirectmatch") and args and (args[0].lower() in _REDIRECT_STATUS or args[0].isdigit()):
        args = args[1:]
    if not args:
        return []
    if len(args) == 1:  # inside a <Location>: the target only
        return [ApacheRedirect(section_path or "", args[0], d)]
    return [ApacheRedirect(args[0], args[1], d)]


def _rewrite_flags(d: ApacheDirective) -> set[str]:
    if len(d.args) < 3 or not d.args[2].startswith("["):
        return set()
    flags = {f.strip().lower() for f in d.args[2].strip("[]").split(",")}
    return {("p" if f == "proxy" else "r" if f.startswith(("r=", "redirect")) else f) for f in flags}


def _proxies(directives: list[ApacheDirective], section: ApacheSection | None) -> list[ApacheProxy]:
    found: list[ApacheProxy] = []
    for d in directives:
        if d.key in ("proxypass", "proxypassmatch"):
            if section is not None and section.key in _LOCATIONS and d.args:
                path, target = section.path, d.args[0]
            elif len(d.args) >= 2:
                path, target = d.args[0], d.args[1]
            else:
                continue
            if target != "!":
                found.append(ApacheProxy(path, target, d))
        elif d.key == "rewriterule" and len(d.args) >= 2 and "p" in _rewrite_flags(d):
            found.append(ApacheProxy(d.args[0], d.args[1], d))
    return found


def _section_proxies(sections: list[ApacheSection]) -> list[ApacheProxy]:
    return [p for s in _walk(sections) for p in _proxies(s.directives, s)]
