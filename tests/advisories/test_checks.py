"""The vuln.* checks and the criteria they rate, on snapshots with inline dpkg-query output."""

from __future__ import annotations

import pytest

from auditor.advisories.data import bundled_path, load_file
from auditor.criteria import load_profile
from auditor.engine import TargetResult, audit_snapshot
from auditor.model import Rating, Status
from auditor.registry import all_checks
from auditor.snapshot import Snapshot

from .helpers import COMPOSE, PROSODYCTL_ABOUT, dpkg, snapshot

BUNDLED = load_file(bundled_path())

CURRENT = dpkg(
    ("jitsi-meet", "2.0.10590-1"),
    ("jitsi-meet-web", "1.0.8877-1"),
    ("jitsi-meet-web-config", "1.0.8877-1"),
    ("jitsi-meet-prosody", "1.0.8877-1"),
    ("jicofo", "1.0-1162-1"),
    ("jitsi-videobridge2", "2.3-259-g22868ff7d-1"),
    ("prosody", "13.0.5-1~bookworm1"),
    ("nginx", "1.22.1-9"),
)
HOST_2020 = dpkg(
    ("jitsi-meet", "2.0.4627-1"),
    ("jitsi-meet-web", "1.0.4127-1"),
    ("jitsi-meet-prosody", "1.0.4127-1"),
    ("jicofo", "1.0-589-1"),
    ("jitsi-videobridge2", "2.1-202-g5f9377b9b-1"),
    ("prosody", "0.11.4-1"),
)
VULN_IDS = ("vuln.known_advisories", "vuln.minor_advisories", "vuln.prosody_version", "vuln.e2ee_fixes")


def _audit(snap: Snapshot) -> TargetResult:
    profile = load_profile("default")
    checks = [c for c in all_checks(profile.criterion_ids, with_plugins=False) if c.id.startswith("vuln.")]
    assert sorted(c.id for c in checks) == sorted(VULN_IDS)
    return audit_snapshot(snap, profile, checks)


def _status(result: TargetResult) -> dict[str, Status]:
    return {f.check_id: f.status for f in result.findings}


def _finding(result: TargetResult, check_id: str) -> tuple[Status, str, list[str]]:
    f = next(f for f in result.findings if f.check_id == check_id)
    return f.status, f.message, [str(e.location) + " " + (e.excerpt or "") for e in f.evidence]


def _rating(result: TargetResult, criterion: str) -> Rating:
    return next(c.rating for c in result.criteria if c.id == criterion)


def test_current_debian_host_passes_everything() -> None:
    result = _audit(snapshot(dpkg_output=CURRENT))
    assert _status(result) == {
        "vuln.known_advisories": Status.PASS,
        "vuln.minor_advisories": Status.PASS,
        "vuln.prosody_version": Status.PASS,
        "vuln.e2ee_fixes": Status.PASS,
    }
    _, message, evidence = _finding(result, "vuln.known_advisories")
    assert "jitsi-meet 2.0.10590-1" in message and f"advisory data {BUNDLED.version} (bundled)" in message
    assert "cmd:dpkg-query:1 jitsi-meet 2.0.10590-1" in evidence
    assert "nginx" not in message
    assert _rating(result, "vuln.nvd_2019") is Rating.FULLY
    assert _rating(result, "vuln.nvd_2020") is Rating.FULLY
    assert _rating(result, "enc.scrutiny") is Rating.PARTIALLY


def test_a_2020_host_fails_with_the_advisory_ids() -> None:
    result = _audit(snapshot(dpkg_output=HOST_2020))
    status, message, evidence = _finding(result, "vuln.known_advisories")
    assert status is Status.FAIL
    assert "(highest critical)" in message
    for advisory in ("JSA-2021-0002/CVE-2021-39215 high", "JSA-2021-0004 critical", "JSA-2022-0002 critical",
                     "CVE-2021-32918 high"):  # fmt: skip
        assert advisory in message
    assert "JSA-2021-0003" not in message  # low: the other check
    assert any(e.startswith("cmd:dpkg-query:4 jicofo 1.0-589-1") for e in evidence)
    status, message, _ = _finding(result, "vuln.minor_advisories")
    assert status is Status.FAIL and "JSA-2021-0003" in message and "JSA-2022-0002" not in message
    assert _finding(result, "vuln.prosody_version")[0] is Status.FAIL
    status, message, _ = _finding(result, "vuln.e2ee_fixes")
    assert status is Status.FAIL and "JSA-2022-0001" in message and "JSA-2022-0004" in message
    assert _rating(result, "vuln.nvd_2019") is Rating.NO
    assert _rating(result, "enc.scrutiny") is Rating.NO


def test_only_low_and_medium_advisories_rate_partially() -> None:
    rows = dpkg(("jitsi-meet", "2.0.9753-1"), ("jicofo", "1.0-1133-1"), ("prosody", "13.0.5-1"))
    result = _audit(snapshot(dpkg_output=rows))
    assert _status(result)["vuln.known_advisories"] is Status.PASS
    status, message, _ = _finding(result, "vuln.minor_advisories")
    assert status is Status.FAIL and "JSA-2024-0002" in message and "(highest low)" in message
    assert _rating(result, "vuln.nvd_2020") is Rating.PARTIALLY


def test_web_packages_of_the_fixed_release_are_no_false_positive() -> None:
    rows = dpkg(("jitsi-meet-web", "1.0.5056-1"), ("jitsi-meet-prosody", "1.0.5056-1"))
    result = _audit(snapshot(dpkg_output=rows))
    status, message, _ = _finding(result, "vuln.known_advisories")
    assert status is Status.PASS and "JSA-2021-0002" not in message
    status, message, _ = _finding(result, "vuln.minor_advisories")
    assert status is Status.FAIL and "JSA-2021-0001" not in message and "JSA-2021-0003" in message
    # no Prosody package: the criteria cannot be rated Fully
    assert _finding(result, "vuln.prosody_version")[0] is Status.UNCLEAR


