"""What a docker:// or kubectl:// target records beside the files: published ports (from `docker inspect`, or
a pod's hostPorts and the Services that reach it) and the
directory modes of its CONFIG volume, and how the exposure and permission checks read them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.listeners import exposed
from auditor.snapshot import Snapshot
from auditor.transports.containers import (
    MAX_DIR_MODES,
    Deployment,
    Member,
    add_host_directories,
    merge,
    published_ports,
)
from tests.fleet.fakes import Fakes


def test_published_ports_from_docker_inspect() -> None:
    host_config = {"PortBindings": {
        "443/tcp": [{"HostIp": "", "HostPort": "8443"}],
        "5280/tcp": [{"HostIp": "127.0.0.1", "HostPort": "5280"}, {"HostIp": "::1", "HostPort": "5280"}],
        "10000/udp": [{"HostIp": "0.0.0.0", "HostPort": ""}],
        "9090/tcp": None,  # exposed, not published
    }}
    assert published_ports(host_config) == (
        "10000/udp->*:any", "443/tcp->*:8443", "5280/tcp->127.0.0.1:5280", "5280/tcp->[::1]:5280")


@pytest.mark.parametrize("host_config", [
    None, "x", {"PortBindings": "x"}, {"PortBindings": {"x/tcp": [{"HostPort": "1"}]}},
    {"PortBindings": {"80/tcp": [{"HostIp": "evil host\n", "HostPort": "80"}]}},
    {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "80; rm"}]}},
    {"PortBindings": {"80/tcp": ["x", None, 3]}},
    {"PortBindings": {"80/tcp": {"HostIp": ""}}},
])
def test_published_ports_that_cannot_be_read_are_unknown_not_none(host_config: object) -> None:
    assert published_ports(host_config) is None


def test_published_port_ranges_and_publish_all() -> None:
    assert published_ports({"PortBindings": {"5280/tcp": [{"HostIp": "", "HostPort": "5280-5290"}]}}) == (
        "5280/tcp->*:5280-5290",)
    # docker run -P: every port the image exposes, on every interface
    exposes: dict[str, object] = {"5222/tcp": {}, "5280/tcp": {}}
    assert published_ports({"PortBindings": {}, "PublishAllPorts": True}, exposes) == (
        "5222/tcp->*:any", "5280/tcp->*:any")
    assert published_ports({"PortBindings": None}) == ()


def test_a_published_fact_that_cannot_be_read_is_unknown_exposure() -> None:
    for value in ("garbage", "5280/tcp->[fe80::1%eth0]:5280", "5280/tcp->*:5280 x"):
        snap = _docker_snapshot(**{"containers.prosody": "p", "containers.prosody.published": value})
        assert exposed(snap, 5280) is None, value
    snap = _docker_snapshot(**{"containers.prosody": "p", "containers.prosody.published": "5280/tcp->*:5280-5290"})
    assert exposed(snap, 5280) is True


def test_what_every_replica_publishes_counts() -> None:
    from auditor.transports.containers import _select

    one = Member("jvb", "jitsi-jvb-1", published=())
    two = Member("jvb", "jitsi-jvb-2", published=("9090/tcp->*:9090",))
    dep = _select("docker", "jitsi", [(one, "", None), (two, "", None)], "jitsi-jvb-1")
    assert [m.name for m in dep.members] == ["jitsi-jvb-1"] and dep.members[0].published == ("9090/tcp->*:9090",)
    unknown = Member("jvb", "jitsi-jvb-3", published=None)
    assert _select("docker", "jitsi", [(one, "", None), (unknown, "", None)], "jitsi-jvb-1").members[0].published is None


def _docker_snapshot(**facts: str) -> Snapshot:
    snap = Snapshot(target="docker://jitsi-web-1", transport="docker")
    snap.facts.update(facts)
    return snap


def test_exposure_of_a_container_port_is_what_docker_publishes() -> None:
    snap = _docker_snapshot(**{
        "containers.web": "jitsi-web-1", "containers.web.published": "443/tcp->*:8443 80/tcp->*:8000",
        "containers.prosody": "jitsi-prosody-1", "containers.prosody.published": "5280/tcp->127.0.0.1:5280",
        "containers.jvb": "jitsi-jvb-1", "containers.jvb.published": "9090/tcp->[::]:9090 10000/udp->*:10000",
    })
    assert exposed(snap, 443) is True
    assert exposed(snap, 5280) is False  # the docker host's loopback only
    assert exposed(snap, 9090) is True
    assert exposed(snap, 10000) is False and exposed(snap, 10000, "udp") is True
    assert exposed(snap, 5222) is False  # not published at all


def test_exposure_is_unknown_when_one_container_is_not_known() -> None:
    snap = _docker_snapshot(**{"containers.web": "w", "containers.web.published": "none", "containers.jvb": "j"})
    assert exposed(snap, 9090) is None
    pods = Snapshot(target="kubectl://x", transport="kubectl")
    pods.facts.update({"containers.web": "w"})  # the Services could not be listed
    assert exposed(pods, 443) is None
    pods.facts["containers.web.published"] = "none"
    assert exposed(pods, 443) is False
    other = Snapshot(target="other", transport="dir")
    other.facts.update({"containers.web": "w", "containers.web.published": "443/tcp->*:443"})
    assert exposed(other, 443) is None  # a directory audit: no container of ours


def test_a_container_on_the_host_network_is_judged_by_its_own_sockets() -> None:
    from auditor.snapshot import COMMAND_PREFIX, CollectedItem, ItemStatus

    snap = _docker_snapshot(**{"containers.jvb": "j", "containers.jvb.network": "host"})
    ss = b'tcp LISTEN 0 50 *:9090 *:* users:(("java",pid=7,fd=9))\ntcp LISTEN 0 50 127.0.0.1:8080 *:*\n'
    snap.add(CollectedItem(COMMAND_PREFIX + "ss@jvb", "command", ItemStatus.OK, content=ss, size=len(ss)))
    assert exposed(snap, 9090) is True
    assert exposed(snap, 8080) is False


def _member_snapshot(dir_modes: str) -> Snapshot:
    snap = Snapshot(target="jitsi-web-1", transport="docker")
    snap.facts["dir_modes"] = dir_modes
    return snap


def test_directory_modes_are_mapped_like_the_files(tmp_path: Path) -> None:
    closed = tmp_path / "home"
    config = closed / "cfg" / "web"
    config.mkdir(parents=True)
    closed.chmod(0o700)
    dep = Deployment("docker", "jitsi", [Member("web", "jitsi-web-1", config_source=str(config))])
    part = _member_snapshot("755:directory:/etc\n755:directory:/config\n750:directory:/config/keys\nbad line")
    merged = merge("docker://jitsi-web-1", dep, [(dep.members[0], part, None)])
    assert merged.facts["dir_modes"].splitlines() == [
        "755:directory:/containers/web/etc", f"755:directory:{config}", f"750:directory:{config}/keys"]
    add_host_directories(merged, dep, True)
    lines = merged.facts["dir_modes"].splitlines()
    for directory in (closed / "cfg", closed, tmp_path):  # every directory above the bind mount's source
        assert f"{os.stat(directory).st_mode & 0o7777:o}:directory:{directory}" in lines
    assert f"700:directory:{closed}" in lines
    # a remote daemon: this machine's directories say nothing about the docker host's
    remote = merge("docker://jitsi-web-1", dep, [(dep.members[0], part, None)])
    add_host_directories(remote, dep, False)
    assert f"700:directory:{closed}" not in remote.facts["dir_modes"].splitlines()


def test_directory_modes_stay_whole_lines_below_the_cap(tmp_path: Path) -> None:
    dep = Deployment("docker", "jitsi", [Member("web", "jitsi-web-1", config_source=str(tmp_path))])
    many = "\n".join(f"755:directory:/config/{'d' * 200}{i}" for i in range(40))
    merged = merge("docker://jitsi-web-1", dep, [(dep.members[0], _member_snapshot(many), None)])
    kept = merged.facts["dir_modes"]
    assert len(kept) <= MAX_DIR_MODES and all(line.endswith(tuple("0123456789")) for line in kept.splitlines())
    assert merged.facts["containers.dir_modes"].startswith("not all directory modes kept")


def test_a_container_in_another_containers_network_has_no_known_exposure() -> None:
    from auditor.transports.containers import _docker_member

    info = {"Name": "/jitsi-jvb-1", "State": {"Running": True},
            "Config": {"Labels": {"com.docker.compose.service": "jvb"}},
            "HostConfig": {"NetworkMode": "container:0123abcd", "PortBindings": {}}}
    member, _, _ = _docker_member(info)
    assert member is not None and member.published is None and not member.host_network
    dep = Deployment("docker", "jitsi", [member])
    merged = merge("docker://jitsi-jvb-1", dep, [(member, Snapshot(target="jitsi-jvb-1", transport="docker"), None)])
    assert "containers.jvb.published" not in merged.facts
    assert exposed(merged, 9090) is None  # judged on the configuration alone, as without docker's answer
    info["HostConfig"] = {"NetworkMode": "host"}
    member, _, _ = _docker_member(info)
    assert member is not None and member.host_network


def test_which_daemon_is_local(tmp_path: Path) -> None:
    """DOCKER_HOST, else the context: DOCKER_CONTEXT, else config.json's (`docker context use`), asked of the CLI."""
    from auditor.transports.containers import docker_daemon_is_local
    from auditor.transports.errors import ConnectError

    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    asked: list[list[str]] = []

    def cli(endpoint: bytes | None):  # type: ignore[no-untyped-def]
        def run(argv: list[str], timeout: float) -> bytes:
            asked.append(argv)
            if endpoint is None:
                raise ConnectError("docker", "connect", "`docker context inspect` failed: context not found")
            return endpoint
        return run

    env = {"HOME": str(home)}
    assert docker_daemon_is_local(env, cli(None)) and not asked  # no context: the default, local socket
    assert docker_daemon_is_local({**env, "DOCKER_HOST": "unix:///run/user/1000/docker.sock"})
    assert not docker_daemon_is_local({**env, "DOCKER_HOST": "ssh://ops@docker.example.org"})
    (home / ".docker" / "config.json").write_text('{"currentContext": "prod"}')
    assert not docker_daemon_is_local(env, cli(b'"ssh://ops@docker.example.org"\n'))
    assert asked[-1] == ["docker", "context", "inspect", "--format", "{{json .Endpoints.docker.Host}}", "prod"]
    assert docker_daemon_is_local(env, cli(b'"unix:///var/run/docker.sock"\n'))  # e.g. rootless, Desktop
    assert not docker_daemon_is_local(env, cli(None)) and not docker_daemon_is_local(env)
    assert not docker_daemon_is_local({**env, "DOCKER_CONTEXT": "other"}, cli(b"not json"))
    assert docker_daemon_is_local({**env, "DOCKER_HOST": "unix:///var/run/docker.sock"}, cli(None))


