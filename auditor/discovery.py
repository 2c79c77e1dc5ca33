"""Which collected file plays which part in a Jitsi deployment, found by name and by content.

The same rules serve a live host (real paths), a docker-jitsi-meet CONFIG volume and any hand-made
config repository, so `--root DIR` works whatever the layout.
"""

from __future__ import annotations

import bisect
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
# search quadratic (64 KB of newlines: 175 s for these rules). Each rule names literals one of which
# its pattern cannot match without: the pattern only runs where one is in the text (a substring test is
# ~100 times faster than these searches; 2 000 files of 30 KB took 13 s to sniff).
_SNIFF_RULES: tuple[tuple[re.Pattern[str], Role, tuple[str, ...]], ...] = (
    (re.compile(r"^[ \t]*VirtualHost\s+[\"']", re.M), Role.PROSODY_INCLUDE, ("VirtualHost",)),
    (re.compile(r"^[ \t]*Component\s+[\"']", re.M), Role.PROSODY_INCLUDE, ("Component",)),
    # HOCON: the block (`jicofo {`) or a path assigned (`jicofo.xmpp.client.port = 5222`; with `:` only a
    # dotted one: `jicofo:` is a compose service), not any line starting with the word (`jicofo.jar  usr/...`)
    (re.compile(r"^[ \t]*jicofo(?:(?:\.[\w-]+)*\s*[{=]|(?:\.[\w-]+)+\s*:)", re.M), Role.JICOFO_CONF, ("jicofo",)),
    (re.compile(r"^[ \t]*videobridge(?:(?:\.[\w-]+)*\s*[{=]|(?:\.[\w-]+)+\s*:)", re.M), Role.JVB_CONF,
     ("videobridge",)),
    (re.compile(r"^[ \t]*jibri(?:(?:\.[\w-]+)*\s*[{=]|(?:\.[\w-]+)+\s*:)", re.M), Role.JIBRI_CONF, ("jibri",)),
    (re.compile(r"^[ \t]*org\.jitsi\.jicofo\.", re.M), Role.JICOFO_PROPERTIES, ("org.jitsi.jicofo.",)),
    (re.compile(r"^[ \t]*org\.jitsi\.videobridge\.", re.M), Role.JVB_PROPERTIES, ("org.jitsi.videobridge.",)),
    (re.compile(r"^[ \t]*org\.jitsi\.jigasi\.", re.M), Role.JIGASI_PROPERTIES, ("org.jitsi.jigasi.",)),
    (re.compile(r"\b(?:var|let|const)\s+interfaceConfig\s*="), Role.INTERFACE_CONFIG_JS, ("interfaceConfig",)),
    (re.compile(r"\b(?:var|let|const)\s+config\s*=\s*\{"), Role.CONFIG_JS, ("config",)),
    (re.compile(r"^[ \t]*server\s*\{", re.M), Role.NGINX_SITE, ("server",)),
    # case-insensitive: its literals are looked for in the lower-cased text
    (re.compile(r"^[ \t]*<VirtualHost[\s>]", re.M | re.I), Role.APACHE_SITE, ("<virtualhost",)),
    (
        re.compile(r"^[ \t]*(?:static-auth-secret|use-auth-secret|listening-port)\b", re.M),
        Role.TURNSERVER,
        ("static-auth-secret", "use-auth-secret", "listening-port"),
    ),
    (
        re.compile(r"^[ \t]*(?:JICOFO_AUTH_PASSWORD|JVB_AUTH_PASSWORD|ENABLE_AUTH|PUBLIC_URL)\s*=", re.M),
        Role.DOCKER_ENV,
        ("JICOFO_AUTH_PASSWORD", "JVB_AUTH_PASSWORD", "ENABLE_AUTH", "PUBLIC_URL"),
    ),
    (re.compile(r"^[ \t]*ldap_servers\s*:", re.M), Role.SASLAUTHD, ("ldap_servers",)),
)

_IGNORECASE = int(re.IGNORECASE)  # a plain int: RegexFlag's own `&` is slow for a per-file loop
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
    lower: str | None = None
    for regex, role, literals in _SNIFF_RULES:
        text = head
        if regex.flags & _IGNORECASE:
            lower = head.lower() if lower is None else lower
            text = lower
        if any(literal in text for literal in literals) and regex.search(head):
            if role is Role.DOCKER_ENV and not _reads_as_dotenv(head):
                continue  # a script setting the variables (gen-passwords.sh), not an env file
            return role
    return None


def _reads_as_dotenv(text: str) -> bool:
    from auditor.parsers.dotenv import reads_as_dotenv  # python-dotenv: only where a file is sniffed as one

    return reads_as_dotenv(text)


