from __future__ import annotations

import pytest

from auditor.parsers.base import ConfigParseError, Location
from auditor.parsers.prosody import parse_prosody
from auditor.parsers.prosody_effective import build_effective
from tests.parsers.helpers import fixture

MAIN = "/etc/prosody/prosody.cfg.lua"
SITE = "/etc/prosody/conf.d/meet.example.org.cfg.lua"


def _configs(**texts: str) -> dict[str, object]:
    return {path: parse_prosody(text, path) for path, text in texts.items()}


def test_debian_main_plus_current_jitsi_site() -> None:
    configs = {
        MAIN: parse_prosody(fixture("prosody/prosody.cfg.lua"), MAIN),
        SITE: parse_prosody(fixture("prosody/meet-current.cfg.lua"), SITE),
        # not matched by conf.d/*.cfg.lua: a hidden file and another directory
        "/etc/prosody/conf.d/.old.cfg.lua": parse_prosody('VirtualHost "old.example"', "x"),
        "/etc/prosody/conf.avail/jaas.cfg.lua": parse_prosody('VirtualHost "jaas.example"', "y"),
    }
    eff = build_effective(configs, MAIN)
    assert eff.files == [MAIN, SITE]
    assert eff.hosts == ["localhost", "meet.example.org", "guest.meet.example.org", "auth.meet.example.org"]
    assert eff.components == {
        "conference.meet.example.org": "muc",
        "focus.meet.example.org": "client_proxy",
        "lobby.meet.example.org": "muc",
    }
    # host option, inherited global option from the main file, global option from the included file
    assert eff.get("meet.example.org", "authentication") == ("internal_hashed", Location(SITE, 30))
    assert eff.get("guest.meet.example.org", "authentication") == ("jitsi-anonymous", Location(SITE, 51))
    assert eff.get("localhost", "authentication") == ("internal_hashed", Location(MAIN, 30))
    assert eff.get("guest.meet.example.org", "s2s_secure_auth") == (False, Location(MAIN, 26))
    assert eff.get(None, "consider_bosh_secure") == (True, Location(SITE, 16))
    assert eff.get("meet.example.org", "c2s_require_encryption") == (False, Location(SITE, 45))
    assert eff.get("auth.meet.example.org", "c2s_require_encryption") == (True, Location(MAIN, 25))
    assert eff.get("meet.example.org", "no_such_option") is None
    assert eff.component_location("focus.meet.example.org") == Location(SITE, 80)
    assert eff.path_of("meet.example.org") == SITE and eff.path_of(None) == MAIN
    assert [i.pattern for i in eff.includes] == ["conf.d/*.cfg.lua"]
    assert eff.includes[0].matched == [SITE] and eff.missing_includes == []


def test_module_sets_follow_modulemanager() -> None:
    configs = {
        MAIN: parse_prosody(fixture("prosody/prosody.cfg.lua"), MAIN),
        SITE: parse_prosody(fixture("prosody/meet-current.cfg.lua"), SITE),
    }
    eff = build_effective(configs, MAIN)
    host = "meet.example.org"
    assert eff.module_enabled(host, "bosh") and eff.module_enabled(host, "mod_bosh")
    assert eff.module_enabled(host, "saslauth")  # global modules_enabled
    assert eff.module_enabled(host, "c2s")  # autoloaded
    assert not eff.module_enabled(host, "s2s")  # modules_disabled globally
    assert not eff.module_enabled("auth.meet.example.org", "bosh")
    # components inherit only a few global modules, and load their own module
    conference = eff.enabled_modules("conference.meet.example.org")
    assert "muc" in conference and "muc_rate_limit" in conference and "tls" in conference
    assert "roster" not in conference and "c2s" not in conference
    assert eff.module_enabled("focus.meet.example.org", "client_proxy")
    assert eff.enabled_modules(None) >= {"roster", "saslauth", "tls", "presence"}


