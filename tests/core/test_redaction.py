"""Secrets are replaced by verdict markers everywhere in a snapshot, and only verdicts survive."""

from __future__ import annotations

import re
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.redaction import (
    _EMBEDDED_RE,
    _LEXICAL_RES,
    _LINE_VALUE_RE,
    _UNTERMINATED_RE,
    MARKER_RE,
    Redactor,
    SecretVerdict,
    _secret_word_spans,
    classify,
    is_secret_name,
    redact_snapshot,
)
from tests.security.support import files_snapshot


def _lines_with_secret_words(text: str) -> list[str]:
    """The lines (split at "\\n", as `.`, `^` and `$` see them) the redaction scans: those holding a
    secret word, in order."""
    return [text[start:end] for start, end in _secret_word_spans(text)]

CANARY = "CANARY-7f3a9c2e51d84b06"


def test_every_format_is_redacted_and_the_value_is_gone_everywhere() -> None:
    files = {
        "/etc/prosody/conf.d/x.cfg.lua": f'Component "focus.x" component_secret = "{CANARY}"\n',
        "/etc/jitsi/jicofo/jicofo.conf": f'jicofo {{ xmpp {{ client {{ password = "{CANARY}" }} }} }}\n',
        "/etc/jitsi/videobridge/sip-communicator.properties": f"org.jitsi.videobridge.xmpp.user.shard.PASSWORD={CANARY}\n",
        "/opt/docker/.env": f"JICOFO_AUTH_PASSWORD={CANARY}\n",
        "/etc/turnserver.conf": f"static-auth-secret={CANARY}\n",
        "/etc/saslauthd.conf": f"ldap_bind_pw: {CANARY}\n",
        "/etc/jitsi/meet/x-config.js": f"var config = {{ callStatsSecret: '{CANARY}' }};\n",
        "/var/log/copy.txt": f"a line that merely repeats {CANARY} elsewhere\n",
    }
    redacted = redact_snapshot(files_snapshot(files))
    for item in redacted.items.values():
        assert CANARY not in item.text(), item.key
        assert item.redactions >= 1, item.key
    marker = MARKER_RE.search(redacted.items["/etc/turnserver.conf"].text())
    assert marker is not None
    verdict = SecretVerdict.from_marker(marker.group(0))
    assert verdict is not None
    assert verdict == SecretVerdict("ok", len(CANARY), verdict.group)


def test_reuse_gives_the_same_group_and_different_values_different_groups() -> None:
    redacted = redact_snapshot(
        files_snapshot(
            {
                "/a.conf": "password = aaaaBBBBccccDDDD1\nsecret = zzzzYYYYxxxxWWWW2\n",
                "/b.conf": "other_password = aaaaBBBBccccDDDD1\n",
            }
        )
    )
    a = [SecretVerdict.from_marker(m.group(0)) for m in MARKER_RE.finditer(redacted.items["/a.conf"].text())]
    b = SecretVerdict.from_marker(redacted.items["/b.conf"].text())
    assert a[0] is not None and a[1] is not None and b is not None
    assert a[0].group == b.group and a[0].group != a[1].group


def test_keys_named_like_a_default_value_are_not_mangled() -> None:
    text = 'Component "focus.x"\n    component_secret = "secret"\n["password"] = "password";\n'
    out = redact_snapshot(files_snapshot({"/x.lua": text})).items["/x.lua"].text()
    assert "component_secret = " in out and '["password"] = ' in out
    assert '"secret"' not in out and '"password";' not in out


def test_a_secret_of_three_characters_or_fewer_is_not_replaced_inside_paths() -> None:
    # `component_secret = x` (a placeholder left in): replaced where it stands as a value, but not in
    # every path segment and file suffix of the snapshot that spells it
    lua = 'Component "focus.meet"\n    component_secret = "x"\n'
    site = "root /srv/x/www;\nssl_certificate /etc/ssl/x.pem;\nalias /var/ab-x/;\n"
    props = "org.jitsi.videobridge.xmpp.user.shard.PASSWORD=x\n"
    snap = redact_snapshot(files_snapshot({"/p.cfg.lua": lua, "/site.conf": site, "/sip.properties": props}))
    assert snap.items["/site.conf"].text() == site
    assert '"x"' not in snap.items["/p.cfg.lua"].text()
    assert snap.items["/sip.properties"].text().endswith("PASSWORD=JAUDIT_REDACTED_short_1_g1\n")


