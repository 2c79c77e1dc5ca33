from __future__ import annotations

import os

import pytest

from auditor.parsers.base import ConfigParseError
from auditor.parsers.prosody import parse_prosody
from tests.parsers.helpers import fixture, needs_reference, reference, within

MEET = "/etc/prosody/conf.avail/meet.example.org.cfg.lua"


def test_2020_host_file_sections_values_and_lines() -> None:
    cfg = parse_prosody(fixture("prosody/meet-2020.cfg.lua"), MEET)
    assert [(s.kind, s.name, s.component_type, s.line) for s in cfg.sections] == [
        ("global", None, None, None),
        ("VirtualHost", "meet.example.org", None, 18),
        ("Component", "conference.meet.example.org", "muc", 37),
        ("Component", "internal.auth.meet.example.org", "muc", 49),
        ("VirtualHost", "auth.meet.example.org", None, 58),
        ("Component", "focus.meet.example.org", None, 65),  # no type: an external component
        ("Component", "speakerstats.meet.example.org", "speakerstats_component", 68),
        ("Component", "conferenceduration.meet.example.org", "conference_duration_component", 71),
    ]
    glob = cfg.global_section
    assert glob.options["turncredentials_secret"] == "Yq2fTurnSecret2020"
    assert glob.options["turncredentials"][2] == {
        "type": "turns",
        "host": "meet.example.org",
        "port": "443",
        "transport": "tcp",
    }
    assert glob.option_lines == {
        "plugin_paths": 2,
        "muc_mapper_domain_base": 5,
        "turncredentials_secret": 7,
        "turncredentials": 9,
        "cross_domain_bosh": 15,
        "consider_bosh_secure": 16,
    }
    host = cfg.sections[1]
    assert host.options["authentication"] == "anonymous"
    assert host.options["ssl"] == {
        "certificate": "/etc/prosody/certs/meet.example.org.crt",
        "key": "/etc/prosody/certs/meet.example.org.key",
    }
    assert host.options["modules_enabled"] == [
        "bosh",
        "pubsub",
        "ping",
        "speakerstats",
        "turncredentials",
        "conference_duration",
    ]
    assert host.options["c2s_require_encryption"] is False
    # a multi-line assignment is located at its first line, not where Lua reports it (the `}`)
    assert host.option_lines["ssl"] == 21
    assert host.option_lines["modules_enabled"] == 27
    assert host.option_lines["c2s_require_encryption"] == 35
    auth = cfg.section("auth.meet.example.org")
    assert auth is not None
    assert auth.options["authentication"] == "internal_plain"
    assert auth.option_lines == {"ssl": 59, "authentication": 63}
    focus = cfg.section("focus.meet.example.org")
    assert focus is not None and focus.options == {"component_secret": "Fs3cr3tFocus2020"}
    assert focus.option_lines == {"component_secret": 66}
    assert cfg.includes == [] and cfg.run_scripts == []


def test_current_host_file_concatenation_and_lists() -> None:
    cfg = parse_prosody(fixture("prosody/meet-current.cfg.lua"), MEET)
    glob = cfg.global_section
    assert glob.options["ssl"] == {
        "protocol": "tlsv1_2+",
        "ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
    }
    assert glob.option_lines["ssl"] == 19
    assert glob.options["external_services"][1]["secret"] is True
    assert glob.options["external_services"][1]["ttl"] == 86400
    assert glob.options["unlimited_jids"] == ["focus@auth.meet.example.org", "jvb@auth.meet.example.org"]
    names = [(s.kind, s.name) for s in cfg.sections[1:]]
    assert names == [
        ("VirtualHost", "meet.example.org"),
        ("VirtualHost", "guest.meet.example.org"),
        ("Component", "conference.meet.example.org"),
        ("VirtualHost", "auth.meet.example.org"),
        ("Component", "focus.meet.example.org"),
        ("Component", "lobby.meet.example.org"),
    ]
    main = cfg.sections[1]
    assert main.options["authentication"] == "internal_hashed"
    assert main.option_lines["authentication"] == 30
    assert "muc_lobby_rooms" in main.options["modules_enabled"]
    conference = cfg.section("conference.meet.example.org")
    assert conference is not None
    assert conference.options["restrict_room_creation"] is True
    assert conference.option_lines["muc_password_whitelist"] == 65
    focus = cfg.section("focus.meet.example.org")
    assert focus is not None and focus.component_type == "client_proxy"


