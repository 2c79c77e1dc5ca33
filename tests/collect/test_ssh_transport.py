"""The paramiko transport against a real, throwaway OpenSSH server (root only)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.collect import plan
from auditor.processes import process_names
from auditor.snapshot import ItemStatus
from auditor.transports.errors import AuthError, CollectError, ConnectError, HostKeyError
from auditor.transports.ssh import SshOptions, collect_over_ssh, remote_command
from auditor.transports.targets import parse_target

from .sshd_server import SSHD, USER, Sshd, free_port, running_sshd

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="starts sshd and creates a test user: needs root"),
    pytest.mark.skipif(
        not Path(SSHD).exists(), reason="OpenSSH server not installed (apt-get install openssh-server)"
    ),
]


@pytest.fixture(scope="module")
def sshd() -> Iterator[Sshd]:
    with running_sshd() as server:
        yield server


@pytest.fixture(autouse=True)
def _normal_mode(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sshd" in request.fixturenames:
        request.getfixturevalue("sshd").set_mode("normal")


def opts(sshd: Sshd, known: Path, **kw: object) -> SshOptions:
    base: dict[str, object] = {
        "known_hosts": known,
        "identity_files": (sshd.user_key,),
        "use_agent": False,
        "use_ssh_config": False,
        "connect_timeout": 10.0,
        "command_timeout": 60.0,
    }
    base.update(kw)
    return SshOptions(**base)  # type: ignore[arg-type]


def target(sshd: Sshd) -> str:
    return f"ssh://{USER}@127.0.0.1:{sshd.port}"


def sessions(log: str) -> int:
    return len(re.findall(r"Starting session: ", log))


def host_fingerprint(pub: Path) -> str:
    out = subprocess.run(
        ["ssh-keygen", "-lf", str(pub), "-E", "sha256"], capture_output=True, text=True, check=True
    )
    return out.stdout.split()[1]


def test_key_auth_collects_in_one_exec(sshd: Sshd, tmp_path: Path) -> None:
    offset = sshd.log_size()
    snap = collect_over_ssh(parse_target(target(sshd)), opts(sshd, sshd.known_hosts(tmp_path / "kh")))
    log = sshd.log_since(offset)
    assert sessions(log) == 1, log
    assert "Starting session: forced-command" in log
    assert snap.transport == "ssh" and snap.facts["collection"] == "complete", snap.errors
    assert snap.errors == []
    assert snap.host_key is not None
    assert snap.host_key.key_type == "ssh-ed25519"
    assert snap.host_key.fingerprint_sha256 == host_fingerprint(sshd.host_pub)
    assert snap.facts["user"] == USER and snap.facts["ssh.user"] == USER and snap.facts["privileged"] == "no"
    assert snap.facts["sudo"] == "no"
    assert snap.command("uname") is not None and snap.finished_at is not None
    assert "/etc/os-release" in snap.items
    commands = (sshd.dir / "log/commands.log").read_text().splitlines()
    assert commands[-1] == "/bin/sh -s" == remote_command(SshOptions())


def test_unknown_host_key_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    offset = sshd.log_size()
    with pytest.raises(HostKeyError) as info:
        collect_over_ssh(parse_target(target(sshd)), opts(sshd, known))
    text = str(info.value)
    assert (
        f"host key for {sshd.token} not in known_hosts (use --accept-new-host-key to trust on first use)"
        in text
    )
    assert host_fingerprint(sshd.host_pub) in text and "\n" not in text
    assert info.value.stage == "host key" and info.value.host == "127.0.0.1"
    log = sshd.log_since(offset)
    assert "Accepted publickey" not in log and sessions(log) == 0  # we never authenticated
    assert known.read_text() == ""


def test_missing_known_hosts_file_is_unknown(sshd: Sshd, tmp_path: Path) -> None:
    with pytest.raises(HostKeyError):
        collect_over_ssh(parse_target(target(sshd)), opts(sshd, tmp_path / "absent"))
    assert not (tmp_path / "absent").exists()


def test_accept_new_writes_known_hosts(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "ssh" / "known_hosts"
    snap = collect_over_ssh(parse_target(target(sshd)), opts(sshd, known, accept_new_host_key=True))
    assert snap.facts["ssh.host_key_new"] == "yes"
    line = known.read_text()
    key_type, blob = sshd.host_pub.read_text().split()[:2]
    assert line == f"{sshd.token} {key_type} {blob}\n"
    assert known.stat().st_mode & 0o777 == 0o600
    again = collect_over_ssh(parse_target(target(sshd)), opts(sshd, known))  # now strict mode passes
    assert again.facts["ssh.host_key_new"] == "no"
    assert known.read_text() == line


def test_changed_host_key_is_refused_even_with_accept_new(sshd: Sshd, tmp_path: Path) -> None:
    known = sshd.known_hosts(tmp_path / "kh", wrong=True)
    before = known.read_text()
    with pytest.raises(HostKeyError) as info:
        collect_over_ssh(parse_target(target(sshd)), opts(sshd, known, accept_new_host_key=True))
    text = str(info.value)
    assert "has CHANGED" in text
    assert host_fingerprint(sshd.alt_host_pub) in text and host_fingerprint(sshd.host_pub) in text
    assert info.value.known == host_fingerprint(sshd.alt_host_pub)
    assert known.read_text() == before


def test_a_known_hosts_line_that_cannot_be_read_is_not_a_changed_key(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "kh"
    known.write_text(f"{sshd.token} ssh-ed25519 !!notbase64\n")
    with pytest.raises(HostKeyError) as info:
        collect_over_ssh(parse_target(target(sshd)), opts(sshd, known))
    text = str(info.value)
    assert "not in known_hosts" in text and "CHANGED" not in text
    assert f"{known} line 1 names it with a key that cannot be read" in text
    snap = collect_over_ssh(parse_target(target(sshd)), opts(sshd, known, accept_new_host_key=True))
    assert snap.facts["ssh.host_key_new"] == "yes" and len(known.read_text().splitlines()) == 2


def test_revoked_host_key_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    known = sshd.known_hosts(tmp_path / "kh")
    key_type, blob = sshd.host_pub.read_text().split()[:2]
    known.write_text(known.read_text() + f"@revoked * {key_type} {blob}\n")
    with pytest.raises(HostKeyError, match="@revoked"):
        collect_over_ssh(parse_target(target(sshd)), opts(sshd, known))


def test_wrong_key_is_auth_error(sshd: Sshd, tmp_path: Path) -> None:
    known = sshd.known_hosts(tmp_path / "kh")
    with pytest.raises(AuthError) as info:
        collect_over_ssh(parse_target(target(sshd)), opts(sshd, known, identity_files=(sshd.other_key,)))
    text = str(info.value)
    assert (
        text.startswith("auth: authentication failed for jaudit-test@127.0.0.1:")
        and str(sshd.other_key) in text
    )
    assert "BEGIN" not in text  # never key material


@pytest.mark.parametrize("fmt", ["openssh", "pem"])
def test_a_passphrase_protected_key_is_named_as_such(sshd: Sshd, tmp_path: Path, fmt: str) -> None:
    """An encrypted OpenSSH-format key reaches us as cryptography's TypeError, a PEM one as paramiko's
    PasswordRequiredException: both are the same auth-stage answer, not a connect-stage TypeError."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    key = ed25519.Ed25519PrivateKey.generate() if fmt == "openssh" else rsa.generate_private_key(65537, 2048)
    form = serialization.PrivateFormat.OpenSSH if fmt == "openssh" else serialization.PrivateFormat.TraditionalOpenSSL
    path = tmp_path / "enc_key"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, form,
                                       serialization.BestAvailableEncryption(b"a passphrase")))
    known = sshd.known_hosts(tmp_path / "kh")
    with pytest.raises(AuthError) as info:
        collect_over_ssh(parse_target(target(sshd)), opts(sshd, known, identity_files=(path,)))
    assert f"{path}: passphrase-protected: load it into ssh-agent" in str(info.value)


