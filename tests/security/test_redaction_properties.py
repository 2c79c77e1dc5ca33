"""Property: whatever a secret looks like, no piece of it survives redaction, in every format Jitsi uses.

The lexical pass of auditor.redaction must find the value wherever the format would read it: quoted
in Lua/HOCON/JS/JSON (any character but the quote), unquoted to the end of the line in properties,
dotenv, shell, coturn, saslauthd and YAML (punctuation included: `Yb4#nQ8@`, `a,b;c`). The check is
strict: no 5-character piece of the value may remain anywhere in the redacted snapshot.

Failures found here are kept below as regression examples (`@example`).
"""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from auditor.redaction import MARKER_RE, redact_snapshot
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot

SETTINGS = settings(max_examples=150, deadline=None, database=None, derandomize=True)

# Upper case, digits and punctuation: the templates below are lower case, so a piece of the value
# found in the output came from the value.
_PUNCT = "!#$%&()*+,-./:;<=>?@[]^_{|}~"
BARE_CHARS = string.ascii_uppercase + string.digits + _PUNCT
QUOTED_CHARS = BARE_CHARS + " "

# (path, template) — `{v}` is the secret. Unquoted: the value runs to the end of the line.
BARE_FORMATS = [
    ("/etc/jitsi/videobridge/sip-communicator.properties", "org.jitsi.videobridge.xmpp.user.shard.PASSWORD={v}\n"),
    ("/etc/jitsi/jicofo/sip-communicator.properties", "org.jitsi.jicofo.auth.password: {v}\n"),
    ("/etc/jitsi/videobridge/config", '# jvb\nJVB_SECRET={v}\nJVB_OPTS="--apis=,"\n'),
    ("/etc/jitsi/jicofo/config", "export JICOFO_AUTH_PASSWORD={v}\n"),
    ("/opt/jitsi/.env", "# docker\nJICOFO_AUTH_PASSWORD={v}\nHTTP_PORT=8000\n"),
    ("/etc/turnserver.conf", "listening-port=3478\nstatic-auth-secret={v}\nrealm=x\n"),
    ("/etc/saslauthd.conf", "ldap_servers: ldap://x\nldap_bind_pw: {v}\n"),
    ("/opt/jitsi/docker-compose.yml", "services:\n  jibri:\n    environment:\n      - JIBRI_XMPP_PASSWORD={v}\n"),
    ("/opt/jitsi/compose.yml", "services:\n  jigasi:\n    environment:\n      JIGASI_XMPP_PASSWORD: {v}\n"),
]
# Quoted: any character but the quote itself (and backslash, which would escape it).
QUOTED_FORMATS = [
    ("/etc/prosody/conf.d/x.cfg.lua", 'Component "focus.x"\n    component_secret = "{v}"\n'),
    ("/etc/prosody/conf.d/y.cfg.lua", "VirtualHost \"x\"\n    external_service_secret = '{v}';\n"),
    ("/etc/prosody/conf.d/z.cfg.lua", "app_secret = [[{v}]]\n"),
    ("/etc/jitsi/jicofo/jicofo.conf", 'jicofo {{\n  xmpp: {{ client: {{ password: "{v}" }} }}\n}}\n'),
    (
        "/etc/jitsi/videobridge/jvb.conf",
        'videobridge {{ apis {{ xmpp-client {{ configs {{ shard {{ PASSWORD = "{v}" }} }} }} }} }}\n',
    ),
    ("/etc/jitsi/meet/x-config.js", "var config = {{\n    callStatsSecret: '{v}',\n}};\n"),
    ("/etc/jitsi/meet/y-config.js", 'var config = {{ "jwtSecret": "{v}" }};\n'),
]


def _redacted(path: str, text: str) -> str:
    snap = Snapshot("t", "dir")
    snap.add(CollectedItem(path, "file", ItemStatus.OK, text.encode()))
    return redact_snapshot(snap).items[path].text()


def _leaked_pieces(value: str, template: str, out: str, size: int = 5) -> list[str]:
    """Pieces of `value` in `out` that the template around it does not explain."""
    around = template.replace("{v}", "")
    pieces = {value[i : i + size] for i in range(max(1, len(value) - size + 1))}
    return sorted(p for p in pieces if p in out and p not in around and not MARKER_RE.search(p))


