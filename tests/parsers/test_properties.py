from __future__ import annotations

import pytest

from auditor.parsers.base import ConfigParseError
from auditor.parsers.properties import PropValue, parse_properties
from tests.parsers.helpers import fixture

PATH = "/etc/jitsi/videobridge/sip-communicator.properties"


def test_legacy_videobridge_properties() -> None:
    props = parse_properties(fixture("properties/sip-communicator.properties"), PATH)
    assert props["org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES"] == PropValue(
        "meet-jit-si-turnrelay.jitsi.net:443", 3
    )
    assert props["org.jitsi.videobridge.xmpp.user.shard.PASSWORD"] == PropValue("Vb7qJvbPassword", 10)
    assert props["org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME"] == PropValue("7c2b8c53-2f4b", 12)
    assert props["org.jitsi.videobridge.TCP_HARVESTER_PORT"] == PropValue("4443", 13)  # ':' separator
    assert props["org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED"] == PropValue("true", 14)  # blank separator
    assert props["org.jitsi.videobridge.NOTE"] == PropValue("multi line value", 16)  # continuation lines
    assert props["org.jitsi.videobridge.unicode"] == PropValue("café", 19)
    assert len(props) == 15
    assert not any(key.startswith(("#", "!")) for key in props)


def test_java_rules() -> None:
    text = (
        "key\\ with\\ spaces = value\n"  # 1
        "  indented=yes\n"  # 2
        "a\\=b=c\n"  # 3: escaped separator in the key
        "trailing=keep   \n"  # 4: trailing blanks are part of the value
        "empty\n"  # 5
        "  # indented comment\n"  # 6
        "tabs\t\t:\tx\n"  # 7
        "escapes=\\t\\n\\\\\\q\n"  # 8
        "even=backslashes\\\\\n"  # 9: an even number of backslashes does not continue
        "next=line\n"  # 10
        "emoji=\\ud83d\\ude00\n"  # 11: a surrogate pair is one character
        "dup=first\n"  # 12
        "dup=second\n"  # 13
        "last=dangling\\"  # 14: a continuation at end of file
    )
    props = parse_properties(text, "p")
    assert props == {
        "key with spaces": PropValue("value", 1),
        "indented": PropValue("yes", 2),
        "a=b": PropValue("c", 3),
        "trailing": PropValue("keep   ", 4),
        "empty": PropValue("", 5),
        "tabs": PropValue("x", 7),
        "escapes": PropValue("\t\n\\q", 8),
        "even": PropValue("backslashes\\", 9),
        "next": PropValue("line", 10),
        "emoji": PropValue("\U0001f600", 11),
        "dup": PropValue("second", 13),
        "last": PropValue("dangling", 14),
    }


def test_line_endings() -> None:
    assert parse_properties("a=1\r\nb=2\rc=3\n", "p") == {
        "a": PropValue("1", 1),
        "b": PropValue("2", 2),
        "c": PropValue("3", 3),
    }


def test_errors() -> None:
    with pytest.raises(ConfigParseError, match="uxxxx") as err:
        parse_properties("a=1\nb=\\u12G4\n", "p")
    assert err.value.line == 2
    with pytest.raises(ConfigParseError, match="too large"):
        parse_properties("a=1\n" * 100, "p", max_bytes=50)
    with pytest.raises(ConfigParseError, match="UTF-8") as err:
        parse_properties("a=1\nb=caf\udce9\n", "p")
    assert err.value.line == 2
    with pytest.raises(ConfigParseError, match="NUL"):
        parse_properties("a=\x00", "p")


def test_long_continuations_stay_linear() -> None:
    text = "k=" + "x\\\n" * 200_000 + "end\n"
    props = parse_properties(text, "p")
    assert props["k"].value == "x" * 200_000 + "end"
