from __future__ import annotations

import os

import pytest

from auditor.parsers.base import ConfigParseError
from auditor.parsers.dotenv import EnvValue, parse_dotenv
from tests.parsers.helpers import fixture, needs_reference, reference, within

PATH = "/opt/docker-jitsi-meet/.env"


def test_docker_env_values_and_lines() -> None:
    env = parse_dotenv(fixture("docker/env"), PATH)
    assert env == {
        "JICOFO_AUTH_PASSWORD": EnvValue("passw0rd", 11),
        "JVB_AUTH_PASSWORD": EnvValue("jvb pass with spaces", 14),
        "CONFIG": EnvValue("~/.jitsi-meet-cfg", 21),
        "HTTP_PORT": EnvValue("8000", 24),
        "HTTPS_PORT": EnvValue("8443", 27),
        "TZ": EnvValue("UTC", 30),
        "PUBLIC_URL": EnvValue("https://meet.example.org", 33),
        "ENABLE_AUTH": EnvValue("1", 35),
        "ENABLE_GUESTS": EnvValue("1", 36),
        "AUTH_TYPE": EnvValue("internal", 37),
        "ENABLE_LETSENCRYPT": EnvValue("0", 38),
        "ENABLE_HTTP_REDIRECT": EnvValue("", 39),
        "JVB_ADVERTISE_IPS": EnvValue("192.0.2.10", 40),
        "JIBRI_RECORDER_PASSWORD": EnvValue("multi\nline", 41),
        "PUBLIC_URL_ALIAS": EnvValue("${PUBLIC_URL}/alias", 43),  # never expanded
    }


def test_no_expansion_from_the_auditors_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JITSI_AUDIT_CANARY", "from-the-auditor")
    env = parse_dotenv("A=${JITSI_AUDIT_CANARY}\nB=$JITSI_AUDIT_CANARY\nC\n", PATH)
    assert env == {
        "A": EnvValue("${JITSI_AUDIT_CANARY}", 1),
        "B": EnvValue("$JITSI_AUDIT_CANARY", 2),
        "C": EnvValue(None, 3),  # a bare name: docker takes it from its own environment
    }
    assert os.environ["JITSI_AUDIT_CANARY"] not in str(env)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("A=1\nnot an assignment\n", 2, "not a KEY=value line"),
        ("A=1\n\n\nB='unterminated\nC=3\n", 4, "not a KEY=value line"),
        ("A=x" + " " * 100 + "y\n", 1, "blanks in a row"),
    ],
)
def test_errors_carry_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigParseError) as err:
        parse_dotenv(text, PATH)
    assert err.value.line == line
    assert fragment in err.value.message


def test_bounds() -> None:
    with pytest.raises(ConfigParseError, match="too large"):
        parse_dotenv("A=1\n" * 200_000, PATH)
    # the worst case python-dotenv's inline-comment regex allows within our limits stays fast
    text = ("A=x" + (" " * 64 + "y") * 100 + "\n") * 80
    with within(2.0):
        parse_dotenv(text, PATH)
    with pytest.raises(ConfigParseError, match="UTF-8"):
        parse_dotenv("A=caf\udce9\n", PATH)


@needs_reference
def test_real_env_example() -> None:
    env = parse_dotenv(reference("docker-jitsi-meet/env.example"), "env.example")
    assert env["HTTP_PORT"].value == "8000"
    assert env["JICOFO_AUTH_PASSWORD"].value == ""