def test_configuration_only_audit_has_no_version_evidence_and_says_so() -> None:
    # every component's configuration (a jicofo-only host has no Prosody or web version to judge)
    result = _audit(snapshot({"/etc/jitsi/jicofo/jicofo.conf": "jicofo {}\n",
                              "/etc/prosody/prosody.cfg.lua": 'VirtualHost "meet.example.org"\n',
                              "/etc/jitsi/meet/meet.example.org-config.js": "var config = { hosts: {} };\n"}))
    status, message, _ = _finding(result, "vuln.known_advisories")
    assert status is Status.UNCLEAR
    assert "no dpkg-query output was collected" in message and "--root" in message
    for check_id in ("vuln.minor_advisories", "vuln.prosody_version", "vuln.e2ee_fixes"):
        assert _finding(result, check_id)[0] is Status.UNCLEAR
    assert _rating(result, "vuln.nvd_2019") is Rating.UNCLEAR
    assert _rating(result, "enc.scrutiny") is Rating.UNCLEAR


def test_dpkg_without_jitsi_packages_and_removed_packages() -> None:
    rows = dpkg(("nginx", "1.22.1-9"), ("jicofo", "1.0-589-1", "rc "))  # removed, config files left
    status, message, _ = _finding(_audit(snapshot(dpkg_output=rows)), "vuln.known_advisories")
    assert status is Status.UNCLEAR and "lists no Jitsi or Prosody package" in message


def test_distribution_prosody_is_unclear_not_failed() -> None:
    rows = dpkg(("jitsi-meet", "2.0.10590-1"), ("prosody", "0.11.9-2+deb11u2"))
    result = _audit(snapshot(dpkg_output=rows))
    status, message, _ = _finding(result, "vuln.prosody_version")
    assert status is Status.UNCLEAR and "backported fix" in message and "CVE-2021-37601" in message
    assert _status(result)["vuln.known_advisories"] is Status.UNCLEAR
    assert _rating(result, "vuln.nvd_2019") is Rating.UNCLEAR


def test_prosodyctl_about_gives_the_prosody_version() -> None:
    result = _audit(snapshot(prosodyctl=PROSODYCTL_ABOUT))
    status, message, evidence = _finding(result, "vuln.prosody_version")
    assert status is Status.FAIL and "CVE-2026-43506" in message
    assert evidence == ["cmd:prosodyctl-about:1 Prosody 0.12.4"]


@pytest.mark.parametrize(
    ("env", "known", "e2ee"),
    [
        ("JITSI_IMAGE_VERSION=stable-10590\n", Status.UNCLEAR, Status.PASS),  # Prosody inside the image unknown
        ("JITSI_IMAGE_VERSION=stable-7001\n", Status.FAIL, Status.FAIL),
        ("ENABLE_AUTH=1\n", Status.UNCLEAR, Status.UNCLEAR),  # compose default: unstable
        ("JITSI_IMAGE_VERSION=latest\n", Status.UNCLEAR, Status.UNCLEAR),
        ("JITSI_IMAGE_VERSION\n", Status.UNCLEAR, Status.UNCLEAR),  # from the shell
    ],
)
def test_docker_deployments(env: str, known: Status, e2ee: Status) -> None:
    files = {"/srv/jitsi/docker-compose.yml": COMPOSE, "/srv/jitsi/.env": env}
    result = _audit(snapshot(files))
    assert _status(result)["vuln.known_advisories"] is known
    assert _status(result)["vuln.e2ee_fixes"] is e2ee
    _, message, evidence = _finding(result, "vuln.e2ee_fixes")
    assert "/srv/jitsi/docker-compose.yml:3 image: jitsi/web:${JITSI_IMAGE_VERSION:-unstable}" in evidence
    if "stable-7001" in env:
        _, message, evidence = _finding(result, "vuln.known_advisories")
        assert "JSA-2022-0002" in message and "jitsi/jicofo:stable-7001" in message
        assert "/srv/jitsi/.env:1 JITSI_IMAGE_VERSION=stable-7001" in evidence
        assert _rating(result, "vuln.nvd_2019") is Rating.NO
    if env.startswith("ENABLE_AUTH"):
        assert "jitsi/web:unstable" in message and "JITSI_IMAGE_VERSION is not set" in message
    if env.startswith("JITSI_IMAGE_VERSION\n"):
        assert "shell environment" in message


def test_unusable_advisory_data_makes_the_checks_unclear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JITSI_AUDIT_ADVISORIES", "/nonexistent/advisories.json")
    result = _audit(snapshot(dpkg_output=CURRENT))
    status, message, _ = _finding(result, "vuln.known_advisories")
    assert status is Status.UNCLEAR and "advisory data is unusable" in message


def test_the_version_inventory_is_built_once_per_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    import checks.versions as versions
    from auditor.advisories.matching import Inventory, deployment_inventory
    from auditor.deployment import Deployment

    built: list[Deployment] = []

    def counting(dep: Deployment) -> Inventory:
        built.append(dep)
        return deployment_inventory(dep)

    monkeypatch.setattr(versions, "deployment_inventory", counting)
    first, second = _audit(snapshot(dpkg_output=HOST_2020)), _audit(snapshot(dpkg_output=CURRENT))
    assert len(built) == 2 and built[0] is not built[1], "one inventory per deployment, for all four checks"
    assert _status(first)["vuln.known_advisories"] is Status.FAIL
    assert _status(second)["vuln.known_advisories"] is Status.PASS