def _check(path: str, template: str, value: str) -> None:
    text = template.format(v=value)
    out = _redacted(path, text)
    assert MARKER_RE.search(out), out
    # The markers' own text is not the value's: a value such as "AUDIT" is a piece of every marker.
    unmarked = MARKER_RE.sub("", out)
    assert value not in unmarked, (path, value, out)
    leaked = _leaked_pieces(value, template.format(v="{v}"), unmarked)
    assert not leaked, f"{path}: pieces {leaked} of {value!r} left in {out!r}"


@st.composite
def bare_values(draw: st.DrawFn, spaces: bool) -> str:
    first = draw(st.sampled_from(string.ascii_uppercase + string.digits))
    rest = draw(st.text(BARE_CHARS + (" " if spaces else ""), min_size=5, max_size=40))
    return first + rest.rstrip() + draw(st.sampled_from(string.ascii_uppercase))


@SETTINGS
@given(st.sampled_from(BARE_FORMATS), st.booleans(), st.data())
def test_unquoted_secret_values_leave_nothing(fmt: tuple[str, str], spaces: bool, data: st.DataObject) -> None:
    shell = fmt[0].endswith("/config")  # a shell assignment cannot hold a blank unquoted
    _check(fmt[0], fmt[1], data.draw(bare_values(spaces and not shell)))


@SETTINGS
@given(st.sampled_from(QUOTED_FORMATS), st.text(QUOTED_CHARS, min_size=5, max_size=40))
@example(("/etc/jitsi/meet/x-config.js", "var config = {{ callStatsSecret: '{v}' }};\n"), "A B C D E")
@example(QUOTED_FORMATS[0], "AUDIT")  # a piece of the marker's own text
def test_quoted_secret_values_leave_nothing(fmt: tuple[str, str], value: str) -> None:
    if fmt[0].endswith("z.cfg.lua") and "]]" in value:
        value = value.replace("]]", "]X]")  # `]]` would end a Lua long string
    _check(fmt[0], fmt[1], value)


# Regressions: values the lexical pass cut short, leaving the rest of the secret in the snapshot.
@pytest.mark.parametrize(
    ("path", "template", "value"),
    [
        ("/etc/jitsi/videobridge/config", "JVB_SECRET={v}\n", "Yb4#nQ8@XX"),  # cut at '#' (debian-2020 fixture)
        ("/etc/turnserver.conf", "static-auth-secret={v}\n", "Q:W=E[R]T"),  # cut at ':' and '['
        ("/opt/jitsi/.env", "JICOFO_AUTH_PASSWORD={v}\n", "AB,CD;EF{GH}"),  # cut at ',' ';' '{'
        ("/opt/jitsi/.env", "JICOFO_AUTH_PASSWORD={v}\n", "PASS WORD!"),  # cut at the blank
        ("/etc/saslauthd.conf", "ldap_bind_pw: {v}\n", "Z9#X:Y"),
        ("/etc/prosody/conf.d/z.cfg.lua", "app_secret = [[{v}]]\n", "LONGBRACKET"),  # Lua long string
    ],
)
def test_regressions(path: str, template: str, value: str) -> None:
    _check(path, template, value)


@SETTINGS
@given(st.sampled_from(BARE_FORMATS + QUOTED_FORMATS), st.sampled_from(["true", "false", "nil", "null"]))
def test_flags_after_secret_names_are_not_secrets(fmt: tuple[str, str], literal: str) -> None:
    """`secret = true` must not turn every `true` of the snapshot into a marker (parsers would break)."""
    path, template = fmt
    if "'{v}'" in template or '"{v}"' in template or "[[{v}]]" in template:
        return  # a quoted "true" is a string value: redacting it is right
    snap = Snapshot("t", "dir")
    snap.add(CollectedItem(path, "file", ItemStatus.OK, template.format(v=literal).encode()))
    snap.add(
        CollectedItem(
            "/etc/jitsi/meet/z-config.js", "file", ItemStatus.OK, b"var config = { p2p: { enabled: true } };\n"
        )
    )
    out = redact_snapshot(snap)
    assert out.items["/etc/jitsi/meet/z-config.js"].text() == "var config = { p2p: { enabled: true } };\n"
