from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from auditor.parsers import nginx
from auditor.parsers.base import ConfigParseError, Location
from auditor.parsers.nginx import NginxDirective, _TreeCache, parse_nginx, split_nginx_dump
from tests.parsers.helpers import fixture, needs_reference, reference, within

MAIN = "/etc/nginx/nginx.conf"
SITE = "/etc/nginx/sites-enabled/meet.example.org.conf"
CERTS = "/etc/nginx/snippets/meet-certs.conf"


def _tree() -> dict[str, str]:
    return {
        MAIN: fixture("nginx/nginx.conf"),
        SITE: fixture("nginx/meet.example.org.conf"),
        CERTS: fixture("nginx/meet-certs.conf"),
        "/etc/nginx/sites-enabled/.meet.conf.swp": "this is not nginx {",  # hidden: not matched by *
        "/etc/nginx/sites-available/default": "server { listen 80 default_server; }",  # not enabled
    }


def test_full_tree_with_inheritance() -> None:
    cfg = parse_nginx(_tree(), MAIN)
    assert not cfg.site_only
    assert cfg.files == [MAIN, SITE, CERTS]
    assert [(s.listen, s.server_names, s.line) for s in cfg.servers] == [
        ([["80"], ["[::]:80"]], ["meet.example.org"], 13),
        ([["443", "ssl", "http2"], ["[::]:443", "ssl", "http2"]], ["meet.example.org"], 30),
    ]
    tls = cfg.servers[1]
    assert tls.ssl and not cfg.servers[0].ssl
    assert tls.location == Location(SITE, 30)
    # the server's own ssl_protocols win over http's; http's ssl_prefer_server_ciphers is overridden too
    assert tls.directive("ssl_protocols") == NginxDirective("ssl_protocols", ["TLSv1.2", "TLSv1.3"], Location(SITE, 36))
    assert tls.directive("ssl_prefer_server_ciphers") == NginxDirective(
        "ssl_prefer_server_ciphers", ["off"], Location(SITE, 38)
    )
    # included snippet, spliced where the include was, with its own file and line
    assert tls.directive("ssl_certificate") == NginxDirective(
        "ssl_certificate", ["/etc/jitsi/meet/meet.example.org.crt"], Location(CERTS, 1)
    )
    assert tls.directive("server_tokens") is None  # commented out in http
    # the plain-HTTP server inherits http's TLS settings
    http_only = cfg.servers[0]
    assert http_only.directive("ssl_protocols") == NginxDirective(
        "ssl_protocols", ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"], Location(MAIN, 23)
    )
    assert [d.name for d in cfg.http_directives][:3] == ["sendfile", "tcp_nopush", "types_hash_max_size"]
    assert [(i.pattern, i.matched) for i in cfg.includes] == [
        ("/etc/nginx/modules-enabled/*.conf", []),
        ("/etc/nginx/mime.types", []),
        ("/etc/nginx/conf.d/*.conf", []),
        ("/etc/nginx/sites-enabled/*", [SITE]),
        ("snippets/meet-certs.conf", [CERTS]),
    ]
    assert [i.pattern for i in cfg.unresolved_includes] == [
        "/etc/nginx/modules-enabled/*.conf",
        "/etc/nginx/mime.types",
        "/etc/nginx/conf.d/*.conf",
    ]


def test_locations_and_the_add_header_rule() -> None:
    tls = parse_nginx(_tree(), MAIN).servers[1]
    assert [(loc.modifier, loc.path, loc.line) for loc in tls.locations] == [
        ("=", "/config.js", 52),
        ("~", "^/(libs|css|static|images|fonts|lang|sounds|.well-known)/(.*)$", 56),
        ("=", "/http-bind", 67),
        ("^~", "/colibri/", 74),
        ("~", "^/colibri/stats", 76),
    ]
    config_js, libs, bosh, colibri, stats = tls.locations
    hsts = NginxDirective("add_header", ["Strict-Transport-Security", "max-age=63072000", "always"], Location(SITE, 43))
    assert config_js.add_headers() == [hsts]  # no add_header of its own: inherits the server's
    assert libs.add_headers() == [  # has its own: the server's HSTS is NOT inherited
        NginxDirective("add_header", ["Access-Control-Allow-Origin", "*"], Location(SITE, 57))
    ]
    assert bosh.directive("limit_req") == NginxDirective("limit_req", ["zone=bosh", "burst=20"], Location(SITE, 71))
    assert [d.name for d in bosh.directives if d.name == "proxy_pass"] == ["proxy_pass"]
    assert colibri.directive("proxy_pass") is not None and colibri.location == Location(SITE, 74)
    assert stats.directive("server_tokens") == NginxDirective("server_tokens", ["on"], Location(SITE, 77))
    assert stats.directive("ssl_protocols") == tls.directive("ssl_protocols")  # nested: inherits through


