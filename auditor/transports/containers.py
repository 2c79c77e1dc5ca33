"""docker:// and kubectl:// targets: one docker-jitsi-meet deployment, audited through its containers.

`docker://CONTAINER` names any container of a docker compose project (e.g. `jitsi-web-1`); its
siblings are found through the compose project label, and the Jitsi ones (web, prosody, jicofo, jvb,
jibri, jigasi) are audited together as ONE target. `kubectl://[NAMESPACE/]POD` does the same for the
jitsi Helm chart (jitsi-contrib/jitsi-helm): siblings share `app.kubernetes.io/instance`, and the
component comes from `app.kubernetes.io/component` (prosody: `app.kubernetes.io/name`).

Inside each container the same read-only collector runs, in container mode (JITSI_AUDIT_CONTAINER=1:
only /etc/os-release, the image's rendered configuration under /config, and the commands), as one
`docker exec -i` / `kubectl exec -i` per container with the script on stdin, at most
`max_parallel` at once. The streams are merged into one snapshot:
- `/config/...` of a service is mapped to where docker-jitsi-meet keeps it on the docker host,
  `CONFIG/<web | prosody/config | jicofo | jvb | jibri | jigasi>/...` (the bind mount's source when
  known, else `/<scheme>/<project>/...`), so the files read exactly like an SSH audit of the
  CONFIG volume;
- the dpkg package lists are merged (versions checks see every image's packages);
- other files and commands keep the container's name: `/containers/<service>/etc/os-release`,
  `cmd:ss@<service>`, `cmd:processes@<service>` (the container's own processes: the deployment's host
  processes stay unknown to auditor.processes);
- what docker publishes of each container (`docker inspect`: HostConfig.PortBindings, and the host
  network mode) is recorded as facts, `containers.<service>.published` ("5280/tcp->127.0.0.1:5280 ...",
  "none") and `containers.<service>.network` ("host"): a socket inside a container's own network is
  reachable from outside only where docker publishes it (auditor.listeners reads them);
- the containers' directory modes (`dir_modes`) are mapped like the files, and, when the daemon is this
  machine's, the modes of the directories above each bind mount's source are added from here: who can
  reach a CONFIG file depends on them (e.g. CONFIG under /root, 0700), and a container cannot see them.
The compose project's `.env` and compose files live on the docker host, not in a container: when the
docker daemon is this machine's (no DOCKER_HOST other than a unix socket, no DOCKER_CONTEXT), they are
read from the project's working directory (the `com.docker.compose.project.working_dir` label) as a
directory audit reads files; with a remote daemon they are not, and the snapshot says so
(`containers.project_files`): audit the docker host over SSH for them.

pytest-testinfra's docker and kubectl backends build the same `docker exec` / `kubectl exec`
command lines, but run them through a shell with `communicate()`: no timeout, no streaming, no
stdin. The collection needs all three, so the commands are run here as argument vectors (never a
shell); names are validated by auditor.transports.targets (no leading '-').
"""

from __future__ import annotations

import ipaddress
import os
import posixpath
import re
import stat
import subprocess
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from auditor import json_input
from auditor.collect.plan import CONTAINER_CONFIG_DIR, CONTAINER_CONFIG_DIRS, DOCKER_PROJECT_FILES
from auditor.collect.stream import MAX_KEY_LENGTH, StreamLimits, one_line
from auditor.snapshot import COMMAND_PREFIX, CollectedItem, ItemStatus, Snapshot
from auditor.transports.errors import ConnectError, TransportError
from auditor.transports.local import collect_project_files, run_collector
from auditor.transports.targets import TargetSpec

CONFIG_DIRS: dict[str, str] = {
    "web": "web",
    "prosody": "prosody/config",
    "jicofo": "jicofo",
    "jvb": "jvb",
    "jibri": "jibri",
    "jigasi": "jigasi",
}
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_WORKING_DIR = "com.docker.compose.project.working_dir"
K8S_INSTANCE = "app.kubernetes.io/instance"
K8S_COMPONENT = "app.kubernetes.io/component"
K8S_NAME = "app.kubernetes.io/name"
CONTAINER_ENV = "JITSI_AUDIT_CONTAINER=1"
MAX_OUTPUT = 16 * 1024 * 1024  # docker inspect / kubectl get output
MERGED_COMMANDS = frozenset({"dpkg-query"})
DIR_MODES = "dir_modes"  # the collector's fact: `stat -c '%a:%F:%n'` lines
MAX_DIR_MODES = MAX_KEY_LENGTH - 96  # whole lines only, below the length checks read as a cut fact


