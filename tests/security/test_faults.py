"""Faults, end to end through the CLI: every faulty target runs in ONE invocation together with a
healthy lab host, and each fault must give exactly one line `jitsi-audit: TARGET: STAGE: reason`
(the reason naming the host), an incomplete result for that target (exit 3 for the run), and leave
the healthy host's result complete.

The faults are real: a lab host whose sshd is down, a closed port, a name under .invalid (resolved
against a private resolv.conf pointing at a closed loopback port, so no DNS query leaves the
machine), a key the host does not accept, loopback servers that never send an SSH banner or send
something else, the collection stream cut by killing the sshd session on the lab side while the
collector is running, a collector frozen on the lab side (a command that hangs), and, with --sudo,
a host without the NOPASSWD rule (sudo would ask for a password). The changed host key is in
test_host_keys.py. The live probes' faults (TLS handshake failure, HTTP 5xx, slow-loris) are in the
last test: the live checks they feed are unclear with the reason, the rest of the audit complete.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import LabPool
from tests.lab import LabHost
from tests.loopback import Server
from tests.security.conftest import SecHost
from tests.security.labtools import (
    collector_processes,
    commands_since,
    log_offset,
    log_since,
    signal_all,
    ssh_config,
    sshd_sessions,
    wait_for,
    written_bytes,
)
from tests.security.support import REPO, CliRun, finish_cli, start_cli

pytestmark = pytest.mark.lab

TIMEOUT = "10"  # --timeout: connect 10 s, whole collection 60 s


@dataclass(frozen=True)
class Fault:
    name: str
    stage: str
    reason: str  # regex; {addr} and {port} are filled in
    sudo: bool = False


FAULTS = [
    Fault("sshd-down", "connect", r"connection to {addr}:2222 refused"),
    Fault("closed-port", "connect", r"connection to {addr}:2223 refused"),
    Fault("dns-failure", "connect", r"cannot resolve no-such-host\.invalid: "),
    Fault("auth-failure", "auth", r"authentication failed for jaudit@{addr}:2222 \(tried: "),
    Fault("no-ssh-banner", "connect",
          r"SSH handshake with 127\.0\.0\.1:{port} failed: no SSH banner within 10s \(not an SSH server, or a silent one\)"),
    Fault("not-an-ssh-server", "connect",
          r"SSH handshake with 127\.0\.0\.1:{port} failed: the connection closed before an SSH banner \(not an SSH server\?\)"),
    Fault("stream-dropped", "collect", r"connection to {addr} (dropped during collection|failed during collection)"),
    Fault("collector-hangs", "collect", r"collection on {addr} timed out after 60s \(\d+ bytes, \d+ items received\)"),
    Fault("sudo-needs-password", "sudo", r"sudo needs a password on {addr}", sudo=True),
]


# -- loopback servers that are not SSH servers ------------------------------------------------
def _silent(conn: socket.socket) -> None:
    pass  # accept and never say a word (kept open until the test ends: keep_open)


def _not_ssh(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")  # then closed by the server


# -- lab-side interference ------------------------------------------------------------------
@dataclass
class Interference:
    """What was done to a host's audit session, from another thread, while the CLI ran."""

    host: LabHost
    kill_session: bool  # True: cut the connection; False: leave the collector frozen (a hang)
    notes: list[str] = field(default_factory=list)
    frozen: list[Any] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        shell = wait_for(lambda: [p for p in collector_processes(self.host) if " -s" in p.cmdline], 240, 0.02)
        if not shell:
            self.notes.append("the collector never started")
            return
        # The stream has begun: the collector shell itself has written records (sshd's own count also
        # holds the script it wrote to the collector's stdin, so it can pass 4 KB before any output).
        wait_for(lambda: written_bytes(shell[0].pid) > 4096, 60, 0.002)
        self.frozen = collector_processes(self.host)
        signal_all(self.frozen, signal.SIGSTOP)
        self.notes.append(f"froze {len(self.frozen)} collector processes after the collector wrote "
                          f"{written_bytes(shell[0].pid)} bytes")
        if self.kill_session:
            # what the frozen collector wrote reaches the client (its kernel acknowledged every byte sshd
            # sent) before the cut: the cut is mid-stream, after data arrived
            acked = wait_for(lambda: self._unacknowledged() == 0, 20, 0.01)
            self.notes.append("the client acknowledged all sent data" if acked else "unacknowledged data left")
            time.sleep(1.0)
            sessions = sshd_sessions(self.host)
            signal_all(sessions, signal.SIGKILL)
            self.notes.append(f"killed {len(sessions)} sshd session processes")

    def _unacknowledged(self) -> int | None:
        """Bytes sshd sent on the host's SSH connections that the client has not acknowledged, from the
        host's network namespace (/proc/PID/net/tcp: local port, state, tx_queue); None if unreadable."""
        sessions = [p for p in sshd_sessions(self.host) if p.uid != 0]
        if not sessions:
            return None
        try:
            rows = Path(f"/proc/{sessions[0].pid}/net/tcp").read_text().splitlines()[1:] + \
                Path(f"/proc/{sessions[0].pid}/net/tcp6").read_text().splitlines()[1:]
        except OSError:
            return None
        port = f"{self.host.ssh_port:04X}"
        queued = [int(f[4].split(":")[0], 16) for f in (r.split() for r in rows)
                  if f[1].rsplit(":", 1)[1] == port and f[3] == "01"]  # ESTABLISHED
        return sum(queued) if queued else None

    def cleanup(self) -> None:
        if self.thread is not None:
            self.thread.join(timeout=5)
        signal_all(collector_processes(self.host), signal.SIGKILL)  # the frozen collector of our session
        signal_all(sshd_sessions(self.host), signal.SIGKILL)


