"""A throwaway OpenSSH server on 127.0.0.1 for the transport tests (needs root and /usr/sbin/sshd).

Every session goes through a ForceCommand wrapper that logs the requested command and, driven by
a mode file the test writes, either runs it or simulates a fault (connection drop, hang). sshd
logs at VERBOSE, so "Starting session:" lines count the exec requests the server really saw.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from auditor.collect import plan

USER = "jaudit-test"
SSHD = "/usr/sbin/sshd"

WRAPPER = r"""#!/bin/sh
# ForceCommand for the jitsi-audit transport tests.
printf '%s\n' "${SSH_ORIGINAL_COMMAND:-<no command>}" >> "@DIR@/log/commands.log"
mode=$(cat "@DIR@/mode" 2>/dev/null)
case $mode in
  drop)
    cat >/dev/null
    printf '%s\t1\t1\t%s\n' JITSI-AUDIT-COLLECT "$(cat "@DIR@/plan_sha")"
    printf 'M\teuid\tMTAwMA==\n'
    sleep 0.5
    # kill this session's sshd process: the TCP connection drops without an exit status
    p=$$
    while [ "$p" -gt 1 ]; do
      comm=$(cat "/proc/$p/comm" 2>/dev/null)
      case $comm in sshd*) kill -9 "$p"; exit 0 ;; esac
      p=$(cut -d' ' -f4 "/proc/$p/stat")
    done
    ;;
  hang) cat >/dev/null; sleep 30 ;;
  *) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;
esac
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_user() -> None:
    try:
        pwd.getpwnam(USER)
        return
    except KeyError:
        pass
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/bin/sh", USER],
        check=False,
        capture_output=True,
    )
    pwd.getpwnam(USER)  # raises if it still does not exist
    # '*' (not '!'): no password, but not "locked", which sshd without PAM would refuse
    subprocess.run(["usermod", "-p", "*", USER], check=True, capture_output=True)


def keygen(path: Path, key_type: str = "ed25519") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-f", str(path)], check=True)
    return path


def host_key_line(pub: Path, token: str) -> str:
    key_type, blob = pub.read_text().split()[:2]
    return f"{token} {key_type} {blob}\n"


@dataclass
class Sshd:
    dir: Path
    port: int
    user_key: Path
    other_key: Path
    host_pub: Path
    alt_host_pub: Path
    sudo_collector: Path  # NOPASSWD rule
    sudo_pw_collector: str  # rule that needs a password
    proc: subprocess.Popen[bytes]

    @property
    def token(self) -> str:
        return f"[127.0.0.1]:{self.port}"

    @property
    def log(self) -> Path:
        return self.dir / "sshd.log"

    def known_hosts(self, path: Path, *, wrong: bool = False) -> Path:
        path.write_text(host_key_line(self.alt_host_pub if wrong else self.host_pub, self.token))
        return path

    def set_mode(self, mode: str) -> None:
        (self.dir / "mode").write_text(mode)

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, offset: int, settle: float = 0.3) -> str:
        time.sleep(settle)  # sshd writes its log lines asynchronously
        with self.log.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")


def _install_sudoers(directory: Path, collector: Path, pw_collector: str) -> Path:
    name = f"jaudit-test-{secrets.token_hex(4)}"  # no dot: sudo ignores names with dots
    text = f'{USER} ALL=(root) NOPASSWD: {collector} ""\n{USER} ALL=(root) {pw_collector} ""\n'
    staged = directory / name
    staged.write_text(text)
    staged.chmod(0o440)
    subprocess.run(["visudo", "-cqf", str(staged)], check=True, capture_output=True)
    target = Path("/etc/sudoers.d") / name
    shutil.copy2(staged, target)
    os.chown(target, 0, 0)
    return target


def _kill_sessions(directory: Path) -> None:
    """Stop what our wrapper left running (e.g. the `hang` mode): only process groups whose
    processes run our own wrapper from `directory`."""
    marker = f"{directory}/wrapper.sh".encode()
    own_group = os.getpgid(0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "cmdline").read_bytes():
                group = os.getpgid(int(entry.name))
                if group != own_group:
                    os.killpg(group, 9)
        except (OSError, ProcessLookupError):
            continue


@contextlib.contextmanager
def running_sshd() -> Iterator[Sshd]:
    ensure_user()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="jaudit-sshd-"))
    directory.chmod(0o755)
    sudoers: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    try:
        host_key = keygen(directory / "host_ed25519")
        keygen(directory / "alt_host_ed25519")
        user_key = keygen(directory / "user_ed25519")
        other_key = keygen(directory / "other_ed25519")
        (directory / "authorized_keys").write_text((directory / "user_ed25519.pub").read_text())
        (directory / "authorized_keys").chmod(0o644)
        (directory / "plan_sha").write_text(plan.plan_sha256())
        (directory / "mode").write_text("normal")
        log_dir = directory / "log"
        log_dir.mkdir()
        user = pwd.getpwnam(USER)
        os.chown(log_dir, user.pw_uid, user.pw_gid)
        wrapper = directory / "wrapper.sh"
        wrapper.write_text(WRAPPER.replace("@DIR@", str(directory)))
        wrapper.chmod(0o755)
        collector = directory / "jitsi-audit-collect"
        collector.write_text(plan.collector_script())
        collector.chmod(0o755)
        pw_collector = str(directory / "needs-password-collect")
        sudoers = _install_sudoers(directory, collector, pw_collector)
        port = free_port()
        config = directory / "sshd_config"
        config.write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {directory}/sshd.pid\n"
            f"AuthorizedKeysFile {directory}/authorized_keys\nStrictModes no\nUsePAM no\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
            f"PermitRootLogin no\nAllowUsers {USER}\nAllowTcpForwarding yes\nMaxAuthTries 10\n"
            f"ForceCommand {wrapper}\nLogLevel VERBOSE\nPrintMotd no\n"
        )
        proc = subprocess.Popen(
            [SSHD, "-D", "-f", str(config), "-E", str(directory / "sshd.log")], start_new_session=True
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (directory / "sshd.log").read_text() if (directory / "sshd.log").exists() else ""
                raise RuntimeError(f"sshd did not start: {log[-500:]}")
            time.sleep(0.05)
        yield Sshd(
            directory,
            port,
            user_key,
            other_key,
            directory / "host_ed25519.pub",
            directory / "alt_host_ed25519.pub",
            collector,
            pw_collector,
            proc,
        )
    finally:
        _kill_sessions(directory)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if sudoers is not None:
            sudoers.unlink(missing_ok=True)
        shutil.rmtree(directory, ignore_errors=True)