@dataclass(frozen=True, slots=True)
class ContainerOptions:
    timeout: float = 60.0  # discovery commands, and each exec
    max_parallel: int = 4  # execs at once (connections per target)
    limits: StreamLimits = field(default_factory=StreamLimits)
    docker: str = "docker"
    kubectl: str = "kubectl"


@dataclass(frozen=True, slots=True)
class Member:
    service: str  # web, prosody, jicofo, jvb, jibri, jigasi
    name: str  # container or pod name
    container: str | None = None  # kubectl -c
    namespace: str | None = None
    config_source: str | None = None  # host path mounted at /config (docker), when known
    published: tuple[str, ...] | None = None  # docker: "5280/tcp->127.0.0.1:5280" ... (None: not known)
    host_network: bool = False  # docker: the container shares the docker host's network


@dataclass(slots=True)
class Deployment:
    scheme: str
    project: str  # compose project / helm release (or the container's own name)
    members: list[Member]
    skipped: list[str] = field(default_factory=list)  # siblings not audited, with the reason
    project_dir: str | None = None  # docker compose: the project's working directory on the docker host
    stopped: list[str] = field(default_factory=list)  # "name (service)": a core component none of which runs


Runner = Callable[[list[str], float], bytes]


def run_command(argv: list[str], timeout: float) -> bytes:
    """A discovery command (`docker inspect`, `kubectl get`): its stdout; ConnectError on failure."""
    what = " ".join(argv[:3])
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError:
        raise ConnectError(argv[0], "connect", f"{argv[0]} not found on PATH") from None
    except subprocess.TimeoutExpired:
        raise ConnectError(argv[0], "connect", f"`{what}` timed out after {timeout:g}s") from None
    except OSError as exc:
        raise ConnectError(argv[0], "connect", f"cannot run {argv[0]}: {exc.strerror}") from None
    if proc.returncode != 0:
        text = proc.stderr.decode("utf-8", "replace").strip()
        first = one_line(text.splitlines()[0], 200) if text else f"exit {proc.returncode}"
        raise ConnectError(argv[0], "connect", f"`{what}` failed: {first}")
    if len(proc.stdout) > MAX_OUTPUT:
        raise ConnectError(argv[0], "connect", f"`{what}` printed more than {MAX_OUTPUT} bytes")
    return proc.stdout


def _json(blob: bytes, what: str) -> Any:
    try:
        return json_input.loads(blob)
    except ValueError:
        raise ConnectError(what, "connect", f"{what}: output is not JSON") from None


def _service_from_image(image: str) -> str | None:
    """`jitsi/web:stable-9955` -> web (a container started without compose labels)."""
    name = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    return name if name in CONFIG_DIRS else None


# -- docker -------------------------------------------------------------------------------------
_PORT_KEY = re.compile(r"(\d{1,5})/(tcp|udp|sctp)")
_HOST_PORT = re.compile(r"\d{1,5}(?:-\d{1,5})?|any")


def _host_ip(value: object) -> str | None:
    """A binding's HostIp as the published address: "*" for all interfaces, None when it is not an IP."""
    text = str(value or "")
    if text in ("", "0.0.0.0", "::"):
        return "*"
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return f"[{ip}]" if ip.version == 6 else str(ip)


def published_ports(host_config: object, exposed_ports: object = None) -> tuple[str, ...] | None:
    """What docker publishes of a container, as "CONTAINER_PORT/PROTO->HOST_IP:HOST_PORT" entries (HOST_PORT
    a number, a range "A-B", or "any"): `docker inspect`'s HostConfig.PortBindings, and with
    PublishAllPorts (`docker run -P`) every port the container exposes (Config.ExposedPorts) on every
    interface. None when any of it cannot be read: an exposure that is not known is never "none"."""
    if not isinstance(host_config, dict):
        return None
    bindings = host_config.get("PortBindings") or {}
    if not isinstance(bindings, dict):
        return None
    found: list[str] = []
    for key, binds in sorted(bindings.items()):
        match = _PORT_KEY.fullmatch(str(key))
        if match is None or not isinstance(binds, list | type(None)):
            return None
        for bind in binds or ():
            address = _host_ip(bind.get("HostIp")) if isinstance(bind, dict) else None
            port = str(bind.get("HostPort") or "") if isinstance(bind, dict) else "?"
            if address is None or not _HOST_PORT.fullmatch(port or "any"):
                return None
            found.append(f"{match[1]}/{match[2]}->{address}:{port or 'any'}")
    if host_config.get("PublishAllPorts") is True:
        if not isinstance(exposed_ports, dict | type(None)):
            return None
        for key in sorted(exposed_ports or {}):
            match = _PORT_KEY.fullmatch(str(key))
            if match is None:
                return None
            found.append(f"{match[1]}/{match[2]}->*:any")
    return tuple(dict.fromkeys(found))


