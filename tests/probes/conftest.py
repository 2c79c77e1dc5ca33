"""Fixtures of the probe tests: one loopback lab (nginx + prosody) per test session; loopback TCP servers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.lab import LabHost
from tests.loopback import Handler, Server
from tests.probes.servers import ProbeLab, start_probe_lab

HostFactory = Callable[[str], LabHost]


def lab_hosts_fixture(prefix: str) -> Callable[[], Iterator[HostFactory]]:
    """A module-scoped `lab_hosts` fixture: lab hosts by variant, named `<prefix>-<variant>`, started on
    first use and stopped when the module ends (assign it to `lab_hosts` in the test module)."""

    @pytest.fixture(scope="module")
    def lab_hosts() -> Iterator[HostFactory]:
        from tests.integration.conftest import LabPool

        pool = LabPool(os.environ.get("PYTEST_XDIST_WORKER", "master"))
        yield lambda variant: pool.get(variant, f"{prefix}-{variant}")
        pool.close()

    return lab_hosts


@pytest.fixture(scope="session")
def probe_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbeLab]:
    if os.geteuid() != 0:
        pytest.skip("the probe lab needs root (ports below 1024, nginx and prosody as root)")
    try:
        lab = start_probe_lab(tmp_path_factory.mktemp("probe-lab"))
    except (FileNotFoundError, PermissionError) as exc:
        pytest.skip(str(exc))
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture()
def serve() -> Iterator[Callable[[Handler], Server]]:
    servers: list[Server] = []

    def start(handler: Handler) -> Server:
        servers.append(Server(handler))
        return servers[-1]

    yield start
    for s in servers:
        s.close()
