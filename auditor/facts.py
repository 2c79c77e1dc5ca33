"""The normalized deployment facts: a flat, documented contract derived from the parsed evidence.

Each fact is a value or None (the evidence does not tell), with the places it was read from and,
when None, the reason. The JSON report publishes the values under these exact keys.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from auditor import apache_front
from auditor.advisories.versions import web_build as package_web_build
from auditor.deployment import Deployment, ParsedFile
from auditor.discovery import Role
from auditor.model import Evidence
from auditor.parsers.apache import ApacheVirtualHost
from auditor.parsers.base import Location
from auditor.parsers.javascript import STUB_HOST
from auditor.parsers.nginx import NginxServer
from auditor.secret_settings import secret_settings

FACT_KEYS: tuple[str, ...] = (
    "auth.main",
    "auth.guest_domain",
    "auth.secure_domain",
    "lobby.enabled",
    "rooms.breakout",
    "moderation.av",
    "e2ee.available",
    "p2p.enabled",
    "privacy.third_party_stun",
    "privacy.third_party_requests",
    "xmpp.c2s_require_encryption",
    "web.tls_protocols",
    "web.weak_tls",
    "web.hsts",
    "jvb.rest_public",
    "web.welcome_page",
    "recording.enabled",
    "xmpp.rate_limit",
    "secrets.weak_or_default",
    "secrets.weak",
)

ANONYMOUS_AUTH = {"anonymous", "jitsi-anonymous"}
_PROSODY_ROLES = (Role.PROSODY_MAIN, Role.PROSODY_INCLUDE)
_AUTH_NAMES = {
    "anonymous": "anonymous",
    "jitsi-anonymous": "anonymous",
    "internal_hashed": "internal_hashed",
    "internal_plain": "internal_plain",
    "ldap": "ldap",
    "ldap2": "ldap",
    "cyrus": "cyrus",
    "token": "jwt",
    "hybrid_matrix_token": "jwt",
}
# STUN/TURN hosts operated by third parties that Jitsi configs ship with.
_KNOWN_THIRD_PARTY_HOSTS = re.compile(
    r"(?:^|\.)(?:jitsi\.net|jitsi\.org|8x8\.vc|google\.com|l\.google\.com|twilio\.com)$"
)
WEAK_PROTOCOLS = {"SSLv2", "SSLv3", "TLSv1", "TLSv1.1"}
NGINX_PACKAGES = ("nginx", "nginx-full", "nginx-extras", "nginx-light", "nginx-core", "openresty")
_WEAK_CIPHER_RE = re.compile(r"RC4|3DES|DES-CBC3|DES-CBC-|EXP|NULL|MD5|ADH|AECDH|anon|IDEA|SEED|PSK", re.I)
_WEAK_CIPHER_TOKENS = {
    "ALL",
    "LOW",
    "MEDIUM",
    "EXPORT",
    "COMPLEMENTOFALL",
    "COMPLEMENTOFDEFAULT",
    "eNULL",
    "aNULL",
}


@dataclass(slots=True)
class Fact:
    value: Any
    evidence: list[Evidence] = field(default_factory=list)
    note: str | None = None  # why it is None, or how it was derived (a default, docker variable ...)


@dataclass(slots=True)
class Facts:
    items: dict[str, Fact]

    def value(self, key: str) -> Any:
        return self.items[key].value

    def __getitem__(self, key: str) -> Fact:
        return self.items[key]

    def as_dict(self) -> dict[str, Any]:
        return {k: self.items[k].value for k in FACT_KEYS}


def ev(path: str, line: int | None = None, excerpt: str | None = None) -> Evidence:
    return Evidence(Location(path, line), excerpt)


def truthy(value: Any) -> bool | None:
    """Lua/HOCON/env booleans as written: true, "true", 1, yes ... (None when it is not a boolean)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        low = value.strip().strip("\"'").lower()
        if low in ("1", "true", "yes", "on", "y"):
            return True
        if low in ("0", "false", "no", "off", "n", ""):
            return False
    return None


_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})  # Go's strconv.ParseBool
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


# ----------------------------------------------------------------------------------------------
# Deployment views the facts share
# ----------------------------------------------------------------------------------------------


