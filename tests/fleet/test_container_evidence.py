"""What a docker:// target records beside the files: published ports (from `docker inspect`) and the
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
def test_published_ports_ignore_what_is_not_a_binding(host_config: object) -> None:
    assert published_ports(host_config) == ()


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
    other = Snapshot(target="kubectl://x", transport="kubectl")
    other.facts.update({"containers.web": "w", "containers.web.published": "none"})
    assert exposed(other, 443) is None  # pods: Services decide, which is not collected


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
    add_host_directories(merged, dep, {})
    lines = merged.facts["dir_modes"].splitlines()
    for directory in (closed / "cfg", closed, tmp_path):  # every directory above the bind mount's source
        assert f"{os.stat(directory).st_mode & 0o7777:o}:directory:{directory}" in lines
    assert f"700:directory:{closed}" in lines
    # a remote daemon: this machine's directories say nothing about the docker host's
    remote = merge("docker://jitsi-web-1", dep, [(dep.members[0], part, None)])
    add_host_directories(remote, dep, {"DOCKER_HOST": "tcp://docker.example.org:2376"})
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
    member, _ = _docker_member(info)
    assert member is not None and member.published is None and not member.host_network
    dep = Deployment("docker", "jitsi", [member])
    merged = merge("docker://jitsi-jvb-1", dep, [(member, Snapshot(target="jitsi-jvb-1", transport="docker"), None)])
    assert "containers.jvb.published" not in merged.facts
    assert exposed(merged, 9090) is None  # judged on the configuration alone, as without docker's answer
    info["HostConfig"] = {"NetworkMode": "host"}
    member, _ = _docker_member(info)
    assert member is not None and member.host_network
