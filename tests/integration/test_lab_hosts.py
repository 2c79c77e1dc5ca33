"""The lab hosts themselves, checked with real clients: paramiko (pinned host keys), httpx over TLS
with SNI against the lab CA, BOSH through nginx to prosody, TCP connects from the machine."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

import httpx
import paramiko
import pytest

from tests.lab import VARIANTS, LabError, LabHost, down, up
from tests.lab.clients import bosh_session_start, https_client, sasl_mechanisms, ssh_client, ssh_run
from tests.lab.lab import FAIL_ENV, REPO, alive, link_exists, netns_exists, pid_ns, veth_names
from tests.lab.model import host_dir, state_file

pytestmark = pytest.mark.lab

ALL = sorted(VARIANTS)
WITH_SSH = [v for v in ALL if VARIANTS[v].ssh]
VALID_TLS = [v for v in ALL if VARIANTS[v].cert != "expired"]
WEB_TLS = [v for v in VALID_TLS if "web" in VARIANTS[v].components]  # a web front with a valid certificate
WEB_AND_PROSODY = [v for v in WEB_TLS if "prosody" in VARIANTS[v].components]  # BOSH through nginx to prosody
HostFactory = Callable[..., LabHost]


def tcp_state(address: str, port: int, timeout: float = 3.0) -> str:
    """ "open", "refused" or "timeout"/other for a TCP connect from the machine's namespace."""
    try:
        socket.create_connection((address, port), timeout=timeout).close()
        return "open"
    except ConnectionRefusedError:
        return "refused"
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc))


@pytest.mark.parametrize("variant", WITH_SSH)
def test_ssh_key_login_with_pinned_host_key(lab_host: HostFactory, variant: str) -> None:
    host = lab_host(variant)
    rc, out, _ = ssh_run(host, "id -un; hostname")
    assert rc == 0
    assert out.split() == [host.ssh_user, host.domain]
    assert host.known_hosts_line.startswith(f"[{host.address}]:{host.ssh_port} ssh-ed25519 ")
    assert host.known_hosts_line in Path(host.known_hosts).read_text().splitlines()


def test_ssh_refuses_unknown_host_key(
    hardened_host: LabHost, debian_default_host: LabHost, tmp_path: Path
) -> None:
    # the other host's keys, filed under this host's address: a changed host key must be refused
    other = (
        Path(debian_default_host.known_hosts)
        .read_text()
        .replace(f"[{debian_default_host.address}]", f"[{hardened_host.address}]")
    )
    wrong = tmp_path / "known_hosts"
    wrong.write_text(other)
    with pytest.raises(paramiko.BadHostKeyException):
        ssh_client(hardened_host, known_hosts=str(wrong)).close()
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(paramiko.SSHException):
        ssh_client(hardened_host, known_hosts=str(empty)).close()


@pytest.mark.parametrize("variant", WEB_TLS)
def test_config_js_over_verified_tls_with_sni(lab_host: HostFactory, variant: str) -> None:
    host = lab_host(variant)
    with https_client(host) as client:
        resp = client.get("/config.js")
    assert resp.status_code == 200
    assert "var config" in resp.text
    xmpp_domain = host.extra["xmpp_domain"]
    assert xmpp_domain in resp.text
    # nginx applied the SSI directives (the file on disk still has them)
    assert "<!--#" not in resp.text


def test_expired_certificate_fails_verification(lab_host: HostFactory) -> None:
    host = lab_host("expired-cert")
    with pytest.raises(httpx.ConnectError, match="expired"), https_client(host) as client:
        client.get("/config.js")
    with https_client(host, verify=False) as client:
        assert client.get("/config.js").status_code == 200


@pytest.mark.parametrize("variant", ["hardened", "debian-default", "legacy-2020", "jwt", "docker-style"])
def test_http_redirect_or_plain_app(lab_host: HostFactory, variant: str) -> None:
    host = lab_host(variant)
    resp = httpx.get(
        f"http://{host.address}:{host.http_port}/room",
        headers={"Host": host.domain},
        follow_redirects=False,
        timeout=5,
    )
    if variant == "docker-style":  # ENABLE_HTTP_REDIRECT=0: the app in plain HTTP
        assert resp.status_code == 200
    else:
        assert resp.status_code == 301
        assert resp.headers["location"] == f"https://{host.domain}/room"


@pytest.mark.parametrize("variant", WEB_AND_PROSODY)
def test_bosh_reaches_prosody(lab_host: HostFactory, variant: str) -> None:
    host = lab_host(variant)
    body = bosh_session_start(host)
    assert "sid=" in body
    mechs = sasl_mechanisms(body)
    if host.extra["anonymous_login"]:
        assert mechs == ["ANONYMOUS"]
    else:  # secure domain: passwords on the main domain, anonymous only on guest.<domain>
        assert "ANONYMOUS" not in mechs and "PLAIN" in mechs
        assert sasl_mechanisms(bosh_session_start(host, f"guest.{host.domain}")) == ["ANONYMOUS"]


