"""The parsed deployment: every discovered file parsed once, with parse failures kept as evidence.

Checks and facts read this object only; they never see a transport. A file that could not be read or
parsed is kept as a `ParsedFile` with its error, so whatever depends on it can say `unclear` and why.
"""

from __future__ import annotations

import posixpath
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

from auditor.discovery import DiscoveredFile, Role, discover
from auditor.hocon_includes import (
    DAEMON_FILE,
    HOCON_ROLES,
    OVERLAY_FILES,
    IncludeError,
    Resolver,
    include_targets,
    merged_doc,
)
from auditor.parsers.apache import ApacheConfig, parse_apache
from auditor.parsers.base import ConfigParseError, Location
from auditor.parsers.certificate import parse_certificates
from auditor.parsers.dotenv import EnvValue, parse_dotenv
from auditor.parsers.hocon import HoconDoc, parse_hocon
from auditor.parsers.javascript import JsConfig, parse_config_js
from auditor.parsers.nginx import NginxConfig, parse_nginx
from auditor.parsers.properties import parse_properties
from auditor.parsers.prosody import ProsodyConfig, parse_prosody
from auditor.parsers.prosody_effective import EffectiveProsody, build_effective
from auditor.parsers.simplekv import parse_colon_kv, parse_shell_env, parse_turnserver
from auditor.snapshot import ItemStatus, Snapshot

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ParsedFile(Generic[T]):
    role: Role
    path: str
    value: T | None
    error: str | None = None  # one line: unreadable, too large, or the parse error with its line
    error_line: int | None = None
    active: bool = True
    over_budget: bool = False  # readable, but left unparsed by the target's parse budget

    @property
    def ok(self) -> bool:
        return self.value is not None

    @property
    def location(self) -> Location:
        return Location(self.path, self.error_line)

    @property
    def unusable(self) -> str:
        """Why the file has no value: its error, else that it could not be read."""
        return self.error or f"{self.path}: unreadable"


@dataclass
class Deployment:
    snapshot: Snapshot
    files: list[DiscoveredFile]
    parsed: dict[Role, list[ParsedFile[Any]]] = field(default_factory=dict)
    prosody: EffectiveProsody | None = None
    prosody_error: str | None = None
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def derived(self, key: str, build: Callable[[Deployment], T]) -> T:
        """What `build` computes from this deployment, once per deployment however many checks ask (the
        advisory checks' version inventory): the deployment need not know what is derived from it."""
        if key not in self._derived:
            self._derived[key] = build(self)
        value: T = self._derived[key]
        return value

    # -- access helpers ------------------------------------------------------------------------
    def of(self, role: Role, *, active_only: bool = True) -> list[ParsedFile[Any]]:
        return [p for p in self.parsed.get(role, []) if p.active or not active_only]

    def first(self, role: Role) -> ParsedFile[Any] | None:
        files = self.of(role)
        return files[0] if files else None

    def present(self, role: Role) -> bool:
        return bool(self.of(role))

    def errors(self) -> list[ParsedFile[Any]]:
        return [p for files in self.parsed.values() for p in files if p.error is not None]

    def over_budget(self, *roles: Role) -> list[ParsedFile[Any]]:
        """Files of `roles` (any role when none is given) left unparsed by the parse budget, active or not:
        whatever they hold is unknown, so no check may pass on the assumption that they hold nothing."""
        wanted = roles or tuple(self.parsed)
        return [p for role in wanted for p in self.parsed.get(role, []) if p.over_budget]

    @property
    def jicofo(self) -> ParsedFile[HoconDoc] | None:
        return self.first(Role.JICOFO_CONF)

    @property
    def jvb(self) -> ParsedFile[HoconDoc] | None:
        return self.first(Role.JVB_CONF)

    @property
    def config_js(self) -> ParsedFile[JsConfig] | None:
        return self.first(Role.CONFIG_JS)

    @property
    def interface_config_js(self) -> ParsedFile[JsConfig] | None:
        return self.first(Role.INTERFACE_CONFIG_JS)

    @property
    def nginx(self) -> ParsedFile[NginxConfig] | None:
        return self.first(Role.NGINX_SITE)

    @property
    def apache(self) -> ParsedFile[ApacheConfig] | None:
        return self.first(Role.APACHE_SITE)

    @property
    def docker_env(self) -> ParsedFile[dict[str, EnvValue]] | None:
        return self.first(Role.DOCKER_ENV)

    @cached_property
    def packages(self) -> dict[str, str]:
        """Debian packages with files on the host and their versions, from `dpkg-query` output when
        collected. The status's second letter is the package's state (the first is what the admin
        wants): `ii` installed; unpacked or half-done (`iU`, `iF`, `iH` ...) count too, their files are
        there; not installed (`in`, `pn`) and configuration files only (`rc`) do not."""
        item = self.snapshot.command("dpkg-query")
        result: dict[str, str] = {}
        if item is None or not item.ok:
            return result
        for line in item.text().splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and parts[0] and parts[1] and (len(parts) < 3 or parts[2][1:2] not in ("n", "c", "")):
                result[parts[0]] = parts[1]
        return result


