"""Secrets are judged where they are read and replaced by a marker before anything is stored.

Every collected text item passes through `redact_snapshot` right after collection. For each
secret value found (by setting name, in every format Jitsi uses) we keep only a verdict:
its class (known default, placeholder, short, weak, ok), its length and a reuse group. The value
itself is replaced everywhere in the snapshot by a marker such as
`JAUDIT_REDACTED_default_8_g3`, which stays valid inside any string literal of Lua, HOCON,
JavaScript, properties, dotenv or coturn syntax. Parsers then read the marker back as a
`SecretVerdict`, so a saved snapshot audited again gives the same results without the secrets.

A lexical pass (secret-named keys on `key = value`-like lines) runs on every text item, so a file
that fails to parse is still redacted; PEM private key blocks are removed whole.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import itertools
import math
import re
import secrets as _random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from auditor.snapshot import CollectedItem, Snapshot

# "reference": a template expression a deployment tool fills in (`{{ vault_pw }}`, `${{ secrets.TOKEN }}`):
# unrendered on a live host (as weak as a placeholder), a pointer to a secret store in a repository.
SecretClass = Literal["ok", "default", "placeholder", "reference", "short", "weak", "empty"]

MARKER_PREFIX = "JAUDIT_REDACTED_"  # every marker starts so: a cheap test before searching for MARKER_RE
MARKER_RE = re.compile(MARKER_PREFIX + r"(ok|default|placeholder|reference|short|weak|empty)_(\d{1,6})_g(\d{1,4})")
MIN_LENGTH = 16

# Values shipped as defaults by Jitsi packaging, docker-jitsi-meet (CVE-2020-11878) and docs.
KNOWN_DEFAULTS = frozenset(
    {
        "passw0rd",
        "s3cr37",
        "secret",
        "password",
        "focuspassword",
        "jvbpassword",
        "jibripassword",
        "jigasipassword",
        "recorderpassword",
        "changeme",
        "change_me",
        "admin",
        "jitsi",
        "example_app_secret",
        "my_jitsi_app_secret",
        "keepthissecret",
        "north",
        "defaultsecret",
    }
)
# Jinja/Go/Helm `{{ }}` and `{% %}`, GitHub Actions `${{ }}`, ERB `<% %>`, a shell's or compose's `$VAR`,
# `${VAR}`, `$(command)` and backquotes: the value is what the expression yields, elsewhere.
_TEMPLATE_EXPRESSION_RE = re.compile(
    r"^(?:\$?\{\{.*\}\}|\{%.*%\}|<%.*%>|\$\{[^{}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$\(.*\)|`[^`]*`)$", re.DOTALL
)
# How a template expression starts: never a value by itself (a value ends at the blank after it)
_TEMPLATE_OPENERS = frozenset({"{{", "{{-", "${{", "{%", "{%-", "<%", "<%=", "<%-", "$("})
_PLACEHOLDER_RE = re.compile(
    r"^(?:<.*>|\$\{.*\}|%.*%|x{3,}|\*{3,}|todo|tbd|fixme|changeit|replace[-_ ]?me"
    r"|your[-_ ]?.*|example.*|placeholder.*|insert.*)$",
    re.IGNORECASE,
)

# Setting names that hold secrets, in any of the formats (matched case-insensitively), end with one of
# these. "credentials": docker-jitsi-meet's TURN_CREDENTIALS is the TURN shared secret (other plurals are
# mostly prose; "passwords" is a YAML list of them). "-pwd"/".PASS"/"_token" only with their delimiter:
# coturn's pkey-pwd, jigasi's ...acc.PASS, SMTP_PASS, BOT_TOKEN, but not the shell's PWD (nginx's
# proxy_pass is excluded below). Object storage credentials (jibri upload scripts): S3_ACCESS_KEY,
# aws_secret_access_key, accessKey; "app_key" but not "appkey" (config.js dropbox.appKey is public).
_NAME_WORDS = (
    "passwords?", "passwd", "passwort", "secret", "bindpw", "bind_pw", "_pw", "app_key",
    r"(?:private|secret|access|api)[_\-]?key", "auth_token", "credentials?", "sdkkey",
    # prosody's internal_hashed account files (read whole by --root): SCRAM keys allow offline guessing
    "stored_key", "server_key", "access_token",
)
_SECRET_WORDS = "(?:" + "|".join((*_NAME_WORDS, r"[._\-]pwd", r"[._\-]pass", r"[._\-]token")) + ")"
SECRET_NAME_RE = re.compile(r"(?:^|[._\-\[\"'])(?:[a-z0-9_\-]*?)" + _SECRET_WORDS + r"(?:[\"'\]]?)$", re.IGNORECASE)
# A name that SECRET_NAME_RE accepts holds one of these words under the same case folding. IGNORECASE
# also folds U+0130, U+0131, U+017F and U+212A onto ASCII letters, so only an ASCII text is searched
# lower-cased (10x faster than IGNORECASE; lower() keeps an ASCII text's length and offsets). The
# delimited words are searched without their delimiter: an alternative that starts with a character
# class costs the regex engine its fast scan (4x slower over a large file).
_FILTER_WORDS = "(?:" + "|".join((*_NAME_WORDS, "pwd", "pass", "token")) + ")"
_SECRET_WORD_RE = re.compile(_FILTER_WORDS, re.IGNORECASE)
_SECRET_WORD_LOWER_RE = re.compile(_FILTER_WORDS)
# Names that look secret but only name a file, a flag or a method, not a value.
_NOT_SECRET_NAME_RE = re.compile(
    r"(?:_file|_path|-file|-path|file$|path$|_enabled|enabled$|_method|method$|_length|length$|_type|type$|"
    r"secretfile|_url$|url$|use-auth-secret|use_auth_secret|lifetime|ttl"
    r"|application_credentials$"  # Google's GOOGLE_APPLICATION_CREDENTIALS: the key file's path (jigasi)
    r"|(?:proxy|fastcgi|uwsgi|scgi|grpc|memcached)_pass$)",  # nginx's upstreams
    re.IGNORECASE,
)

# In a quoted value a backslash is only ever read with the character after it (`\\.`), never alone: with
# both readings open, a run of backslashes and no closing quote made the search exponential.
# key = value / key: value anywhere on a line (Lua, HOCON, dotenv, coturn, saslauthd, JS, JSON), and
# `key value` only at the start of a line (Java properties, coturn, HOCON) so prose is not taken for a setting.
_VALUE = (
    r'''(?:"""(?P<tv>(?:(?!""")[^\n]){1,4096}?)"""'''  # HOCON """...""" on one line (no escapes inside)
    r"""|(?P<q>["'`])(?P<qv>(?:\\.|(?!(?P=q))[^\\\n]){1,4096}?)(?P=q)"""
    r"""|\[(?P<eq>=*)\[(?P<lb>.{1,4096}?)\](?P=eq)\]"""  # Lua long string [[...]] / [==[...]==]
    r"""|(?P<sv>\$\{[^}\r\n]{1,256}\})"""  # a HOCON / shell substitution, whole (not its `$` alone)
    r"""|(?!//)(?P<bv>[^\s,;#"'`}{\]\[=:][^\s,;#"'`}{\]\[]{0,4095}))"""
)
# A bare key starts where no identifier character precedes it and is at most 256 characters long:
# without both bounds a long identifier-like value (100 000 `A`s) makes the scan quadratic. Quoted
# keys (JS/JSON/Lua `["..."]`) may hold any character, e.g. an escape sequence before `password`.
# A bare or quoted setting name, then `=` or `:`: the start of most of the patterns below.
# A key right after `--` is taken too: a Lua comment `--app_secret = "..."` (a secret still, commented out).
_KEY_SEP = (
    r"(?:(?<=--)|(?<![A-Za-z0-9_.\-]))(?P<key>\[?[\"']?[A-Za-z_][A-Za-z0-9_.\-]{0,255}[\"']?\]?)[ \t]*(?:=|:)[ \t]*"
)
# The next literal piece of a value: after Lua's `..` or JavaScript's `+` (also with a line break on
# either side of the operator, and with variable names between operators), or right after the previous
# piece on the same line (HOCON concatenates `"a" "b"`, and `"""a""" "b"`).
_CONCAT_RE = re.compile(
    r"""[ \t]{0,64}(?:(?:\r?\n[ \t]{0,64})?(?:\.\.|\+)[ \t]{0,64}(?:\r?\n[ \t]{0,64})?"""
    r"""(?:[A-Za-z_][A-Za-z0-9_.]{0,255}[ \t]{0,64}(?:\.\.|\+)[ \t]{0,64}){0,8})?"""
    r'''(?:"""(?P<tv>(?:(?!""")[^\n]){1,4096}?)"""|(?P<q>["'])(?P<v>(?:\\.|(?!(?P=q))[^\\\n]){1,4096}?)(?P=q))'''
)
_LEXICAL_RES = (
    re.compile(_KEY_SEP + _VALUE),
    re.compile(r"^[ \t]*(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,255})[ \t]+" + _VALUE, re.MULTILINE),
    re.compile(r"(?P<key>\[?[\"'][^\"'\r\n]{1,256}[\"']\]?)[ \t]*(?:=|:)[ \t]*" + _VALUE),
    # a secret-named variable or parameter set by a directive: nginx `set $jwt_secret "..."`,
    # `fastcgi_param DB_PASSWORD ...`, `proxy_set_header X-Api-Key ...`, Apache `SetEnv`, a Dockerfile `ENV`
    re.compile(
        r"^[ \t]*(?:set[ \t]+\$|(?i:setenv|fastcgi_param|uwsgi_param|scgi_param|proxy_set_header|grpc_set_header"
        r"|requestheader[ \t]+set|env)[ \t]+)(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,255})[ \t]+" + _VALUE,
        re.MULTILINE,
    ),
    # `NAME=VALUE` as the value of another setting: systemd `Environment=JWT_APP_SECRET=...`
    re.compile(r"(?<==)(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,255})=" + _VALUE),
)
# Line-oriented formats (properties, dotenv, shell, coturn, saslauthd, YAML) read an unquoted value to
# the end of the line, punctuation included (`Yb4#nQ8@`, `a,b;c`), where the bare token above stops at
# the first `#`, `,`, `;`, bracket or blank and left the rest of the secret in the snapshot. The rest of
# the line is registered too, whole and cut at an inline ` #` comment and at the first blank, so the
# value is replaced whichever way its format reads it. Anchored at the line start: linear per line.
_LINE_VALUE_RE = re.compile(
    r"^[ \t]*(?:-[ \t]+)?(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,255})(?:[ \t]*[=:][ \t]*|[ \t]+)"
    r"(?P<lv>[^\s\"'`{\[(=:][^\r\n]{0,4095}?)[ \t]{0,64}\r?$",  # bounded: a long run of blanks was quadratic
    re.MULTILINE,
)
_PEM_KEY_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----.*?(?:-----END \1-----|\Z)",
    re.DOTALL,
)
PEM_MARKER = MARKER_PREFIX + "PRIVATE_KEY_BLOCK"
# The private half of a PuTTY key file (.ppk): `Private-Lines: N` and the base64 lines after it.
_PPK_PRIVATE_RE = re.compile(
    r"^Private-Lines:[ \t]*\d{1,4}[ \t]*\r?\n(?:[A-Za-z0-9+/=]{1,256}[ \t]*(?:\r?\n|\Z)){1,4096}", re.M
)
# A secret-named `key=value` inside a quoted value: the connection strings of coturn's redis-userdb,
# psql-userdb and mysql-userdb ("host=... password=..."), which the patterns above read as one value.
_EMBEDDED_RE = re.compile(
    r"(?<![A-Za-z0-9_.\-])(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,255})=(?:'(?P<sq>[^'\r\n]{1,4096})'"
    r"|(?P<bv>[^\s\"'`&;,]{1,4096}))"
)
# A secret-named command-line option inside a value (coturn's EXTRA_OPTIONS in /etc/default/coturn, a
# systemd ExecStart, JAVA_SYS_PROPS' -Dname=value): `--name=VALUE`, `--name VALUE`, `-Dname=VALUE`.
# Inside a shell string the value's quotes are escaped (`"--user_password=\"$PW\""`): read as quotes, not as
# a one-character value `\`.
_OPTION_RE = re.compile(
    r"(?<![^\s\"'=])--?(?P<key>[A-Za-z][A-Za-z0-9_.\-]{0,255})(?:=|[ \t]+(?=[^\s\-=:]))"
    r"(?:\\(?P<eq>[\"'])(?P<eqv>(?:(?!\\(?P=eq))[^\r\n]){1,4096})\\(?P=eq)"
    r"|(?P<oq>[\"'])(?P<oqv>(?:(?!(?P=oq))[^\r\n]){1,4096})(?P=oq)|(?P<ov>(?:[^\s\"'`\\]|\\[^\s\"'`])[^\s\"'`]{0,4094}))"
)
# A secret-named key whose value opens a string that goes on over the next lines: HOCON's `"""`, a Lua
# long string `[[` / `[==[`, a JavaScript template literal, a line ending in a Java properties
# continuation backslash.
_OPENER_RE = re.compile(_KEY_SEP + r'(?P<open>"""|\[=*\[|`)(?P<first>[^\r\n]{0,4096})$')
# YAML: a secret-named key at the end of its line whose value is on the lines below, more indented: a
# block scalar (`password: |`, `key: >-`), a block sequence of secrets (`passwords:` then `- item` lines,
# which may stand at the key's own indentation), or a plain scalar continued on the next line.
_YAML_KEY_RE = re.compile(
    r"(?<![A-Za-z0-9_.\-])(?:-[ \t]{1,64})?"
    r"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,255}|\"[^\"\r\n]{1,256}\"|'[^'\r\n]{1,256}')"
    r"[ \t]{0,64}:(?:[ \t]{1,64}(?P<anchor>&[^\s]{1,256}))?(?:[ \t]{1,64}![^\s]{0,256})?"
    r"(?:[ \t]{1,64}(?P<block>[|>][1-9+\-]{0,2}))?(?:[ \t]{1,64}#[^\r\n]{0,4096})?[ \t]{0,64}\r?"
)
# A secret-named key with its value starting on its line (`key: value`, YAML, or `KEY="...`, shell and
# dotenv), after an optional YAML anchor and tag: see _scalar_values.
_SCALAR_KEY_RE = re.compile(
    r"(?:-[ \t]{1,64})?(?:export[ \t]{1,64})?"
    r"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,255}|\"[^\"\r\n]{1,256}\"|'[^'\r\n]{1,256}')"
    r"(?:[ \t]{0,64}:[ \t]{1,64}|=(?=[\"']))(?:[&!][^\s]{0,256}[ \t]{1,64}){0,2}(?P<value>[^\s][^\r\n]{0,4095})"
)
# A YAML alias as a value (`password: *pw`), and the key line of a mapping entry (`k: v`, `k:`)
_YAML_ALIAS_RE = re.compile(r"\*(?P<name>[^\s,\[\]{}]{1,256})")
_YAML_ENTRY_RE = re.compile(r"[^\s:#]{1,256}[ \t]{0,64}:(?:[ \t]|$)")
# A secret-named key whose value is a flow collection: YAML `[a, b]` / `{k: v}`, a JSON, HOCON or
# JavaScript array, a Lua table; it may go on over the next lines.
_FLOW_OPEN_RE = re.compile(_KEY_SEP + r"(?:[&!][^\s\[{]{0,256}[ \t]{1,64}){0,2}(?P<open>[\[{])")
# One token of a flow collection: a quoted string, a bracket or separator, a comment, or a plain scalar to
# the next flow indicator or line end (its key and comment are split off in Python). A quote not closed
# on its line: the rest of the line.
_FLOW_TOKEN_RE = re.compile(
    r"[ \t\r\n]{1,4096}"
    r'|"(?P<dq>(?:\\.|[^"\\\r\n]){0,4096})"'
    r"|'(?P<sq>(?:''|\\.|[^'\\\r\n]){0,4096})'"
    r"|`(?P<bq>[^`\r\n]{0,4096})`"
    r"|(?P<open>[\[{])|(?P<close>[\]}])|(?P<comma>[,;])"
    r"|(?P<sep>[:=])(?![^\s\"'\[{])"
    r"|(?P<comment>(?:#|//|--)[^\r\n]{0,4096})"
    r"|(?P<unclosed>[\"'`][^\r\n]{0,4096})"
    r"|(?P<plain>[^\r\n\[\]{},;]{1,4096})"
)
# `key: value` or `key = value` at the start of a plain flow token (`=` only with a value after it: a
# base64 secret ends in `=`)
_FLOW_KEY_RE = re.compile(r"(?P<key>[^\s:=\"'][^\s:=]{0,255})[ \t]{0,64}(?::(?![^ \t])|=(?!=)(?=[ \t]{0,64}[^\s=]))")
_MAX_FLOW_CHARS = 65536
_YAML_INDICATOR_RE = re.compile(r"[|>][1-9+\-]{0,2}")  # what a block scalar's key line holds: not a value
_YAML_PAIR_RE = re.compile(r"[^\s:#=]{1,256}[ \t]*:(?:[ \t]|$)")  # `k: v`
_YAML_MAPPING_RE = re.compile(r"[^\s:#=]{1,256}[ \t]*:(?:[ \t]|$)|[A-Za-z_][A-Za-z0-9_.\-]{0,255}=")  # `k: v`, `K=V`
_PROPERTY_KEY_RE = re.compile(r"[ \t]*(?P<key>(?:\\.|[^\s=:\\]){1,256})[ \t]*[=:]?")
_MAX_CONTINUED_LINES = 64
# A secret value that names another setting: `${name}`, `${?name}`, `${name:-default}`, `$name`, or an
# unquoted identifier (a Lua variable; a plain-word secret is taken for a name too: a search only).
_REFERENCE_RE = re.compile(
    r"\$\{\??(?P<name>[A-Za-z_][A-Za-z0-9_.\-]{0,255})(?::?[-=?+][^}]{0,256})?\}"
    r"|\$(?P<name2>[A-Za-z_][A-Za-z0-9_]{0,255})|(?P<name3>[A-Za-z_][A-Za-z0-9_]{0,63}(?:\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,3})"
)
_MAX_REFERENCES = 1024
_REFERENCE_ROUNDS = 3  # a = ${b}, b = ${c}, c = "..."
# A Lua file's variables: the names a `local` statement declares (`local a, b <const> = ...`, `local
# function f`) and those assigned at a line's start (prosody's options, globals). Bounded repetitions.
_LUA_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,255}"
_LUA_ATTRIB = r"(?:[ \t]{0,64}<[ \t]{0,64}[a-z]{1,16}[ \t]{0,64}>)?"
_LUA_LOCAL_RE = re.compile(
    r"(?<![A-Za-z0-9_])local[ \t]{1,64}(?:function[ \t]{1,64})?(?P<names>"
    + _LUA_NAME + _LUA_ATTRIB + r"(?:[ \t]{0,64},[ \t]{0,64}" + _LUA_NAME + _LUA_ATTRIB + r"){0,31})"
)
_LUA_ASSIGN_RE = re.compile(
    r"^[ \t]{0,64}(?P<names>" + _LUA_NAME + r"(?:[ \t]{0,64},[ \t]{0,64}" + _LUA_NAME + r"){0,31})[ \t]{0,64}=(?!=)",
    re.MULTILINE,
)
_LUA_ATTRIB_RE = re.compile(r"<[^>\r\n]{0,64}>")
_LUA_NAME_RE = re.compile(_LUA_NAME)
# An unquoted value that is a Lua expression on a variable: the name alone or followed by an index, a
# call, a method, an operator, a separator or a comment (`shared`, `t[1]`, `t.s`, `s;`, `s -- note`).
_LUA_EXPRESSION_RE = re.compile(
    r"(?P<head>" + _LUA_NAME + r")(?![A-Za-z0-9_])[ \t]{0,64}"
    r"(?:$|[.\[(:;,+\-*/%^<>=~]|(?:or|and)(?![A-Za-z0-9_]))"
)


def lua_variables(text: str) -> frozenset[str]:
    """The names that a Lua text declares as locals or assigns at a line's start (a light scan: a name
    missed here only means its bare uses are redacted as values, as any other bare word)."""
    names: set[str] = set()
    for regex in (_LUA_LOCAL_RE, _LUA_ASSIGN_RE):
        for m in regex.finditer(text):
            names.update(_LUA_NAME_RE.findall(_LUA_ATTRIB_RE.sub("", m.group("names"))))
    return frozenset(names - _BARE_LITERALS)


# A secret-named key whose quoted value is not closed on its line (a broken file): the rest of the line is
# the value. The parsers then fail on that file, and their error messages quote the line.
# A quote (or HOCON's triple quote) that the line does not close: the rest of the line, a trailing lone
# backslash included (a backslash is otherwise read only with the character after it: linear).
_OPEN_QUOTED = (
    r"(?:\"\"\"(?P<otq>(?:(?!\"\"\")[^\r\n]){1,4096})"
    r"|(?P<oq>[\"'`])(?P<rest>(?:\\.|(?!(?P=oq))[^\r\n\\]){0,4096}\\?))$"
)
_UNTERMINATED_RE = re.compile(_KEY_SEP + _OPEN_QUOTED, re.MULTILINE)
# A secret-named key at the end of its line, its quoted value on the next (Lua, HOCON, JavaScript).
_NEXT_LINE_RE = re.compile(
    _KEY_SEP + r"(?:(?://|#|--)[^\r\n]{0,4096})?\r?\n[ \t]*"
    r'(?:"""(?P<tq>[^\r\n]{1,4096}?)"""'
    r"""|(?P<q>["'`])(?P<qv>(?:\\.|(?!(?P=q))[^\r\n\\]){1,4096}?)(?P=q)"""
    r"""|\[(?P<eq>=*)\[(?P<lb>[^\r\n]{1,4096}?)\](?P=eq)\]"""
    r"|" + _OPEN_QUOTED + ")",
    re.MULTILINE,
)
# Credentials inside any URL, under any setting name: scheme://user:PASSWORD@host (mongo-userdb,
# redis://:PASSWORD@, an ETHERPAD_URL_BASE with a login). Starts at "://": no backtracking over schemes.
# A `/` in the password (base64) is taken too, unless what precedes it is a port (`host:8443/path@x`).
_URL_PASSWORD_RE = re.compile(r"://[^\s/?#@:'\"`]{0,256}:(?!\d{1,5}/)(?P<pw>[^\s?#@'\"`]{1,1024})@")
# A credential in an Authorization header set by the configuration: nginx `proxy_set_header Authorization
# "Basic ..."`, Apache `RequestHeader set Authorization "Bearer ..."`, a script's `-H 'Authorization: ...'`.
_AUTH_HEADER_RE = re.compile(
    r"Authorization[\"']?[ \t]*[:=]?[ \t]*[\"']?(?:Basic|Bearer|Token)[ \t]+(?P<pw>[^\s\"'`;$]{8,4096})",
    re.IGNORECASE,
)
# A JSON Web Token under any name (a bearer credential: a jigasi/jibri/script setting, an nginx map): its
# header and claims are base64url JSON objects, so both start "eyJ" ('{"').
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{4,4096}\.eyJ[A-Za-z0-9_-]{4,16384}\.[A-Za-z0-9_-]{0,4096}")
# A credential in a URL's query: `?token=...`, `&jwt=...`; a template placeholder ({jwt}, $token, %s) is
# not one.
_QUERY_SECRET_RE = re.compile(
    r"[?&](?:jwt|token|access_token|auth_token|id_token|api_key|apikey|secret|password|passwd|pwd)="
    r"(?P<pw>[^\s&#'\"`{}$%<>]{4,4096})(?=[\s&#'\"`]|$)",
    re.IGNORECASE | re.MULTILINE,
)
# coturn's long-term credentials: `user=NAME:PASSWORD` (or NAME:0xKEY) in turnserver.conf.
# Literal first (the regex engine's fast scan); the line start is checked in _credentials_in_values.
# coturn also reads `user NAME:PASSWORD` and a quoted `user="NAME:PASSWORD"`.
_TURN_USER_RE = re.compile(r"user(?:[ \t]*=[ \t]*|[ \t]+)[\"']?[^:\s\"']{1,256}:(?P<pw>[^\s\"']{1,4096})")
# Unquoted language literals after a secret-named key are flags or empty settings, never secret values.
_BARE_LITERALS = frozenset({"true", "false", "nil", "null", "none", "yes", "no", "on", "off"})
BARE_LITERALS = _BARE_LITERALS


@dataclass(frozen=True, slots=True)
class SecretVerdict:
    """What may be known of a secret: never the value."""

    secret_class: SecretClass
    length: int
    group: int  # equal groups within one snapshot mean the same value is reused

    @property
    def weak(self) -> bool:
        return self.secret_class in ("default", "placeholder", "reference", "short", "weak", "empty")

    def marker(self) -> str:
        return f"{MARKER_PREFIX}{self.secret_class}_{self.length}_g{self.group}"

    @staticmethod
    def from_marker(text: str) -> SecretVerdict | None:
        m = MARKER_RE.search(text)
        if not m:
            return None
        cls: SecretClass = m.group(1)  # type: ignore[assignment]
        return SecretVerdict(cls, int(m.group(2)), int(m.group(3)))


def is_secret_name(name: str) -> bool:
    # The patterns judge the end of a name; SECRET_NAME_RE searched over all of a long one (a parsed key
    # can be a megabyte) is cubic. The last 256 characters hold the word; without the real start before
    # them a name can only read as more secret, never less.
    return _is_secret_tail(name.strip("[]\"' ")[-256:])


@lru_cache(maxsize=4096)  # a file repeats its setting names: a hostile one repeats one a million times
def _is_secret_tail(bare: str) -> bool:
    return bool(SECRET_NAME_RE.search(bare)) and not _NOT_SECRET_NAME_RE.search(bare)


def classify(value: str) -> SecretClass:
    if value == "":
        return "empty"
    low = value.lower()
    if low in KNOWN_DEFAULTS:
        return "default"
    if _TEMPLATE_EXPRESSION_RE.match(value.rstrip(",;")):  # `private_key: $KEY,` in a jq or JSON text
        return "reference"
    if _PLACEHOLDER_RE.match(value):
        return "placeholder"
    if len(value) < MIN_LENGTH:
        return "short"
    if _entropy_bits(value) < 64:
        return "weak"
    return "ok"


def _entropy_bits(value: str) -> float:
    """Shannon estimate of the whole string: catches `aaaaaaaaaaaaaaaaaaaa` and `1234567890123456`."""
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    per_char = -sum(c / n * math.log2(c / n) for c in counts.values())
    return per_char * n


class Redactor:
    """Collects secret values over a whole snapshot, then rewrites every item.

    Reuse groups come from a keyed hash with a key that lives only in this object, so equal values get
    equal groups without any digest of a secret being stored.
    """

    def __init__(self) -> None:
        self._key = _random.token_bytes(32)
        self._groups: dict[bytes, int] = {}
        self._values: dict[str, SecretVerdict] = {}
        self._explicit: set[str] = set()  # names of settings that secret values refer to
        self._bare: set[str] = set()
        self._next_group = 1  # groups below it are taken (by this redactor, or by markers in the texts)
        self._aliases: set[str] = set()  # YAML anchors that secret values of the text being scanned name
        self._lua_names: frozenset[str] = frozenset()  # the variables of the Lua text being scanned

    def reserve_groups(self, text: str) -> None:
        """Number new groups after those of the markers in `text` (a saved snapshot, an earlier pass)."""
        if MARKER_PREFIX in text:
            for m in MARKER_RE.finditer(text):
                self._next_group = max(self._next_group, int(m.group(3)) + 1)

    def verdict(self, value: str) -> SecretVerdict:
        known = self._values.get(value)
        if known is not None:
            return known
        digest = hmac.new(self._key, value.encode(), hashlib.sha256).digest()
        group = self._groups.get(digest)
        if group is None:
            group = self._groups[digest] = self._next_group
            self._next_group += 1
        verdict = SecretVerdict(classify(value), len(value), group)
        self._values[value] = verdict
        return verdict

    def note(self, value: str) -> None:
        """Register a value found by a parser (a secret in a structure the lexical pass cannot see)."""
        # `{{`, `${{`: where a value ending at the first blank stops in `password={{ vault_pw }}`; noted, every
        # `{{` of the snapshot became a marker (the expression itself is noted whole where it stands)
        if value and not MARKER_RE.fullmatch(value) and value not in _TEMPLATE_OPENERS:
            self.verdict(value)
            alias = _YAML_ALIAS_RE.fullmatch(value) if value[0] == "*" else None
            if alias is not None and len(self._aliases) < _MAX_REFERENCES:
                self._aliases.add(alias.group("name"))

    def _note_reference(self, value: str, *, bare_allowed: bool) -> None:
        """Remember the setting a secret value names: a HOCON or dotenv `${name}` / `${?name}`, a shell
        `$name` (explicit), or, unquoted, an identifier (a Lua variable: `local s = "..."; app_secret = s`)."""
        ref = _REFERENCE_RE.fullmatch(value) if len(value) <= 260 else None
        if ref is None or len(self._explicit) + len(self._bare) >= _MAX_REFERENCES:
            return
        name = ref.group("name") or ref.group("name2")
        if name:
            self._explicit.update((name, name.rsplit(".", 1)[-1]))
        elif bare_allowed:  # a Lua variable, or a table's field (`t.s`: the `s = "..."` in t's constructor)
            self._bare.update((ref.group("name3"), ref.group("name3").rsplit(".", 1)[-1]))

    def _names_variable(self, value: str) -> bool:
        """In a Lua text: an unquoted value that is an expression on one of the text's variables
        (`app_secret = shared`, `local shared = "..."` above). That name is not the secret: replacing it
        left the parser an undefined global (nil), so the value it holds was neither judged nor seen by
        the safety net, and every other value spelled like it (`algorithm = "turn"` for `local turn`) was
        taken for a secret. The value itself is found through the reference, or by the parser."""
        if not self._lua_names:
            return False
        m = _LUA_EXPRESSION_RE.match(value.strip())
        return m is not None and m.group("head") in self._lua_names

    def references(self) -> tuple[frozenset[str], frozenset[str]]:
        """The names noted so far (explicit, bare), forgotten here: see `scan_references`."""
        found = frozenset(self._explicit), frozenset(self._bare - self._explicit)
        self._explicit, self._bare = set(), set()
        return found

    def scan_references(self, text: str, explicit: frozenset[str], bare: frozenset[str]) -> None:
        """Note the values of the settings that secret values refer to. An explicit reference takes the
        setting's value in any form; a bare identifier only a quoted string (a variable holding a
        literal), so that a plain-word secret taken for a name cannot pull in other settings' values."""
        names = explicit | bare
        spans = _name_spans(text, names)
        if not spans:
            return
        wanted, is_explicit = _named(names), _named(explicit)
        joined = "\n".join(text[start:end] for start, end in spans)
        starts = list(itertools.accumulate((end - start + 1 for start, end in spans[:-1]), initial=0))
        for regex in _LEXICAL_RES:
            for m in regex.finditer(joined):
                key = m.group("key")
                if not wanted(key):
                    continue
                quoted = m.group("qv") if m.group("q") else m.group("tv") or m.group("lb")
                if quoted:
                    self.note(_unescape(quoted))
                    self.note(quoted)
                    # `local s = "a" .. "b"`: the later pieces are the secret's too
                    self._note_concatenated(text, _text_pos(spans, starts, m.end()))
                elif is_explicit(key) and (m.group("sv") or m.group("bv") or "true").lower() not in _BARE_LITERALS:
                    self.note(m.group("sv") or m.group("bv"))
                    self._note_reference(m.group("sv") or m.group("bv"), bare_allowed=False)  # a = ${b}: follow b
        for m in _LINE_VALUE_RE.finditer(joined):
            if is_explicit(m.group("key")):
                self._note_line_value(m.group("lv"))
        for start, end in spans:
            for value in _continued_values(text, start, end, wanted):
                self.note(value)

    def _note_concatenated(self, text: str, pos: int) -> None:
        """Lua `"a" .. "b"` and JS `'a' + 'b'`: every later literal piece of a secret is a secret too."""
        for _ in range(64):
            piece = _CONCAT_RE.match(text, pos)
            if piece is None:
                return
            value = piece.group("tv") or piece.group("v")
            if not MARKER_RE.fullmatch(value):
                self.note(_unescape(value))
                self.note(value)
            pos = piece.end()

    def scan_text(self, text: str, *, lua: bool = False) -> None:
        """Note the values of the secret-named settings in `text`, and the names that they refer to.
        `lua`: the text is Lua (prosody's configuration), where an unquoted value naming one of its
        variables is an expression, not a secret (see `_names_variable`)."""
        self._lua_names = lua_variables(text) if lua else frozenset()
        try:
            self._scan_text(text)
        finally:
            self._lua_names = frozenset()

    def _scan_text(self, text: str) -> None:
        # Every match of the lexical patterns lies within one line (none of them matches a newline),
        # and its key must hold a secret word: only the lines with such a word are scanned, pattern by
        # pattern in text order, so the values are noted exactly as a scan of the whole text would.
        # The lines are searched joined (a newline between them): one search per pattern, whatever
        # their number (a file of secret lines cost a Python loop per line and pattern).
        self._aliases.clear()
        spans = _secret_word_spans(text)
        joined = "\n".join(text[start:end] for start, end in spans)
        starts = list(itertools.accumulate((end - start + 1 for start, end in spans[:-1]), initial=0))
        for regex in _LEXICAL_RES:
            for m in regex.finditer(joined):
                if not is_secret_name(m.group("key")):
                    continue
                quoted = m.group("qv") if m.group("q") else m.group("tv")
                value = quoted or m.group("lb") or m.group("sv") or m.group("bv")
                if value is None or MARKER_RE.fullmatch(value):
                    continue
                if m.group("bv") and (value.lower() in _BARE_LITERALS or _YAML_INDICATOR_RE.fullmatch(value)):
                    continue  # `secret = true` (prosody external_services) is a flag, not a secret
                if not (m.group("bv") and self._names_variable(value)):
                    self.note(_unescape(value))
                    if value != _unescape(value):
                        self.note(value)
                if m.group("q") or m.group("tv") or m.group("lb"):
                    self._note_concatenated(text, _text_pos(spans, starts, m.end()))
                else:
                    self._note_reference(value, bare_allowed=True)
        for m in _EMBEDDED_RE.finditer(joined):
            value = m.group("sq") or m.group("bv")
            if (
                is_secret_name(m.group("key"))
                and not MARKER_RE.search(value)
                and value.lower() not in _BARE_LITERALS
                and not (m.group("bv") and self._names_variable(value))
            ):
                self.note(value)
        for m in _OPTION_RE.finditer(joined):  # --static-auth-secret=X, --cli-password X, -Dx.PASSWORD=X
            value = m.group("eqv") or m.group("oqv") or m.group("ov")
            if is_secret_name(m.group("key")) and not MARKER_RE.search(value) and value.lower() not in _BARE_LITERALS:
                self.note(value)
        for start, end in spans:  # values that go on over the following lines
            for value in (
                _continued_values(text, start, end, is_secret_name)
                + _yaml_block_values(text, start, end)
                + _multiline_values(text, start, end)
            ):
                self.note(value)
        if "[" in joined or "{" in joined:
            scanned = 0  # a collection within one already scanned was read with it: each position once
            for m in _FLOW_OPEN_RE.finditer(joined):
                pos = _text_pos(spans, starts, m.start("open"))
                if pos >= scanned and is_secret_name(m.group("key")) and not text.startswith(("{{", "{%"), pos):
                    found, scanned = _flow_values(text, pos, self._names_variable)
                    for value in found:
                        self.note(value)
        for m in _UNTERMINATED_RE.finditer(joined):
            if is_secret_name(m.group("key")):
                for value in _open_value(m.group("otq") or m.group("rest") or ""):
                    self.note(value)
        # `key =` with its value on the next line; the pairs joined by a line that no match can cross
        for m in _NEXT_LINE_RE.finditer("\n\0\n".join(_with_next_line(text, spans))):
            if not is_secret_name(m.group("key")):
                continue
            if m.group("oq") or m.group("otq"):
                found = _open_value(m.group("otq") or m.group("rest") or "")
            else:
                found = [m.group("qv") or m.group("lb") or m.group("tq") or ""]
            for value in found:
                if value and not MARKER_RE.fullmatch(value):
                    self.note(_unescape(value))
                    self.note(value)
        for value in _credentials_in_values(text):  # under any name: the whole text
            self.note(value)
        for m in _LINE_VALUE_RE.finditer(joined):
            if is_secret_name(m.group("key")):
                self._note_line_value(m.group("lv"))
        if self._aliases and "&" in text:  # `password: *pw`: the value anchored `&pw` in this text
            for value in _anchored_values(text, self._aliases):
                self.note(value)
        self._aliases.clear()

    def _note_line_value(self, whole: str) -> None:
        """A line-oriented format's value (to the end of the line): itself, without a trailing `#` comment,
        and its first word; and the setting its first word refers to."""
        if _YAML_INDICATOR_RE.fullmatch(whole.split()[0]):
            return  # `password: |`: the value is on the lines below (_yaml_block_values)
        self._note_reference(whole.split()[0].rstrip(",;"), bare_allowed=False)
        uncommented = re.split(r"[ \t]#", whole, maxsplit=1)[0].rstrip()
        # a fixed order: the first note of a value numbers its reuse group (the same report every run)
        for value in dict.fromkeys((whole, uncommented, whole.split()[0])):
            bare_literal = value.rstrip(",;").lower() in _BARE_LITERALS
            if not bare_literal and not MARKER_RE.search(value) and not self._names_variable(value):
                self.note(value)

    def rewrite(self, text: str) -> tuple[str, int]:
        count = 0
        text, pem_count = _PEM_KEY_RE.subn(PEM_MARKER, text)
        count += pem_count
        if "Private-Lines:" in text:
            text, ppk_count = _PPK_PRIVATE_RE.subn(PEM_MARKER + "\n", text)
            count += ppk_count
        # Longest values first so that a secret containing another is replaced whole. A value is only
        # replaced where it stands as a value: not inside a longer identifier and not as a key.
        for value in sorted(self._values, key=len, reverse=True):
            if not value or value not in text:
                continue
            # A word-like value ("secret", "jitsi") also appears inside dashed or dotted setting names
            # (use-auth-secret, org.jitsi.x): there `-` and `.` count as part of the name.
            word = r"A-Za-z0-9_\-." if value.isalpha() or value.lower() in KNOWN_DEFAULTS else r"A-Za-z0-9_"
            if len(value) <= 3:  # `secret = x`: not every path segment or file suffix that spells it
                word += "./-" if word == r"A-Za-z0-9_" else "/"
            pattern = _punctuation_pattern(value) if _punctuation(value) else re.compile(
                rf"(?<![{word}])" + re.escape(value) + rf"(?![{word}])(?![\"']?\]?[ \t]*[=:](?!=))"
            )
            text, n = pattern.subn(self._values[value].marker(), text)
            count += n
        return text, count


def _punctuation(value: str) -> bool:
    return len(value) <= 2 and not any(c.isalnum() for c in value)


def _punctuation_pattern(value: str) -> re.Pattern[str]:
    """One or two punctuation characters (a real `password = "!"`, or `,` `\\` `.+` read out of code: a
    spec's `'component_secret = ',`) are replaced only where they stand as a value: quoted alone, or
    alone after `=`/`:` to the end of the line. Replaced wherever they stood, every comma of the tree became
    a marker and a config.js beside the spec no longer parsed."""
    v = re.escape(value)
    return re.compile(rf"(?<=\")({v})(?=\")|(?<=')({v})(?=')|(?:(?<=[=:])|(?<=[=:][ \t]))({v})(?=[ \t]*$)",
                      re.MULTILINE)


def _text_pos(spans: list[tuple[int, int]], starts: list[int], pos: int) -> int:
    """The position in the text of position `pos` of the secret lines joined (see Redactor.scan_text)."""
    i = bisect.bisect_right(starts, pos) - 1
    return spans[i][0] + pos - starts[i]


def _token_like(line: str) -> bool:
    """A line that may be a secret on its own (one word, long enough, not punctuation alone)."""
    return len(line) >= 6 and not any(ch.isspace() for ch in line) and any(ch.isalnum() for ch in line)


def _continued_values(text: str, start: int, end: int, wanted: Callable[[str], bool]) -> list[str]:
    """The pieces of a secret-named value that goes on past its line (`start`, `end`): a HOCON `\"\"\"`,
    Lua long or JavaScript template string opened and not closed on the line, or a Java properties value
    ending in a continuation backslash. Each piece stripped, and the block as a parser reads it. When no
    closing delimiter comes within the bound (a broken file), only one-word lines are taken: the rest of
    such a file is configuration, which must not be replaced wherever it also appears."""
    line = text[start:end].rstrip("\r")
    values: list[str] = []
    m = _OPENER_RE.search(line)
    if m is not None and wanted(m.group("key")):
        opener, first = m.group("open"), m.group("first")
        closer = "]" + opener[1:-1] + "]" if opener.startswith("[") else opener
        if closer in first:
            return []  # closed on its line: the lexical patterns have it
        block, closed = [first], False
        for nxt in _lines_after(text, end):
            if closer in nxt:
                block.append(nxt[: nxt.index(closer)])
                closed = True
                break
            block.append(nxt)
        pieces = [piece.strip() for piece in block]
        if closed:
            values += [p for p in pieces if p]
            values += ["\n".join(block), "\n".join(block).strip()]
        else:
            values += [p for p in pieces if _token_like(p)]
    body = line.rstrip("\\")
    p = _PROPERTY_KEY_RE.match(body) if (len(line) - len(body)) % 2 == 1 else None
    if p is not None and wanted(_property_key(p.group("key"))):
        pieces = [body[p.end() :].strip()]
        for nxt in (raw.lstrip(" \t\f") for raw in _lines_after(text, end)):
            trailing = len(nxt) - len(nxt.rstrip("\\"))
            if trailing % 2 == 1:
                pieces.append(nxt[:-1])
                continue
            pieces.append(nxt)
            break
        values += [piece for piece in pieces if piece]
        values.append("".join(pieces))
    return [v for v in dict.fromkeys(values) if v and not MARKER_RE.fullmatch(v)]


def _yaml_block_values(text: str, start: int, end: int, anchor: str | None = None) -> list[str]:
    """The lines of a secret-named YAML value (or, given `anchor`, of the value anchored so) written below
    its key (see _YAML_KEY_RE), each stripped, sequence items without their dash and quotes. A nested
    mapping is not a value: its own secret-named keys are found by the lexical patterns; the scan stops
    at it."""
    line = text[start:end]
    body = line.lstrip(" \t")  # the indentation is measured here: a pattern over it was quadratic
    m = _YAML_KEY_RE.fullmatch(body)
    if m is None or not (m.group("anchor") == f"&{anchor}" if anchor else is_secret_name(m.group("key"))):
        return []
    column, block = len(line) - len(body) + m.start("key"), m.group("block") is not None
    values: list[str] = []
    line_start = end + 1
    for line in _lines_after(text, end):
        here, line_start = line_start, text.find("\n", line_start) + 1
        body = line.strip()
        if not body or (body.startswith("#") and not block):
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        item = not block and indent >= column and body.startswith("- ")
        if indent <= column and not (item and indent == column):
            break
        if not values and not block and body[0] in "[{":  # a flow collection: its items, not its lines
            return _flow_values(text, here + indent)[0]
        if block:
            values.append(body)
            continue
        piece = body[2:].strip() if item else body
        if _YAML_MAPPING_RE.match(piece):
            if item and "=" in piece and not _YAML_PAIR_RE.match(piece):
                values.append(piece)  # `KEY=value` or a secret with `=` in it: the whole item, nothing less
            if item:
                continue  # a mapping item: not a scalar
            break
        if len(piece) >= 2 and piece[0] == piece[-1] and piece[0] in "\"'":
            piece = piece[1:-1]
        values += [piece, _unescape(piece)]
    return [v for v in dict.fromkeys(values) if v and not MARKER_RE.fullmatch(v)]


@dataclass(slots=True)
class _FlowFrame:
    secret: bool  # its items are secrets (a collection under a secret name, or an item of one)
    key: str | None = None  # the current entry's key, once its separator is read
    scalars: list[str] | None = None  # the current entry's scalars

    def end_entry(self, values: list[str]) -> None:
        scalars = self.scalars or []
        if is_secret_name(self.key) if self.key is not None else self.secret:
            values += scalars
            if len(scalars) > 1:  # a plain scalar over lines is folded; HOCON joins `"a" "b"`
                values += [" ".join(scalars), "".join(scalars)]
        self.key, self.scalars = None, None


def _flow_values(
    text: str, pos: int, names_variable: Callable[[str], bool] | None = None
) -> tuple[list[str], int]:
    """The scalars of the secret flow collection opening at `pos` (`[` or `{`), the items of nested
    sequences and the values of secret-named keys in nested mappings; and the position after the
    collection (or where the scan stopped: _MAX_CONTINUED_LINES lines after its first). A mapping entry
    under another key is not a secret; nor is a plain scalar for which `names_variable` holds (a Lua
    table's item naming a variable of the file)."""
    limit = pos
    for _ in range(_MAX_CONTINUED_LINES + 1):
        limit = text.find("\n", limit + 1)
        if limit < 0:
            limit = len(text)
            break
    limit = min(limit, pos + _MAX_FLOW_CHARS)
    stack: list[_FlowFrame] = []
    values: list[str] = []
    while pos < limit:
        m = _FLOW_TOKEN_RE.match(text, pos, limit)
        if m is None:
            break
        pos, kind = m.end(), m.lastgroup
        top = stack[-1] if stack else None
        if kind == "open":
            secret = top is None or (is_secret_name(top.key) if top.key is not None else top.secret)
            stack.append(_FlowFrame(secret))
            continue
        if top is None:
            break
        if kind in ("close", "comma"):
            top.end_entry(values)
            if kind == "close":
                stack.pop()
                if not stack:
                    break
            continue
        if kind == "sep":
            if top.key is None and top.scalars is not None and len(top.scalars) == 1:
                top.key, top.scalars = top.scalars[0], None
            continue
        found: list[str] = []
        if kind == "dq" or kind == "bq":
            found = [m.group(kind), _unescape(m.group(kind))]
        elif kind == "sq":
            found = [m.group("sq"), m.group("sq").replace("''", "'")]
        elif kind == "unclosed":
            found = _open_value(m.group("unclosed")[1:])
        elif kind == "plain":
            plain = m.group("plain")
            comment = re.search(r"[ \t]#", plain)
            if comment is not None:  # a YAML comment runs to the end of the line, brackets included
                plain = plain[: comment.start()]
                pos = text.find("\n", pos)
                pos = limit if pos < 0 else pos
            plain = plain.strip()
            key = _FLOW_KEY_RE.match(plain) if top.key is None and top.scalars is None else None
            if key is not None:
                top.key, plain = key.group("key"), plain[key.end() :].strip()
            found = [plain] if plain and not (names_variable is not None and names_variable(plain)) else []
        if found:
            top.scalars = (top.scalars or []) + [v for v in found if v]
    kept = [v for v in dict.fromkeys(values) if not MARKER_RE.fullmatch(v) and v.lower() not in _BARE_LITERALS]
    return kept, pos


def _closing_quote(text: str, quote: str) -> int:
    """Where the string that `quote` opened before `text` closes in it, or -1: after a backslash escape
    in a double-quoted string, not at YAML's doubled single quote."""
    m = (_DQ_BODY_RE if quote == '"' else _SQ_BODY_RE).match(text)
    return m.end() if m is not None and m.end() < len(text) and text[m.end()] == quote else -1


_DQ_BODY_RE = re.compile(r'(?:\\.|[^"\\])*')
_SQ_BODY_RE = re.compile(r"(?:''|[^'])*")


def _scalar_values(text: str, start: int, end: int, value_start: int, column: int) -> list[str]:
    """The rest of a YAML value that starts on its key's line at `value_start` and goes on over the
    next lines (shell and dotenv quoted values too): a quoted scalar not closed on its line, to its
    closing quote; a plain scalar continued on the lines indented more than its key (at `column`), to a
    comment or a `key:` line. Each piece stripped, and the value folded as YAML reads it."""
    first = text[value_start:end].rstrip()
    if first[0] in "\"'":
        quote = first[0]
        if _closing_quote(first[1:], quote) >= 0:
            return []  # closed on its line: the lexical patterns have it
        pieces, closed = [first[1:]], False
        for nxt in _lines_after(text, end):
            at = _closing_quote(nxt, quote)
            if at >= 0:
                pieces.append(nxt[:at])
                closed = True
                break
            pieces.append(nxt)
        stripped = [piece.strip() for piece in pieces]
        if not closed:  # a broken file: see _continued_values
            return [p for p in stripped if _token_like(p)]
        values = [*stripped, " ".join(p for p in stripped if p), "\n".join(pieces)]
    else:
        if first[0] in "[{|>*#" or re.search(r"[ \t]#", first):
            return []  # a collection, a block scalar, an alias; a comment ends a plain scalar
        pieces = [first]
        for nxt in _lines_after(text, end):
            body = nxt.strip()
            if not body:
                continue  # a blank line within is folded to a newline
            if len(nxt) - len(nxt.lstrip(" \t")) <= column or body[0] == "#" or _YAML_ENTRY_RE.match(body):
                break
            comment = re.search(r"[ \t]#", body)
            pieces.append(body[: comment.start()].rstrip() if comment else body)
            if comment:
                break
        if len(pieces) == 1:
            return []
        values = [*pieces[1:], " ".join(pieces)]
    values += [_unescape(v) for v in values] + [v.rstrip("\\") for v in values]
    return [v for v in dict.fromkeys(values) if v and not MARKER_RE.fullmatch(v)]


def _multiline_values(text: str, start: int, end: int) -> list[str]:
    """A secret-named key's value that starts on its line and goes on below (see _scalar_values)."""
    line = text[start:end]
    body = line.lstrip(" \t")
    m = _SCALAR_KEY_RE.match(body)
    if m is None or not is_secret_name(m.group("key")):
        # elsewhere on the line: a quoted value continued by a backslash (JavaScript, Lua, shell)
        u = _UNTERMINATED_RE.search(line.rstrip("\r"))
        if u is None or u.group("oq") not in ("'", '"') or not is_secret_name(u.group("key")):
            return []
        rest = u.group("rest")
        if (len(rest) - len(rest.rstrip("\\"))) % 2 == 0:
            return []  # a broken file: the lexical patterns take the rest of the line
        return _scalar_values(text, start, end, start + u.start("oq"), 0)
    offset = start + len(line) - len(body)
    return _scalar_values(text, start, end, offset + m.start("value"), offset - start + m.start("key"))


def _anchored_values(text: str, names: set[str]) -> list[str]:
    """The values of the YAML anchors `names` (`&name value`, or the value below `key: &name`)."""
    alternatives = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    values: list[str] = []
    for m in re.finditer(r"(?<![^\s\[{,])&(?:" + alternatives + r")(?![^\s,\]}])", text):
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        end = len(text) if end < 0 else end
        rest = text[m.end() : end]
        tag = re.match(r"[ \t]{1,64}![^\s]{0,256}", rest)
        at = m.end() + (tag.end() if tag else 0)
        value = text[at:end].lstrip(" \t")
        vstart = end - len(value)
        if not value.strip() or value[0] in "|>#":
            values += _yaml_block_values(text, start, end, anchor=m.group(0)[1:])
        elif value[0] in "[{":
            values += _flow_values(text, vstart)[0]
        elif value[0] in "\"'" and _closing_quote(value[1:], value[0]) >= 0:
            values.append(value[1 : 1 + _closing_quote(value[1:], value[0])])
        else:
            plain = re.split(r"[ \t]#", value, maxsplit=1)[0].strip()
            values += [plain, re.split(r"[,\]}]", plain, maxsplit=1)[0].strip()]
            body = text[start:end].lstrip(" \t")
            column = end - start - len(body) + (2 if body.startswith("- ") else 0)
            values += _scalar_values(text, start, end, vstart, column)
    return [v for v in dict.fromkeys(values) if v and not MARKER_RE.fullmatch(v)]


def _lines_after(text: str, end: int) -> Iterator[str]:
    """The lines after the one ending at `end` (its newline, or the text's end), without their line
    ending, at most _MAX_CONTINUED_LINES."""
    pos = end
    for _ in range(_MAX_CONTINUED_LINES):
        if pos >= len(text):
            return
        after = text.find("\n", pos + 1)
        stop = after if after >= 0 else len(text)
        yield text[pos + 1 : stop].rstrip("\r")
        pos = stop


def _property_key(key: str) -> str:
    """A Java properties key with its escapes read (`PASS\\u0057ORD` is PASSWORD)."""
    key = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), key)
    return re.sub(r"\\(.)", r"\1", key)


def _der_length(data: bytes, pos: int) -> tuple[int, int] | None:
    """(length, position after the length octets) of the DER element whose length starts at `pos`."""
    if pos >= len(data):
        return None
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    octets = first & 0x7F
    if octets == 0 or octets > 4 or pos + 1 + octets > len(data):
        return None
    return int.from_bytes(data[pos + 1 : pos + 1 + octets], "big"), pos + 1 + octets


def looks_like_der_private_key(data: bytes) -> bool:
    """A binary (DER) private key, which no PEM marker betrays: one SEQUENCE spanning the whole file that
    starts with a small version INTEGER (PKCS#1 RSA and PKCS#8 0, SEC1 EC and OneAsymmetricKey 1, PKCS#12
    3) or with an AlgorithmIdentifier (an encrypted PKCS#8 key). A certificate starts with its
    tbsCertificate SEQUENCE, which holds a tagged version: not taken."""
    if len(data) < 16 or data[0] != 0x30:
        return False
    outer = _der_length(data, 1)
    if outer is None or outer[1] + outer[0] != len(data):
        return False
    body = data[outer[1] :]
    if body[:2] == b"\x02\x01" and len(body) > 3 and body[2] in (0, 1, 3):
        return body[3] in (0x02, 0x04, 0x30)  # RSA modulus, EC private key octets, AlgorithmIdentifier / auth safe
    if body[:1] == b"\x30":
        inner = _der_length(body, 1)
        return inner is not None and body[inner[1] : inner[1] + 1] == b"\x06"  # the algorithm's OID first
    return False


def _open_value(rest: str) -> list[str]:
    """What may be the secret in the rest of a line after an unclosed quote: all of it, without trailing
    blanks and separators, and its first word."""
    values = [rest.rstrip(), rest.rstrip(" \t,;"), *rest.split()[:1]]
    return [v for v in dict.fromkeys(values) if v and not MARKER_RE.search(v)]


def _credentials_in_values(text: str) -> Iterator[str]:
    """Passwords in URLs and their queries, coturn's user=NAME:PASSWORD lines, Authorization headers and
    JSON Web Tokens. Each search is
    led by a literal or skipped by a substring test, so a large text costs a few fast scans."""
    found: list[str] = []
    if "://" in text:
        found += [m.group("pw") for m in _URL_PASSWORD_RE.finditer(text)]
    for m in _TURN_USER_RE.finditer(text):
        start = m.start()
        while start > 0 and text[start - 1] in " \t":  # only blanks back to the line's start: each blank
            start -= 1  # is walked by one match at most (a search back to the newline was quadratic)
        if start == 0 or text[start - 1] == "\n":
            found.append(m.group("pw"))
    if not text.isascii() or "authorization" in text.lower():  # IGNORECASE also folds non-ASCII letters
        found += [m.group("pw") for m in _AUTH_HEADER_RE.finditer(text)]
    if "eyJ" in text:
        found += [m.group(0) for m in _JWT_RE.finditer(text)]
    if "=" in text and ("?" in text or "&" in text):
        found += [m.group("pw") for m in _QUERY_SECRET_RE.finditer(text)]
    return (value for value in found if not MARKER_RE.search(value))


def _named(names: frozenset[str]) -> Callable[[str], bool]:
    """A key predicate: the key, bare or as the last part of a dotted path, is one of `names`."""

    def wanted(key: str) -> bool:
        bare = key.strip("[]\"' ")
        return bare in names or bare.rsplit(".", 1)[-1] in names

    return wanted


def _name_spans(text: str, names: frozenset[str]) -> list[tuple[int, int]]:
    """(start, end) of each line where one of `names` stands as a word, in order."""
    present = [n for n in names if n in text]
    if not present:
        return []
    alternatives = "|".join(map(re.escape, sorted(present, key=len, reverse=True)))
    words = re.compile(r"(?<![A-Za-z0-9_])(?:" + alternatives + r")(?![A-Za-z0-9_])")
    return _line_spans(text, words.finditer(text))


def _secret_word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line holding a secret word, in order."""
    words = _SECRET_WORD_LOWER_RE.finditer(text.lower()) if text.isascii() else _SECRET_WORD_RE.finditer(text)
    return _line_spans(text, words)


def _line_spans(text: str, matches: Iterator[re.Match[str]]) -> list[tuple[int, int]]:
    """(start, end) of each line holding one of `matches` (in text order), each line once."""
    spans: list[tuple[int, int]] = []
    end = -1
    for m in matches:
        if m.start() < end:
            continue  # this line is taken already
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        if end < 0:
            end = len(text)
        spans.append((start, end))
    return spans


_COMMENT_TAIL_RE = re.compile(r"[ \t](?://|#|--)[^\r\n]{0,4096}$")  # `key = // comment`: the value is below


def _with_next_line(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """The lines among `spans` that end with a separator (`key =`, `key:`), each with the line after it:
    Lua, HOCON and JavaScript allow the value there."""
    pairs = []
    for start, end in spans:
        if end < len(text) and _COMMENT_TAIL_RE.sub("", text[start:end]).rstrip().endswith(("=", ":")):
            after = text.find("\n", end + 1)
            pairs.append(text[start : after if after >= 0 else len(text)])
    return pairs


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value) if "\\" in value else value


def redact_snapshot(
    snapshot: Snapshot, extra_values: list[str] | None = None, redactor: Redactor | None = None
) -> Snapshot:
    """Return a snapshot whose every item is free of the secret values found anywhere in it.

    `extra_values`: secrets the parsers found where the lexical pass did not (see
    `auditor.secret_settings.unredacted_secret_values`); `redactor`: the one of an earlier pass over
    the same snapshot, so that a value keeps its reuse group."""
    if redactor is None:
        redactor = Redactor()
    texts: dict[str, str] = {}
    for key, item in snapshot.items.items():
        if item.content is None:
            continue
        text = item.content.decode("utf-8", errors="surrogateescape")
        texts[key] = text
        redactor.reserve_groups(text)
    for key, text in texts.items():  # after every reservation: a value's group does not depend on file order
        redactor.scan_text(text, lua=key.endswith(".lua"))
    seen: set[str] = set()
    for _ in range(_REFERENCE_ROUNDS):  # the settings that secret values refer to hold secrets too
        explicit, bare = redactor.references()
        explicit, bare = explicit - seen, bare - seen
        if not explicit and not bare:
            break
        seen |= explicit | bare
        for text in texts.values():
            redactor.scan_references(text, explicit, bare)
    for value in extra_values or []:
        redactor.note(value)
    items: dict[str, CollectedItem] = {}
    for key, item in snapshot.items.items():
        if key not in texts:
            items[key] = item
            continue
        binary_key = item.content is not None and looks_like_der_private_key(item.content)
        if binary_key:
            texts[key] = PEM_MARKER + "\n"  # a binary key file: nothing of it is kept
        new_text, count = redactor.rewrite(texts[key])
        count += binary_key
        if count == 0:
            items[key] = item
            continue
        content = new_text.encode("utf-8", errors="surrogateescape")
        items[key] = CollectedItem(
            key=item.key,
            kind=item.kind,
            status=item.status,
            content=content,
            size=item.size,
            mode=item.mode,
            owner=item.owner,
            group=item.group,
            link_target=item.link_target,
            error=item.error,
            redactions=item.redactions + count,
            exit_code=item.exit_code,
        )
    return snapshot.with_items(items)