# Without one of these the deployment does not work, and its configuration is not seen: a target whose
# only container of one of them is stopped is incomplete. Jibri and Jigasi are optional.
CORE = ("web", "prosody", "jicofo", "jvb")
Found = tuple[Member | None, str, str | None]  # (member, why it is not one, the service of a stopped one)


def _map(value: Any) -> dict[str, Any]:
    """A mapping of `docker inspect`'s output, or {} when it is something else (the output is untrusted)."""
    return value if isinstance(value, dict) else {}


def _labels(info: dict[str, Any]) -> dict[str, Any]:
    return _map(_map(info.get("Config")).get("Labels"))


def _running(info: dict[str, Any]) -> bool:
    return _map(info.get("State")).get("Running") is True


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,252}")  # docker's container names, Kubernetes' pod names


def _docker_member(info: dict[str, Any]) -> Found:
    raw = str(info.get("Name", "")).lstrip("/")
    ident = str(info.get("Id", ""))
    # exec by name; a name docker would not make (too long, other characters) by id, never mangled
    name = raw if _NAME.fullmatch(raw) else ident[:64] if _NAME.fullmatch(ident[:64]) else ""
    if not name:
        return None, f"{one_line(raw or ident, 64) or '?'}: neither its name nor its id is usable", None
    config = _map(info.get("Config"))
    service = _labels(info).get(COMPOSE_SERVICE)
    if not isinstance(service, str) or service not in CONFIG_DIRS:
        service = _service_from_image(str(config.get("Image", ""))) or service
    if not isinstance(service, str) or service not in CONFIG_DIRS:
        shown = one_line(service, 40) if isinstance(service, str) and service else "?"
        return None, f"{name}: service {shown} is not a Jitsi component", None
    if not _running(info):
        return None, f"{name}: not running", service
    mounts = info.get("Mounts")
    mounts = mounts if isinstance(mounts, list) else []
    source = next((str(m.get("Source")) for m in mounts
                   if isinstance(m, dict) and m.get("Destination") == "/config" and m.get("Source")), None)
    host_config = info.get("HostConfig")
    mode = str(host_config.get("NetworkMode") or "") if isinstance(host_config, dict) else ""
    # network_mode "container:X" / "service:X": X's network, and X's published ports, which may not be
    # a Jitsi container audited here: what reaches this one from outside is not known
    published = None if mode.startswith(("container:", "service:")) else published_ports(
        host_config, config.get("ExposedPorts"))
    return Member(service, name, config_source=source, published=published,
                  host_network=mode == "host"), "", None


def discover_docker(spec: TargetSpec, options: ContainerOptions, run: Runner = run_command) -> Deployment:
    docker = options.docker
    first = _json(run([docker, "inspect", "--type", "container", spec.host], options.timeout), "docker inspect")
    if not isinstance(first, list) or not first or not isinstance(first[0], dict):
        raise ConnectError(spec.host, "connect", f"docker inspect {spec.host}: no such container")
    target = first[0]
    if not _running(target):  # named by name or by id
        raise ConnectError(spec.host, "connect", f"docker://{spec.host}: not running")
    project = _labels(target).get(COMPOSE_PROJECT)
    if not isinstance(project, str) or not project or "\n" in project:
        project = None
    infos: list[dict[str, Any]] = [target]
    if project:
        ids = run([docker, "ps", "--all", "--no-trunc", "--quiet", "--filter", f"label={COMPOSE_PROJECT}={project}"],
                  options.timeout).decode("ascii", "replace").split()
        ids = [i for i in ids if i.isalnum() and i != target.get("Id")]
        if ids:
            more = _json(run([docker, "inspect", "--type", "container", *ids], options.timeout), "docker inspect")
            infos += [i for i in more if isinstance(i, dict)] if isinstance(more, list) else []
    dep = _select("docker", str(project or spec.host), [_docker_member(i) for i in infos], spec.host)
    working_dir = _labels(target).get(COMPOSE_WORKING_DIR)
    if isinstance(working_dir, str) and working_dir.startswith("/") and "\0" not in working_dir:
        dep.project_dir = working_dir
    return dep


