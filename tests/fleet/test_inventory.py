"""Inventories: plain lists, our YAML, Ansible INI and YAML (groups, children, vars, ranges), --limit."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import pytest

from auditor.inventory import MAX_BYTES, InventoryError, InventoryHost, limit_hosts, load_inventory, parse_inventory
from auditor.transports.targets import parse_target
from tests.core.test_user_files import no_hang

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KEY = Path("~/.ssh/audit_ed25519").expanduser()


def _by_name(hosts: Iterable[InventoryHost]) -> dict[str, InventoryHost]:
    return {h.name: h for h in hosts}


def test_ansible_yaml_example() -> None:
    hosts = _by_name(load_inventory(EXAMPLES / "inventory.yaml"))
    assert list(hosts) == ["meet1.example.org", "meet2.example.org", "jvb1.example.org", "jvb2.example.org"]
    assert hosts["meet1.example.org"].target == "ssh://jaudit@meet1.example.org"
    assert hosts["meet2.example.org"].target == "ssh://jaudit@meet2.example.org:2222"
    assert hosts["jvb1.example.org"].target == "ssh://jaudit@10.0.10.11"
    assert hosts["jvb1.example.org"].roles == ("jvb",)
    assert hosts["meet1.example.org"].roles == ("web", "prosody", "jicofo")
    assert hosts["meet1.example.org"].domain == "meet.example.org"
    assert hosts["jvb2.example.org"].domain is None
    assert all(h.key == KEY for h in hosts.values())
    assert hosts["jvb2.example.org"].groups == ("jitsi_videobridges",)
    for h in hosts.values():
        parse_target(h.target)  # every generated spec is a valid target


def test_ansible_ini_example_matches_yaml() -> None:
    ini = _by_name(load_inventory(EXAMPLES / "inventory.ini"))
    yml = _by_name(load_inventory(EXAMPLES / "inventory.yaml"))
    assert set(ini) == set(yml)
    for name, h in ini.items():
        assert (h.roles, h.domain, h.key) == (yml[name].roles, yml[name].domain, yml[name].key)
    assert ini["meet2.example.org"].target == yml["meet2.example.org"].target == "ssh://jaudit@meet2.example.org:2222"
    assert "jitsi" in ini["jvb1.example.org"].groups  # [jitsi:children]
    assert ini["jvb1.example.org"].target == "ssh://jaudit@jvb1.example.org"  # no ansible_host in the INI


def test_own_yaml_example() -> None:
    hosts = _by_name(load_inventory(EXAMPLES / "fleet.yaml"))
    assert hosts["jvb2.example.org"].target == "ssh://jaudit@10.0.10.12:2222"
    assert hosts["jvb1.example.org"].groups == ("bridges", "shard1")
    assert hosts["recorder1.example.org"].sudo is True and hosts["recorder1.example.org"].roles == ("jibri",)
    assert hosts["meet1.example.org"].sudo is None
    assert hosts["docker-meet"].target == "docker://jitsi-web-1"
    assert [h.name for h in limit_hosts(list(hosts.values()), ["shard1"])] == ["meet1.example.org", "jvb1.example.org"]


def test_plain_list() -> None:
    hosts = load_inventory(EXAMPLES / "hosts.txt")
    assert [h.target for h in hosts] == [
        "meet1.example.org", "jaudit@jvb1.example.org:2222", "ssh://jaudit@[2001:db8::10]:22", "local://"]
    assert parse_inventory("# nothing\n\n") == []
    with pytest.raises(InventoryError, match="one target per line"):
        parse_inventory("meet1 meet2\n")


def test_precedence_children_ranges_and_ipv6(tmp_path: Path) -> None:
    text = """
all:
  vars: {ansible_user: root, ansible_port: 22, jitsi_audit_role: all}
  children:
    eu:
      vars: {ansible_user: ops}
      children:
        eu_bridges:
          vars: {ansible_user: bridge, jitsi_audit_role: jvb}
          hosts:
            jvb[01:03].eu.example.org:
            jvb-v6.eu.example.org: {ansible_host: "2001:db8::7", ansible_port: 2200, ansible_user: v6}
      hosts:
        meet.eu.example.org:
    other:
      hosts:
        jvb02.eu.example.org: {ansible_port: 2202}