def test_private_key_blocks_are_removed_whole() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----\n"
    out = redact_snapshot(files_snapshot({"/k.key": pem})).items["/k.key"].text()
    assert "MIIEow" not in out and "JAUDIT_REDACTED_PRIVATE_KEY_BLOCK" in out


def test_prose_and_flags_are_left_alone() -> None:
    text = "# the password is stored elsewhere\nuse-auth-secret\nsecret_file = /etc/x\n"
    item = redact_snapshot(files_snapshot({"/c": text})).items["/c"]
    assert item.text() == text and item.redactions == 0


def test_classification() -> None:
    assert classify("passw0rd") == "default"
    assert classify("s3cr37") == "default"
    assert classify("") == "empty"
    assert classify("<your secret here>") == "placeholder"
    assert classify("Kq7mR2xD") == "short"
    assert classify("aaaaaaaaaaaaaaaaaaaaaaaa") == "weak"
    assert classify("9f86d081884c7d659a2feaa0c55ad015") == "ok"


def test_secret_names() -> None:
    for name in (
        "component_secret",
        "app_secret",
        "PASSWORD",
        "static-auth-secret",
        "ldap_bind_pw",
        "JVB_AUTH_PASSWORD",
        '["password"]',
        "external_service_secret",
        "callStatsSecret",
        "pkey-pwd",
        "DB_PWD",
        "org.jitsi.jigasi.xmpp.acc.PASS",  # jigasi's XMPP account
        "TURN_CREDENTIALS",  # docker-jitsi-meet: prosody's external_service_secret
    ):
        assert is_secret_name(name), name
    for name in ("secret_file", "use-auth-secret", "password_length", "auth_type", "ENABLE_AUTH", "PWD", "BYPASS", "compass",
                 "proxy_pass", "fastcgi_pass", "grpc_pass"):  # nginx's upstreams
        assert not is_secret_name(name), name


def test_saved_markers_are_not_redacted_again() -> None:
    once = redact_snapshot(files_snapshot({"/a": f"password = {CANARY}\n"}))
    twice = redact_snapshot(once)
    assert once.items["/a"].text() == twice.items["/a"].text()


def test_a_default_value_does_not_eat_dashed_or_dotted_setting_names() -> None:
    text = "use-auth-secret\nstatic-auth-secret=secret\norg.jitsi.secret.x=1\n"
    out = redact_snapshot(files_snapshot({"/etc/turnserver.conf": text})).items["/etc/turnserver.conf"].text()
    assert out.startswith("use-auth-secret\nstatic-auth-secret=JAUDIT_REDACTED_default_6_g")
    assert "org.jitsi.secret.x=1" in out


def test_a_value_with_a_hash_is_redacted_whole() -> None:
    out = redact_snapshot(files_snapshot({"/etc/jitsi/videobridge/config": "JVB_SECRET=Yb4#nQ8@\n"}))
    text = out.items["/etc/jitsi/videobridge/config"].text()
    assert "Yb4" not in text and "nQ8" not in text


def test_concatenated_secret_pieces_are_all_redacted() -> None:
    text = 'app_secret = "Hs9Pq2Wr" .. "7Kt4Mx8Z" .. "v3Nc6Lb1"\nvar config = { callStatsSecret: \'abcd\' + \'efgh1234\' };\n'
    out = redact_snapshot(files_snapshot({"/x.cfg.lua": text})).items["/x.cfg.lua"].text()
    for piece in ("Hs9Pq2Wr", "7Kt4Mx8Z", "v3Nc6Lb1", "abcd", "efgh1234"):
        assert piece not in out, out