def test_a_stopped_core_component_leaves_the_deployment_incomplete() -> None:
    """A stopped jicofo of which no other container runs: its configuration is not seen (exit 3, said so).
    A stopped replica beside a running one, or a stopped optional component (jibri), is only listed."""
    from auditor.transports.containers import _select

    web = Member("web", "jitsi-web-1", published=())
    jvb = Member("jvb", "jitsi-jvb-1", published=())
    found = [(web, "", None), (jvb, "", None), (None, "jitsi-jicofo-1: not running", "jicofo"),
             (None, "jitsi-jvb-2: not running", "jvb"), (None, "jitsi-jibri-1: not running", "jibri")]
    dep = _select("docker", "jitsi", found, "jitsi-web-1")
    assert dep.stopped == ["jitsi-jicofo-1 (jicofo)"]
    parts: list[tuple[Member, Snapshot | None, str | None]] = [
        (m, Snapshot(target=m.name, transport="docker"), None) for m in dep.members]
    merged = merge("docker://jitsi-web-1", dep, parts)
    assert merged.facts["collection"] == "incomplete"
    assert merged.errors == ["collect: jitsi-jicofo-1 (jicofo): not running: the deployment's jicofo configuration "
                             "was not read"]
    assert "jitsi-jibri-1: not running" in merged.facts["containers.skipped"]
    from auditor.engine import container_notes

    assert "containers not audited: " in " ".join(container_notes(merged))


