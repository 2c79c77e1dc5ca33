"""A private docker daemon running a docker-jitsi-meet deployment's containers, for the docker:// transport.

The containers are real: Debian's dockerd (package docker.io, with a containerd of its own and runc) on a
socket of its own, with its state under BASE (vfs storage, no iptables rules), in a network namespace
of its own (`jadock-<name>`: its bridges never appear on the machine), so nothing of the machine's
docker or network, if any, is touched. Each Jitsi service is a container of one compose project on
the project's network `meet.jitsi`, labelled as `docker compose` labels them (project, service,
working directory), with the service's CONFIG directory bind-mounted at /config and the ports
docker-jitsi-meet's compose file publishes (web 8000:80 and 8443:443, jvb 10000:10000/udp; no
forwarding happens: docker records them, which is what the auditor reads). The image is a Debian userland: a root with the machine's /usr bind-mounted read-only (the
lab machine is Debian 12, merged /usr), /etc/os-release of Debian 12, and a dpkg database per service
listing the packages that image installs. So `docker exec -i CONTAINER /bin/sh -s` runs the collector
with Debian's dash, coreutils and dpkg-query, as in the jitsi/* images.

    lab = DockerLab(Path("/tmp/jitsi-docker-lab/x"), "jadock-x"); lab.start()
    lab.deploy("docker-jitsi-meet", config_root, project_dir)   # container names: lab.names
    ... DOCKER_HOST=lab.docker_host ... ; lab.stop()
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .model import LabError, LabUnavailable

IMAGE = "jitsi-lab/debian-base:12"
OS_RELEASE = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""
# service -> (CONFIG subdirectory mounted at /config, packages of its image: name, version)
SERVICES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "web": ("web", (("nginx", "1.22.1-9+deb12u1"), ("jitsi-meet-web", "1.0.8542-1"))),
    "prosody": ("prosody/config", (("prosody", "0.12.4-1~bookworm1"),)),
    "jicofo": ("jicofo", (("jicofo", "1.0-1143-1"),)),
    "jvb": ("jvb", (("jitsi-videobridge2", "2.3-209-gb5fbe618-1"),)),
}
# service -> `docker run --publish` values of docker-jitsi-meet's docker-compose.yml
PUBLISHED: dict[str, tuple[str, ...]] = {"web": ("8000:80", "8443:443"), "jvb": ("10000:10000/udp",)}
NETWORK = "meet.jitsi"
START_TIMEOUT = 30.0


def _dpkg_status(packages: tuple[tuple[str, str], ...]) -> str:
    return "".join(
        f"Package: {name}\nStatus: install ok installed\nPriority: optional\nSection: net\nInstalled-Size: 1\n"
        f"Maintainer: jitsi-audit lab\nArchitecture: all\nVersion: {version}\n"
        f"Description: {name} (jitsi-audit lab: package record only)\n\n"
        for name, version in packages)


def _image_tar() -> bytes:
    """A root with merged-/usr symlinks and the directories the collector and docker need; /usr itself
    is the machine's, mounted when a container starts."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, mode in (("usr", 0o755), ("etc", 0o755), ("tmp", 0o1777), ("config", 0o755),
                           ("var", 0o755), ("var/lib", 0o755), ("var/lib/dpkg", 0o755), ("root", 0o700),
                           ("proc", 0o555), ("sys", 0o555), ("dev", 0o755), ("run", 0o755)):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)
        for link in ("bin", "sbin", "lib", "lib64"):
            info = tarfile.TarInfo(link)
            info.type, info.linkname = tarfile.SYMTYPE, f"usr/{link}"
            tar.addfile(info)
        for name, text in (("etc/os-release", OS_RELEASE), ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
                           ("etc/group", "root:x:0:\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class DockerLab:
    base: Path
    netns: str  # created and removed here
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)  # containerd, dockerd
    names: dict[str, str] = field(default_factory=dict)  # service -> container name (the last deploy)

    @property
    def socket(self) -> Path:
        return self.base / "docker.sock"

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_CONTEXT", "DOCKER_CONFIG")}
        env["DOCKER_HOST"] = self.docker_host
        env["DOCKER_CONFIG"] = str(self.base / "client")  # no ~/.docker of the machine's user
        return env

    def docker(self, *args: str, stdin: bytes | None = None, timeout: float = 60.0) -> str:
        proc = subprocess.run(["docker", *args], input=stdin, capture_output=True, env=self.env(),
                              timeout=timeout, check=False)
        if proc.returncode != 0:
            raise LabError(f"docker {' '.join(args[:2])} failed: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout.decode(errors="replace")

    def start(self) -> None:
        for tool in ("dockerd", "docker", "containerd", "runc", "nsenter"):
            if shutil.which(tool) is None:
                raise LabUnavailable(f"{tool} is not installed (Debian packages docker.io, util-linux)")
        self.stop()
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "client").mkdir(exist_ok=True)
        for cmd in (["ip", "netns", "add", self.netns], ["ip", "-n", self.netns, "link", "set", "lo", "up"]):
            if subprocess.run(cmd, capture_output=True, check=False).returncode != 0:
                self.stop()
                raise LabUnavailable(f"cannot create the network namespace {self.netns}")
        # A containerd of its own: dockerd would use the machine's (/run/containerd) whenever one runs.
        ctd = self.base / "containerd"
        ctd.mkdir()
        (ctd / "config.toml").write_text(
            f'version = 2\nroot = "{ctd}/root"\nstate = "{ctd}/state"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            f'[grpc]\n  address = "{ctd}/containerd.sock"\n[ttrpc]\n  address = "{ctd}/containerd.sock.ttrpc"\n')
        self._spawn("containerd", ["containerd", "--config", str(ctd / "config.toml")])
        self._wait(lambda: (ctd / "containerd.sock").exists(), "containerd")
        self._spawn("dockerd", [
            "dockerd", "--host", self.docker_host, "--containerd", str(ctd / "containerd.sock"),
            "--data-root", str(self.base / "data"), "--exec-root", str(self.base / "exec"),
            "--pidfile", str(self.base / "dockerd.pid"), "--storage-driver", "vfs", "--iptables=false",
            "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--userland-proxy=false"])

        def answers() -> bool:
            try:
                self.docker("version", "--format", "{{.Server.Version}}", timeout=5)
            except (LabError, subprocess.TimeoutExpired):
                return False
            return True

        self._wait(answers, "dockerd")
        self.docker("import", "-", IMAGE, stdin=_image_tar())

    def _spawn(self, name: str, argv: list[str]) -> None:
        # nsenter --net, not `ip netns exec`: that one remounts /sys, hiding the cgroups dockerd needs
        with (self.base / f"{name}.log").open("wb") as log:
            self.processes[name] = subprocess.Popen(
                ["nsenter", f"--net=/run/netns/{self.netns}", *argv], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)

    def _wait(self, ready: Callable[[], bool], name: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready():
            if self.processes[name].poll() is not None or time.monotonic() > deadline:
                tail = (self.base / f"{name}.log").read_text(errors="replace")[-1500:]
                self.stop()
                raise LabUnavailable(f"{name} did not start here:\n{tail}")
            time.sleep(0.1)

    def deploy(self, project: str, config_root: Path, project_dir: Path, *, extra_jvb: bool = True,
               sidecar: bool = True, publish: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
        """Start the project's containers, one per Jitsi service (and, like a real deployment, a second
        videobridge and a non-Jitsi sidecar of the same project). Returns service -> container name.
        `publish` replaces docker-jitsi-meet's published ports (a host port is published once per daemon)."""
        network = f"{project}_{NETWORK}"
        if not self.docker("network", "ls", "--quiet", "--filter", f"name=^{network}$").strip():
            self.docker("network", "create", network)
        ports = {s: (PUBLISHED if publish is None else publish).get(s, ()) for s in SERVICES}
        names: dict[str, str] = {}
        services = [*SERVICES, *(["jvb"] if extra_jvb else [])]
        for index, service in enumerate(services):
            subdir, packages = SERVICES[service]
            replica = 2 if index >= len(SERVICES) else 1
            name = f"{project}-{service}-{replica}"
            dpkg = self.base / "dpkg" / name
            dpkg.mkdir(parents=True, exist_ok=True)
            (dpkg / "status").write_text(_dpkg_status(packages))
            for sub in ("info", "updates"):
                (dpkg / sub).mkdir(exist_ok=True)
            published = ports[service] if replica == 1 else ()
            self._run(name, project, service, project_dir, network, [
                "--volume", "/usr:/usr:ro", "--volume", f"{dpkg}:/var/lib/dpkg:ro",
                "--volume", f"{config_root / subdir}:/config:ro",
                *(arg for p in published for arg in ("--publish", p))])
            names.setdefault(service, name)
        if sidecar:
            name = f"{project}-etherpad-1"
            self._run(name, project, "etherpad", project_dir, network, ["--volume", "/usr:/usr:ro"])
            names["etherpad"] = name
        self.names = names
        return names

    def _run(self, name: str, project: str, service: str, project_dir: Path, network: str,
             options: list[str]) -> None:
        self.docker("run", "--detach", "--network", network, "--name", name,
                    "--label", f"com.docker.compose.project={project}",
                    "--label", f"com.docker.compose.service={service}",
                    "--label", f"com.docker.compose.project.working_dir={project_dir}",
                    *options, IMAGE, "/usr/bin/sleep", "infinity")

    def kill(self, name: str) -> None:
        self.docker("kill", name)

    def stop(self) -> None:
        """Remove every container, stop the daemons, remove the namespace and BASE. Whatever is left of an
        earlier run is found by BASE: processes whose command line or root directory is below it (dockerd,
        containerd, shims, and containers' processes), never by a pid file that may be stale."""
        dockerd = self.processes.get("dockerd")
        if dockerd is not None and dockerd.poll() is None:
            with contextlib.suppress(LabError, subprocess.TimeoutExpired):
                ids = self.docker("ps", "--all", "--quiet", timeout=20).split()
                if ids:
                    self.docker("rm", "--force", *ids, timeout=60)
        for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
            left = _processes_below(self.base)
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + grace
            while left and time.monotonic() < deadline:
                for proc in self.processes.values():
                    proc.poll()
                time.sleep(0.1)
                left = _processes_below(self.base)
            if not left:
                break
        for proc in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        self.processes.clear()
        subprocess.run(["ip", "netns", "delete", self.netns], capture_output=True, check=False)
        _unmount_below(self.base)
        shutil.rmtree(self.base, ignore_errors=True)
        if self.base.exists():
            raise LabError(f"could not remove {self.base}")


_DAEMONS = frozenset({"dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "runc", "docker-proxy",
                      "nsenter"})


def _processes_below(base: Path) -> list[int]:
    """Live processes started for BASE: their command line names a path below it, or their root is below it."""
    prefix = str(base.resolve()) + "/"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            if stat[stat.rindex(")") + 2] == "Z":
                continue
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
            exe = os.path.basename(os.readlink(entry / "exe")).removesuffix(" (deleted)")
            # the daemons started for BASE (not, say, a `tail -f` of its log), or a container's process
            if (exe in _DAEMONS and prefix in cmdline) or _root_below(entry, prefix):
                found.append(int(entry.name))
    return found


def _root_below(entry: Path, prefix: str) -> bool:
    """A container's process: its own mount namespace's "/" is a directory below BASE (readlink of
    /proc/PID/root says only "/" across mount namespaces; mountinfo names the mounted directory)."""
    for line in (entry / "mountinfo").read_text(errors="replace").splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[4] == "/":
            return (fields[3] + "/").startswith(prefix)
    return False


def _unmount_below(base: Path) -> None:
    """Mounts dockerd left under BASE when it died uncleanly (network namespace files, shm)."""
    prefix = str(base.resolve()) + "/"
    with contextlib.suppress(OSError):
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
        for point in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
            subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)
