"""Image references from compose files and .env: interpolation, floating tags, registries."""

from __future__ import annotations

import pytest

from auditor.advisories.docker import deployment_images, images_from_compose, interpolate, parse_image
from auditor.deployment import build_deployment
from auditor.parsers.base import ConfigParseError

from .helpers import COMPOSE, snapshot


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("jitsi/web:stable-8044", ("jitsi/web", "stable-8044", None)),
        ("docker.io/jitsi/web:stable-8044-1", ("jitsi/web", "stable-8044-1", None)),
        ("registry.example.org:5000/jitsi/jvb:stable-9779", ("jitsi/jvb", "stable-9779", None)),
        ("jitsi/web", ("jitsi/web", None, None)),
        ("jitsi/web@sha256:abc", ("jitsi/web", None, "sha256:abc")),
        ("nginx:1.25", ("nginx", "1.25", None)),
        ("docker.io/library/nginx", ("nginx", None, None)),
        ("localhost/jitsi/web:x", ("jitsi/web", "x", None)),
    ],
)
def test_parse_image(ref: str, expected: tuple[str, str | None, str | None]) -> None:
    assert parse_image(ref) == expected


def test_interpolate_compose_forms() -> None:
    env: dict[str, str | None] = {"A": "stable-8044", "E": "", "S": None}
    assert interpolate("x:${A:-unstable}", env) == ("x:stable-8044", None)
    assert interpolate("x:${B:-unstable}", env) == ("x:unstable", None)
    assert interpolate("x:${E:-d}", env) == ("x:d", None)
    assert interpolate("x:${E-d}", env) == ("x:", None)
    assert interpolate("x:$A", env) == ("x:stable-8044", None)
    assert interpolate("x:${A:+set}", env) == ("x:set", None)
    assert interpolate("$$A", env) == ("$A", None)
    value, why = interpolate("x:${S:-unstable}", env)
    assert value is None and why is not None and "shell environment" in why
    value, why = interpolate("x:${B:?need it}", env)
    assert value is None and why is not None and "need it" in why


def test_compose_with_env_and_defaults() -> None:
    refs = images_from_compose(COMPOSE, "/srv/jitsi/docker-compose.yml", {"JITSI_IMAGE_VERSION": "stable-9779"})
    assert [(r.jitsi_image, r.tag, r.line) for r in refs] == [
        ("web", "stable-9779", 3),
        ("prosody", "stable-9779", 7),
        ("jicofo", "stable-9779", 9),
        ("jvb", "stable-9779", 11),
    ]
    assert all(r.version_problem is None for r in refs)
    unset = images_from_compose(COMPOSE, "/srv/jitsi/docker-compose.yml", {})
    assert {r.tag for r in unset} == {"unstable"}
    assert unset[0].version_problem is not None and "JITSI_IMAGE_VERSION is not set" in unset[0].version_problem
    with pytest.raises(ConfigParseError):
        images_from_compose("services: [", "/x.yml", {})


def test_deployment_images_reads_siblings_and_env() -> None:
    files = {
        "/srv/jitsi/docker-compose.yml": COMPOSE,
        "/srv/jitsi/.env": "PUBLIC_URL=https://meet.example.org\nJITSI_IMAGE_VERSION=stable-8044\n",
        "/srv/jitsi/jigasi.yml": "services:\n  jigasi:\n    image: jitsi/jigasi:${JITSI_IMAGE_VERSION:-unstable}\n",
        "/srv/jitsi/etherpad.yml": "services:\n  etherpad:\n    image: etherpad/etherpad:1.8.6\n",
    }
    dock = deployment_images(build_deployment(snapshot(files)))
    assert sorted((r.jitsi_image, r.tag) for r in dock.images) == [
        ("jicofo", "stable-8044"),
        ("jigasi", "stable-8044"),
        ("jvb", "stable-8044"),
        ("prosody", "stable-8044"),
        ("web", "stable-8044"),
    ]


def test_env_without_compose() -> None:
    dock = deployment_images(build_deployment(snapshot({"/srv/jitsi/.env": "JITSI_IMAGE_VERSION=stable-9779\n"})))
    assert sorted(r.jitsi_image or "" for r in dock.images) == ["jicofo", "jvb", "prosody", "web"]
    assert {(r.tag, r.line, r.path) for r in dock.images} == {("stable-9779", 1, "/srv/jitsi/.env")}
    none = deployment_images(build_deployment(snapshot({"/srv/jitsi/.env": "ENABLE_AUTH=1\n"})))
    assert none.images and all(r.tag is None and r.problem for r in none.images)
    assert not deployment_images(build_deployment(snapshot({"/etc/jitsi/jicofo/jicofo.conf": "jicofo {}\n"}))).detected
