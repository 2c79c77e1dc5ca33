"""Hostile configuration trees: each is tests/fixtures/debian-current (a clean 2025 quick-install)
with ONE hostile change, built in a temporary directory and audited end to end with `--root`.

Each scenario says which groups of facts must stay exactly as in the clean tree (`intact`: the rest of
the audit is not disturbed), which must become unknown rather than guessed (`unknown`), which
collected file must say what happened (`item`: path -> status) and which paths the target's notes
must name (`noted`). Outside the tree there is an `outside/` directory with canary files: includes
and symlinks point at it, and its content must never appear in any output. URL includes point at a
loopback HTTP server that counts requests: it must see none.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from tests.security.support import FIXTURES

BASE = FIXTURES / "debian-current"
DOMAIN = "meet.example.com"
PROSODY_HOST = f"/etc/prosody/conf.avail/{DOMAIN}.cfg.lua"
PROSODY_ENABLED = f"/etc/prosody/conf.d/{DOMAIN}.cfg.lua"
PROSODY_MAIN = "/etc/prosody/prosody.cfg.lua"
CONFIG_JS = f"/etc/jitsi/meet/{DOMAIN}-config.js"
NGINX_SITE = f"/etc/nginx/sites-available/{DOMAIN}.conf"
NGINX_ENABLED = f"/etc/nginx/sites-enabled/{DOMAIN}.conf"
JICOFO = "/etc/jitsi/jicofo/jicofo.conf"
JVB = "/etc/jitsi/videobridge/jvb.conf"

# Facts by the file they come from. `prosody` are those of the Jitsi vhost file; `prosody_wide` also
# depend on prosody's main file, so they are only compared when prosody is meant to be intact.
GROUPS: dict[str, tuple[str, ...]] = {
    "web": ("web.tls_protocols", "web.weak_tls", "web.hsts"),
    "prosody": (
        "auth.main",
        "auth.secure_domain",
        "lobby.enabled",
        "rooms.breakout",
        "moderation.av",
        "xmpp.c2s_require_encryption",
    ),
    "prosody_wide": ("auth.guest_domain", "xmpp.rate_limit"),
    "config_js": ("p2p.enabled", "privacy.third_party_requests", "web.welcome_page"),
    "jvb": ("jvb.rest_public",),
}
ALL_GROUPS = ("web", "prosody", "config_js", "jvb")
NOT_WEB = ("prosody", "config_js", "jvb")
NOT_PROSODY = ("web", "config_js", "jvb")
NOT_CONFIG_JS = ("web", "prosody", "jvb")
OUTSIDE_CANARY = "CANARY-outside-the-root-6d1f0c93a4e2"  # in every file outside the tree

ESC_VALUE = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x9b31m\u202eevil\x08\x7f"
ESC_NAME = "esc\x1b]0;owned\x07\x1b[2J\x1b[31mred\x9b31m\u202eevil\x08"
HTML_VALUE = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))|`</td>=cmd|'/C calc'!A0"
HTML_NAME = "=cmd|' <script>alert(1)<|script><img src=x onerror=alert(2)>[x](javascript:alert(3))`|"


@dataclass(frozen=True)
class Ctx:
    root: Path  # the tree being built (its /etc is root/etc)
    outside: Path  # a directory next to it, never to be read
    url: str  # a loopback HTTP server that counts requests
    pwned: Path  # a file that hostile code would create


@dataclass(frozen=True)
class Hostile:
    name: str
    what: str
    build: Callable[[Ctx], None]
    intact: tuple[str, ...] = ()  # fact groups equal to the clean tree
    unknown: tuple[str, ...] = ()  # fact groups that must be null (not guessed)
    item: dict[str, str] = field(default_factory=dict)  # collected key -> status
    noted: tuple[str, ...] = ()  # paths that the target's notes must name
    outside_file: bool = False  # links / includes point at outside/
    incomplete: bool = False  # files were left unread: the target is incomplete (exit 3)
    kind: str = ""  # size, encoding, links, injection, code, includes, nesting


# -- building blocks -----------------------------------------------------------------------------
def _path(c: Ctx, path: str) -> Path:
    return c.root / path.lstrip("/")


def _write(c: Ctx, path: str, data: str | bytes) -> None:
    p = _path(c, path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.is_symlink() or p.exists():
        p.unlink()
    p.write_bytes(data.encode() if isinstance(data, str) else data)


def _append(c: Ctx, path: str, text: str) -> None:
    p = _path(c, path)
    p.write_text(p.read_text() + text)


def _prepend(c: Ctx, path: str, text: str) -> None:
    p = _path(c, path)
    p.write_text(text + "\n" + p.read_text())


def _link(c: Ctx, path: str, target: str) -> None:
    p = _path(c, path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.is_symlink() or p.exists():
        p.unlink()
    os.symlink(target, p)


def _outside_files(c: Ctx) -> None:
    c.outside.mkdir(parents=True, exist_ok=True)
    (c.outside / "evil.conf").write_text(
        f"# {OUTSIDE_CANARY}\nssl_protocols SSLv3 TLSv1;\nadd_header X-Outside {OUTSIDE_CANARY};\n"
    )
    (c.outside / "evil.cfg.lua").write_text(
        f'-- {OUTSIDE_CANARY}\nVirtualHost "{DOMAIN}"\n    authentication = "internal_plain"\n'
        f'    component_secret = "{OUTSIDE_CANARY}"\n'
    )
    (c.outside / "evil.hocon").write_text(f'jicofo {{ xmpp {{ client {{ password = "{OUTSIDE_CANARY}" }} }} }}\n')
    (c.outside / "jicofo.conf").write_text(f"# {OUTSIDE_CANARY}\njicofo {{ }}\n")


def _quoted(value: str) -> str:
    """A double-quoted string literal of Lua and nginx."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _inject(c: Ctx, value: str, dir_name: str) -> None:
    """`value` in an nginx header, in a prosody vhost (appended: the Jitsi vhost is untouched) and in a
    directory name whose jvb.conf does not parse, so that path is in the notes of every report."""
    site = _path(c, NGINX_SITE)
    header = f"    add_header X-Hostile {_quoted(value)};\n"
    site.write_text(site.read_text().replace("    listen 443 ssl http2;\n", "    listen 443 ssl http2;\n" + header, 1))
    _append(c, PROSODY_HOST, f'\nVirtualHost "hostile.example"\n    authentication = {_quoted(value)}\n')
    _write(c, f"/srv/{dir_name}/jvb.conf", "videobridge {\n")