_ParseFn = Callable[[str, str], Any]

_SINGLE_FILE_PARSERS: dict[Role, _ParseFn] = {
    Role.PROSODY_MAIN: parse_prosody,
    Role.PROSODY_INCLUDE: parse_prosody,
    Role.JICOFO_CONF: parse_hocon,
    Role.JVB_CONF: parse_hocon,
    Role.JIBRI_CONF: parse_hocon,
    Role.JICOFO_PROPERTIES: parse_properties,
    Role.JVB_PROPERTIES: parse_properties,
    Role.JIGASI_PROPERTIES: parse_properties,
    Role.JICOFO_ENV: parse_shell_env,
    Role.JVB_ENV: parse_shell_env,
    Role.CONFIG_JS: lambda text, path: parse_config_js(text, path, "config"),
    Role.INTERFACE_CONFIG_JS: lambda text, path: parse_config_js(text, path, "interfaceConfig"),
    Role.TURNSERVER: parse_turnserver,
    Role.SASLAUTHD: parse_colon_kv,
    Role.DOCKER_ENV: parse_dotenv,
    Role.CERTIFICATE: parse_certificates,
}


def _unreadable_reason(f: DiscoveredFile) -> str:
    item = f.item
    if item.status is ItemStatus.PERMISSION_DENIED:
        return f"{item.key}: permission denied (run with --sudo or grant read access)"
    if item.status is ItemStatus.TOO_LARGE:
        return f"{item.key}: too large to audit ({item.size} bytes)"
    return f"{item.key}: {item.error or item.status.value}"


# Each parser stops at its own bound (1 to 5 s of CPU per file), but the target decides how many files
# there are: 100 files built to be slow to parse cost minutes, 5 000 small ones as many parses. So one
# target's single-file parses share a budget: a number of files per role and CPU time in all. Files
# past it are kept unparsed with the reason (their checks say unclear), never silently dropped.
MAX_FILES_PER_ROLE = 64
PARSE_CPU_BUDGET = 6.0  # CPU seconds of this thread (hosts are audited in parallel threads)


class ParseBudget:
    """One target's parse budget. The CPU seconds hold for every build_deployment given the same budget
    (the engine's safety net parses a target twice: the second build gets what the first left, not a
    second full budget); the per-role counts are those of one build (it parses the same files again)."""

    def __init__(self, per_role: int | None = None, seconds: float | None = None) -> None:
        self.per_role = MAX_FILES_PER_ROLE if per_role is None else per_role
        self.seconds = PARSE_CPU_BUDGET if seconds is None else seconds
        self.counts: dict[Role, int] = {}
        self.spent = 0.0  # CPU seconds of the builds that ended
        self._mark: float | None = None  # thread time when the running build started

    def start(self) -> None:
        self.counts = {}
        self._mark = time.thread_time()

    def stop(self) -> None:
        if self._mark is not None:
            self.spent += time.thread_time() - self._mark
            self._mark = None

    def used(self) -> float:
        return self.spent + (time.thread_time() - self._mark if self._mark is not None else 0.0)

    def refusal(self, f: DiscoveredFile) -> str | None:
        """Why `f` is not parsed, or None (and it is counted)."""
        if self.used() > self.seconds:
            spent = f"the target's parse budget ({self.seconds:g} s of CPU) was spent on other files"
            return f"{f.path}: not parsed: {spent}"
        count = self.counts.get(f.role, 0)
        if count >= self.per_role:
            return (f"{f.path}: not parsed: more than {self.per_role} files found as {f.role.value} "
                    "(the target's parse budget)")
        self.counts[f.role] = count + 1
        return None


def _parse_order(f: DiscoveredFile) -> tuple[bool, bool]:
    """Files known by their name and active first: junk sniffed by content cannot spend the budget
    before the deployment's own files (the sort is stable: path order otherwise)."""
    return f.why != "name", not f.active


def build_deployment(snapshot: Snapshot, budget: ParseBudget | None = None) -> Deployment:
    """The parsed deployment; `budget`: one shared with an earlier build of the same target (else a
    fresh one)."""
    budget = budget if budget is not None else ParseBudget()
    budget.start()
    try:
        return _build(snapshot, budget)
    finally:
        budget.stop()