def test_credentials_inside_values_are_redacted_under_any_setting_name() -> None:
    """coturn's user=NAME:PASSWORD and connection strings, passwords in URLs, Authorization headers set
    by the web server, and *-pwd settings."""
    secrets = [f"{CANARY}-{i}" for i in range(9)]
    files = {
        "/etc/turnserver.conf": (
            f"  user=alice:{secrets[0]}\n"
            f'redis-userdb="ip=127.0.0.1 dbname=0 password={secrets[1]} connect_timeout=30"\n'
            f"psql-userdb=\"host=db dbname=coturn user=turn password='{secrets[2]}'\"\n"
            f"mongo-userdb=mongodb://turn:{secrets[3]}@db:27017/coturn\n"
            f"pkey-pwd={secrets[4]}\n"
        ),
        "/opt/jitsi/.env": f"ETHERPAD_URL_BASE=http://admin:{secrets[5]}@etherpad:9001\nREDIS=redis://:{secrets[6]}@r:6379/0\n",
        "/etc/nginx/sites-enabled/meet.conf": (
            f'location /stats/ {{ proxy_set_header Authorization "Basic {secrets[7]}"; proxy_pass http://b; }}\n'
            'location = /jaas-jwt { proxy_set_header Authorization "Bearer $jaas_asap_key"; }\n'
        ),
        "/etc/apache2/sites-enabled/meet.conf": f'RequestHeader set Authorization "Bearer {secrets[8]}"\n',
    }
    redacted = redact_snapshot(files_snapshot(files))
    turn, env = redacted.items["/etc/turnserver.conf"].text(), redacted.items["/opt/jitsi/.env"].text()
    for value in secrets:
        assert value not in turn + env
    assert turn.startswith("  user=alice:JAUDIT_REDACTED_ok_") and "mongodb://turn:JAUDIT_REDACTED_" in turn
    assert "dbname=0 password=JAUDIT_REDACTED_" in turn and "connect_timeout=30" in turn
    assert "http://admin:JAUDIT_REDACTED_" in env and "@etherpad:9001" in env
    nginx = redacted.items["/etc/nginx/sites-enabled/meet.conf"].text()
    assert all(value not in nginx for value in secrets) and '"Bearer $jaas_asap_key"' in nginx  # a variable
    assert secrets[8] not in redacted.items["/etc/apache2/sites-enabled/meet.conf"].text()


def test_a_quoted_secret_left_open_is_redacted_to_the_end_of_its_line() -> None:
    text = (
        'component_secret = "Op3nQuoteValue\\"still-in-it\n'  # an escaped quote does not close it
        "callStatsSecret: 'Js0penValue99',\n".replace("',", ",")
        + 'password = """Tr1pleQuoteOpen\n'
        + 'app_secret = "Cl0sedValue12345"\n'
    )
    out = redact_snapshot(files_snapshot({"/x": text})).items["/x"].text()
    for piece in ("Op3nQuote", "still-in-it", "Js0pen", "Tr1ple", "Cl0sed"):
        assert piece not in out, out
    assert out.count("JAUDIT_REDACTED_") == 4


def test_an_open_quote_ending_in_a_backslash_is_redacted() -> None:
    """A lone backslash can only end the value (elsewhere one is read with its next character)."""
    text = 'component_secret = "Tr4ilingBackslash\\\napp_secret =\n    "Wr4ppedTrailing\\\n'
    out = redact_snapshot(files_snapshot({"/x": text})).items["/x"].text()
    assert "Tr4iling" not in out and "Wr4pped" not in out, out


def test_a_value_on_the_line_after_its_key_is_redacted() -> None:
    text = (
        'component_secret =\n    "Wr4ppedLuaValue1"\n'
        "callStatsSecret:\n    'Wr4ppedJsValue22',\n"
        'password =\n    """Wr4ppedTriple333"""\n'
        'app_secret =\n    [[Wr4ppedLongStr44]]\n'
        'jwt_secret =\n    "Wr4ppedOpenValue5\n'
        'plain =\n    "NotASecretValue66"\n'
    )
    out = redact_snapshot(files_snapshot({"/x": text})).items["/x"].text()
    for piece in ("Wr4ppedLua", "Wr4ppedJs", "Wr4ppedTriple", "Wr4ppedLong", "Wr4ppedOpen"):
        assert piece not in out, out
    assert '"NotASecretValue66"' in out


def test_what_only_looks_like_a_credential_is_kept() -> None:
    text = (
        'services:\n  web:\n    user: "1000:1000"\n'  # compose: uid:gid
        "PUBLIC_URL=https://meet.example.org:8443/path\n"
        "SENTRY_DSN=https://0123456789abcdef@o1.ingest.sentry.io/42\n"  # a DSN's public key, no password
        "PWD=/opt/jitsi\nproxy_pass http://127.0.0.1:5280/http-bind;\n"
        "# Basic authentication for the admin area\nauth_basic \"Restricted area\";\n"
        "proxy_set_header Authorization $http_authorization;\n"
        "jibri_user=ops:notcoturn\n"  # coturn's option only at a line's start
    )
    out = redact_snapshot(files_snapshot({"/opt/jitsi/x": text})).items["/opt/jitsi/x"]
    assert out.text() == text and out.redactions == 0


