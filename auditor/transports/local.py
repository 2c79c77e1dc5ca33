"""Local transports.

`collect_local_dir(root)`: a copy of a whole host's root (is_host_copy: a backup, a disk image) is read
by the collector as that host would be (collect_host_copy); any other directory (a config repository, a
docker CONFIG volume) is walked into a Snapshot. Keys are the path relative to `root` with a leading "/"
(`root/etc/prosody/x` → `/etc/prosody/x`, `root/web/config.js` → `/web/config.js`). Symlinks are
resolved with `root` taken as `/` first (a `cp -a` copy of a host keeps Debian's absolute links),
then as the auditor's machine resolves them, and followed only to a regular file inside `root`;
loops and links leading outside are `not_regular`. Private keys are recorded with metadata only, as on remote hosts.

`collect_local_host()`: the `local://` target: runs the same collector script as SSH audits, as
the current user, and decodes its stream.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import grp
import os
import pwd
import resource
import signal
import stat
import subprocess
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from auditor.collect import plan
from auditor.collect.stream import StreamDecoder, StreamLimits, one_line
from auditor.snapshot import HOST_COPY_LAYOUT, CollectedItem, ItemStatus, Snapshot
from auditor.transports import dpkg_status
from auditor.transports.errors import CollectError
from auditor.transports.pipes import read_output

SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".tox", ".mypy_cache", ".pytest_cache",
     ".ruff_cache", ".idea", ".vscode", ".terraform"}
)  # fmt: skip
# The address space of the collector reading a copy of a host's root (each of its processes): the copy's
# symlinks can make the shell's globs of the compose search (/home/*/*/*/*/) expand without end (100
# links to `.` in /home: 10^8 paths, gigabytes before the timeout); a live host's take a few MB.
HOST_COPY_MEMORY_CAP = 1024 * 1024 * 1024
# dpkg's database in a copy of a host's root: thousands of package files, never configuration; its
# status file gives the package versions instead (dpkg_status)
DPKG_DIR = os.path.dirname(dpkg_status.STATUS_PATH)


@dataclass(frozen=True, slots=True)
class DirLimits:
    file_cap: int = plan.FILE_SIZE_CAP
    total_cap: int = 4 * plan.TOTAL_SIZE_CAP
    max_files: int = 5000
    max_depth: int = 32


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _key(rel: str) -> str:
    # os.fsencode undoes surrogateescape, so undecodable names show up as \xNN, not surrogates.
    return "/" + os.fsencode(rel).decode("utf-8", errors="backslashreplace").replace(os.sep, "/")


class _Walker:
    def __init__(self, root: Path, limits: DirLimits, snapshot: Snapshot) -> None:
        self.root = root
        self.limits = limits
        self.snapshot = snapshot
        self.total = 0
        self.files = 0
        self.skipped = 0

    def _add(self, rel: str, status: ItemStatus, st: os.stat_result | None = None, **kw: object) -> None:
        meta: dict[str, object] = {}
        if st is not None:
            meta = {
                "size": st.st_size,
                "mode": stat.S_IMODE(st.st_mode),
                "owner": _owner(st.st_uid),
                "group": _group(st.st_gid),
            }
        meta.update(kw)
        self.snapshot.add(CollectedItem(key=_key(rel), kind="file", status=status, **meta))  # type: ignore[arg-type]

    def walk(self) -> None:
        stack: list[tuple[str, int]] = [("", 0)]
        while stack:
            rel_dir, depth = stack.pop()
            path = os.path.join(self.root, rel_dir) if rel_dir else str(self.root)
            try:
                with os.scandir(path) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                if not rel_dir:
                    raise  # the root itself: the caller's error (CLI: cannot read DIR)
                if isinstance(exc, PermissionError):
                    self._add(rel_dir, ItemStatus.PERMISSION_DENIED, error=plan.REASONS["dir_unreadable"])
                else:
                    self._add(rel_dir, ItemStatus.ERROR, error=f"cannot list: {exc.strerror}")
                continue
            subdirs: list[str] = []
            for entry in entries:
                rel = os.path.join(rel_dir, entry.name) if rel_dir else entry.name
                try:
                    is_link = entry.is_symlink()
                    is_dir = not is_link and entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_link, is_dir = False, False
                if is_dir:
                    if entry.name in SKIP_DIRS or rel == DPKG_DIR:
                        continue
                    if depth + 1 > self.limits.max_depth:
                        self.snapshot.errors.append(
                            f"collect: {_key(rel)}: deeper than {self.limits.max_depth}"
                        )
                        continue
                    subdirs.append(rel)
                    continue
                if self.files >= self.limits.max_files:
                    self.skipped += 1
                    continue
                self.files += 1
                self._file(rel, is_link)
            stack.extend((d, depth + 1) for d in reversed(subdirs))

    def _file(self, rel: str, is_link: bool) -> None:
        path = os.path.join(self.root, rel)
        link_target: str | None = None
        real = path
        if is_link:
            try:
                link_target = os.fsencode(os.readlink(path)).decode("utf-8", "backslashreplace")
                try:
                    real = resolve_in_root(str(self.root), rel) or ""
                except FileNotFoundError:
                    real = ""
                if not real:  # missing below the root, or a `..` above it: as the auditor's machine sees it
                    real = os.path.realpath(path, strict=True)
            except FileNotFoundError:
                self._add(
                    rel, ItemStatus.MISSING, link_target=link_target, error=plan.REASONS["dangling_link"]
                )
                return
            except OSError as exc:
                reason = "symlink_loop" if exc.errno == errno.ELOOP else "link_unresolvable"
                status = ItemStatus.NOT_REGULAR if reason == "symlink_loop" else ItemStatus.PERMISSION_DENIED
                self._add(rel, status, link_target=link_target, error=plan.REASONS[reason])
                return
            if os.path.commonpath([str(self.root), real]) != str(self.root):
                self._add(
                    rel,
                    ItemStatus.NOT_REGULAR,
                    link_target=link_target,
                    error=plan.REASONS["symlink_outside"],
                )
                return
        try:
            st = os.stat(real, follow_symlinks=False)
        except OSError as exc:
            self._add(rel, ItemStatus.ERROR, link_target=link_target, error=f"stat failed: {exc.strerror}")
            return
        if not stat.S_ISREG(st.st_mode):
            reason = "directory_link" if stat.S_ISDIR(st.st_mode) else "special_file"
            self._add(rel, ItemStatus.NOT_REGULAR, st, link_target=link_target, error=plan.REASONS[reason])
            return
        if plan.is_private_key_name(rel):
            self._add(rel, ItemStatus.OK, st, link_target=link_target, error=plan.REASONS["private_key"])
            return
        if st.st_size > self.limits.file_cap:
            self._add(rel, ItemStatus.TOO_LARGE, st, link_target=link_target, error=plan.REASONS["size_cap"])
            return
        if self.total + st.st_size > self.limits.total_cap:
            self._add(rel, ItemStatus.TOO_LARGE, st, link_target=link_target, error="total size cap reached")
            return
        try:
            content = self._read(real, st)
        except PermissionError:
            self._add(rel, ItemStatus.PERMISSION_DENIED, st, link_target=link_target)
            return
        except OSError as exc:
            self._add(
                rel, ItemStatus.ERROR, st, link_target=link_target, error=f"read failed: {exc.strerror}"
            )
            return
        if content is None:
            self._add(
                rel, ItemStatus.ERROR, st, link_target=link_target, error="file changed while being read"
            )
            return
        if plan.looks_like_private_key(content):
            self._add(rel, ItemStatus.OK, st, link_target=link_target, error=plan.REASONS["private_key"])
            return
        self.total += len(content)
        self._add(rel, ItemStatus.OK, st, link_target=link_target, content=content)

    def _read(self, path: str, expected: os.stat_result) -> bytes | None:
        """Read without following a swapped-in symlink and without blocking on a swapped-in FIFO."""
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(path, flags)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (expected.st_dev, expected.st_ino):
                return None
            data = _read_capped(fd, self.limits.file_cap)
            return None if len(data) > self.limits.file_cap else data
        finally:
            os.close(fd)


def _read_capped(fd: int, cap: int) -> bytes:
    """At most cap + 1 bytes of `fd` (more than `cap` tells the caller the file is over it)."""
    chunks: list[bytes] = []
    remaining = cap + 1
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def resolve_in_root(root: str, rel: str, max_links: int = 40) -> str | None:
    """The file `rel` names below `root` when `root` is taken as `/`, as on the host it was copied from:
    an absolute symlink (Debian's /etc/prosody/certs/* -> /etc/jitsi/meet/*) starts again at `root`.
    None when a `..` climbs above `root`. Raises FileNotFoundError for a missing component (then the
    link as the auditor's machine resolves it is tried, which must still stay below `root`), and
    OSError (ELOOP) after `max_links` links. The result is below `root` and not itself a symlink."""
    todo = [c for c in rel.split("/") if c not in ("", ".")]
    done: list[str] = []
    links = 0
    while todo:
        part = todo.pop(0)
        if part == "..":
            if not done:
                return None
            done.pop()
            continue
        candidate = os.path.join(root, *done, part)
        st = os.lstat(candidate)
        if not stat.S_ISLNK(st.st_mode):
            done.append(part)
            continue
        links += 1
        if links > max_links:
            raise OSError(errno.ELOOP, "too many levels of symbolic links", candidate)
        target = os.readlink(candidate)
        if target.startswith("/"):
            done = []
        todo = [c for c in target.split("/") if c not in ("", ".")] + todo
    return os.path.join(root, *done)


def is_host_copy(root: Path) -> bool:
    """A copy of a whole host's root (a backup, a mounted disk image, a VM image build), not a configuration
    tree: it has etc/os-release and the system's own directories or dpkg's database."""
    return str(root) != "/" and os.path.lexists(root / "etc/os-release") and (
        os.path.isdir(root / "usr/bin") or os.path.isdir(root / "usr/lib")
        or os.path.isfile(root / dpkg_status.STATUS_PATH)
    )


def collect_local_dir(root: Path, limits: DirLimits | None = None, timeout: float = 180.0) -> Snapshot:
    """Snapshot of a directory tree: every file of a configuration tree, or, in a copy of a host's root
    (is_host_copy), what the collector reads on a live host (collect_host_copy). Raises OSError when
    `root` is missing or not a directory, CollectError when the collector fails on a host copy."""
    resolved = Path(os.path.realpath(root, strict=True))
    if not resolved.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(root))
    # a name that is not UTF-8 is shown with its bytes escaped (reports are UTF-8)
    shown = os.fsencode(str(root)).decode("utf-8", "backslashreplace")
    snapshot = Snapshot(target=shown, transport="dir", root=str(root))
    if is_host_copy(resolved):
        return collect_host_copy(resolved, snapshot, timeout)
    walker = _Walker(resolved, limits or DirLimits(), snapshot)
    walker.walk()
    _add_packages(str(resolved), snapshot)
    if walker.skipped:
        snapshot.errors.append(
            f"collect: more than {walker.limits.max_files} files under {root}; {walker.skipped} were not read"
        )
    snapshot.facts["collection"] = "incomplete" if snapshot.errors else "complete"
    snapshot.finished_at = datetime.now(UTC)
    return snapshot


def _add_packages(root: str, snapshot: Snapshot) -> None:
    """The `dpkg-query` item from the tree's dpkg database, when the tree has one (a copy of a host's
    root): followed like any file of the tree, so only below `root`."""
    try:
        real = resolve_in_root(root, dpkg_status.STATUS_PATH)
    except FileNotFoundError:
        return
    except OSError as exc:
        error = f"/{dpkg_status.STATUS_PATH}: {exc.strerror or 'cannot be resolved'}"
        snapshot.add(CollectedItem(key=dpkg_status.KEY, kind="command", status=ItemStatus.ERROR, error=error))
        return
    if real is None:
        return
    item = _packages_item(real)
    snapshot.add(item)
    if item.ok:  # the report's note says the versions came from it; an error stands on the item
        snapshot.facts["packages"] = f"/{dpkg_status.STATUS_PATH}"


def _packages_item(real: str) -> CollectedItem:
    """The `dpkg-query` item of the dpkg database at `real`, read as the walker reads a file (no swapped-in
    link or FIFO), at most dpkg_status.STATUS_CAP bytes."""
    key, where = dpkg_status.KEY, f"/{dpkg_status.STATUS_PATH}"
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except PermissionError:
        return CollectedItem(key, "command", ItemStatus.PERMISSION_DENIED, error=f"{where}: permission denied")
    except OSError as exc:
        return CollectedItem(key, "command", ItemStatus.ERROR, error=f"{where}: {exc.strerror}")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return CollectedItem(key, "command", ItemStatus.NOT_REGULAR, error=f"{where}: not a regular file")
        data = _read_capped(fd, dpkg_status.STATUS_CAP)
    except OSError as exc:
        return CollectedItem(key, "command", ItemStatus.ERROR, error=f"{where}: {exc.strerror}")
    finally:
        os.close(fd)
    if len(data) > dpkg_status.STATUS_CAP:
        error = f"{where}: larger than {dpkg_status.STATUS_CAP} bytes"
        return CollectedItem(key, "command", ItemStatus.TOO_LARGE, error=error)
    content = dpkg_status.listing(data).encode()
    return CollectedItem(key, "command", ItemStatus.OK, content=content, size=len(content), exit_code=0)


def collect_host_copy(resolved: Path, snapshot: Snapshot, timeout: float = 180.0) -> Snapshot:
    """A copy of a host's root, read as the host itself would be: the same collector, its paths taken
    below the copy (JITSI_AUDIT_ROOT_PREFIX, links confined to the copy) and no command run (they would
    run on this machine), so the rest of the system (/usr, /var, CA bundles, users' homes) is not
    read; package versions come from the copy's dpkg database."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C",
           "JITSI_AUDIT_ROOT_PREFIX": str(resolved), "JITSI_AUDIT_OFFLINE_COPY": "1"}
    run_collector(["/bin/sh", "-s"], snapshot, env=env, timeout=timeout, host=snapshot.target,
                  memory_cap=HOST_COPY_MEMORY_CAP)
    # The collector ignores a prefix it cannot use: then it read this machine, not the copy.
    if snapshot.facts.get("root_prefix") != str(resolved) or snapshot.facts.get("mode") != "offline_copy":
        reason = "the collector did not read the copy (its root prefix was refused)"
        raise CollectError(snapshot.target, "collect", reason)
    snapshot.facts["layout"] = HOST_COPY_LAYOUT
    _add_packages(str(resolved), snapshot)
    return snapshot


def collect_project_files(directory: str, patterns: list[tuple[str, int]], limits: DirLimits | None = None) -> Snapshot:
    """The files directly in `directory` whose names match `patterns` ((glob, at most N files) each), read
    as a directory audit reads them (regular files only, symlinks followed only inside `directory`, size
    caps, private keys as metadata). Keys are the files' absolute paths. Raises OSError when the
    directory itself cannot be listed."""
    snapshot = Snapshot(target=directory, transport="dir", root=None)
    resolved = os.path.realpath(directory, strict=True)
    with os.scandir(resolved) as it:
        entries = sorted((e for e in it if not e.is_dir(follow_symlinks=False)), key=lambda e: e.name)
    walker = _Walker(Path(resolved), limits or DirLimits(), snapshot)
    for pattern, most in patterns:
        for entry in [e for e in entries if fnmatch.fnmatchcase(e.name, pattern)][:most]:
            walker._file(entry.name, entry.is_symlink())
    base = directory.rstrip("/")
    snapshot.items = {f"{base}{key}": replace(item, key=f"{base}{key}") for key, item in snapshot.items.items()}
    return snapshot


def collect_local_host(
    timeout: float = 180.0, env: dict[str, str] | None = None, limits: StreamLimits | None = None
) -> Snapshot:
    """The `local://` target: run the collector on this machine (as this user) and decode it.

    `env` replaces the environment of the collector (tests use it for JITSI_AUDIT_ROOT_PREFIX);
    by default it gets only PATH and LC_ALL. Raises CollectError when it fails or times out.
    """
    snapshot = Snapshot(target="local://", transport="local")
    child_env = env if env is not None else {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
    run_collector(["/bin/sh", "-s"], snapshot, env=child_env, timeout=timeout, limits=limits, host="localhost")
    snapshot.facts["sudo"] = "no"
    return snapshot


def run_collector(
    argv: list[str],
    snapshot: Snapshot,
    *,
    env: dict[str, str] | None,
    timeout: float,
    limits: StreamLimits | None = None,
    host: str = "localhost",
    memory_cap: int | None = None,
) -> None:
    """Start `argv` (a shell reading the collector on stdin: `/bin/sh -s`, `docker exec -i ... /bin/sh -s`),
    send the collector and decode its stream into `snapshot`, within `timeout` seconds (then the
    process group is killed). `env` None inherits ours. `memory_cap`: the address space of each process of
    it, in bytes (set before the collector is sent, so what it starts inherits it). Raises CollectError
    when it fails."""
    decoder = StreamDecoder(snapshot, limits)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        raise CollectError(host, "collect", f"cannot start {argv[0]}: {exc.strerror}") from None
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    if memory_cap is not None:
        with contextlib.suppress(OSError):  # it ended already: its stream says why
            resource.prlimit(proc.pid, resource.RLIMIT_AS, (memory_cap, memory_cap))
    deadline = time.monotonic() + timeout
    timed_out = False
    stderr = b""

    def feed(data: bytes) -> bool:
        decoder.feed(data)
        return decoder.full

    try:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(plan.collector_script().encode())
            proc.stdin.close()
        timed_out, stderr = read_output(proc, deadline, feed, stderr_cap=8192, until_stdout_closes=True)
    finally:
        try:
            proc.wait(timeout=0 if timed_out or decoder.full else 5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the collector and whatever it started
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    decoder.finish()
    snapshot.finished_at = datetime.now(UTC)
    if timed_out:
        raise CollectError(host, "collect", f"collection on {host} timed out after {timeout:g}s", snapshot)
    if not decoder.complete:
        text = stderr.decode("utf-8", "replace").strip()
        first = one_line(text.splitlines()[0], 160) if text else f"exit {proc.returncode}"
        if memory_cap is not None and ((proc.returncode or 0) < 0 or "Out of space" in first):
            first += f" (it may have reached its memory cap, {memory_cap >> 20} MB)"
        what = "the local collector" if host == "localhost" else f"the collector on {host}"
        raise CollectError(host, "collect", f"{what} stopped early: {first}", snapshot)
