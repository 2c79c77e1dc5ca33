"""Host roles: which Jitsi components a target runs, and which checks need which component.

A fleet has hosts that run only some components (a videobridge host has no prosody). A check that
needs a component the host does not run is `not_applicable` with the reason, instead of `unclear`
or `fail` for a missing file. Roles come from the inventory (`role: jvb`) or are detected from what
the target has installed (dpkg packages) and the configuration files collected from it.

Detection is applied to live collections (ssh, local, docker, kubectl, ansible) and to snapshots
saved from them. A directory audit (`--root`) is often a partial config repository, so it is only
restricted when a role is given explicitly. When nothing at all is detected the host keeps every
check (no evidence of a role is not evidence of its absence), and so does an all-in-one install
(web, prosody, jicofo and jvb): only hosts running part of a deployment are restricted.

Requirements are declared in one place, `REQUIRES` below (a check id or an id prefix ending in
"."), or by the check itself with `requires=(...)` in its metadata. Several roles mean "any of":
the check applies when the host runs at least one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.discovery import Role
from auditor.snapshot import HOST_COPY_LAYOUT

if TYPE_CHECKING:  # the inventory needs the role names before any host is contacted, not the parsers
    from auditor.deployment import Deployment

WEB, PROSODY, JICOFO, JVB, JIBRI, COTURN, JIGASI = "web", "prosody", "jicofo", "jvb", "jibri", "coturn", "jigasi"
ROLES: tuple[str, ...] = (WEB, PROSODY, JICOFO, JVB, JIBRI, COTURN, JIGASI)
CORE: tuple[str, ...] = (WEB, PROSODY, JICOFO, JVB)  # what docker-jitsi-meet and `jitsi-meet` bring
ALIASES: dict[str, tuple[str, ...]] = {
    "all": CORE,
    "all-in-one": CORE,
    "meet": CORE,
    "shard": (WEB, PROSODY, JICOFO),
    "signaling": (WEB, PROSODY, JICOFO),
    "videobridge": (JVB,),
    "jitsi-videobridge": (JVB,),
    "turn": (COTURN,),
    "nginx": (WEB,),
    "apache": (WEB,),
    "apache2": (WEB,),
    "xmpp": (PROSODY,),
    "recorder": (JIBRI,),
}
LIVE_TRANSPORTS = frozenset({"ssh", "local", "docker", "kubectl", "ansible"})

# Check id (or prefix ending in ".") -> the roles it needs (any of). Unlisted checks apply everywhere.
REQUIRES: dict[str, tuple[str, ...]] = {
    "web.": (WEB,),
    "cert.": (WEB,),
    "rooms.welcome_page_open": (WEB,),
    "rooms.meeting_password_policy": (WEB,),  # config.js roomPasswordNumberOfDigits (docker: ROOM_PASSWORD_DIGITS)
    "privacy.e2ee_available": (WEB,),
    "privacy.third_party_requests": (WEB,),
    "privacy.third_party_stun": (WEB, JVB),
    "sso.token_auth_url": (WEB,),
    "live.https_redirect": (WEB,),
    "live.hsts": (WEB,),
    "live.security_headers": (WEB,),
    "live.server_version": (WEB,),
    "live.config_js_secrets": (WEB,),
    "live.config_js_matches": (WEB,),
    "live.internal_endpoints": (WEB,),
    "live.xmpp_endpoints": (WEB,),
    "live.tls_mozilla_intermediate": (WEB,),
    "live.tls_ocsp_stapling": (WEB,),
    "live.tls_": (WEB, PROSODY, COTURN),
    "xmpp.": (PROSODY,),
    "auth.guest_domain_consistent": (WEB, PROSODY),
    "auth.jicofo_login_url": (JICOFO,),
    "auth.": (PROSODY,),
    "jwt.": (PROSODY,),
    "ldap.": (PROSODY,),
    "rooms.": (PROSODY,),
    "sso.legacy_shibboleth": (JICOFO,),
    "sso.mfa_delegated": (PROSODY,),
    "live.xmpp_anonymous": (PROSODY,),
    "live.xmpp_c2s_tls": (PROSODY,),
    "live.default_credentials": (PROSODY,),
    "live.prosody_plain_http": (PROSODY,),
    "live.config_agreement": (WEB, PROSODY),
    "jicofo.": (JICOFO,),
    "jvb.": (JVB,),
    "exposure.jvb_rest_api": (JVB,),
    "live.udp_media": (JVB,),
    "jibri.": (JIBRI,),
    "turn.": (COTURN,),
    # the version of a component the host does not run is not in its evidence: judged where it runs
    "vuln.prosody_version": (PROSODY,),
    "vuln.e2ee_fixes": (WEB, PROSODY),  # jitsi-meet-web and jitsi-meet-prosody carry the fixes
    "recording.server_side": (WEB, JICOFO),  # config.js and jicofo say whether Jibri is wired in
}

# Checks that read the files of two components at once (check id -> every role whose files it needs). On a
# host running only some of them they stay unclear, and N/A on the others: auditor.across_hosts decides
# them with the evidence of the other hosts of the same deployment.
CROSS_ROLE: dict[str, tuple[str, ...]] = {
    "rooms.welcome_page_open": (WEB, PROSODY),  # config.js welcomePage, prosody's authentication
    "sso.token_auth_url": (WEB, PROSODY),  # config.js tokenAuthUrl, prosody's token authentication
    "auth.guest_domain_consistent": (WEB, PROSODY),  # config.js anonymousdomain, prosody's VirtualHosts
    "privacy.e2ee_available": (WEB, PROSODY),  # config.js silent and no version: the era from prosody
}

# dpkg package -> roles it brings (installed packages only).
PACKAGE_ROLES: dict[str, tuple[str, ...]] = {
    "jitsi-meet": CORE,
    "jitsi-meet-web": (WEB,),
    "jitsi-meet-web-config": (WEB,),
    "jitsi-meet-prosody": (PROSODY,),
    "prosody": (PROSODY,),
    "prosody-0.12": (PROSODY,),
    "prosody-13.0": (PROSODY,),
    "prosody-trunk": (PROSODY,),
    "jicofo": (JICOFO,),
    "jitsi-videobridge2": (JVB,),
    "jibri": (JIBRI,),
    "coturn": (COTURN,),
    "jitsi-meet-turnserver": (COTURN,),
    "jigasi": (JIGASI,),
}

# Discovered configuration file -> role. nginx and Apache count only with a Jitsi site (see _jitsi_site): a
# videobridge or TURN host may run a web server for something else.
FILE_ROLES: dict[Role, tuple[str, ...]] = {
    Role.CONFIG_JS: (WEB,),
    Role.INTERFACE_CONFIG_JS: (WEB,),
    Role.PROSODY_MAIN: (PROSODY,),
    Role.PROSODY_INCLUDE: (PROSODY,),
    Role.JICOFO_CONF: (JICOFO,),
    Role.JICOFO_PROPERTIES: (JICOFO,),
    Role.JICOFO_ENV: (JICOFO,),
    Role.JVB_CONF: (JVB,),
    Role.JVB_PROPERTIES: (JVB,),
    Role.JVB_ENV: (JVB,),
    Role.JIBRI_CONF: (JIBRI,),
    Role.TURNSERVER: (COTURN,),
    Role.JIGASI_PROPERTIES: (JIGASI,),
    Role.DOCKER_ENV: CORE,
    Role.DOCKER_COMPOSE: CORE,
}
_JITSI_SITE = re.compile(r"http-bind|xmpp-websocket|colibri-ws|jitsi-meet|external_api", re.I)


class RoleError(ValueError):
    """An unknown role name (inventory or CLI): one line."""


def normalise(names: Iterable[str]) -> tuple[str, ...]:
    """Role names as given (`jvb`, `shard`, `web,prosody`) -> canonical sorted roles."""
    out: set[str] = set()
    for raw in names:
        for name in re.split(r"[,\s+]+", str(raw).strip().lower()):
            if not name:
                continue
            if name in ROLES:
                out.add(name)
            elif name in ALIASES:
                out.update(ALIASES[name])
            else:
                known = ", ".join((*ROLES, *ALIASES))
                raise RoleError(f"unknown role {name[:40]!r} (known: {known})")
    return tuple(r for r in ROLES if r in out)


@dataclass(frozen=True, slots=True)
class HostRoles:
    roles: tuple[str, ...]  # canonical order; empty = unknown (every check applies)
    source: str  # "inventory", "detected" or "unknown"
    evidence: tuple[str, ...] = ()  # what the detection went by, for the report

    @property
    def known(self) -> bool:
        return bool(self.roles)

    @property
    def partial(self) -> bool:
        """Known and not all-in-one: only then are checks restricted (an all-in-one host gets every check,
        and its optional components, jibri and coturn, are judged by the checks themselves)."""
        return self.known and not set(CORE) <= set(self.roles)

    @property
    def label(self) -> str:
        return "+".join(self.roles) if self.roles else "unknown"


def _jitsi_site(dep: Deployment, roles: tuple[Role, ...]) -> bool:
    return any(
        f.role in roles and f.item.content is not None and _JITSI_SITE.search(f.item.text()) is not None
        for f in dep.files
    )


def detect_roles(dep: Deployment) -> HostRoles:
    """Roles from installed packages and collected configuration (no decision: empty roles)."""
    found: dict[str, list[str]] = {}
    for pkg in sorted(dep.packages):
        for role in PACKAGE_ROLES.get(pkg, ()):
            found.setdefault(role, []).append(f"package {pkg}")
    for f in dep.files:
        if not f.active:
            continue
        for role in FILE_ROLES.get(f.role, ()):
            found.setdefault(role, []).append(f"{f.role.value} {f.path}")
    if _jitsi_site(dep, (Role.NGINX_SITE, Role.NGINX_MAIN)):
        found.setdefault(WEB, []).append("nginx site with Jitsi locations")
    if _jitsi_site(dep, (Role.APACHE_SITE, Role.APACHE_MAIN)):
        found.setdefault(WEB, []).append("Apache site with Jitsi locations")
    roles = tuple(r for r in ROLES if r in found)
    evidence = tuple(f"{r}: {found[r][0]}" + (f" (+{len(found[r]) - 1})" if len(found[r]) > 1 else "")
                     for r in roles)
    return HostRoles(roles, "detected" if roles else "unknown", evidence)


def host_roles(dep: Deployment, given: Iterable[str] | None = None) -> HostRoles:
    """The roles to audit against: given ones win; detection only for live collections and copies of a
    host's root (a whole host's packages and files; a configuration tree may hold any part of a shard)."""
    if given:
        roles = normalise(given)
        return HostRoles(roles, "inventory" if roles else "unknown")
    if dep.snapshot.transport not in LIVE_TRANSPORTS and dep.snapshot.facts.get("layout") != HOST_COPY_LAYOUT:
        return HostRoles((), "unknown")
    return detect_roles(dep)


def requirement(check_id: str, declared: tuple[str, ...] = (), table: Mapping[str, tuple[str, ...]] = REQUIRES
                ) -> tuple[str, ...]:
    """The roles a check needs (any of); () = none. The check's own declaration wins, then the
    exact id, then the longest matching prefix."""
    if declared:
        return declared
    if check_id in table:
        return table[check_id]
    best = ""
    for key in table:
        if key.endswith((".", "_")) and check_id.startswith(key) and len(key) > len(best):
            best = key
    return table[best] if best else ()


def not_applicable_reason(host: HostRoles, needed: tuple[str, ...]) -> str | None:
    """None when the check applies to the host; else the one-line reason."""
    if not needed or not host.partial or set(needed) & set(host.roles):
        return None
    want = " or ".join(needed)
    return f"role {host.label}: no {want} expected ({host.source})"