def _build(snapshot: Snapshot, budget: ParseBudget) -> Deployment:
    files = discover(snapshot)
    dep = Deployment(snapshot=snapshot, files=files)
    results: dict[int, ParsedFile[Any]] = {}
    for i, f in sorted(enumerate(files), key=lambda pair: _parse_order(pair[1])):
        if f.role in (
            Role.NGINX_MAIN,
            Role.NGINX_SITE,
            Role.APACHE_MAIN,
            Role.APACHE_SITE,
            Role.PRIVATE_KEY,
            Role.PROSODY_ACCOUNT,
            Role.DOCKER_COMPOSE,
        ):
            continue  # parsed as a whole below, or judged from metadata only
        parser = _SINGLE_FILE_PARSERS.get(f.role)
        if parser is None:
            continue
        results[i] = _parse_budgeted(f, parser, budget)
    for i in sorted(results):  # in path order, as discovered: `first` of a role does not depend on the budget
        dep.parsed.setdefault(files[i].role, []).append(results[i])
    for f in files:  # before the HOCON files: which images the compose project runs decides which are stale
        if f.role is Role.DOCKER_COMPOSE:
            dep.parsed.setdefault(f.role, []).append(
                ParsedFile(f.role, f.path, f.item.text() if f.item.ok else None, None, None, f.active)
            )
    _resolve_hocon(dep, budget)
    _parse_nginx(dep, budget)
    _parse_apache(dep)
    _build_prosody(dep)
    for role in (Role.PRIVATE_KEY, Role.PROSODY_ACCOUNT):
        for f in files:
            if f.role is role:
                dep.parsed.setdefault(role, []).append(
                    ParsedFile(role, f.path, f.item.text() if f.item.ok else None, None, None, f.active)
                )
    return dep


def _parse_budgeted(f: DiscoveredFile, parser: _ParseFn, budget: ParseBudget) -> ParsedFile[Any]:
    refusal = budget.refusal(f) if f.item.ok else None
    if refusal is not None:
        return ParsedFile(f.role, f.path, None, refusal, None, f.active, over_budget=True)
    return _parse_one(f, parser)


def _parse_one(f: DiscoveredFile, parser: _ParseFn) -> ParsedFile[Any]:
    if not f.item.ok:
        return ParsedFile(f.role, f.path, None, _unreadable_reason(f), None, f.active)
    try:
        return ParsedFile(f.role, f.path, parser(f.item.text(), f.path), None, None, f.active)
    except ConfigParseError as exc:
        return ParsedFile(f.role, f.path, None, str(exc), exc.line, f.active)
    except Exception as exc:  # a parser bug must cost one file, never the audit
        return ParsedFile(f.role, f.path, None, f"{f.path}: parser failed ({type(exc).__name__})", None, f.active)


def _resolve_hocon(dep: Deployment, budget: ParseBudget) -> None:
    """jicofo.conf, jvb.conf and jibri.conf with their includes merged in (auditor.hocon_includes). The main
    file of a role comes first: the daemon's own file name, then any other file of the role that no HOCON
    file of the snapshot includes, in path order; included files stay, inactive (their secrets and
    errors still count). A main file whose includes cannot be known is kept unusable, with the reason."""
    hocon = {p.path: p for role in HOCON_ROLES for p in dep.parsed.get(role, [])}
    rootless = rootless_roles(dep) if hocon else set()
    included: set[str] = set()
    for role in HOCON_ROLES:
        for p in dep.parsed.get(role, []):
            if p.value is not None:
                included.update(t for t in include_targets(dep.snapshot, role, p.value) if t != p.path)
    extra: dict[str, ParsedFile[Any]] = {}  # files read only as includes

    def load(f: DiscoveredFile) -> HoconDoc | str:
        known = hocon.get(f.path) or extra.get(f.path)
        if known is None:  # read only as an include: parsed (through the budget) like the role's files
            known = extra[f.path] = _parse_budgeted(f, _SINGLE_FILE_PARSERS[f.role], budget)
        return known.value.own or known.value if known.value is not None else known.unusable

    for role in HOCON_ROLES:
        files = dep.parsed.get(role, [])
        if not files:
            continue
        name = DAEMON_FILE[role]
        overlays = {p.path for p in files if posixpath.basename(p.path) in OVERLAY_FILES[role]}
        # an older image's render in the CONFIG volume of a rootless image's daemon: not what it loads
        stale = {p.path for p in files if role in rootless and posixpath.basename(p.path) == name
                 and not p.path.startswith("/etc/")}
        if not any(p.active and p.path not in included | overlays | stale for p in files):
            included_here: set[str] = {p.path for p in files if posixpath.basename(p.path) != name} | stale
        else:
            included_here = included | overlays | stale
        ranked: list[tuple[int, ParsedFile[Any]]] = []
        for p in files:
            if p.path in included_here:
                ranked.append((2, _inactive(p)))
                continue
            if p.active and p.value is not None:
                p = _with_includes(dep, role, p, load)
            ranked.append((0 if p.active and posixpath.basename(p.path) == name else 1 if p.active else 2, p))
        dep.parsed[role] = [p for _, p in sorted(ranked, key=lambda pair: pair[0])]  # stable: path order kept
    for p in extra.values():
        if p.path not in hocon:
            dep.parsed.setdefault(p.role, []).append(p)