# -- the scenarios' builders ---------------------------------------------------------------------
def config_js_50mb(c: Ctx) -> None:
    _write(c, CONFIG_JS, "var config = { p2p: { enabled: false } };\n")
    with _path(c, CONFIG_JS).open("r+b") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB as far as stat and read are concerned


def prosody_host_5mb(c: Ctx) -> None:
    _append(c, PROSODY_HOST, ("-- " + "x" * 1021 + "\n") * 5 * 1024)


def nginx_900kb_line(c: Ctx) -> None:
    _append(c, NGINX_SITE, "# " + "A" * 900_000 + "\n")


def many_files_after_etc(c: Ctx) -> None:
    for i in range(6000):
        _write(c, f"/srv/junk/{i:05d}.txt", "x")


def many_files_before_etc(c: Ctx) -> None:
    for i in range(6000):
        _write(c, f"/aaa/{i:05d}", "x")


def deep_directories(c: Ctx) -> None:
    _write(c, "/srv/" + "/".join(["d"] * 40) + "/jicofo.conf", "jicofo { }\n")


def config_js_binary(c: Ctx) -> None:
    _write(c, CONFIG_JS, bytes(range(256)) * 8 + b"\x00\xff\xfe" * 300)


def prosody_latin1(c: Ctx) -> None:
    p = _path(c, PROSODY_HOST)
    p.write_bytes(b'-- caf\xe9 \xff\xfe\nmuc_room_locking_msg = "\xe9t\xe9"\n' + p.read_bytes())


def nginx_invalid_utf8(c: Ctx) -> None:
    p = _path(c, NGINX_SITE)
    data = p.read_bytes().replace(
        b"    server_name meet.example.com;", b"    server_name meet.example.com bad\xff\xfe\xc3.example;", 1
    )
    p.write_bytes(b"# \xc3\x28 \xa0\xa1 \xed\xa0\x80\n" + data)