class View:
    """Read helpers over one deployment: main domain, prosody options, config.js, docker env."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self.prosody = dep.prosody
        self.cfg = dep.config_js
        self.env = dep.docker_env
        self.main_host = self._main_host()

    # evidence that could not be used -------------------------------------------------------------
    def incomplete(self, *roles: Role) -> str | None:
        """Why files of these roles (active ones) could not be read or parsed; None when all were."""
        for role in roles:
            for p in self.dep.of(role):
                if p.error:
                    return p.error
        if Role.PROSODY_MAIN in roles and self.dep.prosody_error:
            return self.dep.prosody_error
        if Role.PROSODY_MAIN in roles and self.prosody is not None and not self.prosody.complete:
            return "part of the prosody configuration named by an Include could not be read or parsed"
        return None

    def apache_front(self) -> Evidence | None:
        """The dpkg line of apache2 when Apache, not nginx, is the web front (jitsi-meet-web-config also
        supports Apache) but no Apache configuration was collected: the web facts say so instead of "no
        nginx configuration"."""
        packages = self.dep.packages
        if "apache2" not in packages or self.dep.nginx is not None or any(p in packages for p in NGINX_PACKAGES):
            return None
        if self.dep.apache is not None:
            return None
        return self.package_ev("apache2")

    def package_ev(self, name: str) -> Evidence | None:
        """The dpkg-query line of an installed package, None when it is not listed."""
        version = self.dep.packages.get(name)
        if version is None:
            return None
        item = self.dep.snapshot.command("dpkg-query")
        text = item.text() if item is not None and item.ok else ""
        line = next((n for n, row in enumerate(text.splitlines(), 1) if row.startswith(name + "\t")), None)
        return Evidence(Location("cmd:dpkg-query", line), f"{name} {version}"[:120])

    def unreadable_paths(self) -> list[str]:
        """Discovered configuration files whose content was not collected (permission, size)."""
        skip = (Role.CERTIFICATE, Role.PRIVATE_KEY, Role.PROSODY_ACCOUNT)  # keys and accounts: metadata only
        return [f.path for f in self.dep.files if f.active and f.role not in skip and not f.item.ok]

    # prosody ---------------------------------------------------------------------------------
    def hosts(self) -> list[str]:
        return list(self.prosody.hosts) if self.prosody else []

    def components(self) -> dict[str, str | None]:
        return dict(self.prosody.components) if self.prosody else {}

    def p_get(self, host: str | None, key: str) -> tuple[Any, Evidence] | None:
        if self.prosody is None:
            return None
        got = self.prosody.get(host, key)
        if got is None:
            return None
        value, loc = got
        return value, Evidence(loc, f"{key} = {_short(value)}")

    def module_enabled(self, host: str | None, module: str) -> bool:
        return bool(self.prosody and self.prosody.module_enabled(host, module))

    def _main_host(self) -> str | None:
        hosts = [h for h in self.hosts() if h != "localhost"]
        if not hosts:
            return None
        domain = self.js("hosts.domain")
        if isinstance(domain, str) and domain in hosts:
            return domain
        comps = self.components()
        for h in hosts:
            if f"conference.{h}" in comps or f"focus.{h}" in comps:
                return h
        prefixes = ("auth.", "guest.", "recorder.", "focus.", "jigasi.", "visitors.", "hidden.")
        plain = [h for h in hosts if not h.startswith(prefixes)]
        return plain[0] if plain else hosts[0]

    def auth_of(self, host: str | None) -> tuple[str | None, Evidence | None]:
        got = self.p_get(host, "authentication")
        if got is None:
            return None, None
        value, evidence = got
        return (str(value) if value is not None else None), evidence

    # config.js -------------------------------------------------------------------------------
    def _js_lookup(self, dotted: str) -> tuple[bool, Any]:
        """(found, value) of a dotted config.js key; a key set to null is found with value None."""
        if self.cfg is None or self.cfg.value is None:
            return False, None
        node: Any = self.cfg.value.values
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return False, None
            node = node[part]
        return True, node

    def js(self, dotted: str) -> Any:
        return self._js_lookup(dotted)[1]

    def js_has(self, dotted: str) -> bool:
        return self._js_lookup(dotted)[0]

    def js_ev(self, dotted: str) -> Evidence:
        assert self.cfg is not None
        line = self.cfg.value.line_of(dotted) if self.cfg.value is not None else None
        excerpt = f"{dotted}: {_short(self.js(dotted))}" if self.js_has(dotted) else f"{dotted} not set"
        return ev(self.cfg.path, line, excerpt)

    @property
    def cfg_ok(self) -> bool:
        return self.cfg is not None and self.cfg.value is not None

    # docker .env -----------------------------------------------------------------------------
    @property
    def env_ok(self) -> bool:
        return self.env is not None and self.env.value is not None

    def env_get(self, name: str, default: str | None = None) -> tuple[str | None, Evidence | None]:
        if not self.env_ok:
            return default, None
        assert self.env is not None and self.env.value is not None
        entry = self.env.value.get(name)
        if entry is None or entry.value is None:
            return default, Evidence(Location(self.env.path), f"{name} not set (image default {default!r})")
        return entry.value, Evidence(Location(self.env.path, entry.line), f"{name}={_short(entry.value)}")

    def docker_auth_type(self, default: str | None = "internal") -> tuple[str | None, Evidence | None]:
        """Prosody's authentication in docker-jitsi-meet: PROSODY_AUTH_TYPE, which the image's template
        prefers, else AUTH_TYPE (both as written; `default` when neither is set)."""
        prosody_kind, where = self.env_get("PROSODY_AUTH_TYPE")
        if prosody_kind:
            return prosody_kind, where
        return self.env_get("AUTH_TYPE", default)

    def env_flag(self, name: str, default: bool) -> tuple[bool, Evidence | None]:
        """A docker-jitsi-meet boolean as its images read it: `{{ .Env.NAME | default "D" | toBool }}`.
        An empty value takes the default (sprout's `default` treats "" as unset); jitsi/tpl's toBool drops
        quotes, decides Go's strconv.ParseBool spellings (1 t T TRUE true True / 0 f F FALSE false False)
        and counts any other non-empty string as true (since tpl 2024-05): `ENABLE_P2P=no` turns P2P on."""
        raw, evidence = self.env_get(name, "1" if default else "0")
        value = (raw or "").replace('"', "").replace("'", "")
        if value == "":
            return default, evidence
        if value in _GO_TRUE:
            return True, evidence
        return value not in _GO_FALSE, evidence

    # HOCON -----------------------------------------------------------------------------------
    @staticmethod
    def hocon(pf: ParsedFile[Any] | None, key: str) -> tuple[Any, Evidence] | None:
        if pf is None or pf.value is None:
            return None
        value = pf.value.get(key)
        if value is None:
            return None
        path, line = pf.value.where(key)  # the included file's path and line when the value came from one
        return value, ev(path, line, f"{key} = {_short(value)}")

    def own_domain(self) -> str | None:
        if self.main_host:
            return self.main_host
        domain = self.js("hosts.domain")
        if isinstance(domain, str):
            return domain
        return self._public_url_host()

    def public_domain(self) -> str | None:
        """The name browsers use (TLS SNI, HTTP Host, what the web certificate must cover). On a Debian
        host the main XMPP domain; on docker-jitsi-meet, whose XMPP domain (meet.jitsi) is internal,
        PUBLIC_URL, else the host of config.js's BOSH or websocket URL (which docker writes from it)."""
        public = self._public_url_host()
        if public:
            return public
        own = self.own_domain()
        docker = self.env_ok or self.dep.snapshot.transport in ("docker", "kubectl")
        if own and not docker:
            return own
        for key in ("bosh", "websocket"):
            host = url_host(self.js(key))
            if host and host != STUB_HOST:
                return host
        return own

    def _public_url_host(self) -> str | None:
        if not self.env_ok:
            return None
        public, _ = self.env_get("PUBLIC_URL")
        if not public:
            return None
        return url_host(public if "//" in public else "//" + public)

    def own_domains(self) -> list[str]:
        """Every name the deployment answers to. Docker's XMPP domain (meet.jitsi) is internal, so the
        public host of config.js's BOSH/websocket URLs and PUBLIC_URL count as well."""
        names: list[str] = []
        candidates: list[Any] = [self.main_host, self.js("hosts.domain")]
        candidates += [url_host(self.js(key)) for key in ("bosh", "websocket")]
        candidates.append(self._public_url_host())
        for name in candidates:
            if isinstance(name, str) and name and name.lower() not in names:
                names.append(name.lower())
        return names


def url_host(url: Any) -> str | None:
    """The host of an absolute (or scheme-relative) URL from the configuration; None for anything else,
    including what urlsplit rejects (`//[x`: an unclosed IPv6 literal)."""
    if not isinstance(url, str) or "//" not in url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value) if not isinstance(value, str) else value
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_third_party_host(host: str, own_domain: str | Iterable[str] | None) -> bool:
    host = host.strip().strip("[]").lower().rstrip(".")
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return False  # an address literal cannot be attributed; operators usually run their own
    except ValueError:
        pass
    if _KNOWN_THIRD_PARTY_HOSTS.search(host):
        return True
    owns = [own_domain] if isinstance(own_domain, str) else [d for d in own_domain or () if d]
    if owns:
        return not any(_within(host, own.lower()) for own in owns)
    return False


def third_party_doubt(v: View, hosts: Iterable[str]) -> str | None:
    """Why calling `hosts` third parties' is unfounded, or None: none of them is a known third party's,
    and a file naming the deployment's own domains (prosody, config.js, the docker .env) could not be used,
    so they may be the deployment's own."""
    hosts = [h for h in hosts if h]
    if not hosts or any(_KNOWN_THIRD_PARTY_HOSTS.search(h.strip().strip("[]").lower()) for h in hosts):
        return None
    gap = v.incomplete(Role.CONFIG_JS, Role.DOCKER_ENV, *_PROSODY_ROLES)
    return f"cannot tell whether {', '.join(hosts)} belong to the deployment: {gap}" if gap else None


