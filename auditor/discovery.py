"""Which collected file plays which part in a Jitsi deployment, found by name and by content.

The same rules serve a live host (real paths), a docker-jitsi-meet CONFIG volume and any hand-made
config repository, so `--root DIR` works whatever the layout.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from auditor.collect.plan import REASONS
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot


class Role(StrEnum):
    PROSODY_MAIN = "prosody_main"
    PROSODY_INCLUDE = "prosody_include"
    PROSODY_ACCOUNT = "prosody_account"
    JICOFO_CONF = "jicofo_conf"
    JICOFO_PROPERTIES = "jicofo_properties"
    JICOFO_ENV = "jicofo_env"
    JVB_CONF = "jvb_conf"
    JVB_PROPERTIES = "jvb_properties"
    JVB_ENV = "jvb_env"
    CONFIG_JS = "config_js"
    INTERFACE_CONFIG_JS = "interface_config_js"
    NGINX_MAIN = "nginx_main"
    NGINX_SITE = "nginx_site"
    NGINX_SNIPPET = "nginx_snippet"  # only ever included (snippets/, certbot's options-ssl-nginx.conf)
    APACHE_MAIN = "apache_main"
    APACHE_SITE = "apache_site"  # any other file of the Apache configuration (sites, conf-, mods-enabled)
    APACHE_SNIPPET = "apache_snippet"  # only ever included (certbot's options-ssl-apache.conf)
    TURNSERVER = "turnserver"
    JIBRI_CONF = "jibri_conf"
    JIGASI_PROPERTIES = "jigasi_properties"
    DOCKER_ENV = "docker_env"
    DOCKER_COMPOSE = "docker_compose"
    SASLAUTHD = "saslauthd"
    CERTIFICATE = "certificate"
    PRIVATE_KEY = "private_key"


@dataclass(frozen=True, slots=True)
class DiscoveredFile:
    role: Role
    item: CollectedItem
    active: bool = True  # False for e.g. conf.avail files not linked from conf.d
    why: str = ""  # how the role was recognised (name or content), for the report

    @property
    def path(self) -> str:
        return self.item.key


# Name rules first (exact layouts of Debian hosts and docker-jitsi-meet volumes), content sniffing second.
_NAME_RULES: tuple[tuple[str, Role], ...] = (
    ("*/prosody.cfg.lua", Role.PROSODY_MAIN),
    ("*/prosody/*.cfg.lua", Role.PROSODY_INCLUDE),
    ("*/conf.d/*.cfg.lua", Role.PROSODY_INCLUDE),
    ("*/conf.avail/*.cfg.lua", Role.PROSODY_INCLUDE),
    ("*.cfg.lua", Role.PROSODY_INCLUDE),
    ("*/accounts/*.dat", Role.PROSODY_ACCOUNT),
    ("*/jicofo.conf", Role.JICOFO_CONF),
    ("*/jicofo/sip-communicator.properties", Role.JICOFO_PROPERTIES),
    ("*/jitsi/jicofo/config", Role.JICOFO_ENV),
    ("*/jvb.conf", Role.JVB_CONF),
    ("*/videobridge/sip-communicator.properties", Role.JVB_PROPERTIES),
    ("*/jvb/sip-communicator.properties", Role.JVB_PROPERTIES),
    ("*/jitsi/videobridge/config", Role.JVB_ENV),
    ("*/interface_config.js", Role.INTERFACE_CONFIG_JS),
    ("*/jitsi/meet/*-config.js", Role.CONFIG_JS),
    ("*-config.js", Role.CONFIG_JS),
    ("*/config.js", Role.CONFIG_JS),
    ("*/nginx/nginx.conf", Role.NGINX_MAIN),
    ("*/nginx/snippets/*", Role.NGINX_SNIPPET),
    ("*/letsencrypt/options-ssl-nginx.conf", Role.NGINX_SNIPPET),
    ("*/letsencrypt/options-ssl-apache.conf", Role.APACHE_SNIPPET),
    ("*/nginx/sites-enabled/*", Role.NGINX_SITE),
    ("*/nginx/sites-available/*", Role.NGINX_SITE),
    ("*/nginx/conf.d/*.conf", Role.NGINX_SITE),
    ("*/web/nginx/*.conf", Role.NGINX_SITE),
    ("*/web/nginx/default", Role.NGINX_SITE),
    ("*/nginx/site-confs/*", Role.NGINX_SITE),  # docker-jitsi-meet's web container: the server blocks
    ("*/apache2/apache2.conf", Role.APACHE_MAIN),
    ("*/apache2/ports.conf", Role.APACHE_SITE),
    ("*/apache2/sites-enabled/*", Role.APACHE_SITE),
    ("*/apache2/sites-available/*", Role.APACHE_SITE),
    ("*/apache2/conf-enabled/*", Role.APACHE_SITE),
    ("*/apache2/conf-available/*", Role.APACHE_SITE),
    ("*/apache2/mods-enabled/*.conf", Role.APACHE_SITE),
    ("*/turnserver.conf", Role.TURNSERVER),
    ("*/jibri.conf", Role.JIBRI_CONF),
    ("*/jigasi/sip-communicator.properties", Role.JIGASI_PROPERTIES),
    ("*/.env", Role.DOCKER_ENV),
    ("*/docker-compose.yml", Role.DOCKER_COMPOSE),
    ("*/docker-compose.yaml", Role.DOCKER_COMPOSE),
    ("*/compose.yml", Role.DOCKER_COMPOSE),
    ("*/compose.yaml", Role.DOCKER_COMPOSE),
    ("*/saslauthd.conf", Role.SASLAUTHD),
)

# Blanks, not \s, after ^: \s runs over every following empty line, and a file of blank lines made each
# search quadratic (64 KB of newlines: 175 s for these rules).
_SNIFF_RULES: tuple[tuple[re.Pattern[str], Role], ...] = (
    (re.compile(r"^[ \t]*VirtualHost\s+[\"']", re.M), Role.PROSODY_INCLUDE),
    (re.compile(r"^[ \t]*Component\s+[\"']", re.M), Role.PROSODY_INCLUDE),
    (re.compile(r"^[ \t]*jicofo\s*[{.]", re.M), Role.JICOFO_CONF),
    (re.compile(r"^[ \t]*videobridge\s*[{.]", re.M), Role.JVB_CONF),
    (re.compile(r"^[ \t]*jibri\s*[{.]", re.M), Role.JIBRI_CONF),
    (re.compile(r"^[ \t]*org\.jitsi\.jicofo\.", re.M), Role.JICOFO_PROPERTIES),
    (re.compile(r"^[ \t]*org\.jitsi\.videobridge\.", re.M), Role.JVB_PROPERTIES),
    (re.compile(r"^[ \t]*org\.jitsi\.jigasi\.", re.M), Role.JIGASI_PROPERTIES),
    (re.compile(r"\b(?:var|let|const)\s+interfaceConfig\s*="), Role.INTERFACE_CONFIG_JS),
    (re.compile(r"\b(?:var|let|const)\s+config\s*=\s*\{"), Role.CONFIG_JS),
    (re.compile(r"^[ \t]*server\s*\{", re.M), Role.NGINX_SITE),
    (re.compile(r"^[ \t]*<VirtualHost[\s>]", re.M | re.I), Role.APACHE_SITE),
    (re.compile(r"^[ \t]*(?:static-auth-secret|use-auth-secret|listening-port)\b", re.M), Role.TURNSERVER),
    (
        re.compile(r"^[ \t]*(?:JICOFO_AUTH_PASSWORD|JVB_AUTH_PASSWORD|ENABLE_AUTH|PUBLIC_URL)\s*=", re.M),
        Role.DOCKER_ENV,
    ),
    (re.compile(r"^[ \t]*ldap_servers\s*:", re.M), Role.SASLAUTHD),
)

_CERT_RE = re.compile(r"-----BEGIN CERTIFICATE-----")
_KEY_RE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|JAUDIT_REDACTED_PRIVATE_KEY_BLOCK")
_SNIFF_LIMIT = 64 * 1024


def _role_by_name(path: str) -> Role | None:
    for pattern, role in _NAME_RULES:
        if fnmatch.fnmatchcase(path, pattern):
            return role
    return None


def _role_by_content(text: str) -> Role | None:
    head = text[:_SNIFF_LIMIT]
    if _KEY_RE.search(head):
        return Role.PRIVATE_KEY
    if _CERT_RE.search(head):
        return Role.CERTIFICATE
    for regex, role in _SNIFF_RULES:
        if regex.search(head):
            return role
    return None


# Never a deployment's configuration, whatever they contain: docker-jitsi-meet's image templates (each
# container renders them into CONFIG at start; `{{ .Env.X }}` placeholders, not values), its sample .env,
# upstream's .dist templates, and documentation. A --root audit of a docker-jitsi-meet checkout meets
# all of them beside the operator's .env.
NOT_CONFIGURATION: tuple[str, ...] = ("*/rootfs/defaults/*", "*/env.example", "*.dist", "*.md", "*.rst")


def not_configuration(path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in NOT_CONFIGURATION)


def classify_item(item: CollectedItem) -> tuple[Role, str] | None:
    if item.kind != "file" or not_configuration(item.key):
        return None
    name_role = _role_by_name(item.key)
    if item.content is None:
        # Unreadable files still count: a role known by name makes its checks unclear, not silent.
        return (name_role, "name") if name_role else None
    content_role = _role_by_content(item.text())
    if content_role in (Role.PRIVATE_KEY, Role.CERTIFICATE):
        return content_role, "content"
    if name_role is Role.CONFIG_JS and content_role is Role.INTERFACE_CONFIG_JS:
        return content_role, "content"
    if name_role is not None:
        # A generic name (config.js, *.conf) must still look like the format it claims to be.
        if name_role in (Role.CONFIG_JS, Role.NGINX_SITE) and content_role not in (name_role, None):
            return content_role, "content"
        return name_role, "name"
    if content_role is not None:
        return content_role, "content"
    return None


# A file that is there but could not be reached — a dangling link, a link loop, a link leading outside
# the allowed directories, a FIFO or device, a hard link not read, a failed read — is missing evidence,
# not an absent file: it is kept (by its name) so the audit names it and stays incomplete, instead of
# judging the deployment without it (an enabled vhost behind a broken link read as "no such vhost").
_UNREACHABLE_REASONS = frozenset(
    REASONS[k] for k in ("symlink_loop", "symlink_outside", "dangling_link", "special_file", "hard_link")
)


def _collected(item: CollectedItem) -> bool:
    if item.status in (ItemStatus.OK, ItemStatus.PERMISSION_DENIED, ItemStatus.TOO_LARGE, ItemStatus.ERROR):
        return True
    return item.status in (ItemStatus.NOT_REGULAR, ItemStatus.MISSING) and item.error in _UNREACHABLE_REASONS


def discover(snapshot: Snapshot) -> list[DiscoveredFile]:
    found: list[DiscoveredFile] = []
    for item in sorted(snapshot.files(), key=lambda i: i.key):
        if not _collected(item):
            continue
        classified = classify_item(item)
        if classified is None:
            continue
        role, why = classified
        found.append(DiscoveredFile(role, item, True, why))
    return _mark_inactive(found)


def _mark_inactive(found: list[DiscoveredFile]) -> list[DiscoveredFile]:
    """conf.avail, sites-available and conf-available files are inactive when an enabled twin directory
    exists and does not enable them."""
    paths = {f.path for f in found}

    def has_sibling_dir(path: str, avail: str, enabled: str) -> bool:
        parent = posixpath.dirname(posixpath.dirname(path))
        return any(p.startswith(posixpath.join(parent, enabled) + "/") for p in paths)

    result: list[DiscoveredFile] = []
    for f in found:
        active = True
        parent = posixpath.basename(posixpath.dirname(f.path))
        target = f.item.link_target
        if target and parent in ("conf.d", "sites-enabled", "conf-enabled", "mods-enabled"):
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(f.path), target))
            if resolved in paths:
                # The link's target is in the evidence too: report the real file, once.
                result.append(DiscoveredFile(f.role, f.item, False, f.why))
                continue
        if parent == "conf.avail" and has_sibling_dir(f.path, "conf.avail", "conf.d"):
            active = _linked_from(f, found, "conf.d")
        elif parent == "sites-available" and has_sibling_dir(f.path, "sites-available", "sites-enabled"):
            active = _linked_from(f, found, "sites-enabled")
        elif parent == "conf-available" and has_sibling_dir(f.path, "conf-available", "conf-enabled"):
            active = _linked_from(f, found, "conf-enabled")
        result.append(DiscoveredFile(f.role, f.item, active, f.why))
    return result


def _linked_from(f: DiscoveredFile, found: Iterable[DiscoveredFile], enabled_dir: str) -> bool:
    base = posixpath.basename(f.path)
    for other in found:
        if posixpath.basename(posixpath.dirname(other.path)) != enabled_dir:
            continue
        target = other.item.link_target
        if target and posixpath.basename(target) == base:
            return True
        if not target and posixpath.basename(other.path) == base:
            # Same name but a copy, not a link: the enabled copy is the one in force.
            return False
    return False
