"""`ansible://HOST` against the REAL `ansible-inventory` (Debian's ansible-core, bookworm: 2.14).

tests/fleet/test_transports.py drives the transport with a fake ansible-inventory (failures, hangs, malformed
output that the real tool does not produce on demand); this file checks what the real tool prints for
inventories written here (INI, YAML, group_vars/host_vars, vault, ansible.cfg) and what the transport makes
of it, and audits a lab host through `ansible://NAME` (marked `lab`). Ansible runs with a private HOME,
ANSIBLE_HOME and ANSIBLE_LOCAL_TEMP under tmp_path: nothing is written to the machine's home.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.criteria import load_profile
from auditor.live import LiveOptions, audit_host, collect_host
from auditor.transports.ansible import forget_inventories, resolve_ansible
from auditor.transports.errors import ConnectError
from tests.lab import LabHost

VAULT_PASSWORD = "vault-pw-for-tests"
SECRET = "CANARY-vaulted-become-pass"


@pytest.fixture
def ansible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private Ansible environment; the working directory is the returned (empty) directory."""
    if shutil.which("ansible-inventory") is None:
        if os.environ.get("JITSI_LAB_REQUIRED") == "1":
            pytest.fail("ansible-inventory is not installed (Debian: ansible-core)", pytrace=False)
        pytest.skip("ansible-inventory is not installed (Debian: ansible-core; bash scripts/dev test installs it)")
    for var in [v for v in os.environ if v.startswith("ANSIBLE_")] + ["SSH_AUTH_SOCK"]:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANSIBLE_HOME", str(home / ".ansible"))
    monkeypatch.setenv("ANSIBLE_LOCAL_TEMP", str(tmp_path / "ansible-tmp"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    forget_inventories()
    return work


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _vault(value: str, name: str, work: Path) -> str:
    """`ansible-vault encrypt_string` output: `name: !vault |` and the ciphertext."""
    pw = _write(work.parent / "vault-pw", VAULT_PASSWORD)
    return subprocess.run(["ansible-vault", "encrypt_string", "--vault-password-file", str(pw), value, "--name", name],
                          check=True, capture_output=True, text=True).stdout


INI = """\
loner
[jitsi_web]
web1 ansible_host=192.0.2.10 ansible_port=2222 ansible_user=ops
web2 ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'
[jitsi_videobridges]
jvb[1:2].example.org
[jitsi:children]
jitsi_web
jitsi_videobridges
[jitsi:vars]
ansible_port=2200
jitsi_audit_role=shard
[containers]
meet-docker ansible_connection=community.docker.docker ansible_host=jitsi-web-1
meet-k8s ansible_connection=kubectl ansible_kubectl_namespace=meet ansible_kubectl_pod=jitsi-web-0
"""


def _ini(work: Path) -> Path:
    inv = _write(work / "inventory" / "hosts.ini", INI)
    _write(work / "inventory" / "group_vars" / "jitsi_videobridges.yml",
           "jitsi_audit_role: jvb\nansible_ssh_private_key_file: keys/jvb_ed25519\nansible_user: bridge\n")
    _write(work / "inventory" / "host_vars" / "web1.yml",
           "ansible_ssh_private_key_file: ~/.ssh/web1\n" + _vault(SECRET, "ansible_become_pass", work))
    return inv


def _list(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(["ansible-inventory", "--list", *args], check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout))


def test_what_the_real_ansible_inventory_prints(ansible: Path) -> None:
    """The facts about the output that the transport and tests/fleet/fakes.py rely on."""
    data = _list(["-i", str(_ini(ansible))])
    hostvars = data["_meta"]["hostvars"]
    # group variables are merged into each host's: the transport never walks group vars itself
    assert hostvars["jvb1.example.org"] == {"ansible_port": 2200, "ansible_ssh_private_key_file": "keys/jvb_ed25519",
                                           "ansible_user": "bridge", "jitsi_audit_role": "jvb"}
    assert hostvars["web1"]["ansible_port"] == 2222  # the host's own value beats the group's
    # a host without variables has no hostvars entry: it is only in its group's hosts
    assert "loner" not in hostvars and data["ungrouped"] == {"hosts": ["loner"]}
    assert data["all"] == {"children": ["ungrouped", "jitsi", "containers"]}
    assert data["jitsi"] == {"children": ["jitsi_web", "jitsi_videobridges"]}
    # vaulted values are not decrypted: a mapping with the ciphertext
    vaulted = hostvars["web1"]["ansible_become_pass"]
    assert list(vaulted) == ["__ansible_vault"] and vaulted["__ansible_vault"].startswith("$ANSIBLE_VAULT;1.1;AES256")
    # the transport and the fake set ANSIBLE_VERBOSITY=0; the output is the same JSON
    env = dict(os.environ, ANSIBLE_VERBOSITY="0")
    out = subprocess.run(["ansible-inventory", "--list", "-i", str(ansible / "inventory" / "hosts.ini")],
                         check=True, capture_output=True, text=True, env=env)
    assert json.loads(out.stdout) == data and out.stdout.startswith('{\n    "_meta": {')


def test_ini_inventory_hosts(ansible: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv = _ini(ansible)
    monkeypatch.setenv("ANSIBLE_INVENTORY", str(inv))
    web1 = resolve_ansible("web1")
    assert web1.target == "ssh://ops@192.0.2.10:2222"
    assert web1.key == Path(os.environ["HOME"]) / ".ssh" / "web1"
    assert web1.roles == ("web", "prosody", "jicofo") and web1.groups == ("jitsi", "jitsi_web")
    assert "ansible_become_pass" not in web1.vars  # vaulted: dropped, never kept
    jvb = resolve_ansible("jvb2.example.org")
    assert jvb.target == "ssh://bridge@jvb2.example.org:2200" and jvb.roles == ("jvb",)
    assert jvb.key == ansible / "keys" / "jvb_ed25519"  # relative: to the working directory, as ssh reads it
    assert jvb.groups == ("jitsi", "jitsi_videobridges")
    # the SSH options of the inventory change nothing (strict host keys: test_audit_a_lab_host_through_ansible)
    assert resolve_ansible("web2").target == "ssh://web2:2200"
    loner = resolve_ansible("loner")
    assert (loner.target, loner.groups, loner.roles) == ("ssh://loner", (), ())
    assert resolve_ansible("meet-docker").target == "docker://jitsi-web-1"
    assert resolve_ansible("meet-k8s").target == "kubectl://meet/jitsi-web-0"  # Ansible's kubectl variables
    with pytest.raises(ConnectError, match=r"^inventory: nowhere is not a host of the Ansible inventory$"):
        resolve_ansible("nowhere")
    with pytest.raises(ConnectError, match="is not a host"):
        resolve_ansible("jitsi")  # a group is not a host
    # Ansible's implicit localhost: not in the inventory, yet Ansible runs it here with a local connection
    assert resolve_ansible("localhost").target == "local://"


def test_yaml_inventory_from_ansible_cfg(ansible: Path) -> None:
    """ansible.cfg in the working directory names the inventory (a relative path: to the cfg's directory)."""
    _write(ansible / "ansible.cfg", "[defaults]\ninventory = ./inv/hosts.yml\n")
    _write(ansible / "inv" / "hosts.yml", """\
all:
  vars:
    ansible_user: admin
  children:
    jitsi:
      vars:
        jitsi_audit_https_port: 8443
        jitsi_audit_http_port: 8000
      children:
        shard1:
          hosts:
            meet1.example.org:
              ansible_host: "2001:db8::10"
              jitsi_audit_domain: meet.example.org
              jitsi_audit_sudo: true
            jvb1.example.org:
              jitsi_audit_role: [jvb]
""")
    _write(ansible / "inv" / "group_vars" / "shard1.yml", "ansible_port: 2022\njitsi_audit_role: shard\n")
    meet = resolve_ansible("meet1.example.org")
    assert meet.target == "ssh://admin@[2001:db8::10]:2022"
    assert (meet.domain, meet.sudo, meet.https_port, meet.http_port) == ("meet.example.org", True, 8443, 8000)
    assert meet.groups == ("jitsi", "shard1") and meet.roles == ("web", "prosody", "jicofo")
    assert resolve_ansible("jvb1.example.org").roles == ("jvb",)


def test_vaulted_settings_are_refused_by_name(ansible: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv = _write(ansible / "hosts.ini", "[jitsi]\nmeet\nbridge\n")
    _write(ansible / "host_vars" / "meet.yml", _vault("192.0.2.7", "ansible_host", ansible))
    _write(ansible / "host_vars" / "bridge.yml", "ansible_host: 192.0.2.8\n" + _vault(SECRET, "api_token", ansible))
    monkeypatch.setenv("ANSIBLE_INVENTORY", str(inv))
    with pytest.raises(ConnectError) as info:
        resolve_ansible("meet")
    assert str(info.value) == ("inventory: meet: ansible_host is encrypted with ansible-vault, which "
                               "`ansible-inventory --list` does not decrypt: give it in clear text")
    assert resolve_ansible("bridge").target == "ssh://192.0.2.8"
    result = audit_host("ansible://meet", LiveOptions(), load_profile("default"), [], {})
    assert result.error_stage == "inventory" and "ANSIBLE_VAULT" not in (result.error or "")


def test_an_encrypted_vars_file_fails_with_ansibles_reason(ansible: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv = _write(ansible / "hosts.ini", "[jitsi]\nmeet\n")
    gv = _write(ansible / "group_vars" / "jitsi.yml", f"ansible_become_pass: {SECRET}\n")
    pw = _write(ansible.parent / "vault-pw", VAULT_PASSWORD)
    subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", str(pw), str(gv)], check=True,
                   capture_output=True)
    monkeypatch.setenv("ANSIBLE_INVENTORY", str(inv))
    with pytest.raises(ConnectError) as info:
        collect_host("ansible://meet", LiveOptions())
    assert str(info.value) == ("inventory: ansible-inventory --list failed (exit 4): "
                               "Attempting to decrypt but no vault secrets found")


def test_templates_are_not_rendered(ansible: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv = _write(ansible / "hosts.yml", "jitsi:\n  hosts:\n    meet:\n"
                                        "      ansible_host: '{{ inventory_hostname }}.example.org'\n")
    monkeypatch.setenv("ANSIBLE_INVENTORY", str(inv))
    with pytest.raises(ConnectError, match=r"^inventory: meet: ansible_host is a Jinja2 template, which "
                                           r"`ansible-inventory --list` does not render: give the value itself$"):
        resolve_ansible("meet")


@pytest.mark.parametrize(("content", "why"), [
    (None, "Unable to parse {inv} as an inventory source"),
    ("[jitsi\nmeet\n", "Failed to parse {inv} with ini plugin"),
])
def test_an_inventory_ansible_cannot_parse(ansible: Path, monkeypatch: pytest.MonkeyPatch, content: str | None,
                                           why: str) -> None:
    """ansible-inventory prints an empty inventory and exits 0: its warnings say why the host is missing."""
    inv = ansible / "hosts.ini"
    if content is not None:
        inv.write_text(content)
    monkeypatch.setenv("ANSIBLE_INVENTORY", str(inv))
    with pytest.raises(ConnectError) as info:
        resolve_ansible("meet")
    assert str(info.value).startswith("inventory: meet: no host in the Ansible inventory: ")
    assert why.format(inv=inv) in str(info.value) and "\n" not in str(info.value)


def test_cli_ansible_target_errors_are_one_line(ansible: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ANSIBLE_INVENTORY", str(_ini(ansible)))
    out = ansible / "r.json"
    with pytest.raises(SystemExit) as info:
        main(["ansible://nowhere", "ansible://jvb1.example.org", "--no-probes", "-q", "--timeout", "3",
              "-o", str(out)])
    assert info.value.code == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    targets = {t["target"]: t for t in json.loads(out.read_text())["targets"]}
    assert targets["ansible://nowhere"]["error"] == "nowhere is not a host of the Ansible inventory"
    jvb = targets["ansible://jvb1.example.org"]
    assert jvb["error_stage"] != "inventory" and not jvb["complete"]  # resolved; the key file does not exist


@pytest.mark.lab
def test_audit_a_lab_host_through_ansible(ansible: Path, lab_host: Any, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A real inventory (YAML + group_vars/host_vars) naming a lab host: audited over our SSH transport with
    strict host keys although the inventory says StrictHostKeyChecking=no; the vaulted variable leaks nowhere."""
    host: LabHost = lab_host("legacy-2020")
    _write(ansible / "inventory" / "hosts.yml", "jitsi:\n  children:\n    jitsi_shards:\n      hosts:\n"
                                                "        meet-legacy:\n")
    _write(ansible / "inventory" / "group_vars" / "jitsi.yml",
           f"ansible_user: {host.ssh_user}\nansible_ssh_private_key_file: {host.ssh_key}\n"
           "ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n")
    _write(ansible / "inventory" / "host_vars" / "meet-legacy.yml",
           f"ansible_host: {host.address}\nansible_port: {host.ssh_port}\njitsi_audit_domain: {host.domain}\n"
           f"jitsi_audit_ca_bundle: {host.ca_cert}\n" + _vault(SECRET, "ansible_become_pass", ansible))
    _write(ansible / "ansible.cfg", "[defaults]\ninventory = inventory/hosts.yml\n")
    log = Path(host.command_log)
    before = len(log.read_text().splitlines()) if log.exists() else 0

    empty = _write(ansible / "empty_known_hosts", "")
    report = ansible / "refused.json"
    with pytest.raises(SystemExit) as info:
        main(["ansible://meet-legacy", "--known-hosts", str(empty), "-q", "-o", str(report)])
    assert info.value.code == 3
    refused = json.loads(report.read_text())["targets"][0]
    assert refused["error_stage"] == "host key" and "not in known_hosts" in refused["error"]
    assert empty.read_text() == ""

    report = ansible / "report.json"
    with pytest.raises(SystemExit) as info:
        main(["ansible://meet-legacy", "--known-hosts", host.known_hosts, "-q", "-o", str(report)])
    data = json.loads(report.read_text())
    target = data["targets"][0]
    assert target["complete"], target["error"]
    assert info.value.code == data["exit_code"]
    assert target["target"] == "ansible://meet-legacy" and target["transport"] == "ssh"
    new = [json.loads(line) for line in log.read_text().splitlines()[before:]]
    assert [(s["kind"], s["command"]) for s in new] == [("exec", "/bin/sh -s")]
    blob = report.read_text() + capsys.readouterr().err
    assert SECRET not in blob and "ANSIBLE_VAULT" not in blob
    assert not list((ansible.parent / "home").glob("**/known_hosts"))


def test_the_implicit_localhost_has_the_variables_ansible_gives_it(ansible: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Ansible's implicit localhost is in no group and not in `--list`, yet it reads group_vars/all and
    host_vars/localhost; its connection stays local unless those say otherwise. A vaulted setting is
    refused by name there too."""
    inv = _write(ansible / "inventory" / "hosts.ini", "[jitsi]\nmeet ansible_host=192.0.2.7\n")
    _write(ansible / "inventory" / "group_vars" / "all.yml", "jitsi_audit_domain: meet.example.org\n")
    _write(ansible / "inventory" / "host_vars" / "localhost.yml", "jitsi_audit_https_port: 8443\n")
    monkeypatch.setenv("ANSIBLE_INVENTORY", str(inv))
    local = resolve_ansible("localhost")
    assert (local.target, local.domain, local.https_port, local.groups) == ("local://", "meet.example.org", 8443, ())
    assert resolve_ansible("meet").domain == "meet.example.org"  # the same group_vars/all, as Ansible reads them
    _write(ansible / "inventory" / "host_vars" / "127.0.0.1.yml", "ansible_connection: ssh\nansible_port: 2200\n")
    assert resolve_ansible("127.0.0.1").target == "ssh://127.0.0.1:2200"
    _write(ansible / "inventory" / "host_vars" / "localhost.yml", _vault("8443", "jitsi_audit_https_port", ansible))
    with pytest.raises(ConnectError, match=r"^inventory: localhost: jitsi_audit_https_port is encrypted with "
                                           r"ansible-vault, which `ansible-inventory --host localhost` does not"):
        resolve_ansible("localhost")