def _within(host: str, own: str) -> bool:
    parent = own.split(".", 1)[1] if own.count(".") >= 2 else own
    return host in (own, parent) or host.endswith(("." + own, "." + parent))


def stun_host(url: str) -> str:
    """Host of `stun:host:port`, `turns:host:port?transport=tcp`, `host:port` or `https://host`."""
    url = url.strip()
    url = re.sub(r"^(?:stuns?|turns?):", "", url, flags=re.I)
    if "//" in url:
        return url_host(url) or ""
    url = url.split("?", 1)[0]
    if url.startswith("["):
        return url[1 : url.find("]")] if "]" in url else url
    return url.rsplit(":", 1)[0] if url.count(":") == 1 else url


# ----------------------------------------------------------------------------------------------
# One function per fact
# ----------------------------------------------------------------------------------------------


def fact_auth_main(v: View) -> Fact:
    if v.prosody is not None and v.main_host is not None:
        raw, evidence = v.auth_of(v.main_host)
        evs = [evidence] if evidence else []
        if raw is None:
            return Fact(
                "internal_hashed", evs, "authentication not set; prosody's default internal_hashed applies"
            )
        name = _AUTH_NAMES.get(raw, "other")
        if name == "jwt":
            app_id = v.p_get(v.main_host, "app_id")
            allow_empty = v.p_get(v.main_host, "allow_empty_token")
            empty_ok = allow_empty is not None and truthy(allow_empty[0]) is True
            if empty_ok and (app_id is None or not app_id[0]):
                evs += [got[1] for got in (app_id, allow_empty) if got is not None]
                return Fact("anonymous", evs, "token auth with no app_id and allow_empty_token = true")
        return Fact(name, evs)
    if v.env_ok:
        enabled, e1 = v.env_flag("ENABLE_AUTH", False)
        if not enabled:
            return Fact("anonymous", [e for e in (e1,) if e], "docker ENABLE_AUTH off: jitsi-anonymous")
        auth_type, e2 = v.docker_auth_type()
        evs = [e for e in (e1, e2) if e]
        kind = (auth_type or "internal").lower()
        if kind == "jwt":
            env_app_id, e3 = v.env_get("JWT_APP_ID", "")
            env_allow_empty, e4 = v.env_flag("JWT_ALLOW_EMPTY", False)
            if env_allow_empty and not env_app_id:
                return Fact(
                    "anonymous", evs + [e for e in (e3, e4) if e], "JWT with empty app id and empty tokens"
                )
            return Fact("jwt", evs)
        return Fact({"internal": "internal_hashed", "ldap": "ldap"}.get(kind, "other"), evs)
    return Fact(None, [], _why_missing(v, "prosody configuration"))


# Stock files the web servers' own configurations include, which set no TLS or header directive.
_STOCK_INCLUDE = re.compile(
    r"(?:^|/)(?:mime\.types|fastcgi_params|fastcgi\.conf|proxy_params|uwsgi_params|scgi_params|koi-utf|koi-win"
    r"|win-utf|envvars|magic)$"
)


class IncludeScope(Protocol):
    def unseen_includes(self, found: Any = None, /) -> Sequence[Any]: ...


def unseen_include(scope: IncludeScope, found: Any = None) -> str | None:
    """Why a setting may differ from what the web front's configuration shows: a file included by name
    (a glob that matched nothing names an empty directory) that is not in the evidence and may set the
    directive `found` (None: unset) or override it. `scope` is an nginx server block, an Apache virtual
    host or an Apache configuration (its main server): each knows which of its includes can (their
    `unseen_includes`). None when nothing hides."""
    for d in scope.unseen_includes(found):
        pattern = d.args[0]
        if any(c in pattern for c in "*?[") or _STOCK_INCLUDE.search(pattern):
            continue
        return f"{pattern} (included at {d.location}) is not in the evidence and may set it"
    return None


def unseen_location_include(server: Any) -> str | None:
    """Why an nginx server block may have more locations, or more in them, than the evidence shows: a
    file included by name in the block, at the http level or in one of its locations, not in the
    evidence (unseen_include's reason). None when nothing hides."""
    return unseen_include(server) or next((why for loc in server.locations if (why := unseen_include(loc))), None)


def unseen_apache_include(conf: Any) -> str | None:
    """Why an Apache configuration may proxy or redirect more than the evidence shows: a file included by
    name in the main server, a virtual host or one of their sections (<Location> ...), not in the
    evidence (unseen_include's reason). None when nothing hides."""
    scopes: list[Any] = [conf, *conf.virtual_hosts]
    sections = [*conf.server_sections, *(s for v in conf.virtual_hosts for s in v.sections)]
    while sections:
        section = sections.pop(0)
        scopes.append(section)
        sections.extend(section.sections)
    return next((why for scope in scopes if (why := unseen_include(scope))), None)


APACHE_NOTE = ("the web front is Apache, but no Apache configuration (/etc/apache2) is in the evidence (the live "
               "probes judge its TLS and headers from outside)")


def _web_front_missing(v: View) -> str:
    """Why no TLS server of the web front is there: Apache is the front without its configuration, the
    Apache configuration is unusable or has no HTTPS virtual host, or the usual reasons."""
    if v.apache_front() is not None:
        return APACHE_NOTE
    apache = apache_front.apache_file(v.dep)
    if apache is not None:
        if apache.value is None:
            return f"no usable Apache configuration: {apache.error or apache.path + ' unreadable'}"
        return apache_front.NO_TLS_VHOST
    return _why_missing(v, "nginx TLS server block")


def no_jitsi_host(v: View) -> str | None:
    """Why a prosody configuration that was read serves nothing besides localhost (a stock
    prosody.cfg.lua), naming a collected file that defines a VirtualHost but is not loaded (a main
    configuration without `Include "conf.d/*.cfg.lua"`, as upstream's prosody.cfg.lua.dist); None when
    there is a Jitsi host or no prosody configuration."""
    if v.prosody is None or v.main_host is not None:
        return None
    loaded = set(v.prosody.files)
    for pf in v.dep.of(Role.PROSODY_INCLUDE, active_only=False):
        sections = getattr(pf.value, "sections", None) or []
        hosts = [s.name for s in sections if s.kind == "VirtualHost" and s.name and s.name != "localhost"]
        if pf.path not in loaded and hosts:
            main = v.prosody.main_path or "the main configuration"
            return (f"the prosody configuration has no VirtualHost besides localhost: {pf.path} defines "
                    f"VirtualHost {hosts[0]!r}, but {main} does not include it")
    return ("the prosody configuration has no VirtualHost besides localhost (not a Jitsi prosody, or the Jitsi "
            "host file is not in the evidence)")