@pytest.mark.parametrize("variant", ["hardened", "debian-default", "jwt", "docker-style"])
def test_xmpp_websocket_upgrades(lab_host: HostFactory, variant: str) -> None:
    host = lab_host(variant)
    ctx = ssl.create_default_context(cafile=host.ca_cert)
    host_header = host.domain if host.web_port == 443 else f"{host.domain}:{host.web_port}"
    request = (
        f"GET /xmpp-websocket HTTP/1.1\r\nHost: {host_header}\r\nConnection: Upgrade\r\n"
        "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Protocol: xmpp\r\n\r\n"
    )
    with (
        socket.create_connection((host.address, host.web_port), timeout=5) as sock,
        ctx.wrap_socket(sock, server_hostname=host.domain) as tls,
    ):
        tls.sendall(request.encode())
        status_line = tls.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 101"), status_line


@pytest.mark.parametrize("variant", ALL)
def test_ports_from_the_machine(lab_host: HostFactory, variant: str) -> None:
    host = lab_host(variant)
    for spec in host.open_ports:
        proto, port = spec.split("/")
        if proto == "tcp":
            assert tcp_state(host.address, int(port)) == "open", f"{spec} should be reachable"
    for spec in host.closed_ports:
        proto, port = spec.split("/")
        assert tcp_state(host.address, int(port)) == "refused", f"{spec} should be closed"
    if host.ssh_up:
        assert f"tcp/{host.ssh_port}" in host.open_ports
    else:
        assert f"tcp/{host.ssh_port}" in host.closed_ports


def test_exposure_differs_by_variant(
    hardened_host: LabHost, legacy_host: LabHost, debian_default_host: LabHost
) -> None:
    assert {"tcp/5280", "tcp/8888", "tcp/8080", "tcp/5222"} <= set(hardened_host.closed_ports)
    assert {"tcp/5280", "tcp/8888", "tcp/8080", "tcp/5222", "tcp/5269"} <= set(legacy_host.open_ports)
    assert "tcp/9090" in debian_default_host.open_ports
    assert "tcp/8888" in debian_default_host.closed_ports


def _tls_handshake(host: LabHost, version: ssl.TLSVersion) -> bool:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated: that is what this probe is about
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = version
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    try:
        with (
            socket.create_connection((host.address, host.web_port), timeout=5) as sock,
            ctx.wrap_socket(sock, server_hostname=host.domain),
        ):
            return True
    except (ssl.SSLError, OSError):
        return False


def test_tls_versions(hardened_host: LabHost, legacy_host: LabHost) -> None:
    assert _tls_handshake(legacy_host, ssl.TLSVersion.TLSv1)
    assert not _tls_handshake(hardened_host, ssl.TLSVersion.TLSv1)
    assert not _tls_handshake(hardened_host, ssl.TLSVersion.TLSv1_1)
    assert _tls_handshake(hardened_host, ssl.TLSVersion.TLSv1_3)


