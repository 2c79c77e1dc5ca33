"""Secrets are replaced by verdict markers everywhere in a snapshot, and only verdicts survive."""

from __future__ import annotations

from auditor.redaction import MARKER_RE, SecretVerdict, classify, is_secret_name, redact_snapshot
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot

CANARY = "CANARY-7f3a9c2e51d84b06"


def _snap(files: dict[str, str]) -> Snapshot:
    snap = Snapshot("t", "dir")
    for key, text in files.items():
        snap.add(CollectedItem(key, "file", ItemStatus.OK, text.encode()))
    return snap


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
    redacted = redact_snapshot(_snap(files))
    for item in redacted.items.values():
        assert CANARY not in item.text(), item.key
        assert item.redactions >= 1, item.key
    marker = MARKER_RE.search(redacted.items["/etc/turnserver.conf"].text())
    assert marker is not None
    verdict = SecretVerdict.from_marker(marker.group(0))
    assert verdict == SecretVerdict("ok", len(CANARY), verdict.group)


def test_reuse_gives_the_same_group_and_different_values_different_groups() -> None:
    redacted = redact_snapshot(
        _snap(
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
    out = redact_snapshot(_snap({"/x.lua": text})).items["/x.lua"].text()
    assert "component_secret = " in out and '["password"] = ' in out
    assert '"secret"' not in out and '"password";' not in out


def test_private_key_blocks_are_removed_whole() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----\n"
    out = redact_snapshot(_snap({"/k.key": pem})).items["/k.key"].text()
    assert "MIIEow" not in out and "JAUDIT_REDACTED_PRIVATE_KEY_BLOCK" in out


def test_prose_and_flags_are_left_alone() -> None:
    text = "# the password is stored elsewhere\nuse-auth-secret\nsecret_file = /etc/x\n"
    item = redact_snapshot(_snap({"/c": text})).items["/c"]
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
    ):
        assert is_secret_name(name), name
    for name in ("secret_file", "use-auth-secret", "password_length", "auth_type", "ENABLE_AUTH"):
        assert not is_secret_name(name), name


def test_saved_markers_are_not_redacted_again() -> None:
    once = redact_snapshot(_snap({"/a": f"password = {CANARY}\n"}))
    twice = redact_snapshot(once)
    assert once.items["/a"].text() == twice.items["/a"].text()


def test_a_default_value_does_not_eat_dashed_or_dotted_setting_names() -> None:
    text = "use-auth-secret\nstatic-auth-secret=secret\norg.jitsi.secret.x=1\n"
    out = redact_snapshot(_snap({"/etc/turnserver.conf": text})).items["/etc/turnserver.conf"].text()
    assert out.startswith("use-auth-secret\nstatic-auth-secret=JAUDIT_REDACTED_default_6_g")
    assert "org.jitsi.secret.x=1" in out


def test_a_value_with_a_hash_is_redacted_whole() -> None:
    out = redact_snapshot(_snap({"/etc/jitsi/videobridge/config": "JVB_SECRET=Yb4#nQ8@\n"}))
    text = out.items["/etc/jitsi/videobridge/config"].text()
    assert "Yb4" not in text and "nQ8" not in text


def test_concatenated_secret_pieces_are_all_redacted() -> None:
    text = 'app_secret = "Hs9Pq2Wr" .. "7Kt4Mx8Z" .. "v3Nc6Lb1"\nvar config = { callStatsSecret: \'abcd\' + \'efgh1234\' };\n'
    out = redact_snapshot(_snap({"/x.cfg.lua": text})).items["/x.cfg.lua"].text()
    for piece in ("Hs9Pq2Wr", "7Kt4Mx8Z", "v3Nc6Lb1", "abcd", "efgh1234"):
        assert piece not in out, out