# Words of a `what` ("config.js or jicofo configuration") -> the roles of the files it is read from.
_WHAT_ROLES: tuple[tuple[str, frozenset[Role]], ...] = (
    ("prosody", frozenset(_PROSODY_ROLES)),
    ("config.js", frozenset({Role.CONFIG_JS})),
    ("jicofo", frozenset({Role.JICOFO_CONF, Role.JICOFO_PROPERTIES, Role.JICOFO_ENV})),
    ("videobridge", frozenset({Role.JVB_CONF, Role.JVB_PROPERTIES, Role.JVB_ENV})),
    # the web front's checks say "nginx" and read Apache where Apache is the front
    ("nginx", frozenset({Role.NGINX_MAIN, Role.NGINX_SITE, Role.NGINX_SNIPPET, Role.APACHE_MAIN, Role.APACHE_SITE,
                         Role.APACHE_SNIPPET})),
    ("certificate", frozenset({Role.CERTIFICATE, Role.NGINX_MAIN, Role.NGINX_SITE, Role.APACHE_MAIN,
                               Role.APACHE_SITE})),
)


def read_errors(dep: Deployment, what: str) -> tuple[str | None, str | None]:
    """(the first error of a file `what` is read from, the first error of another file). A docker .env
    counts for every component (their settings come from it); a `what` naming no known kind of file
    takes every error as its own."""
    roles = frozenset().union(*(r for word, r in _WHAT_ROLES if word in what))
    own: list[str] = []
    other: list[str] = []
    for p in dep.errors():
        if p.error:
            (own if not roles or p.role in roles or p.role == Role.DOCKER_ENV else other).append(p.error)
    if dep.prosody_error and (not roles or "prosody" in what):
        own.insert(0, dep.prosody_error)
    return (own[0] if own else None), (other[0] if other else None)


def missing_reason(v: View, what: str) -> tuple[str, str | None]:
    """Why `what` is not usable: (reason, the error behind it when a file of `what` failed)."""
    own, other = read_errors(v.dep, what)
    if own:
        return f"no usable {what}", own
    if "prosody" in what and (why := no_jitsi_host(v)):
        return why, None
    return f"no {what} in the evidence" + (f" (not read either: {other})" if other else ""), None


def _why_missing(v: View, what: str) -> str:
    reason, error = missing_reason(v, what)
    return f"{reason}: {error}" if error else reason


def fact_guest_domain(v: View, main: str | None) -> Fact:
    evs: list[Evidence] = []
    found = False
    anon_domain = v.js("hosts.anonymousdomain")
    if isinstance(anon_domain, str) and anon_domain:
        found = True
        evs.append(v.js_ev("hosts.anonymousdomain"))
    if v.prosody is not None:
        for host in v.hosts():
            if host in (v.main_host, "localhost"):
                continue
            raw, evidence = v.auth_of(host)
            if raw in ANONYMOUS_AUTH and not host.startswith(("auth.", "recorder.", "focus.")):
                found = True
                if evidence:
                    evs.append(evidence)
        if main in ("anonymous",):
            return Fact(False, evs, "the main domain itself is anonymous")
        why = v.incomplete(*_PROSODY_ROLES, Role.CONFIG_JS)
        if not found and why:
            return Fact(None, evs, f"no guest domain seen, but {why}")
        return Fact(found, evs)
    if v.env_ok:
        guests, e = v.env_flag("ENABLE_GUESTS", False)
        return Fact(guests, [x for x in (e,) if x])
    if v.cfg_ok:
        return Fact(found, evs)
    return Fact(None, [], _why_missing(v, "prosody or config.js"))


def fact_secure_domain(v: View, main: str | None) -> Fact:
    if main is None:
        return Fact(None, [], "main authentication unknown")
    if main == "anonymous":
        return Fact(False, [], "the main domain is anonymous: anyone can create rooms")
    if main == "jwt":
        optional = optional_token(v)
        if optional:
            return Fact(False, optional, OPTIONAL_TOKEN)
        return Fact(True, [], "token authentication: rooms need a valid token")
    jicofo = _jicofo_auth(v)
    if jicofo is not None:
        enabled, evs = jicofo
        return Fact(enabled, evs)
    if v.env_ok:
        return Fact(True, [], "docker ENABLE_AUTH on: jicofo authentication is rendered by the image")
    return Fact(None, [], "jicofo authentication setting not in the evidence")


OPTIONAL_TOKEN = ("tokens are optional (allow_empty_token = true) and nothing makes clients without one wait for a "
                  "host (no muc_wait_for_host)")


def optional_token(v: View) -> list[Evidence]:
    """Evidence that the token-authenticated main domain also admits clients without a token while nothing
    makes them wait for a host; empty otherwise. With allow_empty_token = true, token_util's
    process_and_verify_token and verify_room return true for a session that brought no token, whatever
    app_id says, so such a client logs in, creates rooms on the conference MUC (token_verification lets
    it) and becomes their moderator (jicofo's JWT authority counts every login on the domain).
    mod_muc_wait_for_host (handbook: token authentication + allow_empty_token + muc_wait_for_host) holds
    them in the lobby until a token holder arrives."""
    if v.prosody is not None and v.main_host is not None:
        allow = v.p_get(v.main_host, "allow_empty_token")
        if allow is None or truthy(allow[0]) is not True:
            return []
        if any(v.module_enabled(name, "muc_wait_for_host") for name in v.components()):
            return []
        return [allow[1]]
    if v.env_ok:
        allow_empty, where = v.env_flag("JWT_ALLOW_EMPTY", False)
        modules, _ = v.env_get("XMPP_MUC_MODULES", "")
        if not allow_empty or "muc_wait_for_host" in (modules or ""):
            return []
        return [e for e in (where,) if e]
    return []


def _jicofo_auth(v: View) -> tuple[bool, list[Evidence]] | None:
    got = v.hocon(v.dep.jicofo, "jicofo.authentication.enabled")
    if got is not None:
        return truthy(got[0]) is True, [got[1]]
    props = v.dep.first(Role.JICOFO_PROPERTIES)
    if props is not None and props.value is not None:
        entry = props.value.get("org.jitsi.jicofo.auth.URL")
        if entry is not None:
            return True, [ev(props.path, entry.line, "org.jitsi.jicofo.auth.URL set")]
    if v.dep.jicofo is not None and v.dep.jicofo.value is not None:
        return False, [ev(v.dep.jicofo.path, None, "jicofo.authentication not set (disabled)")]
    return None


def _component_of_type(v: View, types: Iterable[str]) -> str | None:
    wanted = set(types)
    for name, ctype in v.components().items():
        if ctype in wanted:
            return name
    return None


def _component_evidence(v: View, name: str) -> Evidence:
    assert v.prosody is not None
    loc = v.prosody.component_location(name)
    return Evidence(loc, f'Component "{name}"')