def _log_records(path: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def test_command_log_records_exec_and_sftp(hardened_host: LabHost) -> None:
    marker = f"lab-probe-{uuid.uuid4().hex[:8]}"
    rc, out, _ = ssh_run(hardened_host, f"echo {marker}")
    assert (rc, out.strip()) == (0, marker)
    client = ssh_client(hardened_host)
    try:
        with client.open_sftp() as sftp:
            attrs = sftp.stat(hardened_host.files["config_js"])
            assert attrs.st_size and attrs.st_size > 0
    finally:
        client.close()
    records = _log_records(hardened_host.command_log)
    assert any(
        r["kind"] == "exec" and r["command"] == f"echo {marker}" and r["user"] == "jaudit" for r in records
    )
    assert any(r["kind"] == "sftp" for r in records)
    sftp_log = Path(hardened_host.sftp_log).read_text()
    assert hardened_host.files["config_js"] in sftp_log
    # the audited account may append to the log but not read or rewrite it
    rc, _, err = ssh_run(hardened_host, f"cat {hardened_host.command_log}")
    assert rc != 0 and "Permission denied" in err


def test_sudo_allows_only_the_collector(hardened_host: LabHost) -> None:
    _, out, err = ssh_run(
        hardened_host,
        "sudo -n /usr/local/libexec/jitsi-audit-collect </dev/null >/dev/null; "
        "echo collector=$?; sudo -n /usr/bin/id -u; echo id=$?",
    )
    assert "collector=0" in out, err
    assert "id=1" in out
    assert "a password is required" in err
    log = Path(hardened_host.sudo_log).read_text()
    assert "COMMAND=/usr/local/libexec/jitsi-audit-collect" in log
    assert "COMMAND=/usr/bin/id" in log


def test_unreadable_config_without_sudo(lab_host: HostFactory) -> None:
    host = lab_host("unreadable-config")
    path = host.files["prosody_host"]
    _, out, err = ssh_run(
        host,
        f"stat -c '%a %U %G' {path}; cat {path}; "
        "sudo -n /usr/local/libexec/jitsi-audit-collect </dev/null; echo sudo=$?",
    )
    assert out.splitlines()[0] == "600 root root"
    assert "Permission denied" in err
    assert "sudo=1" in out
    assert not host.sudo_collector
    # prosody itself still has its configuration (own mount namespace): BOSH works
    assert sasl_mechanisms(bosh_session_start(host)) == ["ANONYMOUS"]


def test_audit_user_reads_group_readable_configs(debian_default_host: LabHost) -> None:
    files = debian_default_host.files
    rc, out, err = ssh_run(
        debian_default_host,
        f"cat {files['prosody_host']} {files['jicofo_conf']} "
        f"{files['jvb_conf']} /etc/prosody/prosody.cfg.lua >/dev/null && echo readable",
    )
    assert rc == 0 and out.strip() == "readable", err


@pytest.mark.parametrize("variant", ALL)
def test_canaries_are_planted(lab_host: HostFactory, variant: str) -> None:
    host = lab_host(variant)
    # every variant has secret-bearing settings, but a web front alone (config.js has none)
    assert host.canaries or VARIANTS[variant].components == ("web",)
    assert all(c.startswith(f"CANARY-{variant}-") for c in host.canaries)
    blobs = b"".join(
        p.read_bytes()
        for p in Path(host.root).rglob("*")
        if p.is_file() and not p.is_symlink() and p.stat().st_size < 1_000_000 and "/var/log/" not in str(p)
    )
    for secret in host.canaries + host.weak_secrets:
        assert secret.encode() in blobs, f"{secret} not found in the host's files"


def test_docker_layout(docker_host: LabHost) -> None:
    root = Path(docker_host.root)
    env = (root / "opt/docker-jitsi-meet/.env").read_text()
    assert "JVB_AUTH_PASSWORD=passw0rd" in env
    assert any(f"JICOFO_AUTH_PASSWORD={c}" in env for c in docker_host.canaries)
    for rel in (
        "web/config.js",
        "prosody/config/conf.d/jitsi-meet.cfg.lua",
        "jicofo/jicofo.conf",
        "jvb/jvb.conf",
    ):
        assert (root / "root/.jitsi-meet-cfg" / rel).is_file()
    _, out, _ = ssh_run(docker_host, "test -r /root/.jitsi-meet-cfg/jvb/jvb.conf && echo yes || echo no")
    assert out.strip() == "no"  # only through the sudo collector


def test_ssh_down_host_serves_web(lab_host: HostFactory) -> None:
    host = lab_host("ssh-down")
    assert not host.ssh_up
    assert tcp_state(host.address, host.ssh_port) == "refused"
    with https_client(host) as client:
        assert client.get("/config.js").status_code == 200


def test_slow_link_adds_latency(lab_host: HostFactory, debian_default_host: LabHost) -> None:
    host = lab_host("slow-link")
    assert host.delay_ms == 50

    def connect_ms(h: LabHost) -> float:
        best = 1e9
        for _ in range(3):
            t = time.monotonic()
            socket.create_connection((h.address, h.web_port), timeout=5).close()
            best = min(best, (time.monotonic() - t) * 1000)
        return best

    assert connect_ms(host) >= host.delay_ms * 0.8
    assert connect_ms(debian_default_host) < 20


def test_up_is_idempotent(hardened_host: LabHost, lab: object) -> None:
    again = up("hardened", hardened_host.name, verbose=False)
    assert (again.address, again.holder_pid, again.canaries) == (
        hardened_host.address,
        hardened_host.holder_pid,
        hardened_host.canaries,
    )


def test_real_etc_is_untouched(hardened_host: LabHost) -> None:
    users = [line.split(":", 1)[0] for line in Path("/etc/passwd").read_text().splitlines()]
    assert hardened_host.ssh_user not in users and "jicofo" not in users
    assert not Path(f"/etc/prosody/conf.d/{hardened_host.domain}.cfg.lua").exists()
    assert not Path("/etc/jitsi").exists()
    assert "/tmp/jitsi-lab" not in Path("/proc/self/mountinfo").read_text()


def test_failed_start_is_loud_and_leaves_nothing(
    debian_default_host: LabHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (the fixture makes this skip, like the others, where the lab cannot run at all)
    name = f"t-fail-{os.environ.get('PYTEST_XDIST_WORKER', 'master')}"
    monkeypatch.setenv(FAIL_ENV, "nginx")
    with pytest.raises(LabError, match=r"nginx exited with status 3[\s\S]*simulated failure of nginx"):
        up("debian-default", name, verbose=False)
    assert not host_dir(name).exists()
    assert not netns_exists(f"jlab-{name}")


def _pid_ns_members(ns: str) -> list[int]:
    """The machine's pids of the processes in PID namespace `ns` ("pid:[inode]")."""
    return [int(e.name) for e in os.scandir("/proc") if e.name.isdigit() and pid_ns(int(e.name)) == ns]


def test_a_host_has_its_own_pid_namespace_and_proc(
    debian_default_host: LabHost, legacy_host: LabHost
) -> None:
    """As on a machine of its own, a session sees only the host's processes: PID 1 is the holder, the
    daemons are there by their own pids, the other host's and the machine's processes are not."""
    host, other = debian_default_host, legacy_host
    ns = pid_ns(host.holder_pid)
    assert ns is not None and ns != pid_ns(os.getpid()) and ns != pid_ns(other.holder_pid)
    assert all(pid_ns(d.pid) == ns for d in host.daemons)
    rc, out, _ = ssh_run(host, "cat /proc/1/comm; cat /proc/[0-9]*/comm 2>/dev/null | sort -u")
    assert rc == 0
    first, names = out.split("\n", 1)
    assert first == "tini"  # the reaper, the holder of the namespace
    seen = set(names.split())
    assert {"sshd", "nginx", "turnserver", "lua5.4"} <= seen, sorted(seen)
    assert Path("/proc/self/comm").read_text().strip() not in seen  # this test's own process
    # the machine's view of the namespace: the holder and the host's daemons, none of the other host's
    members = _pid_ns_members(ns)
    assert host.holder_pid in members and set(host.pids) <= set(members)
    assert not set(other.pids) & set(members)


def test_down_removes_everything(debian_default_host: LabHost) -> None:
    name = f"t-down-{os.environ.get('PYTEST_XDIST_WORKER', 'master')}"
    host = up("debian-default", name, verbose=False)
    # an open SSH session must not keep anything alive
    client = ssh_client(host)
    client.exec_command("sleep 300")
    pids = [d.pid for d in host.daemons] + [host.holder_pid]
    ns = pid_ns(host.holder_pid)
    assert ns is not None
    down(name)
    client.close()
    assert not any(alive(p) for p in pids)
    assert not _pid_ns_members(ns), "a process of the host's PID namespace survived"
    assert not netns_exists(host.netns)
    assert not link_exists(veth_names(int(host.address.rsplit(".", 1)[1]) // 4)[0])
    assert not Path(host.root).parent.exists()
    assert host.root not in Path("/proc/self/mountinfo").read_text()
    # (no probe of the address afterwards: without the link, traffic would leave by the default route)


# Brings a host up in a process of its own that is then SIGKILLed: after `up` returned (an SSH session
# open), or in the middle of `up` (the holder and two daemons started, the state still "starting").
KILLED_LAB_PROCESS = """
import os, signal, sys
from tests.lab import lab
from tests.lab.clients import ssh_client
name, when = sys.argv[1], sys.argv[2]
if when == "starting":
    start, started = lab._start_daemon, []
    def _start(*args):
        if len(started) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        started.append(args[0].name)
        return start(*args)
    lab._start_daemon = _start
host = lab.up("debian-default", name, verbose=False)
ssh_client(host).exec_command("sleep 300")
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("when", ["up", "starting"])
def test_down_after_the_lab_process_was_killed(debian_default_host: LabHost, when: str) -> None:
    """The processes of a host whose lab process died (SIGKILL) are no children of this one: `down` finds
    them from the state file, the host's PID namespace and its network namespace."""
    name = f"t-killed-{when}-{os.environ.get('PYTEST_XDIST_WORKER', 'master')}"
    res = subprocess.run([sys.executable, "-c", KILLED_LAB_PROCESS, name, when], cwd=REPO, timeout=120)
    assert res.returncode == -signal.SIGKILL
    st = json.loads(state_file(name).read_text())
    assert st["status"] == ("up" if when == "up" else "starting")
    holder = int(st["holder"]["pid"])
    pids = [int(d["pid"]) for d in st["daemons"]] + [holder]
    assert len(pids) == (len(debian_default_host.daemons) if when == "up" else 2) + 1
    assert all(alive(p) for p in pids)
    ns = pid_ns(holder)
    assert ns is not None
    down(name)
    assert not any(alive(p) for p in pids)
    assert not _pid_ns_members(ns), "a process of the host's PID namespace survived"
    assert not netns_exists(st["netns"])
    assert not link_exists(st["host_dev"])
    assert not host_dir(name).exists()
    assert str(host_dir(name)) not in Path("/proc/self/mountinfo").read_text()