@pytest.mark.parametrize("info", [
    {"Name": "/x", "Config": "jitsi", "State": {"Running": True}},
    {"Name": "/x", "Config": {"Labels": ["com.docker.compose.service=web"]}, "State": "running"},
    {"Name": "/x", "Config": {"Labels": {"com.docker.compose.service": ["web"]}}, "State": {"Running": True}},
    {"Name": "/x", "Config": {"Labels": {"com.docker.compose.service": "web"}}, "State": {"Running": "yes"},
     "Mounts": "x"},
    {"Name": "/x", "Config": {"Labels": {"com.docker.compose.service": "web"}}, "State": {"Running": True},
     "Mounts": ["x", {"Destination": "/config", "Source": "/srv/cfg/web"}], "HostConfig": "bridge"},
])
def test_hostile_docker_inspect_values_are_read_as_what_they_say(info: dict[str, object]) -> None:
    """Values of the wrong type were AttributeError/TypeError (one line, but saying nothing): each is read
    as absent, so the container is not a Jitsi one, not running, or of unknown exposure."""
    from auditor.transports.containers import _docker_member

    member, why, _ = _docker_member(info)
    if member is None:
        assert why.startswith("x: ") and ("not a Jitsi component" in why or "not running" in why)
    else:
        assert member.config_source == "/srv/cfg/web" and member.published is None


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    return Fakes(tmp_path / "fakes")


