"""Inventories for fleet audits (`--inventory FILE`, `--limit PATTERN`).

Formats, told apart by content:
- plain: one target per line (`host`, `user@host:port`, `ssh://...`, `docker://...`); `#` comments;
- jitsi-audit YAML: `hosts:` as a list or a mapping, optional `defaults:` and `groups:`;
- Ansible INI: `[group]`, `[group:vars]`, `[group:children]`, `host var=value ...`, ranges `jvb[01:16]`;
- Ansible YAML: `all: {hosts, vars, children}` (any top-level groups).

Per-host settings (bare names or with a `jitsi_audit_` prefix; Ansible's names where they exist):
`ansible_host`/`host`, `ansible_user`/`user`, `ansible_port`/`port`,
`ansible_ssh_private_key_file`/`ansible_private_key_file`/`key`, `ansible_connection` (ssh, local,
docker, kubectl with `ansible_kubectl_pod`/`ansible_kubectl_namespace`; anything else is refused),
`role`/`roles` (auditor.roles), `domain`, `ca_bundle`, `sudo`, `https_port`/`http_port` (the web front's
ports, e.g. docker-jitsi-meet's 8443/8000).
Variables follow Ansible's precedence: `all` < parent group < child group < host. Other variables are
kept (`vars`) but never used. Passwords (`ansible_password`, ...) are ignored (SSH uses keys or the
agent only), and so are SSH options (`ansible_ssh_common_args` ...): whatever they say, host keys are
checked strictly against known_hosts.
"""

from __future__ import annotations

import fnmatch
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditor.collect.stream import one_line, quoted
from auditor.parsers.base import SafeLoader
from auditor.roles import RoleError, normalise
from auditor.user_files import read_user_text

MAX_HOSTS = 10_000
MAX_DEPTH = 100  # groups within groups (children of children ...)
MAX_ENTRIES = 50 * MAX_HOSTS  # host entries in all groups (a host listed again counts again)
MAX_BYTES = 4 * 1024 * 1024
_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n", ""}
_CONNECTIONS = {
    "ssh": "ssh", "smart": "ssh", "paramiko": "ssh", "paramiko_ssh": "ssh", "local": "local",
    "docker": "docker", "community.docker.docker": "docker",
    "kubectl": "kubectl", "kubernetes.core.kubectl": "kubectl", "community.kubernetes.kubectl": "kubectl",
}  # fmt: skip
# Bounded: a 5000-digit bound was Python's "Exceeds the limit (4300 digits)" traceback, not a usage error.
_RANGE = re.compile(r"\[([0-9a-z]{1,9}):([0-9a-z]{1,9})(?::([0-9]{1,9}))?\]")
_LONG_RANGE = re.compile(r"\[[0-9a-z]{1,8192}:[0-9a-z]{1,8192}(?::[0-9]{1,8192})?\]")
_SECTION = re.compile(r"^\[([^\]:\s]+)(?::(vars|children))?\]\s*(?:[#;].*)?$")


class InventoryError(ValueError):
    """An inventory that cannot be used: one line naming the file (and line)."""


@dataclass(frozen=True, slots=True)
class InventoryHost:
    name: str  # as the inventory names it (also the report's target name)
    target: str  # the target spec to audit (auditor.transports.targets)
    key: Path | None = None
    roles: tuple[str, ...] = ()
    domain: str | None = None
    ca_bundle: Path | None = None
    sudo: bool | None = None
    groups: tuple[str, ...] = ()
    vars: Mapping[str, Any] = field(default_factory=dict)
    https_port: int | None = None  # the web front's HTTPS port (docker-jitsi-meet: 8443)
    http_port: int | None = None


