"""Bring lab hosts up and down.

Each host is:
- a network namespace `jlab-<name>` linked to the machine by a veth pair with a link-local /30
  (169.254.77.4i+1 on the machine, .4i+2 inside), so "internal" means 127.0.0.1 of that namespace
  and nothing listens on the machine's real interfaces;
- a holder process (`ip netns exec NS unshare --mount --uts --pid --fork --mount-proc --propagation
  private tini -- sleep infinity`: tini is PID 1 of a PID namespace of the host's own, with its own
  /proc, and reaps its orphans) whose private mount namespace bind-mounts the host's own tree (/tmp/jitsi-lab/<name>/root/...)
  over /etc, /var/log, /run, /home, /root, /opt, /var/lib/prosody, /usr/share/jitsi-meet ... so
  several hosts with different configurations run at once and the machine's /etc is never changed;
- real daemons started with `nsenter -t HOLDER -m -u -n -p` (so an SSH session sees the host's files,
  and only the host's processes in /proc, as on a machine of its own), each tracked by the machine's
  pid of the process nsenter forks and its /proc start time. Killing the holder (SIGKILL: PID 1 of a
  namespace ignores other signals from outside) kills every process left in the host.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from . import common, configs, docker, pki
from .model import (
    COLLECTOR_PATH,
    CREATED_PATHS_FILE,
    DOMAIN_SUFFIX,
    INDEX_FILE,
    LAB_DIR,
    MAX_HOSTS,
    NET_PREFIX,
    SSH_PORT,
    SSH_USER,
    DaemonInfo,
    LabError,
    LabHost,
    LabUnavailable,
    Listener,
    host_dir,
    read_json,
    state_file,
    write_json,
)
from .packages import ensure_packages
from .plan import HostContext, Plan
from .variants import Variant, get_variant

PYTHON = "/usr/bin/python3"
REPO = Path(__file__).resolve().parents[2]
COLLECTOR_SOURCE = REPO / "auditor" / "collect" / "remote_collector.sh"
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
READY_TIMEOUT = float(os.environ.get("JITSI_LAB_READY_TIMEOUT", "30"))
FAIL_ENV = "JITSI_LAB_FAIL_DAEMON"  # name of a daemon to replace by one that exits (tests only)
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")

# Directories (and one file) of the host that come from its private tree. Mount points missing on
# the machine are created empty and removed again with the last host (see CREATED_PATHS_FILE).
BIND_DIRS = [
    "/etc",
    "/var/log",
    "/run",
    "/home",
    "/root",
    "/opt",
    "/var/lib/prosody",
    "/var/lib/nginx",
    "/var/lib/turn",
    "/usr/share/jitsi-meet",
    "/usr/local/libexec",
]
DPKG_STATUS = "/var/lib/dpkg/status"

# Popen objects of the processes this Python process started, so `down` can reap them (no zombies),
# by the pid the lab tracks: for the holder and the daemons that is the child the Popen's unshare or
# nsenter forked into the host's PID namespace, not the Popen's own pid.
_children: dict[int, subprocess.Popen[bytes]] = {}


def log(msg: str) -> None:
    print(f"jitsi-lab: {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and res.returncode != 0:
        raise LabError(f"command failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr.strip()}")
    return res


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabUnavailable("the lab needs root (network namespaces, bind mounts, daemons on ports < 1024)")


@contextlib.contextmanager
def lab_lock() -> Iterator[None]:
    """Serialize up/down across processes (pytest-xdist workers, the CLI). The lock is taken on the
    parent directory so no lock file is left behind."""
    fd = os.open(str(LAB_DIR.parent), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# ----------------------------------------------------------------------------------------- processes
def proc_starttime(pid: int) -> int | None:
    """Start time (clock ticks since boot) of a live, non-zombie process; None when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def alive(pid: int, starttime: int | None = None) -> bool:
    st = proc_starttime(pid)
    return st is not None and (starttime is None or st == starttime)


def child_pid(pid: int) -> int | None:
    """The (first) child of process `pid`, from /proc/PID/task/PID/children; None when it has none."""
    with contextlib.suppress(OSError, ValueError):
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return int(kids[0]) if kids else None
    return None


