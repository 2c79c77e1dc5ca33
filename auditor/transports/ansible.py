"""`ansible://HOST`: a host of the Ansible inventory, audited through our own transports.

The host is looked up with `ansible-inventory --list` (as pytest-testinfra's Ansible runner does it:
`ANSIBLE_VERBOSITY=0`, ANSIBLE_INVENTORY / ansible.cfg as Ansible reads them; the runner itself is not
used: it has no time limit, gives bare errors and recursed forever on a cyclic group), and its variables
become a target exactly as `--inventory` does (auditor.inventory): `ansible_host`, `ansible_user`,
`ansible_port`, `ansible_ssh_private_key_file`, `ansible_connection` (ssh, local, docker, kubectl)
and the `jitsi_audit_*` settings.

The connection itself is ours, not testinfra's: its ssh backend passes the inventory's
`ansible_ssh_common_args` (often `-o StrictHostKeyChecking=no`) to ssh and its paramiko backend
accepts unknown host keys, while our SSH transport keeps strict host-key checking and runs the
collector as one exec request.

What ansible-inventory prints is untrusted input: it runs with a time limit (its whole process group
is killed past it), its output is size-capped and its shape checked, and every failure is one
ConnectError line (stage "inventory"). What the real tool (ansible-core 2.14) does, and this module
relies on:
- `_meta.hostvars` holds each host's variables with its groups' already merged in, and only hosts that
  have variables; a host without any is only in its groups' `hosts` lists;
- group entries have `hosts` and `children` lists; `all` lists `ungrouped` among its children;
- an inventory source it cannot parse (a missing file, bad syntax) is a `[WARNING]` on stderr and
  exit 0 with an empty inventory: the warnings are what says why a host is missing;
- variables are printed as written: templates (`{{ ... }}`) are not rendered, and `!vault` values are
  `{"__ansible_vault": "<ciphertext>"}` (never decrypted, even with a vault password). A setting we
  use that is either is refused by name, without its value; other vaulted variables are dropped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor import json_input
from auditor.collect.stream import one_line
from auditor.inventory import InventoryError, InventoryHost, host_from_vars, usable_vars
from auditor.transports.errors import ConnectError
from auditor.transports.pipes import read_output

COMMAND = "ansible-inventory"
DEFAULT_TIMEOUT = 30.0
MAX_OUTPUT = 64 * 1024 * 1024  # bytes of `--list` output (10 000 hosts with their variables fit)
MAX_STDERR = 16 * 1024
CACHE_SECONDS = 60.0  # one lookup serves every ansible:// target of a run
# Variables auditor.inventory.host_from_vars reads (bare, with the jitsi_audit_ prefix, Ansible's names).
# Ansible runs these on the control machine when the inventory does not list them ("implicit localhost").
IMPLICIT_LOCALHOST = frozenset({"localhost", "127.0.0.1"})


@dataclass(frozen=True, slots=True)
class AnsibleInventory:
    hostvars: Mapping[str, Mapping[str, Any]]
    groups: Mapping[str, tuple[str, ...]]  # host -> the groups it is in, ancestors included (not all/ungrouped)
    warnings: tuple[str, ...]  # ansible-inventory's [WARNING]s (why an inventory source was not parsed)


def _fail(name: str, reason: str) -> ConnectError:
    return ConnectError(name, "inventory", reason)


def _messages(stderr: bytes) -> list[str]:
    """ansible's stderr as messages: `[WARNING]: ...`/`ERROR! ...` with their wrapped lines joined; the
    excerpt of an inventory file that some errors quote (it may hold secrets) is left out."""
    out: list[str] = []
    for line in stderr.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith(("[WARNING]", "ERROR!", "[DEPRECATION WARNING]")) or not out:
            out.append(line)
        else:  # ansible wraps at 80 columns, also after a hyphen (inside a path)
            out[-1] += ("" if out[-1].endswith("-") else " ") + line
    cut = []
    for msg in out:
        for marker in (" The error appears to be in", " The offending line appears to be"):
            msg = msg.split(marker, 1)[0]
        cut.append(one_line(msg.removeprefix("[WARNING]:").strip(), 300))
    return cut


def run_inventory(name: str, inventory: str | None, timeout: float,
                  query: tuple[str, ...] = ("--list",)) -> tuple[bytes, list[str]]:
    """`ansible-inventory --list [-i INVENTORY]` (or another query, `--host NAME`): its stdout and stderr
    messages, within `timeout`."""
    argv = [COMMAND, *query] + (["-i", inventory] if inventory else [])
    what = f"{COMMAND} {query[0]}"
    env = dict(os.environ, ANSIBLE_VERBOSITY="0")
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, start_new_session=True)
    except FileNotFoundError:
        raise _fail(name, f"{COMMAND} not found on PATH (install ansible-core)") from None
    except OSError as exc:
        raise _fail(name, f"cannot run {COMMAND}: {exc.strerror}") from None
    assert proc.stdout is not None and proc.stderr is not None
    stdout, stderr = bytearray(), b""
    deadline = time.monotonic() + timeout
    problem = None

    def collect(data: bytes) -> bool:
        stdout.extend(data)
        return len(stdout) > MAX_OUTPUT

    try:
        timed_out, stderr = read_output(proc, deadline, collect, stderr_cap=MAX_STDERR, until_stdout_closes=False)
        if timed_out:
            problem = f"{what} timed out after {timeout:g}s"
        elif len(stdout) > MAX_OUTPUT:
            problem = f"{what} printed more than {MAX_OUTPUT} bytes"
        if problem is None:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        problem = f"{what} timed out after {timeout:g}s"
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # ansible-inventory and any inventory script it started
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    if problem:
        raise _fail(name, problem)
    messages = _messages(bytes(stderr))
    if proc.returncode != 0:
        errors = [m for m in messages if m.startswith("ERROR!")] or messages[-1:]
        why = errors[0].removeprefix("ERROR!").strip() if errors else "no message"
        raise _fail(name, f"{what} failed (exit {proc.returncode}): {one_line(why, 240)}")
    return bytes(stdout), messages


def _names(value: Any, what: str, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(name, f"{COMMAND} --list printed an unexpected inventory: {what} is not a list of names")
    return value


def parse_inventory(name: str, blob: bytes, warnings: list[str]) -> AnsibleInventory:
    """The `--list` JSON, checked: ConnectError when it is not an Ansible inventory."""
    try:
        data = json_input.loads(blob)
    except (ValueError, UnicodeDecodeError):
        raise _fail(name, f"{COMMAND} --list printed no JSON") from None
    bad = f"{COMMAND} --list printed an unexpected inventory"
    if not isinstance(data, dict):
        raise _fail(name, f"{bad}: not a mapping")
    meta = data.get("_meta", {})
    hostvars = meta.get("hostvars", {}) if isinstance(meta, dict) else None
    if not isinstance(hostvars, dict) or not all(isinstance(v, dict) for v in hostvars.values()):
        raise _fail(name, f"{bad}: _meta.hostvars is not a mapping of hosts to variables")
    direct: dict[str, set[str]] = {}  # host -> groups that list it
    parents: dict[str, set[str]] = {}  # group -> groups that list it as a child
    for group, entry in data.items():
        if group == "_meta":
            continue
        if not isinstance(entry, dict):
            raise _fail(name, f"{bad}: group {one_line(str(group), 60)} is not a mapping")
        for host in _names(entry.get("hosts"), f"the hosts of {one_line(group, 60)}", name):
            direct.setdefault(host, set()).add(group)
        for child in _names(entry.get("children"), f"the children of {one_line(group, 60)}", name):
            parents.setdefault(child, set()).add(group)
    groups: dict[str, tuple[str, ...]] = {}
    for host in set(direct) | set(hostvars):
        seen: set[str] = set()
        todo = list(direct.get(host, ()))
        while todo:  # ancestors; a cycle in malformed output ends when every group is seen
            group = todo.pop()
            if group not in seen:
                seen.add(group)
                todo.extend(parents.get(group, ()))
        groups[host] = tuple(sorted(seen - {"all", "ungrouped"}))
    return AnsibleInventory(hostvars, groups, tuple(warnings))


_cache: dict[tuple[Any, ...], tuple[float, AnsibleInventory | ConnectError]] = {}
_cache_lock = threading.Lock()
_key_locks: dict[tuple[Any, ...], threading.Lock] = {}


def forget_inventories() -> None:
    """Drop the cached lookups (tests; a long-running caller that changed the inventory)."""
    with _cache_lock:
        _cache.clear()


def load_inventory(name: str, inventory: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> AnsibleInventory:
    """The parsed inventory; one `ansible-inventory` run (success or failure) serves every lookup in the
    same environment for CACHE_SECONDS, so a fleet of ansible:// targets waits for one run, not one each."""
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("ANSIBLE_") or k in ("PATH", "HOME")))
    key = (inventory, os.getcwd(), env)
    with _cache_lock:
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            result = hit[1]
        else:
            try:
                blob, warnings = run_inventory(name, inventory, timeout)
                result = parse_inventory(name, blob, warnings)
            except ConnectError as exc:
                result = exc
            with _cache_lock:
                _cache[key] = (time.monotonic(), result)
    if isinstance(result, ConnectError):
        raise _fail(name, result.reason)
    return result