# docker-jitsi-meet images since stable-11146 (086d047f, rootless containers) render each service's
# configuration inside the container (/run/<service>/config): the CONFIG volume keeps the operator's inputs
# and whatever an older image rendered there.
ROOTLESS_SINCE = 11146
# the HOCON daemons' images: an older image's render of their file in CONFIG is not judged (the .env is)
HOCON_IMAGES = {Role.JICOFO_CONF: "jicofo", Role.JVB_CONF: "jvb", Role.JIBRI_CONF: "jibri"}


def rootless_images(dep: Deployment) -> frozenset[str]:
    """The docker-jitsi-meet images (`web`, `prosody`, `jicofo` ...) that the deployment's compose project
    runs only at a known stable-N of 11146 or later; none when read inside the containers."""
    return dep.derived("docker.rootless", _rootless_images)


def _rootless_images(dep: Deployment) -> frozenset[str]:
    if dep.snapshot.transport in ("docker", "kubectl"):
        return frozenset()
    from auditor.advisories.docker import image_releases  # it imports this module

    return frozenset(image for image, found in image_releases(dep).items()
                     if all(n is not None and n >= ROOTLESS_SINCE for n in found))


def rootless_roles(dep: Deployment) -> set[Role]:
    """The HOCON roles whose daemon runs from a rootless image of the deployment's compose project."""
    images = rootless_images(dep)
    return {role for role, image in HOCON_IMAGES.items() if image in images}


def _inactive(p: ParsedFile[Any]) -> ParsedFile[Any]:
    return ParsedFile(p.role, p.path, p.value, p.error, p.error_line, False, p.over_budget)


def _with_includes(
    dep: Deployment, role: Role, p: ParsedFile[Any], load: Callable[[DiscoveredFile], HoconDoc | str]
) -> ParsedFile[Any]:
    doc = p.value
    try:
        if not isinstance(doc, HoconDoc):
            raise TypeError(type(doc).__name__)
        return ParsedFile(p.role, p.path, merged_doc(Resolver(dep.snapshot, role, doc, load)), None, None, p.active)
    except IncludeError as exc:
        error = ConfigParseError(p.path, exc.message, exc.line)
        return ParsedFile(p.role, p.path, None, str(error), exc.line, p.active)
    except Exception as exc:  # a bug must cost this configuration, never the audit
        return ParsedFile(p.role, p.path, None, f"{p.path}: includes not resolved ({type(exc).__name__})", None,
                          p.active)


_DOCKER_WEB_RE = re.compile(r"^(.*/web)/nginx/")
_CONTAINER_INCLUDE_RE = re.compile(r"""^([ \t]*include[ \t]+["']?)/config/""", re.MULTILINE)  # not \s: newlines


def _host_paths(path: str, text: str) -> str:
    """docker-jitsi-meet's web container reads its CONFIG volume as /config: point the `include`s of a
    volume's nginx files at the volume as collected. Only include arguments change, so lines stay put."""
    m = _DOCKER_WEB_RE.match(path)
    if m is None:
        return text
    return _CONTAINER_INCLUDE_RE.sub(lambda inc: inc.group(1) + m.group(1) + "/", text)


def host_path(config_path: str, path: str) -> str:
    """`path` as named in the nginx file `config_path`, on the host: in a docker-jitsi-meet CONFIG
    volume's web/nginx files, /config/... is the volume's web/ directory (ssl_certificate
    /config/keys/cert.crt is CONFIG/web/keys/cert.crt); elsewhere `path` itself."""
    m = _DOCKER_WEB_RE.match(config_path)
    if m is None or not path.startswith("/config/"):
        return path
    return m.group(1) + path[len("/config") :]