def _config_context(environ: Mapping[str, str]) -> str | None:
    """The docker CLI's current context from its config.json (`docker context use`), if any."""
    directory = environ.get("DOCKER_CONFIG") or posixpath.join(environ.get("HOME") or "/nonexistent", ".docker")
    try:
        with open(posixpath.join(directory, "config.json"), "rb") as f:
            data = json_input.loads(f.read(1024 * 1024))
    except (OSError, ValueError):
        return None
    context = data.get("currentContext") if isinstance(data, dict) else None
    return context if isinstance(context, str) else None


def docker_daemon_is_local(environ: Mapping[str, str], run: Runner | None = None, docker: str = "docker",
                           timeout: float = 10.0) -> bool:
    """Whether the docker CLI talks to this machine's daemon (so the project directory is here too): its
    DOCKER_HOST, else its context (DOCKER_CONTEXT, else config.json's current one) is a unix socket. A
    context other than "default" is asked of the CLI (`docker context inspect`); without `run`, or when
    that fails, it counts as remote."""
    host = environ.get("DOCKER_HOST", "")
    if host:
        return host.startswith("unix://")
    context = environ.get("DOCKER_CONTEXT") or _config_context(environ)
    if context in (None, "", "default"):
        return True
    if run is None or context.startswith("-"):
        return False
    try:
        endpoint = json_input.loads(run([docker, "context", "inspect", "--format", "{{json .Endpoints.docker.Host}}",
                                         context], timeout))
    except (TransportError, ValueError):
        return False
    return isinstance(endpoint, str) and endpoint.startswith("unix://")


def add_project_files(snapshot: Snapshot, dep: Deployment, local: bool) -> None:
    """The compose project's .env and compose files, read on this machine when the daemon is local."""
    if dep.scheme != "docker" or dep.project_dir is None:
        return
    if not local:
        snapshot.facts["containers.project_files"] = (
            f"not read: {dep.project_dir} is on the docker host of a remote daemon (DOCKER_HOST or the docker context);"
            " audit that host over SSH for the project's .env"
        )
        return
    patterns = [(rule.relpattern, rule.max_files) for rule in DOCKER_PROJECT_FILES]
    try:
        found = collect_project_files(dep.project_dir, patterns)
    except FileNotFoundError:  # the project was started from elsewhere, or moved: no evidence, not an error
        snapshot.facts["containers.project_files"] = f"not read: {dep.project_dir} does not exist on this machine"
        return
    except OSError as exc:  # there but unreadable: evidence the audit could not see
        snapshot.errors.append(f"collect: {dep.project_dir}: cannot list the compose project: {exc.strerror or exc}")
        snapshot.facts["collection"] = "incomplete"
        return
    for item in found.items.values():
        snapshot.add(item)
    snapshot.facts["containers.project_files"] = f"read from {dep.project_dir} on this machine"


# -- kubectl ------------------------------------------------------------------------------------
def _kubectl(options: ContainerOptions, namespace: str | None, *args: str) -> list[str]:
    return [options.kubectl, *(["--namespace", namespace] if namespace else []), *args]


_PROTOCOLS = ("TCP", "UDP", "SCTP")


def _port_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536 else None


def _ingress_backends(ingresses: list[Any]) -> set[tuple[str, str]] | None:
    """(Service name, port number or name) of every backend of the Ingresses; None when one cannot be read."""
    found: set[tuple[str, str]] = set()
    for ingress in ingresses:
        spec = _map(_map(ingress).get("spec"))
        backends = [spec.get("defaultBackend")] if spec.get("defaultBackend") is not None else []
        rules = spec.get("rules") or []
        if not isinstance(rules, list):
            return None
        for rule in rules:
            paths = _map(_map(rule).get("http")).get("paths") or []
            if not isinstance(paths, list):
                return None
            backends += [_map(path).get("backend") for path in paths]
        for backend in backends:
            service = _map(_map(backend).get("service"))
            if not service:  # a resource backend (a bucket...), no pod behind it
                continue
            port = _map(service.get("port"))
            which = port.get("name") if isinstance(port.get("name"), str) else _port_number(port.get("number"))
            if not isinstance(service.get("name"), str) or which is None:
                return None
            found.add((service["name"], str(which)))
    return found


