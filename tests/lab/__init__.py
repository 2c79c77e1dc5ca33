"""The jitsi-audit lab: real Jitsi-like test hosts (sshd, nginx, prosody, coturn, stand-ins for
jicofo/JVB) in network, mount and PID namespaces of this machine. Needs root.

    from tests.lab import up, down
    host = up("hardened", "my-host")   # -> LabHost (connection facts, canaries, paths)
    down("my-host")

CLI: python -m tests.lab up VARIANT [--name N] | down [--name N | --all] | status | variants
"""

from .lab import down, down_all, get, health, status, up
from .model import DaemonInfo, LabError, LabHost, LabUnavailable, Listener
from .variants import VARIANTS, Variant

__all__ = [
    "VARIANTS",
    "DaemonInfo",
    "LabError",
    "LabHost",
    "LabUnavailable",
    "Listener",
    "Variant",
    "down",
    "down_all",
    "get",
    "health",
    "status",
    "up",
]