def test_lone_site_file_without_http_block() -> None:
    cfg = parse_nginx({SITE: fixture("nginx/meet.example.org.conf")}, SITE)
    assert cfg.site_only
    assert cfg.warnings == []  # no context errors for server_names_hash_bucket_size & co.
    assert [d.name for d in cfg.http_directives] == ["server_names_hash_bucket_size"]
    assert len(cfg.servers) == 2
    # relative include resolved against /etc/nginx (the prefix), absent from the map: recorded
    assert [(i.pattern, i.resolved, i.matched) for i in cfg.includes] == [
        ("snippets/meet-certs.conf", "/etc/nginx/snippets/meet-certs.conf", [])
    ]
    assert cfg.servers[1].directive("ssl_certificate") is None


def test_includes_outside_the_map_are_never_read_from_disk() -> None:
    text = (
        "include /etc/passwd;\n"
        "include /etc/nginx/nginx.conf;\n"  # exists on this machine, not in the map
        "include https://example.org/evil.conf;\n"
        "include ../../../../etc/shadow;\n"
        "server { listen 80; }\n"
    )
    cfg = parse_nginx({"/etc/nginx/sites-enabled/x": text}, "/etc/nginx/sites-enabled/x")
    assert cfg.files == ["/etc/nginx/sites-enabled/x"]
    assert [(i.resolved, i.matched) for i in cfg.includes] == [
        ("/etc/passwd", []),
        ("/etc/nginx/nginx.conf", []),
        ("https://example.org/evil.conf", []),
        ("/etc/shadow", []),
    ]
    assert cfg.includes[0].location == Location("/etc/nginx/sites-enabled/x", 1)
    assert len(cfg.servers) == 1


def test_include_cycles_and_fan_out_are_bounded() -> None:
    files = {"/etc/nginx/a.conf": "include b.conf;\nserver { listen 1; }\n", "/etc/nginx/b.conf": "include a.conf;\n"}
    cfg = parse_nginx(files, "/etc/nginx/a.conf")
    assert len(cfg.servers) == 1
    assert any("cycle" in w for w in cfg.warnings)
    # each file includes the next one 50 times: 50**4 statements if expanded naively
    fan = {f"/etc/nginx/f{i}.conf": f"include f{i + 1}.conf;\n" * 50 for i in range(4)}
    fan["/etc/nginx/f4.conf"] = "gzip on;\n"
    with within(5.0), pytest.raises(ConfigParseError, match="more than"):
        parse_nginx(fan, "/etc/nginx/f0.conf")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("server {\n  listen 80\n}\n", 3, 'not terminated by ";"'),
        ("server {\n  listen 80;\n", 2, 'expecting "}"'),
        ("server { }\n}\n", 2, 'unexpected "}"'),
        ("events {}\nhttp {\n  gzip on\n", 3, "unexpected end of file"),
        ("{ a; }\n", 1, 'unexpected "{"'),
        ('server_name "unterminated;\n', 1, "unexpected end of file"),
    ],
)
def test_syntax_errors_carry_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigParseError) as err:
        parse_nginx({"/etc/nginx/nginx.conf": text}, "/etc/nginx/nginx.conf")
    assert err.value.line == line
    assert fragment in err.value.message


def test_directive_problems_are_warnings_not_failures() -> None:
    text = "events {}\nhttp {\n  listen 80;\n  server { ssl_stapling %d; location = /x { } }\n}\n"
    cfg = parse_nginx({"n.conf": text}, "n.conf")
    assert cfg.warnings == [
        'n.conf:3: "listen" directive is not allowed here',
        "n.conf:4: invalid arguments to 'ssl_stapling'",
    ]
    assert cfg.servers[0].locations[0].path == "/x"


def test_bounds_and_bad_input() -> None:
    with pytest.raises(ConfigParseError, match="nested deeper"):
        parse_nginx({"d": "a {" * 100 + "}" * 100}, "d")
    with pytest.raises(ConfigParseError, match="not among"):
        parse_nginx({}, "/etc/nginx/nginx.conf")
    with pytest.raises(ConfigParseError, match="too large"):
        parse_nginx({"b": "gzip on;\n" * 100}, "b", max_bytes=100)
    with pytest.raises(ConfigParseError, match="UTF-8") as err:
        parse_nginx({"u": "gzip on;\nserver_name caf\udce9;\n"}, "u")
    assert err.value.line == 2


def test_location_modifiers_written_without_space() -> None:
    cfg = parse_nginx({"s": "server { location =/a {} location ~*\\.php$ {} location @named {} }"}, "s")
    assert [(loc.modifier, loc.path) for loc in cfg.servers[0].locations] == [
        ("=", "/a"),
        ("~*", "\\.php$"),
        (None, "@named"),
    ]


def test_split_nginx_dump() -> None:
    dump = (
        "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
        "# configuration file /etc/nginx/nginx.conf:\n"
        "http { include /etc/nginx/sites-enabled/*; }\n"
        "\n"
        "# configuration file /etc/nginx/sites-enabled/meet:\n"
        "server { listen 443 ssl; }\n"
    )
    files = split_nginx_dump(dump)
    assert files == {
        "/etc/nginx/nginx.conf": "http { include /etc/nginx/sites-enabled/*; }\n\n",
        "/etc/nginx/sites-enabled/meet": "server { listen 443 ssl; }\n",
    }
    assert parse_nginx(files, "/etc/nginx/nginx.conf").servers[0].listen == [["443", "ssl"]]