def test_agent_keys_are_used(sshd: Sshd, tmp_path: Path) -> None:
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    sock = agent_dir / "sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", "-q", str(sshd.user_key)], env=env, check=True, capture_output=True)
        old = os.environ.get("SSH_AUTH_SOCK")
        os.environ["SSH_AUTH_SOCK"] = str(sock)
        try:
            options = opts(sshd, sshd.known_hosts(tmp_path / "kh"), identity_files=(), use_agent=True)
            # no -i and no default keys for root in this test: only the agent can succeed
            snap = collect_over_ssh(parse_target(target(sshd)), options)
        finally:
            if old is None:
                del os.environ["SSH_AUTH_SOCK"]
            else:
                os.environ["SSH_AUTH_SOCK"] = old
        assert snap.facts["collection"] == "complete"
    finally:
        agent.terminate()
        agent.wait()


def test_connection_refused(tmp_path: Path) -> None:
    port = free_port()
    options = SshOptions(
        known_hosts=tmp_path / "kh", use_agent=False, use_ssh_config=False, connect_timeout=5
    )
    with pytest.raises(ConnectError) as info:
        collect_over_ssh(parse_target(f"127.0.0.1:{port}"), options)
    assert str(info.value) == f"connect: connection to 127.0.0.1:{port} refused"


def test_dns_failure(tmp_path: Path) -> None:
    options = SshOptions(
        known_hosts=tmp_path / "kh", use_agent=False, use_ssh_config=False, connect_timeout=5
    )
    with pytest.raises(ConnectError, match=r"cannot resolve no-such-host\.invalid"):
        collect_over_ssh(parse_target("no-such-host.invalid"), options)


def test_sudo_password_prompt_fails_fast(sshd: Sshd, tmp_path: Path) -> None:
    options = opts(sshd, sshd.known_hosts(tmp_path / "kh"), sudo=True, sudo_collector=sshd.sudo_pw_collector)
    started = time.monotonic()
    with pytest.raises(CollectError) as info:
        collect_over_ssh(parse_target(target(sshd)), options)
    assert time.monotonic() - started < 10
    assert info.value.stage == "sudo"
    assert str(info.value) == (
        "sudo: sudo needs a password on 127.0.0.1; install the collector and a NOPASSWD rule, see docs"
    )
    commands = (sshd.dir / "log/commands.log").read_text().splitlines()
    assert commands[-1] == f"sudo -n {sshd.sudo_pw_collector}"