def private_dns(tmp_path: Path) -> list[str]:
    """A prefix that runs the CLI with /etc/resolv.conf pointing at a closed loopback port."""
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    script = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, str(resolv)]


@dataclass
class FaultRun:
    run: CliRun
    targets: dict[str, str]  # fault name -> target as given
    hosts: dict[str, LabHost]  # fault name -> lab host behind it
    ports: dict[str, int]
    healthy: LabHost
    notes: dict[str, list[str]]
    offsets: dict[str, int]


def _expect(fr: FaultRun, fault: Fault) -> re.Pattern[str]:
    host = fr.hosts.get(fault.name)
    addr = re.escape(host.address) if host else ""
    return re.compile(fault.reason.format(addr=addr, port=fr.ports.get(fault.name, 0)))


@pytest.fixture(scope="module")
def fault_run(sec_host: SecHost, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultRun]:
    tmp = tmp_path_factory.mktemp("faults")
    healthy, down, slow, hang, auth = (
        sec_host(v) for v in ("hardened", "ssh-down", "slow-link", "debian-default", "jwt")
    )
    silent, not_ssh = Server(_silent, keep_open=True), Server(_not_ssh)
    targets = {
        "collector-hangs": hang.ssh_target,  # the long ones first: the pool has 8 workers
        "no-ssh-banner": f"ssh://jaudit@127.0.0.1:{silent.port}",
        "stream-dropped": slow.ssh_target,
        "sshd-down": down.ssh_target,
        "closed-port": f"ssh://jaudit@{healthy.address}:2223",
        "dns-failure": "ssh://jaudit@no-such-host.invalid:2222",
        "auth-failure": "ssh://jaudit@wrong-key-alias:2222",
        "not-an-ssh-server": f"ssh://jaudit@127.0.0.1:{not_ssh.port}",
    }
    hosts = {"collector-hangs": hang, "stream-dropped": slow, "sshd-down": down, "closed-port": healthy,
             "auth-failure": auth}  # fmt: skip
    ports = {"no-ssh-banner": silent.port, "not-an-ssh-server": not_ssh.port}
    kh = tmp / "known_hosts"
    kh.write_text("".join(Path(h.known_hosts).read_text() for h in (healthy, slow, hang, auth)))
    cfg = ssh_config([healthy, slow, hang], tmp / "ssh_config", aliases={"wrong-key-alias": (auth, healthy.ssh_key)})
    offsets = {h.name: log_offset(h.command_log) for h in (healthy, slow, hang, auth)}
    interference = [Interference(slow, kill_session=True), Interference(hang, kill_session=False)]
    args = [healthy.ssh_target, *targets.values(), "--known-hosts", str(kh), "--ssh-config", str(cfg),
            "--timeout", TIMEOUT, "--no-probes", "-f", "json", "-o", "report.json", "-o", "report.txt"]  # fmt: skip
    started = start_cli(args, tmp / "run", prefix=private_dns(tmp))
    for i in interference:
        i.start()
    try:
        run = finish_cli(started)
    finally:
        for i in interference:
            i.cleanup()
        silent.close()
        not_ssh.close()
    notes = {"stream-dropped": interference[0].notes, "collector-hangs": interference[1].notes}
    yield FaultRun(run, targets, hosts, ports, healthy, notes, offsets)