def _feature_fact(
    v: View, module: str, option: str, comp_types: tuple[str, ...], env_var: str, env_default: bool
) -> Fact:
    if v.prosody is not None and v.main_host is not None:
        loaded = v.module_enabled(v.main_host, module)
        target = v.p_get(v.main_host, option)
        comp_name = str(target[0]) if target else None
        comps = v.components()
        present = comp_name is not None and comp_name in comps
        evs = [target[1]] if target else []
        if present and comp_name:
            evs.append(_component_evidence(v, comp_name))
        if loaded and present:
            return Fact(True, evs)
        why = f"module {module} {'loaded' if loaded else 'not loaded'} on {v.main_host}"
        if not present:
            why += f"; {option} component {'missing' if comp_name else 'not configured'}"
        return Fact(False, evs, why)
    if v.env_ok:
        flag, e = v.env_flag(env_var, env_default)
        return Fact(flag, [x for x in (e,) if x], f"docker {env_var}")
    return Fact(None, [], _why_missing(v, "prosody configuration"))


def fact_lobby(v: View) -> Fact:
    return _feature_fact(v, "muc_lobby_rooms", "lobby_muc", ("muc",), "ENABLE_LOBBY", True)


def fact_breakout(v: View) -> Fact:
    return _feature_fact(
        v, "muc_breakout_rooms", "breakout_rooms_muc", ("muc",), "ENABLE_BREAKOUT_ROOMS", True
    )


def fact_av_moderation(v: View) -> Fact:
    if v.prosody is not None and v.main_host is not None:
        comp = _component_of_type(v, ("av_moderation_component",))
        if comp:
            return Fact(True, [_component_evidence(v, comp)])
        return Fact(False, [], "no av_moderation_component configured")
    if v.env_ok:
        flag, e = v.env_flag("ENABLE_AV_MODERATION", True)
        return Fact(flag, [x for x in (e,) if x])
    return Fact(None, [], _why_missing(v, "prosody configuration"))


# First jitsi-meet-web build that offers E2EE in the UI (stable 5076, 2020-09; see jitsi-settings Appendix A).
_E2EE_FIRST_WEB_BUILD = 4428


def fact_e2ee(v: View) -> Fact:
    if v.cfg_ok:
        disabled = v.js("e2ee.disabled")
        if disabled is True:
            return Fact(False, [v.js_ev("e2ee.disabled")])
        if v.js_has("e2ee") or v.js_has("e2eping") or v.js_has("e2eeLabels"):
            return Fact(True, [v.js_ev("e2ee" if v.js_has("e2ee") else "e2eping")], "e2ee not disabled")
        build = web_build(v)
        if build is not None:
            available = build >= _E2EE_FIRST_WEB_BUILD
            return Fact(available, [], f"config.js silent; jitsi-meet-web build {build} default")
        later = _later_than_e2ee(v)
        if later is not None:
            return Fact(True, [v.js_ev("e2ee"), later], "config.js silent; the install postdates E2EE (2020-09)")
        return Fact(None, [v.js_ev("e2ee")], "config.js does not mention e2ee and the version is unknown")
    if v.env_ok:
        return Fact(True, [], "docker-jitsi-meet has no E2EE switch; current images offer it")
    return Fact(None, [], _why_missing(v, "config.js"))


# Template features that appeared after E2EE reached the client (2020-09): a deployment configured with
# one of them runs packages of that era or later (jitsi-settings §6).
_LATER_COMPONENT_TYPES = {
    "client_proxy",  # 2021-01
    "av_moderation_component",  # 2021-05
    "end_conference",
    "room_metadata_component",
    "polls_component",
    "filesharing_component",
}


def _later_than_e2ee(v: View) -> Evidence | None:
    for name, ctype in v.components().items():
        if ctype in _LATER_COMPONENT_TYPES:
            return _component_evidence(v, name)
    for host in v.hosts():
        raw, evidence = v.auth_of(host)
        if raw == "jitsi-anonymous" and evidence is not None:  # 2022-07
            return evidence
    proxy = v.hocon(v.dep.jicofo, "jicofo.xmpp.client.client-proxy")  # jicofo.conf of 2021-01 or later
    return proxy[1] if proxy else None


def web_build(v: View) -> int | None:
    """N of the installed jitsi-meet-web 1.0.N (the web client's build), None when not known."""
    version = v.dep.packages.get("jitsi-meet-web")
    return package_web_build(version) if version else None


def fact_p2p(v: View) -> Fact:
    if v.cfg_ok:
        enabled = v.js("p2p.enabled")
        if isinstance(enabled, bool):
            return Fact(enabled, [v.js_ev("p2p.enabled")])
        return Fact(True, [v.js_ev("p2p.enabled")], "p2p.enabled not set: Jitsi's default is true")
    if v.env_ok:
        flag, e = v.env_flag("ENABLE_P2P", True)
        return Fact(flag, [x for x in (e,) if x])
    return Fact(None, [], _why_missing(v, "config.js"))


def fact_third_party_stun(v: View, p2p: bool | None) -> Fact:
    own = v.own_domains()
    flagged: list[str] = []  # the hosts judged third parties', for third_party_doubt

    def third_party(host: str) -> bool:
        if is_third_party_host(host, own):
            flagged.append(host)
            return True
        return False

    evs: list[Evidence] = []
    seen_any_source = False
    third = False
    if v.cfg_ok:
        seen_any_source = True
        servers = v.js("p2p.stunServers")
        if isinstance(servers, list):
            for entry in servers:
                urls = entry.get("urls") if isinstance(entry, dict) else entry
                for url in urls if isinstance(urls, list) else [urls]:
                    if isinstance(url, str) and third_party(stun_host(url)):
                        third = True
                        evs.append(v.js_ev("p2p.stunServers"))
        elif p2p is not False:
            third = True
            flagged.append("meet-jit-si-turnrelay.jitsi.net")  # lib-jitsi-meet's default
            evs.append(v.js_ev("p2p.stunServers"))
    if v.prosody is not None:
        seen_any_source = True
        for host in [None, *v.hosts()]:
            got = v.p_get(host, "external_services")
            if got and isinstance(got[0], list):
                for svc in got[0]:
                    h = svc.get("host") if isinstance(svc, dict) else None
                    if isinstance(h, str) and third_party(h):
                        third = True
                        evs.append(got[1])
    jvb = v.hocon(v.dep.jvb, "ice4j.harvest.mapping.stun.addresses")
    if v.dep.jvb is not None and v.dep.jvb.value is not None:
        seen_any_source = True
    if jvb and isinstance(jvb[0], list):
        for addr in jvb[0]:
            if isinstance(addr, str) and third_party(stun_host(addr)):
                third = True
                evs.append(jvb[1])
    props = v.dep.first(Role.JVB_PROPERTIES)
    if props is not None and props.value is not None:
        seen_any_source = True
        entry = props.value.get("org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES")
        if entry is not None:
            for addr in entry.value.split(","):
                if third_party(stun_host(addr)):
                    third = True
                    evs.append(ev(props.path, entry.line, "STUN_MAPPING_HARVESTER_ADDRESSES"))
    if v.env_ok and not v.cfg_ok:
        seen_any_source = True
        disabled, e1 = v.env_flag("JVB_DISABLE_STUN", False)
        servers_raw, e2 = v.env_get("JVB_STUN_SERVERS", "meet-jit-si-turnrelay.jitsi.net:443")
        if not disabled and any(
            third_party(stun_host(s)) for s in (servers_raw or "").split(",")
        ):
            third = True
            evs += [e for e in (e1, e2) if e]
        p2p_servers, e3 = v.env_get("P2P_STUN_SERVERS", None)
        p2p_on, _ = v.env_flag("ENABLE_P2P", True)
        if p2p_on and (
            not p2p_servers or any(third_party(stun_host(s)) for s in p2p_servers.split(","))
        ):
            third = True
            flagged += [] if p2p_servers else ["meet-jit-si-turnrelay.jitsi.net"]  # lib-jitsi-meet's default
            evs += [e for e in (e3,) if e]
    if not seen_any_source:
        return Fact(None, [], _why_missing(v, "config.js, prosody or videobridge configuration"))
    why = v.incomplete(Role.CONFIG_JS, *_PROSODY_ROLES, Role.JVB_CONF, Role.JVB_PROPERTIES)
    if not third and why:
        return Fact(None, _dedupe(evs), f"no third-party server seen, but {why}")
    if third and (doubt := third_party_doubt(v, flagged)):
        return Fact(None, _dedupe(evs), doubt)
    return Fact(third, _dedupe(evs))