def resolve_ansible(name: str, inventory: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> InventoryHost:
    """The inventory entry of `name`; ConnectError (stage "inventory") when it cannot be had."""
    found = load_inventory(name, inventory, timeout)
    if name not in found.groups:
        if name in IMPLICIT_LOCALHOST:  # Ansible's implicit localhost: this machine, connection local
            return _implicit_localhost(name, inventory, timeout)
        if not found.groups and found.warnings:  # nothing parsed: ansible's warnings say why
            raise _fail(name, f"{name}: no host in the Ansible inventory: {'; '.join(found.warnings[:2])}")
        raise _fail(name, f"{name} is not a host of the Ansible inventory")
    try:
        clean = usable_vars(name, found.hostvars.get(name, {}), f"`{COMMAND} --list`")
        return host_from_vars(name, clean, found.groups[name], "ansible inventory", Path.cwd())
    except InventoryError as exc:
        raise _fail(name, str(exc)) from None


def _implicit_localhost(name: str, inventory: str | None, timeout: float) -> InventoryHost:
    """Ansible's implicit localhost is in no group and not in `--list`, yet it has the variables of
    group_vars/all and host_vars/localhost (and `ansible_connection: local`): `--host NAME` prints them."""
    blob, _ = run_inventory(name, inventory, timeout, ("--host", name))
    try:
        data = json_input.loads(blob)
    except (ValueError, UnicodeDecodeError):
        raise _fail(name, f"{COMMAND} --host printed no JSON") from None
    if not isinstance(data, dict):
        raise _fail(name, f"{COMMAND} --host printed unexpected variables: not a mapping")
    try:
        clean = usable_vars(name, data, f"`{COMMAND} --host {name}`")
        return host_from_vars(name, {"ansible_connection": "local", **clean}, (), "ansible inventory", Path.cwd())
    except InventoryError as exc:
        raise _fail(name, str(exc)) from None