@pytest.fixture(scope="module")
def sudo_run(sec_host: SecHost, tmp_path_factory: pytest.TempPathFactory) -> FaultRun:
    tmp = tmp_path_factory.mktemp("sudo")
    healthy, legacy = sec_host("hardened"), sec_host("legacy-2020")
    assert not legacy.sudo_collector  # the variant has no NOPASSWD rule
    kh = tmp / "known_hosts"
    kh.write_text("".join(Path(h.known_hosts).read_text() for h in (healthy, legacy)))
    cfg = ssh_config([healthy, legacy], tmp / "ssh_config")
    offsets = {h.name: log_offset(h.command_log) for h in (healthy, legacy)}
    offsets["sudo_log"] = log_offset(legacy.sudo_log)
    args = [healthy.ssh_target, legacy.ssh_target, "--known-hosts", str(kh), "--ssh-config", str(cfg),
            "--sudo", "--timeout", TIMEOUT, "--no-probes", "-f", "json", "-o", "report.json"]  # fmt: skip
    run = finish_cli(start_cli(args, tmp / "run"))
    return FaultRun(
        run, {"sudo-needs-password": legacy.ssh_target}, {"sudo-needs-password": legacy}, {}, healthy, {}, offsets
    )


def _healthy_is_complete(fr: FaultRun, checks: int | None = None) -> None:
    t = fr.run.target(fr.healthy.ssh_target)
    assert t["complete"] and t["error"] is None, t["error"]
    assert t["host_key"] and t["collected"] and t["facts"]["auth.main"] is not None
    assert t["findings"] and not [f for f in t["findings"] if f["message"].startswith("check failed to run")]
    assert [e for e in fr.run.error_lines() if e.startswith(f"jitsi-audit: {fr.healthy.ssh_target}:")] == []


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault(fault: Fault, request: pytest.FixtureRequest) -> None:
    fr: FaultRun = request.getfixturevalue("sudo_run" if fault.sudo else "fault_run")
    run = fr.run
    assert run.code == 3, run.diagnose()
    target = fr.targets[fault.name]
    t = run.target(target)
    assert t["complete"] is False and t["error_stage"] == fault.stage, (t["error_stage"], t["error"], fr.notes)
    assert _expect(fr, fault).search(t["error"]), (t["error"], fr.notes.get(fault.name))
    lines = [ln for ln in run.error_lines() if ln.startswith(f"jitsi-audit: {target}: ")]
    assert lines == [f"jitsi-audit: {target}: {fault.stage}: {t['error']}"], run.error_lines()
    assert len(lines[0]) < 800
    _healthy_is_complete(fr)


def test_the_dropped_stream_kept_what_arrived(fault_run: FaultRun) -> None:
    t = fault_run.run.target(fault_run.targets["stream-dropped"])
    assert any("killed" in n for n in fault_run.notes["stream-dropped"]), fault_run.notes
    match = re.search(r"\((\d+) bytes, (\d+) items received\)", t["error"] or "")
    if match:  # "dropped during collection (N bytes, M items received)"
        assert int(match.group(1)) > 0
    # one session, the allow-listed command, and it was cut: nothing else was run to recover
    slow = fault_run.hosts["stream-dropped"]
    assert [r["command"] for r in commands_since(slow, fault_run.offsets[slow.name])] == ["/bin/sh -s"]


def test_the_hung_collector_costs_the_timeout_only(fault_run: FaultRun) -> None:
    hang = fault_run.hosts["collector-hangs"]
    assert any("froze" in n for n in fault_run.notes["collector-hangs"]), fault_run.notes
    assert [r["command"] for r in commands_since(hang, fault_run.offsets[hang.name])] == ["/bin/sh -s"]
    # the auth failure never got a session either
    auth = fault_run.hosts["auth-failure"]
    assert commands_since(auth, fault_run.offsets[auth.name]) == []


