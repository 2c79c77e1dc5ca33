from __future__ import annotations

import pytest

from auditor.parsers.base import ConfigParseError
from auditor.parsers.simplekv import KVValue, parse_colon_kv, parse_shell_env, parse_turnserver
from tests.parsers.helpers import fixture


def test_turnserver_flags_repeats_and_separators() -> None:
    conf = parse_turnserver(fixture("kv/turnserver.conf"), "/etc/turnserver.conf")
    assert conf["use-auth-secret"] == [KVValue(None, 2)]
    assert conf["static-auth-secret"] == [KVValue("Tu7nS3cretValue", 4)]
    assert conf["no-tlsv1"] == [KVValue(None, 15)] and conf["no-tlsv1_1"] == [KVValue(None, 16)]
    assert conf["cipher-list"] == [KVValue("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256", 18)]
    assert conf["denied-peer-ip"] == [
        KVValue("0.0.0.0-0.255.255.255", 20),
        KVValue("10.0.0.0-10.255.255.255", 21),
        KVValue("172.16.0.0-172.31.255.255", 22),  # `name value`
        KVValue("192.168.0.0-192.168.255.255", 23),  # `name = value`
    ]
    assert conf["listening-port"] == [KVValue("3478", 13)]
    assert "#" not in "".join(conf)
    assert len(conf) == 18


def test_turnserver_as_coturn_reads_it() -> None:
    # coturn matches a line's name against its long option names as written: `--no-tlsv1` is no option there
    # ("Bad configuration format", the line ignored), so it must not stand for no-tlsv1
    conf = parse_turnserver('--no-tlsv1\nrealm="a b"\nstatic-auth-secret=abc # not a comment\n', "t")
    assert conf == {
        "--no-tlsv1": [KVValue(None, 1)],
        "realm": [KVValue("a b", 2)],
        "static-auth-secret": [KVValue("abc # not a comment", 3)],
    }


def test_saslauthd() -> None:
    conf = parse_colon_kv(fixture("kv/saslauthd.conf"), "/etc/saslauthd.conf")
    assert conf == {
        "ldap_servers": KVValue("ldaps://ldap.example.org/", 2),
        "ldap_bind_dn": KVValue("cn=jitsi,ou=services,dc=example,dc=org", 3),
        "ldap_bind_pw": KVValue("Ld4pB1nd:Passw0rd", 4),
        "ldap_auth_method": KVValue("bind", 5),
        "ldap_search_base": KVValue("ou=people,dc=example,dc=org", 6),
        "ldap_filter": KVValue("(uid=%u)", 7),
        "ldap_tls_check_peer": KVValue("no", 8),
    }
    with pytest.raises(ConfigParseError, match="name: value") as err:
        parse_colon_kv("ldap_servers: x\nno colon here\n", "s")
    assert err.value.line == 2


def test_shell_env_legacy_jicofo_config() -> None:
    conf = parse_shell_env(fixture("kv/jicofo-config"), "/etc/jitsi/jicofo/config")
    assert conf == {
        "JICOFO_HOST": KVValue("localhost", 3),
        "JICOFO_HOSTNAME": KVValue("meet.example.org", 6),
        "JICOFO_SECRET": KVValue("Fs3cr3tFocus2020", 9),
        "JICOFO_PORT": KVValue("5347", 12),
        "JICOFO_AUTH_DOMAIN": KVValue("auth.meet.example.org", 15),
        "JICOFO_AUTH_USER": KVValue("focus", 18),
        "JICOFO_AUTH_PASSWORD": KVValue("Jk8s$Focus", 21),
        "JICOFO_OPTS": KVValue("", 24),
        "JAVA_SYS_PROPS": KVValue(
            "-Dnet.java.sip.communicator.SC_HOME_DIR_LOCATION=/etc/jitsi  "  # sh keeps both blanks
            "-Dnet.java.sip.communicator.SC_HOME_DIR_NAME=jicofo",
            27,
        ),
    }


def test_shell_env_quoting_and_non_assignments() -> None:
    text = (
        'A="x \\"y\\" $HOME"\n'  # 1
        "B='single $HOME'\n"  # 2
        "C=unquoted # comment\n"  # 3
        "if [ -f /etc/default/jicofo ]; then\n"  # 4: shell code is skipped
        '  D="multi\n'  # 5
        'line"\n'  # 6
        "fi\n"  # 7
        "E=a\\ b;F=ignored\n"  # 8
        "export\tG=tab\n"  # 9
        "H=1\n"  # 10
        "H=2\n"  # 11
    )
    assert parse_shell_env(text, "cfg") == {
        "A": KVValue('x "y" $HOME', 1),
        "B": KVValue("single $HOME", 2),
        "C": KVValue("unquoted", 3),
        "D": KVValue("multi\nline", 5),
        "E": KVValue("a b", 8),
        "G": KVValue("tab", 9),
        "H": KVValue("2", 11),
    }
    with pytest.raises(ConfigParseError, match="unterminated") as err:
        parse_shell_env("A=1\nB='open\n", "cfg")
    assert err.value.line == 2


def test_bounds() -> None:
    for parse in (parse_turnserver, parse_colon_kv, parse_shell_env):
        with pytest.raises(ConfigParseError, match="too large"):
            parse("a=1\n" * 10, "f", max_bytes=10)
        with pytest.raises(ConfigParseError, match="UTF-8"):
            parse("a=caf\udce9\n", "f")
    # one quote opened at the top of a large file: one linear scan, then the error
    with pytest.raises(ConfigParseError, match="unterminated"):
        parse_shell_env('A="' + "x\n" * 500_000, "cfg")
