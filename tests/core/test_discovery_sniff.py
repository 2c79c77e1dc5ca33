"""Roles found by content: a file whose name says nothing is sniffed, and a line that merely starts with a
component's name is not its HOCON configuration."""

from __future__ import annotations

import pytest

from auditor.discovery import Role, _role_by_content

# jicofo's own source tree (debian/install): `--root` over a checkout made it jicofo.conf, then a HOCON
# syntax error, and the audit exited 3 (incomplete)
DEBIAN_INSTALL = """jicofo/target/dependency/*      usr/share/jicofo/lib
lib/logging.properties          etc/jitsi/jicofo
jicofo.jar                      usr/share/jicofo
resources/jicofo.sh             usr/share/jicofo
"""


@pytest.mark.parametrize("text", [
    DEBIAN_INSTALL,
    "videobridge.jar usr/share/jitsi-videobridge\nvideobridge.sh usr/bin\n",
    "jibri.deb was built on the CI\njibri.service - Jibri Process\n",
    # a compose file's services are not HOCON blocks
    "services:\n    jicofo:\n        image: jitsi/jicofo\n    jvb:\n        image: jitsi/jvb\n    jibri:\n        image: x\n",
])
def test_a_line_starting_with_the_name_is_not_hocon(text: str) -> None:
    assert _role_by_content(text) is None


@pytest.mark.parametrize(("text", "role"), [
    ("jicofo {\n  xmpp { client { port = 5222 } }\n}\n", Role.JICOFO_CONF),
    ("jicofo\n{\n}\n", Role.JICOFO_CONF),
    ("# comment\njicofo.bridge.selection-strategy = SplitBridgeSelectionStrategy\n", Role.JICOFO_CONF),
    ("jicofo.authentication.enabled: true\n", Role.JICOFO_CONF),
    ("  videobridge.apis.xmpp-client.configs {\n  }\n", Role.JVB_CONF),
    ("videobridge={ http-servers { public { port = 9090 } } }\n", Role.JVB_CONF),
    ("jibri.recording.recordings-directory = /tmp\n", Role.JIBRI_CONF),
    ("jibri {\n  id = \"\"\n}\n", Role.JIBRI_CONF),
])
def test_hocon_blocks_and_assigned_paths_are_found(text: str, role: Role) -> None:
    assert _role_by_content(text) is role
