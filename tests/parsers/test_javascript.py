from __future__ import annotations

import re

import pytest

from auditor.parsers.base import ConfigParseError
from auditor.parsers.javascript import STUB_HOST, parse_config_js
from tests.parsers.helpers import fixture, needs_reference, reference, within

PATH = "/etc/jitsi/meet/meet.example.org-config.js"


def test_config_js_values_after_evaluation() -> None:
    cfg = parse_config_js(fixture("js/config.js"), PATH)
    assert cfg.variable == "config"
    assert cfg.values["hosts"] == {
        "domain": "meet.example.org",
        "anonymousdomain": "guest.meet.example.org",
        "muc": "conference.meet.example.org",  # '…' + subdomain + '…' with the SSI default
    }
    assert cfg.values["bosh"] == "https://meet.example.org/http-bind"
    assert "websocket" not in cfg.values  # commented out
    assert cfg.values["p2p"] == {
        "enabled": False,  # the appended docker-style assignment wins
        "stunServers": [{"urls": "stun:meet-jit-si-turnrelay.jitsi.net:443"}],
    }
    assert cfg.values["requireDisplayName"] is True
    assert cfg.values["e2ee"] == {"labels": {}}
    assert cfg.values["analytics"] == {"disabled": True}
    assert cfg.values["etherpad_base"] == "http://pad.example.org/p/"
    assert "toolbarButtons" not in cfg.values  # undefined is dropped, as JSON does
    assert cfg.get("prejoinConfig.hideExtraJoinButtons") == ["no-audio", "by-phone"]
    assert cfg.get("hosts.nothing") is None


def test_config_js_lines() -> None:
    cfg = parse_config_js(fixture("js/config.js"), PATH)
    assert cfg.line_of("hosts") == 26
    assert cfg.line_of("hosts.domain") == 28
    assert cfg.line_of("hosts.muc") == 34
    assert cfg.line_of("bosh") == 38
    assert cfg.line_of("p2p.stunServers") == 46
    assert cfg.line_of("p2p.enabled") == 68  # the later assignment
    assert cfg.line_of("requireDisplayName") == 69
    assert cfg.line_of("e2ee") == 70 and cfg.line_of("e2ee.labels") == 70
    assert cfg.line_of("gravatar.disabled") == 56
    assert cfg.line_of("analytics.disabled") == 53
    assert cfg.line_of("prejoinConfig.nothing") == 57  # nearest enclosing key
    assert cfg.line_of("websocket") is None  # only in a comment


def test_interface_config() -> None:
    cfg = parse_config_js(
        fixture("js/interface_config.js"), "/usr/share/jitsi-meet/interface_config.js", "interfaceConfig"
    )
    assert cfg.values["APP_NAME"] == "Jitsi Meet"
    assert cfg.values["SHOW_POWERED_BY"] is False
    assert cfg.values["TOOLBAR_BUTTONS"] == ["microphone", "camera", "closedcaptions", "desktop"]
    assert cfg.line_of("JITSI_WATERMARK_LINK") == 12
    assert cfg.line_of("TOOLBAR_BUTTONS") == 15


def test_docker_style_assignments_let_const_and_browser_stubs() -> None:
    text = (
        "// Jitsi Meet configuration.\n"
        "var config = {};\n"
        "config.hosts = {};\n"
        "config.hosts.domain = 'meet.jitsi';\n"
        'var subdomain = \'<!--# echo var="subdomain" default="" -->\';\n'
        "if (subdomain.startsWith('<!--')) { subdomain = ''; }\n"
        "config.hosts.muc = 'muc.' + subdomain + 'meet.jitsi';\n"
        "config.bosh = 'https://' + location.host + '/http-bind';\n"
        "config.websocket = 'wss://' + window.location.hostname + '/xmpp-websocket';\n"
        "config.ua = navigator.userAgent; config.ref = document.referrer;\n"
    )
    cfg = parse_config_js(text, "docker-config.js")
    assert cfg.values["hosts"] == {"domain": "meet.jitsi", "muc": "muc.meet.jitsi"}
    assert cfg.values["bosh"] == f"https://{STUB_HOST}/http-bind"
    assert cfg.values["websocket"] == f"wss://{STUB_HOST}/xmpp-websocket"
    assert cfg.line_of("hosts.domain") == 4 and cfg.line_of("hosts.muc") == 7
    assert parse_config_js("let config = { a: 1 };", "l.js").values == {"a": 1}
    assert parse_config_js("const config = { a: 1 }; config.b = 2;", "c.js").values == {"a": 1, "b": 2}