def pod_published(pod: dict[str, Any], services: list[Any] | None,
                  ingresses: list[Any] | None = None) -> tuple[str, ...] | None:
    """What reaches a pod from outside the cluster, as "POD_PORT/PROTO->ADDRESS:PORT" entries like docker's:
    its hostPorts; the ports of the NodePort and LoadBalancer Services (or Services with externalIPs)
    whose selector matches it; and the ports of any Service an Ingress sends to (HTTP from outside,
    "->ingress:PORT"). None when any of it cannot be read, or the Services or Ingresses could not be
    listed: an exposure that is not known is never "none"."""
    spec = _map(pod.get("spec"))
    labels = _map(_map(pod.get("metadata")).get("labels"))
    containers = spec.get("containers")
    if not isinstance(containers, list):
        return None
    found: list[str] = []
    named: dict[tuple[str, str], int] = {}
    for container in containers:
        ports = _map(container).get("ports") or []
        if not isinstance(ports, list):
            return None
        for port in ports:
            port = _map(port)
            number, proto = _port_number(port.get("containerPort")), str(port.get("protocol") or "TCP")
            if number is None or proto not in _PROTOCOLS:
                return None
            if isinstance(port.get("name"), str):
                named[(port["name"], proto)] = number
            if port.get("hostPort") is not None:
                host_port, address = _port_number(port.get("hostPort")), _host_ip(port.get("hostIP"))
                if host_port is None or address is None:
                    return None
                found.append(f"{number}/{proto.lower()}->{address}:{host_port}")
    if services is None or ingresses is None:
        return None
    backends = _ingress_backends(ingresses)
    if backends is None:
        return None
    for svc in services:
        meta, sspec = _map(_map(svc).get("metadata")), _map(_map(svc).get("spec"))
        selector, ports = sspec.get("selector"), sspec.get("ports")
        if not isinstance(svc, dict) or not isinstance(selector, dict | type(None)) or not isinstance(ports, list):
            return None
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            continue  # no selector: endpoints kept by hand, not this pod's
        external = sspec.get("type") in ("NodePort", "LoadBalancer") or bool(sspec.get("externalIPs"))
        for port in ports:
            port = _map(port)
            target = port.get("targetPort", port.get("port"))
            proto = str(port.get("protocol") or "TCP")
            if proto not in _PROTOCOLS or _port_number(port.get("port")) is None:
                return None
            # a named targetPort the pod does not have (with that protocol): the pod is not an endpoint
            number = named.get((target, proto)) if isinstance(target, str) else _port_number(target)
            if number is None:
                if isinstance(target, str):
                    continue
                return None
            if external:
                outside = _port_number(port.get("nodePort") if sspec.get("type") == "NodePort" else port.get("port"))
                if outside is None:
                    return None
                found.append(f"{number}/{proto.lower()}->*:{outside}")
            name = meta.get("name")
            if isinstance(name, str) and ({(name, str(port.get("port"))), (name, str(port.get("name")))} & backends):
                found.append(f"{number}/{proto.lower()}->ingress:{port.get('port')}")
    return tuple(dict.fromkeys(found))


def _pod_member(pod: dict[str, Any], services: list[Any] | None = None,
                ingresses: list[Any] | None = None) -> Found:
    meta = _map(pod.get("metadata"))
    name = one_line(str(meta.get("name", "?")), 128)
    labels = _map(meta.get("labels"))
    service = labels.get(K8S_COMPONENT) or (labels.get(K8S_NAME) if labels.get(K8S_NAME) == "prosody" else None)
    containers = _map(pod.get("spec")).get("containers")
    containers = [c for c in containers if isinstance(c, dict)] if isinstance(containers, list) else []
    if not isinstance(service, str) or service not in CONFIG_DIRS:
        images = [_service_from_image(str(c.get("image", ""))) for c in containers]
        service = next((s for s in images if s), service)
    if not isinstance(service, str) or service not in CONFIG_DIRS:
        shown = one_line(service, 40) if isinstance(service, str) and service else "?"
        return None, f"{name}: component {shown} is not a Jitsi component", None
    if _map(pod.get("status")).get("phase") != "Running":
        return None, f"{name}: not running", service
    names = [str(c.get("name")) for c in containers if c.get("name")]
    chosen = next((c for c in names if service in c), None) or next(
        (str(c.get("name")) for c in containers if _service_from_image(str(c.get("image", ""))) == service),
        names[0] if names else None)
    host_network = _map(pod.get("spec")).get("hostNetwork") is True
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    raw = meta.get("name")
    if not isinstance(raw, str) or not _NAME.fullmatch(raw) or (namespace and not _NAME.fullmatch(namespace)) \
            or (chosen and not _NAME.fullmatch(chosen)):
        return None, f"{name}: its name is not usable", None
    return Member(service, raw, container=chosen, namespace=namespace, host_network=host_network,
                  published=None if host_network else pod_published(pod, services, ingresses)), "", None