def _pod(labels: dict[str, str], ports: list[dict[str, object]], **spec: object) -> dict[str, object]:
    return {"metadata": {"name": "jitsi-jvb-0", "labels": labels},
            "spec": {"containers": [{"name": "jvb", "image": "jitsi/jvb:stable-9955", "ports": ports}], **spec}}


JVB_LABELS = {"app.kubernetes.io/instance": "jitsi", "app.kubernetes.io/component": "jvb"}


def test_what_reaches_a_pod_from_outside_the_cluster() -> None:
    """The jitsi Helm chart's ways to expose the bridge: hostPort, a NodePort or LoadBalancer Service (the
    port named or numbered), externalIPs; a ClusterIP Service is inside the cluster only, unless an Ingress
    sends to it."""
    from auditor.transports.containers import pod_published

    ports: list[dict[str, object]] = [{"name": "rtp-udp", "containerPort": 10000, "protocol": "UDP"},
                                      {"name": "http", "containerPort": 9090}]
    jvb = {"app.kubernetes.io/component": "jvb"}

    def svc(kind: str, port: dict[str, object], name: str = "jitsi-jvb", **spec: object) -> dict[str, object]:
        return {"metadata": {"name": name}, "spec": {"type": kind, "selector": jvb, "ports": [port], **spec}}

    node_port = svc("NodePort", {"port": 10000, "targetPort": "rtp-udp", "protocol": "UDP", "nodePort": 30000})
    cluster = svc("ClusterIP", {"port": 9090, "targetPort": 9090})
    assert pod_published(_pod(JVB_LABELS, ports), [node_port, cluster], []) == ("10000/udp->*:30000",)
    balancer = svc("LoadBalancer", {"port": 10000, "targetPort": 10000, "protocol": "UDP"})
    assert pod_published(_pod(JVB_LABELS, ports), [balancer], []) == ("10000/udp->*:10000",)
    outside = svc("ClusterIP", {"port": 9090, "targetPort": "http"}, externalIPs=["203.0.113.7"])
    assert pod_published(_pod(JVB_LABELS, ports), [outside], []) == ("9090/tcp->*:9090",)
    # an Ingress sending to the ClusterIP Service: reached from outside (HTTP)
    ingress = {"spec": {"rules": [{"http": {"paths": [
        {"backend": {"service": {"name": "jitsi-jvb", "port": {"number": 9090}}}}]}}]}}
    assert pod_published(_pod(JVB_LABELS, ports), [cluster], [ingress]) == ("9090/tcp->ingress:9090",)
    # hostPort: on every address, or on the node's loopback only
    host_port: list[dict[str, object]] = [{"containerPort": 10000, "protocol": "UDP", "hostPort": 10000}]
    assert pod_published(_pod(JVB_LABELS, host_port), [], []) == ("10000/udp->*:10000",)
    loopback: list[dict[str, object]] = [{"containerPort": 9090, "hostPort": 9090, "hostIP": "127.0.0.1"}]
    assert pod_published(_pod(JVB_LABELS, loopback), [], []) == ("9090/tcp->127.0.0.1:9090",)
    # a named port the pod lacks with that protocol: not an endpoint of that Service
    tcp_name = svc("NodePort", {"port": 10000, "targetPort": "rtp-udp", "protocol": "TCP", "nodePort": 30001})
    assert pod_published(_pod(JVB_LABELS, ports), [tcp_name], []) == ()
    # not known: Services or Ingresses not listed, something unreadable
    assert pod_published(_pod(JVB_LABELS, ports), None, []) is None
    assert pod_published(_pod(JVB_LABELS, ports), [], None) is None
    assert pod_published(_pod(JVB_LABELS, ports), ["x"], []) is None
    assert pod_published(_pod(JVB_LABELS, ports), [svc("NodePort", {"port": "x"})], []) is None
    assert pod_published(_pod(JVB_LABELS, ports), [], [{"spec": {"rules": "x"}}]) is None
    assert pod_published({"spec": {"containers": "x"}}, [], []) is None