def test_debian_main_file_records_include_with_line() -> None:
    cfg = parse_prosody(fixture("prosody/prosody.cfg.lua"), "/etc/prosody/prosody.cfg.lua")
    assert cfg.includes == [("conf.d/*.cfg.lua", 42)]
    glob = cfg.global_section
    assert glob.options["modules_enabled"] == ["roster", "saslauth", "tls", "dialback", "disco", "posix"]
    assert glob.options["modules_disabled"] == ["s2s"]
    assert glob.options["log"] == {
        "1": "*syslog",
        "error": "/var/log/prosody/prosody.err",
        "info": "/var/log/prosody/prosody.log",
    }
    assert glob.options["admins"] == []
    assert glob.option_lines["modules_disabled"] == 18
    assert [s.name for s in cfg.sections] == [None, "localhost"]


def test_table_forms_and_prosody13_append() -> None:
    text = (
        'VirtualHost "v.example" { authentication = "token", app_id = "x" }\n'
        "after_table = 1\n"
        'Component "c.example" "muc" { storage = "memory" }\n'
        'modules_enabled = { "a" }\n'
        'modules_enabled:append { "b" }\n'
        'modules_enabled { "c" }\n'
    )
    cfg = parse_prosody(text, "t.cfg.lua")
    glob = cfg.global_section
    assert glob.options == {"after_table": 1, "modules_enabled": ["a", "b", "c"]}
    assert glob.option_lines == {"after_table": 2, "modules_enabled": 6}
    assert cfg.section("v.example") is not None
    assert cfg.sections[1].options == {"authentication": "token", "app_id": "x"}
    assert cfg.sections[2].options == {"storage": "memory"}
    assert cfg.sections[2].component_type == "muc"


def test_repeated_option_keeps_last_and_host_reopened_merges() -> None:
    text = (
        'VirtualHost "A.Example"\n'
        '  authentication = "anonymous"\n'
        '  authentication = "internal_hashed"\n'
        'VirtualHost "b.example"\n'
        'VirtualHost "a.example"\n'
        "  allow_registration = true\n"
    )
    cfg = parse_prosody(text, "t.cfg.lua")
    assert [s.name for s in cfg.sections] == [None, "a.example", "b.example"]
    a = cfg.sections[1]
    assert a.options == {"authentication": "internal_hashed", "allow_registration": True}
    assert a.option_lines == {"authentication": 3, "allow_registration": 6}
    assert a.line == 1


def test_placeholders_environment_and_recorded_scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LDAP_PASSWORD", "from-the-auditor")
    monkeypatch.setenv("HOME", "/home/auditor")
    text = (
        'component_secret = FileContents("/run/secrets/focus")\n'
        'app_secret = Credential("jwt")\n'
        "ldap_password = ENV_LDAP_PASSWORD\n"
        'home = Lua.os.getenv("HOME")\n'
        'path = os.getenv("PATH")\n'
        'Include "/etc/prosody/extra.cfg.lua"\n'
        'RunScript "setup.lua"\n'
        'name = "meet" .. "." .. "example" .. ".org"\n'
        "port = 5000 + 280\n"
    )
    cfg = parse_prosody(text, "t.cfg.lua")
    opts = cfg.global_section.options
    assert opts["component_secret"] == {"__file__": "/run/secrets/focus"}
    assert opts["app_secret"] == {"__file__": "jwt"}
    assert opts["ldap_password"] is None and opts["home"] is None and opts["path"] is None
    assert opts["name"] == "meet.example.org" and opts["port"] == 5280
    assert cfg.includes == [("/etc/prosody/extra.cfg.lua", 6)]
    assert cfg.run_scripts == [("setup.lua", 7)]
    assert "from-the-auditor" not in str(opts) and "/home/auditor" not in str(opts)


@pytest.mark.parametrize(
    ("source", "line", "fragment"),
    [
        ("a = 1\nb = = 2\n", 2, "unexpected symbol"),
        ('modules_enabled = {\n  "bosh";\n', 3, "expected"),
        ('VirtualHost "x"\n  ssl = { key = "k" \n', 3, "expected"),
        ("VirtualHost()\n", 1, "must have a name"),
        ('VirtualHost "a"\nComponent "a" "muc"\n', 2, "clashes"),
        ('x = "\\xff"\ny = {}\ny.z.w = 1\n', 3, "attempt to index"),
    ],
)
def test_errors_carry_the_line(source: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigParseError) as err:
        parse_prosody(source, "/etc/prosody/bad.cfg.lua")
    assert err.value.line == line
    assert err.value.path == "/etc/prosody/bad.cfg.lua"
    assert fragment in err.value.message