def _kubectl_items(run: Runner, options: ContainerOptions, namespace: str | None, kind: str) -> list[Any] | None:
    """`kubectl get KIND` in the namespace: its items, or None when they cannot be had (RBAC, no such API)."""
    try:
        listed = _json(run(_kubectl(options, namespace, "get", kind, "--output", "json"), options.timeout),
                       f"kubectl get {kind}")
    except ConnectError:
        return None
    items = listed.get("items") if isinstance(listed, dict) else None
    return items if isinstance(items, list) else None


def discover_kubectl(spec: TargetSpec, options: ContainerOptions, run: Runner = run_command) -> Deployment:
    pod = _json(run(_kubectl(options, spec.namespace, "get", "pod", spec.host, "--output", "json"),
                    options.timeout), "kubectl get pod")
    if not isinstance(pod, dict):
        raise ConnectError(spec.host, "connect", f"kubectl get pod {spec.host}: unexpected output")
    meta = pod.get("metadata") or {}
    namespace = spec.namespace or meta.get("namespace")
    release = (meta.get("labels") or {}).get(K8S_INSTANCE)
    pods: list[dict[str, Any]] = [pod]
    if release:
        listed = _json(run(_kubectl(options, namespace, "get", "pods", "--selector", f"{K8S_INSTANCE}={release}",
                                    "--output", "json"), options.timeout), "kubectl get pods")
        items = listed.get("items") if isinstance(listed, dict) else None
        pods += [p for p in items or [] if isinstance(p, dict)
                 and (p.get("metadata") or {}).get("name") != meta.get("name")]
    # what reaches the pods from outside: without these, their exposure is not known
    services, ingresses = (_kubectl_items(run, options, namespace, kind) for kind in ("services", "ingresses"))
    found = [_pod_member(p, services, ingresses) for p in pods]
    return _select("kubectl", str(release or spec.host), found, spec.host)


def _select(scheme: str, project: str, found: list[Found], target: str) -> Deployment:
    """One member per component, the named target first; the others are listed as skipped. A core
    component of which no container runs is `stopped` (the deployment's audit is incomplete)."""
    members: list[Member] = []
    skipped: list[str] = []
    stopped: dict[str, str] = {}
    for member, why, stopped_service in found:
        if member is None:
            if why == f"{target}: not running":
                raise ConnectError(target, "connect", f"{scheme}://{why}")
            skipped.append(why)
            if stopped_service in CORE:
                stopped.setdefault(stopped_service, why.split(":", 1)[0])
        elif any(m.service == member.service for m in members):
            skipped.append(f"{member.name}: another {member.service} ({member.service} audited once)")
            # the same configuration, but what each replica publishes reaches the deployment too
            first = next(i for i, m in enumerate(members) if m.service == member.service)
            mine, theirs = members[first].published, member.published
            published = None if mine is None or theirs is None else tuple(dict.fromkeys((*mine, *theirs)))
            if members[first].host_network != member.host_network:  # only one replica's sockets are read
                published = None
            members[first] = replace(members[first], published=published,
                                     host_network=members[first].host_network and member.host_network)
        else:
            members.append(member)
    running = {m.service for m in members}
    return Deployment(scheme, project, members, skipped,
                      stopped=[f"{name} ({service})" for service, name in stopped.items() if service not in running])


# -- collection and merge -----------------------------------------------------------------------
def exec_argv(scheme: str, member: Member, options: ContainerOptions) -> list[str]:
    """The one exec per container: the collector arrives on stdin, in container mode."""
    if scheme == "docker":
        return [options.docker, "exec", "--interactive", "--env", CONTAINER_ENV, member.name, "/bin/sh", "-s"]
    return [*_kubectl(options, member.namespace, "exec", "--stdin", member.name,
                      *(["--container", member.container] if member.container else []),
                      "--", "env", CONTAINER_ENV, "/bin/sh", "-s")]