def _dedupe(evs: list[Evidence]) -> list[Evidence]:
    seen: set[tuple[str, int | None]] = set()
    out = []
    for e in evs:
        key = (e.location.path, e.location.line)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


_ANALYTICS_KEYS = (
    "callStatsID",
    "callStatsSecret",
    "googleAnalyticsTrackingId",
    "analytics.amplitudeAPPKey",
    "analytics.googleAnalyticsTrackingId",
    "analytics.matomoEndpoint",
    "analytics.scriptURLs",
    "analytics.rtcstatsEnabled",
    "analytics.rtcstatsEndpoint",
    "analytics.watchRTCEnabled",
    "enableJaaS",
    "dropbox.appKey",
)


def fact_third_party_requests(v: View) -> Fact:
    if v.cfg_ok:
        evs: list[Evidence] = []
        used = [k for k in _ANALYTICS_KEYS if v.js(k) not in (None, "", False, [], {})]
        evs += [v.js_ev(k) for k in used]
        disabled = v.js("disableThirdPartyRequests") is True
        evs.append(v.js_ev("disableThirdPartyRequests"))
        if disabled and not used:
            return Fact(False, evs)
        note = "third-party services configured" if used else "disableThirdPartyRequests is not true"
        return Fact(True, evs, note)
    if v.env_ok:
        return Fact(True, [], "docker config.js does not set disableThirdPartyRequests")
    return Fact(None, [], _why_missing(v, "config.js"))


def prosody_version(v: View) -> tuple[int, int] | None:
    """Prosody's major.minor: from `prosodyctl about`, else the prosody package's version."""
    about = v.dep.snapshot.command("prosodyctl-about")
    text = about.text() if about is not None and about.ok else ""
    m = re.search(r"Prosody\s+(\d+)\.(\d+)", text)
    if not m:
        pkg = v.dep.packages.get("prosody")
        m = re.match(r"(?:\d+:)?(\d+)\.(\d+)", pkg) if pkg else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def fact_c2s_encryption(v: View) -> Fact:
    if v.prosody is not None and v.main_host is not None:
        got = v.p_get(v.main_host, "c2s_require_encryption")
        if got is not None:
            flag = truthy(got[0])
            return Fact(flag, [got[1]])
        version = prosody_version(v)
        if version is None:
            return Fact(
                None, [], "c2s_require_encryption not set and the prosody version (its default) is unknown"
            )
        default = version >= (0, 12)
        return Fact(default, [], f"not set; prosody {version[0]}.{version[1]} defaults to {default}")
    if v.env_ok:
        flag, e = v.env_flag("PROSODY_C2S_REQUIRE_ENCRYPTION", True)
        return Fact(flag, [x for x in (e,) if x])
    return Fact(None, [], _why_missing(v, "prosody configuration"))


def _tls_server(v: View) -> NginxServer | None:
    """The nginx server block that terminates HTTPS for the domain, if any (the checks' own choice)."""
    nginx = v.dep.nginx
    return nginx.value.tls_server(v.own_domain()) if nginx is not None and nginx.value is not None else None


def _apache_vhost(v: View) -> ApacheVirtualHost | None:
    """The Apache virtual host that terminates HTTPS for the domain, when Apache is the web front."""
    conf = apache_front.apache_config(v.dep)
    return apache_front.tls_vhost(conf, v.own_domain()) if conf is not None else None


def _directive(server: Any, name: str) -> Any:
    """The effective directive of a server block (inheritance applied by the nginx parser)."""
    getter = getattr(server, "directive", None)
    if callable(getter):
        return getter(name)
    return None


def fact_tls_protocols(v: View) -> Fact:
    server = _tls_server(v)
    if server is not None:
        d = _directive(server, "ssl_protocols")
        hidden = unseen_include(server, d)
        where = [Evidence(d.location, "ssl_protocols " + " ".join(d.args))] if d is not None else []
        if hidden:
            seen = "set at the http level" if d else "not set in view"
            return Fact(None, where, f"ssl_protocols {seen}, but {hidden}")
        if d is not None:
            return Fact(list(d.args), where)
        return Fact(None, [], "ssl_protocols not set; nginx's built-in default depends on its version")
    vhost = _apache_vhost(v)
    if vhost is not None:
        got = apache_front.protocols(vhost)
        where = [Evidence(got.directive.location, got.excerpt)] if got.directive is not None else []
        hidden = unseen_include(vhost, got.directive)
        if hidden:
            seen = "set before it" if got.directive else "not set in view"
            return Fact(None, where, f"SSLProtocol {seen}, but {hidden}")
        return Fact(list(got.enabled) if got.enabled is not None else None, where, got.problem)
    if v.env_ok:
        disabled, e = v.env_flag("DISABLE_HTTPS", False)
        if disabled:
            return Fact([], [x for x in (e,) if x], "HTTPS disabled in the web container")
        return Fact(["TLSv1.2", "TLSv1.3"], [], "docker web image ssl.conf")
    return Fact(None, [], _web_front_missing(v))


def cipher_string_is_weak(ciphers: str) -> bool:
    tokens = [t for t in re.split(r"[:\s,]+", ciphers) if t]
    positive = [t for t in tokens if not t.startswith(("!", "-")) and not t.startswith("@")]
    if any(t.lstrip("+") in _WEAK_CIPHER_TOKENS for t in positive):
        return True
    if any(_WEAK_CIPHER_RE.search(t) for t in positive):
        return True
    if "@SECLEVEL=0" in ciphers:
        return True
    try:  # expand with the local OpenSSL's grammar: what the string means, not how it is spelled
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.set_ciphers(ciphers)
        return any(_WEAK_CIPHER_RE.search(c["name"]) for c in ctx.get_ciphers())
    except ssl.SSLError:
        return False