def test_kubectl_exposure_comes_from_the_cluster(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    """prosody binds 5280 on every interface of its pod (the chart's default), reachable only inside the
    cluster: not exposed; the bridge's NodePort is, and so is jicofo's port behind an Ingress."""
    from auditor.transports.containers import ContainerOptions, collect_containers
    from auditor.transports.targets import parse_target

    for component in ("web", "prosody", "jicofo", "jvb"):
        fakes.pod(f"jitsi-{component}-0", component)
    fakes.service("jitsi-prosody", {"app.kubernetes.io/name": "prosody"}, [{"port": 5280, "targetPort": 5280}])
    fakes.service("jitsi-jvb", {"app.kubernetes.io/component": "jvb"},
                  [{"port": 10000, "targetPort": 10000, "protocol": "UDP", "nodePort": 30000}], kind="NodePort")
    fakes.service("jitsi-jicofo", {"app.kubernetes.io/component": "jicofo"}, [{"port": 8888, "targetPort": 8888}])
    fakes.ingress("jicofo-api", "jitsi-jicofo", 8888)
    fakes.env(monkeypatch)
    target = parse_target("kubectl://meet/jitsi-web-0")
    snap = collect_containers(target, ContainerOptions(max_parallel=2))
    assert ["kubectl", "--namespace", "meet", "get", "services", "--output", "json"] in fakes.calls()
    assert snap.facts["containers.prosody.published"] == "none"
    assert snap.facts["containers.jvb.published"] == "10000/udp->*:30000"
    assert exposed(snap, 5280) is False and exposed(snap, 10000, "udp") is True and exposed(snap, 8888) is True
    # Services that cannot be listed (RBAC): not known, so never "not exposed"
    fakes.state["forbidden"] = ["services"]
    fakes.save()
    snap = collect_containers(target, ContainerOptions(max_parallel=2))
    assert "containers.prosody.published" not in snap.facts and exposed(snap, 5280) is None


def test_a_pod_on_the_nodes_network_is_judged_by_its_own_sockets(fakes: Fakes,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.transports.containers import ContainerOptions, collect_containers
    from auditor.transports.targets import parse_target

    for component in ("web", "jvb"):
        fakes.pod(f"jitsi-{component}-0", component)
    fakes.state["pods"]["jitsi-jvb-0"]["spec"]["hostNetwork"] = True
    fakes.env(monkeypatch)
    snap = collect_containers(parse_target("kubectl://meet/jitsi-web-0"), ContainerOptions(max_parallel=2))
    assert snap.facts["containers.jvb.network"] == "host" and "containers.jvb.published" not in snap.facts
    from auditor.listeners import parse_ss

    item = snap.command("ss@jvb")  # the fake runs the collector here: this machine's sockets
    expected = None if item is None or not item.ok else any(
        s.port == 9090 and s.proto == "tcp" and not s.loopback_only for s in parse_ss(item.text()))
    assert exposed(snap, 9090) is expected


def test_a_containers_own_facts_cannot_replace_what_the_transport_knows() -> None:
    """The collector's facts of a member are prefixed like the transport's: a container saying
    "published: none" must not hide what docker publishes."""
    member = Member("prosody", "jitsi-prosody-1", published=("5280/tcp->*:5280",))
    own = Snapshot(target="jitsi-prosody-1", transport="docker")
    own.facts.update({"published": "none", "network": "host", "config": "/elsewhere"})
    dep = Deployment("docker", "jitsi", [member])
    merged = merge("docker://jitsi-prosody-1", dep, [(member, own, None)])
    assert merged.facts["containers.prosody.published"] == "5280/tcp->*:5280"
    assert "containers.prosody.network" not in merged.facts
    assert merged.facts["containers.prosody.config"] == "/docker/jitsi/prosody/config"
    assert exposed(merged, 5280) is True


def test_names_docker_or_kubernetes_would_not_make_are_not_mangled() -> None:
    """A name was shortened for display and then used for `docker exec`: another container's name."""
    from auditor.transports.containers import _docker_member

    info: dict[str, object] = {"Name": "/" + "a" * 300, "Id": "0123456789abcdef" * 4,
                               "Config": {"Labels": {"com.docker.compose.service": "web"}},
                               "State": {"Running": True}}
    member, _, _ = _docker_member(info)
    assert member is not None and member.name == "0123456789abcdef" * 4
    info["Id"] = "--privileged"
    member, why, _ = _docker_member(info)
    assert member is None and why.endswith("neither its name nor its id is usable")
