"""Which programs run on the host: the command names of its processes, from /proc/<pid>/comm (collected by
remote_collector.sh as command `processes`, one name a line).

The host's PID namespace holds every process, those of containers with a network namespace of their own
included, whose sockets the host's `ss` does not show (auditor.listeners): a name here says the program
runs even where no listener does. Names only (the executable's, at most 15 bytes): never arguments.
"""

from __future__ import annotations

from auditor.collect.plan import CMD_PROCESSES
from auditor.snapshot import Snapshot

MAX_NAME = 64  # the collector drops longer lines; the kernel's comm is at most 15 bytes (escaped: more)
# Set by the collector when /proc/1/comm cannot be read: /proc mounted hidepid= and no root, the list holds
# only the auditing user's own processes.
PARTIAL_FACT = "processes.partial"


def parse_process_names(text: str) -> frozenset[str]:
    """The distinct names of the collected list (empty and over-long lines ignored)."""
    return frozenset(line for line in text.split("\n") if line and len(line) <= MAX_NAME)


def process_names(snapshot: Snapshot) -> frozenset[str] | None:
    """The command names of the host's processes; None when they were not collected: a --root directory
    audit, a snapshot from a collector before version 4, a host without /proc, and docker:// and kubectl://
    targets, whose containers each list only their own (`cmd:processes@<service>`). An empty set is a list
    collected empty."""
    item = snapshot.command(CMD_PROCESSES)
    if item is None or not item.ok:
        return None
    return parse_process_names(item.text())


def runs(snapshot: Snapshot, name: str) -> bool | None:
    """True when a process named `name` runs on the host; False when none does; None when unknown: not
    collected, or not among a partial list (without root on a /proc mounted hidepid=, only the auditing
    user's own processes are listed: another user's may run unseen)."""
    names = process_names(snapshot)
    if names is None:
        return None
    if name in names:
        return True
    return None if PARTIAL_FACT in snapshot.facts else False
