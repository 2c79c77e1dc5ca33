from __future__ import annotations

import os

import pytest

from auditor.parsers.base import ConfigParseError
from auditor.parsers.hocon import HoconInclude, parse_hocon, split_path
from tests.parsers.helpers import fixture, needs_reference, reference, within

JICOFO = "/etc/jitsi/jicofo/jicofo.conf"
JVB = "/etc/jitsi/videobridge/jvb.conf"


def test_jicofo_with_authentication() -> None:
    doc = parse_hocon(fixture("hocon/jicofo.conf"), JICOFO)
    assert doc.get("jicofo.authentication.enabled") is True
    assert doc.get("jicofo.authentication.type") == "XMPP"
    assert doc.get("jicofo.authentication.login-url") == "meet.example.org"
    assert doc.get("jicofo.authentication.authentication-lifetime") == "24 hours"  # a duration, as written
    assert doc.get("jicofo.xmpp.client.password") == "Jk8sFocusPassword"
    assert doc.get("jicofo.xmpp.trusted-domains") == ["recorder.meet.example.org"]
    assert doc.get("jicofo.rest.port") == 8888
    assert doc.get("jicofo.jibri.pending-timeout") == "90 seconds"
    assert doc.get('jicofo."sctp.enabled"') is False
    assert doc.get("jicofo.sctp.enabled") is False  # the dotted spelling finds the quoted key too
    assert doc.get("jicofo.nothing.here") is None
    assert doc.line_of("jicofo.authentication.enabled") == 5
    assert doc.line_of("jicofo.authentication") == 4
    assert doc.line_of("jicofo.xmpp.client.password") == 16
    assert doc.line_of("jicofo.rest.host") == 25
    assert doc.line_of('jicofo."sctp.enabled"') == 28
    assert doc.line_of("jicofo.sctp.enabled") == 28
    assert doc.line_of("jicofo.missing") is None
    assert doc.includes == [] and doc.unresolved == []


def test_jvb_dotted_keys_and_blocks() -> None:
    doc = parse_hocon(fixture("hocon/jvb.conf"), JVB)
    assert doc.get("videobridge.http-servers.private.host") == "127.0.0.1"
    assert doc.get("videobridge.apis.rest.enabled") is False
    assert doc.get("videobridge.stats.interval") == "5 seconds"
    assert doc.get("videobridge.apis.xmpp-client.configs.shard.PASSWORD") == "Vb7qJvbPassword"
    assert doc.get("ice4j.harvest.mapping.stun.addresses") == ["meet-jit-si-turnrelay.jitsi.net:443"]
    assert doc.get("ice4j.harvest.mapping.aws.enabled") is False
    assert doc.line_of("videobridge.http-servers.private.host") == 7
    assert doc.line_of("videobridge.apis.rest.enabled") == 15  # `a.b.c = …` form
    assert doc.line_of("videobridge.apis.xmpp-client.configs.shard.DISABLE_CERTIFICATE_VERIFICATION") == 27
    assert doc.line_of("ice4j.harvest.mapping.aws.enabled") == 39
    # merged objects: the last place a key is set wins
    merged = parse_hocon("a { b = 1 }\na { c = 2 }\na.b = 3\n", "m.conf")
    assert merged.data == {"a": {"b": 3, "c": 2}}
    assert merged.line_of("a.b") == 3 and merged.line_of("a.c") == 2


def test_substitutions_never_read_the_auditors_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JITSI_AUDIT_CANARY", "from-the-auditor")
    text = (
        "a = ${JITSI_AUDIT_CANARY}\n"
        "b = ${?JITSI_AUDIT_CANARY}\n"
        "c = ${HOME}/x\n"
        'PATH = ${PATH}":/extra"\n'
        "d = ${e.f}\n"
        "e { f = 10 }\n"
        "g = ${?nothing}\n"
    )
    doc = parse_hocon(text, "env.conf")
    assert doc.data == {
        "a": "${JITSI_AUDIT_CANARY}",
        "c": "${HOME}/x",
        "PATH": "${PATH}:/extra",
        "d": 10,
        "e": {"f": 10},
    }
    assert doc.unresolved == ["HOME", "JITSI_AUDIT_CANARY", "PATH"]
    assert os.environ["JITSI_AUDIT_CANARY"] not in str(doc.data)


def test_includes_are_recorded_and_never_followed(tmp_path: object) -> None:
    text = (
        'include "/etc/passwd"\n'
        "a = 1\n"
        'include url("http://127.0.0.1:9/evil.conf")\n'
        "b {\n"
        '  include required(file("/etc/shadow"))\n'
        "  c = 2\n"
        "}\n"
        'INCLUDE classpath("reference.conf")\n'
        'd = [ include "https://example.org/x.conf" ]\n'
        'include = "a key named include"\n'
    )
    with within(2.0):  # no network round trip was attempted
        doc = parse_hocon(text, "inc.conf")
    assert doc.includes == [
        HoconInclude("/etc/passwd", "file", False, 1),
        HoconInclude("http://127.0.0.1:9/evil.conf", "url", False, 3),
        HoconInclude("/etc/shadow", "file", True, 5),
        HoconInclude("reference.conf", "classpath", False, 8),
        HoconInclude("https://example.org/x.conf", "url", False, 9),
    ]
    assert doc.data == {"a": 1, "b": {"c": 2}, "d": [], "include": "a key named include"}
    assert "root:" not in str(doc.data)
    assert doc.line_of("b.c") == 6


