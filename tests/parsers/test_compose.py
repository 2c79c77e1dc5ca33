from __future__ import annotations

import pytest

from auditor.parsers.base import ConfigParseError
from auditor.parsers.compose import ComposePort, parse_compose
from tests.parsers.helpers import fixture, needs_reference, reference, within

PATH = "/opt/docker-jitsi-meet/docker-compose.yml"


def test_services_ports_environment_volumes() -> None:
    compose = parse_compose(fixture("docker/docker-compose.yml"), PATH)
    assert list(compose.services) == ["web", "prosody", "jvb"]
    web = compose.services["web"]
    assert web.image == "${JITSI_IMAGE_REPO:-jitsi}/web:${JITSI_IMAGE_VERSION:-stable-9753}"
    assert web.line == 3
    assert web.ports == [
        ComposePort(None, "${HTTP_PORT}", "80", "tcp", "${HTTP_PORT}:80"),
        ComposePort(None, "${HTTPS_PORT}", "443", "tcp", "${HTTPS_PORT}:443"),
    ]
    assert web.environment == {"ENABLE_AUTH": None, "ENABLE_GUESTS": None, "PUBLIC_URL": None, "TZ": None}
    assert web.volumes == ["${CONFIG}/web:/config:Z", "${CONFIG}/web/crontabs:/var/spool/cron/crontabs:Z"]
    prosody = compose.services["prosody"]
    assert prosody.line == 21 and prosody.ports == []
    # environment values as written: YAML 1.1 would make 22:22 the integer 1342
    assert prosody.environment == {
        "AUTH_TYPE": "internal",
        "ENABLE_AUTH": "1",
        "LDAP_BINDPW": None,
        "XMPP_PORT": "22:22",
    }
    assert prosody.raw["expose"] == ["5222", "5347"]
    jvb = compose.services["jvb"]
    assert jvb.line == 37
    assert jvb.ports == [
        ComposePort(
            None, "${JVB_PORT:-10000}", "${JVB_PORT:-10000}", "udp", "${JVB_PORT:-10000}:${JVB_PORT:-10000}/udp"
        ),
        ComposePort(
            "127.0.0.1", "${JVB_COLIBRI_PORT:-8080}", "8080", "tcp", "127.0.0.1:${JVB_COLIBRI_PORT:-8080}:8080"
        ),
        ComposePort("0.0.0.0", "9090", "9090", "tcp", "0.0.0.0:9090:9090"),
    ]
    assert jvb.volumes == ["${CONFIG}/jvb:/config:ro"]
    assert compose.data["networks"] == {"meet.jitsi": None}


def test_short_port_forms() -> None:
    text = "services:\n  s:\n    ports:\n      - 22:22\n      - '[::1]:443:443/tcp'\n      - 80\n      - '3000-3005'\n"
    ports = parse_compose(text, "c.yml").services["s"].ports
    assert ports == [
        ComposePort(None, "22", "22", "tcp", "22:22"),
        ComposePort("::1", "443", "443", "tcp", "[::1]:443:443/tcp"),
        ComposePort(None, None, "80", "tcp", "80"),
        ComposePort(None, None, "3000-3005", "tcp", "3000-3005"),
    ]


def test_compose_v1_layout() -> None:
    compose = parse_compose("web:\n  image: jitsi/web\n  ports: ['443:443']\nnot_a_service: 1\n", "v1.yml")
    assert list(compose.services) == ["web"]


BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *[f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)],
    ]
)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (BOMB, "expands to more than"),
        ("a: " + "[" * 200, "nested deeper"),
        ("a: &a [*a]", "nested deeper"),
        ("- 1\n- 2\n", "not a mapping"),
        ("a: !!python/object/apply:os.system ['touch /tmp/jitsi-audit-yaml']", "constructor"),
        ("services:\n  web:\n    image: [unclosed\n", "YAML"),
        ("a: 1\n\tb: 2\n", "YAML"),
    ],
)
def test_hostile_and_broken_yaml(text: str, fragment: str) -> None:
    with within(2.0), pytest.raises(ConfigParseError, match=fragment):
        parse_compose(text, "c.yml")


def test_error_line_and_plain_values() -> None:
    with pytest.raises(ConfigParseError) as err:
        parse_compose("services:\n  web:\n    image: x\n   bad: indentation\n", "c.yml")
    assert err.value.line == 4
    data = parse_compose("when: 2001-01-01\nbin: !!binary aGVsbG8=\n1: one\n", "c.yml").data
    assert data == {"when": "2001-01-01", "bin": "hello", "1": "one"}
    with pytest.raises(ConfigParseError, match="too large"):
        parse_compose("a: 1\n" * 10, "c.yml", max_bytes=10)


@needs_reference
def test_real_docker_compose() -> None:
    compose = parse_compose(reference("docker-jitsi-meet/docker-compose.yml"), "docker-compose.yml")
    assert {"web", "prosody", "jicofo", "jvb"} <= set(compose.services)
    assert any(p.host_ip == "127.0.0.1" for p in compose.services["jicofo"].ports)


def test_non_utf8_text() -> None:
    with pytest.raises(ConfigParseError, match="UTF-8") as err:
        parse_compose("services:\n  web:\n    image: caf\udce9\n", "c.yml")
    assert err.value.line == 3
