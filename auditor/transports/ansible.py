"""`ansible://HOST`: a host of the Ansible inventory, audited through our own transports.

The host is looked up with pytest-testinfra's Ansible runner (the code behind its `ansible://`
backend: `ansible-inventory --list`, with ANSIBLE_INVENTORY / ansible.cfg as Ansible reads them), and
its variables become a target exactly as `--inventory` does (auditor.inventory): `ansible_host`,
`ansible_user`, `ansible_port`, `ansible_ssh_private_key_file`, `ansible_connection` (ssh, local,
docker, kubectl) and the `jitsi_audit_*` settings.

The connection itself is ours, not testinfra's: its ssh backend passes the inventory's
`ansible_ssh_common_args` (often `-o StrictHostKeyChecking=no`) to ssh and its paramiko backend
accepts unknown host keys, while our SSH transport keeps strict host-key checking and runs the
collector as one exec request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.collect.stream import one_line
from auditor.inventory import InventoryError, InventoryHost, host_from_vars
from auditor.transports.errors import ConnectError


def resolve_ansible(name: str, inventory: str | None = None) -> InventoryHost:
    """The inventory entry of `name`; ConnectError (stage "inventory") when it cannot be had."""
    try:
        from testinfra.utils.ansible_runner import AnsibleRunner

        runner = AnsibleRunner.get_runner(inventory)
        data: Any = runner.inventory
    except Exception as exc:  # ansible-inventory missing or failing: testinfra raises bare errors
        text = one_line(str(exc), 200) or type(exc).__name__
        raise ConnectError(name, "inventory", f"cannot read the Ansible inventory (ansible-inventory --list): {text}"
                           ) from None
    if not isinstance(data, dict):
        raise ConnectError(name, "inventory", "ansible-inventory --list printed no inventory")
    hostvars = (data.get("_meta") or {}).get("hostvars") or {}
    known = set(hostvars) | {h for g in data.values() if isinstance(g, dict) for h in g.get("hosts") or []}
    if name not in known:
        raise ConnectError(name, "inventory", f"{name} is not a host of the Ansible inventory")
    variables = runner.get_variables(name)
    groups = [g for g in variables.get("group_names") or [] if g not in ("all", "ungrouped")]
    clean = {k: v for k, v in variables.items() if k not in ("groups", "group_names", "inventory_hostname")}
    try:
        return host_from_vars(name, clean, groups, "ansible inventory", Path.cwd())
    except InventoryError as exc:
        raise ConnectError(name, "inventory", str(exc)) from None
