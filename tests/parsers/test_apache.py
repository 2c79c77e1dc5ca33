from __future__ import annotations

import pytest

from auditor.parsers.apache import ApacheConfig, parse_apache, ssl_protocols
from auditor.parsers.base import ConfigParseError, Location
from tests.parsers.helpers import fixture, needs_reference, reference, within

MAIN = "/etc/apache2/apache2.conf"
PORTS = "/etc/apache2/ports.conf"
SSL = "/etc/apache2/mods-enabled/ssl.conf"
SECURITY = "/etc/apache2/conf-enabled/security.conf"
SITE = "/etc/apache2/sites-enabled/meet.example.org.conf"


def _tree() -> dict[str, str]:
    return {
        MAIN: fixture("apache/apache2.conf"),
        PORTS: fixture("apache/ports.conf"),
        SSL: fixture("apache/ssl.conf"),
        SECURITY: fixture("apache/security.conf"),
        SITE: fixture("apache/meet.example.org.conf"),
        "/etc/apache2/sites-available/000-default.conf": "<VirtualHost *:80>\n</VirtualHost>\n",  # not enabled
        "/etc/apache2/sites-enabled/.meet.conf.swp": "<<< not apache",  # hidden: not matched by *
    }


def _site(text: str, path: str = SITE, **files: str) -> ApacheConfig:
    return parse_apache({path: text, **files}, path)


def test_debian_tree_with_the_jitsi_site() -> None:
    cfg = parse_apache(_tree(), MAIN)
    assert not cfg.site_only
    assert cfg.files == [MAIN, SSL, PORTS, SECURITY, SITE]
    assert [(i.pattern, i.matched, i.optional) for i in cfg.includes] == [
        ("mods-enabled/*.load", [], True),
        ("mods-enabled/*.conf", [SSL], True),
        ("ports.conf", [PORTS], False),
        ("conf-enabled/*.conf", [SECURITY], True),
        ("sites-enabled/*.conf", [SITE], True),
    ]
    assert [i.pattern for i in cfg.unresolved_includes] == ["mods-enabled/*.load"]
    plain, tls = cfg.virtual_hosts
    assert (plain.addresses, plain.ports, plain.server_names, plain.tls) == (["*:80"], [80], ["meet.example.org"], False)
    assert (tls.ports, tls.server_names, tls.tls) == ([443], ["meet.example.org", "www.meet.example.org"], True)
    assert tls.location == Location(SITE, 7)
    # the site's server-level SSLProtocol, read after mods-enabled/ssl.conf's, is the one that counts
    protocol = tls.directive("sslprotocol")
    assert protocol is not None and protocol.location == Location(SITE, 48)
    assert protocol.args == ["all", "-SSLv3", "-TLSv1", "-TLSv1.1"] and protocol.name == "SSLProtocol"
    assert [d.location.path for d in cfg.server_directives if d.key == "sslprotocol"] == [SSL, SITE]
    # conditional sections apply where they stand: ports.conf's <IfModule> Listen lines, ssl.conf's settings
    assert [d.args for d in cfg.server_directives if d.key == "listen"] == [["80"], ["443"], ["443"]]
    # server configuration reaches the virtual hosts: security.conf's values
    tokens = cfg.server_directive("ServerTokens")
    assert tokens is not None and tokens.args == ["OS"] and tokens.location == Location(SECURITY, 2)
    signature = tls.directive("ServerSignature")
    assert signature is not None and signature.location == Location(SECURITY, 3)
    hsts = tls.response_headers()["strict-transport-security"]
    assert (hsts.always, hsts.action, hsts.value, hsts.location) == (True, "set", "max-age=63072000", Location(SITE, 18))
    assert [(r.source, r.target, r.directive.location) for r in plain.redirects()] == [
        ("/", "https://meet.example.org/", Location(SITE, 4))
    ]
    assert tls.redirects() == []  # RewriteRule to /index.html is internal
    assert [(p.path, p.target, p.location.line) for p in cfg.proxies()] == [
        ("/http-bind", "http://localhost:5280/http-bind", 36),
        ("/xmpp-websocket", "ws://localhost:5280/xmpp-websocket", 38),
        ("/colibri-ws/default-id", "ws://localhost:9090/colibri-ws/default-id", 40),
    ]
    directory, location = tls.sections
    assert (directory.key, directory.args, location.key, location.path) == (
        "directory", ["/usr/share/jitsi-meet"], "location", "/config.js"
    )
    assert [s.key for s in cfg.server_sections] == ["directory", "directory", "filesmatch"]


