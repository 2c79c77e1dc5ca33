"""Compose files that were not read (permission denied, not YAML, past the compose bound) and a .env
left unparsed: their images are unknown, so no vuln.* check passes on the other versions, and the
unclear verdict names the files."""

from __future__ import annotations

import pytest

from auditor.advisories import docker as docker_module
from auditor.model import Status
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot

from .helpers import dpkg, snapshot
from .test_checks import CURRENT, VULN_IDS, _audit

PINNED = (  # no prosody image: Prosody's version comes from prosodyctl, so every vuln.* check can pass
    "services:\n"
    "    web:\n        image: jitsi/web:${JITSI_IMAGE_VERSION:-stable-10590}\n"
    "    jicofo:\n        image: jitsi/jicofo:${JITSI_IMAGE_VERSION:-stable-10590}\n"
)
COMPOSE = "/srv/jitsi/docker-compose.yml"


def _verdicts(snap: Snapshot) -> dict[str, tuple[Status, str]]:
    return {f.check_id: (f.status, f.message) for f in _audit(snap).findings}


def _denied(snap: Snapshot, path: str) -> Snapshot:
    snap.add(CollectedItem(path, "file", ItemStatus.PERMISSION_DENIED, None, mode=0o600, error="permission denied"))
    return snap


def _none_passes(found: dict[str, tuple[Status, str]], *names: str) -> None:
    for check_id in VULN_IDS:
        status, message = found[check_id]
        assert status is Status.UNCLEAR, (check_id, status, message)
        assert all(name in message for name in names), (check_id, message)


def test_the_installed_packages_alone_pass() -> None:
    assert all(s is Status.PASS for s, _ in _verdicts(snapshot(dpkg_output=CURRENT)).values())
    pinned = snapshot({COMPOSE: PINNED, "/srv/jitsi/.env": "ENABLE_AUTH=1\n"}, prosodyctl="Prosody 13.0.5\n")
    assert all(s is Status.PASS for s, _ in _verdicts(pinned).values())


def test_an_unreadable_compose_file_leaves_every_verdict_unclear() -> None:
    """Was: pass on the dpkg packages, the compose file only in a note."""
    found = _verdicts(_denied(snapshot(dpkg_output=CURRENT), COMPOSE))
    _none_passes(found, COMPOSE, "permission denied")


def test_a_compose_file_that_is_not_yaml_leaves_every_verdict_unclear() -> None:
    found = _verdicts(snapshot({COMPOSE: "services: [web\n  image: jitsi/web:stable-10590\n"}, dpkg_output=CURRENT))
    _none_passes(found, COMPOSE, "not readable as compose")


def test_an_unreadable_sibling_yml_leaves_every_verdict_unclear() -> None:
    """jibri.yml beside docker-compose.yml names the jibri image; unreadable, it was skipped silently."""
    snap = snapshot({COMPOSE: PINNED, "/srv/jitsi/.env": "ENABLE_AUTH=1\n"}, prosodyctl="Prosody 13.0.5\n")
    _none_passes(_verdicts(_denied(snap, "/srv/jitsi/jibri.yml")), "/srv/jitsi/jibri.yml")


def test_compose_files_past_the_bound_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_module, "MAX_COMPOSE_FILES", 1)
    files = {COMPOSE: PINNED, "/srv/other/docker-compose.yml": PINNED}
    _none_passes(_verdicts(snapshot(files, prosodyctl="Prosody 13.0.5\n")), "/srv/other/docker-compose.yml")


def test_a_compose_default_is_not_taken_when_the_env_was_not_read() -> None:
    """The .env may set JITSI_IMAGE_VERSION: unreadable, the compose default (a release) is no evidence.
    Was: vuln.e2ee_fixes passed on stable-10590."""
    snap = _denied(snapshot({COMPOSE: PINNED}, prosodyctl="Prosody 13.0.5\n"), "/srv/jitsi/.env")
    _none_passes(_verdicts(snap), "/srv/jitsi/.env")


def test_a_readable_compose_beside_packages_still_passes() -> None:
    snap = snapshot({COMPOSE: PINNED, "/srv/jitsi/.env": "JITSI_IMAGE_VERSION=stable-10590\n"},
                    dpkg_output=dpkg(("prosody", "13.0.5-1~bookworm1")))
    assert all(s is Status.PASS for s, _ in _verdicts(snap).values())
