"""Fixtures of the security suite.

Lab hosts are this suite's own (`sec-<variant>`, plus the xdist worker), so a concurrent session
of the integration tests (`t-<variant>`) can neither stop them nor be stopped by this one. They stay
up for the whole session and are stopped at its end: no test ever probes an address whose host is
down (its route would be gone and packets would leave the machine).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.integration.conftest import LabPool
from tests.lab import LabError, LabHost

SecHost = Callable[[str], LabHost]


@pytest.fixture(scope="session")
def sec_lab() -> Iterator[LabPool]:
    pool = LabPool(os.environ.get("PYTEST_XDIST_WORKER", "master"))
    yield pool
    problems = pool.close()
    if problems:
        raise LabError("lab tear-down left something behind: " + "; ".join(problems))


@pytest.fixture(scope="session")
def sec_host(sec_lab: LabPool) -> SecHost:
    """Factory: sec_host("hardened") -> LabHost named sec-hardened (started once per session)."""

    def get(variant: str) -> LabHost:
        return sec_lab.get(variant, f"sec-{variant}")

    return get
