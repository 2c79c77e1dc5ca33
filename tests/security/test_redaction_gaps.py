"""Secret positions the lexical redaction once missed, found by a red-team pass with canaries.

Each case puts a canary where a real deployment (or an edit of one) can hold a secret and asserts it is
gone from the prepared (redacted) snapshot, which is what every report, saved snapshot and evidence
bundle is made from; one end-to-end run checks every output of the CLI as well.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.engine import prepare_snapshot
from auditor.parsers.base import ConfigParseError
from auditor.parsers.prosody import parse_prosody
from auditor.redaction import MARKER_RE, redact_snapshot
from auditor.secret_settings import secret_settings
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot
from tests.security.support import all_outputs, files_snapshot, find_leaks, report_args, run_cli

CANARY_RE = re.compile(r"CANARY\d+[A-Za-z0-9]*")


def _left(snap: Snapshot) -> list[str]:
    text = "\n".join(i.content.decode() for i in snap.items.values() if i.content is not None)
    return sorted(set(CANARY_RE.findall(text)))


# One file per case, each valid in its format unless its name says otherwise.
CASES: dict[str, tuple[str, str]] = {
    # HOCON's triple-quoted strings, on one line and over several
    "hocon-triple": ("/etc/jitsi/jibri/jibri.conf", 'jibri { call-login { password = """CANARY1xyzTriple""" } }\n'),
    "hocon-triple-multiline": (
        "/etc/jitsi/jibri/other/jibri.conf",
        'jibri { xmpp-login { password = """\nCANARY2xyzTripleLines\n""" } }\n',
    ),
    # concatenations: HOCON's juxtaposed strings, Lua's `..` at a line's end, a variable between pieces
    "hocon-concat": ("/etc/jitsi/jicofo/jicofo.conf", 'jicofo { xmpp { service { password = "CANARY3a" "CANARY3xyzJuxta" } } }\n'),
    "lua-concat": (
        "/etc/prosody/conf.d/concat.cfg.lua",
        'VirtualHost "c.example.org"\n  app_secret = "CANARY4a" ..\n      "CANARY4xyzNextLine" .. suffix .. "CANARY4xyzAfterVar"\n',
    ),
    # a Lua long string over several lines
    "lua-long": ("/etc/prosody/conf.d/long.cfg.lua", 'VirtualHost "l.example.org"\n  app_secret = [==[\nCANARY5xyzLongString\n]==]\n'),
    # references: HOCON substitutions (also nested paths), dotenv ${VAR}, a Lua variable
    "hocon-subst": (
        "/etc/jitsi/videobridge/jvb.conf",
        'creds { p = "CANARY6xyzHoconRef" }\nvideobridge { apis { xmpp-client { configs { shard {'
        " PASSWORD = ${creds.p} } } } } }\n",
    ),
    "dotenv-subst": ("/srv/jitsi/.env", "BASE=CANARY7xyzEnvRef\nJWT_APP_SECRET=${BASE}\nJVB_AUTH_PASSWORD=$BASE\n"),
    "lua-variable": (
        "/etc/prosody/conf.d/var.cfg.lua",
        'local k = "CANARY8xyzLuaVar"\nVirtualHost "v.example.org"\n  app_secret = k\n',
    ),
    # what only a parser reads: an escaped properties key, a dotenv value over two lines
    "properties-escaped-key": (
        "/etc/jitsi/videobridge/sip-communicator.properties",
        "org.jitsi.videobridge.xmpp.user.shard.PASS\\u0057ORD=CANARY9xyzEscapedKey\n"
        "org.jitsi.videobridge.xmpp.user.shard2.PASSWORD=CANARY10xyz\\\n    ContinuedTail10\n",
    ),
    "dotenv-multiline": ("/srv/jitsi2/.env", 'JICOFO_AUTH_PASSWORD="CANARY11a\nCANARY11xyzSecondLine"\n'),
    # command-line options: coturn's defaults file, a systemd unit, JAVA_SYS_PROPS
    "coturn-options": (
        "/etc/default/coturn",
        'EXTRA_OPTIONS="--static-auth-secret=CANARY12xyzOption --cli-password CANARY12xyzSpaced"\n',
    ),
    "systemd": (
        "/etc/systemd/system/coturn.service.d/override.conf",
        "[Service]\nEnvironment=JICOFO_AUTH_PASSWORD=CANARY13xyzEnvironment\n"
        "ExecStart=/usr/bin/turnserver --static-auth-secret CANARY13xyzExecStart\n",
    ),
    "java-sys-props": ("/etc/jitsi/jicofo/config", 'JAVA_SYS_PROPS="-Dorg.jitsi.jicofo.auth.PASSWORD=CANARY14xyzSysProp"\n'),
    # coturn: user= quoted and `user NAME:KEY`; a database URL whose password holds a slash
    "coturn-users": (
        "/etc/turnserver.conf",
        'user="alice:CANARY15xyzQuotedUser"\nuser bob:CANARY15xyzSpacedUser\n'
        'mongo-userdb="mongodb://u:CANARY15xyz/Slash@localhost/coturn"\n',
    ),
    # prosody internal_hashed accounts read whole by --root: the SCRAM keys allow offline guessing
    "scram": (
        "/var/lib/prosody/auth%2eexample%2eorg/accounts/focus.dat",
        'return {\n\t["stored_key"] = "CANARY16xyzStoredKey";\n\t["server_key"] = "CANARY16xyzServerKey";\n};\n',
    ),
    # directives that set a secret-named variable or parameter
    "nginx-set": (
        "/etc/nginx/sites-enabled/extra.conf",
        'server {\n  set $jwt_secret "CANARY17xyzNginxSet";\n  fastcgi_param DB_PASSWORD CANARY17xyzFastcgi;\n}\n',
    ),
    "apache-setenv": ("/etc/apache2/sites-enabled/x.conf", "<VirtualHost *:443>\n  SetEnv JWT_SECRET CANARY18xyzSetEnv\n</VirtualHost>\n"),
    # a secret in a Lua comment, the key right after `--`
    "lua-comment": ("/etc/prosody/conf.d/comment.cfg.lua", '--app_secret = "CANARY19xyzCommentedOut"\n'),
    # a PuTTY private key
    "ppk": (
        "/home/ops/deploy.ppk",
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 1\nAAAAC3NzaC1lZDI1NTE5\n"
        "Private-Lines: 1\nCANARY20xyzPuttyPrivate\nPrivate-MAC: 00ff\n",
    ),
    # broken files: a long string or triple quote left open, a comment between key and value
    "hocon-triple-broken": ("/etc/jitsi/jibri/broken/jibri.conf", 'jibri { call-login { password = """\nCANARY21xyzOpenTriple\n'),
    "hocon-comment-between": (
        "/etc/jitsi/videobridge/c/jvb.conf",
        'videobridge { apis { xmpp-client { configs { shard { PASSWORD = // the password\n "CANARY22xyzAfterComment" } } } } }\n',
    ),
    # a JSON Web Token under a name nothing marks as secret, and credentials in a URL's query
    "jwt-anywhere": (
        "/etc/nginx/conf.d/upstream.conf",
        'map $host $upstream_auth {\n    default "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqaWJyaSJ9.CANARY25xyzJwtSignature";\n}\n',
    ),
    "query-token": (
        "/etc/jitsi/meet/q-config.js",
        "var config = { dialInNumbersUrl: 'https://dial.example.org/numbers?token=CANARY26xyzQueryToken&x=1',\n"
        "    callStatsUrl: 'https://stats.example.org/?a=1&api_key=CANARY27xyzApiKey' };\n",
    ),
    # YAML: block scalars, a block sequence of secrets, a plain scalar on the next line, compose's list form
    "yaml-block-scalars": (
        "/srv/jitsi/docker-compose.yml",
        "services:\n  web:\n    image: jitsi/web\n    environment:\n      JWT_APP_SECRET: >-\n        CANARY31xyzFolded\n"
        "        CANARY31xyzFoldedMore\n      TURN_PASSWORD: |+\n        CANARY32xyzLiteral\n\n"
        "      DB_PASSWORD:\n        CANARY33xyzNextLine\n  jicofo:\n    image: jitsi/jicofo\n    environment:\n"
        '      - JICOFO_AUTH_PASSWORD=CANARY34xyzListEnv\n      - "JVB_AUTH_PASSWORD=CANARY34xyzQuotedItem"\n',
    ),
    "yaml-lists": (
        "/srv/jitsi/jibri.yml",
        'passwords:\n  - CANARY35xyzItem\n  - "CANARY35xyzQuotedItem"\nupload:\n  secret_key:\n  - CANARY36xyzSameIndent\n',
    ),
    # a properties key and its value both written with escapes (and a key without any secret word as written)
    "properties-escaped-key-and-value": (
        "/etc/jitsi/jicofo/sip-communicator.properties",
        "org.jitsi.jicofo.auth.PASS\\u0057ORD=CANARY37xyz\\u0041Escaped\n"
        "org.jitsi.jicofo.xmpp.P\\u0041SSWORD = CANARY38xyz\\ spaced\\ value\n"
        "some\\ pass\\u0077ord = CANARY39xyz\\u0042\\\n   ContinuedTail39\n",
    ),
    # object storage credentials (jibri upload scripts), an inline private key, a *_PASS and a *_TOKEN
    "object-storage-names": (
        "/etc/jitsi/jibri/upload.conf",
        "AWS_SECRET_ACCESS_KEY=CANARY40xyzAwsSecret\nS3_ACCESS_KEY=CANARY40xyzS3Access\n"
        'accessKey: "CANARY40xyzCamel"\nsecretAccessKey: "CANARY40xyzCamelSecret"\n'
        "private-key = CANARY40xyzInlineKey\nSMTP_PASS=CANARY40xyzSmtp\nUPLOAD_TOKEN=CANARY40xyzToken\n",
    ),
    # unparsable files: a Lua table field and a HOCON substitution carry the secret to a secret name
    "lua-table-field-broken": (
        "/etc/prosody/conf.d/field.cfg.lua",
        'local t = { s = "CANARY41xyzTableField" }\nComponent "f.example.org"\n  component_secret = t.s\n  this is not lua (\n',
    ),
    "hocon-subst-broken": (
        "/etc/jitsi/jicofo/broken/jicofo.conf",
        'x = "CANARY42xyzHoconVar"\njicofo { xmpp { client { password = ${x} } } }\nbad { = \n',
    ),
    # flow collections under a secret name: YAML on one line and over several, JSON, HOCON, JavaScript
    "yaml-flow": (
        "/srv/flow/jibri.yml",
        "passwords: [CANARY51xyzPlain, \"CANARY51xyzDouble\", 'CANARY51xyzSingle']\nupload:\n"
        "  passwords: [CANARY52xyzFirst,\n    CANARY52xyzSecond]\n  credentials: {user: bob, password: [\n"
        "    CANARY53xyzNested,  # a comment, ] included\n    \"CANARY53xyzAfterComment\"\n  ]}\n",
    ),
    "json-array": ("/etc/jitsi/jibri/creds.json", '{\n  "passwords": [\n    "CANARY55xyzJson",\n    "CANARY55xyzJsonB"\n  ]\n}\n'),
    "hocon-array": ("/etc/jitsi/jibri/arr/jibri.conf", 'jibri { passwords = ["CANARY56xyzHocon", "CANARY56xyzHoconB"] }\n'),
    "js-array": ("/etc/jitsi/meet/arr-config.js", "var config = { passwords: ['CANARY57xyzJs', `CANARY57xyzTemplate`] };\n"),
    # YAML scalars over several lines: plain continued on more-indented lines, double- and single-quoted
    "yaml-multiline-scalars": (
        "/srv/multi/jibri.yml",
        'password: CANARY58xyzPlain\n  CANARY58xyzPlainMore\n\n  CANARY58xyzAfterBlank\njibri:\n'
        '  JIBRI_XMPP_PASSWORD: "CANARY59xyzDouble\n    CANARY59xyz\\"Escaped\n  CANARY59xyzClosed"\n'
        "  JIBRI_RECORDER_PASSWORD: 'CANARY60xyzSingle\n    CANARY60xyz''Doubled'\n"
        "  - TURN_SECRET: CANARY61xyzItem\n      CANARY61xyzItemMore\n",
    ),
    # a quoted value continued over lines: a shell or dotenv file read by no parser, a JavaScript line
    "shell-multiline": ("/etc/default/jibri", 'JIBRI_XMPP_PASSWORD="CANARY62xyzShell\n  CANARY62xyzShellMore"\n'),
    "js-backslash": ("/etc/jitsi/meet/bs-config.js", "var config = { password: 'CANARY63xyzJs\\\nCANARY63xyzJsMore' };\n"),
    # YAML anchors: a secret-named key whose value is an alias of a value anchored under another name
    "yaml-anchors": (
        "/srv/anchors/docker-compose.yml",
        "x-pw: &pw CANARY64xyzAnchored\nx-quoted: &q \"CANARY64xyzAnchoredQuoted\"\nx-block: &blk |\n"
        "  CANARY64xyzAnchoredBlock\nservices:\n  jicofo:\n    environment:\n      JICOFO_AUTH_PASSWORD: *pw\n"
        "      JVB_AUTH_PASSWORD: *q\n      JIBRI_XMPP_PASSWORD: *blk\n      TURN_PASSWORDS: [*pw]\n"
        "      JWT_APP_SECRET: &own\n        CANARY65xyzBelowAnchor\n",
    ),
    # an item of a secret list that contains `=` (a password with one), not a compose KEY=value item
    "yaml-list-equals": ("/srv/eq/jibri.yml", "passwords:\n  - CANARY65xyz=Equals\n  - ab=CANARY65xyzTail\n"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_canary_is_gone_from_the_prepared_snapshot(case: str) -> None:
    path, text = CASES[case]
    assert CANARY_RE.search(text)
    prepared = prepare_snapshot(files_snapshot({path: text}))
    assert _left(prepared.snapshot) == [], prepared.snapshot.get(path).content  # type: ignore[union-attr]


def test_all_cases_together_and_no_value_reaches_the_parsed_settings() -> None:
    prepared = prepare_snapshot(files_snapshot(dict(CASES.values())))
    assert _left(prepared.snapshot) == []
    names = {s.name for s in secret_settings(prepared.deployment)}
    # the settings whose values came through a reference or a parser's reading still get a verdict
    assert "jvb.conf: creds.p" in names and "sip-communicator.properties: org.jitsi.videobridge.xmpp.user.shard.PASSWORD" in names


def test_what_only_looks_like_a_secret_is_not_replaced() -> None:
    """The new patterns stay on secret-named settings: a commented-out Lua line's `=` is not a value,
    a port is not a URL password, and a variable holding a flag is not followed."""
    files = {
        "/etc/prosody/prosody.cfg.lua": '--turn_external_secret = "your-secret-turn-access-token"\n'
        'http_ports = { 5280 }\nlocal flag = "internal_hashed"\nauthentication = flag\n',
        "/etc/jitsi/meet/x-config.js": "var config = { bosh: 'https://meet.example.org:443/http-bind@x',\n"
        "    tokenAuthUrl: 'https://auth.example.org/login?token={jwt}&room={room}',\n"
        "    other: 'https://x.example.org/?token=$TOKEN&jwt=%s' };\n",
    }
    snap = redact_snapshot(files_snapshot(files))
    assert snap.get("/etc/prosody/prosody.cfg.lua").text().count("=") == 4  # type: ignore[union-attr]
    assert '"internal_hashed"' in snap.get("/etc/prosody/prosody.cfg.lua").text()  # type: ignore[union-attr]
    assert "443/http-bind@x" in snap.get("/etc/jitsi/meet/x-config.js").text()  # type: ignore[union-attr]
    # a URL's placeholders are templates, not credentials (sso.token_auth_url reads tokenAuthUrl)
    assert "?token={jwt}&room={room}" in snap.get("/etc/jitsi/meet/x-config.js").text()  # type: ignore[union-attr]
    assert "?token=$TOKEN&jwt=%s" in snap.get("/etc/jitsi/meet/x-config.js").text()  # type: ignore[union-attr]


def test_new_reuse_groups_do_not_collide_with_the_markers_of_a_saved_snapshot() -> None:
    saved = 'jicofo { xmpp { client { password = "JAUDIT_REDACTED_ok_20_g7" } } }\n'
    snap = redact_snapshot(files_snapshot({"/a/jicofo.conf": saved, "/b/.env": "JVB_AUTH_PASSWORD=CANARY23xyzNewValue\n"}))
    marker = MARKER_RE.search(snap.get("/b/.env").text())  # type: ignore[union-attr]
    assert marker is not None and int(marker.group(3)) > 7


def test_lua_syntax_errors_do_not_quote_string_literals() -> None:
    with pytest.raises(ConfigParseError) as err:
        parse_prosody('local t = 5 "CANARY24xyzNearToken"\n', "/etc/prosody/conf.d/x.cfg.lua")
    assert "CANARY24" not in str(err.value) and "near a string literal" in str(err.value)


@pytest.mark.parametrize(("text", "kept"), [
    ("x = { a CANARY41xyzName }\n", "near a name"),  # an unquoted value's second word
    ("x = { a CANARY42xyz.x }\n", "near a name"),
    ("x = 1 2CANARY43\n", "near a number"),
    ("x = nosuch.CANARY44xyz\n", "(a global)"),  # a runtime error names the variable
    ("x = = 3\n", "near '='"),  # Lua's own punctuation and words stay
])
def test_lua_errors_quote_only_luas_own_tokens(text: str, kept: str) -> None:
    with pytest.raises(ConfigParseError) as err:
        parse_prosody(text, "/etc/prosody/conf.d/x.cfg.lua")
    assert "CANARY" not in str(err.value) and "nosuch" not in str(err.value), str(err.value)
    assert kept in str(err.value), str(err.value)


def test_no_canary_in_any_output_of_the_cli(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for rel, text in CASES.values():
        (tree / rel.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        with open(tree / rel.lstrip("/"), "a", encoding="utf-8") as f:
            f.write(text)
    run = run_cli(["--root", str(tree), *report_args()], tmp_path / "work")
    assert run.code in (1, 3), run.diagnose()
    secrets = {s for _, text in CASES.values() for s in CANARY_RE.findall(text)} | {"ContinuedTail10", "ContinuedTail39"}
    outputs = all_outputs(run)
    assert not find_leaks(secrets, outputs)
    digests = [hashlib.new(alg, s.encode()).hexdigest().encode() for s in secrets for alg in ("sha256", "sha1", "md5")]
    assert not [d for d in digests for blob in outputs.values() if d in blob]


def _der_private_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def test_a_binary_der_private_key_is_not_kept() -> None:
    """No PEM marker and a name no key pattern knows: the collectors read it whole; nothing of it may stay."""
    der = _der_private_key()
    snap = Snapshot("t", "dir")
    snap.add(CollectedItem("/etc/jitsi/meet/jwt-signing.der", "file", ItemStatus.OK, der))
    item = redact_snapshot(snap).get("/etc/jitsi/meet/jwt-signing.der")
    assert item is not None and item.content is not None and item.redactions == 1
    assert der[-32:] not in item.content and b"PRIVATE_KEY_BLOCK" in item.content


def test_yaml_values_below_their_key_are_taken_and_nothing_else() -> None:
    """A block scalar's indicator is not a value (it was replaced wherever `|` or `>-` stood), a nested
    mapping under a secret-named key is not taken whole, and the scan stops at the key's indentation."""
    compose = (
        "services:\n  web:\n    command: sh -c 'a | b > c'\n    environment:\n      JWT_APP_SECRET: |\n"
        "        CANARY43xyzBlock\n      PUBLIC_URL: https://meet.example.org\n    secrets:\n      - jwt_secret\n"
        "    credentials:\n      file: /run/secrets/creds\n      mode: '0400'\n"
    )
    text = redact_snapshot(files_snapshot({"/srv/j/docker-compose.yml": compose})).get("/srv/j/docker-compose.yml").text()  # type: ignore[union-attr]
    assert "CANARY43" not in text
    for kept in ("sh -c 'a | b > c'", "JWT_APP_SECRET: |\n", "PUBLIC_URL: https://meet.example.org", "- jwt_secret",
                 "file: /run/secrets/creds", "mode: '0400'"):
        assert kept in text, kept


def test_flow_collections_and_multiline_values_keep_what_is_not_secret() -> None:
    """A collection's brackets are not values, nor are the keys and values of a mapping under a secret
    name but not secret-named themselves; a plain value's continuation stops at the next key."""
    text = (
        "passwords:\n  [\n    CANARY66xyzItem\n  ]\nother: [ x ]\ncredentials: {user: bob, hosts: [a.example.org]}\n"
        "password: CANARY67xyzPlain\n  CANARY67xyzMore\nkey_file: /etc/x.key\nx-keep: &keep keepme\nlist: [*keep]\n"
    )
    lua = 'turncredentials = { { type = "stun", host = "meet.example.org", port = 3478 } }\n'
    snap = redact_snapshot(files_snapshot({"/srv/k/app.yml": text, "/etc/prosody/conf.d/turn.cfg.lua": lua}))
    out = snap.get("/srv/k/app.yml").text()  # type: ignore[union-attr]
    assert "CANARY" not in out, out
    for kept in ("passwords:\n  [\n", "\n  ]\nother: [ x ]", "{user: bob, hosts: [a.example.org]}", "key_file: /etc/x.key",
                 "&keep keepme"):
        assert kept in out, kept
    assert snap.get("/etc/prosody/conf.d/turn.cfg.lua").text() == lua  # type: ignore[union-attr]


def test_new_secret_names_leave_paths_flags_and_public_keys() -> None:
    from auditor.redaction import is_secret_name

    for name in ("aws_secret_access_key", "S3_ACCESS_KEY", "accessKey", "secretAccessKey", "private-key", "api-key",
                 "SMTP_PASS", "db.pass", "BOT_TOKEN", "passwords"):
        assert is_secret_name(name), name
    for name in ("ssl_certificate_key", "private_key_path", "key_file", "access_key_file", "proxy_pass", "uwsgi_pass",
                 "memcached_pass", "dropbox.appKey", "DROPBOX_APPKEY", "allow_empty_token_x", "token_verification",
                 "BYPASS", "token_lobby_bypass", "secrets"):
        assert not is_secret_name(name), name


def test_parse_errors_quote_no_input() -> None:
    """A file that does not parse is reported with its parser's message: no piece of its input in it."""
    from auditor.parsers.apache import parse_apache
    from auditor.parsers.compose import parse_compose
    from auditor.parsers.dotenv import parse_dotenv
    from auditor.parsers.hocon import parse_hocon
    from auditor.parsers.javascript import parse_config_js
    from auditor.parsers.nginx import parse_nginx

    attempts: list[Callable[[], object]] = [
        lambda: parse_hocon('a = "CANARY44xyzHoconLine" bad { =\n', "/x/jicofo.conf"),
        lambda: parse_hocon('a = "CANARY44xyzToken"\nb = [1] ${a}\n', "/x/jvb.conf"),
        lambda: parse_dotenv("A=1\nCANARY45xyz not an assignment\n", "/x/.env"),
        lambda: parse_compose("services:\n  a: !CANARY46xyzTag x\n", "/x/docker-compose.yml"),
        lambda: parse_compose("services:\n  a: *CANARY46xyzAlias\n", "/x/docker-compose.yml"),
        lambda: parse_config_js("var config = {}; throw new Error('CANARY47xyzThrown');", "/x/config.js"),
        lambda: parse_config_js("var config = { a: CANARY47xyzReference };", "/x/config.js"),
        lambda: parse_config_js("var config = {}; throw new TypeError('canary forty seven ' + 1);", "/x/config.js"),
        lambda: parse_nginx({"/n/nginx.conf": "map $a $b {\n  default CANARY48xyzValue }\n"}, "/n/nginx.conf"),
        lambda: parse_apache({"/a/apache2.conf": "+CANARY49xyzLine value\n"}, "/a/apache2.conf"),
    ]
    for attempt in attempts:
        with pytest.raises(ConfigParseError) as err:
            attempt()
        assert not re.search(r"(?i)canary|forty", str(err.value)), str(err.value)


def test_nginx_warnings_quote_no_argument() -> None:
    from auditor.parsers.nginx import parse_nginx

    conf = parse_nginx({"/n/nginx.conf": "http { server { ssl_stapling CANARY50xyzArg; } }\n"}, "/n/nginx.conf")
    assert conf.warnings and not any("CANARY50" in w for w in conf.warnings), conf.warnings
