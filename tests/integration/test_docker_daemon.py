"""docker:// against a real docker daemon (tests/lab/dockerd.py) running the docker-style lab host's
deployment: the same CONFIG volume and compose project, as containers of one compose project.

The strongest expectation: auditing the deployment through its containers and auditing its docker
host over SSH read the same configuration, so every check but the version checks (the containers'
dpkg databases against the docker host's) comes out the same.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import lab_required
from tests.lab import LabHost, LabUnavailable
from tests.lab.dockerd import DockerLab

pytestmark = pytest.mark.lab

PROJECT = "docker-jitsi-meet"  # compose names the project after the checkout's directory
EXPOSED = "exposed"  # the same deployment, publishing prosody's BOSH port and the bridge's REST port
CONFIG = "root/.jitsi-meet-cfg"
COMPOSE_DIR = "opt/docker-jitsi-meet"


@pytest.fixture(scope="module")
def docker_lab(lab_host: Callable[..., LabHost]) -> Iterator[tuple[DockerLab, LabHost]]:
    host = lab_host("docker-style")
    suffix = "-".join(filter(None, [os.environ.get("JITSI_LAB_SUFFIX"), os.environ.get("PYTEST_XDIST_WORKER")]))
    name = f"t-docker{'-' + suffix if suffix else ''}"
    # not below /tmp/jitsi-lab: dockerd mounts its containers' network namespaces under its exec root, and
    # test_lab_hosts checks that nothing of /tmp/jitsi-lab is mounted in the machine's namespace
    lab = DockerLab(Path("/tmp/jitsi-docker-lab") / name, f"jadock-{name}")
    try:
        lab.start()
    except LabUnavailable as exc:
        if lab_required():
            pytest.fail(f"JITSI_LAB_REQUIRED=1 but the docker lab cannot run: {exc}", pytrace=False)
        pytest.skip(f"docker lab not available: {exc}")
    try:
        root = Path(host.root)
        lab.deploy(PROJECT, root / CONFIG, root / COMPOSE_DIR)
        lab.deploy(EXPOSED, root / CONFIG, root / COMPOSE_DIR, extra_jvb=False, sidecar=False,
                   publish={"prosody": ("5280:5280",), "jvb": ("127.0.0.1:9090:9090",)})
        yield lab, host
    finally:
        lab.stop()


def _audit(lab: DockerLab, tmp_path: Path, target: str, *extra: str) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "auditor.cli", target, "--no-probes", "-f", "json", "-o", str(out),
                          *extra], capture_output=True, text=True, timeout=300, env=lab.env())
    report = json.loads(out.read_text()) if out.exists() else {}
    return run.returncode, report, run.stdout + run.stderr


def _snapshot(path: Path) -> dict[str, Any]:
    blob = path.read_bytes()
    data: dict[str, Any] = json.loads(gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob)
    return data


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    (target,) = report["targets"]
    return {f["check_id"]: f["status"] for f in target["findings"]}


def _finding(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    (target,) = report["targets"]
    found: dict[str, Any] = next(f for f in target["findings"] if f["check_id"] == check_id)
    return found


def test_a_compose_project_is_one_target(docker_lab: tuple[DockerLab, LabHost], tmp_path: Path) -> None:
    lab, host = docker_lab
    snap = tmp_path / "snap.json.gz"
    code, report, out = _audit(lab, tmp_path, f"docker://{PROJECT}-jvb-1", "--save-snapshot", str(snap))
    assert code == 1, out  # complete, with failed checks (the docker-style defaults)
    (target,) = report["targets"]
    assert target["complete"] and target["transport"] == "docker", out
    saved = _snapshot(snap)
    facts = saved["facts"]
    assert {s: facts[f"containers.{s}"] for s in ("web", "prosody", "jicofo", "jvb")} == {
        s: f"{PROJECT}-{s}-1" for s in ("web", "prosody", "jicofo", "jvb")}
    assert f"{PROJECT}-etherpad-1: service etherpad is not a Jitsi component" in facts["containers.skipped"]
    assert f"{PROJECT}-jvb-2: another jvb" in facts["containers.skipped"]
    assert facts["containers.web.published"] == "443/tcp->*:8443 80/tcp->*:8000"
    assert facts["containers.jvb.published"] == "10000/udp->*:10000"
    assert facts["containers.prosody.published"] == "none"
    config = f"{host.root}/{CONFIG}"
    keys = {c["key"] for c in target["collected"] if c["status"] == "ok"}
    assert {f"{config}/web/config.js", f"{config}/prosody/config/conf.d/jitsi-meet.cfg.lua",
            f"{config}/jicofo/jicofo.conf", f"{config}/jvb/jvb.conf", f"{host.root}/{COMPOSE_DIR}/.env"} <= keys
    # the packages of every image, from the containers' own dpkg-query
    (pkgs,) = [c for c in saved["items"] if c["key"] == "cmd:dpkg-query"]
    assert pkgs["status"] == "ok"
    # no secret of the deployment in the report or the snapshot
    for blob in (json.dumps(report), json.dumps(saved), out):
        assert not [c for c in (*host.canaries, *host.weak_secrets) if c in blob]


def test_containers_and_the_docker_host_over_ssh_agree(docker_lab: tuple[DockerLab, LabHost],
                                                        tmp_path: Path) -> None:
    lab, host = docker_lab
    code, report, out = _audit(lab, tmp_path, f"docker://{PROJECT}-web-1")
    assert code == 1, out
    ssh_args = [f"ssh://{host.ssh_user}@{host.address}:{host.ssh_port}", "-i", host.ssh_key,
                "--known-hosts", host.known_hosts, *(["--sudo"] if host.sudo_collector else [])]
    (tmp_path / "ssh").mkdir()
    ssh_code, over_ssh, ssh_out = _audit(lab, tmp_path / "ssh", *ssh_args)
    assert ssh_code == 1 and over_ssh["targets"][0]["complete"], ssh_out
    docker, ssh = _statuses(report), _statuses(over_ssh)
    assert docker.keys() == ssh.keys()
    differ = {k: (docker[k], ssh[k]) for k in docker if docker[k] != ssh[k] and not k.startswith("vuln.")}
    assert differ == {}
    # the checks that need to know what reaches the deployment from outside, and who can read its files
    for check_id in ("xmpp.http_interfaces", "jvb.public_http", "secrets.file_permissions"):
        assert docker[check_id] == "pass", _finding(report, check_id)["message"]
    assert "inside a directory others cannot search" in _finding(report, "secrets.file_permissions")["message"]
    assert len([s for s in docker.values() if s in ("pass", "fail")]) > 60


def test_what_docker_publishes_is_what_is_exposed(docker_lab: tuple[DockerLab, LabHost], tmp_path: Path) -> None:
    lab, _ = docker_lab
    code, report, out = _audit(lab, tmp_path, f"docker://{EXPOSED}-web-1")
    assert code == 1 and report["targets"][0]["complete"], out
    http = _finding(report, "xmpp.http_interfaces")
    assert http["status"] == "fail", http["message"]  # 5280 published on every interface of the docker host
    bridge = _finding(report, "jvb.public_http")
    assert bridge["status"] == "pass", bridge["message"]  # 9090 published on the docker host's loopback only


def test_a_stopped_container(docker_lab: tuple[DockerLab, LabHost], tmp_path: Path) -> None:
    """Named (by name or id), it is a one-line error; a stopped core sibling (`docker ps` alone would hide it)
    leaves the deployment's audit incomplete, saying which, and is named in the report's notes."""
    lab, _ = docker_lab
    lab.kill(f"{EXPOSED}-jicofo-1")
    container_id = lab.docker("inspect", "--format", "{{.Id}}", f"{EXPOSED}-jicofo-1").strip()[:12]
    for name in (f"{EXPOSED}-jicofo-1", container_id):
        code, report, out = _audit(lab, tmp_path, f"docker://{name}")
        assert code == 3, out
        assert f"docker://{name}: not running" in out
        assert "Traceback" not in out
    code, report, out = _audit(lab, tmp_path, f"docker://{EXPOSED}-web-1", "--save-snapshot", str(tmp_path / "s.gz"))
    assert code == 3, out
    facts = _snapshot(tmp_path / "s.gz")["facts"]
    assert f"{EXPOSED}-jicofo-1: not running" in facts["containers.skipped"], out
    assert "containers.jicofo" not in facts and facts["containers.web"] == f"{EXPOSED}-web-1"
    (target,) = report["targets"]
    assert any(f"{EXPOSED}-jicofo-1 (jicofo): not running" in e for e in target["collection_errors"])
    assert any(f"{EXPOSED}-jicofo-1: not running" in n for n in target["notes"])
    assert not [c["key"] for c in target["collected"] if c["key"].endswith("/jicofo.conf")]
