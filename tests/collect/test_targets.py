"""Target spec parsing."""

from __future__ import annotations

import pytest

from auditor.transports.targets import TargetError, TargetSpec, parse_target


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("meet.example.org", TargetSpec("ssh", "meet.example.org", None, None, "meet.example.org")),
        ("user@host", TargetSpec("ssh", "host", "user", None, "user@host")),
        ("ssh://user@host:2222", TargetSpec("ssh", "host", "user", 2222, "ssh://user@host:2222")),
        ("SSH://host/", TargetSpec("ssh", "host", None, None, "SSH://host/")),
        ("[::1]:2222", TargetSpec("ssh", "::1", None, 2222, "[::1]:2222")),
        ("::1", TargetSpec("ssh", "::1", None, None, "::1")),
        (
            "ssh://admin@[2001:db8::5]:22",
            TargetSpec("ssh", "2001:db8::5", "admin", 22, "ssh://admin@[2001:db8::5]:22"),
        ),
        ("host:2200", TargetSpec("ssh", "host", None, 2200, "host:2200")),
        ("192.0.2.10", TargetSpec("ssh", "192.0.2.10", None, None, "192.0.2.10")),
        ("prod-meet", TargetSpec("ssh", "prod-meet", None, None, "prod-meet")),
        ("local://", TargetSpec("local", "localhost", None, None, "local://")),
    ],
)
def test_valid_specs(raw: str, expected: TargetSpec) -> None:
    assert parse_target(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("a b", "whitespace"),
        ("host\n", "whitespace"),
        ("ftp://host", "unsupported scheme 'ftp'"),
        ("user:pw@host", "passwords in the target are not supported"),
        ("[::1", "missing ']'"),
        ("[host]:22", "brackets are for IPv6"),
        ("host:0", "port '0'"),
        ("host:70000", "port '70000'"),
        ("host:ssh", "port 'ssh'"),
        ("-oProxyCommand=x", "must not start with '-'"),
        ("./config", "use --root DIR"),
        ("ssh://host/path", "paths, queries"),
        ("bad..name", "not a valid host name"),
        ("::zz::1", "not a valid IPv6"),
        ("@host", "not a valid user name"),
        ("local://somehost", "local:// takes no host"),
    ],
)
def test_invalid_specs_give_one_line_errors(raw: str, message: str) -> None:
    with pytest.raises(TargetError) as info:
        parse_target(raw)
    text = str(info.value)
    assert message in text and "\n" not in text and text.startswith("invalid target ")


def test_control_characters_are_escaped_once() -> None:
    """one_line's escape (a backslash and the code) appears as it is: repr() used to double the backslash."""
    with pytest.raises(TargetError) as info:
        parse_target("bad\x01host:x\x1b[31m")
    assert str(info.value).startswith("invalid target 'bad\\x01host:x\\x1b[31m': empty or contains")
    assert "\\\\" not in str(info.value) and "\x1b" not in str(info.value)


def test_display() -> None:
    assert parse_target("ssh://u@[::1]:2222").display == "u@[::1]:2222"
    assert parse_target("u@h").display == "u@h"
    assert parse_target("local://").display == "local://"