"""
    hosts = _by_name(parse_inventory(text, "inv.yml", tmp_path))
    assert sorted(hosts) == ["jvb-v6.eu.example.org", "jvb01.eu.example.org", "jvb02.eu.example.org",
                             "jvb03.eu.example.org", "meet.eu.example.org"]
    assert hosts["jvb01.eu.example.org"].target == "ssh://bridge@jvb01.eu.example.org:22"
    assert hosts["jvb02.eu.example.org"].target == "ssh://bridge@jvb02.eu.example.org:2202"  # host var wins
    assert hosts["jvb02.eu.example.org"].groups == ("eu", "eu_bridges", "other")
    assert hosts["jvb-v6.eu.example.org"].target == "ssh://v6@[2001:db8::7]:2200"
    assert hosts["meet.eu.example.org"].target == "ssh://ops@meet.eu.example.org:22"
    assert hosts["meet.eu.example.org"].roles == ("web", "prosody", "jicofo", "jvb")
    assert hosts["jvb03.eu.example.org"].roles == ("jvb",)
    spec = parse_target(hosts["jvb-v6.eu.example.org"].target)
    assert (spec.host, spec.port, spec.user) == ("2001:db8::7", 2200, "v6")


def test_ini_details(tmp_path: Path) -> None:
    text = """# comment
standalone.example.org ansible_host=192.0.2.9 jitsi_audit_sudo=yes

