"""docker://, kubectl:// and ansible:// targets against fake executables (see fakes.py for what that proves)."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.collect.plan import plan_sha256
from auditor.criteria import load_profile
from auditor.discovery import discover
from auditor.engine import audit_snapshot
from auditor.live import HostJob, LiveOptions, audit_host, collect_host
from auditor.processes import process_names
from auditor.registry import all_checks
from auditor.roles import CORE
from auditor.transports.containers import ContainerOptions, collect_containers
from auditor.transports.errors import CollectError, ConnectError
from auditor.transports.local import collect_local_dir
from auditor.transports.targets import TargetError, parse_target
from tests.fleet.fakes import FIXTURES, Fakes

CFG = "/root/.jitsi-meet-cfg"


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    return Fakes(tmp_path)


def _compose(f: Fakes) -> None:
    for service in ("web", "prosody", "jicofo", "jvb"):
        f.container(f"jitsi-{service}-1", service)
    f.container("jitsi-etherpad-1", "etherpad", image="jitsi/etherpad")
    f.container("other-web-1", "web", project="other")  # another project: never touched


def test_target_specs() -> None:
    assert parse_target("docker://jitsi-web-1").host == "jitsi-web-1"
    spec = parse_target("kubectl://meet/jitsi-web-5d9f")
    assert (spec.scheme, spec.namespace, spec.host, spec.display) == ("kubectl", "meet", "jitsi-web-5d9f",
                                                                     "kubectl://meet/jitsi-web-5d9f")
    assert parse_target("ansible://jvb1.example.org").scheme == "ansible"
    for bad in ("docker://-it", "docker://a b", "kubectl://a/b/c", "docker://", "docker://x;rm", "ftp://x"):
        with pytest.raises(TargetError):
            parse_target(bad)


def test_docker_project_is_one_target(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    _compose(fakes)
    fakes.env(monkeypatch)
    snap = collect_containers(parse_target("docker://jitsi-web-1"))
    calls = fakes.calls()
    assert calls[0] == ["docker", "inspect", "--type", "container", "jitsi-web-1"]
    assert calls[1] == ["docker", "ps", "--all", "--no-trunc", "--quiet", "--filter", "label=com.docker.compose.project=jitsi"]
    assert calls[2][:4] == ["docker", "inspect", "--type", "container"]
    execs = sorted(c for c in calls if c[1] == "exec")
    assert execs == [["docker", "exec", "--interactive", "--env", "JITSI_AUDIT_CONTAINER=1", f"jitsi-{s}-1",
                      "/bin/sh", "-s"] for s in ("jicofo", "jvb", "prosody", "web")]
    assert not any("other-web-1" in c or "jitsi-etherpad-1" in c[4:5] for c in execs)
    # /config of each service lands where docker-jitsi-meet keeps it on the host (the bind mounts' sources)
    for key in (f"{CFG}/web/config.js", f"{CFG}/web/nginx/site-confs/default", f"{CFG}/prosody/config/prosody.cfg.lua",
                f"{CFG}/prosody/config/conf.d/jitsi-meet.cfg.lua", f"{CFG}/jicofo/jicofo.conf", f"{CFG}/jvb/jvb.conf"):
        assert snap.items[key].ok, key
    assert snap.items["/containers/web/etc/os-release"].ok
    assert "cmd:dpkg-query" in snap.items and "cmd:ss@prosody" in snap.items and "cmd:ss" not in snap.items
    # each container lists its own processes (none here: a test tree has no /proc); the host's stay unknown
    assert "cmd:processes@web" in snap.items and process_names(snap) is None
    assert snap.transport == "docker" and snap.target == "docker://jitsi-web-1"
    assert snap.facts["containers.project"] == "jitsi" and snap.facts["containers.jvb"] == "jitsi-jvb-1"
    assert snap.facts["collector.plan_sha256"] == plan_sha256()
    assert snap.facts["containers.web.mode"] == "container"
    assert "jitsi-etherpad-1" in snap.facts["containers.skipped"]
    assert snap.facts["collection"] == "complete" and not snap.errors
    # Nothing outside /config and os-release was read in the containers (container mode).
    files = [k for k, i in snap.items.items() if i.kind == "file"]
    assert all(k.startswith((CFG, "/containers/")) for k in files)
    assert not [k for k in files if k.startswith("/containers/") and not k.endswith("/etc/os-release")]


def test_merged_snapshot_reads_like_the_config_volume(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same files are found in the same roles as a --root audit of the CONFIG volume."""
    _compose(fakes)
    fakes.env(monkeypatch)
    merged = collect_containers(parse_target("docker://jitsi-prosody-1"))
    volume = collect_local_dir(FIXTURES / "docker-volume")
    got = sorted((f.role.value, f.path.removeprefix(CFG)) for f in discover(merged) if f.path.startswith(CFG))
    want = sorted((f.role.value, f.path) for f in discover(volume) if not f.path.endswith("README.md"))
    assert got == want
    profile = load_profile("default")
    result = audit_snapshot(merged, profile, all_checks(profile.criterion_ids, with_plugins=False))
    assert result.roles is not None and result.roles.roles[:4] == CORE and result.roles.source == "detected"
    assert not [f for f in result.findings if f.message.startswith("role ")]  # all-in-one: every check applies


