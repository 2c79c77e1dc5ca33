"""auditor.processes: the host's process names, and unknown kept apart from "collected and empty"."""

from __future__ import annotations

from auditor.processes import PARTIAL_FACT, parse_process_names, process_names, runs
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot


def _snap(*items: CollectedItem) -> Snapshot:
    snap = Snapshot(target="test-host", transport="ssh")
    for item in items:
        snap.add(item)
    return snap


def _processes(text: str | None, status: ItemStatus = ItemStatus.OK, key: str = "cmd:processes") -> CollectedItem:
    return CollectedItem(key, "command", status, None if text is None else text.encode())


def test_parse_keeps_names_as_they_are() -> None:
    text = "systemd\nkthreadd\nkworker/0:1-events\nturnserver\nturnserver\n\nwith space \nrcu_exp_par_gp_kthread_worker/0\n"
    assert parse_process_names(text) == {
        "systemd", "kthreadd", "kworker/0:1-events", "turnserver", "with space ", "rcu_exp_par_gp_kthread_worker/0"}
    assert parse_process_names("x" * 65 + "\nok") == {"ok"}  # longer than any comm: not a name
    assert parse_process_names("") == frozenset()


def test_unknown_is_not_empty() -> None:
    assert process_names(_snap()) is None  # not collected: --root, an older collector's snapshot
    assert runs(_snap(), "turnserver") is None
    for status in (ItemStatus.MISSING, ItemStatus.TOO_LARGE, ItemStatus.ERROR):
        assert process_names(_snap(_processes(None, status))) is None, status
    empty = _snap(_processes(""))
    assert process_names(empty) == frozenset()
    assert runs(empty, "turnserver") is False
    snap = _snap(_processes("systemd\nturnserver\n"))
    assert runs(snap, "turnserver") is True and runs(snap, "prosody") is False


def test_a_containers_own_list_is_not_the_hosts() -> None:
    """docker:// and kubectl:// keep each container's list under its service's name: the deployment's host
    processes stay unknown."""
    snap = _snap(_processes("turnserver\n", key="cmd:processes@web"))
    assert process_names(snap) is None and runs(snap, "turnserver") is None


def test_a_partial_list_finds_but_never_rules_out() -> None:
    """/proc mounted hidepid= without root (the collector's fact): only the auditing user's processes are
    listed, so a name that is not among them is unknown, not absent."""
    snap = _snap(_processes("sshd\nturnserver\n"))
    snap.facts[PARTIAL_FACT] = "/proc/1/comm not readable (/proc mounted hidepid=): only this user's processes listed"
    assert runs(snap, "turnserver") is True
    assert runs(snap, "prosody") is None