def test_docker_go_templates_fail_cleanly() -> None:
    text = '{{ $ENABLE_AUTH := .Env.ENABLE_AUTH | default "0" -}}\njicofo {\n}\n'
    with pytest.raises(ConfigParseError, match="Go template") as err:
        parse_hocon(text, "/defaults/jicofo.conf")
    assert err.value.line == 1
    with pytest.raises(ConfigParseError, match="Go template") as err:
        parse_hocon("jicofo {\n  a = 1\n  {{ if .Env.X }}\n}\n", "t.conf")
    assert err.value.line == 3


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a {\n  b = 1\n", 3),
        ("a = 1\nb = [1, 2\nc = 3\n", 3),
        ('a = "unterminated\nb = 1\n', 1),
        ("a { b = 1 } }\n", 1),
    ],
)
def test_syntax_errors_carry_the_line(text: str, line: int) -> None:
    with pytest.raises(ConfigParseError) as err:
        parse_hocon(text, "bad.conf")
    assert err.value.line == line
    assert len(err.value.message) < 200


def test_bounds() -> None:
    with pytest.raises(ConfigParseError, match="nested deeper"):
        parse_hocon("a = " + "{ b = " * 100 + "1" + " }" * 100, "deep.conf")
    with pytest.raises(ConfigParseError, match="nested deeper"):
        parse_hocon("a = " + "[" * 5000, "deep.conf")
    with pytest.raises(ConfigParseError, match="too large"):
        parse_hocon("a = 1\n" * 60_000, "big.conf")
    with pytest.raises(ConfigParseError, match="not an object"):
        parse_hocon("[1, 2]", "list.conf")
    broken = "a = 1\nb = \udcff\n"
    with pytest.raises(ConfigParseError, match="UTF-8") as err:
        parse_hocon(broken, "latin1.conf")
    assert err.value.line == 2


# The deadline's exception may land in a gc callback (hypothesis installs one), which reports it as
# unraisable and goes on; the watcher raises again and the parse is still rejected (parsers/base.py).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_deadline_stops_a_slow_parse() -> None:
    text = "".join(f"k{i} = v{i}\n" for i in range(4000))
    with within(1.0), pytest.raises(ConfigParseError, match="longer than"):
        parse_hocon(text, "slow.conf", max_seconds=0.05)
    assert parse_hocon("a = 1", "ok.conf").data == {"a": 1}  # pyparsing left in a usable state


def test_split_path() -> None:
    assert split_path('a."b.c".d') == ("a", "b.c", "d")
    assert split_path("a.b") == ("a", "b")
    assert split_path('"x\\"y"') == ('x"y',)


@needs_reference
@pytest.mark.parametrize(
    ("name", "key", "value"),
    [
        ("jicofo/jicofo-common/src/main/resources/reference.conf", "jicofo.xmpp.client.use-tls", True),
        ("jitsi-videobridge/jvb/src/main/resources/reference.conf", "videobridge.apis.rest.enabled", False),
        ("jibri/src/main/resources/reference.conf", "jibri.api.http.external-api-port", 2222),
    ],
)
def test_real_reference_files_parse(name: str, key: str, value: object) -> None:
    doc = parse_hocon(reference(name), name)
    assert doc.get(key) == value
    assert doc.line_of(key) is not None


def test_parses_from_several_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    text = fixture("hocon/jicofo.conf")

    def one(i: int) -> object:
        if i % 3 == 0:
            with pytest.raises(ConfigParseError):
                parse_hocon("a {\n", "broken.conf")
            return None
        return parse_hocon(text, f"/etc/jitsi/jicofo/{i}.conf").get("jicofo.rest.port")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(12)))
    assert results == [None if i % 3 == 0 else 8888 for i in range(12)]


def test_pyhocon_loaders_refuse_if_an_include_ever_got_through() -> None:
    from auditor.parsers._hocon_pyhocon import _run_pyhocon, _sandboxed_pyhocon

    with _sandboxed_pyhocon([]), pytest.raises(ConfigParseError, match="refused"):
        _run_pyhocon('include "/etc/passwd"\n', "backstop.conf")
    with _sandboxed_pyhocon([]), pytest.raises(ConfigParseError, match="refused"):
        _run_pyhocon('include url("http://127.0.0.1:9/x")\n', "backstop.conf")


def test_pyhocon_is_imported_only_when_a_hocon_file_is_parsed() -> None:
    import subprocess
    import sys

    code = ("import sys, auditor.deployment, auditor.engine\n"
            "before = 'pyhocon' in sys.modules or 'pyparsing' in sys.modules\n"
            "from auditor.parsers.hocon import parse_hocon\n"
            "assert parse_hocon('a { b = 1 }', 'x.conf').get('a.b') == 1\n"
            "print(before, 'pyhocon' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "True"]
