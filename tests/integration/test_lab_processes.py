"""The process list (/proc/<pid>/comm) collected by the real collector over real SSH from a lab host whose
coturn runs, and what it changes for the turn.* checks when ss cannot see coturn (a network of its own);
a host without coturn does not see the coturn of another lab host (each has a PID namespace of its own)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.collect.plan import CMD_PROCESSES
from auditor.processes import process_names
from auditor.snapshot import Snapshot
from auditor.transports.ssh import SshOptions, collect_over_ssh
from auditor.transports.targets import parse_target
from tests.checks.base import findings
from tests.lab import LabHost

pytestmark = pytest.mark.lab

NAME = "t-procnames"  # a host of this test's own: the shared t-hardened is not touched
TURN_CHECKS = ("turn.auth_secret", "turn.denied_peer_ips", "turn.no_multicast_peers", "turn.tls", "turn.no_tcp_relay")


def _collect(host: LabHost, sudo: bool) -> Snapshot:
    options = SshOptions(known_hosts=Path(host.known_hosts), identity_files=(Path(host.ssh_key),), use_agent=False,
                         use_ssh_config=False, connect_timeout=10.0, command_timeout=120.0, sudo=sudo)
    return collect_over_ssh(parse_target(host.ssh_target), options)


def _coturn_pid(host: LabHost) -> int:
    return next(d.pid for d in host.daemons if d.name == "coturn")


@pytest.mark.parametrize("sudo", [False, True], ids=["plain", "sudo"])
def test_the_collector_lists_the_hosts_processes(lab_host: Callable[..., LabHost], sudo: bool) -> None:
    host = lab_host("hardened", NAME)
    assert host.sudo_collector
    # the lab's coturn: /usr/bin/turnserver, dropped to the turnserver user (not the audit user)
    assert Path(f"/proc/{_coturn_pid(host)}/comm").read_text() == "turnserver\n"
    snap = _collect(host, sudo)
    assert snap.facts["collection"] == "complete", snap.errors
    assert snap.facts["privileged"] == ("yes" if sudo else "no")
    item = snap.command(CMD_PROCESSES)
    assert item is not None and item.ok and item.exit_code is None, item
    lines = item.text().split("\n")
    assert lines[-1] == "" and all(lines[:-1]), "one name a line, none empty"
    names = process_names(snap)
    assert names is not None
    assert {"turnserver", "sshd", "nginx"} <= names, sorted(names)
    # names only: the coturn command line (-c /etc/turnserver.conf) never travels
    assert "/etc/turnserver.conf" not in item.text() and "-c" not in lines


def test_a_running_turnserver_is_judged_without_its_sockets(lab_host: Callable[..., LabHost]) -> None:
    """coturn in a network namespace of its own leaves no socket in the host's ss: the collected ss output
    without coturn's lines stands for that. The real process list keeps the turn.* checks judged; without it
    they say 'not running', as before."""
    host = lab_host("hardened", NAME)
    snap = _collect(host, sudo=True)
    ss = snap.command("ss")
    assert ss is not None and ss.ok
    assert any(":3478 " in line for line in ss.text().splitlines())
    others = "".join(line + "\n" for line in ss.text().splitlines()
                     if "turnserver" not in line and not any(f":{p} " in line for p in (3478, 3479, 5349, 5350)))
    snap.add(replace(ss, content=others.encode()))
    found = findings(snap)
    for check_id in TURN_CHECKS:
        assert found[check_id].status.value != "not_applicable", (check_id, found[check_id].message)
    del snap.items[f"cmd:{CMD_PROCESSES}"]
    found = findings(snap)
    for check_id in TURN_CHECKS:
        assert found[check_id].status.value == "not_applicable", (check_id, found[check_id].message)
        assert found[check_id].message.startswith("coturn is not running: no turnserver process and nothing listens")


@pytest.mark.parametrize(("variant", "sudo"), [("legacy-2020", False), ("docker-style", True)], ids=["plain", "sudo"])
def test_a_host_lists_only_its_own_processes(lab_host: Callable[..., LabHost], variant: str, sudo: bool,
                                            tmp_path: Path) -> None:
    """Two lab hosts up at once, one with coturn: the other (a turnserver.conf, no coturn daemon) lists no
    turnserver, nor a process of the machine; the first lists its own. With sudo (turnserver.conf readable)
    the turn.* checks of the host without coturn are N/A, "coturn is not running"."""
    with_coturn = lab_host("hardened", NAME)
    without = lab_host(variant)
    assert "coturn" not in {d.name for d in without.daemons}
    assert (Path(without.root) / "etc/turnserver.conf").is_file()  # Debian's stock file: coturn installed, not started
    assert Path(f"/proc/{_coturn_pid(with_coturn)}/comm").read_text() == "turnserver\n"  # runs on this machine
    marker = tmp_path / "jlab-machine"  # a process of the machine itself, under a name of its own
    shutil.copy(shutil.which("sleep") or "/bin/sleep", marker)
    machine = subprocess.Popen([str(marker), "120"])
    try:
        snap = _collect(without, sudo)
        own = process_names(_collect(with_coturn, sudo))
    finally:
        machine.kill()  # our own child, by its handle
        machine.wait()
    assert snap.facts["collection"] == "complete", snap.errors
    assert snap.facts["privileged"] == ("yes" if sudo else "no")
    names = process_names(snap)
    assert names is not None and own is not None
    assert "turnserver" not in names, sorted(names)
    assert {"sshd", "nginx", "lua5.4"} <= names, sorted(names)
    assert "turnserver" in own, sorted(own)
    assert "jlab-machine" not in names | own
    if sudo:  # (without it, turnserver.conf is unreadable: unclear, whatever runs)
        found = findings(snap)
        for check_id in TURN_CHECKS:
            assert found[check_id].status.value == "not_applicable", (check_id, found[check_id].message)
            assert found[check_id].message.startswith("coturn is not running"), found[check_id].message


def _named(comm: str) -> list[tuple[int, str]]:
    """(pid, state) of the machine's processes named `comm` (zombies included)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name, _, rest = stat.partition("(")[2].rpartition(")")
            if name == comm:
                found.append((int(entry.name), rest.split()[0]))
    return found


def test_an_orphan_inside_a_host_is_reaped(lab_host: Callable[..., LabHost], tmp_path: Path) -> None:
    """A process whose parent inside the host dies is reparented to the host's PID 1, which must reap it
    (tini), or it stays a zombie, its name in the host's process list, until `down`."""
    host = lab_host("hardened", NAME)
    orphan = tmp_path / "jlab-orphan"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", orphan)
    subprocess.run(["nsenter", "-t", str(host.holder_pid), "-p", "-m", "--", "sh", "-c", f"'{orphan}' 0.5 & exit 0"],
                   check=True, timeout=10)
    assert [state for _, state in _named("jlab-orphan")] == ["S"]  # alive, its parent shell gone
    deadline = time.monotonic() + 10
    while _named("jlab-orphan") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _named("jlab-orphan") == [], "left a zombie in the host"