def _collect_member(scheme: str, member: Member, options: ContainerOptions) -> Snapshot:
    snap = Snapshot(target=member.name, transport=scheme)
    run_collector(exec_argv(scheme, member, options), snap, env=None, timeout=options.timeout,
                  limits=options.limits, host=f"{scheme}://{member.name}")
    return snap


def config_base(dep: Deployment, member: Member, config_dir: str = CONTAINER_CONFIG_DIR) -> str:
    """Where a member's configuration directory lands in the merged snapshot: /config at its bind mount's
    source on the docker host when known; a configuration rendered inside the container (/run/<service>/
    config, on the container's tmpfs: no host path) under the deployment's own name."""
    if config_dir == CONTAINER_CONFIG_DIR and member.config_source and member.config_source.startswith("/"):
        return member.config_source.rstrip("/") or "/"
    rendered = "" if config_dir == CONTAINER_CONFIG_DIR else "/rendered"
    return f"/{dep.scheme}/{dep.project}{rendered}/{CONFIG_DIRS[member.service]}"


def _config_dir(snap: Snapshot | None) -> str:
    """The directory the member's collector read (its `config_dir` fact), if it is one of the plan's."""
    said = snap.facts.get("config_dir") if snap is not None else None
    return said if said in CONTAINER_CONFIG_DIRS else CONTAINER_CONFIG_DIR


def _map_key(dep: Deployment, member: Member, item: CollectedItem, config_dir: str) -> str:
    if item.kind == "command":
        return f"{item.key}@{member.service}"
    return _map_path(dep, member, item.key, config_dir)


def _map_path(dep: Deployment, member: Member, path: str, config_dir: str) -> str:
    if path == config_dir or path.startswith(config_dir + "/"):
        return config_base(dep, member, config_dir) + path[len(config_dir):]
    return f"/containers/{member.service}{path}"


def _dir_mode_line(mode: int, kind: str, path: str) -> str | None:
    return None if any(ord(c) < 32 for c in path) else f"{mode:o}:{kind}:{path}"


def _add_dir_modes(snapshot: Snapshot, lines: list[str]) -> None:
    known = snapshot.facts.get(DIR_MODES, "")
    have = set(known.splitlines())
    for line in lines:
        if line in have:
            continue
        grown = f"{known}\n{line}" if known else line
        if len(grown) > MAX_DIR_MODES:
            snapshot.facts["containers.dir_modes"] = "not all directory modes kept (size cap)"
            break
        known = grown
        have.add(line)
    if known:
        snapshot.facts[DIR_MODES] = known


def add_host_directories(snapshot: Snapshot, dep: Deployment, local: bool) -> None:
    """The modes of the directories above each bind mount's source, read here when the daemon is local."""
    if dep.scheme != "docker" or not local:
        return
    lines: list[str] = []
    for member in dep.members:
        base = member.config_source
        if not base or not base.startswith("/"):
            continue
        directory = posixpath.dirname(base.rstrip("/"))
        while directory not in ("", "/"):
            try:
                st = os.lstat(directory)
            except OSError:
                break  # not on this machine: the chain stays unknown
            kind = "directory" if stat.S_ISDIR(st.st_mode) else "symbolic link" if stat.S_ISLNK(st.st_mode) else "other"
            line = _dir_mode_line(stat.S_IMODE(st.st_mode), kind, directory)
            if line is None:
                break
            lines.append(line)
            directory = posixpath.dirname(directory)
    _add_dir_modes(snapshot, lines)