[bridges]
jvb[a:c].example.org ansible_connection=ssh
[bridges:vars]
jitsi_audit_role="jvb"
ansible_ssh_common_args='-o StrictHostKeyChecking=no'
jitsi_audit_ca_bundle=certs/ca.pem
[local]
controller ansible_connection=local
[docker_hosts]
meet-docker.example.org jitsi_audit_https_port=8443 http_port=8000
[containers]
web ansible_connection=community.docker.docker ansible_host=jitsi-web-1
pod ansible_connection=kubernetes.core.kubectl ansible_host=jitsi-web-0
"""
    hosts = _by_name(parse_inventory(text, "hosts.ini", tmp_path))
    assert hosts["standalone.example.org"].target == "ssh://192.0.2.9"
    assert hosts["standalone.example.org"].sudo is True
    assert hosts["standalone.example.org"].groups == ()
    assert sorted(n for n, h in hosts.items() if h.roles == ("jvb",)) == [
        "jvba.example.org", "jvbb.example.org", "jvbc.example.org"]
    assert hosts["jvba.example.org"].ca_bundle == tmp_path / "certs" / "ca.pem"  # relative to the inventory
    assert hosts["controller"].target == "local://"
    assert hosts["web"].target == "docker://jitsi-web-1"
    assert hosts["pod"].target == "kubectl://jitsi-web-0"
    docker = hosts["meet-docker.example.org"]
    assert (docker.https_port, docker.http_port) == (8443, 8000)
    assert (hosts["controller"].https_port, hosts["controller"].http_port) == (None, None)  # the run's ports


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[w]\nh ansible_connection=winrm\n", "connection 'winrm' is not supported"),
        ("[w]\nh ansible_port=99999\n", "is not a port number"),
        ("[w]\nh jitsi_audit_https_port=0\n", "port '0' is not a port number"),
        ("[w]\nh http_port=web\n", "port 'web' is not a port number"),
        ("[w]\nh jitsi_audit_role=mixer\n", "unknown role 'mixer'"),
        ("[w]\nh jitsi_audit_sudo=maybe\n", "sudo must be true or false"),
        ("[w]\nh novalue\n", "expected name=value"),
        ("[w\nh\n", "bad section header"),
        ("all:\n  children:\n    a:\n      children:\n        a: {}\n", "its own ancestor"),
        ("hosts:\n  - {user: x}\n", "needs a name or host"),
        ("all:\n  hosts: [a, b]\n", "hosts must be a mapping"),
        ("all: {hosts: {a: }}\n  bad: [\n", "not valid YAML"),
        ("[w]\njvb[9:1]\n", r"host range '\[9:1\]' is empty"),
        ("[w]\nnode[z:a]\n", r"host range '\[z:a\]' is empty"),
    ],
)
def test_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(InventoryError, match=message):
        parse_inventory(text, "inv")


def test_limit_patterns() -> None:
    hosts = load_inventory(EXAMPLES / "inventory.yaml")

    def names(hs: Iterable[InventoryHost]) -> list[str]:
        return [h.name for h in hs]

    assert names(limit_hosts(hosts, [])) == names(hosts)
    assert names(limit_hosts(hosts, ["jitsi_videobridges"])) == ["jvb1.example.org", "jvb2.example.org"]
    assert names(limit_hosts(hosts, ["meet1.example.org,jvb2*"])) == ["meet1.example.org", "jvb2.example.org"]
    assert names(limit_hosts(hosts, ["all", "!jitsi_web"])) == ["jvb1.example.org", "jvb2.example.org"]
    assert names(limit_hosts(hosts, ["jitsi_*", "&*2.example.org"])) == ["meet2.example.org", "jvb2.example.org"]
    assert names(limit_hosts(hosts, ["10.0.10.11"])) == []  # addresses are not names
    assert names(limit_hosts(hosts, ["ssh://jaudit@10.0.10.11"])) == ["jvb1.example.org"]


def test_unreadable_and_oversized(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="cannot read inventory"):
        load_inventory(tmp_path / "missing.ini")
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    with pytest.raises(InventoryError, match="not UTF-8"):
        load_inventory(tmp_path / "bin")
    with (tmp_path / "huge.ini").open("wb") as f:
        f.truncate(MAX_BYTES + 1)
    with pytest.raises(InventoryError, match=rf"^inventory .*huge\.ini is larger than {MAX_BYTES} bytes$"):
        load_inventory(tmp_path / "huge.ini")


def test_fifo_inventory_is_refused_promptly(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "hosts.ini")  # no writer: reading it would block forever
    with no_hang(), pytest.raises(InventoryError, match=r"^inventory .*hosts\.ini is not a regular file$"):
        load_inventory(tmp_path / "hosts.ini")


def test_inventory_web_ports_reach_the_probe_options() -> None:
    from auditor.live import HostJob, LiveOptions

    text = "[docker]\nd.example.org https_port=8443 http_port=8000\n[debian]\nm.example.org\n"
    hosts = _by_name(parse_inventory(text, "hosts.ini"))
    run = LiveOptions(https_port=9443)  # the run's --https-port: hosts without their own
    docker = HostJob.from_inventory(hosts["d.example.org"]).options(run)
    plain = HostJob.from_inventory(hosts["m.example.org"]).options(run)
    assert (docker.https_port, docker.http_port) == (8443, 8000)
    assert (plain.https_port, plain.http_port) == (9443, 80)


@pytest.mark.parametrize("loader", ["libyaml", "pure Python"])
def test_a_nesting_too_deep_is_one_line(loader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """libyaml refuses more than 1000 levels; PyYAML's own loader would recurse until RecursionError."""
    import yaml

    import auditor.inventory

    if loader == "pure Python":
        monkeypatch.setattr(auditor.inventory, "SafeLoader", yaml.SafeLoader)
    deep = "hosts: " + "[" * 100_000 + "]" * 100_000 + "\n"
    with pytest.raises(InventoryError, match=r"^deep.yaml( line 1)?: not valid YAML: (nested too deeply|exceeded)"):
        parse_inventory(deep, "deep.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[w]\nh[0:99999999]\n", r"^inv line 2: host ranges in 'h\[0:99999999\]' make more than 10000 hosts$"),
        ("[w]\nh[0:99999999999999]\n", "bad host range .* at most 9 digits"),
        ("[w]\nh[0:9999][0:9999]\n", r"^inv line 2: host ranges in 'h\[0:9999\]\[0:9999\]' make more than 10000"),
        ("all:\n  hosts:\n    jvb[000:999][a:z].example.org:\n", "make more than 10000 hosts"),
        ("[w]\n" + "h[0000:9999]\n" * 3000, r"^inv: more than 500000 host entries"),  # 60 kB, 30 million entries
        ("[g5000]\nh\n" + "".join(f"[g{k}:children]\ng{k + 1}\n" for k in range(5000)),
         r"^inv: groups nested more than 100 deep$"),  # a chain deeper than Python's recursion limit
    ],
    ids=["range", "range-beyond-memory", "ranges-multiplied", "yaml-ranges-multiplied", "range-repeated",
         "children-chain"],
)
def test_inventory_that_would_make_too_much_is_refused_promptly(text: str, message: str) -> None:
    with no_hang(), pytest.raises(InventoryError, match=message):
        parse_inventory(text, "inv")


