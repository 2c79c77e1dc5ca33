"""Install the Debian packages the lab needs, without letting their scripts start any daemon."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .model import LabUnavailable

# package -> a file proving it is usable ("" = the dpkg status "ii" is enough)
PACKAGES: dict[str, str] = {
    "openssh-server": "/usr/sbin/sshd",
    "nginx": "/usr/sbin/nginx",
    "prosody": "/usr/bin/prosody",
    "lua-sec": "",
    "lua-cjson": "",
    "lua-unbound": "",
    "coturn": "/usr/bin/turnserver",
    "openssl": "/usr/bin/openssl",
    "iproute2": "/usr/sbin/ip",
    "sudo": "/usr/bin/sudo",
    "python3": "/usr/bin/python3",  # the stand-ins and the ForceCommand wrapper use the system python
    "util-linux": "/usr/bin/nsenter",  # unshare, nsenter, setpriv
    "tini": "/usr/bin/tini",  # PID 1 of each lab host's PID namespace: reaps its orphans
    "docker.io": "/usr/sbin/dockerd",  # a private daemon for the docker:// tests (tests/lab/dockerd.py)
    "ansible-core": "/usr/bin/ansible-inventory",  # the real ansible-inventory for the ansible:// tests
}
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")


def _installed(pkg: str) -> bool:
    out = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg], capture_output=True, text=True)
    return out.returncode == 0 and out.stdout.startswith("ii")


def missing_packages() -> list[str]:
    return [
        pkg
        for pkg, probe in PACKAGES.items()
        if not ((not probe or Path(probe).exists()) and _installed(pkg))
    ]


def _lists_present() -> bool:
    lists = Path("/var/lib/apt/lists")
    return lists.is_dir() and any(p.name.endswith("_Packages") for p in lists.iterdir())


def _apt(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", NEEDRESTART_MODE="l")
    return subprocess.run(["apt-get", "-q", "-y", *args], capture_output=True, text=True, env=env)


def ensure_packages(verbose: bool = True) -> list[str]:
    """Install what is missing; return the packages installed. apt-get update runs only when needed."""
    missing = missing_packages()
    if not missing:
        return []
    if verbose:
        print(f"jitsi-lab: installing Debian packages: {' '.join(missing)}", file=sys.stderr)
    # policy-rc.d exiting 101 tells invoke-rc.d not to start services from maintainer scripts.
    created_policy = False
    if not POLICY_RC_D.exists():
        POLICY_RC_D.write_text(
            "#!/bin/sh\n# jitsi-audit lab: never start daemons from package scripts\nexit 101\n"
        )
        POLICY_RC_D.chmod(0o755)
        created_policy = True
    try:
        if not _lists_present():
            upd = _apt(["update"])
            if upd.returncode != 0:
                raise LabUnavailable(f"apt-get update failed:\n{upd.stderr[-2000:]}")
        cmd = ["install", "--no-install-recommends", *missing]
        res = _apt(cmd)
        if res.returncode != 0:
            # Stale lists (a package version vanished from the mirror): refresh once and retry.
            upd = _apt(["update"])
            res = _apt(cmd) if upd.returncode == 0 else res
        if res.returncode != 0:
            raise LabUnavailable(f"apt-get install {' '.join(missing)} failed:\n{res.stderr[-3000:]}")
    finally:
        if created_policy:
            POLICY_RC_D.unlink(missing_ok=True)
    still = missing_packages()
    if still:
        raise LabUnavailable(f"packages still missing after apt-get install: {' '.join(still)}")
    return missing
