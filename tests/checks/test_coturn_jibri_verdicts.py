"""coturn and Jibri verdicts against what the programs do with their files: coturn's read_config_file /
set_option / get_bool_value / add_ip_list_range / good_peer_addr (mainrelay.c, userdb.c, ns_turn_server.c), and
docker-jitsi-meet's jibri.conf template. Each case used to get the wrong verdict."""

from __future__ import annotations

import pytest

from auditor.model import Status
from tests.checks import base


def _turn(check: str, old: str, new: str, packages: dict[str, str] | None = None) -> tuple[Status, str]:
    files = base.base_files()
    assert old in files[base.TURN], old
    files[base.TURN] = files[base.TURN].replace(old, new, 1)
    found = base.findings(base.snapshot(files, packages=packages))[check]
    return found.status, found.message


@pytest.mark.parametrize(
    ("check", "old", "new"),
    [
        # coturn compares a config line's name with its long option names as written: `--no-tlsv1` is no option
        # in turnserver.conf ("Bad configuration format"), TLS 1.0 stays on
        ("turn.tls", "no-tlsv1\n", "--no-tlsv1\n"),
        # boolean options take a value (get_bool_value): 0, no, false, off turn them off
        ("turn.tls", "no-tlsv1_1\n", "no-tlsv1_1=false\n"),
        ("turn.no_tcp_relay", "no-tcp-relay\n", "no-tcp-relay=0\n"),
        ("turn.no_multicast_peers", "no-multicast-peers\n", "no-multicast-peers off\n"),
        # every static-auth-secret line is a valid secret (rotation): a weak one mints credentials too
        ("turn.auth_secret", "use-auth-secret\n", "use-auth-secret\nstatic-auth-secret=changeme\n"),
        # allowed-peer-ip is checked before denied-peer-ip: it reopens the range
        ("turn.denied_peer_ips", "syslog\n", "syslog\nallowed-peer-ip=10.0.0.5-10.0.0.20\n"),
        # coturn has no CIDR form: `10.0.0.0/8` is a wrong address, skipped (4.11+: refuses to start)
        ("turn.denied_peer_ips", "denied-peer-ip=10.0.0.0-10.255.255.255\n", "denied-peer-ip=10.0.0.0/8\n"),
    ],
)
def test_coturn_settings_it_ignores_or_turns_off_fail(check: str, old: str, new: str) -> None:
    status, message = _turn(check, old, new)
    assert status is Status.FAIL, message


def test_static_auth_secret_alone_turns_on_time_limited_credentials() -> None:
    # set_option(STATIC_AUTH_SECRET_VAL_OPT) sets use_auth_secret_with_timestamp, as use-auth-secret does
    status, message = _turn("turn.auth_secret", "use-auth-secret\n", "")
    assert status is Status.PASS, message
    assert "32-character secret" in message


def test_allowed_peer_ip_outside_private_ranges_keeps_the_pass() -> None:
    status, message = _turn("turn.denied_peer_ips", "syslog\n", "syslog\nallowed-peer-ip=203.0.113.7\n")
    assert status is Status.PASS, message


def test_allow_loopback_peers_turned_off_is_no_failure() -> None:
    status, message = _turn("turn.no_loopback_peers", "no-loopback-peers\n", "no-loopback-peers\nallow-loopback-peers=false\n")
    assert status is Status.PASS, message


def test_coturn_4_7_has_tls_1_0_and_1_1_off_unless_turned_on() -> None:
    # 4.7.0 dropped no-tlsv1/no-tlsv1_1 (coturn #1693): TLS 1.0/1.1 need tlsv1/tlsv1_1
    pkg = {"coturn": "4.7.0-1"}
    status, message = _turn("turn.tls", "no-tlsv1\nno-tlsv1_1\n", "", pkg)
    assert status is Status.PASS, message
    status, message = _turn("turn.tls", "no-tlsv1\nno-tlsv1_1\n", "tlsv1_1\n", pkg)
    assert (status, message) == (Status.FAIL, "TURNS accepts TLS 1.0/1.1 (tlsv1_1 set)")
    # before 4.7 the old options still decide
    status, message = _turn("turn.tls", "no-tlsv1\n", "", {"coturn": "4.6.1-1"})
    assert status is Status.FAIL, message


