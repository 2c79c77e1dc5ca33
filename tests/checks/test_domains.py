"""The deployment's names (facts.View.own_domains / public_domain) and URL hosts read from hostile values."""

from __future__ import annotations

import pytest

from auditor.deployment import host_path
from auditor.engine import prepare_snapshot
from auditor.facts import View, url_host
from tests.checks.base import COMPOSE, COMPOSE_TEXT, CONFIG_JS, ENV, ENV_TEXT, audit, base_files, snapshot


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://meet.example.org/http-bind", "meet.example.org"),
        ("//meet.example.org:8443/x", "meet.example.org"),
        ("wss://[2001:db8::1]:443/xmpp-websocket", "2001:db8::1"),
        ("//[x/http-bind", None),  # an unclosed IPv6 literal: urlsplit raises
        ("https://[::1/x", None),
        ("/http-bind", None),  # relative to the page
        (None, None),
        (42, None),
    ],
)
def test_url_host(url: object, host: str | None) -> None:
    assert url_host(url) == host


HOSTILE_JS = (
    "\nconfig.bosh = '//[x/http-bind';\nconfig.websocket = 'wss://[y/xmpp-websocket';\n"
    "config.tokenAuthUrl = 'https://[z/login';\nconfig.p2p.stunServers = [ { urls: 'stun://[w:3478' } ];\n"
)


def test_hostile_urls_in_config_js_break_no_check() -> None:
    """URLs that urlsplit rejects used to make the checks reading them fail to run (an unclear with a
    ValueError); each check now judges what it can read."""
    files = base_files()
    files[CONFIG_JS] += HOSTILE_JS
    findings = {f.check_id: f for f in audit(snapshot(files)).findings}
    broken = {cid: f.message for cid, f in findings.items() if "failed to run" in f.message}
    assert not broken
    stun = findings["web.p2p_stun_servers"]
    assert stun.status.value == "unclear" and "stun://[w:3478" in stun.message


def test_hostile_public_url_breaks_no_check() -> None:
    files = {ENV: ENV_TEXT.replace("PUBLIC_URL=https://meet.example.org", "PUBLIC_URL=https://[bad"),
             COMPOSE: COMPOSE_TEXT}
    assert "PUBLIC_URL=https://[bad" in files[ENV]
    broken = [f.check_id for f in audit(snapshot(files)).findings if "failed to run" in f.message]
    assert not broken


@pytest.mark.parametrize(
    ("config", "path", "expected"),
    [
        # docker-jitsi-meet's web container reads its CONFIG volume's web/ directory as /config
        ("/root/.jitsi-meet-cfg/web/nginx/ssl.conf", "/config/keys/cert.crt", "/root/.jitsi-meet-cfg/web/keys/cert.crt"),
        ("/srv/cfg/web/nginx/site-confs/default", "/config/keys/cert.crt", "/srv/cfg/web/keys/cert.crt"),
        # a Debian host's nginx: paths are the host's
        ("/etc/nginx/sites-enabled/meet.conf", "/config/keys/cert.crt", "/config/keys/cert.crt"),
        ("/root/.jitsi-meet-cfg/web/nginx/ssl.conf", "/etc/ssl/cert.pem", "/etc/ssl/cert.pem"),
        ("/root/.jitsi-meet-cfg/web/nginx/ssl.conf", "/configx/a.crt", "/configx/a.crt"),
    ],
)
def test_host_path(config: str, path: str, expected: str) -> None:
    assert host_path(config, path) == expected


def _view(files: dict[str, str], transport: str = "ssh") -> View:
    snap = snapshot(files)
    snap.transport = transport
    return View(prepare_snapshot(snap).deployment)


def test_public_domain_is_the_xmpp_domain_on_debian_and_public_url_on_docker() -> None:
    files = base_files()
    # a Debian host whose BOSH is served under another name: the web front (and its certificate) is still D
    files[CONFIG_JS] += "\nconfig.bosh = '//xmpp.example.net/http-bind';\n"
    assert _view(files).public_domain() == "meet.example.org"
    # docker (a .env): PUBLIC_URL
    assert _view({ENV: ENV_TEXT, COMPOSE: COMPOSE_TEXT}).public_domain() == "meet.example.org"
    # a docker:// container (no .env): the XMPP domain meet.jitsi is internal, the BOSH URL's host is public
    docker_js = ("var config = {};\nconfig.hosts = {};\nconfig.hosts.domain = 'meet.jitsi';\n"
                 "config.bosh = 'https://meet.example.org:8443/http-bind';\n")
    assert _view({"/config/config.js": docker_js}, "docker").public_domain() == "meet.example.org"
    assert _view({"/config/config.js": docker_js}).own_domain() == "meet.jitsi"