def test_a_lone_site_file() -> None:
    cfg = _site(fixture("apache/meet.example.org.conf"))
    assert cfg.site_only and cfg.files == [SITE]
    tls = cfg.virtual_hosts[1]
    cipher = tls.directive("SSLCipherSuite")
    assert cipher is not None and cipher.location == Location(SITE, 49)
    assert tls.directive("ServerTokens") is None and cfg.server_directive("ServerTokens") is None


def test_site_files_read_together() -> None:
    default = "/etc/apache2/sites-enabled/000-default.conf"
    files = {default: "<VirtualHost *:80>\n  DocumentRoot /var/www/html\n</VirtualHost>\nServerSignature On\n",
             SITE: fixture("apache/meet.example.org.conf")}  # fmt: skip
    cfg = parse_apache(files, [default, SITE])
    assert cfg.site_only and cfg.entry == default and cfg.files == [default, SITE]
    assert [v.location.path for v in cfg.virtual_hosts] == [default, SITE, SITE]
    assert cfg.virtual_hosts[2].directive("ServerSignature").location == Location(default, 4)  # type: ignore[union-attr]
    with pytest.raises(ConfigParseError, match="no entry file"):
        parse_apache(files, [])


@needs_reference
def test_the_jitsi_apache_template_parses() -> None:
    cfg = _site(reference("jitsi-meet/doc/debian/jitsi-meet/jitsi-meet.example-apache"))
    plain, tls = cfg.virtual_hosts
    assert plain.redirects()[0].target == "https://jitsi-meet.example.com/" and not plain.tls
    assert tls.tls and tls.server_names == ["jitsi-meet.example.com"]
    protocol = tls.directive("SSLProtocol")
    assert protocol is not None and ssl_protocols(protocol.args) == (frozenset({"TLSv1.2", "TLSv1.3"}), False)
    assert set(tls.response_headers()) == {"strict-transport-security"}
    assert tls.directive("SSLUseStapling") is None


def test_virtual_host_settings_win_and_headers_add_up() -> None:
    cfg = _site(
        "SSLProtocol all\n"
        "Header always set X-Frame-Options DENY\n"
        "Header set Referrer-Policy no-referrer\n"
        "ServerSignature On\n"
        "<VirtualHost *:443 [::]:443>\n"
        "  SSLProtocol -all +TLSv1.3\n"
        "  Header always unset X-Frame-Options\n"
        "  Header onsuccess set X-Content-Type-Options nosniff\n"
        "  Header always set X-Content-Type-Options nosniff\n"
        "  Header unset Referrer-Policy\n"
        "  Header set Strict-Transport-Security max-age=300\n"
        "  Header always unset Strict-Transport-Security\n"  # other table: the onsuccess one stays
        "</VirtualHost>\n"
    )
    (vhost,) = cfg.virtual_hosts
    assert vhost.ports == [443, 443]
    assert vhost.directive("SSLProtocol") is not None and vhost.directive("sslprotocol").location.line == 6  # type: ignore[union-attr]
    assert vhost.directive("ServerSignature").location.line == 4  # type: ignore[union-attr]
    assert [h.name for h in vhost.headers()][:3] == ["X-Frame-Options", "Referrer-Policy", "X-Frame-Options"]
    effective = vhost.response_headers()
    assert sorted(effective) == ["strict-transport-security", "x-content-type-options"]
    assert effective["x-content-type-options"].always and effective["x-content-type-options"].location.line == 9
    assert not effective["strict-transport-security"].always
    assert not vhost.tls and 443 in vhost.ports  # no SSLEngine on


def test_sslengine_is_inherited_from_the_server_configuration() -> None:
    cfg = _site("SSLEngine on\n<VirtualHost *:8443>\n</VirtualHost>\n<VirtualHost *:80>\n  SSLEngine off\n</VirtualHost>\n")
    assert [v.tls for v in cfg.virtual_hosts] == [True, False]