def test_include_order_decides_which_value_wins() -> None:
    main = (
        "c2s_require_encryption = true\n"  # 1: overridden by the include at line 3
        "allow_registration = false\n"  # 2: overridden by the include ...
        'Include "override.cfg.lua"\n'  # 3
        "allow_registration = false\n"  # 4: ... but set again after it
        'VirtualHost "x.example"\n'  # 5
        '  authentication = "anonymous"\n'  # 6
        'Include "/etc/prosody/missing.cfg.lua"\n'  # 7: inside a host section: still just an include
        "  allow_registration = true\n"  # 8: the host section continues after the Include
    )
    override = (
        "c2s_require_encryption = false\n"
        "allow_registration = true\n"
        'VirtualHost "x.example"\n'
        '  authentication = "internal_hashed"\n'
        "  modules_enabled = nil\n"
    )
    configs = {
        MAIN: parse_prosody(main, MAIN),
        "/etc/prosody/override.cfg.lua": parse_prosody(override, "/etc/prosody/override.cfg.lua"),
    }
    eff = build_effective(configs, MAIN)
    assert eff.get(None, "c2s_require_encryption") == (False, Location("/etc/prosody/override.cfg.lua", 1))
    assert eff.get(None, "allow_registration") == (False, Location(MAIN, 4))
    assert eff.get("x.example", "authentication") == ("anonymous", Location(MAIN, 6))
    assert eff.get("x.example", "allow_registration") == (True, Location(MAIN, 8))
    assert eff.get("x.example", "modules_enabled") is None  # `= nil` unsets
    assert [(i.pattern, i.missing) for i in eff.missing_includes] == [("/etc/prosody/missing.cfg.lua", True)]
    assert eff.missing_includes[0].location == Location(MAIN, 7)


def test_cycles_and_no_main_file() -> None:
    a, b = "/etc/prosody/a.cfg.lua", "/etc/prosody/b.cfg.lua"
    configs = {
        a: parse_prosody('x = 1\nInclude "b.cfg.lua"\n', a),
        b: parse_prosody('y = 2\nInclude "a.cfg.lua"\nVirtualHost "h.example"\n', b),
    }
    eff = build_effective(configs, a)
    assert eff.files == [a, b]
    assert eff.get(None, "y") == (2, Location(b, 1))
    assert any("cycle" in w for w in eff.warnings)
    without_main = build_effective(configs, None)
    assert without_main.files == [a, b] and without_main.hosts == ["h.example"]
    with pytest.raises(ConfigParseError):
        build_effective(configs, "/etc/prosody/prosody.cfg.lua")


def test_unknown_host_sees_global_and_clash_is_a_warning() -> None:
    configs = {
        MAIN: parse_prosody('authentication = "anonymous"\nInclude "c.cfg.lua"\nVirtualHost "dup.example"\n', MAIN),
        "/etc/prosody/c.cfg.lua": parse_prosody('Component "dup.example" "muc"\n', "/etc/prosody/c.cfg.lua"),
    }
    eff = build_effective(configs, MAIN)
    assert eff.get("nowhere.example", "authentication") == ("anonymous", Location(MAIN, 1))
    assert eff.components == {"dup.example": "muc"} and eff.hosts == []
    assert any("clashes" in w for w in eff.warnings)


def test_included_files_that_did_not_parse_are_reported() -> None:
    broken = "/etc/prosody/conf.d/broken.cfg.lua"
    configs = {
        MAIN: parse_prosody(fixture("prosody/prosody.cfg.lua"), MAIN),
        SITE: parse_prosody(fixture("prosody/meet-2020.cfg.lua"), SITE),
    }
    eff = build_effective(configs, MAIN, unparsed=[broken, "/etc/prosody/elsewhere/x.cfg.lua"])
    assert eff.includes[0].matched == [SITE]
    assert eff.includes[0].unparsed == [broken]
    assert eff.unparsed_includes == [broken]
    assert not eff.complete and eff.missing_includes == []
    assert build_effective(configs, MAIN).complete
