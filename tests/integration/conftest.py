"""Fixtures for tests against the lab's real hosts (see tests/lab).

    def test_something(lab_host):
        host = lab_host("hardened")          # LabHost, started once per session and shared
        ...

Hosts are named "t-<variant>" (plus "-<xdist worker>"), started on first use and all stopped at the
end of the session. Without root, or when the lab cannot start here, the tests are skipped with the
reason -- unless JITSI_LAB_REQUIRED=1 (CI), where that is an error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.lab import LabError, LabHost, LabUnavailable, down, up


def lab_required() -> bool:
    return os.environ.get("JITSI_LAB_REQUIRED") == "1"


def _not_available(reason: str) -> None:
    if lab_required():
        pytest.fail(f"JITSI_LAB_REQUIRED=1 but the lab cannot run: {reason}", pytrace=False)
    pytest.skip(f"lab not available: {reason}")


class LabPool:
    """The session's lab hosts, one per (variant, name)."""

    def __init__(self, worker: str) -> None:
        self.worker = worker
        self.hosts: dict[str, LabHost] = {}
        self.errors: dict[str, str] = {}

    def name_for(self, variant: str, name: str | None = None) -> str:
        base = name or f"t-{variant}"
        # JITSI_LAB_SUFFIX keeps two test sessions on one machine from sharing (and stopping) hosts.
        suffix = os.environ.get("JITSI_LAB_SUFFIX")
        if suffix:
            base = f"{base}-{suffix}"
        return base if self.worker == "master" else f"{base}-{self.worker}"

    def get(self, variant: str, name: str | None = None) -> LabHost:
        if os.geteuid() != 0:
            _not_available("the lab needs root")
        key = self.name_for(variant, name)
        if key in self.hosts:
            return self.hosts[key]
        if key in self.errors:  # do not retry a host that failed once in this session
            _not_available(self.errors[key])
        try:
            host = up(variant, key, verbose=False)
        except LabUnavailable as exc:
            self.errors[key] = str(exc)
            _not_available(str(exc))
            raise  # unreachable: _not_available raises
        except LabError as exc:
            self.errors[key] = f"{variant} did not start: {exc}"
            _not_available(self.errors[key])
            raise
        self.hosts[key] = host
        return host

    def release(self, name: str) -> None:
        self.hosts.pop(name, None)

    def close(self) -> list[str]:
        problems = []
        for key in list(self.hosts):
            try:
                down(key)
            except LabError as exc:
                problems.append(str(exc))
            self.hosts.pop(key, None)
        return problems


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest) -> Iterator[LabPool]:
    """The session's LabPool; prefer the `lab_host` factory."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "master")
    pool = LabPool(worker)
    yield pool
    problems = pool.close()
    if problems:
        raise LabError("lab tear-down left something behind: " + "; ".join(problems))


@pytest.fixture(scope="session")
def lab_host(lab: LabPool) -> Callable[..., LabHost]:
    """Factory: lab_host("hardened") -> LabHost (started once per session, shared by all tests)."""
    return lab.get


@pytest.fixture(scope="session")
def hardened_host(lab_host: Callable[..., LabHost]) -> LabHost:
    return lab_host("hardened")


@pytest.fixture(scope="session")
def debian_default_host(lab_host: Callable[..., LabHost]) -> LabHost:
    return lab_host("debian-default")


@pytest.fixture(scope="session")
def legacy_host(lab_host: Callable[..., LabHost]) -> LabHost:
    return lab_host("legacy-2020")


@pytest.fixture(scope="session")
def jwt_host(lab_host: Callable[..., LabHost]) -> LabHost:
    return lab_host("jwt")


@pytest.fixture(scope="session")
def docker_host(lab_host: Callable[..., LabHost]) -> LabHost:
    return lab_host("docker-style")