def merge(raw: str, dep: Deployment, parts: list[tuple[Member, Snapshot | None, str | None]]) -> Snapshot:
    """One snapshot for the deployment from each member's snapshot (None + reason when it failed)."""
    merged = Snapshot(target=raw, transport=dep.scheme)
    merged.facts["containers.project"] = dep.project
    pkg_lines: list[str] = []
    pkg_item: CollectedItem | None = None
    for member, snap, error in parts:
        config_dir = _config_dir(snap)
        # what the transport knows of the member: written after the member's own facts (below), which a
        # container could name alike ("published", "config")
        ours = {f"containers.{member.service}": member.name,
                f"containers.{member.service}.config": config_base(dep, member, config_dir)}
        if member.host_network:
            ours[f"containers.{member.service}.network"] = "host"
        elif member.published is not None:
            ours[f"containers.{member.service}.published"] = " ".join(member.published) or "none"
        merged.facts.update(ours)
        if snap is None:
            merged.errors.append(f"collect: {member.service} ({member.name}): {error}")
            continue
        if snap.started_at < merged.started_at:
            merged.started_at = snap.started_at
        dir_lines: list[str] = []
        for line in snap.facts.get(DIR_MODES, "").splitlines():
            mode, _, rest = line.partition(":")
            kind, _, path = rest.partition(":")
            mapped = _dir_mode_line(int(mode, 8), kind, _map_path(dep, member, path, config_dir)) \
                if mode.isdigit() and set(mode) <= set("01234567") and path.startswith("/") else None
            if mapped is not None:
                dir_lines.append(mapped)
        _add_dir_modes(merged, dir_lines)
        for k, v in snap.facts.items():
            if k.startswith("collector.") and k not in merged.facts:
                merged.facts[k] = v
            elif not k.startswith("collector.") and f"containers.{member.service}.{k}" not in ours:
                merged.facts[f"containers.{member.service}.{k}"] = v
        for k in (f"containers.{member.service}.network", f"containers.{member.service}.published"):
            if k not in ours:
                merged.facts.pop(k, None)
        merged.errors += [f"{e} ({member.service})" for e in snap.errors]
        for item in snap.items.values():
            name = item.key[len(COMMAND_PREFIX):] if item.kind == "command" else ""
            if name in MERGED_COMMANDS:
                if item.ok:
                    pkg_lines += [ln for ln in item.text().splitlines() if ln and ln not in pkg_lines]
                    pkg_item = pkg_item or item
                continue
            merged.add(replace(item, key=_map_key(dep, member, item, config_dir)))
    if pkg_item is not None:
        content = ("\n".join(pkg_lines) + "\n").encode()
        merged.add(replace(pkg_item, content=content, size=len(content)))
    elif parts:
        merged.add(CollectedItem(COMMAND_PREFIX + "dpkg-query", "command", ItemStatus.MISSING,
                                 error="no container could list its packages"))
    for stopped in dep.stopped:
        merged.errors.append(f"collect: {stopped}: not running: the deployment's {stopped.rsplit('(', 1)[-1][:-1]} "
                             "configuration was not read")
    for why in dep.skipped:
        merged.facts.setdefault("containers.skipped", "")
        merged.facts["containers.skipped"] = "; ".join(filter(None, [merged.facts["containers.skipped"], why]))
    failed = any(snap is None for _, snap, _ in parts)
    merged.facts["collection"] = "incomplete" if failed or merged.errors else "complete"
    merged.finished_at = datetime.now(UTC)
    return merged


def collect_containers(spec: TargetSpec, options: ContainerOptions | None = None,
                       run: Runner = run_command) -> Snapshot:
    """Audit a docker-jitsi-meet deployment through its containers (docker) or pods (kubectl).

    Raises ConnectError when the named container cannot be used, CollectError when its own
    collection fails; a sibling that fails leaves the merged snapshot incomplete, with the reason.
    """
    options = options or ContainerOptions()
    if spec.scheme not in ("docker", "kubectl"):
        raise ConnectError(spec.host, "connect", f"{spec.raw!r} is not a docker:// or kubectl:// target")
    dep = discover_docker(spec, options, run) if spec.scheme == "docker" else discover_kubectl(spec, options, run)
    if not dep.members:
        raise ConnectError(spec.host, "connect", f"{spec.display}: no Jitsi container to audit")

    def one(member: Member) -> tuple[Member, Snapshot | None, str | None]:
        try:
            return member, _collect_member(spec.scheme, member, options), None
        except TransportError as exc:
            if member.name == spec.host:
                raise
            return member, None, exc.reason

    with ThreadPoolExecutor(max_workers=max(1, min(options.max_parallel, len(dep.members))),
                            thread_name_prefix="exec") as pool:
        parts = list(pool.map(one, dep.members))
    snapshot = merge(spec.raw, dep, parts)
    if spec.scheme == "docker":
        local = docker_daemon_is_local(os.environ, run, options.docker, options.timeout)
        add_project_files(snapshot, dep, local)
        add_host_directories(snapshot, dep, local)
    if spec.host not in {m.name for m in dep.members}:
        snapshot.facts["containers.note"] = f"{spec.host} is not a Jitsi component: its siblings were audited"
    return snapshot
