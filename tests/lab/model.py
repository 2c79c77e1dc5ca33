"""Data shared by the lab's modules and by the tests that use it: paths, errors and the LabHost record."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Everything the lab creates lives below this directory (removed again when the last host goes down).
LAB_DIR = Path(os.environ.get("JITSI_LAB_DIR", "/tmp/jitsi-lab"))
INDEX_FILE = LAB_DIR / "hosts.json"
LOCK_FILE = LAB_DIR / ".lock"
# Mount points the lab had to create on the real filesystem (outside /etc), removed with the last host.
CREATED_PATHS_FILE = LAB_DIR / "created-paths.json"

SSH_USER = "jaudit"
SSH_PORT = 2222
COLLECTOR_PATH = "/usr/local/libexec/jitsi-audit-collect"
DOMAIN_SUFFIX = "jitsi-lab.test"
# Link-local /30 per host: 169.254.77.(4i+1) on the machine's side, 169.254.77.(4i+2) inside the host.
# 169.254.169.254 (cloud metadata) is in another /24 and is never used.
NET_PREFIX = "169.254.77."
MAX_HOSTS = 63


class LabError(RuntimeError):
    """Something the lab tried to do failed; the message says what and, for daemons, shows their log."""


class LabUnavailable(LabError):
    """The lab cannot run on this machine at all (not root, no network namespaces, no packages)."""


def host_dir(name: str) -> Path:
    return LAB_DIR / name


def state_file(name: str) -> Path:
    return host_dir(name) / "state.json"


@dataclass(frozen=True)
class Listener:
    """A socket a lab host is expected to listen on, as seen inside its network namespace."""

    proto: str  # "tcp" or "udp"
    addr: str  # "0.0.0.0", "127.0.0.1", "::" ...
    port: int
    owner: str  # the daemon that owns it: sshd, nginx, prosody, jicofo, jvb, coturn

    @property
    def public(self) -> bool:
        """Reachable from outside the host (bound to every address rather than loopback)."""
        return self.addr in ("0.0.0.0", "::", "*")


@dataclass(frozen=True)
class DaemonInfo:
    name: str
    pid: int
    starttime: int  # /proc/PID/stat field 22, to never signal a recycled pid
    log: str  # log file on the machine (inside the host's tree)


@dataclass(frozen=True)
class LabHost:
    """Connection facts of one running lab host; this is what state.json holds.

    Tools connect to `address` and send `domain` as TLS SNI / HTTP Host (there is no DNS for it).
    Paths are on the machine running the tests, so they can be handed to paramiko, httpx or sslyze.
    """

    name: str
    variant: str
    address: str  # the host's address inside its namespace (link-local)
    gateway: str  # the machine's side of the link
    domain: str
    ssh_port: int
    ssh_user: str
    ssh_key: str  # private key (OpenSSH format, ed25519) of ssh_user
    known_hosts: str  # file with the host keys for "[address]:ssh_port"
    known_hosts_line: str  # the ed25519 line of that file
    ca_cert: str  # trust anchor of the web certificate (lab CA, or the self-signed cert itself)
    web_port: int  # HTTPS port of the web front (443, or 8443 for docker-style)
    http_port: int  # plain HTTP port (80, or 8000 for docker-style)
    sudo_collector: bool  # whether `sudo -n /usr/local/libexec/jitsi-audit-collect` is allowed
    ssh_up: bool  # False for the ssh-down variant
    open_ports: list[str]  # "tcp/443", "udp/10000", ... reachable from the machine
    closed_ports: list[str]  # internal ports that must NOT be reachable from the machine
    listeners: list[Listener]  # every socket inside the namespace, with bind address
    canaries: list[str]  # planted secret values: must never show up in the auditor's output
    weak_secrets: list[str]  # known weak defaults planted on purpose (also secrets)
    files: dict[str, str]  # role -> path on the host (prosody_host, nginx_site, config_js, jicofo_conf ...)
    command_log: str  # JSON lines: every command sshd ran for ssh_user (ForceCommand wrapper)
    sftp_log: str  # sftp-server's own log of file operations (-l VERBOSE)
    sudo_log: str  # sudo's log file inside the host tree
    netns: str
    root: str  # the host's private tree on the machine (/tmp/jitsi-lab/<name>/root)
    holder_pid: int  # process holding the host's mount/uts namespaces
    daemons: list[DaemonInfo]
    delay_ms: int = 0
    link: str = "veth"  # "veth", or "tap-delay" when netem is missing and a userspace wire adds the delay
    ready_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ssh_target(self) -> str:
        return f"ssh://{self.ssh_user}@{self.address}:{self.ssh_port}"

    @property
    def base_url(self) -> str:
        """URL to use with SNI/Host = domain while connecting to address (see tests.lab.clients)."""
        port = "" if self.web_port == 443 else f":{self.web_port}"
        return f"https://{self.domain}{port}"

    @property
    def pids(self) -> list[int]:
        return [d.pid for d in self.daemons]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabHost:
        data = dict(data)
        data["listeners"] = [Listener(**x) for x in data.get("listeners", [])]
        data["daemons"] = [DaemonInfo(**x) for x in data.get("daemons", [])]
        return cls(**data)


def read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return default


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.chmod(0o600)  # holds the canaries: not for the audit account inside the hosts to read
    tmp.replace(path)