def _parse_nginx(dep: Deployment, budget: ParseBudget) -> None:
    texts = {
        f.path: _host_paths(f.path, f.item.text())
        for f in dep.files
        if f.role in (Role.NGINX_MAIN, Role.NGINX_SITE, Role.NGINX_SNIPPET) and f.item.ok
    }
    mains = [f for f in dep.files if f.role is Role.NGINX_MAIN]
    sites = [f for f in dep.files if f.role is Role.NGINX_SITE]
    entries = [f for f in mains if f.item.ok] or [f for f in sites if f.active]
    for f in [*mains, *sites]:
        if not f.item.ok:
            dep.parsed.setdefault(Role.NGINX_SITE, []).append(
                ParsedFile(Role.NGINX_SITE, f.path, None, _unreadable_reason(f), None, f.active)
            )
    if not entries:
        return
    if mains and mains[0].item.ok:
        dep.parsed.setdefault(Role.NGINX_SITE, []).append(
            _parse_one(mains[0], lambda _text, path: parse_nginx(texts, path))
        )
        return
    # Without nginx.conf each active file is read on its own and the web checks judge the first one: put
    # the file serving HTTPS first, not one that merely sorts before it, such as Debian's `default` site
    # (port 80 only) or jitsi-meet-turnserver's stream-only modules-enabled/60-jitsi-meet.conf.
    parsed = [_parse_budgeted(f, lambda _text, path: parse_nginx(texts, path), budget) for f in entries]
    dep.parsed.setdefault(Role.NGINX_SITE, []).extend(sorted(parsed, key=_nginx_entry_rank))


def _nginx_entry_rank(pf: ParsedFile[NginxConfig]) -> int:
    """0 for a file that failed to parse (whatever depends on it stays unclear), then a file with a
    server block terminating TLS, then one with any server block, then the rest (sort is stable)."""
    conf = pf.value
    if conf is None:
        return 0
    if conf.tls_server(None) is not None:
        return 1
    return 2 if conf.servers else 3


_APACHE_VHOST = re.compile(r"^[ \t]*<VirtualHost[ \t>]", re.MULTILINE | re.IGNORECASE)


def _parse_apache(dep: Deployment) -> None:
    """apache2.conf with what it includes when it was collected; else the enabled files that hold a
    virtual host, read together as apache2.conf would include them (conf-enabled and mods-enabled files
    only count through apache2.conf's includes)."""
    files = [f for f in dep.files if f.role in (Role.APACHE_MAIN, Role.APACHE_SITE)]
    snippets = [f for f in dep.files if f.role is Role.APACHE_SNIPPET and f.item.ok]  # include targets only
    texts = {f.path: f.item.text() for f in [*files, *snippets] if f.item.ok}
    for f in files:
        if not f.item.ok:
            dep.parsed.setdefault(Role.APACHE_SITE, []).append(
                ParsedFile(Role.APACHE_SITE, f.path, None, _unreadable_reason(f), None, f.active)
            )
    main = next((f for f in files if f.role is Role.APACHE_MAIN), None)
    if main is not None and main.item.ok:
        entries = [main]
    else:
        sites = [f for f in files if f.role is Role.APACHE_SITE and f.active and f.item.ok]
        entries = [f for f in sites if _APACHE_VHOST.search(texts[f.path])] or sites
    if entries:
        paths = [f.path for f in entries]
        parsed = _parse_one(entries[0], lambda _text, _path: parse_apache(texts, paths))
        dep.parsed.setdefault(Role.APACHE_SITE, []).append(parsed)


def _build_prosody(dep: Deployment) -> None:
    mains = [p for p in dep.of(Role.PROSODY_MAIN) if p.ok]
    includes = [p for p in dep.of(Role.PROSODY_INCLUDE, active_only=False) if p.ok]
    configs: dict[str, ProsodyConfig] = {p.path: p.value for p in [*mains, *includes] if p.value is not None}
    # Files that exist but did not parse: an Include that matches them leaves the view incomplete.
    unparsed = [
        p.path for p in [*dep.of(Role.PROSODY_MAIN), *dep.of(Role.PROSODY_INCLUDE, active_only=False)] if not p.ok
    ]
    if not configs:
        return
    try:
        if mains:
            dep.prosody = build_effective(configs, mains[0].path, unparsed=unparsed)
        else:
            active = [p.path for p in includes if p.active]
            if not active and any(not p.ok for p in [*dep.of(Role.PROSODY_MAIN), *dep.of(Role.PROSODY_INCLUDE)]):
                return  # the files in force are unusable: the disabled ones are not the configuration
            active = active or [p.path for p in includes]
            dep.prosody = build_effective({p: configs[p] for p in active}, None, unparsed=unparsed)
    except ConfigParseError as exc:
        dep.prosody_error = str(exc)