def test_ssi_in_values_takes_the_default() -> None:
    text = (
        "var config = {\n"
        '  hosts: { muc: \'conference.<!--# echo var="subdomain" default="" -->meet.example.org\' },\n'
        '  bosh: \'//meet.example.org/<!--# echo var="subdir" default="" -->http-bind\',\n'
        '  other: \'<!--# echo var="x" default="fallback" -->\',\n'
        "};\n"
    )
    cfg = parse_config_js(text, "2020-config.js")
    assert cfg.values == {
        "hosts": {"muc": "conference.meet.example.org"},
        "bosh": "//meet.example.org/http-bind",
        "other": "fallback",
    }


def test_ssi_is_replaced_in_the_text_before_evaluation() -> None:
    """docker-jitsi-meet rewrites the SSI value before using it: the value of the file nginx serves is
    'muc.meet.jitsi', not a mangled directive (the public /config.js then agrees with the file)."""
    text = (
        "var config = {};\n"
        "config.hosts = {};\n"
        'var subdir = \'<!--# echo var="subdir" default="" -->\';\n'
        'var subdomain = \'<!--# echo var="subdomain" default="" -->\';\n'
        "if (subdir.startsWith('<!--')) {\n    subdir = '';\n}\n"
        "if (subdomain) {\n"
        "    subdomain = subdomain.substring(0,subdomain.length-1).split('.').join('_').toLowerCase() + '.';\n"
        "}\n"
        "config.hosts.muc = 'muc.' + subdomain + 'meet.jitsi';\n"
        "config.bosh = 'https://meet.example.org:8443/' + subdir + 'http-bind';\n"
        'config.note = \'<!--# echo var="x" default="fallback" --> and <!--# echo var="y" -->!\';\n'
    )
    cfg = parse_config_js(text, "docker-config.js")
    assert cfg.values["hosts"]["muc"] == "muc.meet.jitsi"
    assert cfg.values["bosh"] == "https://meet.example.org:8443/http-bind"
    assert cfg.values["note"] == "fallback and !"
    assert cfg.line_of("hosts.muc") == 11


def test_values_nested_too_deep_are_an_error() -> None:
    with pytest.raises(ConfigParseError, match="nested deeper than 64"):
        parse_config_js("var config = " + "{a:" * 80 + "1" + "}" * 80 + ";", "deep.js")
    assert parse_config_js("var config = " + "{a:" * 60 + "1" + "}" * 60 + ";", "ok.js").values


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("var config = {\n  a: 1,\n  b: }\n", 3, "SyntaxError"),
        ("var config = {\n  a: 1,\n  b: nothere.x }\n", 3, "ReferenceError"),
        ("var config = {\n  a: 'unterminated\n};\n", 2, "SyntaxError"),
        ("var config = {};\n\nconfig.p2p.enabled = false;\n", 3, "TypeError"),
    ],
)
def test_errors_carry_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigParseError) as err:
        parse_config_js(text, PATH)
    assert err.value.line == line
    assert fragment in err.value.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("var x = 1;", "does not define `config`"),
        ("var config = 5;", "not an object (number)"),
        ("var config = [1];", "not an object (array)"),
        ("var config = {}; config.self = config;", "cannot be serialised"),
        ("var config = { a: 10n };", "cannot be serialised"),
        ("throw { toString() { while (true) {} } };", "thrown value"),
        ("function __jsaudit_capture() {} var config = {};", "TypeError"),
        # the harness never calls a getter of a thrown error: no way to run code outside the limit
        ("\n\nthrow new (class extends Error { get message() { while (1) {} } })();", ":3: Error"),
    ],
)
def test_semantic_errors(text: str, fragment: str) -> None:
    with pytest.raises(ConfigParseError, match=re.escape(fragment)):
        parse_config_js(text, PATH)


