"""coturn (/etc/turnserver.conf): TURN credentials, relay restrictions and TLS. Not applicable without it."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from typing import Any

from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.listeners import listeners
from auditor.model import NO_TURN_CONF, CheckResult, Evidence, Severity
from auditor.processes import runs
from auditor.registry import CheckFn, check
from checks._common import ev, file_error, is_loopback, parsed, secret_verdict, short

COTURN = "https://github.com/coturn/coturn/blob/master/examples/etc/turnserver.conf"
TEMPLATE = "https://github.com/jitsi/jitsi-meet/blob/master/doc/debian/jitsi-meet-turn/turnserver.conf"
PRIVATE_RANGES = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("100.64.0.0/10"),
)
# coturn before 4.9.0 took an IPv6 peer for outside every IPv4 denied range: an IPv4-mapped address
# (::ffff:10.0.0.1) reached the denied networks (CVE-2026-27624), unless the mapped range is denied as well
# (jitsi-meet-turnserver's template denies ::ffff:0.0.0.0-::ffff:255.255.255.255).
MAPPED_FIX = (4, 9, 0)
# coturn 4.5.1.0 refuses loopback peers by default: allow-loopback-peers replaced no-loopback-peers, which is no
# option any more ("Bad configuration format", ignored) (ChangeLog 4.5.1.0; mainrelay.c set_option, ns_turn_server.c
# good_peer_addr). 4.5.0.x allowed them unless no-loopback-peers, and took allow-loopback-peers for an unknown option.
LOOPBACK_DEFAULT = (4, 5, 1)
# coturn before 4.5.2 let these peer addresses reach the host's loopback services (CVE-2020-26262)
LOOPBACK_FIX = (4, 5, 2)
# coturn 4.13.1 refuses link-local, unique-local and site-local peers whatever allowed-peer-ip says (#1947, commit
# d49ee56a: good_peer_addr calls ioa_addr_is_internal_deny_default before the allowed/denied lists). Before, only
# denied-peer-ip kept an IPv6 relay from them: coturn relays to any IPv6 peer once it holds an IPv6 relay address.
INTERNAL_DENY_FIX = (4, 13, 1)
INTERNAL6 = ((ipaddress.ip_network("fc00::/7"), "unique local"), (ipaddress.ip_network("fe80::/10"), "link-local"))
# The telnet admin CLI (turn_admin_server.c): on by default before 4.10.0, which turns it on only with `cli` and
# ignores the deprecated `no-cli` (#1830, commit 9467af50). Before 4.5.1.0 an empty cli-password meant no login at
# all (run_cli_input asks for the password only when one is set); 4.5.1.0+ turns the CLI off without one (main).
CLI_OFF_BY_DEFAULT = (4, 10, 0)
CLI_PASSWORD_REQUIRED = (4, 5, 1)
CLI_DEFAULT = ("127.0.0.1", 5766)  # CLI_DEFAULT_IP (turn_admin_server.h), cli-port's default
BYPASS_ADDRESSES = (("0.0.0.0", "0.0.0.0/32"), ("[::1]", "::1/128"), ("[::]", "::/128"))
MAPPED_RANGE = "::ffff:0.0.0.0-::ffff:255.255.255.255"
Conf = tuple[str, dict[str, list[Any]]]
TURNSERVER = "turnserver"  # coturn's executable: its process name (comm), in ss and in the process list


def _port(conf: Conf, name: str, default: int) -> int:
    entries = conf[1].get(name)
    value = (entries[-1].value or "").strip() if entries else ""
    return int(value) if value.isdigit() and 0 < int(value) < 65536 else default


def _not_running(ctx: AuditContext, conf: Conf) -> str | None:
    """Why coturn is not running, when the host's listeners (ss) show nothing on its ports and no turnserver
    process, nor does the host's process list when it was collected: the Debian coturn package ships a
    turnserver.conf with everything commented out, and a host may have it installed and never started
    (docker-jitsi-meet has no coturn at all). The process list sees what ss cannot: coturn in a container with a
    network namespace of its own (published by iptables, no socket in the host's). None when it runs or the
    listeners are unknown (a --root audit)."""
    snap = ctx.deployment.snapshot
    socks = listeners(snap)
    if socks is None:
        return None
    plain = _port(conf, "listening-port", 3478)
    tls_port = _port(conf, "tls-listening-port", 5349)
    ports = {plain, tls_port, _port(conf, "alt-listening-port", plain + 1), _port(conf, "alt-tls-listening-port", tls_port + 1)}
    if any(s.port in ports or s.process == TURNSERVER for s in socks):
        return None
    running = runs(snap, TURNSERVER)
    if running:
        return None
    shown = "/".join(str(p) for p in sorted({plain, tls_port}))
    where = " among the host's processes" if running is False else ""
    return (f"coturn is not running: no turnserver process{where} and nothing listens on {shown} (ss); "
            f"{conf[0]} is judged when coturn runs")


def _conf(ctx: AuditContext) -> Conf | CheckResult:
    got = parsed(ctx, Role.TURNSERVER)
    if got is not None:
        why = _not_running(ctx, got)
        return CheckResult.not_applicable(why) if why else got
    error = file_error(ctx, Role.TURNSERVER)
    if error:
        return CheckResult.unclear(f"cannot tell: {error}")
    return CheckResult.not_applicable(NO_TURN_CONF)


def _turn_check(fn: Callable[[AuditContext, Conf], CheckResult]) -> CheckFn:
    """A check of turnserver.conf: `fn(ctx, conf)`; unclear when the file is unusable, not applicable without it."""

    @functools.wraps(fn)
    def run(ctx: AuditContext) -> CheckResult:
        conf = _conf(ctx)
        return conf if isinstance(conf, CheckResult) else fn(ctx, conf)

    return run


def _first(conf: Conf, name: str) -> tuple[str | None, Evidence] | None:
    path, kv = conf
    entries = kv.get(name)
    if not entries:
        return None
    e = entries[-1]
    return e.value, ev(path, e.line, f"{name}" + (f"={short(e.value, 60)}" if e.value is not None else ""))


def _on(value: str | None) -> bool:
    """A boolean option's value as coturn reads it (get_bool_value): no value is true; 0, n…, f…, off are false."""
    v = (value or "").strip()
    return not v or not (v[0] in "0nNfF" or v in ("off", "OFF", "Off"))


def _flag(conf: Conf, name: str) -> tuple[str | None, Evidence] | None:
    """The boolean option `name` when its last occurrence turns it on (`no-tcp-relay`, `no-tcp-relay=true`);
    None when it is absent or turned off (`no-tcp-relay=false`)."""
    got = _first(conf, name)
    return got if got is not None and _on(got[0]) else None


def _uniq(*where: Evidence) -> list[Evidence]:
    return list(dict.fromkeys(where))


def _absent(conf: Conf, name: str) -> Evidence:
    return ev(conf[0], None, f"{name} not set")


def _required_flag(conf: Conf, name: str, passed: str, failed: str) -> CheckResult:
    """Pass when the boolean option `name` is on, fail otherwise."""
    got = _flag(conf, name)
    if got is not None:
        return CheckResult.passed(passed, got[1])
    return CheckResult.failed(failed, _absent(conf, name))


@check(
    "turn.auth_secret",
    title="TURN uses time-limited credentials from a strong shared secret (use-auth-secret)",
    severity=Severity.HIGH,
    criteria=("enc.key_strength", "mgmt.access_control"),
    rationale="""Without use-auth-secret coturn needs static users (or none: an open relay). With it, credentials
    are derived from static-auth-secret, which prosody shares; a short or default secret lets anyone mint TURN
    credentials and relay traffic through the server.""",
    remediation="""/etc/turnserver.conf:
    use-auth-secret
    static-auth-secret=<openssl rand -hex 32, same value as prosody's external_service_secret>""",
    references=(TEMPLATE, COTURN),
)
@_turn_check
def auth_secret(ctx: AuditContext, conf: Conf) -> CheckResult:
    # static-auth-secret alone turns the REST-API credentials on as use-auth-secret does (coturn's set_option);
    # every static-auth-secret line is a valid secret (kept for rotation), so the weakest one decides
    use = _first(conf, "use-auth-secret") or _first(conf, "static-auth-secret")
    secrets = [(e.value, ev(conf[0], e.line, f"static-auth-secret={short(e.value, 60)}"))
               for e in conf[1].get("static-auth-secret", []) if e.value]
    if use is None:
        no_auth = _flag(conf, "no-auth")
        if no_auth is not None:
            return CheckResult.failed("no-auth: coturn relays for anyone", no_auth[1])
        if _first(conf, "user") is not None or _flag(conf, "lt-cred-mech") is not None:
            return CheckResult.failed("static long-term TURN users instead of time-limited credentials", _absent(conf, "use-auth-secret"))
        return CheckResult.failed("use-auth-secret is not set", _absent(conf, "use-auth-secret"))
    if not secrets:
        return CheckResult.failed("use-auth-secret without a static-auth-secret", use[1])
    verdicts = [(secret_verdict(value), where) for value, where in secrets]
    unjudged = [where for verdict, where in verdicts if verdict is None]
    if unjudged:
        return CheckResult.unclear("cannot tell: the TURN secret was not judged at collection", *unjudged)
    weak = [(verdict, where) for verdict, where in verdicts if verdict is not None and verdict.weak]
    if weak:
        verdict, where = weak[0]
        assert verdict is not None
        return CheckResult.failed(f"the TURN secret is {verdict.secret_class} ({verdict.length} characters)", *_uniq(use[1], where))
    shortest = min(verdict.length for verdict, _ in verdicts if verdict is not None)
    return CheckResult.passed(f"time-limited TURN credentials from a {shortest}-character secret", *_uniq(use[1], *(w for _, w in secrets)))


def _range(value: str) -> tuple[Any, Any] | None:
    """`denied-peer-ip`/`allowed-peer-ip` as coturn reads it (add_ip_list_range): an address or `low-high`.
    coturn has no CIDR form: `10.0.0.0/8` is a wrong address, skipped with an error (4.11+ refuses to start)."""
    try:
        lo, _, hi = value.strip().partition("-")
        low = ipaddress.ip_address(lo.strip())
        high = ipaddress.ip_address(hi.strip()) if hi else low
    except ValueError:
        return None
    # two families (10.0.0.0-::1): coturn's comparisons (addr_less_eq) never put a peer inside such a range
    return (low, high) if low.version == high.version else None


def _ranges(conf: Conf, name: str) -> list[tuple[Any, Any]]:
    """The address ranges of every `name` line (denied-peer-ip, allowed-peer-ip) that coturn accepts."""
    return [r for e in conf[1].get(name, []) if e.value and (r := _range(e.value)) is not None]


def _package_ev(ctx: AuditContext) -> list[Evidence]:
    """coturn's dpkg-query line as evidence, when it is listed."""
    package = ctx.view.package_ev("coturn")
    return [package] if package is not None else []


def _covered(net: ipaddress.IPv4Network | ipaddress.IPv6Network, ranges: list[Any]) -> bool:
    return any(lo.version == net.version and lo <= net.network_address and net.broadcast_address <= hi for lo, hi in ranges)


def _overlaps(net: ipaddress.IPv4Network | ipaddress.IPv6Network, ranges: list[Any]) -> bool:
    return any(lo.version == net.version and lo <= net.broadcast_address and net.network_address <= hi for lo, hi in ranges)


@check(
    "turn.denied_peer_ips",
    title="TURN cannot relay into private networks (denied-peer-ip)",
    severity=Severity.HIGH,
    criteria=("mgmt.access_control",),
    rationale="""TURN credentials are handed to every XMPP client, anonymous ones included. Without denied-peer-ip
    for the private ranges the relay becomes a proxy into the server's internal network (cloud metadata,
    databases, admin interfaces). coturn relays to IPv6 peers as soon as it holds an IPv6 relay address (every
    address of the host unless relay-ip or listening-ip name IPv4 addresses only): before 4.13.1 nothing but
    denied-peer-ip keeps it from the IPv6 unique-local and link-local networks.""",
    remediation="""/etc/turnserver.conf:
    denied-peer-ip=10.0.0.0-10.255.255.255
    denied-peer-ip=172.16.0.0-172.31.255.255
    denied-peer-ip=192.168.0.0-192.168.255.255
    denied-peer-ip=169.254.0.0-169.254.255.255
    denied-peer-ip=100.64.0.0-100.127.255.255
    denied-peer-ip=::ffff:0.0.0.0-::ffff:255.255.255.255   (coturn before 4.9.0: CVE-2026-27624)
    denied-peer-ip=fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff   (coturn before 4.13.1)
    denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff   (coturn before 4.13.1)
    and no allowed-peer-ip inside these ranges (jitsi-meet-turnserver's template denies all of them).""",
    references=(TEMPLATE, "https://www.rtcsec.com/article/slack-webrtc-turn-compromise-and-bug-bounty/",
                "https://github.com/coturn/coturn/security/advisories/GHSA-j8mm-mpf8-gvjg",
                "https://github.com/coturn/coturn/pull/1947"),
)
@_turn_check
def denied_peer_ips(ctx: AuditContext, conf: Conf) -> CheckResult:
    path, kv = conf
    entries = kv.get("denied-peer-ip", [])
    ranges = _ranges(conf, "denied-peer-ip")
    where = [ev(path, e.line, f"denied-peer-ip={short(e.value)}") for e in entries[:3]]
    version = _coturn_version(ctx)
    ipv6, relay_where = _ipv6_relay(conf)
    # the IPv6 internal networks: open to an IPv6 relay before 4.13.1 unless denied (unknown version: maybe)
    internal6 = list(INTERNAL6) if ipv6 and (version is None or version < INTERNAL_DENY_FIX) else []
    # coturn checks allowed-peer-ip first (good_peer_addr): an allowed range reopens what denied-peer-ip closes
    allowed = [(e, r) for e in kv.get("allowed-peer-ip", []) if e.value and (r := _range(e.value)) is not None]
    nets = [*PRIVATE_RANGES, *(n for n, _ in internal6)]
    reopened = [n for n in nets if _overlaps(n, [r for _, r in allowed])]
    if reopened:
        shown = [ev(path, e.line, f"allowed-peer-ip={short(e.value)}") for e, r in allowed if any(_overlaps(n, [r]) for n in reopened)]
        message = f"allowed-peer-ip lets the relay reach private ranges: {', '.join(map(str, reopened))}"
        if version is None and all(n.version == 6 for n in reopened):
            return CheckResult.unclear(f"cannot tell: {message} unless coturn is 4.13.1+ (it refuses unique-local and "
                                       "link-local peers whatever allowed-peer-ip says), and its version is unknown", *shown[:3])
        return CheckResult.failed(message, *shown[:3])
    missing = [str(n) for n in PRIVATE_RANGES if not _covered(n, ranges)]
    if missing:
        return CheckResult.failed(f"the relay may reach private ranges: {', '.join(missing)}", *(where or [_absent(conf, "denied-peer-ip")]))
    if not ipv6:
        # an IPv6 peer (IPv4-mapped ones too) needs an IPv6 relay socket: 443 "Peer Address Family Mismatch"
        # (ns_turn_server.c, get_relay_socket in the permission, channel and send handlers)
        return CheckResult.passed("private address ranges are denied as relay peers; coturn relays from IPv4 addresses "
                                  "only, so IPv6 peers are refused", *where, *relay_where)
    # (what is open, the version that closes it)
    open6 = [f"{n} ({label})" for n, label in internal6 if not _covered(n, ranges)]
    gaps: list[tuple[str, tuple[int, int, int]]] = []
    if open6:
        gaps.append((f"the IPv6 internal networks {', '.join(open6)} (not denied)", INTERNAL_DENY_FIX))
    if any(not _covered(_mapped(n), ranges) for n in PRIVATE_RANGES) and (version is None or version < MAPPED_FIX):
        gaps.append((f"the denied private ranges through IPv4-mapped addresses (::ffff:{PRIVATE_RANGES[0].network_address}, "
                     f"CVE-2026-27624): deny {MAPPED_RANGE}", MAPPED_FIX))
    if gaps:
        if version is None:
            before = "; ".join(f"before {_dotted(fix)} the relay reaches {what}" for what, fix in gaps)
            return CheckResult.unclear(f"cannot tell: private IPv4 ranges are denied, but the coturn version is unknown "
                                       f"and {before}", *where)
        return CheckResult.failed(f"coturn {ctx.deployment.packages.get('coturn')} reaches {' and '.join(what for what, _ in gaps)}",
                                  *where, *_package_ev(ctx))
    return CheckResult.passed("private address ranges are denied as relay peers", *where)


def _ipv6_relay(conf: Conf) -> tuple[bool, list[Evidence]]:
    """Whether coturn may hold an IPv6 relay address, with the lines that tell. Its relay addresses (main,
    mainrelay.c): every relay-ip; without one, every listening-ip; without either, every address of the host
    (make_local_relays_list, IPv6 included). A host name (resolved by coturn) may give either family."""
    for name in ("relay-ip", "listening-ip"):
        entries = [e for e in conf[1].get(name, []) if (e.value or "").strip()]
        if not entries:
            continue
        for e in entries:
            try:
                if ipaddress.ip_address((e.value or "").strip().strip("[]")).version == 6:
                    return True, []
            except ValueError:
                return True, []
        return False, [ev(conf[0], e.line, f"{name}={short(e.value, 60)}") for e in entries[:3]]
    return True, []


def _mapped(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> ipaddress.IPv6Network:
    """`net` as IPv4-mapped IPv6 addresses (10.0.0.0/8 -> ::ffff:10.0.0.0/104)."""
    return ipaddress.IPv6Network(f"::ffff:{net.network_address}/{96 + net.prefixlen}")


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def _coturn_version(ctx: AuditContext) -> tuple[int, int, int] | None:
    m = re.match(r"(?:\d+:)?(\d+)\.(\d+)\.(\d+)", ctx.deployment.packages.get("coturn", ""))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


@check(
    "turn.no_loopback_peers",
    title="TURN cannot relay to the server's own loopback services",
    severity=Severity.MEDIUM,
    criteria=("mgmt.access_control",),
    rationale="""A TURN relay allowed to reach 127.0.0.1 exposes every local-only service of the host (prosody 5280,
    jicofo 8888, the videobridge REST API, coturn's own admin CLI). coturn 4.5.1.0+ refuses loopback peers unless
    allow-loopback-peers is set (no-loopback-peers is no option there: ignored); 4.5.0.x needs no-loopback-peers.
    Before 4.5.2, 0.0.0.0, [::1] and [::] reached loopback whatever the options said (CVE-2020-26262).""",
    remediation="""/etc/turnserver.conf: never allow-loopback-peers; coturn 4.5.0.x: no-loopback-peers (or upgrade).
    Before coturn 4.5.2 (CVE-2020-26262) also denied-peer-ip=0.0.0.0-0.255.255.255, denied-peer-ip=::1 and
    denied-peer-ip=::, or upgrade.""",
    references=(TEMPLATE, COTURN, "https://github.com/coturn/coturn/security/advisories/GHSA-6g6j-r9rf-cm7p"),
)
@_turn_check
def no_loopback_peers(ctx: AuditContext, conf: Conf) -> CheckResult:
    version = _coturn_version(ctx)
    shown = _dotted(version) if version else ""
    allow = _flag(conf, "allow-loopback-peers")
    if allow is not None and (version is None or version >= LOOPBACK_DEFAULT):  # 4.5.0.x: no such option
        return CheckResult.failed("allow-loopback-peers lets the relay reach local services", allow[1])
    if version is not None and version < LOOPBACK_FIX:
        # CVE-2020-26262: 0.0.0.0, [::1] and [::] reached loopback whatever the option said, unless denied
        ranges = _ranges(conf, "denied-peer-ip")
        open_ = [label for label, addr in BYPASS_ADDRESSES if not _covered(ipaddress.ip_network(addr), ranges)]
        if open_:
            return CheckResult.failed(
                f"coturn {ctx.deployment.packages.get('coturn')} (before 4.5.2) relays to loopback services through "
                f"{', '.join(open_)} (CVE-2020-26262) unless denied-peer-ip denies them", *_package_ev(ctx))
    deny = _flag(conf, "no-loopback-peers")
    if version is not None and version >= LOOPBACK_DEFAULT:
        return CheckResult.passed(f"coturn {shown} refuses loopback peers by default (allow-loopback-peers not set)",
                                  *_package_ev(ctx))
    if deny is not None:
        return CheckResult.passed("loopback peers are refused", deny[1])
    if version is None:
        return CheckResult.unclear(
            "cannot tell: no-loopback-peers not set and the coturn version (its default) is unknown: before 4.5.1.0 "
            "the relay reaches loopback unless no-loopback-peers is set", _absent(conf, "no-loopback-peers")
        )
    return CheckResult.failed(f"coturn {shown} relays to loopback unless no-loopback-peers is set", _absent(conf, "no-loopback-peers"))


@check(
    "turn.admin_cli",
    title="coturn's telnet admin CLI is off, or on loopback behind a strong password (no-cli)",
    severity=Severity.HIGH,
    criteria=("mgmt.central_control",),
    rationale="""coturn's telnet CLI (127.0.0.1:5766 by default) prints the sessions and users, toggles allow-loopback-peers,
    no-multicast-peers and no-tcp-relay at run time, writes files on the server (psd), cancels sessions and shuts the
    relay down. It was on by default before coturn 4.10.0 (no-cli turns it off) and, before 4.5.1.0, accepted commands
    without any password when cli-password was empty; 4.5.1.0+ turns it off without a cli-password.""",
    remediation="""/etc/turnserver.conf: no-cli (coturn 4.10+: no `cli` line; its `no-cli` is ignored, the CLI is off).
    If the CLI is needed: cli-ip=127.0.0.1 and a long random cli-password (turnadmin -P for its encrypted form).""",
    references=(TEMPLATE, COTURN, "https://github.com/coturn/coturn/pull/1830"),
)
@_turn_check
def admin_cli(ctx: AuditContext, conf: Conf) -> CheckResult:
    version = _coturn_version(ctx)
    port = _port(conf, "cli-port", CLI_DEFAULT[1])
    no_cli, cli = _flag(conf, "no-cli"), _flag(conf, "cli")
    # on: True, False, or None when it depends on the unknown version (`cli` is no option before 4.10.0: ignored)
    on: bool | None
    if version is None:
        on = False if no_cli is not None and cli is None else True if cli is not None and no_cli is None else None
    else:
        on = cli is not None if version >= CLI_OFF_BY_DEFAULT else no_cli is None
    switch = [f[1] for f in (no_cli, cli) if f is not None] or [_absent(conf, "no-cli")]
    # the CLI's socket (ss) decides whether it listens, when ss shows coturn's own sockets
    socks = listeners(ctx.deployment.snapshot)
    observed = socks is not None and any(s.process == TURNSERVER for s in socks)
    heard = [s for s in socks or [] if s.proto == "tcp" and s.port == port and s.process == TURNSERVER] if observed else []
    if observed:
        on = bool(heard)
    if on is False:
        why = (f"turnserver listens on no TCP port {port} (ss)" if observed
               else "no-cli" if version is None or version < CLI_OFF_BY_DEFAULT
               else f"coturn {_dotted(version)} turns it on only with `cli`")
        return CheckResult.passed(f"the admin CLI is off ({why})", *switch)
    password = _first(conf, "cli-password")
    value = (password[0] or "").strip() if password else ""
    verdict = secret_verdict(value)
    empty = not value or (verdict is not None and verdict.secret_class == "empty")
    ip = _first(conf, "cli-ip")
    where = _uniq(*switch, *([password[1]] if password else [_absent(conf, "cli-password")]), *([ip[1]] if ip else []))
    addr = f"{(ip[0] or '').strip() if ip else CLI_DEFAULT[0]}:{port}"
    if empty:
        if heard or (version is not None and version < CLI_PASSWORD_REQUIRED and on):
            return CheckResult.failed(f"the admin CLI on {addr} accepts commands without a password (no cli-password)", *where)
        if version is not None:
            return CheckResult.passed(f"the admin CLI is off: coturn {_dotted(version)} turns it off without a cli-password", *where)
        return CheckResult.unclear("cannot tell: no cli-password, and the coturn version is unknown: 4.5.1.0+ turns the CLI "
                                   f"off without one, older versions accept commands on {addr} without a password", *where)
    bad: list[str] = []
    unknown: list[str] = []
    exposed = [s for s in heard if not s.loopback_only]
    if exposed:
        bad.append(f"it listens on {exposed[0].address}:{exposed[0].port}, beyond loopback (ss)")
    elif ip is not None and not heard:
        host = (ip[0] or "").strip()
        try:
            if not ipaddress.ip_address(host.strip("[]")).is_loopback:
                bad.append(f"cli-ip={short(host, 60)} puts it beyond loopback")
        except ValueError:
            if not is_loopback(host):
                unknown.append(f"cli-ip names a host ({short(host, 60)}): where the CLI listens is unknown")
    if verdict is None:
        unknown.append("the CLI password was not judged at collection")
    elif verdict.weak:
        bad.append(f"its password is {verdict.secret_class} ({verdict.length} characters)")
    if on is None and (bad or unknown):
        return CheckResult.unclear(f"cannot tell: {'; '.join(bad + unknown)}, if the CLI is on: coturn before 4.10.0 turns it "
                                   "on unless no-cli is set, and the version is unknown", *where)
    if bad:
        return CheckResult.failed(f"the admin CLI is on: {'; '.join(bad)}", *where)
    if unknown:
        return CheckResult.unclear(f"cannot tell: the admin CLI is on and {'; '.join(unknown)}", *where)
    assert verdict is not None
    maybe = " if it is on (before coturn 4.10.0 unless no-cli)" if on is None else ""
    return CheckResult.passed(f"the admin CLI listens on loopback only{maybe}, behind a {verdict.length}-character password", *where)


@check(
    "turn.no_multicast_peers",
    title="TURN cannot relay to multicast addresses (no-multicast-peers)",
    severity=Severity.MEDIUM,
    criteria=("mgmt.access_control",),
    rationale="""Relaying to multicast addresses lets TURN clients reach discovery and routing protocols of the
    server's network.""",
    remediation="""/etc/turnserver.conf: no-multicast-peers""",
    references=(TEMPLATE, COTURN),
)
@_turn_check
def no_multicast_peers(ctx: AuditContext, conf: Conf) -> CheckResult:
    return _required_flag(conf, "no-multicast-peers", "multicast peers are refused", "no-multicast-peers is not set")


@check(
    "turn.tls",
    title="TURN over TLS (5349) with a certificate and without TLS 1.0/1.1",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit",),
    rationale="""Clients behind restrictive firewalls reach the relay only over TURNS (TLS on 5349 or 443). Without
    cert/pkey coturn cannot offer it; before coturn 4.7 TLS 1.0/1.1 stay enabled unless no-tlsv1 and no-tlsv1_1
    are set (4.7 dropped both options: TLS 1.0/1.1 are off unless tlsv1/tlsv1_1 turn them on).""",
    remediation="""/etc/turnserver.conf:
    tls-listening-port=5349
    cert=/etc/jitsi/meet/meet.example.org.crt
    pkey=/etc/jitsi/meet/meet.example.org.key
    no-tlsv1
    no-tlsv1_1
    (coturn 4.7+: no tlsv1 or tlsv1_1 line)""",
    references=(TEMPLATE, COTURN),
)
@_turn_check
def tls(ctx: AuditContext, conf: Conf) -> CheckResult:
    no_tls = _flag(conf, "no-tls")
    if no_tls is not None:
        return CheckResult.failed("TLS is disabled (no-tls)", no_tls[1])
    cert = _first(conf, "cert")
    pkey = _first(conf, "pkey")
    if cert is None or pkey is None:
        return CheckResult.failed("no cert/pkey: coturn offers no TURNS", _absent(conf, "cert" if cert is None else "pkey"))
    port = _first(conf, "tls-listening-port")
    where = [cert[1], *([port[1]] if port else [])]
    version = _coturn_version(ctx)
    if version is not None and version >= (4, 7, 0):
        # coturn 4.7.0 dropped no-tlsv1/no-tlsv1_1 (an unknown option, ignored): TLS 1.0/1.1 are off unless
        # tlsv1/tlsv1_1 turn them on
        old = [n for n in ("tlsv1", "tlsv1_1") if _flag(conf, n) is not None]
        if old:
            return CheckResult.failed(f"TURNS accepts TLS 1.0/1.1 ({', '.join(old)} set)", *where, *(f[1] for n in old if (f := _flag(conf, n))))
    else:
        old = [n for n in ("no-tlsv1", "no-tlsv1_1") if _flag(conf, n) is None]
        if old:
            return CheckResult.failed(f"TURNS accepts TLS 1.0/1.1 ({', '.join(old)} not set)", *where)
    return CheckResult.passed(f"TURNS on port {(port[0] if port else None) or 5349} with TLS 1.2+", *where)


@check(
    "turn.no_tcp_relay",
    title="TURN relays UDP only (no-tcp-relay)",
    severity=Severity.LOW,
    criteria=("mgmt.access_control",),
    rationale="""WebRTC media needs UDP relay allocations only. TCP relay allocations (RFC 6062) let TURN clients open
    TCP connections to arbitrary hosts through the server: a general-purpose proxy.""",
    remediation="""/etc/turnserver.conf: no-tcp-relay""",
    references=(TEMPLATE, COTURN),
)
@_turn_check
def no_tcp_relay(ctx: AuditContext, conf: Conf) -> CheckResult:
    return _required_flag(conf, "no-tcp-relay", "TCP relay allocations are refused", "TCP relay allocations are allowed")