# -- variables -> host --------------------------------------------------------------------------
def _get(v: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        for key in (f"jitsi_audit_{n}", n):
            if key in v and v[key] is not None:
                return v[key]
    return None


def _flag(value: Any, where: str, name: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InventoryError(f"{where}: {name} must be true or false, not {quoted(str(value), 20)}")


# The variables that make a target (host_from_vars reads them); the others are kept but never used.
SETTINGS = frozenset({
    "ansible_host", "ansible_ssh_host", "ansible_user", "ansible_ssh_user", "ansible_port", "ansible_ssh_port",
    "ansible_connection", "ansible_ssh_private_key_file", "ansible_private_key_file",
    "ansible_kubectl_namespace", "ansible_kubectl_pod", "ansible_docker_host", "ansible_docker_extra_args",
    "host", "user", "port", "connection", "key", "identity", "roles", "role", "jitsi_role", "domain", "ca_bundle",
    "sudo", "https_port", "http_port",
})  # fmt: skip
_SKIP_VARS = frozenset({"groups", "group_names", "inventory_hostname"})
_DOCKER_DAEMON_ARG = re.compile(r"(?:^|\s)(?:-H|--host|--context|-c)(?:[\s=]|$)")
VAULTED = "__ansible_vault"  # how ansible-inventory --list prints a !vault value, and how our YAML reads one


def _vaulted(value: Any, depth: int = 0) -> bool:
    if isinstance(value, dict):
        return VAULTED in value or (depth < 20 and any(_vaulted(v, depth + 1) for v in value.values()))
    if isinstance(value, list):
        return depth < 20 and any(_vaulted(v, depth + 1) for v in value)
    return False


def usable_vars(name: str, variables: Mapping[str, Any], reader: str = "jitsi-audit") -> dict[str, Any]:
    """The variables to resolve: a setting we use that is vaulted or a template is refused (by name only,
    never its value), other vaulted variables are dropped. Neither `reader` nor ansible-inventory --list
    decrypts ansible-vault or renders Jinja2."""
    clean: dict[str, Any] = {}
    for key, value in variables.items():
        if key in _SKIP_VARS:
            continue
        setting = key in SETTINGS or key.startswith("jitsi_audit_")
        if _vaulted(value):
            if setting:
                raise InventoryError(f"{name}: {one_line(key, 60)} is encrypted with ansible-vault, which {reader} "
                                     "does not decrypt: give it in clear text")
            continue
        if setting and isinstance(value, str) and ("{{" in value or "{%" in value):
            raise InventoryError(f"{name}: {one_line(key, 60)} is a Jinja2 template, which {reader} does not "
                                 "render: give the value itself")
        clean[key] = value
    return clean


def host_from_vars(name: str, v: Mapping[str, Any], groups: Iterable[str], where: str, base: Path) -> InventoryHost:
    """Resolve one host's variables into a target spec and per-host settings."""
    connection = str(_get(v, "connection", "ansible_connection") or "ssh").strip().lower()
    scheme = _CONNECTIONS.get(connection)
    if scheme is None:
        raise InventoryError(f"{where}: host {name!r}: connection {connection!r} is not supported "
                             "(ssh, local, docker, kubectl)")
    address = str(_get(v, "ansible_host", "host", "ansible_ssh_host") or name).strip()
    user = _get(v, "ansible_user", "user", "ansible_ssh_user")
    port = _port(_get(v, "ansible_port", "port", "ansible_ssh_port"), where, name)
    if scheme == "local":
        target = "local://"
    elif scheme == "docker":
        # community.docker.docker: the container is ansible_docker_host (else ansible_host); a daemon of its
        # own comes with docker_extra_args (-H / --host / --context): auditing the run's daemon under that
        # host's name would audit another deployment
        extra = _get(v, "ansible_docker_extra_args")
        if extra is not None and _DOCKER_DAEMON_ARG.search(str(extra)):
            raise InventoryError(f"{where}: host {name!r}: a docker daemon of its own (ansible_docker_extra_args "
                                 "-H/--host/--context) is not supported: run jitsi-audit with DOCKER_HOST or "
                                 "DOCKER_CONTEXT set to it for that host")
        container = _get(v, "ansible_docker_host")
        target = f"docker://{str(container).strip() if container else address}"
    elif scheme == "kubectl":  # Ansible's kubectl connection: the pod and namespace have their own variables
        pod = str(_get(v, "ansible_kubectl_pod") or address).strip()
        namespace = _get(v, "ansible_kubectl_namespace")
        target = "kubectl://" + (f"{str(namespace).strip()}/" if namespace else "") + pod
    else:
        host = f"[{address}]" if ":" in address and not address.startswith("[") else address
        target = "ssh://" + (f"{user}@" if user else "") + host + (f":{port}" if port else "")
    key = _get(v, "ansible_ssh_private_key_file", "ansible_private_key_file", "key", "identity")
    key_path = _path(key, base) if key else None
    ca = _get(v, "ca_bundle")
    raw_roles = _get(v, "roles", "role", "jitsi_role")
    if raw_roles is None:
        names = []
    elif isinstance(raw_roles, list | tuple) and all(isinstance(r, str) for r in raw_roles):
        names = [str(r) for r in raw_roles]
    elif isinstance(raw_roles, str):
        names = [raw_roles]
    else:
        raise InventoryError(f"{where}: host {name!r}: role must be a name or a list of names, "
                             f"not {quoted(str(raw_roles), 40)}")
    try:
        roles = normalise(names)
    except RoleError as exc:
        raise InventoryError(f"{where}: host {name!r}: {exc}") from None
    domain = _get(v, "domain")
    return InventoryHost(
        name=name,
        target=target,
        key=key_path,
        roles=roles,
        domain=str(domain).strip() if domain else None,
        ca_bundle=_path(ca, base) if ca else None,
        sudo=_flag(_get(v, "sudo"), where, "sudo"),
        groups=tuple(sorted(set(groups))),
        vars=dict(v),
        https_port=_port(_get(v, "https_port"), where, name),
        http_port=_port(_get(v, "http_port"), where, name),
    )


def _port(value: Any, where: str, name: str) -> int | None:
    if value is None:
        return None
    if not str(value).isdigit() or not 0 < int(str(value)) < 65536:
        raise InventoryError(f"{where}: host {name!r}: port {quoted(str(value), 20)} is not a port number")
    return int(str(value))


def _path(value: Any, base: Path) -> Path:
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else base / p


# -- the group tree (both Ansible formats and the groups of ours) -------------------------------
@dataclass(slots=True)
class _Group:
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)  # host -> its own vars
    vars: dict[str, Any] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)