def pid_ns(pid: int) -> str | None:
    """The PID namespace of process `pid` ("pid:[inode]"); None when gone."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def _reap(pid: int) -> None:
    child = _children.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=1)


def kill_pids(
    pids: list[tuple[int, int | None]], grace: float = 3.0, first: signal.Signals = signal.SIGTERM
) -> list[int]:
    """`first` (SIGTERM), wait, SIGKILL. Only pids whose start time still matches are signalled.
    Returns the pids still alive at the end (should be none)."""
    live = [(p, s) for p, s in pids if alive(p, s)]
    for p, _ in live:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, first)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        for p, _ in live:
            if p in _children:
                _children[p].poll()
        live = [(p, s) for p, s in live if alive(p, s)]
        if not live:
            break
        time.sleep(0.05)
    for p, _ in live:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    time.sleep(0.05 if live else 0)
    for p, _ in pids:
        _reap(p)
    return [p for p, s in pids if alive(p, s)]


def log_tail(path: str | Path, lines: int = 25) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.rstrip().splitlines()[-lines:]) or "(empty log)"


# ------------------------------------------------------------------------------------------- network
def netns_name(name: str) -> str:
    return f"jlab-{name}"


def veth_names(idx: int) -> tuple[str, str]:
    return f"jlab{idx}h", f"jlab{idx}n"


def addresses(idx: int) -> tuple[str, str]:
    return f"{NET_PREFIX}{4 * idx + 1}", f"{NET_PREFIX}{4 * idx + 2}"


def netns_exists(ns: str) -> bool:
    return Path(f"/run/netns/{ns}").exists()


def link_exists(dev: str) -> bool:
    return Path(f"/sys/class/net/{dev}").exists()


def _setup_link(ns: str, idx: int, delay_ms: int, st: dict[str, Any]) -> None:
    hdev, ndev = veth_names(idx)
    gw, addr = addresses(idx)
    try:
        run(["ip", "netns", "add", ns])
    except LabError as exc:
        raise LabUnavailable(f"cannot create a network namespace here: {exc}") from exc
    st["netns"] = ns
    link = "veth"
    if delay_ms:
        run(["ip", "link", "add", hdev, "type", "veth", "peer", "name", ndev, "netns", ns])
        netem = run(
            ["tc", "qdisc", "add", "dev", hdev, "root", "netem", "delay", f"{delay_ms}ms"], check=False
        )
        if netem.returncode != 0:
            # No sch_netem in this kernel: replace the veth by two TAP devices joined by a userspace
            # wire that holds each frame towards the host for delay_ms.
            run(["ip", "link", "del", hdev])
            wire = Path(__file__).with_name("delaywire.py")
            logf = host_dir(st["name"]) / "delaywire.log"
            with open(logf, "ab") as out:
                proc = subprocess.Popen(
                    [PYTHON, "-I", str(wire), hdev, ndev, str(delay_ms)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    start_new_session=True,
                    env=ENV,
                )
            _children[proc.pid] = proc
            st["daemons"].append(
                asdict(DaemonInfo("delaywire", proc.pid, proc_starttime(proc.pid) or 0, str(logf)))
            )
            write_json(state_file(st["name"]), st)
            deadline = time.monotonic() + 5
            while not (link_exists(hdev) and link_exists(ndev)):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise LabError(f"delay wire did not create its TAP devices:\n{log_tail(logf)}")
                time.sleep(0.02)
            run(["ip", "link", "set", ndev, "netns", ns])
            link = "tap-delay"
    else:
        run(["ip", "link", "add", hdev, "type", "veth", "peer", "name", ndev, "netns", ns])
    st["link"] = link
    st["host_dev"] = hdev
    with contextlib.suppress(OSError):  # no IPv6 link-local chatter on the machine's side
        Path(f"/proc/sys/net/ipv6/conf/{hdev}/disable_ipv6").write_text("1")
    run(["ip", "addr", "add", f"{gw}/30", "dev", hdev])
    run(["ip", "link", "set", hdev, "up"])
    run(["ip", "-n", ns, "addr", "add", f"{addr}/30", "dev", ndev])
    run(["ip", "-n", ns, "link", "set", ndev, "up"])
    run(["ip", "-n", ns, "link", "set", "lo", "up"])


# ---------------------------------------------------------------------------------------- user files
class Accounts:
    """The host's copy of passwd/group/shadow/gshadow, edited in place (the machine's stay untouched)."""

    def __init__(self, etc: Path) -> None:
        self.etc = etc
        self.passwd = [ln.split(":") for ln in (etc / "passwd").read_text().splitlines() if ln]
        self.group = [ln.split(":") for ln in (etc / "group").read_text().splitlines() if ln]

    def uid(self, user: str) -> int:
        for f in self.passwd:
            if f[0] == user:
                return int(f[2])
        raise LabError(f"no user {user} in the host's passwd")

    def gid(self, group: str) -> int:
        for f in self.group:
            if f[0] == group:
                return int(f[2])
        raise LabError(f"no group {group} in the host's group file")

    def primary_gid(self, user: str) -> int:
        for f in self.passwd:
            if f[0] == user:
                return int(f[3])
        raise LabError(f"no user {user}")

    def has_group(self, group: str) -> bool:
        return any(f[0] == group for f in self.group)

    def _free(self, used: set[int], start: int, step: int) -> int:
        n = start
        while n in used:
            n += step
        return n

    def add_group(self, group: str, system: bool = True) -> int:
        if self.has_group(group):
            return self.gid(group)
        gid = self._free({int(f[2]) for f in self.group}, 990 if system else 1100, -1 if system else 1)
        self.group.append([group, "x", str(gid), ""])
        self._append("gshadow", f"{group}:!::")
        return gid

    def add_user(self, user: str, home: str, shell: str, gecos: str, system: bool = True) -> int:
        gid = self.add_group(user, system)
        used = {int(f[2]) for f in self.passwd}
        uid = gid if gid not in used else self._free(used, 990 if system else 1100, -1 if system else 1)
        self.passwd.append([user, "x", str(uid), str(gid), gecos, home, shell])
        self._append("shadow", f"{user}:*:20000:0:99999:7:::")
        return uid

    def add_member(self, group: str, user: str) -> None:
        for f in self.group:
            if f[0] == group:
                members = [m for m in f[3].split(",") if m]
                if user not in members:
                    f[3] = ",".join([*members, user])

    def _append(self, fname: str, line: str) -> None:
        p = self.etc / fname
        if p.exists():
            text = p.read_text()
            p.write_text(text + ("" if text.endswith("\n") or not text else "\n") + line + "\n")

    def save(self) -> None:
        (self.etc / "passwd").write_text("".join(":".join(f) + "\n" for f in self.passwd))
        (self.etc / "group").write_text("".join(":".join(f) + "\n" for f in self.group))


def _dpkg_stanza(pkg: str, version: str) -> str:
    return (
        f"Package: {pkg}\nStatus: install ok installed\nPriority: optional\nSection: net\n"
        f"Installed-Size: 1\nMaintainer: Jitsi Team <dev@jitsi.org>\nArchitecture: all\n"
        f"Version: {version}\nDescription: {pkg} (jitsi-audit lab: package record only)\n\n"
    )


def _drop_dpkg_records(path: Path, packages: list[str]) -> None:
    """Remove the records of `packages` from the host's copy of the machine's dpkg status."""
    drop = {f"Package: {pkg}" for pkg in packages}
    stanzas = path.read_text().split("\n\n")
    path.write_text("\n\n".join(s for s in stanzas if not drop & set(s.splitlines())))


# --------------------------------------------------------------------------------------------- index
def _index() -> dict[str, Any]:
    data = read_json(INDEX_FILE, {})
    return data if isinstance(data, dict) else {}


def _allocate_idx(index: dict[str, Any]) -> int:
    used = {int(e["idx"]) for e in index.values()}
    for i in range(MAX_HOSTS):
        hdev, _ = veth_names(i)
        if i not in used and not link_exists(hdev):
            return i
    raise LabError(f"no free lab slot ({MAX_HOSTS} hosts at most)")


def _created_paths() -> list[str]:
    data = read_json(CREATED_PATHS_FILE, [])
    return list(data) if isinstance(data, list) else []


def _ensure_mountpoints() -> None:
    created = _created_paths()
    for d in BIND_DIRS:
        p = Path(d)
        if not p.exists():
            p.mkdir(parents=False, mode=0o755)
            created.append(d)
    if not Path(DPKG_STATUS).exists():
        raise LabUnavailable(f"{DPKG_STATUS} missing: not a Debian system?")
    write_json(CREATED_PATHS_FILE, created)


def _remove_created_paths() -> None:
    for d in reversed(_created_paths()):
        with contextlib.suppress(OSError):
            os.rmdir(d)  # only if still empty
    CREATED_PATHS_FILE.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------ up
def up(
    variant: str, name: str | None = None, *, delay_ms: int | None = None, verbose: bool = True
) -> LabHost:
    """Start (or return the already running) lab host `name` of `variant`; see the module doc."""
    require_root()
    v = get_variant(variant, delay_ms)
    name = name or variant
    if not NAME_RE.match(name):
        raise LabError(f"invalid host name {name!r}: use [a-z0-9-], at most 32 characters")
    ensure_packages(verbose)
    with lab_lock():
        LAB_DIR.mkdir(mode=0o711, exist_ok=True)
        current = _load(name)
        if current is not None:
            if current.variant != v.name or current.delay_ms != v.delay_ms:
                raise LabError(
                    f"lab host {name!r} is already up as {current.variant} "
                    f"(delay {current.delay_ms} ms); run `down --name {name}` first"
                )
            problems = health(current)
            if not problems:
                if verbose:
                    log(f"{name} ({v.name}) already up at {current.address}")
                return current
            log(f"{name}: not healthy ({'; '.join(problems)}), recreating")
        if host_dir(name).exists() or name in _index():
            _down_locked(name)
        t0 = time.monotonic()
        try:
            host = _create(v, name, t0)
        except BaseException:
            if os.environ.get("JITSI_LAB_KEEP_FAILED") != "1":
                with contextlib.suppress(Exception):
                    _down_locked(name)
            raise
    if verbose:
        log(f"{name} ({v.name}) ready at {host.address} ({host.domain}) in {host.ready_seconds:.1f} s")
    return host


def _load(name: str) -> LabHost | None:
    data = read_json(state_file(name), None)
    if not isinstance(data, dict) or data.get("status") != "up":
        return None
    try:
        return LabHost.from_json(data["host"])
    except (KeyError, TypeError):
        return None


def _write_tree(root: Path, hd: Path) -> None:
    root.mkdir(mode=0o700)
    # The host's /etc starts as a copy of the machine's (as installed by the packages), then diverges.
    run(["cp", "-a", "/etc", str(root / "etc")])
    for d in BIND_DIRS[1:]:
        target = root / d.lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        src = Path(d)
        stt = src.stat()
        os.chown(target, stt.st_uid, stt.st_gid)
        target.chmod(stt.st_mode & 0o7777)
    shutil.copy2(DPKG_STATUS, hd / "dpkg-status")


def _real(root: Path, path: str) -> Path:
    for d in sorted(BIND_DIRS, key=len, reverse=True):
        if path == d or path.startswith(d + "/"):
            return root / path.lstrip("/")
    raise LabError(f"lab bug: {path} is outside the host's private tree")


def _apply(plan: Plan, root: Path, acc: Accounts) -> None:
    def owner(user: str, group: str) -> tuple[int, int]:
        return acc.uid(user), acc.gid(group)

    for path in plan.remove:
        p = _real(root, path)
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)
    for dspec in plan.dirs:
        p = _real(root, dspec.path)
        p.mkdir(parents=True, exist_ok=True)
        os.chown(p, *owner(dspec.owner, dspec.group))
        p.chmod(dspec.mode)
    for fspec in plan.files:
        p = _real(root, fspec.path)
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.is_symlink():
            p.unlink()
        p.write_bytes(fspec.content)
        os.chown(p, *owner(fspec.owner, fspec.group))
        p.chmod(fspec.mode)
    for fspec in plan.private:
        p = Path(fspec.path)
        p.parent.mkdir(parents=True, exist_ok=True)
        os.chown(p.parent, *owner(fspec.owner, fspec.group))  # only that user may even look inside
        p.parent.chmod(0o700)
        p.write_bytes(fspec.content)
        os.chown(p, *owner(fspec.owner, fspec.group))
        p.chmod(fspec.mode)
    for link, target in plan.links.items():
        p = _real(root, link)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.unlink(missing_ok=True)
        p.symlink_to(target)


def _start_holder(ns: str, hd: Path) -> int:
    holder_log = open(hd / "holder.log", "ab")  # noqa: SIM115 - handed to the child, closed below
    sleep = shutil.which("sleep") or "/bin/sleep"
    # tini as PID 1 reaps the namespace's orphans (a bare `sleep` left them zombies until `down`, their
    # names still in the host's process list); it runs the sleep as its child
    tini = shutil.which("tini") or "/usr/bin/tini"
    proc = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            ns,
            "unshare",
            "--mount",
            "--uts",
            "--pid",
            "--fork",
            "--mount-proc",
            "--propagation",
            "private",
            "--",
            tini,
            "--",
            sleep,
            "infinity",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=holder_log,
        start_new_session=True,
        env=ENV,
    )
    holder_log.close()  # the child has its own copy of the descriptor
    _children[proc.pid] = proc
    own_mnt = os.readlink("/proc/self/ns/mnt")
    own_pid_ns = os.readlink("/proc/self/ns/pid")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabError(f"namespace holder exited ({proc.returncode}):\n{log_tail(hd / 'holder.log')}")
        # unshare (proc.pid) forks; the holder is its child, PID 1 of the new PID namespace, once that
        # child has mounted its /proc and become tini
        holder = child_pid(proc.pid)
        with contextlib.suppress(OSError):
            if (
                holder
                and os.readlink(f"/proc/{holder}/ns/mnt") != own_mnt
                and os.readlink(f"/proc/{holder}/ns/pid") != own_pid_ns
                and os.readlink(f"/proc/{holder}/exe").endswith("tini")
            ):
                _children[holder] = _children.pop(proc.pid)
                return holder
        time.sleep(0.005)
    raise LabError("namespace holder did not start within 5 s")


def _mount_tree(holder: int, root: Path, hd: Path, hostname: str) -> None:
    lines = ["set -e"]
    for d in BIND_DIRS:
        lines.append(f"mount --bind '{root}{d}' '{d}'")
    lines.append(f"mount --bind '{hd}/dpkg-status' '{DPKG_STATUS}'")
    lines.append(f"hostname '{hostname}'")
    res = run(
        ["nsenter", "-t", str(holder), "-m", "-u", "-p", "--", "sh", "-c", "\n".join(lines)],
        check=False,
        env=ENV,
    )
    if res.returncode != 0:
        raise LabUnavailable(
            f"cannot bind-mount the host's tree in its mount namespace: {res.stderr.strip()}"
        )


def _start_daemon(
    spec: Any, holder: int, root: Path, acc: Accounts
) -> tuple[DaemonInfo, subprocess.Popen[bytes]]:
    inner_log = spec.stdout or f"/var/log/jitsi-lab/{spec.name}.log"
    logf = _real(root, inner_log)
    logf.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["nsenter", "-t", str(holder), "-m", "-u", "-n", "-p", "--"]
    if spec.user:
        uid = acc.uid(spec.user)
        cmd += ["setpriv", f"--reuid={uid}", f"--regid={acc.primary_gid(spec.user)}", "--init-groups", "--"]
        logf.touch()
        os.chown(logf, uid, acc.primary_gid(spec.user))
    if spec.overlays:
        # a mount namespace of its own, inside the host's, where some files are replaced
        script = " && ".join(
            f"mount --bind {shlex.quote(src)} {shlex.quote(dst)}" for dst, src in spec.overlays.items()
        )
        cmd[cmd.index("--") + 1 : cmd.index("--") + 1] = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            script + ' && exec "$@"',
            "sh",
        ]
    cmd += spec.argv
    with open(logf, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True, env=ENV, cwd="/"
        )
    # nsenter forks into the host's PID namespace and waits: the daemon is that child (the machine's pid
    # of it). Only when nsenter exits first (the daemon failed at once) is nsenter's own pid recorded.
    pid = child_pid(proc.pid)
    deadline = time.monotonic() + 5
    while pid is None and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
        pid = child_pid(proc.pid)
    pid = pid or proc.pid
    _children[pid] = proc
    return DaemonInfo(spec.name, pid, proc_starttime(pid) or 0, str(logf)), proc


def read_sockets(pid: int) -> set[tuple[str, str, int]]:
    """Listening TCP and bound UDP sockets of the network namespace of `pid` (from /proc, no fork)."""
    out: set[tuple[str, str, int]] = set()
    for proto, fname, state in (
        ("tcp", "tcp", "0A"),
        ("tcp", "tcp6", "0A"),
        ("udp", "udp", "07"),
        ("udp", "udp6", "07"),
    ):
        try:
            lines = Path(f"/proc/{pid}/net/{fname}").read_text().splitlines()[1:]
        except OSError:
            continue
        for ln in lines:
            parts = ln.split()
            if len(parts) < 4 or parts[3] != state:
                continue
            hexaddr, hexport = parts[1].split(":")
            raw = bytes.fromhex(hexaddr)
            if len(raw) == 4:
                addr = socket.inet_ntop(socket.AF_INET, raw[::-1])
            else:
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                addr = socket.inet_ntop(socket.AF_INET6, words)
                if addr.startswith("::ffff:"):
                    addr = addr[7:]
            out.add((proto, addr, int(hexport, 16)))
    return out


def listener_ok(lst: Listener, sockets: set[tuple[str, str, int]], address: str) -> bool:
    wanted = {"0.0.0.0": {"0.0.0.0", "::"}, "::": {"::"}, "*": {"0.0.0.0", "::", address}}.get(
        lst.addr, {lst.addr}
    )
    return any((lst.proto, a, lst.port) in sockets for a in wanted)


def _create(v: Variant, name: str, t0: float) -> LabHost:
    index = _index()
    idx = _allocate_idx(index)
    gw, addr = addresses(idx)
    ns = netns_name(name)
    domain = v.domain or f"meet.{name}.{DOMAIN_SUFFIX}"
    hd = host_dir(name)
    root = hd / "root"
    hd.mkdir(mode=0o711)
    st: dict[str, Any] = {
        "name": name,
        "variant": v.name,
        "idx": idx,
        "status": "starting",
        "netns": ns,
        "host_dev": veth_names(idx)[0],
        "daemons": [],
        "holder": None,
    }
    write_json(state_file(name), st)
    index[name] = {"idx": idx, "variant": v.name, "status": "starting"}
    write_json(INDEX_FILE, index)

    _ensure_mountpoints()
    _write_tree(root, hd)
    acc = Accounts(root / "etc")

    # keys and certificates
    ca_dir = hd / "ca"
    ca_dir.mkdir(mode=0o755)
    ca_pair, ca_key, ca_cert = pki.make_ca(f"jitsi-audit lab CA ({name})")
    (ca_dir / "ca.crt").write_bytes(ca_pair.cert_pem)
    (ca_dir / "ca.key").write_bytes(ca_pair.key_pem)
    (ca_dir / "ca.key").chmod(0o600)
    web_names = [domain, f"*.{domain}", "localhost"]
    if v.cert == "self-signed":
        web = pki.make_self_signed(web_names)
        web_ca = ca_dir / "web-self-signed.crt"
        web_ca.write_bytes(web.cert_pem)
    elif v.cert == "expired":
        import datetime as dt

        now = dt.datetime.now(dt.UTC)
        web = pki.make_leaf(
            ca_key,
            ca_cert,
            web_names,
            not_before=now - dt.timedelta(days=120),
            not_after=now - dt.timedelta(days=30),
        )
        web_ca = ca_dir / "ca.crt"
    else:
        web = pki.make_leaf(ca_key, ca_cert, web_names)
        web_ca = ca_dir / "ca.crt"
    xmpp_domain = "meet.jitsi" if v.family == "docker" else domain
    xmpp = pki.make_leaf(ca_key, ca_cert, [xmpp_domain, f"*.{xmpp_domain}"])
    xmpp_auth = pki.make_leaf(ca_key, ca_cert, [f"auth.{xmpp_domain}"])
    keys = hd / "keys"
    keys.mkdir(mode=0o700)
    audit_key = pki.ssh_keypair("ed25519", f"jitsi-audit@{name}")
    (keys / "jaudit_ed25519").write_bytes(audit_key.private_openssh)
    (keys / "jaudit_ed25519").chmod(0o600)
    (keys / "jaudit_ed25519.pub").write_text(audit_key.public_line + "\n")
    host_keys = {kind: pki.ssh_keypair(kind, f"root@{domain}") for kind in ("ed25519", "ecdsa", "rsa")}
    (hd / "bin").mkdir(mode=0o755)
    standin = hd / "bin" / "standin.py"
    shutil.copy(Path(__file__).with_name("standin.py"), standin)
    standin.chmod(0o644)

    collector = COLLECTOR_SOURCE.read_bytes() if COLLECTOR_SOURCE.is_file() else common.COLLECTOR_PLACEHOLDER
    ctx = HostContext(
        name=name,
        variant=v.name,
        domain=domain,
        address=addr,
        state_dir=str(hd),
        ca=ca_pair,
        web=web,
        web_ca_path=str(web_ca),
        xmpp=xmpp,
        xmpp_auth=xmpp_auth,
        python=PYTHON,
        standin=str(standin),
        collector=collector,
    )
    plan = Plan()
    if v.family == "docker":
        docker.build(plan, ctx, v)
    else:
        debian_cfg = (root / "etc/prosody/prosody.cfg.lua").read_text()
        configs.build(plan, ctx, v, debian_cfg)
    if not v.ssh:
        plan.closed_ports.append(f"tcp/{SSH_PORT}")

    # accounts: service users, the audit user and its groups
    for g in plan.groups:
        acc.add_group(g)
    for user, groups in plan.users.items():
        acc.add_user(user, f"/usr/share/{user}", "/usr/sbin/nologin", f"{user} (jitsi-audit lab)")
        for g in groups:
            acc.add_member(g, user)
    acc.add_user(SSH_USER, f"/home/{SSH_USER}", "/bin/bash", "jitsi-audit read-only account", system=False)
    for g in plan.audit_groups:
        if acc.has_group(g):
            acc.add_member(g, SSH_USER)
    acc.save()

    # per-host identity and SSH material
    plan.add("/etc/hostname", domain + "\n")
    plan.add(
        "/etc/hosts",
        f"127.0.0.1\tlocalhost\n{addr}\t{domain} meet\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    )
    for path in [p for p in (root / "etc/ssh").glob("ssh_host_*")]:
        path.unlink()
    for kind, key in host_keys.items():
        plan.add(f"/etc/ssh/ssh_host_{kind}_key", key.private_openssh, 0o600)
        plan.add(f"/etc/ssh/ssh_host_{kind}_key.pub", key.public_line + "\n")
    plan.dir(f"/home/{SSH_USER}", 0o750, SSH_USER, SSH_USER)
    plan.dir(f"/home/{SSH_USER}/.ssh", 0o700, SSH_USER, SSH_USER)
    plan.add(
        f"/home/{SSH_USER}/.ssh/authorized_keys", audit_key.public_line + "\n", 0o600, SSH_USER, SSH_USER
    )
    plan.dir("/var/log/jitsi-lab", 0o755)
    _apply(plan, root, acc)
    if plan.dpkg_drop:
        _drop_dpkg_records(hd / "dpkg-status", plan.dpkg_drop)
    with open(hd / "dpkg-status", "a") as f:
        for pkg, version in plan.dpkg:
            f.write(_dpkg_stanza(pkg, version))
    # command logs: the audit user may append but not read them
    jgid = acc.gid(SSH_USER)
    for fname in ("commands.log", "sftp.log"):
        p = hd / fname
        p.touch()
        os.chown(p, 0, jgid)
        p.chmod(0o620)
    if v.sudo:
        chk = run(["visudo", "-c", "-f", str(root / "etc/sudoers.d/jitsi-audit")], check=False)
        if chk.returncode != 0:
            raise LabError(f"sudoers rule rejected by visudo: {chk.stdout}{chk.stderr}")

    # namespaces
    _setup_link(ns, idx, v.delay_ms, st)
    write_json(state_file(name), st)
    holder = _start_holder(ns, hd)
    st["holder"] = {"pid": holder, "starttime": proc_starttime(holder)}
    write_json(state_file(name), st)
    _mount_tree(holder, root, hd, domain)

    # daemons
    started: list[tuple[Any, DaemonInfo, subprocess.Popen[bytes]]] = []
    fail = os.environ.get(FAIL_ENV)
    for spec in plan.daemons + ([common.sshd_daemon()] if v.ssh else []):
        if spec.name == fail:  # tests of the failure path: this daemon dies at once
            spec = replace(spec, argv=["sh", "-c", f"echo simulated failure of {fail} >&2; exit 3"])
        info, proc = _start_daemon(spec, holder, root, acc)
        started.append((spec, info, proc))
        st["daemons"].append(asdict(info))
        write_json(state_file(name), st)
    expected = [lst for spec, _, _ in started for lst in spec.listeners]
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        for spec, info, proc in started:
            if proc.poll() is not None:
                raise LabError(
                    f"{name}: {spec.name} exited with status {proc.returncode} while starting; "
                    f"last lines of {info.log}:\n{log_tail(info.log)}"
                )
        socks = read_sockets(holder)
        missing = [lst for lst in expected if not listener_ok(lst, socks, addr)]
        if not missing:
            break
        if time.monotonic() > deadline:
            details = "\n".join(
                f"--- {spec.name} ({info.log}):\n{log_tail(info.log, 10)}"
                for spec, info, _ in started
                if any(m.owner == spec.name for m in missing)
            )
            raise LabError(
                f"{name}: not ready after {READY_TIMEOUT:.0f} s; missing listeners: "
                f"{', '.join(f'{m.owner} {m.proto}/{m.addr}:{m.port}' for m in missing)}\n{details}"
            )
        time.sleep(0.05)
    # and the link works from the machine's side
    public_tcp = sorted({lst.port for lst in expected if lst.proto == "tcp" and lst.public})
    for port in public_tcp:
        try:
            socket.create_connection((addr, port), timeout=5).close()
        except OSError as exc:
            raise LabError(
                f"{name}: {addr}:{port} listens inside the namespace but is unreachable "
                f"from the machine: {exc}"
            ) from exc

    kh_lines = [f"[{addr}]:{SSH_PORT} {' '.join(k.public_line.split()[:2])}" for k in host_keys.values()]
    (hd / "known_hosts").write_text("\n".join(kh_lines) + "\n")
    open_ports = sorted({f"{lst.proto}/{lst.port}" for lst in expected if lst.public})
    host = LabHost(
        name=name,
        variant=v.name,
        address=addr,
        gateway=gw,
        domain=domain,
        ssh_port=SSH_PORT,
        ssh_user=SSH_USER,
        ssh_key=str(keys / "jaudit_ed25519"),
        known_hosts=str(hd / "known_hosts"),
        known_hosts_line=kh_lines[0],
        ca_cert=str(web_ca),
        web_port=plan.web_port,
        http_port=plan.http_port,
        sudo_collector=v.sudo,
        ssh_up=v.ssh,
        open_ports=open_ports,
        closed_ports=sorted(set(plan.closed_ports)),
        listeners=expected,
        canaries=plan.canaries,
        weak_secrets=plan.weak_secrets,
        files={
            **plan.roles,
            "collector": COLLECTOR_PATH,
            "sshd_dropin": "/etc/ssh/sshd_config.d/50-site.conf",
        },
        command_log=str(hd / "commands.log"),
        sftp_log=str(hd / "sftp.log"),
        sudo_log=str(root / "var/log/sudo.log"),
        netns=ns,
        root=str(root),
        holder_pid=holder,
        daemons=[info for _, info, _ in started]
        + [DaemonInfo(**d) for d in st["daemons"] if d["name"] == "delaywire"],
        delay_ms=v.delay_ms,
        link=st.get("link", "veth"),
        ready_seconds=round(time.monotonic() - t0, 2),
        extra={
            "xmpp_domain": plan.xmpp_domain,
            "anonymous_login": plan.anonymous_login,
            "lab_ca": str(ca_dir / "ca.crt"),
            "observed_sockets": sorted(f"{p}/{a}:{n}" for p, a, n in read_sockets(holder)),
        },
    )
    st.update(status="up", host=host.to_json())
    write_json(state_file(name), st)
    index = _index()
    index[name] = {
        "idx": idx,
        "variant": v.name,
        "status": "up",
        "address": addr,
        "domain": domain,
        "state": str(state_file(name)),
    }
    write_json(INDEX_FILE, index)
    return host


# ---------------------------------------------------------------------------------------------- down
def down(name: str) -> None:
    """Stop every process of host `name`, remove its namespaces, link and files."""
    require_root()
    if not LAB_DIR.exists():
        return
    with lab_lock():
        _down_locked(name)


def down_all() -> list[str]:
    require_root()
    if not LAB_DIR.exists():
        return []
    with lab_lock():
        names = sorted(set(_index()) | {p.name for p in LAB_DIR.iterdir() if (p / "state.json").exists()})
        for n in names:
            _down_locked(n)
    return names


def _netns_pids(ns: str) -> list[int]:
    if not netns_exists(ns):
        return []
    res = run(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in res.stdout.split() if x.isdigit()]


def _down_locked(name: str) -> None:
    st = read_json(state_file(name), {}) or {}
    entry = _index().get(name, {})
    idx = st.get("idx", entry.get("idx"))
    ns = st.get("netns") or netns_name(name)
    pids: list[tuple[int, int | None]] = [
        (int(d["pid"]), d.get("starttime") or None) for d in st.get("daemons", [])
    ]
    holder = st.get("holder")
    hpid = int(holder["pid"]) if holder and alive(int(holder["pid"]), holder.get("starttime")) else None
    host_pids = pid_ns(hpid) if hpid else None
    # First SIGTERM for the host's own processes (daemons, SSH sessions): those of its PID namespace but
    # PID 1. Not the nsenter and unshare processes outside it: they reap their child and exit with it;
    # killed first, they would leave it to the machine's init to reap, and PID 1 of the namespace waits
    # for that before it exits. Without a live holder: everything in the network namespace.
    inside = [p for p in _netns_pids(ns) if p != hpid and (host_pids is None or pid_ns(p) == host_pids)]
    pids += [(p, None) for p in inside if p not in {q for q, _ in pids}]
    leftover = kill_pids(pids)
    # Then the holder, by SIGKILL (PID 1 of a namespace ignores SIGTERM from outside): the kernel kills
    # every process still in the namespace with it.
    if holder:
        leftover += kill_pids([(int(holder["pid"]), holder.get("starttime"))], first=signal.SIGKILL)
    # Last whatever is left in the network namespace (unshare, nsenter, `ip netns exec` processes).
    leftover += kill_pids([(p, None) for p in _netns_pids(ns)], grace=1.0)
    if netns_exists(ns):
        run(["ip", "netns", "del", ns], check=False)
    if idx is not None:
        hdev = veth_names(int(idx))[0]
        if link_exists(hdev):
            run(["ip", "link", "del", hdev], check=False)
    problems = []
    if leftover:
        problems.append(f"processes still alive: {sorted(set(leftover))}")
    if netns_exists(ns):
        problems.append(f"netns {ns} still exists")
    if idx is not None and link_exists(veth_names(int(idx))[0]):
        problems.append(f"link {veth_names(int(idx))[0]} still exists")
    hd = host_dir(name)
    mounts = Path("/proc/self/mountinfo").read_text()
    if str(hd) in mounts:
        problems.append(f"something of {hd} is still mounted in the machine's mount namespace")
    elif hd.exists():
        shutil.rmtree(hd, ignore_errors=True)
    index = _index()
    index.pop(name, None)
    if index:
        write_json(INDEX_FILE, index)
    else:
        INDEX_FILE.unlink(missing_ok=True)
        _remove_created_paths()
        with contextlib.suppress(OSError):
            LAB_DIR.rmdir()
    if problems:
        raise LabError(f"down {name}: " + "; ".join(problems))


# -------------------------------------------------------------------------------------------- status
def health(host: LabHost) -> list[str]:
    """What is wrong with a running host (empty = healthy)."""
    problems = []
    if not alive(host.holder_pid):
        problems.append("namespace holder is gone")
        return problems
    for d in host.daemons:
        if not alive(d.pid, d.starttime):
            problems.append(f"{d.name} (pid {d.pid}) is not running")
    socks = read_sockets(host.holder_pid)
    for lst in host.listeners:
        if not listener_ok(lst, socks, host.address):
            problems.append(f"{lst.owner} not listening on {lst.proto}/{lst.addr}:{lst.port}")
    return problems


def status() -> list[tuple[LabHost | None, str, list[str]]]:
    """(host, name, problems) for every host in the index."""
    out: list[tuple[LabHost | None, str, list[str]]] = []
    for name in sorted(_index()):
        host = _load(name)
        out.append((host, name, health(host) if host else ["not up (starting or failed)"]))
    return out


def get(name: str) -> LabHost | None:
    """The state of a running host, or None."""
    return _load(name)