@pytest.mark.parametrize(
    "source",
    [
        'os.execute("touch /tmp/jitsi-audit-pwned")',
        'x = io.open("/etc/passwd")',
        'x = require("io")',
        'x = load("return 1")',
        'dofile("/etc/passwd")',
        "debug.sethook()",
        'x = ("x").dump',
        "x = python.builtins",
        "pcall(print)",
        "x = coroutine.create(print)",
        'x = ("aaa"):gsub("a", "b")',
    ],
)
def test_sandbox_gives_no_capability(source: str) -> None:
    try:
        cfg = parse_prosody(source, "t.cfg.lua")
    except ConfigParseError as exc:
        assert exc.line == 1
    else:  # nothing useful reached the configuration
        assert all(v is None for v in cfg.global_section.options.values())
    assert not os.path.exists("/tmp/jitsi-audit-pwned")


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("while true do end", "instruction limit"),
        ("local t = {} for i = 1, 1e9 do t[i] = i end", "memory"),
        ('x = ("x"):rep(1e9)', "too large"),
        ('x = (""):rep(1e18)', "too large"),
        ("local s = 'x' while true do s = s .. s end", "memory"),
        ("local t = {} for i=1,200000 do t[i]=i end for i=1,1e6 do table.insert(t, 1, i) end", "too large"),
        ("a = {} a.self = a", "nested deeper"),
        ("a = " + "{" * 300 + "}" * 300, "nesting too deep"),
        ("error({})", "table value"),
        ("local t = {} for i = 1, 300000 do t[i] = i end x = t", "values"),
    ],
)
def test_hostile_code_ends_quickly_in_a_parse_error(source: str, fragment: str) -> None:
    with within(2.0), pytest.raises(ConfigParseError) as err:
        parse_prosody(source, "hostile.cfg.lua", max_steps=5_000_000)
    assert fragment in err.value.message


def test_default_limits_stop_an_endless_loop() -> None:
    with within(3.0), pytest.raises(ConfigParseError, match="instruction limit"):
        parse_prosody("x = 1\nwhile true do x = x + 1 end", "loop.cfg.lua")


def test_cpu_time_limit_applies_even_under_the_instruction_budget() -> None:
    with pytest.raises(ConfigParseError, match="time limit"):
        parse_prosody("while true do end", "loop.cfg.lua", max_steps=10**12, max_seconds=0.2)


def test_oversize_and_non_utf8_text() -> None:
    with pytest.raises(ConfigParseError, match="too large"):
        parse_prosody("a = 1\n" * 10, "big.cfg.lua", max_bytes=20)
    broken = b'a = "caf\xe9"\n'.decode("utf-8", "surrogateescape")
    with pytest.raises(ConfigParseError, match="UTF-8") as err:
        parse_prosody("-- fine\n" + broken, "latin1.cfg.lua")
    assert err.value.line == 2


def test_lua_value_conversion() -> None:
    text = (
        "mixed = { 1, 2, x = 3 }\n"
        "sparse = { [1] = 'a', [3] = 'c' }\n"
        "keys = { [true] = 1, [1.5] = 2 }\n"
        "f = function() end\n"
        "empty = {}\n"
        "float = 1.5\n"
        "big = 2^53\n"
    )
    opts = parse_prosody(text, "t.cfg.lua").global_section.options
    assert opts["mixed"] == {"1": 1, "2": 2, "x": 3}
    assert opts["sparse"] == {"1": "a", "3": "c"}
    assert opts["keys"] == {"1.5": 2, "true": 1}
    assert opts["f"] == {"__lua__": "function"}
    assert opts["empty"] == []
    assert opts["float"] == 1.5 and opts["big"] == 2.0**53


@needs_reference
@pytest.mark.parametrize(
    "name",
    [
        "jitsi-meet/doc/debian/jitsi-meet-prosody/prosody.cfg.lua-jvb.example",
        "jitsi-meet@2020-05-29/doc/debian/jitsi-meet-prosody/prosody.cfg.lua-jvb.example",
        "prosody@0.12.5/prosody.cfg.lua.dist",
        "prosody@13.0.1/prosody.cfg.lua.dist",
        "jitsi-meet/doc/debian/jitsi-meet-prosody/jaas.cfg.lua",
    ],
)
def test_real_reference_files_parse(name: str) -> None:
    cfg = parse_prosody(reference(name), name)
    assert cfg.sections[0].kind == "global"
    assert len(cfg.sections) >= 2