def test_values_are_json_only() -> None:
    text = (
        "var config = { f: function () {}, u: undefined, n: NaN, d: new Date(0), r: /x/,"
        " g: { get v() { return 5; } } };"
    )
    assert parse_config_js(text, PATH).values == {"n": None, "d": "1970-01-01T00:00:00.000Z", "r": {}, "g": {"v": 5}}


@pytest.mark.parametrize(
    "text",
    [
        "var config = {}; while (true) {}",
        "function f() { for (;;) {} } var config = f();",
        "Error.prototype.toString = function () { while (1) {} }; while (1) {}",
        "var config = { get a() { while (1) {} } };",
        "var config = new Proxy({}, { ownKeys() { while (1) {} } });",
    ],
)
def test_endless_loops_end_quickly(text: str) -> None:
    with within(1.5), pytest.raises(ConfigParseError, match="exceeded"):
        parse_config_js(text, PATH, max_seconds=0.2)


def test_default_time_limit() -> None:
    with within(3.0), pytest.raises(ConfigParseError, match="exceeded 1 s"):
        parse_config_js("var config = {}; for (;;) {}", PATH)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("var a = []; while (true) { a.push('xxxxxxxxxxxxxxxxxxxx' + a.length); }", "memory"),
        ("function f() { return f(); } f();", "stack overflow"),
        ("var config = {a: 'x'.repeat(1e8)};", "out of memory"),
        ("var config = " + "{a:" * 3000 + "1" + "}" * 3000 + ";", "stack overflow"),
    ],
)
def test_memory_and_stack_limits(text: str, fragment: str) -> None:
    with pytest.raises(ConfigParseError, match=fragment):
        parse_config_js(text, PATH)


def test_no_io_and_no_modules() -> None:
    text = (
        "var config = { t: typeof std + typeof os + typeof require + typeof print };\n"
        "import('os').then(function (m) { config.pwned = m.open('/tmp/jitsi-audit-js', 'w'); });\n"
    )
    assert parse_config_js(text, PATH).values == {"t": "undefinedundefinedundefinedundefined"}


def test_size_cap_and_fifty_megabytes() -> None:
    with within(1.0), pytest.raises(ConfigParseError, match="too large"):
        parse_config_js("var config = {};\n" + "// padding\n" * 5_000_000, PATH)
    with pytest.raises(ConfigParseError, match="too large"):
        parse_config_js("var config = {};", PATH, max_bytes=4)
    with pytest.raises(ValueError):
        parse_config_js("var x = {}", PATH, variable="x; while(1){}")


def test_non_utf8_text() -> None:
    text = "var config = {\n  name: 'caf\udce9',\n};\n"
    with pytest.raises(ConfigParseError, match="UTF-8") as err:
        parse_config_js(text, PATH)
    assert err.value.line == 2


@needs_reference
@pytest.mark.parametrize(
    ("name", "variable", "key", "value"),
    [
        ("jitsi-meet/config.js", "config", "hosts.domain", "jitsi-meet.example.com"),
        ("jitsi-meet@2020-05-29/config.js", "config", "hosts.muc", "conference.jitsi-meet.example.com"),
        ("jitsi-meet/interface_config.js", "interfaceConfig", "APP_NAME", "Jitsi Meet"),
        ("jitsi-meet@2020-05-29/interface_config.js", "interfaceConfig", "APP_NAME", "Jitsi Meet"),
    ],
)
def test_real_reference_files(name: str, variable: str, key: str, value: str) -> None:
    cfg = parse_config_js(reference(name), name, variable)
    assert cfg.get(key) == value
    assert cfg.line_of(key) is not None


def test_evaluations_from_several_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    text = fixture("js/config.js")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: parse_config_js(text, f"{i}.js").get("hosts.domain"), range(8)))
    assert results == ["meet.example.org"] * 8
