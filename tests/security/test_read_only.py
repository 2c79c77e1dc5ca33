"""Read-only proof, recorded on the lab side: auditing a host (with and without --sudo, probes on)
changes no file of its configuration trees, and the SSH server ran exactly one allow-listed command
per audit — `/bin/sh -s` (the collector on stdin) or `sudo -n <installed collector>` — and nothing else
(no other exec, no shell, no sftp; sudo ran only the collector)."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

import pytest

from auditor.collect.plan import SUDO_COLLECTOR_PATH, collector_script
from tests.lab import LabHost
from tests.lab.model import LAB_DIR
from tests.security.conftest import SecHost
from tests.security.labtools import commands_since, log_offset, log_since
from tests.security.support import run_cli

pytestmark = pytest.mark.lab


# The host's configuration trees (bind-mounted over the host's own paths). /var/log and /run are
# left out: the daemons write there (sshd, sudo's own log), which is the lab recording, not us.
HASHED_DIRS = (
    "etc",
    "home",
    "root",
    "opt",
    "var/lib/prosody",
    "var/lib/turn",
    "usr/share/jitsi-meet",
    "usr/local/libexec",
)
# Where a careless collector could leave temporary files on the host: shared with the machine.
TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")


def tree_state(host: LabHost) -> dict[str, tuple[str, int, int, int, str]]:
    """path -> (kind, mode, uid, gid, sha256 or link target) for every entry of the hashed trees."""
    root = Path(host.root)
    state: dict[str, tuple[str, int, int, int, str]] = {}
    paths = [root / d for d in HASHED_DIRS] + [Path(host.root).parent / "dpkg-status"]
    for top in paths:
        for dirpath, dirnames, filenames in os.walk(top):
            for name in dirnames + filenames:
                path = Path(dirpath) / name
                st = path.lstat()
                if stat.S_ISLNK(st.st_mode):
                    kind, digest = "link", os.readlink(path)
                elif stat.S_ISREG(st.st_mode):
                    kind, digest = "file", hashlib.sha256(path.read_bytes()).hexdigest()
                elif stat.S_ISDIR(st.st_mode):
                    kind, digest = "dir", ""
                else:
                    kind, digest = "special", ""
                state[str(path.relative_to(root.parent))] = (
                    kind,
                    stat.S_IMODE(st.st_mode),
                    st.st_uid,
                    st.st_gid,
                    digest,
                )
        if top.is_file():
            state[top.name] = ("file", 0, 0, 0, hashlib.sha256(top.read_bytes()).hexdigest())
    return state


def _uid(host: LabHost) -> int:
    for line in (Path(host.root) / "etc/passwd").read_text().splitlines():
        if line.split(":")[0] == host.ssh_user:
            return int(line.split(":")[2])
    raise AssertionError("no audit user")


def temp_state(uid: int, own_tree: str) -> dict[str, tuple[int, int, int]]:
    """Every entry the audit account owns under the temporary directories (the lab host's own tree there
    included: its home), with its mtime, ctime and size: what an audit must leave as it found it. The
    trees of the other lab hosts are left out: another test worker builds them meanwhile, with homes
    owned by the same account."""
    found: dict[str, tuple[int, int, int]] = {}
    lab = str(LAB_DIR).rstrip("/") + "/"
    for top in TEMP_DIRS:
        for dirpath, dirnames, filenames in os.walk(top):
            if dirpath + "/" == lab:
                dirnames[:] = [d for d in dirnames if lab + d == own_tree]
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if st.st_uid == uid:
                    found[path] = (st.st_mtime_ns, st.st_ctime_ns, st.st_size)
    return found


def written(before: dict[str, tuple[int, int, int]], after: dict[str, tuple[int, int, int]]) -> list[str]:
    return sorted(p for p, state in after.items() if before.get(p) != state)


def sudo_entries(text: str) -> list[str]:
    """sudo's log file wraps long entries onto indented lines: one string per entry."""
    entries: list[str] = []
    for line in text.splitlines():
        if line[:1].isspace() and entries:
            entries[-1] += " " + line.strip()
        elif line.strip():
            entries.append(line.strip())
    return entries


@pytest.mark.parametrize("sudo", [False, True], ids=["plain", "sudo"])
def test_an_audit_writes_nothing_and_runs_only_the_collector(sec_host: SecHost, tmp_path: Path, sudo: bool) -> None:
    host = sec_host("hardened")
    assert host.sudo_collector
    installed = Path(host.root) / SUDO_COLLECTOR_PATH.lstrip("/")
    # what sudo may run is byte for byte the allow-listed collector this version ships
    assert installed.read_bytes() == collector_script().encode()
    uid = _uid(host)
    before = tree_state(host)
    offsets = {log: log_offset(log) for log in (host.command_log, host.sftp_log, host.sudo_log)}
    temp_before = temp_state(uid, str(Path(host.root).parent))
    args = [host.ssh_target, "--known-hosts", host.known_hosts, "-i", host.ssh_key, "-f", "json", "-o", "report.json"]
    run = run_cli([*args, "--sudo"] if sudo else args, tmp_path)
    assert run.code in (0, 1), run.diagnose()
    target = run.target(host.ssh_target)
    assert target["complete"] and target["collected"], run.diagnose()

    # (a) nothing under the host's configuration trees changed: same entries, modes, owners, bytes
    after = tree_state(host)
    added, removed = sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys())
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    assert (added, removed, changed) == ([], [], []), f"added {added[:5]}, removed {removed[:5]}, changed {changed[:5]}"
    assert len(before) > 500  # the trees really were read (the copied /etc alone has hundreds of entries)
    assert written(temp_before, temp_state(uid, str(Path(host.root).parent))) == []  # no file created or changed by the audit account

    # (b) what the SSH server ran, from the lab's ForceCommand record: one exec, the allow-listed one
    records = commands_since(host, offsets[host.command_log])
    expected = f"sudo -n {SUDO_COLLECTOR_PATH}" if sudo else "/bin/sh -s"
    assert [(r["user"], r["kind"], r["command"]) for r in records] == [(host.ssh_user, "exec", expected)], records
    assert log_since(host.sftp_log, offsets[host.sftp_log]) == ""
    entries = sudo_entries(log_since(host.sudo_log, offsets[host.sudo_log]))
    if sudo:
        assert len(entries) == 1, entries
        assert re.search(rf"\b{host.ssh_user}\b.*USER=root ; COMMAND={re.escape(SUDO_COLLECTOR_PATH)}$", entries[0]), (
            entries
        )
    else:
        assert entries == []