@pytest.mark.parametrize(
    ("args", "enabled", "replaced"),
    [
        ("all -SSLv3 -TLSv1 -TLSv1.1", {"TLSv1.2", "TLSv1.3"}, False),
        ("-all +TLSv1.2 +TLSv1.3", {"TLSv1.2", "TLSv1.3"}, False),
        ("+TLSv1.2", {"TLSv1.2"}, False),
        ("TLSv1.2 TLSv1.3", {"TLSv1.3"}, True),  # httpd: "Check if a +/- prefix is missing"
        ("all", {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}, False),
        ("all -SSLv3", {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}, False),
        ("-SSLv2 +SSLv3 +TLSv1.2", {"SSLv3", "TLSv1.2"}, False),
        ("-all", set(), False),
    ],
)
def test_ssl_protocols_as_mod_ssl_computes_them(args: str, enabled: set[str], replaced: bool) -> None:
    assert ssl_protocols(args.split()) == (frozenset(enabled), replaced)


@pytest.mark.parametrize("args", ["SSLv2", "+SSLv2", "tlsv1.2", "TLSv1.4", "+ALL"])
def test_ssl_protocols_httpd_refuses(args: str) -> None:
    with pytest.raises(ValueError):
        ssl_protocols(args.split())


def test_includes_resolve_against_server_root_among_the_given_files_only() -> None:
    files = {
        MAIN: (
            "Include conf.d\n"  # a directory: every file below it, sorted
            "IncludeOptional missing/*.conf\n"
            "Include ${APACHE_CONFDIR}/x.conf\n"
            "Include http://example.org/evil.conf\n"
            "Include /etc/hostname\n"  # exists on this machine, never read
            "ServerRoot /srv/httpd\n"
            "Include site.conf\n"
            "<VirtualHost *:443>\n  Include /etc/apache2/snippets/*.conf\n</VirtualHost>\n"
        ),
        "/etc/apache2/conf.d/b.conf": "ServerTokens Prod\n",
        "/etc/apache2/conf.d/a.conf": "ServerSignature Off\n",
        "/etc/apache2/conf.d/sub/c.conf": "TraceEnable Off\n",
        "/etc/apache2/site.conf": "ServerName wrong-root\n",
        "/srv/httpd/site.conf": "ServerName right-root\n",
        "/etc/apache2/snippets/ssl.conf": "SSLEngine on\n",
        "/etc/apache2/snippets/.hidden.conf": "SSLEngine off\n",
    }
    cfg = parse_apache(files, MAIN)
    assert [d.args[0] for d in cfg.server_directives if d.key != "include" and d.key != "includeoptional"] == [
        "Off", "Prod", "Off", "/srv/httpd", "right-root"]
    # an include that named no collected file stays where it stood (what it would set is unknown from there)
    assert [d.text for d in cfg.server_directives[3:7]] == [
        "IncludeOptional missing/*.conf", "Include ${APACHE_CONFDIR}/x.conf", "Include http://example.org/evil.conf",
        "Include /etc/hostname"]
    assert [(i.pattern, i.resolved, i.matched) for i in cfg.unresolved_includes] == [
        ("missing/*.conf", "/etc/apache2/missing/*.conf", []),
        ("${APACHE_CONFDIR}/x.conf", "${APACHE_CONFDIR}/x.conf", []),
        ("http://example.org/evil.conf", "http://example.org/evil.conf", []),
        ("/etc/hostname", "/etc/hostname", []),
    ]
    (vhost,) = cfg.virtual_hosts
    assert vhost.tls and vhost.directive("SSLEngine").location == Location("/etc/apache2/snippets/ssl.conf", 1)  # type: ignore[union-attr]