# -- the line pre-filter of the lexical pass ---------------------------------------------------------
# scan_text searches only the lines that hold a secret word. That is exact when every match of the
# lexical patterns lies within one line and every secret-named key holds a secret word: then the
# matches kept over those lines are the matches kept over the whole text, in the same order.
_PIECES = [
    "password", "PassWord", "secret", "SECRET", "_pw", "bind_pw", "api_key", "auth_token", "credential",
    "pa\u017f\u017fword", "\u017fecret", "sdk\u212aey", "PR\u0130VATEKEY", "privat\u0131", "passwd_file", "app_key",
    "x", "key", " ", "\t", "=", ":", " = ", ": ", '"', "'", "`", "[[", "]]", "[==[", "]==]", "[", "]", "\\",
    "\\\"", "..", "+", "#", ",", ";", "{", "}", "true", "\n", "\r\n", "\r", "\u2028", "\x0b", "- ", "export ",
    "JAUDIT_REDACTED_ok_8_g1", "V4lue!", "\u00e9", "\U0001f512", "-pwd", "_PWD", "host=", "'a b'", '"""', "=\n", ":\n",
]


def _kept(regex: re.Pattern[str], texts: list[str]) -> list[tuple[str, dict[str, str | None]]]:
    return [(m.group(0), m.groupdict()) for t in texts for m in regex.finditer(t) if is_secret_name(m.group("key"))]


@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(st.lists(st.sampled_from(_PIECES), max_size=60).map("".join))
def test_the_lines_with_secret_words_hold_every_secret_match_of_the_whole_text(text: str) -> None:
    lines = _lines_with_secret_words(text)
    for regex in (*_LEXICAL_RES, _EMBEDDED_RE, _UNTERMINATED_RE, _LINE_VALUE_RE):
        assert all("\n" not in m.group(0) for m in regex.finditer(text))
        assert _kept(regex, lines) == _kept(regex, [text])


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(st.lists(st.sampled_from(_PIECES), max_size=60).map("".join))
def test_redaction_with_the_line_filter_equals_a_whole_text_scan(text: str) -> None:
    """Scanning only the lines with a secret word (and, for a line ending in a separator, the line after
    it) notes what scanning every line notes, in the same order."""
    filtered = Redactor()
    filtered.scan_text(text)
    whole = Redactor()
    with patch("auditor.redaction._secret_word_spans", _every_line):
        whole.scan_text(text)
    assert list(filtered._values) == list(whole._values)