def test_sudo_never_prompts(sudo_run: FaultRun) -> None:
    legacy = sudo_run.hosts["sudo-needs-password"]
    records = commands_since(legacy, sudo_run.offsets[legacy.name])
    assert [r["command"] for r in records] == ["sudo -n /usr/local/libexec/jitsi-audit-collect"]
    log = log_since(legacy.sudo_log, sudo_run.offsets["sudo_log"])
    assert "password" in log.lower() or "incorrect" in log.lower() or log == "", log


# -- live probes: TLS handshake failure, HTTP 5xx, slow-loris -------------------------------------
@pytest.fixture(scope="module")
def web_fault_host(sec_lab: LabPool) -> LabHost:
    """A host of its own (its nginx is replaced by misbehaving servers for the rest of the session)."""
    return sec_lab.get("hardened", "sec-webfault")


def _replace_nginx(host: LabHost, mode: str) -> subprocess.Popen[bytes]:
    for d in host.daemons:
        if d.name == "nginx":
            stat = Path(f"/proc/{d.pid}/stat").read_text() if Path(f"/proc/{d.pid}").exists() else ""
            if stat and int(stat.rsplit(")", 1)[1].split()[19]) == d.starttime:
                subprocess.run(["kill", "-TERM", "--", str(d.pid)], check=False)  # the lab's nginx of this host
    deadline = time.monotonic() + 10
    proc = None
    while time.monotonic() < deadline:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", host.netns, sys.executable, "-m", "tests.security.badweb", mode],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        if proc.stdout.readline().strip() == b"ready":
            return proc
        proc.wait()
        time.sleep(0.2)  # nginx still holds the ports
    raise AssertionError(f"badweb did not start: {proc.stderr.read().decode() if proc and proc.stderr else ''}")


@pytest.mark.parametrize("mode", ["tls-garbage", "slow-loris"])
def test_probe_faults(web_fault_host: LabHost, sec_host: SecHost, tmp_path: Path, mode: str) -> None:
    healthy = sec_host("hardened")
    server = _replace_nginx(web_fault_host, mode)
    try:
        kh = tmp_path / "known_hosts"
        kh.write_text("".join(Path(h.known_hosts).read_text() for h in (healthy, web_fault_host)))
        cfg = ssh_config([healthy, web_fault_host], tmp_path / "ssh_config")
        args = [web_fault_host.ssh_target, healthy.ssh_target, "--known-hosts", str(kh), "--ssh-config", str(cfg),
                "--domain", web_fault_host.domain, "-f", "json", "-o", "report.json", "-o", "report.txt"]  # fmt: skip
        run = finish_cli(start_cli(args, tmp_path / "run"))
    finally:
        server.kill()  # our own process, by its handle
        server.wait()
    # the fault leaves the live evidence incomplete: exit 3, one line naming the host and the probe
    assert run.code == 3, run.diagnose()
    lines = [ln for ln in run.messages() if web_fault_host.ssh_target in ln and ": probe " in ln]
    assert lines and all("\n" not in ln for ln in lines), run.diagnose()
    bad = run.target(web_fault_host.ssh_target)
    # the SSH evidence is complete; the probes that met the fault say so, their checks are unclear
    assert bad["complete"] and bad["collected"], bad["error"]
    live = bad.get("probes", {}).get("live")
    assert live, sorted(bad)
    runs = {r["name"]: r for r in live["runs"]}
    findings = {f["check_id"]: f for f in bad["findings"]}
    if mode == "tls-garbage":
        # the TLS handshake fails: what needs the HTTPS front is unclear, and says why
        assert findings["live.tls_mozilla_intermediate"]["status"] == "unclear"
        assert "could not be scanned" in findings["live.tls_mozilla_intermediate"]["message"]
        assert findings["live.hsts"]["status"] == "unclear"
        assert "did not answer" in findings["live.hsts"]["message"]
        # and the 5xx is what the web front answered on port 80
        port80 = [p for p in live["exposure"]["ports"] if p["port"] == 80]
        assert port80 and "503" in (port80[0]["answer"] or ""), port80
    else:
        # headers that trickle forever: the HTTP probe ends at its budget, its checks are unclear
        assert runs["http"]["status"] == "timeout", runs
        assert findings["live.hsts"]["status"] == "unclear"
        assert "timed out" in findings["live.hsts"]["message"]
    for f in findings.values():
        if f["check_id"].startswith("live.") and f["status"] == "unclear":
            assert f["message"].strip() and "\n" not in f["message"]
    ok = run.target(healthy.ssh_target)
    assert ok["complete"] and ok["collected"] and ok["facts"]