class _Tree:
    def __init__(self, name: str) -> None:
        self.name = name  # the inventory, for errors
        self.groups: dict[str, _Group] = {"all": _Group(), "ungrouped": _Group()}
        self.order: list[str] = []  # hosts in the order they first appear
        self.member_of: dict[str, set[str]] = {}  # host -> the groups that list it
        self.entries = 0

    def group(self, name: str) -> _Group:
        return self.groups.setdefault(name, _Group())

    def add_host(self, group: str, host: str, hvars: Mapping[str, Any]) -> None:
        self.entries += 1
        if self.entries > MAX_ENTRIES:
            raise InventoryError(f"{self.name}: more than {MAX_ENTRIES} host entries (hosts listed again and again)")
        if host not in self.member_of:  # a dict: a range repeated on many lines stays linear
            if len(self.order) >= MAX_HOSTS:
                raise InventoryError(f"{self.name}: more than {MAX_HOSTS} hosts")
            self.order.append(host)
            self.member_of[host] = set()
        self.group(group).hosts.setdefault(host, {}).update(hvars)
        self.member_of[host].add(group)

    def resolve(self, where: str, base: Path) -> list[InventoryHost]:
        parents: dict[str, set[str]] = {}
        for gname, grp in list(self.groups.items()):
            for child in grp.children:
                if child not in self.groups:
                    self.group(child)
                parents.setdefault(child, set()).add(gname)
        depth: dict[str, int] = {}

        def level(g: str, seen: frozenset[str] = frozenset()) -> int:
            if g in seen:
                raise InventoryError(f"{where}: group {g!r} is its own ancestor")
            if len(seen) >= MAX_DEPTH:
                raise InventoryError(f"{where}: groups nested more than {MAX_DEPTH} deep")
            if g not in depth:
                depth[g] = 0 if g == "all" else 1 + max(
                    (level(p, seen | {g}) for p in parents.get(g, set()) if p != g), default=0)
                if depth[g] > MAX_DEPTH + 1:  # reached through groups already measured: whatever their order
                    raise InventoryError(f"{where}: groups nested more than {MAX_DEPTH} deep")
            return depth[g]

        for gname in list(self.groups):
            level(gname)
        out = []
        for host in self.order:
            member = {g for g in self.member_of[host] if host in self.groups[g].hosts}
            todo = list(member)
            while todo:  # ancestors of every group the host is in
                for p in parents.get(todo.pop(), ()):
                    if p not in member:
                        member.add(p)
                        todo.append(p)
            member.add("all")
            merged: dict[str, Any] = {}
            ordered = sorted(member, key=lambda name: (depth.get(name, 0), name))
            for gname in ordered:
                merged.update(self.groups[gname].vars)
            for gname in ordered:
                merged.update(self.groups[gname].hosts.get(host, {}))
            try:
                clean = usable_vars(host, merged)
            except InventoryError as exc:  # named by the inventory, as every inventory error is
                raise InventoryError(f"{where}: {exc}") from None
            out.append(host_from_vars(host, clean, member - {"all", "ungrouped"}, where, base))
        return out


