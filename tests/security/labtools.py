"""Lab-side helpers of the security suite: SSH config for several hosts, host-key fingerprints, the
lab's own records of what the SSH server ran, and the processes of an audit session inside a host."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.transports.known_hosts import fingerprint
from tests.lab import LabHost


def ssh_config(
    hosts: Iterable[LabHost],
    path: Path,
    *,
    relaxing: bool = True,
    aliases: dict[str, tuple[LabHost, str]] | None = None,
) -> Path:
    """Per-host IdentityFile (each lab host has its own audit key); `aliases` name -> (host, key file)
    add entries with any key. With `relaxing`, the options that would weaken host-key checking are
    set too: the auditor must ignore them."""
    entries = [(h.address, h.address, h.ssh_key) for h in hosts]
    entries += [(name, host.address, key) for name, (host, key) in (aliases or {}).items()]
    blocks = []
    for name, address, key in entries:
        lines = [f"Host {name}", f"    HostName {address}", f"    IdentityFile {key}", "    IdentitiesOnly yes"]
        if relaxing:
            lines += ["    StrictHostKeyChecking no", "    UserKnownHostsFile /dev/null"]
        blocks.append("\n".join(lines))
    path.write_text("\n\n".join(blocks) + "\n")
    return path


def host_key_fingerprint(host: LabHost, key_type: str = "ssh-ed25519") -> str:
    for line in Path(host.known_hosts).read_text().splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] == key_type:
            return fingerprint(base64.b64decode(fields[2]))
    raise AssertionError(f"no {key_type} key in {host.known_hosts}")


def known_hosts_lines(host: LabHost, *, as_address: str | None = None) -> str:
    text = Path(host.known_hosts).read_text()
    return text.replace(f"[{host.address}]", f"[{as_address}]") if as_address else text


# -- the lab's records ----------------------------------------------------------------------------
def log_offset(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except FileNotFoundError:
        return 0


def log_since(path: str, offset: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def commands_since(host: LabHost, offset: int) -> list[dict[str, Any]]:
    """The command log's records written after `offset` (one per SSH session of the audit user)."""
    return [json.loads(line) for line in log_since(host.command_log, offset).splitlines() if line.strip()]


# -- processes of an audit session inside a host ------------------------------------------------
def _netns_inode(host: LabHost) -> int:
    return os.stat(f"/run/netns/{host.netns}").st_ino


def _uid_of(host: LabHost, user: str) -> int:
    for line in (Path(host.root) / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2])
    raise AssertionError(f"no user {user} on {host.name}")


SSHD_SESSION_PREFIXES = ("sshd: jaudit", "sshd-session: jaudit")  # OpenSSH before / since 9.8


@dataclass(frozen=True)
class Proc:
    pid: int
    uid: int
    cmdline: str
    ppid: int


def session_processes(host: LabHost) -> list[Proc]:
    """Processes in the host's network namespace that run as the audit user or are its sshd session."""
    ns = _netns_inode(host)
    uid = _uid_of(host, host.ssh_user)
    found: list[Proc] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry.name}/ns/net").st_ino != ns:
                continue
            status = Path(f"/proc/{entry.name}/status").read_text()
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        puid = int(fields.get("Uid", "-1").split()[0])
        ppid = int(fields.get("PPid", "0"))
        if puid == uid or cmdline.startswith(SSHD_SESSION_PREFIXES):
            found.append(Proc(int(entry.name), puid, cmdline.strip(), ppid))
    return found


def collector_processes(host: LabHost) -> list[Proc]:
    """The audit user's processes other than its sshd session process."""
    return [p for p in session_processes(host) if not p.cmdline.startswith(("sshd:", "sshd-session:"))]


def sshd_sessions(host: LabHost) -> list[Proc]:
    """The sshd processes serving the audit user's sessions (monitor and user child)."""
    return [p for p in session_processes(host) if p.cmdline.startswith(SSHD_SESSION_PREFIXES)]


def written_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_for(predicate: Any, timeout: float, interval: float = 0.005) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def signal_all(procs: Iterable[Proc], sig: signal.Signals) -> None:
    """Signal these processes by pid (they belong to an audit session this test started)."""
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p.pid, sig)