def test_sibling_failure_leaves_the_target_incomplete(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    _compose(fakes)
    fakes.state["fail_exec"] = ["jitsi-jvb-1"]
    fakes.env(monkeypatch)
    snap = collect_containers(parse_target("docker://jitsi-web-1"))
    assert snap.facts["collection"] == "incomplete"
    assert any("jvb (jitsi-jvb-1)" in e and "is not running" in e for e in snap.errors)
    assert f"{CFG}/web/config.js" in snap.items
    fakes.state["fail_exec"] = ["jitsi-web-1"]
    fakes.save()
    with pytest.raises(CollectError, match="docker://jitsi-web-1 stopped early: Error response"):
        collect_containers(parse_target("docker://jitsi-web-1"))


def test_docker_errors_are_one_line(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    fakes.container("jitsi-web-1", "web", running=False)
    fakes.env(monkeypatch)
    with pytest.raises(ConnectError, match="No such container: nope"):
        collect_containers(parse_target("docker://nope"))
    with pytest.raises(ConnectError, match="jitsi-web-1: not running"):
        collect_containers(parse_target("docker://jitsi-web-1"))
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConnectError, match="docker not found on PATH"):
        collect_containers(parse_target("docker://jitsi-web-1"))


def test_container_without_compose_labels_or_mounts(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    fakes.container("meet-web", "web", config_source=None)
    fakes.state["containers"]["meet-web"]["Config"]["Labels"] = {}
    fakes.env(monkeypatch)
    snap = collect_containers(parse_target("docker://meet-web"))
    assert snap.items["/docker/meet-web/web/config.js"].ok  # synthetic CONFIG root, service from the image
    assert [c[1] for c in fakes.calls()] == ["inspect", "exec"]


def test_kubectl_release_is_one_target(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    for component in ("web", "prosody", "jicofo", "jvb"):
        fakes.pod(f"jitsi-{component}-0", component)
    fakes.pod("jitsi-jvb-1", "jvb")  # a second bridge replica: same config, audited once
    fakes.pod("jitsi-jicofo-old", "jicofo", phase="Pending")
    fakes.pod("jitsi-web-0x", "web", namespace="other")
    fakes.env(monkeypatch)
    snap = collect_containers(parse_target("kubectl://meet/jitsi-web-0"), ContainerOptions(max_parallel=2))
    calls = fakes.calls()
    assert calls[0] == ["kubectl", "--namespace", "meet", "get", "pod", "jitsi-web-0", "--output", "json"]
    assert calls[1] == ["kubectl", "--namespace", "meet", "get", "pods", "--selector",
                        "app.kubernetes.io/instance=jitsi", "--output", "json"]
    execs = sorted(c for c in calls if "exec" in c)
    assert ["kubectl", "--namespace", "meet", "exec", "--stdin", "jitsi-prosody-0", "--container", "prosody", "--",
            "env", "JITSI_AUDIT_CONTAINER=1", "/bin/sh", "-s"] in execs
    assert ["kubectl", "--namespace", "meet", "exec", "--stdin", "jitsi-web-0", "--container", "jitsi-meet", "--",
            "env", "JITSI_AUDIT_CONTAINER=1", "/bin/sh", "-s"] in execs
    assert len(execs) == 4
    assert snap.items["/kubectl/jitsi/prosody/config/prosody.cfg.lua"].ok
    assert snap.items["/kubectl/jitsi/jvb/jvb.conf"].ok
    assert "jitsi-jvb-1: another jvb" in snap.facts["containers.skipped"]
    assert "jitsi-jicofo-old: not running" in snap.facts["containers.skipped"]


def test_live_audit_of_a_docker_target(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    """The live flow: no outside probes for containers, roles detected, one result named by the target."""
    _compose(fakes)
    fakes.env(monkeypatch)
    profile = load_profile("default")
    checks = all_checks(profile.criterion_ids, with_plugins=False)
    result = audit_host("docker://jitsi-web-1", LiveOptions(), profile, checks, {})
    assert result.complete, result.error
    assert result.target == "docker://jitsi-web-1" and result.probes == {}
    assert result.roles is not None and set(CORE) <= set(result.roles.roles)


def test_host_timeout_and_other_hosts_complete(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that hangs is incomplete after --host-timeout; the other host of the run completes."""
    import time

    from auditor.live import audit_hosts

    _compose(fakes)
    fakes.container("two-web-1", "web", project="two")
    fakes.state["slow_exec"] = ["two-web-1"]
    fakes.env(monkeypatch)
    profile = load_profile("default")
    checks = all_checks(profile.criterion_ids, with_plugins=False)
    seen: list[tuple[str, str]] = []
    start = time.monotonic()
    one, two = audit_hosts(["docker://jitsi-web-1", "docker://two-web-1"], LiveOptions(host_timeout=3),
                           profile, checks, {}, lambda t, s: seen.append((t, s)))
    assert time.monotonic() - start < 15
    assert one.complete and not two.complete
    assert two.error_stage == "collect" and "timed out after 3s" in (two.error or "")
    assert ("docker://two-web-1", "failed") in seen and ("docker://jitsi-web-1", "done") in seen


@pytest.fixture(autouse=True)
def _fresh_ansible_lookups() -> None:
    from auditor.transports.ansible import forget_inventories

    forget_inventories()


def _ansible_inventory(fakes: Fakes, hostvars: dict[str, dict[str, object]]) -> None:
    """What ansible-inventory --list prints (tests/integration/test_ansible_real.py checks the real one): hosts
    without variables are in no `hostvars`, only in their groups; `all` has the `ungrouped` child."""
    fakes.state["ansible"] = {
        "_meta": {"hostvars": {h: v for h, v in hostvars.items() if v}},
        "all": {"children": ["ungrouped", "jitsi"]},
        "jitsi": {"hosts": list(hostvars)},
    }


def test_ansible_host_through_docker(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    _compose(fakes)
    _ansible_inventory(fakes, {"meet-docker": {"ansible_connection": "community.docker.docker",
                                               "ansible_host": "jitsi-web-1", "jitsi_audit_role": "shard"}})
    fakes.env(monkeypatch)
    profile = load_profile("default")
    result = audit_host(HostJob("ansible://meet-docker"), LiveOptions(), profile,
                        all_checks(profile.criterion_ids, with_plugins=False), {})
    assert result.complete, result.error
    assert result.target == "ansible://meet-docker"  # as given
    assert result.snapshot is not None and result.snapshot.transport == "docker"
    assert result.roles is not None and result.roles.roles == ("web", "prosody", "jicofo")
    assert result.roles.source == "inventory"
    jvb = {f.check_id: f for f in result.findings}["jvb.public_http"]
    assert jvb.status.value == "not_applicable" and jvb.message.startswith("role web+prosody+jicofo: no jvb")
    assert fakes.calls()[0][:2] == ["ansible-inventory", "--list"]
    missing = audit_host("ansible://nowhere", LiveOptions(), profile, [], {})
    assert missing.error_stage == "inventory" and "not a host of the Ansible inventory" in (missing.error or "")


def test_ansible_ssh_keeps_strict_host_keys(fakes: Fakes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The inventory says StrictHostKeyChecking=no; our SSH transport refuses the unknown key anyway."""
    from tests.collect.sshd_server import USER, running_sshd

    with running_sshd() as sshd:
        _ansible_inventory(fakes, {"bridge": {
            "ansible_host": "127.0.0.1", "ansible_port": sshd.port, "ansible_user": USER,
            "ansible_ssh_private_key_file": str(sshd.user_key),
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}})
        fakes.env(monkeypatch)
        empty = tmp_path / "known_hosts"
        empty.write_text("")
        with pytest.raises(Exception, match="not in known_hosts") as info:
            collect_host("ansible://bridge", LiveOptions(known_hosts=empty))
        assert type(info.value).__name__ == "HostKeyError"
        assert empty.read_text() == ""
        snap = collect_host("ansible://bridge", LiveOptions(known_hosts=sshd.known_hosts(tmp_path / "kh")))
        assert snap.transport == "ssh" and snap.facts["ssh.port"] == str(sshd.port)


_BAD_INVENTORIES = [  # what a broken ansible-inventory (or an inventory script behind it) may print
    ("", "printed no JSON"),
    ("{not json", "printed no JSON"),
    ("\xff\xfe", "printed no JSON"),
    ("[]", "unexpected inventory: not a mapping"),
    ('{"_meta": {"hostvars": {"bridge": "10.0.0.1"}}, "all": {"hosts": ["bridge"]}}',
     "_meta.hostvars is not a mapping of hosts to variables"),
    ('{"_meta": {"hostvars": []}, "all": {"hosts": ["bridge"]}}', "_meta.hostvars is not a mapping"),
    ('{"_meta": {}, "all": {"hosts": "bridge"}}', "the hosts of all is not a list of names"),
    ('{"_meta": {}, "all": {"children": [1]}}', "the children of all is not a list of names"),
    ('{"_meta": {}, "all": ["bridge"]}', "group all is not a mapping"),
    ("[" * 100_000 + "]" * 100_000, "printed no JSON"),
]


@pytest.mark.parametrize(("stdout", "reason"), _BAD_INVENTORIES)
def test_malformed_ansible_inventory_output_is_one_line(fakes: Fakes, monkeypatch: pytest.MonkeyPatch,
                                                        stdout: str, reason: str) -> None:
    fakes.state["ansible_run"] = {"stdout": stdout}
    fakes.env(monkeypatch)
    with pytest.raises(ConnectError, match=reason) as info:
        collect_host("ansible://bridge", LiveOptions())
    assert info.value.stage == "inventory" and "\n" not in str(info.value)
    profile = load_profile("default")
    result = audit_host("ansible://bridge", LiveOptions(), profile, [], {})
    assert not result.complete and result.error_stage == "inventory" and reason in (result.error or "")


def test_ansible_group_cycle_in_the_output_ends(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    """testinfra's runner recursed forever on a group that is its own child (RecursionError)."""
    fakes.state["ansible"] = {"_meta": {"hostvars": {}}, "all": {"children": ["ungrouped", "loop"]},
                              "loop": {"children": ["loop", "all"], "hosts": ["bridge"]}}
    fakes.env(monkeypatch)
    from auditor.transports.ansible import resolve_ansible

    host = resolve_ansible("bridge")
    assert host.target == "ssh://bridge" and host.groups == ("loop",)


def test_a_failing_ansible_inventory_says_why(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    """ansible's own ERROR! line, not testinfra's CommandResult repr; the quoted inventory excerpt is left out;
    one failed run serves every ansible:// target of the fleet."""
    from auditor.live import audit_hosts

    fakes.state["ansible_run"] = {"rc": 4, "stdout": "", "stderr": (
        "ERROR! Attempting to decrypt but no vault secrets found\n")}
    fakes.env(monkeypatch)
    profile = load_profile("default")
    results = list(audit_hosts(["ansible://one", "ansible://two", "ansible://three"], LiveOptions(max_hosts=3),
                               profile, [], {}))
    for result in results:
        assert result.error == ("ansible-inventory --list failed (exit 4): Attempting to decrypt but no vault "
                                "secrets found"), result.error
    assert len(fakes.calls()) == 1
    from auditor.transports.ansible import forget_inventories

    forget_inventories()
    fakes.state["ansible_run"] = {"rc": 1, "stdout": "", "stderr": (
        "ERROR! Syntax Error while loading YAML.\n  did not find expected key\n\nThe error appears to be in "
        "'/inv/group_vars/all.yml': line 2, column 1\n\nThe offending line appears to be:\n\n"
        "ansible_become_pass: hunter2-CANARY\n^ here\n")}
    fakes.save()
    with pytest.raises(ConnectError) as info:
        collect_host("ansible://one", LiveOptions())
    assert str(info.value) == ("inventory: ansible-inventory --list failed (exit 1): Syntax Error while loading "
                               "YAML. did not find expected key")


def test_a_slow_ansible_inventory_times_out(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    _ansible_inventory(fakes, {"bridge": {}})
    fakes.state["ansible_run"] = {"sleep": 60}
    fakes.env(monkeypatch)
    start = time.monotonic()
    with pytest.raises(ConnectError, match=r"^inventory: ansible-inventory --list timed out after 2s$"):
        collect_host("ansible://bridge", LiveOptions(timeout=2))
    assert time.monotonic() - start < 10
    profile = load_profile("default")
    start = time.monotonic()
    result = audit_host("ansible://late", LiveOptions(timeout=2), profile, [], {})
    assert time.monotonic() - start < 10
    assert result.error_stage == "inventory" and "timed out after 2s" in (result.error or "")


def test_missing_ansible_inventory_tool(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    fakes.env(monkeypatch)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConnectError, match="ansible-inventory not found on PATH"):
        collect_host("ansible://bridge", LiveOptions())


def test_inventory_cli_with_docker_hosts(fakes: Fakes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--inventory + --limit through the CLI: one JSON entry per target, names from the inventory."""
    from typer.testing import CliRunner

    from auditor.cli import app

    _compose(fakes)
    fakes.container("two-web-1", "web", project="two", config_source="/srv/two-cfg")
    fakes.env(monkeypatch)
    inv = tmp_path / "inv.yaml"
    inv.write_text("hosts:\n  - {name: one, host: jitsi-web-1, connection: docker, groups: [prod]}\n"
                   "  - {name: two, host: two-web-1, connection: docker, role: web, groups: [staging]}\n"
                   "  - {name: three, host: missing-1, connection: docker, groups: [prod]}\n")
    out = tmp_path / "fleet.json"
    res = CliRunner().invoke(app, ["--inventory", str(inv), "--limit", "prod,staging", "--no-probes", "-q",
                                   "-o", str(out), "-f", "table"])
    assert res.exit_code == 3, res.output  # `three` cannot be reached
    data = json.loads(out.read_text())
    assert [t["target"] for t in data["targets"]] == ["one", "two", "three"]
    one, two, three = data["targets"]
    assert one["complete"] and one["transport"] == "docker" and one["host_roles_source"] == "detected"
    assert two["host_roles"] == ["web"] and two["host_roles_source"] == "inventory"
    assert any(f["status"] == "not_applicable" and f["message"].startswith("role web: no prosody")
               for f in two["findings"])
    assert not three["complete"] and "No such container: missing-1" in three["error"]
    assert "Fleet: 3 targets, 2 complete, 1 incomplete" in res.stdout
    res = CliRunner().invoke(app, ["--inventory", str(inv), "--limit", "nothing*", "-q"])
    assert res.exit_code == 2 and "matches --limit" in res.output
    res = CliRunner().invoke(app, ["--limit", "prod", "-q"])
    assert res.exit_code == 2 and "--limit selects hosts of an --inventory" in res.output


def _project(fakes: Fakes, tmp: Path) -> Path:
    """A compose project directory on this machine (the docker host of a local daemon)."""
    project = tmp / "srv" / "jitsi"
    shutil.copytree(FIXTURES / "docker-env-only" / "srv" / "jitsi", project)
    for service in ("web", "prosody", "jicofo", "jvb"):
        fakes.container(f"jitsi-{service}-1", service, working_dir=str(project))
    return project


def test_docker_reads_the_compose_project_env_of_a_local_daemon(fakes: Fakes, monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    project = _project(fakes, tmp_path)
    (tmp_path / "outside.env").write_text("CANARY_OUTSIDE=CANARY-outside-never-read\n")
    (project / "jibri.yml").symlink_to(tmp_path / "outside.env")  # leaves the project: refused
    fakes.env(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    snap = collect_containers(parse_target("docker://jitsi-web-1"))
    env, compose = snap.items[f"{project}/.env"], snap.items[f"{project}/docker-compose.yml"]
    assert env.ok and compose.ok and b"ENABLE_AUTH=1" in (env.content or b"")
    assert snap.items[f"{project}/jibri.yml"].status.value == "not_regular"
    assert snap.items[f"{project}/jibri.yml"].content is None
    assert snap.facts["containers.project_files"] == f"read from {project} on this machine"
    assert snap.facts["collection"] == "complete"
    roles = {f.path: f.role.value for f in discover(snap)}
    assert roles[f"{project}/.env"] == "docker_env" and roles[f"{project}/docker-compose.yml"] == "docker_compose"
    # The whole run: the .env's settings are evidence, its secrets appear in no output.
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SystemExit):
        main(["docker://jitsi-web-1", "-q", "-o", str(out / "r.json"), "-o", str(out / "r.sarif"),
              "--save-snapshot", str(out / "snap.json"), "--evidence", str(out / "e.tar.gz")])
    outputs = {p.name: p.read_bytes() for p in out.iterdir()}
    with tarfile.open(out / "e.tar.gz") as bundle:
        outputs |= {m.name: (bundle.extractfile(m) or io.BytesIO()).read() for m in bundle if m.isfile()}
    assert not [name for name, blob in outputs.items() if b"CANARY-" in blob]
    report = json.loads(outputs["r.json"])
    evidence = {e["path"] for f in report["targets"][0]["findings"] for e in f["evidence"]}
    assert f"{project}/.env" in evidence


@pytest.mark.parametrize(("variable", "value"), [("DOCKER_HOST", "tcp://docker.example.org:2376"),
                                                 ("DOCKER_CONTEXT", "prod")])
def test_a_remote_docker_daemon_project_is_not_read_here(fakes: Fakes, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path, variable: str, value: str) -> None:
    project = _project(fakes, tmp_path)
    fakes.env(monkeypatch)
    monkeypatch.setenv(variable, value)
    snap = collect_containers(parse_target("docker://jitsi-web-1"))
    assert not [k for k in snap.items if k.startswith(str(project))]
    assert snap.facts["containers.project_files"].startswith(f"not read: {project} is on the docker host")
    assert snap.facts["collection"] == "complete"


def test_a_missing_project_directory_is_a_note_an_unlistable_one_an_error(
        fakes: Fakes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    project = _project(fakes, tmp_path)
    fakes.env(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    shutil.rmtree(project)
    snap = collect_containers(parse_target("docker://jitsi-web-1"))
    assert snap.facts["containers.project_files"] == f"not read: {project} does not exist on this machine"
    assert snap.facts["collection"] == "complete" and not snap.errors
    project.write_text("a file where the directory was")
    snap = collect_containers(parse_target("docker://jitsi-web-1"))
    assert snap.facts["collection"] == "incomplete"
    assert snap.errors == [f"collect: {project}: cannot list the compose project: Not a directory"]


def test_rootless_images_are_read_where_they_render_their_configuration(fakes: Fakes,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Images since stable-11146 render each service's configuration from the read-only /config into
    /run/<service>/config (docker-jitsi-meet 086d047f): /config then holds the operator's inputs and
    whatever an older image rendered there. Read in /config, a stale jicofo.conf was judged."""
    _compose(fakes)
    for service in ("web", "prosody", "jicofo", "jvb"):
        tree = Path(fakes.state["trees"][f"jitsi-{service}-1"])
        rendered = tree / "run" / service / "config"
        rendered.parent.mkdir(parents=True)
        shutil.copytree(tree / "config", rendered)
    stale = Path(fakes.state["trees"]["jitsi-jicofo-1"]) / "run" / "jicofo" / "config" / "jicofo.conf"
    text = stale.read_text()
    assert "disable-certificate-verification = true" in text
    stale.write_text(text.replace("disable-certificate-verification = true", "disable-certificate-verification = false"))
    fakes.env(monkeypatch)
    snap = collect_containers(parse_target("docker://jitsi-web-1"))
    assert snap.facts["containers.jicofo.config_dir"] == "/run/jicofo/config"
    # on the container's tmpfs: no host path, the deployment's own name
    assert snap.facts["containers.jicofo.config"] == "/docker/jitsi/rendered/jicofo"
    assert snap.items["/docker/jitsi/rendered/jicofo/jicofo.conf"].ok
    assert not [k for k in snap.items if k.startswith(CFG)]  # /config (inputs, stale renders) not read
    roles = {f.path: f.role.value for f in discover(snap)}
    for key, role in (("/docker/jitsi/rendered/web/nginx/site-confs/default", "nginx_site"),
                      ("/docker/jitsi/rendered/prosody/config/prosody.cfg.lua", "prosody_main"),
                      ("/docker/jitsi/rendered/jvb/jvb.conf", "jvb_conf")):
        assert roles.get(key) == role, (key, roles.get(key))
    profile = load_profile("default")
    result = audit_snapshot(snap, profile, all_checks(profile.criterion_ids, with_plugins=False))
    [found] = [f for f in result.findings if f.check_id == "jicofo.certificate_verification"]
    assert found.status.value == "pass", found.message
    assert any("rendered inside the containers" in n for n in result.notes), result.notes