def fact_weak_tls(v: View, protocols: Fact) -> Fact:
    server = _tls_server(v)
    vhost = _apache_vhost(v) if server is None else None
    if protocols.value is None and server is None and vhost is None and not v.env_ok:
        return Fact(None, [], protocols.note)
    evs = list(protocols.evidence)
    weak = False
    if protocols.value:
        weak = any(p in WEAK_PROTOCOLS for p in protocols.value)
    if server is not None:
        d = _directive(server, "ssl_ciphers")
        if d is not None and d.args:
            evs.append(Evidence(d.location, "ssl_ciphers " + " ".join(d.args)))
            weak = weak or cipher_string_is_weak(" ".join(d.args).strip("\"'"))
    if vhost is not None:
        suite = apache_front.tls12_ciphers(vhost)
        if suite is not None and suite.args:
            evs.append(Evidence(suite.location, suite.text))
            weak = weak or cipher_string_is_weak(apache_front.cipher_string(suite))
    if protocols.value is None and not weak:
        return Fact(None, evs, protocols.note)
    return Fact(weak, evs)


def fact_hsts(v: View) -> Fact:
    server = _tls_server(v)
    if server is not None:
        headers = getattr(server, "add_headers", None)
        found = None
        for h in headers() if callable(headers) else []:
            if h.args and h.args[0].lower() == "strict-transport-security":
                found = h
        if found is not None:
            return Fact(True, [Evidence(found.location, "add_header " + " ".join(found.args))])
        hidden = unseen_include(server)
        if hidden:
            return Fact(None, [Evidence(server.location, "HTTPS server")], f"no HSTS header in view, but {hidden}")
        return Fact(
            False, [Evidence(server.location, "no Strict-Transport-Security header in the HTTPS server")]
        )
    vhost = _apache_vhost(v)
    if vhost is not None:
        header = vhost.response_headers().get("strict-transport-security")
        if header is not None:
            return Fact(True, [Evidence(header.location, header.directive.text)])
        hidden = unseen_include(vhost)
        if hidden:
            return Fact(None, [Evidence(vhost.location, "HTTPS virtual host")], f"no HSTS header in view, but {hidden}")
        return Fact(
            False, [Evidence(vhost.location, "no Strict-Transport-Security header in the HTTPS virtual host")]
        )
    if v.env_ok:
        flag, e = v.env_flag("ENABLE_HSTS", True)
        return Fact(flag, [x for x in (e,) if x])
    return Fact(None, [], _web_front_missing(v))


_LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost", "[::1]"}


def fact_jvb_rest_public(v: View) -> Fact:
    evs: list[Evidence] = []
    exposed_by_proxy = _nginx_exposes(v, ("/colibri/", "/colibri", "/about/"))
    if exposed_by_proxy:
        return Fact(True, exposed_by_proxy, "nginx proxies the videobridge REST API")
    exposed_by_apache = _apache_exposes(v, ("/colibri/", "/colibri", "/about/"))
    if exposed_by_apache:
        return Fact(True, exposed_by_apache, "Apache proxies the videobridge REST API")
    jvb = v.dep.jvb
    if jvb is not None and jvb.value is None:
        return Fact(None, [], f"cannot tell: {jvb.error or 'jvb.conf unreadable'}")
    if jvb is not None and jvb.value is not None:
        rest = v.hocon(jvb, "videobridge.apis.rest.enabled")
        host = v.hocon(jvb, "videobridge.http-servers.private.host")
        evs += [x[1] for x in (rest, host) if x]
        rest_on = rest is not None and truthy(rest[0]) is True
        legacy = _legacy_rest(v)
        if legacy:
            rest_on = True
            evs.append(legacy)
        if not rest_on:
            return Fact(False, evs, "COLIBRI REST API disabled")
        bind = str(host[0]) if host else "127.0.0.1"
        hidden = _web_front_hidden(v)
        if bind in _LOOPBACK_HOSTS and hidden:
            return Fact(None, evs, f"REST enabled on {bind}; cannot tell whether nginx proxies it: {hidden}")
        return Fact(bind not in _LOOPBACK_HOSTS, evs, f"REST enabled, private server bound to {bind}")
    legacy = _legacy_rest(v)
    if legacy:
        return Fact(
            True, [legacy], "legacy --apis=rest without a private-host setting listens on all interfaces"
        )
    env = v.dep.first(Role.JVB_ENV)
    if env is not None and env.value is not None:
        opts = env.value.get("JVB_OPTS")
        where = ev(
            env.path, opts.line if opts else None, f"JVB_OPTS={_short(opts.value) if opts else '(unset)'}"
        )
        return Fact(False, [where], "legacy videobridge without the REST API (--apis does not list rest)")
    if v.env_ok:
        _, e = v.env_flag("COLIBRI_REST_ENABLED", False)
        return Fact(
            False, [x for x in (e,) if x], "docker publishes the videobridge REST port on 127.0.0.1 only"
        )
    return Fact(None, [], _why_missing(v, "videobridge configuration"))


def _legacy_rest(v: View) -> Evidence | None:
    env = v.dep.first(Role.JVB_ENV)
    if env is None or env.value is None:
        return None
    opts = env.value.get("JVB_OPTS")
    if opts is not None and "rest" in str(opts.value):
        return ev(env.path, opts.line, f"JVB_OPTS={_short(opts.value)}")
    return None


def _web_front_hidden(v: View) -> str | None:
    """Why the web front may proxy more than the evidence shows: unseen_location_include() of the first
    nginx server block that has one, else unseen_apache_include()."""
    nginx = v.dep.nginx
    if nginx is not None and nginx.value is not None:
        why = next((why for server in nginx.value.servers if (why := unseen_location_include(server))), None)
        if why:
            return why
    conf = apache_front.apache_config(v.dep)
    return unseen_apache_include(conf) if conf is not None else None


def _nginx_exposes(v: View, prefixes: tuple[str, ...]) -> list[Evidence]:
    nginx = v.dep.nginx
    if nginx is None or nginx.value is None:
        return []
    out = []
    for server in nginx.value.servers:
        for loc in server.locations:
            path = loc.path
            if path.startswith("/colibri-ws") or not any(path.startswith(p) for p in prefixes):
                continue
            if any(d.name == "proxy_pass" for d in loc.directives):
                out.append(Evidence(loc.location, f"location {loc.modifier or ''} {path}".replace("  ", " ")))
    return out


def _apache_exposes(v: View, prefixes: tuple[str, ...]) -> list[Evidence]:
    conf = apache_front.apache_config(v.dep)
    if conf is None:
        return []
    out = []
    for proxy in conf.proxies():
        path = proxy.path.lstrip("^")
        if not path.startswith("/colibri-ws") and path.startswith(prefixes):
            out.append(Evidence(proxy.location, f"{proxy.directive.name} {proxy.path} {proxy.target}"[:120]))
    return out


def fact_welcome_page(v: View) -> Fact:
    if v.cfg_ok:
        if v.js_has("welcomePage.disabled"):
            return Fact(v.js("welcomePage.disabled") is not True, [v.js_ev("welcomePage.disabled")])
        if v.js_has("enableWelcomePage"):
            return Fact(v.js("enableWelcomePage") is not False, [v.js_ev("enableWelcomePage")])
        return Fact(True, [], "welcome page not disabled (default on)")
    if v.env_ok:
        flag, e = v.env_flag("ENABLE_WELCOME_PAGE", True)
        return Fact(flag, [x for x in (e,) if x])
    return Fact(None, [], _why_missing(v, "config.js"))