def _expand(pattern: str, where: str) -> list[str]:
    """Ansible host ranges: `jvb[01:16].example.org`, `node[a:c]`, `x[0:10:2]`; at most MAX_HOSTS names
    (several ranges multiply), refused before any name is made."""
    try:
        return _expand_within(pattern, where, MAX_HOSTS)
    except _TooMany:
        raise InventoryError(
            f"{where}: host ranges in {quoted(pattern, 60)} make more than {MAX_HOSTS} hosts") from None


class _TooMany(Exception):
    pass


def _expand_within(pattern: str, where: str, budget: int) -> list[str]:
    m = _RANGE.search(pattern)
    if m is None:
        long = _LONG_RANGE.search(pattern)
        if long is not None:
            raise InventoryError(f"{where}: bad host range {quoted(long.group(0), 40)} (bounds of at most 9 digits)")
        return [pattern]
    start, end, step_text = m.group(1), m.group(2), m.group(3)
    step = max(1, int(step_text)) if step_text else 1
    head, tail = pattern[: m.start()], pattern[m.end():]
    values: range | str
    width = 0
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") and len(start) > 1 else 0
        values = range(int(start), int(end) + 1, step)
    elif len(start) == len(end) == 1 and start in string.ascii_lowercase and end in string.ascii_lowercase:
        letters = string.ascii_lowercase
        values = letters[letters.index(start): letters.index(end) + 1: step]
    else:
        raise InventoryError(f"{where}: bad host range {m.group(0)!r}")
    if not values:  # [9:1]: Ansible fails on it too; never an inventory that silently lost hosts
        raise InventoryError(f"{where}: host range {m.group(0)!r} is empty (its start is after its end)")
    if len(values) > budget:
        raise _TooMany
    inner = budget // max(1, len(values))  # what each value's own ranges may still make
    out: list[str] = []
    for v in values:
        out += _expand_within(head + (str(v).zfill(width) if isinstance(v, int) else v) + tail, where, inner)
    return out