def test_yaml_alias_bomb_of_groups_is_read_once() -> None:
    """Each group body an alias of the level below, twice: 2**40 visits if every alias were walked again."""
    lines = ["l0: &x0 {hosts: {jvb1.example.org: {ansible_port: 2222}}}"]
    lines += [f"l{k}: &x{k} {{children: {{a{k}: *x{k - 1}, b{k}: *x{k - 1}}}}}" for k in range(1, 41)]
    with no_hang():
        hosts = parse_inventory("\n".join(lines) + "\n", "bomb.yaml")
    assert [h.target for h in hosts] == ["ssh://jvb1.example.org:2222"]
    assert {"l0", "a1", "b1", "a40", "l40"} <= set(hosts[0].groups)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hosts: [a]\ngroups: [x]\n", "groups must be a mapping of group name to host names"),
        ("hosts: [a]\ngroups: 5\n", "groups must be a mapping of group name to host names"),
        ("hosts: [a]\ngroups: {g: [a, {x: 1}]}\n", "group 'g' must list host names"),
        ("hosts:\n  - {name: a, groups: 5}\n", "host 'a': groups must be a group name or a list of names"),
        ("all:\n  hosts:\n    a: {jitsi_audit_role: 5}\n", "host 'a': role must be a name or a list of names"),
        ("defaults: {role: [jvb, {x: 1}]}\nhosts: [a]\n", "host 'a': role must be a name or a list of names"),
    ],
)
def test_wrong_types_in_yaml_are_one_line(text: str, message: str) -> None:
    with pytest.raises(InventoryError, match=message):
        parse_inventory(text, "inv")
    assert parse_inventory("defaults: {role: [jvb, turn]}\nhosts: [a]\n")[0].roles == ("jvb", "coturn")


def _cli(args: list[str]) -> tuple[int, str, str]:
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "auditor.cli", *args], capture_output=True, text=True, timeout=120,
                         check=False)
    return run.returncode, run.stdout, run.stderr