def test_sudo_with_installed_collector(sshd: Sshd, tmp_path: Path) -> None:
    offset = sshd.log_size()
    options = opts(
        sshd, sshd.known_hosts(tmp_path / "kh"), sudo=True, sudo_collector=str(sshd.sudo_collector)
    )
    snap = collect_over_ssh(parse_target(target(sshd)), options)
    assert sessions(sshd.log_since(offset)) == 1
    assert snap.facts["collection"] == "complete", snap.errors
    assert snap.facts["euid"] == "0" and snap.facts["privileged"] == "yes" and snap.facts["sudo"] == "yes"
    assert snap.facts["user"] == "root"


def test_connection_dropped_mid_stream_keeps_what_arrived(sshd: Sshd, tmp_path: Path) -> None:
    sshd.set_mode("drop")
    with pytest.raises(CollectError) as info:
        collect_over_ssh(parse_target(target(sshd)), opts(sshd, sshd.known_hosts(tmp_path / "kh")))
    assert "dropped during collection" in str(info.value)
    partial = info.value.snapshot
    assert partial is not None and partial.facts["collection"] == "incomplete"
    assert partial.facts.get("euid") == "1000"  # the record that arrived before the drop
    assert any("stream ended early" in e for e in partial.errors)
    assert partial.host_key is not None


def test_hanging_collection_times_out(sshd: Sshd, tmp_path: Path) -> None:
    sshd.set_mode("hang")
    started = time.monotonic()
    with pytest.raises(CollectError, match="timed out after 2s"):
        collect_over_ssh(
            parse_target(target(sshd)), opts(sshd, sshd.known_hosts(tmp_path / "kh"), command_timeout=2)
        )
    assert time.monotonic() - started < 15


def _jump_config(sshd: Sshd, tmp_path: Path) -> Path:
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host meet-behind-bastion\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {USER}\n"
        f"  ProxyJump {USER}@127.0.0.1:{sshd.port}\n  IdentityFile {sshd.user_key}\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n"  # must be ignored
    )
    return config


def test_proxyjump_through_the_same_sshd(sshd: Sshd, tmp_path: Path) -> None:
    offset = sshd.log_size()
    options = opts(
        sshd, sshd.known_hosts(tmp_path / "kh"), use_ssh_config=True, ssh_config=_jump_config(sshd, tmp_path)
    )
    snap = collect_over_ssh(parse_target("meet-behind-bastion"), options)
    log = sshd.log_since(offset)
    assert snap.facts["collection"] == "complete"
    assert snap.facts["ssh.jump"] == f"{USER}@127.0.0.1:{sshd.port}"
    assert sessions(log) == 1  # the jump host only forwards
    assert len(re.findall(r"Accepted publickey", log)) == 2
    assert "direct-tcpip" in log or "Connection from 127.0.0.1" in log


def test_proxyjump_host_key_is_strict_too(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "kh"
    known.write_text("")
    options = opts(sshd, known, use_ssh_config=True, ssh_config=_jump_config(sshd, tmp_path))
    with pytest.raises(HostKeyError, match=r"\(jump host\) not in known_hosts"):
        collect_over_ssh(parse_target("meet-behind-bastion"), options)


def test_sudo_collector_path_default() -> None:
    assert remote_command(SshOptions(sudo=True)) == f"sudo -n {plan.SUDO_COLLECTOR_PATH}"


def test_snapshot_items_match_local_run(sshd: Sshd, tmp_path: Path) -> None:
    """The SSH stream is the same collector: same keys and statuses as a local run as that user."""
    snap = collect_over_ssh(parse_target(target(sshd)), opts(sshd, sshd.known_hosts(tmp_path / "kh")))
    assert all(i.status in set(ItemStatus) for i in snap.items.values())
    assert {k for k in snap.items if k.startswith("cmd:")} == {f"cmd:{c.name}" for c in plan.COMMANDS} | {
        f"cmd:{plan.CMD_PROCESSES}"}
    names = process_names(snap)  # the machine's processes: the sshd serving this session among them
    assert names is not None and "sshd" in names, snap.command(plan.CMD_PROCESSES)


def test_proxycommand_from_ssh_config(sshd: Sshd, tmp_path: Path) -> None:
    known = sshd.known_hosts(tmp_path / "kh")
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host via-proxycommand\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {USER}\n"
        f"  IdentityFile {sshd.user_key}\n"
        f"  ProxyCommand ssh -q -i {sshd.user_key} -o BatchMode=yes -o UserKnownHostsFile={known} "
        f"-o StrictHostKeyChecking=yes -p {sshd.port} -W %h:%p {USER}@127.0.0.1\n"
    )
    offset = sshd.log_size()
    snap = collect_over_ssh(
        parse_target("via-proxycommand"), opts(sshd, known, use_ssh_config=True, ssh_config=config)
    )
    assert snap.facts["collection"] == "complete"
    assert sessions(sshd.log_since(offset)) == 1
