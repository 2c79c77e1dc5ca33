"""What a lab host consists of, as data: files, links, daemons, listeners, secrets.

The generators (tests.lab.configs, tests.lab.docker) fill a Plan; tests.lab.lab writes it into the
host's private tree and starts the daemons. Paths in a Plan are paths *inside* the host.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from .model import Listener
from .pki import CertPair


@dataclass(frozen=True)
class FileSpec:
    path: str
    content: bytes
    mode: int = 0o644
    owner: str = "root"
    group: str = "root"


@dataclass(frozen=True)
class DirSpec:
    path: str
    mode: int = 0o755
    owner: str = "root"
    group: str = "root"


@dataclass(frozen=True)
class DaemonSpec:
    name: str
    argv: list[str]
    user: str | None = None  # run as this user (setpriv, with its groups); None = root
    listeners: list[Listener] = field(default_factory=list)
    stdout: str = ""  # log file inside the host for stdout+stderr (default /var/log/jitsi-lab/<name>.log)
    overlays: dict[str, str] = field(default_factory=dict)  # path inside -> machine file, this daemon only


@dataclass(frozen=True)
class HostContext:
    """What the generators need to know about the host being built."""

    name: str
    variant: str
    domain: str
    address: str
    state_dir: str  # /tmp/jitsi-lab/<name> on the machine (the same path inside the host)
    ca: CertPair
    web: CertPair  # the web certificate nginx (and coturn) serve
    web_ca_path: str  # trust anchor on the machine for `web`
    xmpp: CertPair  # prosody certificate for domain and *.domain
    xmpp_auth: CertPair  # prosody certificate for auth.domain
    python: str  # interpreter for the stand-ins and the ForceCommand wrapper
    standin: str  # path of standin.py, readable inside the host
    collector: bytes  # content of /usr/local/libexec/jitsi-audit-collect


@dataclass
class Plan:
    files: list[FileSpec] = field(default_factory=list)
    dirs: list[DirSpec] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # link path -> target
    private: list[FileSpec] = field(default_factory=list)  # files on the machine (state dir), not in the host
    remove: list[str] = field(default_factory=list)  # paths of the copied /etc to delete first
    daemons: list[DaemonSpec] = field(default_factory=list)
    users: dict[str, list[str]] = field(default_factory=dict)  # extra system user -> supplementary groups
    groups: list[str] = field(default_factory=list)  # extra groups
    audit_groups: list[str] = field(default_factory=list)  # groups of the audit user
    canaries: list[str] = field(default_factory=list)
    weak_secrets: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)  # role -> path (for tests and other engineers)
    closed_ports: list[str] = field(default_factory=list)
    dpkg: list[tuple[str, str]] = field(default_factory=list)  # (package, version) shown as installed
    dpkg_drop: list[str] = field(default_factory=list)  # the machine's packages the host has not installed
    web_port: int = 443
    http_port: int = 80
    xmpp_domain: str = ""
    anonymous_login: bool = False  # BOSH on xmpp_domain offers SASL ANONYMOUS

    def add(
        self, path: str, content: str | bytes, mode: int = 0o644, owner: str = "root", group: str = "root"
    ) -> None:
        data = content.encode() if isinstance(content, str) else content
        self.files.append(FileSpec(path, data, mode, owner, group))

    def dir(self, path: str, mode: int = 0o755, owner: str = "root", group: str = "root") -> None:
        self.dirs.append(DirSpec(path, mode, owner, group))

    def canary(self, variant: str, setting: str) -> str:
        """A recognizable secret value: the security tests grep every output of the auditor for it."""
        value = f"CANARY-{variant}-{setting}-{secrets.token_hex(6)}"
        self.canaries.append(value)
        return value

    def weak(self, value: str) -> str:
        if value not in self.weak_secrets:
            self.weak_secrets.append(value)
        return value
