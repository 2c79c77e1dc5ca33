"""secrets.file_permissions counts only the redaction markers that stand outside whole-line comments,
in each format's own comment syntax."""

from __future__ import annotations

import pytest

from auditor.discovery import Role
from auditor.redaction import PEM_MARKER
from checks.secret_hygiene import live_secrets

M = "JAUDIT_REDACTED_default_8_g2"


@pytest.mark.parametrize(
    ("role", "text", "live"),
    [
        # Lua: "--" comments; "#" is not a comment in Lua, so a "#" line counts
        (Role.PROSODY_MAIN, f'--\tcomponent_secret = "{M}"\n  -- password = "{M}"\n', 0),
        (Role.PROSODY_INCLUDE, f'component_secret = "{M}" -- the jicofo component\n', 1),
        (Role.PROSODY_INCLUDE, f'# component_secret = "{M}"\n', 1),
        (Role.PROSODY_INCLUDE, f'--[[\ncomponent_secret = "{M}"\n]]\n', 1),  # block comment: counted
        # JavaScript: "//" comments
        (Role.CONFIG_JS, f"// password: '{M}',\n", 0),
        (Role.CONFIG_JS, f"    password: '{M}', // {M}\n", 2),
        (Role.CONFIG_JS, f"/*\n password: '{M}'\n*/\n", 1),
        # HOCON: "#" and "//"
        (Role.JICOFO_CONF, f'# password = "{M}"\n// password = "{M}"\npassword = "{M}"\n', 1),
        # Java properties: "#" and "!"
        (Role.JVB_PROPERTIES, f"! org.jitsi.x.PASSWORD={M}\n#org.jitsi.x.PASSWORD={M}\n", 0),
        (Role.JIGASI_PROPERTIES, f"org.jitsi.jigasi.xmpp.acc.PASS={M}\n", 1),
        # "#" formats (nginx, coturn, dotenv, files without a role); "--" and "//" are not comments there
        (Role.TURNSERVER, f"#static-auth-secret={M}\nstatic-auth-secret={M}\n", 1),
        (Role.DOCKER_ENV, f"  # JICOFO_AUTH_PASSWORD={M}\n", 0),
        (None, f"-- secret {M}\n// secret {M}\n", 2),
        # a private key block is a secret wherever the file has it
        (None, f"{PEM_MARKER}\n", 1),
        (Role.PROSODY_MAIN, "no marker at all\n", 0),
    ],
)
def test_live_secrets_skip_whole_line_comments(role: Role | None, text: str, live: int) -> None:
    assert live_secrets(text, role) == live
