"""Fake `docker`, `kubectl` and `ansible-inventory` executables for the transport tests.

There is no docker daemon, cluster or Ansible here. Each fake is a small Python script put first on
PATH: it logs its argv (JSON lines), answers the discovery commands from a state file, and for
`exec` runs the REAL collector (read from stdin, as the transport sends it) locally with
JITSI_AUDIT_ROOT_PREFIX pointing at the container's prepared tree. What this proves: the command
lines the transports build, the stdin protocol, the container mode of the collector, discovery and
the merge. What it does not: the behaviour of a real docker daemon or API server.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

FAKE = r'''#!@PYTHON@
import json, os, subprocess, sys
state = json.load(open(os.environ["FAKE_STATE"]))
args = sys.argv[1:]
with open(state["log"], "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0]), *args]) + "\n")

def collector(name):
    if name in state.get("slow_exec", []):
        import time; time.sleep(30)
    if name in state.get("fail_exec", []):
        sys.stderr.write(f"Error response from daemon: container {name} is not running\n")
        sys.exit(1)
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "JITSI_AUDIT_CMD_TIMEOUT": "3",
           "JITSI_AUDIT_ROOT_PREFIX": state["trees"][name]}
    if "JITSI_AUDIT_CONTAINER=1" in args:
        env["JITSI_AUDIT_CONTAINER"] = "1"
    sys.exit(subprocess.run(["/bin/sh", "-s"], env=env).returncode)

tool = os.path.basename(sys.argv[0])
if tool == "docker":
    if args[:3] == ["inspect", "--type", "container"]:
        found = [state["containers"][n] for n in args[3:] if n in state["containers"]]
        found += [c for c in state["containers"].values() if c["Id"] in args[3:]]
        if not found:
            sys.stderr.write(f"Error: No such container: {args[3]}\n"); sys.exit(1)
        print(json.dumps(found))
    elif args[:5] == ["ps", "--all", "--no-trunc", "--quiet", "--filter"]:
        key, value = args[5][len("label="):].split("=", 1)
        print("\n".join(c["Id"] for c in state["containers"].values()
                        if c["Config"]["Labels"].get(key) == value))
    elif args[:4] == ["exec", "--interactive", "--env", "JITSI_AUDIT_CONTAINER=1"]:
        collector(args[4])
    else:
        sys.stderr.write("fake docker: unexpected " + " ".join(args) + "\n"); sys.exit(2)
elif tool == "kubectl":
    ns = None
    if args[:1] == ["--namespace"]:
        ns, args = args[1], args[2:]
    if args[:2] == ["get", "pod"]:
        pod = state["pods"].get(args[2])
        if pod is None:
            sys.stderr.write(f'Error from server (NotFound): pods "{args[2]}" not found\n'); sys.exit(1)
        print(json.dumps(pod))
    elif args[:3] == ["get", "pods", "--selector"]:
        key, value = args[3].split("=", 1)
        print(json.dumps({"items": [p for p in state["pods"].values()
                                    if p["metadata"]["labels"].get(key) == value
                                    and p["metadata"]["namespace"] == ns]}))
    elif args[:2] in (["get", "services"], ["get", "ingresses"]):
        if args[1] in state.get("forbidden", []):
            sys.stderr.write(f'Error from server (Forbidden): {args[1]} is forbidden\n'); sys.exit(1)
        print(json.dumps({"items": [v for v in state.get(args[1], []) if v["metadata"]["namespace"] == ns]}))
    elif args[:2] == ["exec", "--stdin"]:
        collector(args[2])
    else:
        sys.stderr.write("fake kubectl: unexpected " + " ".join(args) + "\n"); sys.exit(2)
elif tool == "ansible-inventory":
    # As ansible-core 2.14 does: indented JSON with sorted keys on stdout, [WARNING]s and ERROR!s on
    # stderr (an unparsable source is a warning and exit 0 with an empty inventory).
    if args[:1] != ["--list"] or os.environ.get("ANSIBLE_VERBOSITY") != "0":
        sys.stderr.write("fake ansible-inventory: unexpected " + " ".join(args) + "\n"); sys.exit(2)
    how = state.get("ansible_run", {})
    if how.get("sleep"):
        import time; time.sleep(how["sleep"])
    sys.stderr.write(how.get("stderr", ""))
    if "stdout" in how:
        sys.stdout.write(how["stdout"])
    else:
        print(json.dumps(state["ansible"], indent=4, sort_keys=True))
    sys.exit(how.get("rc", 0))
'''

SERVICES = {"web": "web", "prosody": "prosody/config", "jicofo": "jicofo", "jvb": "jvb"}


class Fakes:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        self.log = root / "calls.log"
        self.log.touch()
        self.state: dict[str, Any] = {"log": str(self.log), "containers": {}, "pods": {}, "trees": {},
                                      "fail_exec": [], "slow_exec": [], "ansible": {}, "ansible_run": {}}
        script = FAKE.replace("@PYTHON@", sys.executable)
        for tool in ("docker", "kubectl", "ansible-inventory"):
            path = self.bin / tool
            path.write_text(script)
            path.chmod(0o755)

    def save(self) -> None:
        (self.root / "state.json").write_text(json.dumps(self.state))

    def env(self, monkeypatch: Any) -> None:
        self.save()
        monkeypatch.setenv("PATH", f"{self.bin}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("FAKE_STATE", str(self.root / "state.json"))

    def calls(self) -> list[list[str]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def tree(self, name: str, service: str | None) -> str:
        """A container's filesystem: /config from the docker-volume fixture, an os-release."""
        base = self.root / "trees" / name
        (base / "etc").mkdir(parents=True)
        (base / "etc" / "os-release").write_text(f'PRETTY_NAME="image of {name}"\nID=debian\n')
        if service in SERVICES:
            shutil.copytree(FIXTURES / "docker-volume" / SERVICES[service], base / "config")
        self.state["trees"][name] = str(base)
        return str(base)

    def container(self, name: str, service: str, project: str = "jitsi", *, running: bool = True,
                  config_source: str | None = "/root/.jitsi-meet-cfg", image: str | None = None,
                  working_dir: str | None = None) -> None:
        self.tree(name, service)
        mounts = []
        if config_source and service in SERVICES:
            mounts.append({"Type": "bind", "Source": f"{config_source}/{SERVICES[service]}", "Destination": "/config"})
        self.state["containers"][name] = {
            "Id": f"{abs(hash(name)):016x}{len(self.state['containers']):048x}",
            "Name": f"/{name}",
            "Config": {"Image": image or f"jitsi/{service}:stable-9955",
                       "Labels": {"com.docker.compose.project": project, "com.docker.compose.service": service}},
            "State": {"Running": running},
            "Mounts": mounts,
        }
        if working_dir is not None:
            self.state["containers"][name]["Config"]["Labels"]["com.docker.compose.project.working_dir"] = working_dir

    def service(self, name: str, selector: dict[str, str], ports: list[dict[str, object]], kind: str = "ClusterIP",
                namespace: str = "meet") -> None:
        """A Service (kubectl get services) selecting pods by their labels."""
        self.state.setdefault("services", []).append({
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": kind, "selector": selector, "ports": ports}})
        self.save()

    def ingress(self, name: str, service: str, port: int | str, namespace: str = "meet") -> None:
        """An Ingress sending / to a Service's port (number or name)."""
        which = {"name": port} if isinstance(port, str) else {"number": port}
        self.state.setdefault("ingresses", []).append({
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"rules": [{"host": "meet.example.org", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": service, "port": which}}}]}}]}})
        self.save()

    def pod(self, name: str, component: str, release: str = "jitsi", namespace: str = "meet",
            *, phase: str = "Running") -> None:
        self.tree(name, component)
        labels = {"app.kubernetes.io/instance": release}
        if component == "prosody":
            labels["app.kubernetes.io/name"] = "prosody"
        else:
            labels |= {"app.kubernetes.io/name": "jitsi-meet", "app.kubernetes.io/component": component}
        self.state["pods"][name] = {
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "metrics-exporter", "image": "systemli/prometheus-jitsi-meet-exporter"},
                                    {"name": component if component == "prosody" else "jitsi-meet",
                                     "image": f"jitsi/{component}:stable-9955"}]},
            "status": {"phase": phase},
        }