@needs_reference
def test_real_jitsi_site_template() -> None:
    name = "jitsi-meet/doc/debian/jitsi-meet/jitsi-meet.example"
    cfg = parse_nginx({"/etc/nginx/sites-available/meet.conf": reference(name)}, "/etc/nginx/sites-available/meet.conf")
    assert cfg.site_only and len(cfg.servers) == 2
    tls = cfg.servers[1]
    assert tls.directive("ssl_protocols") is not None
    assert any(h.args[0] == "Strict-Transport-Security" for h in tls.add_headers())


# -- block trees shared by the hosts of a run ----------------------------------------------------
def test_a_text_seen_before_gives_the_same_config_and_includes_resolve_per_host() -> None:
    main = "events {}\nhttp {\n    server_tokens off;\n    include /etc/nginx/sites-enabled/*;\n}\n"
    host_a = {"/etc/nginx/nginx.conf": main,
              "/etc/nginx/sites-enabled/a": "server { listen 443 ssl; server_name a.example; }\n"}
    host_b = {"/etc/nginx/nginx.conf": main,
              "/etc/nginx/sites-enabled/b": "server { listen 80; server_name b.example; }\n"}
    first = parse_nginx(host_a, "/etc/nginx/nginx.conf")
    again = parse_nginx(host_a, "/etc/nginx/nginx.conf")
    other = parse_nginx(host_b, "/etc/nginx/nginx.conf")
    assert again == first
    assert [s.server_names for s in first.servers] == [["a.example"]]
    assert [s.server_names for s in other.servers] == [["b.example"]]
    assert other.servers[0].listen == [["80"]] and other.files == ["/etc/nginx/nginx.conf", "/etc/nginx/sites-enabled/b"]


def test_a_text_that_fails_fails_every_time_with_its_own_path() -> None:
    for path in ("/etc/nginx/one.conf", "/etc/nginx/two.conf"):
        with pytest.raises(ConfigParseError, match=path):
            parse_nginx({path: "server { listen 80;\n"}, path)


def test_the_tree_cache_is_bounded_by_size() -> None:
    cache = _TreeCache(1000)
    for i in range(50):
        cache.put(f"# {i:03d}" + "x" * 95, [])
    assert cache.size <= 1000 and len(cache.trees) <= 10
    assert cache.get("# 049" + "x" * 95) == [] and cache.get("# 000" + "x" * 95) is None
    cache.put("y" * 200, [])  # larger than an eighth of the bound: never kept
    assert cache.get("y" * 200) is None


def test_hosts_that_reach_the_same_text_at_once_share_one_build(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "events {}\nhttp {\n    server_tokens off; # shared by threads\n}\n"
    built: list[str] = []
    real = nginx._build

    def slow_build(text: str, path: str) -> list[dict[str, Any]]:
        built.append(path)
        time.sleep(0.2)
        return real(text, path)

    monkeypatch.setattr(nginx, "_build", slow_build)
    with ThreadPoolExecutor(max_workers=4) as pool:
        configs = list(pool.map(lambda i: parse_nginx({f"/h{i}/nginx.conf": text}, f"/h{i}/nginx.conf"), range(4)))
    assert len(built) == 1
    assert all(c.http_directives[0].args == ["off"] for c in configs)


def test_the_tls_server_is_chosen_by_listener_ssl_on_or_port_then_domain() -> None:
    site = "/etc/nginx/sites-enabled/x.conf"
    text = ("server { listen 80; server_name a.example; }\n"
            "server { listen 8443; ssl on; server_name other.example; }\n"
            "server { listen 9443 ssl; server_name a.example; }\n")
    conf = parse_nginx({site: text}, site)
    assert [s.server_names for s in conf.servers if s.terminates_tls] == [["other.example"], ["a.example"]]
    chosen = conf.tls_server("a.example")
    assert chosen is not None and chosen.server_names == ["a.example"]
    first = conf.tls_server(None)
    assert first is not None and first.server_names == ["other.example"]  # `ssl on;` counts, as the checks read it


def test_a_quoted_directive_name_opens_its_block() -> None:
    """The "{" that ends a directive opens its block whatever the name's quoting. The builder used to
    look at the name's quotes: the block's statements landed a level up and its "}" popped the file's
    own level (an IndexError on the next statement, found by the parser fuzz at 10 000 examples)."""
    site = "/etc/nginx/sites-enabled/x.conf"
    conf = parse_nginx({site: '"server" {\n    listen 443 ssl;\n    "location" /x { proxy_pass http://127.0.0.1:8080; }\n}\n'},
                       site)
    assert [s.listen for s in conf.servers] == [[["443", "ssl"]]]
    assert [(loc.path, loc.directive("proxy_pass") is not None) for loc in conf.servers[0].locations] == [("/x", True)]
    fuzzed = "types {\n    application/wasm wasm;\n}''\n\nupstream prosody {\n    keepalive 2;\n}\n\nserver {"
    with pytest.raises(ConfigParseError, match='expecting "}"'):
        parse_nginx({site: fuzzed}, site)