def test_docker_jibri_streams_anywhere_by_default() -> None:
    # docker-jitsi-meet's jibri.conf template has no streaming section: Jibri's rtmp-allow-list [".*"] applies
    files = {base.ENV: base.ENV_TEXT + "ENABLE_RECORDING=1\n", base.COMPOSE: base.COMPOSE_TEXT}
    found = base.findings(base.snapshot(files))["jibri.upload_targets"]
    assert found.status is Status.FAIL, found.message
    assert "any RTMP server" in found.message


@pytest.mark.parametrize(("directory", "expected"), [
    ("/tmp/recordings", Status.FAIL), ("/tmp", Status.FAIL), ("/var/tmp/jibri", Status.FAIL),
    ("/dev/shm/recordings", Status.FAIL),  # world-writable tmpfs, as /tmp
    ("/tmpdata/recordings", Status.PASS), ("/var/tmpfiles/rec", Status.PASS),  # a name that starts like /tmp
])
def test_recordings_directory_is_judged_by_path_components(directory: str, expected: Status) -> None:
    files = {**base.base_files(), base.JIBRI: base.JIBRI_TEXT.replace('"/srv/recordings"', f'"{directory}"', 1)}
    found = base.findings(base.snapshot(files))["jibri.recordings_directory"]
    assert found.status is expected, found.message


@pytest.mark.parametrize(("installed", "expected"), [
    ("4.6.1-1", Status.FAIL),  # Debian 12: the denied IPv4 ranges are reached through ::ffff:10.0.0.1
    ("4.5.2-3", Status.FAIL),
    (None, Status.UNCLEAR),  # version unknown: before 4.9.0 it would be reachable
    ("4.9.0-1", Status.PASS),
])
def test_ipv4_mapped_peers_need_the_mapped_range_denied_before_coturn_4_9(installed: str | None,
                                                                           expected: Status) -> None:
    """CVE-2026-27624: coturn before 4.9.0 compared an IPv4 denied range with an IPv6 peer as 'outside', so
    ::ffff:10.0.0.1 reached 10.0.0.0/8; jitsi-meet-turnserver's template also denies the mapped range."""
    status, message = _turn("turn.denied_peer_ips", "denied-peer-ip=::ffff:0.0.0.0-::ffff:255.255.255.255\n", "",
                            packages={"coturn": installed} if installed else None)
    assert status is expected, message
    status, message = _turn("turn.denied_peer_ips", "syslog\n", "syslog\n",
                            packages={"coturn": installed} if installed else None)
    assert status is Status.PASS, message  # with the mapped range denied: every version


def test_before_coturn_4_5_2_the_loopback_bypass_addresses_must_be_denied() -> None:
    """CVE-2020-26262: 0.0.0.0, [::1] and [::] reached loopback services before 4.5.2 whatever
    no-loopback-peers said; denying them (the advisory's workaround) closes it."""
    old = {"coturn": "4.5.1.1-1.1"}
    status, message = _turn("turn.no_loopback_peers", "syslog\n", "syslog\n", packages=old)
    assert status is Status.FAIL and "[::1], [::]" in message and "0.0.0.0," not in message, message
    status, message = _turn("turn.no_loopback_peers", "syslog\n", "denied-peer-ip=::1\ndenied-peer-ip=::\nsyslog\n",
                            packages=old)
    assert status is Status.PASS, message
    status, message = _turn("turn.no_loopback_peers", "syslog\n", "syslog\n", packages={"coturn": "4.6.1-1"})
    assert status is Status.PASS, message