# Never a deployment's configuration, whatever they contain: docker-jitsi-meet's image templates (each
# container renders them into CONFIG at start; `{{ .Env.X }}` placeholders, not values), its sample .env,
# upstream's .dist templates, and documentation. A --root audit of a docker-jitsi-meet checkout meets
# all of them beside the operator's .env.
# The images' init scripts are never configuration either: older releases' cont-init.d scripts name the old
# default passwords (OLD_JVB_AUTH_PASSWORD=passw0rd) to refuse them (CVE-2020-11878).
NOT_CONFIGURATION: tuple[str, ...] = (
    "*/rootfs/defaults/*", "*/rootfs/etc/cont-init.d/*", "*/rootfs/etc/cont-finish.d/*", "*/rootfs/etc/services.d/*",
    "*/rootfs/etc/s6-overlay/*", "*/env.example", "*.dist", "*.md", "*.rst",
    "*/.github/*",  # a repository's CI definitions (`permissions: id-token: write`), not a deployment's
    # a role's or cookbook's tests (serverspec, molecule, test-kitchen): regexes and fixtures, not settings
    "*/spec/*", "*/molecule/*", "*/test/integration/*",
)
# Formats no Jitsi daemon reads: what their text looks like (an Ansible task's `line: 'VirtualHost "..."'`, a
# k8s ConfigMap's nginx server block) does not make them prosody or nginx files. Keys and certificates are
# still found in them by content (a manifest holding a PEM key is a file holding a key).
_OTHER_FORMATS = (".yml", ".yaml", ".json", ".rb", ".py", ".sh", ".md", ".html", ".xml", ".go", ".java", ".ts")
# Templates a configuration repository renders at deploy time (Ansible/Salt Jinja, Go and ERB templates,
# samples): `{{ jitsi_domain }}` where the values go. Judged as they stand they gave parse errors and
# verdicts on placeholders; an offline audit names them instead (render them, then audit the result).
# On a live host such a name is audited like any file: a daemon's wildcard include may load it.
# A `templates/` directory holds them whatever their names: an Ansible role's (the template module's source,
# `templates/turnserver.conf`), a Helm chart's (`templates/jicofo/configmap.yaml`); an `examples/` one holds
# samples (a chart's examples/custom-config.js with `…` where the values go).
TEMPLATES: tuple[str, ...] = ("*.j2", "*.jinja", "*.jinja2", "*.tmpl", "*.tpl", "*.template", "*.erb",
                              "*.example", "*.sample", "*/templates/*", "*/examples/*")


def is_template(path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in TEMPLATES)


def not_configuration(path: str, offline: bool = False) -> bool:
    return (offline and is_template(path)) or any(fnmatch.fnmatchcase(path, p) for p in NOT_CONFIGURATION)


def looks_like_configuration(item: CollectedItem) -> bool:
    """Whether a file would be Jitsi configuration as it stands, or holds some (a Helm chart's ConfigMap
    template with a jicofo.conf in it): for naming the templates an offline audit leaves out."""
    if classify_item(item) is not None:
        return True
    if item.kind != "file" or item.content is None or not_configuration(item.key):
        return False
    return _role_by_content(item.text()) is not None


def classify_item(item: CollectedItem, offline: bool = False) -> tuple[Role, str] | None:
    """The role of a file and how it was known ("name" or "content"); `offline`: from a directory tree."""
    if item.kind != "file" or not_configuration(item.key, offline):
        return None
    name_role = _role_by_name(item.key)
    if item.content is None:
        # Unreadable files still count: a role known by name makes its checks unclear, not silent.
        return (name_role, "name") if name_role else None
    content_role = _role_by_content(item.text())
    if content_role in (Role.PRIVATE_KEY, Role.CERTIFICATE):
        return content_role, "content"
    if name_role is None and item.key.lower().endswith(_OTHER_FORMATS):
        return None
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
    offline = snapshot.transport == "dir"
    for item in sorted(snapshot.files(), key=lambda i: i.key):
        if not _collected(item):
            continue
        classified = classify_item(item, offline)
        if classified is None:
            continue
        role, why = classified
        found.append(DiscoveredFile(role, item, True, why))
    return _mark_inactive(found)


_ENABLED_DIRS = {"conf.avail": "conf.d", "sites-available": "sites-enabled", "conf-available": "conf-enabled"}


def _mark_inactive(found: list[DiscoveredFile]) -> list[DiscoveredFile]:
    """conf.avail, sites-available and conf-available files are inactive when an enabled twin directory
    exists and does not enable them. Each enabled directory's verdict per name is computed once and the
    twin directory is looked up in the sorted paths (a scan of every other file for each file made
    8 000 files cost 80 s)."""
    paths = {f.path for f in found}
    ordered = sorted(paths)

    def holds_files(directory: str) -> bool:
        """Whether a found file is below `directory`: the first path not sorting before its prefix
        starts with it (no set of every ancestor: a key may have thousands of segments)."""
        prefix = directory + "/"
        at = bisect.bisect_left(ordered, prefix)
        return at < len(ordered) and ordered[at].startswith(prefix)

    verdicts = {enabled: _enabled_names(found, enabled) for enabled in _ENABLED_DIRS.values()}

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
        enabled = _ENABLED_DIRS.get(parent)
        if enabled is not None and holds_files(posixpath.join(posixpath.dirname(posixpath.dirname(f.path)), enabled)):
            active = verdicts[enabled].get(posixpath.basename(f.path), False)
        result.append(DiscoveredFile(f.role, f.item, active, f.why))
    return result


def _enabled_names(found: Iterable[DiscoveredFile], enabled_dir: str) -> dict[str, bool]:
    """For each file name: whether the first file of an `enabled_dir` directory that speaks for it is a
    link to it (True) or a copy of the same name (False: the enabled copy is the one in force)."""
    verdicts: dict[str, bool] = {}
    for other in found:
        if posixpath.basename(posixpath.dirname(other.path)) != enabled_dir:
            continue
        target = other.item.link_target
        if target:
            verdicts.setdefault(posixpath.basename(target), True)
        else:
            verdicts.setdefault(posixpath.basename(other.path), False)
    return verdicts