def fact_recording(v: View) -> Fact:
    evs: list[Evidence] = []
    for key in (
        "fileRecordingsEnabled",
        "liveStreamingEnabled",
        "recordingService.enabled",
        "liveStreaming.enabled",
    ):
        if v.js(key) is True:
            evs.append(v.js_ev(key))
    jibri = v.dep.first(Role.JIBRI_CONF)
    if jibri is not None:
        evs.append(ev(jibri.path, None, "jibri configuration present"))
    brewery = v.hocon(v.dep.jicofo, "jicofo.jibri.brewery-jid")
    if brewery and str(brewery[0]).strip():  # an empty JID configures no Jibri
        evs.append(brewery[1])
    # a jicofo from before jicofo.conf (2020): sip-communicator.properties names the Jibri brewery
    props = v.dep.first(Role.JICOFO_PROPERTIES)
    legacy = props.value.get("org.jitsi.jicofo.jibri.BREWERY") if props and props.value is not None else None
    if props is not None and legacy is not None and str(getattr(legacy, "value", "") or "").strip():
        evs.append(ev(props.path, legacy.line, "org.jitsi.jicofo.jibri.BREWERY set"))
    if evs:
        return Fact(True, evs)
    why = v.incomplete(Role.CONFIG_JS, Role.JICOFO_CONF, Role.JICOFO_PROPERTIES, Role.JIBRI_CONF)
    if why:
        return Fact(None, [], f"no recording seen, but {why}")
    if v.env_ok:
        flag, e = v.env_flag("ENABLE_RECORDING", False)
        return Fact(flag, [x for x in (e,) if x])
    if v.cfg_ok or v.dep.jicofo is not None or (props is not None and props.value is not None):
        return Fact(False, [], "no jibri, recording service or streaming enabled")
    return Fact(None, [], _why_missing(v, "config.js or jicofo configuration"))


_RATE_MODULES = ("muc_rate_limit", "rate_limit", "firewall", "limits")


def fact_rate_limit(v: View) -> Fact:
    evs: list[Evidence] = []
    if v.prosody is not None:
        limits = v.p_get(None, "limits")
        if limits and limits[0]:
            evs.append(limits[1])
        for host in [None, *v.hosts(), *v.components()]:
            for module in ("muc_rate_limit", "rate_limit", "firewall"):
                if v.module_enabled(host, module):
                    evs.append(
                        Evidence(Location(v.prosody.path_of(host)), f"module {module} on {host or 'global'}")
                    )
    nginx = v.dep.nginx
    if nginx is not None and nginx.value is not None:
        for server in nginx.value.servers:
            for loc in server.locations:
                if loc.path.startswith(("/http-bind", "/xmpp-websocket")):
                    for d in loc.directives:
                        if d.name == "limit_req":
                            evs.append(Evidence(d.location, "limit_req on " + loc.path))
    if evs:
        return Fact(True, _dedupe(evs))
    why = v.incomplete(*_PROSODY_ROLES, Role.NGINX_SITE) or _web_front_hidden(v)
    if v.prosody is not None and why:
        return Fact(None, [], f"no rate limit seen, but {why}")
    if v.prosody is not None:
        return Fact(False, [], "no prosody limits, rate-limit modules or nginx limit_req on XMPP paths")
    if v.env_ok:
        return Fact(True, [], "docker prosody image sets c2s/s2s limits")
    return Fact(None, [], _why_missing(v, "prosody configuration"))


def fact_secrets(v: View) -> tuple[Fact, Fact]:
    settings = secret_settings(v.dep)
    if not settings:
        return Fact(None, [], "no secret in the evidence"), Fact(None, [], "no secret in the evidence")
    weak = [s for s in settings if s.verdict.weak]
    note = None
    if v.dep.snapshot.configuration_tree():
        # In a repository `{{ vault_pw }}` or `${{ secrets.TOKEN }}` names where the deployment tool takes
        # the secret from: its strength is not in the tree (on a live host the same text is unrendered).
        refs = sorted({s.name for s in weak if s.verdict.secret_class == "reference"})
        weak = [s for s in weak if s.verdict.secret_class != "reference"]
        if refs:
            shown = ", ".join(refs[:5]) + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")
            note = f"{len(refs)} secret(s) are template expressions filled in at deploy time, not judged: {shown}"
    names = sorted({s.name for s in weak})
    unread = v.unreadable_paths()
    if not weak and unread:  # the unread file may hold the weak one
        note = f"no weak secret among those read, but {unread[0]} could not be read"
        return Fact(None, [], note), Fact(None, [], note)
    evs = [
        Evidence(s.location, f"{s.name}: {s.verdict.secret_class}, {s.verdict.length} characters")
        for s in weak
    ]
    return Fact(bool(weak), evs, note), Fact(names, evs, note)


# ----------------------------------------------------------------------------------------------


def derive_facts(dep: Deployment) -> Facts:
    v = View(dep)
    items: dict[str, Fact] = {}

    def put(key: str, fn: Callable[[], Fact]) -> Fact:
        try:
            items[key] = fn()
        except Exception as exc:  # a bug in one fact costs that fact, never the audit
            items[key] = Fact(None, [], f"could not be derived ({type(exc).__name__})")
        return items[key]

    main = put("auth.main", lambda: fact_auth_main(v)).value
    put("auth.guest_domain", lambda: fact_guest_domain(v, main))
    put("auth.secure_domain", lambda: fact_secure_domain(v, main))
    put("lobby.enabled", lambda: fact_lobby(v))
    put("rooms.breakout", lambda: fact_breakout(v))
    put("moderation.av", lambda: fact_av_moderation(v))
    put("e2ee.available", lambda: fact_e2ee(v))
    p2p = put("p2p.enabled", lambda: fact_p2p(v)).value
    put("privacy.third_party_stun", lambda: fact_third_party_stun(v, p2p))
    put("privacy.third_party_requests", lambda: fact_third_party_requests(v))
    put("xmpp.c2s_require_encryption", lambda: fact_c2s_encryption(v))
    protocols = put("web.tls_protocols", lambda: fact_tls_protocols(v))
    put("web.weak_tls", lambda: fact_weak_tls(v, protocols))
    put("web.hsts", lambda: fact_hsts(v))
    put("jvb.rest_public", lambda: fact_jvb_rest_public(v))
    put("web.welcome_page", lambda: fact_welcome_page(v))
    put("recording.enabled", lambda: fact_recording(v))
    put("xmpp.rate_limit", lambda: fact_rate_limit(v))
    try:
        weak_or_default, weak = fact_secrets(v)
    except Exception as exc:
        weak_or_default = weak = Fact(None, [], f"could not be derived ({type(exc).__name__})")
    items["secrets.weak_or_default"] = weak_or_default
    items["secrets.weak"] = weak
    return Facts(items)