def test_an_inventory_without_hosts_is_a_usage_error_not_the_demo(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("# the hosts are added by the CI job\n")
    (tmp_path / "empty.yaml").write_text("all:\n  children:\n    jitsi: {}\n")
    for name in ("empty.txt", "empty.yaml"):
        code, out, err = _cli(["--inventory", str(tmp_path / name), "--no-probes", "-q", "-f", "json"])
        assert (code, out) == (2, ""), (code, out[:300])
        assert err == f"jitsi-audit: inventory {tmp_path / name} lists no hosts\n"


def test_limit_spans_every_inventory(tmp_path: Path) -> None:
    """--limit picks hosts from the inventories together: a group of one file is not an error for the other."""
    (tmp_path / "web.ini").write_text("[web]\nweb1 ansible_host=127.0.0.1 ansible_port=1\n")
    (tmp_path / "jvb.ini").write_text("[jvb]\njvb1 ansible_host=127.0.0.1 ansible_port=1\n")
    inventories = ["--inventory", str(tmp_path / "web.ini"), "--inventory", str(tmp_path / "jvb.ini")]
    code, out, err = _cli([*inventories, "--limit", "web", "--no-probes", "-q", "-f", "json", "--timeout", "2"])
    assert code == 3, err  # port 1 refuses: incomplete
    assert [t["target"] for t in json.loads(out)["targets"]] == ["web1"]
    assert err.splitlines() == ["jitsi-audit: web1: connect: connection to 127.0.0.1:1 refused"]
    code, out, err = _cli([*inventories, "--limit", "nothing*", "--no-probes", "-q"])
    assert code == 2 and err == (f"jitsi-audit: no host of {tmp_path / 'web.ini'}, {tmp_path / 'jvb.ini'} "
                                 "matches --limit nothing*\n")


def test_a_host_given_twice_with_different_settings_is_refused(tmp_path: Path) -> None:
    """Which settings applied would depend on the order of the arguments; the same entry twice is fine."""
    (tmp_path / "a.ini").write_text("[web]\nweb1 ansible_host=127.0.0.1 ansible_port=1\n")
    (tmp_path / "b.ini").write_text("[web]\nweb1 ansible_host=127.0.0.2 ansible_port=1\n")
    (tmp_path / "c.ini").write_text((tmp_path / "a.ini").read_text())
    for args in (["--inventory", str(tmp_path / "a.ini"), "--inventory", str(tmp_path / "b.ini")],
                 ["web1", "--inventory", str(tmp_path / "a.ini")]):
        code, out, err = _cli([*args, "--no-probes", "-q", "-f", "json"])
        assert (code, out) == (2, ""), err
        assert err == "jitsi-audit: web1 is given twice with different settings (a target and an inventory " \
                      "entry, or two inventories): give it once\n"
    code, out, err = _cli(["--inventory", str(tmp_path / "a.ini"), "--inventory", str(tmp_path / "c.ini"),
                           "--no-probes", "-q", "-f", "json", "--timeout", "2"])
    assert code == 3 and [t["target"] for t in json.loads(out)["targets"]] == ["web1"], err


def test_ansible_kubectl_pod_and_namespace(tmp_path: Path) -> None:
    """Ansible's kubectl connection names the pod and namespace in their own variables; without the namespace
    the pod would be looked for in the current context's namespace (another pod, or none)."""
    text = """[k8s]
meet-k8s ansible_connection=kubernetes.core.kubectl ansible_kubectl_namespace=meet ansible_kubectl_pod=jitsi-web-0
bare-pod ansible_connection=kubectl ansible_kubectl_namespace=jitsi
named ansible_connection=kubectl ansible_host=jitsi-web-1
"""
    hosts = _by_name(parse_inventory(text, "hosts.ini", tmp_path))
    assert hosts["meet-k8s"].target == "kubectl://meet/jitsi-web-0"
    assert hosts["bare-pod"].target == "kubectl://jitsi/bare-pod"
    assert hosts["named"].target == "kubectl://jitsi-web-1"
    assert parse_target(hosts["meet-k8s"].target).namespace == "meet"


@pytest.mark.parametrize("line", ["x[0:" + "9" * 5000 + "]", "x[0:9:" + "9" * 5000 + "]", "x[0:9999999999]"])
def test_a_range_bound_too_long_is_one_line(line: str) -> None:
    """Python refuses int() of more than 4300 digits: that was a ValueError traceback (exit 1)."""
    with pytest.raises(InventoryError, match=r"^inv line 2: bad host range"):
        parse_inventory(f"[w]\n{line}\n", "inv")


def test_groups_nested_too_deep_whatever_their_order() -> None:
    """Depths are cached: written top-down, 150 nested groups never recursed 100 deep and were accepted."""
    top_down = "".join(f"[g{i}:children]\ng{i + 1}\n" for i in range(150)) + "[g150]\nh1\n"
    bottom_up = "[g150]\nh1\n" + "".join(f"[g{i}:children]\ng{i + 1}\n" for i in reversed(range(150)))
    for text in (top_down, bottom_up):
        with pytest.raises(InventoryError, match="groups nested more than 100 deep"):
            parse_inventory(text, "inv")
    fine = "".join(f"[g{i}:children]\ng{i + 1}\n" for i in range(90)) + "[g90]\nh1\n"
    assert [h.name for h in parse_inventory(fine, "inv")] == ["h1"]


VAULTED_YAML = """\
all:
  hosts:
    meet1:
      ansible_host: 192.0.2.10
      ansible_become_password: !vault |
        $ANSIBLE_VAULT;1.1;AES256
        62313365396662343061393464336163383764373764613633653634306231386433626436623361
      motd: !unsafe '{{ not a template }}'
"""


def test_ansible_yaml_tags_vault_and_unsafe() -> None:
    """`!vault` was 'could not determine a constructor' for the whole inventory (exit 2) even on a variable
    never used: it is a value we cannot read, dropped unless we need it; `!unsafe` is a plain string."""
    (host,) = parse_inventory(VAULTED_YAML, "inv.yaml")
    assert host.name == "meet1" and host.target == "ssh://192.0.2.10"
    assert "ansible_become_password" not in host.vars and host.vars["motd"] == "{{ not a template }}"
    needed = VAULTED_YAML.replace("ansible_become_password", "ansible_host_unused").replace(
        "ansible_host: 192.0.2.10", "ansible_host: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        6231")
    with pytest.raises(InventoryError, match=r"^inv.yaml: meet1: ansible_host is encrypted with ansible-vault") as info:
        parse_inventory(needed, "inv.yaml")
    assert "ANSIBLE_VAULT" not in str(info.value) and "6231" not in str(info.value)


@pytest.mark.parametrize(("line", "message"), [
    ("meet1 ansible_host='{{ inventory_hostname }}.example.org'", "ansible_host is a Jinja2 template"),
    ("meet1 ansible_connection=docker ansible_docker_extra_args='-H tcp://10.0.0.5:2375'",
     "a docker daemon of its own .* is not supported"),
    ("meet1 ansible_connection=docker ansible_docker_extra_args='--context=prod'",
     "a docker daemon of its own .* is not supported"),
])
def test_settings_we_cannot_honour_are_refused(line: str, message: str) -> None:
    with pytest.raises(InventoryError, match=message):
        parse_inventory(f"[jitsi]\n{line}\n", "inv.ini")


def test_the_docker_connection_names_its_container() -> None:
    """community.docker.docker: ansible_docker_host (else ansible_host, else the name) is the container;
    extra arguments that do not choose a daemon are fine."""
    text = ("[jitsi]\nweb ansible_connection=docker ansible_docker_host=jitsi-web-1\n"
            "web2 ansible_connection=docker ansible_host=jitsi-web-2 ansible_docker_extra_args='--tls'\n"
            "web3 ansible_connection=docker\n")
    assert [h.target for h in parse_inventory(text, "inv.ini")] == [
        "docker://jitsi-web-1", "docker://jitsi-web-2", "docker://web3"]


def test_an_unreachable_host_keeps_the_roles_its_inventory_gives(tmp_path: Path) -> None:
    """The fleet summary showed "—" for the roles of a host that could not be audited, although known."""
    (tmp_path / "inv.ini").write_text("[jitsi]\njvb1 ansible_host=127.0.0.1 ansible_port=1 jitsi_audit_role=jvb\n")
    code, out, _ = _cli(["--inventory", str(tmp_path / "inv.ini"), "--no-probes", "-q", "-f", "json",
                         "--timeout", "2"])
    data = json.loads(out)
    assert code == 3 and data["fleet"][0]["roles"] == ["jvb"] and data["fleet"][0]["complete"] is False
    assert data["targets"][0]["host_roles"] == ["jvb"] and data["targets"][0]["host_roles_source"] == "inventory"