def _every_line(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def test_non_ascii_case_folds_of_secret_words_are_searched() -> None:
    # re.IGNORECASE folds U+017F (long s) onto "s" and U+212A (Kelvin) onto "k": such a name is
    # secret to SECRET_NAME_RE, so its line must not be skipped.
    # (a quoted key: the bare-key patterns take ASCII names only)
    text = "a = 1\n\"pa\u017f\u017fword\" = \"V4lue-one\"\n{'sdk\u212aey': 'V4lue-two'}\nb = 2\n"
    lines = ["\"pa\u017f\u017fword\" = \"V4lue-one\"", "{'sdk\u212aey': 'V4lue-two'}"]
    assert _lines_with_secret_words(text) == lines
    redactor = Redactor()
    redactor.scan_text(text)
    assert list(redactor._values) == ["V4lue-one", "V4lue-two"]
    assert _lines_with_secret_words("x = 1\ny = 2\n") == []


def test_a_megabyte_name_is_judged_at_once() -> None:
    """A parsed key can be as long as its file; SECRET_NAME_RE over all of it was cubic."""
    from tests.core.test_user_files import no_hang

    with no_hang(5.0):
        assert not is_secret_name("_" * 1_000_000 + "x")
        assert is_secret_name("a-" * 500_000 + "_password")
        assert not is_secret_name("secret_file" + "_" * 1_000_000 + "path")


def test_a_long_line_of_coturn_users_is_scanned_at_once() -> None:
    """coturn's user= counts only at a line's start; searching back to the newline for each of 100 000
    matches on one line was quadratic."""
    from tests.core.test_user_files import no_hang

    redactor = Redactor()
    with no_hang(5.0):
        redactor.scan_text("x " + "user=a:Pw0rdPw0rd " * 100_000 + "\n  user=b:Turn5ecretValue\n")
    assert "Turn5ecretValue" in redactor._values and "Pw0rdPw0rd" not in redactor._values


def test_template_expressions_are_references() -> None:
    """What a deployment tool fills in: Jinja/Go/Helm, GitHub Actions, ERB, a shell's or compose's variable,
    a command's output. A literal placeholder stays a placeholder."""
    for value in ("{{ vault_jicofo_password }}", "${{ secrets.GITHUB_TOKEN }}", "{% raw %}", "<%= @secret %>",
                  "$GC_PRIVATE_KEY", "${TURN_SECRET}", "$(openssl rand -hex 16)", "`pwgen 32 1`", "$KEY,"):
        assert classify(value) == "reference", value
    assert SecretVerdict("reference", 20, 1).weak  # on a live host: an unrendered template
    assert classify("<your secret here>") == "placeholder"
    assert classify("$") == "short" and classify("${{") == "short"


def test_the_first_word_of_a_template_expression_is_not_taken_for_a_secret() -> None:
    """`password: ${{ secrets.GITHUB_TOKEN }}` (a GitHub workflow of every docker-jitsi-meet fork) noted its
    first word `${{`, and every `${{` of the file became a marker: `registry`, `username` and `JITSI_REPO`
    then read as one secret reused for three purposes."""
    text = ("env:\n  JITSI_REPO: ghcr.io/jitsi\njobs:\n  build:\n    steps:\n      - with:\n"
            "          registry: ${{ env.REGISTRY }}\n          username: ${{ github.actor }}\n"
            "          password: ${{ secrets.GITHUB_TOKEN }}\n")
    r = Redactor()
    r.scan_text(text)
    out, count = r.rewrite(text)
    assert count == 1
    assert "registry: ${{ env.REGISTRY }}" in out and "username: ${{ github.actor }}" in out
    [marker] = MARKER_RE.findall(out)
    assert marker[0] == "reference"
    # a plain value's first word is still a value of its own (`secret abc # note`, a value ending at a blank)
    r = Redactor()
    r.scan_text("password: Kq7mR2xDs9 trailing words\nother: Kq7mR2xDs9\n")
    assert "Kq7mR2xDs9" not in r.rewrite("other: Kq7mR2xDs9\n")[0]


def test_the_opening_of_a_template_expression_is_never_a_secret() -> None:
    """A value ending at the first blank (`PASSWORD={{ vault_pw }}`, an Ansible env template) stopped at
    `{{`: every `{{` of the snapshot became a marker, and every task's `path: "{{ item }}"` a weak secret."""
    text = 'JVB_AUTH_PASSWORD={{ jitsi_jvb_auth_password }}\npath: "{{ item }}"\nJICOFO_SECRET=${{ x }}\n'
    r = Redactor()
    r.scan_text(text)
    out, _count = r.rewrite(text)
    assert 'path: "{{ item }}"' in out
    assert not [v for v in r._values if v in ("{{", "${{")]


def test_an_option_in_a_shell_string_has_escaped_quotes_not_a_backslash_value() -> None:
    """docker-jitsi-meet stable-6865's jicofo run script: DAEMON_OPTS="... --user_password=\\"$JICOFO_AUTH_PASSWORD\\"".
    The option's value was read as `\\`: every backslash of the tree became a marker, and every package of a
    Dockerfile's continued apt-get line a weak secret reused across purposes."""
    text = 'DAEMON_OPTS="--domain=\\"$XMPP_DOMAIN\\" --user_password=\\"Kq7mR2xDs9fT4wLpZ\\""\n'
    r = Redactor()
    r.scan_text(text)
    assert sorted(r._values) == ["Kq7mR2xDs9fT4wLpZ"]
    assert r.rewrite("RUN apt-get install -y \\\n  git \\\n")[1] == 0
    # a value that starts with a backslash is still one
    r = Redactor()
    r.scan_text("turnserver --static-auth-secret \\x41bcdefgh\n")
    assert "\\x41bcdefgh" in r._values


def test_googles_application_credentials_name_a_key_file_not_a_secret() -> None:
    assert not is_secret_name("GOOGLE_APPLICATION_CREDENTIALS")
    assert is_secret_name("TURN_CREDENTIALS")  # docker-jitsi-meet's TURN shared secret


def test_one_or_two_punctuation_characters_are_replaced_only_where_they_stand_as_a_value() -> None:
    """A serverspec hash line (`'component_secret = ',`) gave the value `,`: every comma of the tree became a
    marker and a config.js beside it no longer parsed. A real one-character secret is still redacted (and
    judged): quoted alone, or alone after `=`/`:`."""
    r = Redactor()
    r.scan_text("    'Component \"focus.localhost\"' => 'component_secret = ',\n")
    assert r.rewrite("var interfaceConfig = { A: 1, B: 'x', };\n")[1] == 0
    r = Redactor()
    text = 'external_service_secret = "!"\nstatic-auth-secret=!\nnote = "a!b"\n'
    r.scan_text(text)
    out, count = r.rewrite(text)
    assert count == 2 and '"a!b"' in out and '"!"' not in out and "=!" not in out
    r = Redactor()
    r.scan_text('password = "x1"\n')
    assert "x1" in r._values  # short, but letters: a secret (weak) like any other