def test_continuation_quotes_comments_and_case() -> None:
    cfg = _site(
        "# comment \\\n"
        "still the comment\n"
        "<virtualhost *:443>\n"
        "  sslengine On\n"
        "  SSLCipherSuite ECDHE-RSA-AES128-GCM-SHA256:\\\n"
        "      ECDHE-RSA-AES256-GCM-SHA384\n"
        '  HEADER always set Content-Security-Policy "frame-ancestors \'self\'"\n'
        '  Header always set X-Quoted "say \\"hi\\" \\\\ back\\n"\n'
        "  Header always set X-Single 'it''s'\n"
        '  Header always set X-Glued "a"b\n'
        "  ServerName not-a-comment # here\n"
        "  LogFormat x \\ \n"  # a backslash followed by a blank does not continue the line
        "  SSLHonorCipherOrder o\\\n"
        "ff\n"
        "</VIRTUALHOST>\n"
    )
    (vhost,) = cfg.virtual_hosts
    assert vhost.tls and vhost.location.line == 3
    cipher = vhost.directive("sslciphersuite")
    assert cipher is not None and cipher.location.line == 5
    # httpd drops the backslash and newline only: the next line's indentation splits the argument
    assert cipher.args == ["ECDHE-RSA-AES128-GCM-SHA256:", "ECDHE-RSA-AES256-GCM-SHA384"]
    headers = vhost.response_headers()
    assert headers["content-security-policy"].value == "frame-ancestors 'self'"
    assert headers["x-quoted"].value == 'say "hi" \\ back\\n'
    assert headers["x-single"].directive.args == ["always", "set", "X-Single", "it", "s"]
    assert headers["x-glued"].directive.args == ["always", "set", "X-Glued", "a", "b"]
    assert vhost.own("ServerName")[0].args == ["not-a-comment", "#", "here"]
    assert vhost.own("logformat")[0].args == ["x", "\\"] and vhost.own("logformat")[0].location.line == 12
    assert vhost.own("SSLHonorCipherOrder")[0].args == ["off"]


def test_conditional_sections() -> None:
    cfg = _site(
        "<IfModule mod_headers.c>\n  <IfDefine SSL>\n    Header always set X-A 1\n  </IfDefine>\n</IfModule>\n"
        "<IfModule !mod_headers.c>\n  Header always set X-B 1\n</IfModule>\n"
        "<IfVersion >= 2.4>\n  Header always set X-C 1\n</IfVersion>\n"
        "<VirtualHost *:443>\n  <IfModule mod_ssl.c>\n    SSLEngine on\n  </IfModule>\n</VirtualHost>\n"
    )
    (vhost,) = cfg.virtual_hosts
    assert vhost.tls and sorted(vhost.response_headers()) == ["x-a", "x-c"]
    assert cfg.server_sections == []


def test_proxy_mappings_at_every_level() -> None:
    cfg = _site(
        "ProxyPass /about/ http://127.0.0.1:8080/about/\n"
        "<VirtualHost *:443>\n"
        "  ProxyPass /http-bind/ !\n"
        "  ProxyPassMatch ^/colibri/(.*)$ http://127.0.0.1:8080/colibri/$1\n"
        "  RewriteRule ^/debug(.*) http://127.0.0.1:8888/debug$1 [P,L]\n"
        "  RewriteRule ^/old https://meet.example.org/ [R=301]\n"
        "  <Location /stats>\n    ProxyPass http://127.0.0.1:8888/stats\n  </Location>\n"
        '  <LocationMatch "^/metrics">\n    ProxyPass http://127.0.0.1:8080/metrics\n  </LocationMatch>\n'
        "</VirtualHost>\n"
    )
    assert [(p.path, p.target, p.directive.name, p.location.line) for p in cfg.proxies()] == [
        ("/about/", "http://127.0.0.1:8080/about/", "ProxyPass", 1),
        ("^/colibri/(.*)$", "http://127.0.0.1:8080/colibri/$1", "ProxyPassMatch", 4),
        ("^/debug(.*)", "http://127.0.0.1:8888/debug$1", "RewriteRule", 5),
        ("/stats", "http://127.0.0.1:8888/stats", "ProxyPass", 8),
        ("^/metrics", "http://127.0.0.1:8080/metrics", "ProxyPass", 11),
    ]
    assert cfg.virtual_hosts[0].redirects() == []  # no RewriteEngine on in the virtual host


def test_redirect_forms() -> None:
    cfg = _site(
        "<VirtualHost *:80>\n  RedirectMatch 301 ^/(.*)$ https://meet.example.org/$1\n</VirtualHost>\n"
        "<VirtualHost *:80>\n  <Location />\n    Redirect permanent https://meet.example.org/\n  </Location>\n</VirtualHost>\n"
        "<VirtualHost *:80>\n  RewriteEngine On\n  RewriteRule ^ https://%{HTTP_HOST}%{REQUEST_URI} [L,R=301]\n</VirtualHost>\n"
        "<VirtualHost *:80>\n  RedirectPermanent / https://meet.example.org/\n  Redirect gone /old\n</VirtualHost>\n"
    )
    assert [[(r.source, r.target) for r in v.redirects()] for v in cfg.virtual_hosts] == [
        [("^/(.*)$", "https://meet.example.org/$1")],
        [("/", "https://meet.example.org/")],
        [("^", "https://%{HTTP_HOST}%{REQUEST_URI}")],
        [("/", "https://meet.example.org/"), ("", "/old")],
    ]


