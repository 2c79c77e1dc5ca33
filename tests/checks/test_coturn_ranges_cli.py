"""coturn's IPv6 relay peers, loopback default and telnet admin CLI, against coturn's source:
good_peer_addr / ioa_addr_is_internal_deny_default (ns_turn_server.c, ns_turn_ioaddr.c; 4.13.1, #1947), the relay
addresses of main / make_local_relays_list (mainrelay.c), get_relay_socket's 443 for a peer of another family
(ns_turn_server.c), allow-loopback-peers replacing no-loopback-peers in 4.5.1.0 (ChangeLog, set_option), and the CLI:
on by default before 4.10.0 (#1830), without a login before 4.5.1.0 when cli-password is empty (run_cli_input,
turn_admin_server.c), off without a cli-password from 4.5.1.0 (main)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.engine import prepare_snapshot
from auditor.model import Status
from auditor.secret_settings import secret_settings
from tests.checks import base

TEMPLATE_CONF = Path(__file__).resolve().parent.parent / "fixtures" / "debian-current" / "etc" / "turnserver.conf"
IPV6_INTERNAL = ("denied-peer-ip=fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"
                 "denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n")
MAPPED = "denied-peer-ip=::ffff:0.0.0.0-::ffff:255.255.255.255\n"
STRONG = "Qm7vX2kP9wL4tR8zN3cB6yH1dF5gJ0sA"


def _check(check: str, turn: str, packages: dict[str, str] | None = None,
           commands: dict[str, str] | None = None) -> tuple[Status, str]:
    files = base.base_files()
    files[base.TURN] = turn
    found = base.findings(base.snapshot(files, commands=commands, packages=packages))[check]
    assert not found.message.startswith("check failed to run"), found.message
    return found.status, found.message


def _edit(check: str, old: str, new: str, version: str | None = None,
          commands: dict[str, str] | None = None) -> tuple[Status, str]:
    assert old in base.TURN_TEXT, old
    return _check(check, base.TURN_TEXT.replace(old, new, 1), {"coturn": version} if version else None, commands)


def _ss(*lines: str) -> dict[str, str]:
    return {"ss": "".join(f'tcp LISTEN 0 128 {addr} 0.0.0.0:* users:(("turnserver",pid=9,fd=3))\n' for addr in lines)}


# -- turn.denied_peer_ips: IPv6 -------------------------------------------------------------------------


def test_ipv6_internal_networks_must_be_denied_before_coturn_4_13_1() -> None:
    status, message = _edit("turn.denied_peer_ips", IPV6_INTERNAL, "", "4.6.1-1")
    assert status is Status.FAIL, message
    assert "fc00::/7 (unique local)" in message and "fe80::/10 (link-local)" in message
    status, message = _edit("turn.denied_peer_ips", "denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n", "",
                            "4.5.2-3")
    assert status is Status.FAIL and "fe80::/10" in message and "fc00::/7" not in message, message
    # 4.13.1 refuses them itself (ioa_addr_is_internal_deny_default)
    status, message = _edit("turn.denied_peer_ips", IPV6_INTERNAL, "", "4.13.1-1")
    assert status is Status.PASS, message


def test_ipv6_internal_networks_open_with_an_unknown_version_are_unclear() -> None:
    status, message = _edit("turn.denied_peer_ips", IPV6_INTERNAL, "")
    assert status is Status.UNCLEAR, message
    assert "4.13.1" in message and "fc00::/7" in message


def test_a_cidr_ipv6_range_is_no_range_for_coturn() -> None:
    status, message = _edit("turn.denied_peer_ips", IPV6_INTERNAL,
                            "denied-peer-ip=fc00::/7\ndenied-peer-ip=fe80::/10\n", "4.6.1-1")
    assert status is Status.FAIL and "fc00::/7" in message, message


def test_allowed_peer_ip_reopening_an_ipv6_internal_range_counts() -> None:
    reopen = "syslog\nallowed-peer-ip=fd00::1-fd00::ff\n"
    status, message = _edit("turn.denied_peer_ips", "syslog\n", reopen, "4.6.1-1")
    assert status is Status.FAIL and "allowed-peer-ip" in message and "fc00::/7" in message, message
    status, message = _edit("turn.denied_peer_ips", "syslog\n", reopen)
    assert status is Status.UNCLEAR and "4.13.1" in message, message
    # 4.13.1 refuses unique-local peers before it reads allowed-peer-ip
    status, message = _edit("turn.denied_peer_ips", "syslog\n", reopen, "4.13.1-1")
    assert status is Status.PASS, message
    # a public IPv6 peer allowed: nothing reopened
    status, message = _edit("turn.denied_peer_ips", "syslog\n", "syslog\nallowed-peer-ip=2001:db8::1\n", "4.6.1-1")
    assert status is Status.PASS, message


@pytest.mark.parametrize(("relay", "expected"), [
    ("relay-ip=203.0.113.5\n", Status.PASS),  # IPv4 relay addresses only: an IPv6 peer gets 443
    ("relay-ip=203.0.113.5\nrelay-ip=198.51.100.7\n", Status.PASS),
    ("listening-ip=203.0.113.5\n", Status.PASS),  # no relay-ip: the listening addresses relay
    ("relay-ip=203.0.113.5\nrelay-ip=2001:db8::5\n", Status.FAIL),
    ("relay-ip=turn.example.org\n", Status.FAIL),  # a host name may resolve to IPv6
    ("relay-ip=2001:db8::5\nlistening-ip=203.0.113.5\n", Status.FAIL),  # relay-ip decides, not listening-ip
    ("", Status.FAIL),  # every address of the host relays (make_local_relays_list), IPv6 included
])
def test_a_relay_without_ipv6_addresses_reaches_no_ipv6_peer(relay: str, expected: Status) -> None:
    # neither the IPv6 internal ranges nor the IPv4-mapped range denied, on a coturn that needs both
    turn = base.TURN_TEXT.replace(IPV6_INTERNAL, "").replace(MAPPED, "").replace("syslog\n", relay + "syslog\n")
    status, message = _check("turn.denied_peer_ips", turn, {"coturn": "4.6.1-1"})
    assert status is expected, message


def test_jitsi_meet_turnserver_template_passes() -> None:
    template = TEMPLATE_CONF.read_text()
    for version in ("4.6.1-1", "4.9.0-1", "4.13.1-1", None):
        status, message = _check("turn.denied_peer_ips", template, {"coturn": version} if version else None)
        assert status is Status.PASS, (version, message)


@pytest.mark.parametrize("line", [
    "denied-peer-ip=10.0.0.0-::1\n",  # two families
    "denied-peer-ip=fe80::1%eth0-fe80::2\n",
    "denied-peer-ip=\n",
    "denied-peer-ip=-\n",
    "allowed-peer-ip=::-10.0.0.1\n",
    "relay-ip=[::1\n",
    "relay-ip=\n",
])
def test_malformed_ranges_and_addresses_are_no_exception(line: str) -> None:
    status, message = _edit("turn.denied_peer_ips", "syslog\n", line + "syslog\n", "4.6.1-1")
    assert status in (Status.PASS, Status.FAIL), message


def test_a_range_of_two_families_denies_nothing() -> None:
    # coturn's addr_less_eq never puts a peer between an IPv4 and an IPv6 bound; comparing them raised TypeError here
    status, message = _edit("turn.denied_peer_ips", "denied-peer-ip=10.0.0.0-10.255.255.255\n",
                            "denied-peer-ip=10.0.0.0-::1\n", "4.6.1-1")
    assert status is Status.FAIL and "10.0.0.0/8" in message, message


# -- turn.no_loopback_peers ----------------------------------------------------------------------------


def test_coturn_4_5_1_refuses_loopback_by_default() -> None:
    """4.5.1.0 replaced no-loopback-peers by allow-loopback-peers: no-loopback-peers is ignored there, and not
    needed; only the CVE-2020-26262 addresses (fixed in 4.5.2) must be denied."""
    bypass = "denied-peer-ip=::1\ndenied-peer-ip=::\nsyslog\n"
    status, message = _edit("turn.no_loopback_peers", "no-loopback-peers\n", "", "4.5.1.1-1.1")
    assert status is Status.FAIL and "CVE-2020-26262" in message, message
    turn = base.TURN_TEXT.replace("no-loopback-peers\n", "").replace("syslog\n", bypass)
    status, message = _check("turn.no_loopback_peers", turn, {"coturn": "4.5.1.1-1.1"})
    assert status is Status.PASS, message
    status, message = _check("turn.no_loopback_peers", turn, {"coturn": "4.5.1.0-1"})
    assert status is Status.PASS, message


def test_coturn_4_5_0_needs_no_loopback_peers_and_ignores_allow_loopback_peers() -> None:
    bypass = "denied-peer-ip=::1\ndenied-peer-ip=::\nsyslog\n"
    turn = base.TURN_TEXT.replace("syslog\n", bypass)
    status, message = _check("turn.no_loopback_peers", turn.replace("no-loopback-peers\n", ""), {"coturn": "4.5.0.5-1"})
    assert status is Status.FAIL and "no-loopback-peers" in message, message
    # allow-loopback-peers is no 4.5.0.x option (ignored): no-loopback-peers still decides
    status, message = _check("turn.no_loopback_peers", turn + "allow-loopback-peers\n", {"coturn": "4.5.0.5-1"})
    assert status is Status.PASS, message
    status, message = _check("turn.no_loopback_peers", turn + "allow-loopback-peers\n", {"coturn": "4.5.1.1-1"})
    assert status is Status.FAIL and "allow-loopback-peers" in message, message


# -- turn.admin_cli -------------------------------------------------------------------------------------


def test_no_cli_passes() -> None:
    status, message = _check("turn.admin_cli", base.TURN_TEXT)
    assert status is Status.PASS, message
    status, message = _check("turn.admin_cli", TEMPLATE_CONF.read_text(), {"coturn": "4.6.1-1"})
    assert status is Status.PASS, message


@pytest.mark.parametrize(("version", "expected"), [
    ("4.5.0.8-1", Status.FAIL),  # no login at all without a cli-password
    ("4.5.1.1-1.1", Status.PASS),  # 4.5.1.0+: no cli-password turns the CLI off
    ("4.9.0-1", Status.PASS),
    ("4.10.0-1", Status.PASS),  # off by default
    (None, Status.UNCLEAR),
])
def test_cli_without_password(version: str | None, expected: Status) -> None:
    status, message = _edit("turn.admin_cli", "no-cli\n", "", version)
    assert status is expected, message
    if expected is Status.FAIL:
        assert "without a password" in message and "127.0.0.1:5766" in message


def test_cli_with_weak_password_or_beyond_loopback_fails() -> None:
    status, message = _edit("turn.admin_cli", "no-cli\n", "cli-password=Secret12\n", "4.6.1-1")
    assert status is Status.FAIL and "password is" in message, message
    assert "Secret12" not in message
    status, message = _edit("turn.admin_cli", "no-cli\n", f"cli-password={STRONG}\ncli-ip=0.0.0.0\n", "4.6.1-1")
    assert status is Status.FAIL and "beyond loopback" in message, message
    status, message = _edit("turn.admin_cli", "no-cli\n", f"cli-password={STRONG}\ncli-ip=127.0.0.1\n", "4.6.1-1")
    assert status is Status.PASS and "32-character password" in message, message
    assert STRONG not in message
    status, message = _edit("turn.admin_cli", "no-cli\n", f"cli-password={STRONG}\ncli-ip=cli.example.org\n", "4.6.1-1")
    assert status is Status.UNCLEAR, message


def test_coturn_4_10_turns_the_cli_on_only_with_cli() -> None:
    weak = "cli-password=Secret12\n"
    status, message = _edit("turn.admin_cli", "no-cli\n", weak, "4.10.0-1")
    assert status is Status.PASS, message
    status, message = _edit("turn.admin_cli", "no-cli\n", "cli\n" + weak, "4.10.0-1")
    assert status is Status.FAIL, message
    # no-cli is deprecated and ignored in 4.10+: `cli` decides
    status, message = _edit("turn.admin_cli", "no-cli\n", "no-cli\ncli\n" + weak, "4.10.0-1")
    assert status is Status.FAIL, message
    # `cli` is no option before 4.10: no-cli decides
    status, message = _edit("turn.admin_cli", "no-cli\n", "no-cli\ncli\n" + weak, "4.6.1-1")
    assert status is Status.PASS, message
    # unknown version, neither option: on before 4.10, off after
    status, message = _edit("turn.admin_cli", "no-cli\n", weak)
    assert status is Status.UNCLEAR and "4.10.0" in message, message


def test_the_cli_socket_decides_when_ss_shows_coturn() -> None:
    strong = f"cli-password={STRONG}\n"
    status, message = _edit("turn.admin_cli", "no-cli\n", strong, commands=_ss("0.0.0.0:3478", "0.0.0.0:5766"))
    assert status is Status.FAIL and "beyond loopback" in message, message
    status, message = _edit("turn.admin_cli", "no-cli\n", "cli-password=Secret12\n", commands=_ss("0.0.0.0:3478"))
    assert status is Status.PASS and "ss" in message, message


@pytest.mark.parametrize("lines", ["cli-port=abc\n", "cli-port=99999\ncli-ip=[::1\n", "cli-password\ncli-ip=\n",
                                   "cli-password=\"\"\n", "cli=maybe\nno-cli=0\n"])
def test_malformed_cli_options_are_no_exception(lines: str) -> None:
    status, message = _edit("turn.admin_cli", "no-cli\n", lines, "4.6.1-1")
    assert status in (Status.PASS, Status.FAIL, Status.UNCLEAR), message


def test_cli_password_never_reaches_the_snapshot_or_the_report() -> None:
    canary = "CANARY42xyzCliPassword"
    files = base.base_files()
    files[base.TURN] = base.TURN_TEXT.replace("no-cli\n", f"cli-password={canary}\ncli-password {canary}2\n")
    snap = base.snapshot(files, packages={"coturn": "4.6.1-1"})
    prepared = prepare_snapshot(snap)
    text = "\n".join(i.content.decode() for i in prepared.snapshot.items.values() if i.content is not None)
    assert canary not in text
    assert "turnserver.conf: cli-password" in [s.name for s in secret_settings(prepared.deployment)]
    result = base.audit(snap)
    assert canary not in repr(result)
    found = {f.check_id: f for f in result.findings}["turn.admin_cli"]
    assert found.status is Status.PASS, found.message  # the last cli-password counts (STRCPY)