def prosody_symlink_loop(c: Ctx) -> None:
    _link(c, PROSODY_ENABLED, "loop-b.cfg.lua")
    _link(c, "/etc/prosody/conf.d/loop-b.cfg.lua", f"{DOMAIN}.cfg.lua")


def directory_symlink_loop(c: Ctx) -> None:
    _link(c, "/etc/nginx/sites-available/up", "..")
    _link(c, "/etc/jitsi/root", "../..")


def jicofo_link_outside(c: Ctx) -> None:
    _outside_files(c)
    _link(c, JICOFO, str(c.outside / "jicofo.conf"))
    _link(c, "/etc/jitsi/jicofo/rel.conf", "../../../../outside/jicofo.conf")


def nginx_site_link_to_shadow(c: Ctx) -> None:
    _link(c, "/etc/nginx/sites-enabled/zz-shadow", "/etc/shadow")


def fifo_as_config(c: Ctx) -> None:
    _path(c, JVB).unlink()
    os.mkfifo(_path(c, JVB))


def terminal_escapes(c: Ctx) -> None:
    _inject(c, ESC_VALUE, ESC_NAME)


def markup_injection(c: Ctx) -> None:
    _inject(c, HTML_VALUE, HTML_NAME)


def lua_os_execute(c: Ctx) -> None:
    _prepend(c, PROSODY_HOST, f'os.execute("touch {c.pwned}")')


def lua_io_open(c: Ctx) -> None:
    _outside_files(c)
    _prepend(c, PROSODY_HOST, f'admins = {{ io.open("{c.outside / "jicofo.conf"}"):read("*a") }}')


def lua_require_dofile_load(c: Ctx) -> None:
    _prepend(c, PROSODY_HOST, 'local s = require "socket"\ndofile("/etc/passwd")\nload("return 1")()')


def lua_endless_loop(c: Ctx) -> None:
    _prepend(c, PROSODY_HOST, "while true do end")


def lua_memory_bomb(c: Ctx) -> None:
    _prepend(c, PROSODY_HOST, 'local t = {} local s = "x" for i = 1, 1e9 do s = s .. s; t[i] = s end')


def lua_deep_recursion(c: Ctx) -> None:
    _prepend(c, PROSODY_HOST, "local function f(n) return f(n + 1) + 1 end\nf(1)")


def js_endless_loop(c: Ctx) -> None:
    _prepend(c, CONFIG_JS, "while (true) {}")


def js_memory_bomb(c: Ctx) -> None:
    _prepend(c, CONFIG_JS, "var a = []; for (;;) { a.push(new Array(1000000).fill(1)); }")


def js_host_access(c: Ctx) -> None:
    _prepend(
        c,
        CONFIG_JS,
        "var fs = (typeof require === 'function') ? require('fs') : null;\n"
        "if (typeof std !== 'undefined') { std.loadFile('/etc/passwd'); }\n"
        f"if (typeof os !== 'undefined') {{ os.exec(['touch', '{c.pwned}']); }}\n"
        f"fetch('{c.url}/js'); new XMLHttpRequest().open('GET', '{c.url}/xhr');",
    )


def hocon_includes(c: Ctx) -> None:
    _outside_files(c)
    _write(
        c,
        JICOFO,
        f'include url("{c.url}/jicofo.conf")\ninclude required(file("{c.outside / "evil.hocon"}"))\n'
        'include "../../../../outside/evil.hocon"\ninclude classpath("reference.conf")\n'
        + (BASE / JICOFO.lstrip("/")).read_text(),
    )


def nginx_includes(c: Ctx) -> None:
    _outside_files(c)
    p = _path(c, NGINX_SITE)
    extra = (
        f"    include {c.outside / 'evil.conf'};\n    include ../../../outside/evil.conf;\n"
        f"    include {c.outside}/*.conf;\n"
    )
    p.write_text(p.read_text().replace("    listen 443 ssl http2;\n", "    listen 443 ssl http2;\n" + extra, 1))


