"""Property: whatever the text, every parser returns or raises ConfigParseError, within a bound.

Three kinds of input per parser: arbitrary text, text over the format's own alphabet, and small
random edits of this suite's realistic fixtures. Examples found failing are kept in
test_regressions.py.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from auditor.parsers.apache import parse_apache
from auditor.parsers.certificate import contains_private_key, parse_certificates, private_key_blocks
from auditor.parsers.compose import parse_compose
from auditor.parsers.dotenv import parse_dotenv
from auditor.parsers.hocon import parse_hocon
from auditor.parsers.javascript import parse_config_js
from auditor.parsers.nginx import parse_nginx
from auditor.parsers.properties import parse_properties
from auditor.parsers.prosody import parse_prosody
from auditor.parsers.prosody_effective import build_effective
from auditor.parsers.simplekv import parse_colon_kv, parse_shell_env, parse_turnserver
from tests.parsers.helpers import FUZZ, fixture, mutations, only_parse_errors

ANY_TEXT = st.text(max_size=300)

LUA_ALPHABET = "abcdefghxyz_ =~<>+-*/.,;:{}[]()\"'\\\n\t0123456789#VirtualHostComponentIncludeEN"
HOCON_ALPHABET = 'abcxyz._- \t\n{}[]:=,+"#/$?()0123456789includeurlrequired'
JS_ALPHABET = "abcxyz_$ =.,;:{}[]()'\"`\\/*+-!<>?\n0123456789configvarletwhile"
NGINX_ALPHABET = "abcxyz_ ;{}\"'\\#$~^=/*.\nserverlocationincludehttplisten0123456789"
APACHE_ALPHABET = "abcxyz_ <>/\"'\\#*.:-+!\n\tVirtualHostLocationIfModuleIncludeSSLProtocolHeader0123456789"
KV_ALPHABET = "abcXYZ_ =:#!'\"\\$`\t\n\r0123456789export-"
YAML_ALPHABET = "abcxyz_ :-,[]{}&*!|>'\"#\n\t0123456789services"
PEM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdef0123456789+/=-\n:"


def _lua(text: str) -> None:
    only_parse_errors(lambda: parse_prosody(text, "/etc/prosody/f.cfg.lua"))


@FUZZ
@given(ANY_TEXT | st.text(LUA_ALPHABET, max_size=300))
def test_prosody_random(text: str) -> None:
    _lua(text)


@FUZZ
@given(
    mutations(fixture("prosody/meet-2020.cfg.lua"), LUA_ALPHABET)
    | mutations(fixture("prosody/prosody.cfg.lua"), LUA_ALPHABET)
)
def test_prosody_mutations(text: str) -> None:
    _lua(text)


@FUZZ
@given(
    mutations('Include "conf.d/*.cfg.lua"\nx = 1\nVirtualHost "a"\n', LUA_ALPHABET),
    mutations('Include "../prosody.cfg.lua"\ny = 2\nComponent "c" "muc"\n', LUA_ALPHABET),
)
def test_prosody_effective_mutations(main: str, included: str) -> None:
    def build() -> Any:
        configs = {
            "/etc/prosody/prosody.cfg.lua": parse_prosody(main, "/etc/prosody/prosody.cfg.lua"),
            "/etc/prosody/conf.d/a.cfg.lua": parse_prosody(included, "/etc/prosody/conf.d/a.cfg.lua"),
        }
        eff = build_effective(configs, "/etc/prosody/prosody.cfg.lua")
        for host in [None, *eff.hosts, *eff.components]:
            eff.enabled_modules(host)
            eff.get(host, "x")
        return eff

    only_parse_errors(build)


def _hocon(text: str) -> None:
    def run() -> None:
        doc = parse_hocon(text, "/etc/jitsi/jicofo/jicofo.conf")
        for key in ("jicofo.authentication.enabled", "a.b", '"x.y".z', ""):
            doc.get(key)
            doc.line_of(key)

    only_parse_errors(run)


@FUZZ
@given(ANY_TEXT | st.text(HOCON_ALPHABET, max_size=200))
def test_hocon_random(text: str) -> None:
    _hocon(text)


@FUZZ
@given(mutations(fixture("hocon/jicofo.conf"), HOCON_ALPHABET))
def test_hocon_mutations(text: str) -> None:
    _hocon(text)


def _js(text: str) -> None:
    def run() -> None:
        cfg = parse_config_js(text, "/etc/jitsi/meet/x-config.js", max_seconds=0.3)
        cfg.line_of("hosts.domain")
        cfg.get("p2p.enabled")

    only_parse_errors(run)


@FUZZ
@given(ANY_TEXT | st.text(JS_ALPHABET, max_size=300))
def test_javascript_random(text: str) -> None:
    _js(text)


@FUZZ
@given(mutations(fixture("js/config.js"), JS_ALPHABET))
def test_javascript_mutations(text: str) -> None:
    _js(text)


def _nginx(text: str, with_main: bool) -> None:
    files = {"/etc/nginx/sites-enabled/site": text, "/etc/nginx/snippets/meet-certs.conf": text[:200]}
    if with_main:
        files["/etc/nginx/nginx.conf"] = fixture("nginx/nginx.conf")
    entry = "/etc/nginx/nginx.conf" if with_main else "/etc/nginx/sites-enabled/site"

    def run() -> None:
        cfg = parse_nginx(files, entry)
        for server in cfg.servers:
            server.directive("ssl_protocols")
            for loc in server.locations:
                loc.add_headers()

    only_parse_errors(run)


@FUZZ
@given(ANY_TEXT | st.text(NGINX_ALPHABET, max_size=300), st.booleans())
def test_nginx_random(text: str, with_main: bool) -> None:
    _nginx(text, with_main)


@FUZZ
@given(mutations(fixture("nginx/meet.example.org.conf"), NGINX_ALPHABET), st.booleans())
def test_nginx_mutations(text: str, with_main: bool) -> None:
    _nginx(text, with_main)


def _apache(text: str, with_main: bool) -> None:
    site = "/etc/apache2/sites-enabled/meet.conf"
    files = {site: text, "/etc/apache2/conf-enabled/x.conf": text[:200]}
    if with_main:
        files["/etc/apache2/apache2.conf"] = fixture("apache/apache2.conf")
    entry = "/etc/apache2/apache2.conf" if with_main else site

    def run() -> None:
        cfg = parse_apache(files, entry)
        cfg.proxies()
        for vhost in cfg.virtual_hosts:
            vhost.directive("SSLProtocol")
            vhost.response_headers()
            vhost.redirects()
            _ = vhost.tls, vhost.ports, vhost.server_names

    only_parse_errors(run)


@FUZZ
@given(ANY_TEXT | st.text(APACHE_ALPHABET, max_size=300), st.booleans())
def test_apache_random(text: str, with_main: bool) -> None:
    _apache(text, with_main)


@FUZZ
@given(mutations(fixture("apache/meet.example.org.conf"), APACHE_ALPHABET), st.booleans())
def test_apache_mutations(text: str, with_main: bool) -> None:
    _apache(text, with_main)


def _line_formats(text: str) -> None:
    for parse in (parse_properties, parse_dotenv, parse_turnserver, parse_colon_kv, parse_shell_env):
        only_parse_errors(lambda parse=parse: parse(text, "/etc/f"), bound=1.0)  # type: ignore[misc]


@FUZZ
@given(ANY_TEXT | st.text(KV_ALPHABET, max_size=300))
def test_line_formats_random(text: str) -> None:
    _line_formats(text)


@FUZZ
@given(
    mutations(fixture("properties/sip-communicator.properties"), KV_ALPHABET)
    | mutations(fixture("docker/env"), KV_ALPHABET)
    | mutations(fixture("kv/jicofo-config"), KV_ALPHABET)
    | mutations(fixture("kv/turnserver.conf"), KV_ALPHABET)
)
def test_line_formats_mutations(text: str) -> None:
    _line_formats(text)


@FUZZ
@given(ANY_TEXT | st.text(YAML_ALPHABET, max_size=300) | mutations(fixture("docker/docker-compose.yml"), YAML_ALPHABET))
def test_compose(text: str) -> None:
    only_parse_errors(lambda: parse_compose(text, "/opt/jitsi/docker-compose.yml"))


PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUX0\n-----END CERTIFICATE-----\n"


@FUZZ
@given(
    ANY_TEXT
    | st.text(PEM_ALPHABET, max_size=300)
    | mutations(PEM + fixture("certs/weak-sha1-rsa1024.crt"), PEM_ALPHABET)
)
def test_certificates(text: str) -> None:
    only_parse_errors(lambda: parse_certificates(text, "/etc/ssl/x.crt"))
    only_parse_errors(lambda: private_key_blocks(text, "/etc/ssl/x.key"))
    contains_private_key(text)