def _scalar(text: str) -> Any:
    """An INI value as Ansible reads it (quoted strings, numbers, booleans stay text-ish)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _kv(tokens: list[str], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tok in tokens:
        if "=" not in tok:
            raise InventoryError(f"{where}: expected name=value, got {quoted(tok, 40)}")
        k, v = tok.split("=", 1)
        out[k.strip()] = _scalar(v)
    return out


def _split(line: str, where: str) -> list[str]:
    import shlex

    try:
        lex = shlex.shlex(line, posix=True)
        lex.whitespace_split = True
        lex.commenters = "#;"
        return list(lex)
    except ValueError as exc:
        raise InventoryError(f"{where}: {exc}") from None


def parse_ini(text: str, name: str = "inventory", base: Path | None = None) -> list[InventoryHost]:
    tree = _Tree(name)
    section, kind = "ungrouped", "hosts"
    for no, raw in enumerate(text.splitlines(), 1):
        where = f"{name} line {no}"
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = _SECTION.match(line)
        if m:
            section, kind = m.group(1), m.group(2) or "hosts"
            tree.group(section)
            continue
        if line.startswith("["):
            raise InventoryError(f"{where}: bad section header {quoted(line, 60)}")
        tokens = _split(line, where)
        if not tokens:
            continue
        if kind == "vars":
            tree.group(section).vars.update(_kv(tokens, where))
        elif kind == "children":
            tree.group(section).children.append(tokens[0])
            tree.group(tokens[0])
        else:
            hvars = _kv(tokens[1:], where)
            for host in _expand(tokens[0], where):
                tree.add_host(section, host, hvars)
                if section != "ungrouped":
                    tree.groups["ungrouped"].hosts.pop(host, None)
    return tree.resolve(name, base or Path.cwd())


def _yaml_group(tree: _Tree, gname: str, body: Any, where: str, seen: tuple[str, ...] = (),
                done: set[tuple[str, int]] | None = None) -> None:
    if gname in seen:
        raise InventoryError(f"{where}: group {gname!r} is its own ancestor")
    if len(seen) >= MAX_DEPTH:
        raise InventoryError(f"{where}: groups nested more than {MAX_DEPTH} deep")
    g = tree.group(gname)
    if body is None:
        return
    done = set() if done is None else done
    if (gname, id(body)) in done:  # the same YAML node again (an alias): nothing new, and no alias bomb
        return
    done.add((gname, id(body)))
    if not isinstance(body, dict):
        raise InventoryError(f"{where}: group {gname!r} must be a mapping of hosts, vars and children")
    unknown = set(body) - {"hosts", "vars", "children"}
    if unknown:
        raise InventoryError(f"{where}: group {gname!r}: unknown keys {sorted(map(str, unknown))}")
    hosts = body.get("hosts") or {}
    if not isinstance(hosts, dict):
        raise InventoryError(f"{where}: group {gname!r}: hosts must be a mapping")
    for hname, hvars in hosts.items():
        if hvars is not None and not isinstance(hvars, dict):
            raise InventoryError(f"{where}: host {hname!r}: variables must be a mapping")
        for host in _expand(str(hname), where):
            tree.add_host(gname, host, hvars or {})
    gvars = body.get("vars") or {}
    if not isinstance(gvars, dict):
        raise InventoryError(f"{where}: group {gname!r}: vars must be a mapping")
    g.vars.update(gvars)
    children = body.get("children") or {}
    if not isinstance(children, dict):
        raise InventoryError(f"{where}: group {gname!r}: children must be a mapping")
    for child, cbody in children.items():
        if str(child) not in g.children:
            g.children.append(str(child))
        _yaml_group(tree, str(child), cbody, where, (*seen, gname), done)


def parse_ansible_yaml(data: Any, name: str = "inventory", base: Path | None = None) -> list[InventoryHost]:
    tree = _Tree(name)
    if not isinstance(data, dict):
        raise InventoryError(f"{name}: an Ansible YAML inventory is a mapping of groups")
    done: set[tuple[str, int]] = set()
    for gname, body in data.items():
        _yaml_group(tree, str(gname), body, name, (), done)
        if str(gname) != "all" and str(gname) not in tree.groups["all"].children:
            tree.groups["all"].children.append(str(gname))
    return tree.resolve(name, base or Path.cwd())


def parse_jitsi_yaml(data: Mapping[str, Any], name: str = "inventory", base: Path | None = None
                     ) -> list[InventoryHost]:
    """Our own YAML: `defaults:`, `hosts:` (list of names/mappings, or name -> settings), `groups:`."""
    tree = _Tree(name)
    unknown = set(data) - {"jitsi_audit", "defaults", "hosts", "groups"}
    if unknown:
        raise InventoryError(f"{name}: unknown keys {sorted(map(str, unknown))} (expected defaults, hosts, groups)")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise InventoryError(f"{name}: defaults must be a mapping")
    tree.groups["all"].vars.update(defaults)
    hosts = data.get("hosts") or []
    entries: list[tuple[str, dict[str, Any]]] = []
    if isinstance(hosts, dict):
        for hname, hvars in hosts.items():
            if hvars is not None and not isinstance(hvars, dict):
                raise InventoryError(f"{name}: host {hname!r}: settings must be a mapping")
            entries.append((str(hname), dict(hvars or {})))
    elif isinstance(hosts, list):
        for i, entry in enumerate(hosts, 1):
            if isinstance(entry, str):
                entries.append((entry, {}))
            elif isinstance(entry, dict) and ("name" in entry or "host" in entry):
                settings = dict(entry)
                hname = str(settings.pop("name", None) or settings["host"])
                entries.append((hname, settings))
            else:
                raise InventoryError(f"{name}: hosts entry {i} needs a name or host")
    else:
        raise InventoryError(f"{name}: hosts must be a list or a mapping")
    for hname, settings in entries:
        groups = settings.pop("groups", None) or []
        if isinstance(groups, str):
            groups = [groups]
        if not isinstance(groups, list) or not all(isinstance(g, str | int) for g in groups):
            raise InventoryError(f"{name}: host {hname!r}: groups must be a group name or a list of names")
        for host in _expand(hname, name):
            tree.add_host("ungrouped", host, settings)
            for g in groups:
                tree.add_host(str(g), host, {})
    groups_map = data.get("groups") or {}
    if not isinstance(groups_map, dict):
        raise InventoryError(f"{name}: groups must be a mapping of group name to host names")
    for gname, members in groups_map.items():
        if not isinstance(members, list) or not all(isinstance(h, str | int) for h in members):
            raise InventoryError(f"{name}: group {gname!r} must list host names")
        for host in members:
            tree.add_host(str(gname), str(host), {})
    return tree.resolve(name, base or Path.cwd())


def parse_plain(text: str, name: str = "inventory") -> list[InventoryHost]:
    out: list[InventoryHost] = []
    seen: set[str] = set()
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if " " in line or "\t" in line:
            raise InventoryError(f"{name} line {no}: one target per line, got {quoted(line, 60)}")
        if line not in seen:
            seen.add(line)
            out.append(InventoryHost(name=line, target=line))
    if len(out) > MAX_HOSTS:
        raise InventoryError(f"{name}: more than {MAX_HOSTS} hosts")
    return out


def _is_ini(text: str) -> bool:
    """A section header (not a bracketed IPv6 target) or a `host name=value` line."""
    return bool(re.search(r"^\[(?![0-9A-Fa-f:.%]*:[0-9A-Fa-f:.%]*\])", text, re.M)
                or re.search(r"^[^\s#;]+[ \t]+\w+=", text, re.M))


_YAML_LINE = re.compile(r"^\s*(?:-(?:\s|$)|---|[^\s#\[][^\s#]*:(?:\s|$))")


def _is_ours(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    if "defaults" in data or "jitsi_audit" in data or isinstance(data.get("hosts"), list):
        return True
    hosts = data.get("hosts")
    return isinstance(hosts, dict) and set(data) <= {"hosts", "groups"} and not set(hosts) <= {
        "hosts", "vars", "children"}


def _loader() -> Any:
    """The YAML loader, with Ansible's tags: `!vault` is a value we cannot read (its ciphertext is not
    kept), `!unsafe` a plain string."""

    class InventoryLoader(SafeLoader):  # type: ignore[misc,valid-type]
        pass

    InventoryLoader.add_constructor("!vault", lambda _loader, _node: {VAULTED: "(not decrypted)"})
    InventoryLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
    return InventoryLoader


def parse_inventory(text: str, name: str = "inventory", base: Path | None = None) -> list[InventoryHost]:
    """Any supported format, detected from the content."""
    if _is_ini(text):
        return parse_ini(text, name, base)
    if not any(_YAML_LINE.match(line) for line in text.splitlines()):
        return parse_plain(text, name)
    try:
        data = yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark is not None else ""
        problem = one_line(str(getattr(exc, "problem", None) or exc), 80)
        raise InventoryError(f"{name}{at}: not valid YAML: {problem}") from None
    except RecursionError:  # PyYAML without libyaml has no nesting limit of its own
        raise InventoryError(f"{name}: not valid YAML: nested too deeply") from None
    if data is None:
        return []
    if _is_ours(data):
        return parse_jitsi_yaml(data, name, base)
    return parse_ansible_yaml(data, name, base)


def load_inventory(path: Path) -> list[InventoryHost]:
    text = read_user_text(path, "inventory", InventoryError, max_bytes=MAX_BYTES)
    return parse_inventory(text, str(path), path.parent)


def limit_hosts(hosts: list[InventoryHost], patterns: Iterable[str]) -> list[InventoryHost]:
    """Ansible-like `--limit`: comma-separated host or group names or globs; `!x` excludes; `&x` intersects."""
    pats = [p.strip() for raw in patterns for p in raw.split(",") if p.strip()]
    if not pats:
        return hosts

    def hit(h: InventoryHost, pat: str) -> bool:
        names = (h.name, h.target, *h.groups, "all")
        return any(fnmatch.fnmatchcase(n, pat) for n in names)

    include = [p for p in pats if p[0] not in "!&"]
    chosen = [h for h in hosts if any(hit(h, p) for p in include)] if include else list(hosts)
    for p in pats:
        if p.startswith("&"):
            chosen = [h for h in chosen if hit(h, p[1:])]
        elif p.startswith("!"):
            chosen = [h for h in chosen if not hit(h, p[1:])]
    return chosen