def prosody_includes(c: Ctx) -> None:
    _outside_files(c)
    _append(c, PROSODY_MAIN, f'Include "{c.outside / "evil.cfg.lua"}"\nInclude "../../../outside/*.cfg.lua"\n')


def js_deep_nesting(c: Ctx) -> None:
    _prepend(c, CONFIG_JS, "var deep = " + "[" * 100_000 + "]" * 100_000 + ";")


def lua_deep_nesting(c: Ctx) -> None:
    _prepend(c, PROSODY_HOST, "deep = " + "{" * 100_000 + "}" * 100_000)


def hocon_deep_nesting(c: Ctx) -> None:
    _write(c, JVB, "a " + "{ a " * 50_000 + "}" * 50_000 + "\n")


def nginx_deep_nesting(c: Ctx) -> None:
    _append(c, NGINX_SITE, "server { " + "location / { " * 20_000 + "}" * 20_000 + " }\n")


APACHE_SITE = f"/etc/apache2/sites-enabled/{DOMAIN}.conf"


def _apache_front(c: Ctx, inside: str = "", after: str = "") -> None:
    """The web front becomes Apache (nginx's files removed): a Jitsi site with `inside` in its HTTPS
    virtual host and `after` following it."""
    shutil.rmtree(_path(c, "/etc/nginx"))
    _write(c, "/etc/apache2/apache2.conf", "ServerRoot /etc/apache2\nServerTokens Prod\n"
           "IncludeOptional sites-enabled/*.conf\n")
    _write(c, APACHE_SITE, f"<VirtualHost *:443>\n    ServerName {DOMAIN}\n    SSLEngine on\n"
           "    SSLProtocol -all +TLSv1.2 +TLSv1.3\n    DocumentRoot /usr/share/jitsi-meet\n"
           f"    ProxyPass /http-bind http://localhost:5280/http-bind\n{inside}</VirtualHost>\n{after}")


def apache_includes(c: Ctx) -> None:
    _outside_files(c)
    (c.outside / "evil.apache.conf").write_text(f"# {OUTSIDE_CANARY}\nSSLProtocol all\nHeader set X-Outside {OUTSIDE_CANARY}\n")
    _apache_front(c, f"    Include {c.outside / 'evil.apache.conf'}\n    Include ../../../outside/evil.apache.conf\n"
                  f"    IncludeOptional {c.outside}/*.conf\n")


def apache_include_cycle(c: Ctx) -> None:
    _apache_front(c, after=f"Include {APACHE_SITE}\n")


def apache_deep_nesting(c: Ctx) -> None:
    _apache_front(c, "<Location />\n" * 20_000 + "</Location>\n" * 20_000)


def yaml_bombs(c: Ctx) -> None:
    laughs = ["a: &a [" + ",".join(["lol"] * 10) + "]"]
    for i in range(1, 12):
        laughs.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 10) + "]")
    body = "\n".join("  " + line for line in laughs)
    _write(c, "/opt/jitsi/docker-compose.yml", f"x-bomb:\n{body}\nservices:\n  web:\n    image: jitsi/web\n")
    _write(c, "/opt/deep/docker-compose.yml", "services: " + "[" * 50_000 + "]" * 50_000 + "\n")


def regex_traps(c: Ctx) -> None:
    # Comments, so that every file still parses: the text is for the redaction's patterns alone. An
    # unclosed quoted secret over a run of backslashes (exponential before the fix), a 100 000-character
    # name before a separator, and 50 000 blank lines after a setting.
    _append(c, PROSODY_HOST, "-- component_secret = '" + "\\" * 400 + "\n")
    _append(c, PROSODY_HOST, "-- " + "a_" * 50_000 + "password = 'x'\n")
    _append(c, PROSODY_HOST, "-- password =" + " " * 50_000 + "\n" * 50_000)
    # a file whose role is sniffed from its first 64 KB, all blank lines (175 s of sniffing before)
    _write(c, "/etc/jitsi/meet/notes.txt", "\n" * 200_000)


