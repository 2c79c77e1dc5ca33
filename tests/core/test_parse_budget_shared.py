"""engine.prepare_snapshot parses a target twice when the safety net finds unredacted secrets; both
builds share one parse budget (ParseBudget), so a target does not get twice the CPU it is allowed.

The CPU clock is faked: each parse costs one second of it, so the test counts parses, not time."""

from __future__ import annotations

from typing import Any

import pytest

import auditor.deployment as deployment_module
import auditor.engine as engine
from auditor.discovery import Role
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot

FILES = 10
BUDGET = 4.0  # fake seconds: the first build parses 5 files (the refusal comes once the clock is past 4)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def thread_time(self) -> float:
        return self.now


def _snapshot() -> Snapshot:
    snap = Snapshot(target="t", transport="ssh")
    for i in range(FILES):
        text = f"org.jitsi.videobridge.x{i}=1\n".encode()
        snap.add(CollectedItem(f"/srv/b{i:02d}/sip-communicator.properties", "file", ItemStatus.OK, text,
                               size=len(text), mode=0o640))
    return snap


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths parsed as JVB properties; each parse advances the fake CPU clock by one second."""
    clock, seen = _Clock(), []
    real = deployment_module._SINGLE_FILE_PARSERS[Role.JVB_PROPERTIES]

    def parse(text: str, path: str) -> Any:
        seen.append(path)
        clock.now += 1.0
        return real(text, path)

    monkeypatch.setattr(deployment_module, "time", clock)
    monkeypatch.setattr(deployment_module, "PARSE_CPU_BUDGET", BUDGET)
    monkeypatch.setitem(deployment_module._SINGLE_FILE_PARSERS, Role.JVB_PROPERTIES, parse)
    return seen


def test_one_build_parses_within_the_budget(parses: list[str]) -> None:
    dep = engine.prepare_snapshot(_snapshot()).deployment
    assert len(parses) == 5
    assert sum(p.over_budget for p in dep.of(Role.JVB_PROPERTIES)) == FILES - 5


def test_the_safety_nets_second_build_gets_what_the_first_left(
    parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: each build made its own budget, 5 + 5 parses."""
    builds: list[deployment_module.ParseBudget | None] = []
    real = deployment_module.build_deployment  # the function engine calls

    def build(snapshot: Snapshot, budget: deployment_module.ParseBudget | None = None) -> Any:
        builds.append(budget)
        return real(snapshot, budget)

    monkeypatch.setattr(engine, "build_deployment", build)
    monkeypatch.setattr(engine, "unredacted_secret_values", lambda dep: ["never-in-the-files"])
    dep = engine.prepare_snapshot(_snapshot()).deployment
    assert len(builds) == 2 and builds[0] is builds[1] is not None
    assert len(parses) == 5, "the second build parses nothing: the first spent the budget"
    skipped = dep.of(Role.JVB_PROPERTIES)
    assert len(skipped) == FILES and all(p.over_budget and "parse budget" in (p.error or "") for p in skipped)


def test_a_budget_left_over_is_used_by_the_second_build(parses: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-role count is a build's own: the second build parses the same files again, within what is
    left of the CPU."""
    monkeypatch.setattr(deployment_module, "PARSE_CPU_BUDGET", 100.0)
    monkeypatch.setattr(engine, "unredacted_secret_values", lambda dep: ["never-in-the-files"])
    dep = engine.prepare_snapshot(_snapshot()).deployment
    assert len(parses) == 2 * FILES
    assert all(p.ok for p in dep.of(Role.JVB_PROPERTIES))
