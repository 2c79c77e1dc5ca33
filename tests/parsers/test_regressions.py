"""Inputs that broke (or would have broken) a parser during development, kept as regressions.

Each one hung, crashed with something other than ConfigParseError, or gave a wrong value before
the fix next to it.
"""

from __future__ import annotations

import pytest
from pyparsing import ParserElement

from auditor.parsers.base import ConfigParseError
from auditor.parsers.dotenv import parse_dotenv
from auditor.parsers.hocon import parse_hocon
from auditor.parsers.javascript import parse_config_js
from auditor.parsers.nginx import parse_nginx
from auditor.parsers.prosody import parse_prosody
from tests.parsers.helpers import within


def test_js_exception_with_hostile_tostring_does_not_hang() -> None:
    # The QuickJS binding turns an escaping exception into text outside the time limit: this hung.
    with within(1.0), pytest.raises(ConfigParseError):
        parse_config_js("throw { toString() { while (1) {} } };", "c.js")


def test_js_line_scan_of_template_lookalikes_in_a_regex() -> None:
    # A regex after `)` reads as a division to the light scanner, which then saw 3000 nested
    # template literals and recursed out of the Python stack.
    src = "var config = { a: 1 };\nif (1) /" + "`${" * 3000 + "/.test('');\n"
    assert parse_config_js(src, "c.js").values == {"a": 1}


def test_nginx_nested_locations_across_includes_are_bounded() -> None:
    # crossplane keeps ctx at ("http", "location") for nested locations: depth must be counted.
    files = {f"/etc/nginx/f{i}.conf": "location /a {" * 60 + f"include f{i + 1}.conf;" + "}" * 60 for i in range(16)}
    files["/etc/nginx/f16.conf"] = "gzip on;"
    with pytest.raises(ConfigParseError, match="nested deeper"):
        parse_nginx(files, "/etc/nginx/f0.conf")


def test_nginx_last_token_without_newline_is_not_dropped() -> None:
    # crossplane's lexer emits a token only when something follows it: `a` alone parsed as empty.
    with pytest.raises(ConfigParseError, match="unexpected end of file"):
        parse_nginx({"x": "gzip on;\nserver_tokens off"}, "x")


def test_nginx_percent_in_arguments_does_not_crash_crossplane() -> None:
    # crossplane formats its message with the argument: `%d` raised TypeError inside analyze().
    cfg = parse_nginx({"x": "server { ssl_stapling %d; }"}, "x")
    assert cfg.warnings == ["x:1: invalid arguments to 'ssl_stapling'"]


def test_dotenv_whitespace_run_is_refused_before_the_quadratic_regex() -> None:
    # python-dotenv strips inline comments with `\s+#.*`: 160 000 blanks took a minute.
    with within(1.0), pytest.raises(ConfigParseError, match="blanks in a row"):
        parse_dotenv("A=x" + " " * 160_000 + "y\n", ".env")


def test_pyhocon_failure_leaves_pyparsing_whitespace_as_it_was() -> None:
    before = ParserElement.DEFAULT_WHITE_CHARS
    with pytest.raises(ConfigParseError):
        parse_hocon("a {\n", "broken.conf")
    assert before == ParserElement.DEFAULT_WHITE_CHARS


def test_hocon_durations_are_not_mangled() -> None:
    # pyhocon's duration grammar turned `5m.example.com` into "0:05:00.example.com".
    doc = parse_hocon("host = 5m.example.com\nt = 60 seconds\n", "d.conf")
    assert doc.data == {"host": "5m.example.com", "t": "60 seconds"}


def test_hocon_quoted_keys_lose_their_quotes() -> None:
    doc = parse_hocon('"org.jitsi.x" { e = 2 }\n', "q.conf")
    assert doc.data == {"org.jitsi.x": {"e": 2}}


@pytest.mark.parametrize("src", ['x = (""):rep(1e18)', 'x = string.rep("", 1e18, "")'])
def test_lua_rep_of_an_empty_string_does_not_loop_in_c(src: str) -> None:
    # Lua's str_rep loops n times in C when the result is empty: the instruction hook never fires.
    with within(1.0), pytest.raises(ConfigParseError, match="too large"):
        parse_prosody(src, "r.cfg.lua")


def test_lua_pattern_functions_are_not_reachable_through_the_string_metatable() -> None:
    # string.find/gsub backtrack in C, out of the hook's reach.
    with pytest.raises(ConfigParseError, match="gsub"):
        parse_prosody('x = ("a"):rep(30):gsub("(a*)*b", "")', "p.cfg.lua")


def test_lua_append_line_is_where_the_append_is() -> None:
    cfg = parse_prosody('modules_enabled = {\n  "a";\n}\nmodules_enabled:append { "b" }\n', "a.cfg.lua")
    assert cfg.global_section.option_lines == {"modules_enabled": 4}


def test_lua_limit_hit_inside_the_loader_names_the_config_line() -> None:
    # The hook fired while Include (loader code) ran: the message carried the loader's own chunk
    # name and line instead of the configuration's.
    with pytest.raises(ConfigParseError, match="instruction limit") as err:
        parse_prosody('x = 1\nfor i = 1, 3000000 do Include("x") end\n', "l.cfg.lua")
    assert err.value.line == 2
    assert "string" not in err.value.message