def _deep_includes(n: int) -> dict[str, str]:
    files = {f"/etc/apache2/conf.d/{i}.conf": f"Include conf.d/{i + 1}.conf\n" for i in range(n)}
    files[MAIN] = "Include conf.d/0.conf\n"
    return files


def _fan_out() -> dict[str, str]:
    """Each level includes the next 8 times: 8^6 splices if nothing bounded it."""
    files = {f"/etc/apache2/l{i}.conf": f"Include l{i + 1}.conf\n" * 8 for i in range(6)}
    files["/etc/apache2/l6.conf"] = "ServerName x\n"
    files[MAIN] = "Include l0.conf\n"
    return files


HOSTILE: list[tuple[str, dict[str, str], str, int | None]] = [
    ("unterminated section", {MAIN: "<VirtualHost *:443>\n  SSLEngine on\n"}, "<VirtualHost> is never closed", 1),
    ("mismatched close", {MAIN: "<VirtualHost *:443>\n<Location />\n</VirtualHost>\n"}, "expected </Location>", 3),
    ("close without open", {MAIN: "ServerName a\n</VirtualHost>\n"}, "closes no open section", 2),
    ("tag without >", {MAIN: "<VirtualHost *:443\nSSLEngine on\n"}, "without its closing '>'", 1),
    ("deep nesting", {MAIN: "<Location /a>\n" * 100 + "</Location>\n" * 100}, "nested deeper than 64", 65),
    ("deep includes", _deep_includes(40), "includes nested deeper than 16", 1),
    ("include cycle", {MAIN: "Include a.conf\n", "/etc/apache2/a.conf": "\nInclude apache2.conf\n"}, "include cycle", 2),
    ("self include", {MAIN: "ServerName a\nIncludeOptional *.conf\n"}, "include cycle", 2),
    ("include fan-out", _fan_out(), "more than 256 included files", 5),  # in l5.conf, depth first
    ("huge line", {MAIN: "ServerName " + "a" * 70_000 + "\n"}, "line longer than 65536", 1),
    ("endless continuation", {MAIN: "ServerName a\n" + "X \\\n" * 40_000}, "line longer than 65536", 2),
    ("comment, then a huge line", {MAIN: "# " + "c" * 300_000 + "\nServerName " + "a" * 70_000 + "\n"}, "line longer than 65536", 2),
    ("binary junk", {MAIN: "ServerName a\n\x01\x02\x03\x7fgarbage\x1b[31m\n"}, "control character U+0001", 2),
    ("NUL bytes", {MAIN: "ServerName a\x00b\n"}, "NUL character", 1),
    ("undecodable bytes", {MAIN: "ServerName a\nServerAlias \udcff\n"}, "not valid UTF-8", 2),
    ("unterminated quote", {MAIN: 'Header set X "abc\n'}, "without its closing quote", 1),
    ("bad name", {MAIN: "ServerName a\n+++ x\n"}, "invalid directive or section name", 2),
    ("too large", {MAIN: "#" * (600 * 1024)}, "file too large", None),
    ("too many directives", {MAIN: "A b\n" * 60_000}, "more than 50000 directives", 50_001),
    ("missing entry", {"/etc/apache2/other.conf": ""}, "entry file not among the provided files", None),
]


@pytest.mark.parametrize(("files", "message", "line"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_one_line_of_error(files: dict[str, str], message: str, line: int | None) -> None:
    with within(2.0), pytest.raises(ConfigParseError) as exc:
        parse_apache(files, MAIN)
    assert message in exc.value.message, exc.value.message
    assert exc.value.line == line
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 400


def test_long_quoted_argument_within_bounds_parses_quickly() -> None:
    with within(1.0):
        cfg = _site('<VirtualHost *:443>\n  Header always set X-Long "' + "a\\\"" * 20_000 + '"\n</VirtualHost>\n')
    assert len(cfg.virtual_hosts[0].response_headers()["x-long"].value or "") == 40_000