H = Hostile
_SCENARIOS: list[Hostile] = [
    # size and count caps
    H("config-js-50mb", "config.js of 50 MB", config_js_50mb, NOT_CONFIG_JS, ("config_js",), {CONFIG_JS: "too_large"}),
    H("prosody-host-5mb", "prosody host file of 5 MB (valid, padded with comments)", prosody_host_5mb, NOT_PROSODY,
      ("prosody",), {PROSODY_HOST: "too_large"}),
    H("nginx-900kb-line", "nginx site with one 900 KB line (under the size cap)", nginx_900kb_line, NOT_WEB, ("web",),
      noted=(NGINX_ENABLED,)),
    H("many-files", "6 000 extra files (over the file-count cap), read after /etc", many_files_after_etc, ALL_GROUPS,
      incomplete=True),
    H("junk-ahead-of-the-configuration", "6 000 files read before /etc: the configuration is never reached",
      many_files_before_etc, (), ALL_GROUPS, incomplete=True),
    H("deep-directories", "a directory chain 40 levels deep", deep_directories, ALL_GROUPS, incomplete=True),
    # encodings
    H("config-js-binary", "config.js replaced by binary bytes (NULs, invalid UTF-8)", config_js_binary, NOT_CONFIG_JS,
      ("config_js",), noted=(CONFIG_JS,)),
    H("prosody-latin1", "prosody host file with Latin-1 bytes in a comment and a value", prosody_latin1, ALL_GROUPS),
    H("nginx-invalid-utf8", "nginx site with invalid UTF-8 in a comment and in server_name", nginx_invalid_utf8,
      ALL_GROUPS),
    # links and special files
    H("prosody-include-symlink-loop", "the enabled prosody host file is a symlink loop", prosody_symlink_loop,
      NOT_PROSODY, ("prosody",), {PROSODY_ENABLED: "not_regular"}, (PROSODY_ENABLED,)),
    H("directory-symlink-loop", "directory symlinks to the parent and to the root", directory_symlink_loop,
      ALL_GROUPS, item={"/etc/nginx/sites-available/up": "not_regular", "/etc/jitsi/root": "not_regular"}),
    H("jicofo-link-outside", "jicofo.conf is a symlink out of the tree (absolute and ../)", jicofo_link_outside,
      ALL_GROUPS, item={JICOFO: "not_regular", "/etc/jitsi/jicofo/rel.conf": "not_regular"}, noted=(JICOFO,),
      outside_file=True),
    H("nginx-site-link-to-etc-shadow", "an enabled nginx site is a symlink to /etc/shadow", nginx_site_link_to_shadow,
      NOT_WEB, ("web",), {"/etc/nginx/sites-enabled/zz-shadow": "not_regular"}, ("/etc/nginx/sites-enabled/zz-shadow",)),
    H("fifo-as-config", "jvb.conf is a FIFO (a read would block forever)", fifo_as_config, ("web", "prosody", "config_js"),
      item={JVB: "not_regular"}, noted=(JVB,)),
    # output injection
    H("terminal-escapes", "OSC/CSI/C1 escapes, BEL, BS, DEL, bidi override in values and a path", terminal_escapes,
      ("prosody", "config_js", "jvb"), noted=(f"/srv/{ESC_NAME}/jvb.conf",)),
    H("html-markdown-csv-injection", "HTML/JS, Markdown link, pipes, backticks, CSV formula in values and a path",
      markup_injection, ("prosody", "config_js", "jvb"), noted=(f"/srv/{HTML_NAME}/jvb.conf",)),
    # code in configuration: Lua (prosody) and JavaScript (config.js)
    H("lua-os-execute", "prosody config calls os.execute", lua_os_execute, NOT_PROSODY, ("prosody",),
      noted=(PROSODY_HOST,)),
    H("lua-io-open", "prosody config reads a file out of the tree with io.open", lua_io_open, NOT_PROSODY, ("prosody",),
      noted=(PROSODY_HOST,), outside_file=True),
    H("lua-require-dofile-load", "prosody config calls require, dofile and load", lua_require_dofile_load, NOT_PROSODY,
      ("prosody",), noted=(PROSODY_HOST,)),
    H("lua-endless-loop", "prosody config loops forever", lua_endless_loop, NOT_PROSODY, ("prosody",),
      noted=(PROSODY_HOST,)),
    H("lua-memory-bomb", "prosody config doubles a string without end", lua_memory_bomb, NOT_PROSODY, ("prosody",),
      noted=(PROSODY_HOST,)),
    H("lua-deep-recursion", "prosody config recurses without end", lua_deep_recursion, NOT_PROSODY, ("prosody",),
      noted=(PROSODY_HOST,)),
    H("js-endless-loop", "config.js loops forever", js_endless_loop, NOT_CONFIG_JS, ("config_js",), noted=(CONFIG_JS,)),
    H("js-memory-bomb", "config.js allocates without end", js_memory_bomb, NOT_CONFIG_JS, ("config_js",),
      noted=(CONFIG_JS,)),
    H("js-host-access", "config.js reaches for require, std/os modules, fetch and XHR", js_host_access, NOT_CONFIG_JS,
      ("config_js",), noted=(CONFIG_JS,)),
    # includes that lead out of the tree
    H("hocon-include-url-and-outside", "jicofo.conf includes a URL, files out of the tree, a classpath resource",
      hocon_includes, ALL_GROUPS, outside_file=True),
    H("nginx-include-outside", "nginx site includes files out of the tree (absolute, ../, glob) that weaken TLS",
      nginx_includes, ALL_GROUPS, outside_file=True),
    H("prosody-include-outside", "prosody.cfg.lua includes files out of the tree (absolute and ../)", prosody_includes,
      NOT_PROSODY, outside_file=True),
    H("apache-include-outside", "the Apache site includes files out of the tree (absolute, ../, glob) that weaken TLS",
      apache_includes, NOT_WEB, outside_file=True),
    H("apache-include-cycle", "the Apache site includes itself", apache_include_cycle, NOT_WEB, ("web",),
      noted=(APACHE_SITE,)),
    # nesting
    H("js-deep-nesting", "config.js with 100 000 nested arrays", js_deep_nesting, NOT_CONFIG_JS, ("config_js",),
      noted=(CONFIG_JS,)),
    H("lua-deep-nesting", "prosody host file with 100 000 nested tables", lua_deep_nesting, NOT_PROSODY, ("prosody",),
      noted=(PROSODY_HOST,)),
    H("hocon-deep-nesting", "jvb.conf with 50 000 nested objects", hocon_deep_nesting, ("web", "prosody", "config_js"),
      noted=(JVB,)),
    H("nginx-deep-nesting", "nginx site with 20 000 nested location blocks", nginx_deep_nesting, NOT_WEB, ("web",),
      noted=(NGINX_ENABLED,)),
    H("apache-deep-nesting", "Apache site with 20 000 nested <Location> sections", apache_deep_nesting, NOT_WEB,
      ("web",), noted=(APACHE_SITE,)),
    H("yaml-bombs", "compose files with a billion-laughs alias bomb and 50 000 nested sequences", yaml_bombs,
      ALL_GROUPS),
    # text shaped against the patterns that read it
    H("regex-traps", "prosody comments with 400 backslashes in an open quote, a 100 000-character name, "
      "50 000 blank lines; a file of 200 000 blank lines", regex_traps, ALL_GROUPS),
]  # fmt: skip
# The kind of each scenario, in the order of the list above.
_KINDS = ["size"] * 6 + ["encoding"] * 3 + ["links and special files"] * 5 + ["output injection"] * 2 + \
    ["code in configuration"] * 9 + ["includes out of the tree"] * 5 + ["nesting"] * 6 + \
    ["pathological text"]  # fmt: skip
assert len(_KINDS) == len(_SCENARIOS)
SCENARIOS = [replace(s, kind=k) for s, k in zip(_SCENARIOS, _KINDS, strict=True)]


def build(scenario: Hostile, base_dir: Path, url: str, pwned: Path) -> Path:
    """Copy the clean tree, apply the scenario; returns the root to audit."""
    root = base_dir / scenario.name / "tree"
    shutil.copytree(BASE, root, symlinks=True)
    scenario.build(Ctx(root, base_dir / scenario.name / "outside", url, pwned))
    return root
