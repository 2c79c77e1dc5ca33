"""jvb.websocket_tls and jvb.stun_mapping when the deployment's own names cannot be read.

The own names come from prosody (its VirtualHosts) and config.js (hosts.domain, the BOSH and websocket
URLs) or the docker .env. With all of them unusable no name is known: the bridge's websocket domain (or
STUN server) cannot be compared with anything, and a pass there would rest on files that were not read.
With none of them in the deployment at all (a bridge-only host) there is nothing more to read: TLS alone
decides, as before.
"""

from __future__ import annotations

import pytest

from auditor.model import Status
from tests.checks.base import CONFIG_JS, JVB, PROSODY_MAIN, PROSODY_SITE, D, base_files, findings, snapshot

NAMING_FILES = (PROSODY_MAIN, PROSODY_SITE, CONFIG_JS)  # the files that name the deployment's domains


def _other_domain(files: dict[str, str]) -> dict[str, str]:
    assert f'domain = "{D}:443"' in files[JVB]
    return {**files, JVB: files[JVB].replace(f'domain = "{D}:443"', 'domain = "bridge.example.net:443"', 1)}


@pytest.mark.parametrize("own_domain", [True, False], ids=["own-domain", "other-domain"])
def test_websocket_domain_is_unclear_when_no_file_naming_the_domains_was_read(own_domain: bool) -> None:
    files = base_files() if own_domain else _other_domain(base_files())
    found = findings(snapshot(files, denied=NAMING_FILES))["jvb.websocket_tls"]
    assert found.status is Status.UNCLEAR, found.message
    assert "cannot tell" in found.message and any(path in found.message for path in NAMING_FILES), found.message


def test_websocket_domain_is_judged_as_before_when_the_names_are_read() -> None:
    assert findings(snapshot(base_files()))["jvb.websocket_tls"].status is Status.PASS
    found = findings(snapshot(_other_domain(base_files())))["jvb.websocket_tls"]
    assert found.status is Status.FAIL and "bridge.example.net" in found.message, found.message


def test_a_bridge_only_host_passes_on_tls() -> None:
    """No prosody, no config.js collected (nothing unread): no name to compare with, TLS decides."""
    files = {JVB: _other_domain(base_files())[JVB]}
    found = findings(snapshot(files))["jvb.websocket_tls"]
    assert found.status is Status.PASS, found.message
    off = {JVB: files[JVB].replace("tls = true", "tls = false", 1)}
    assert findings(snapshot(off))["jvb.websocket_tls"].status is Status.FAIL


def test_websocket_without_tls_fails_whatever_was_read() -> None:
    files = base_files()
    files[JVB] = files[JVB].replace("tls = true", "tls = false", 1)
    found = findings(snapshot(files, denied=NAMING_FILES))["jvb.websocket_tls"]
    assert found.status is Status.FAIL and "ws://" in found.message, found.message


def test_stun_mapping_is_unclear_in_the_same_case() -> None:
    """The sibling check that already did so: the two agree."""
    found = findings(snapshot(base_files(), denied=NAMING_FILES))["jvb.stun_mapping"]
    assert found.status is Status.UNCLEAR, found.message
