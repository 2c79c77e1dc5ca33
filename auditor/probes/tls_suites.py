"""Accepted cipher suites by elimination, as sslyze's CipherSuitesScanResult.

sslyze's per-suite scan commands test every suite its clients know with its own handshake (121 for
each of SSL 3.0 to TLS 1.1, 158 for TLS 1.2). Here, per version, the client offers every suite it can
offer for that version; the server negotiates one, which is recorded (with its ephemeral key, as
sslyze records it) and removed from the offer; the offer is repeated until the server rejects it:
accepted + 1 handshakes per version (a few more when a long chain is split to use idle connections).

Which client: sslyze's choice per suite (plugins/openssl_cipher_suites): the legacy OpenSSL of nassl
for SSL 2.0 to TLS 1.1 and for every TLS 1.2 suite that the legacy OpenSSL supports; the modern
OpenSSL for the other TLS 1.2 suites and for TLS 1.3 (set_ciphersuites). A TLS 1.2 offer is therefore
two chains, one per client, so each accepted suite is negotiated by the client sslyze would use and
its ephemeral key is the one sslyze would report. A suite a client cannot put in a ClientHello for the
version (sslyze drops those: NoCiphersAvailableBugInSSlyze) is found locally, without the network.

When a chain cannot conclude (a network error, a timeout, a handshake that failed in a way that is
not a rejection, a negotiated suite that was not offered, a first offer rejected although a short
offer of common suites is accepted: a server that cannot take a large ClientHello), the version is
left to sslyze's own per-suite scan (`Elimination.fallback` says which and why).
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from operator import attrgetter
from pathlib import Path

from nassl._nassl import OpenSSLError
from nassl.ephemeral_key_info import EphemeralKeyInfo
from nassl.legacy_ssl_client import LegacySslClient
from nassl.ssl_client import BaseSslClient, ClientCertificateRequested, OpenSslVerifyEnum, OpenSslVersionEnum, SslClient
from sslyze.errors import ServerRejectedTlsHandshake, ServerTlsConfigurationNotSupported, TlsHandshakeTimedOut
from sslyze.plugins.openssl_cipher_suites._test_cipher_suite import (
    CipherSuiteAcceptedByServer,
    CipherSuiteRejectedByServer,
)
from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuite, CipherSuitesRepository
from sslyze.plugins.openssl_cipher_suites.implementation import CipherSuitesScanResult
from sslyze.server_connectivity import ServerConnectivityInfo, TlsVersionEnum

from auditor.probes.tls_pool import Lane

# Common suites offered alone after a large offer was rejected: accepted means the server choked on the
# large ClientHello, not on the version (the per-suite scan is then the honest way).
SHORT_OFFER = {
    TlsVersionEnum.TLS_1_2: "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:AES128-SHA",
    TlsVersionEnum.TLS_1_1: "ECDHE-RSA-AES128-SHA:AES128-SHA:DES-CBC3-SHA",
    TlsVersionEnum.TLS_1_0: "ECDHE-RSA-AES128-SHA:AES128-SHA:DES-CBC3-SHA",
    TlsVersionEnum.SSL_3_0: "AES128-SHA:DES-CBC3-SHA:RC4-SHA",
}
MIN_SPLIT = 4  # a chain with fewer suites left is not split
# sslyze's message for a protocol_version alert: the server refuses the version itself, whatever the suites
# offered, so a rejected large offer needs no short offer to tell it from a ClientHello too large.
VERSION_REFUSED = "TLS alert: protocol version"


@dataclass(frozen=True, slots=True)
class Offer:
    """The suites one client (legacy or modern OpenSSL) offers for one version."""

    version: TlsVersionEnum
    legacy: bool
    suites: tuple[CipherSuite, ...]


@cache
def _legacy_tls12_names() -> frozenset[str]:
    client = LegacySslClient(ssl_version=OpenSslVersionEnum.TLSV1_2, ssl_verify=OpenSslVerifyEnum.NONE)
    client.set_cipher_list("ALL:COMPLEMENTOFALL")
    return frozenset(client.get_cipher_list())


def uses_legacy_client(version: TlsVersionEnum, suite: CipherSuite) -> bool:
    """sslyze's choice of OpenSSL for a per-suite handshake."""
    if version == TlsVersionEnum.TLS_1_3:
        return False
    if version == TlsVersionEnum.TLS_1_2:
        return suite.openssl_name in _legacy_tls12_names()
    return True


def _client(version: TlsVersionEnum, legacy: bool, sock: socket.socket | None = None) -> BaseSslClient:
    cls = LegacySslClient if legacy else SslClient
    return cls(ssl_version=OpenSslVersionEnum(version.value), ssl_verify=OpenSslVerifyEnum.NONE,
               underlying_socket=sock)


def set_suites(client: BaseSslClient, version: TlsVersionEnum, names: str) -> None:
    if version == TlsVersionEnum.TLS_1_3 and isinstance(client, SslClient):
        client.set_ciphersuites(names)
    else:
        client.set_cipher_list(names)


def can_offer(version: TlsVersionEnum, legacy: bool, suite: CipherSuite) -> bool:
    """Does this client put `suite` in a ClientHello of `version`? Decided locally: the ClientHello goes
    into one end of a socket pair; OpenSSL refuses to start ("no ciphers available") when it cannot."""
    ours, theirs = socket.socketpair()
    try:
        ours.setblocking(False)
        client = _client(version, legacy, ours)
        set_suites(client, version, suite.openssl_name)
        try:
            client.do_handshake()
        except OpenSSLError as exc:
            if "no ciphers available" in str(exc):
                return False
            raise
        except OSError:  # the ClientHello was written; nobody answers
            return True
        return True
    finally:
        ours.close()
        theirs.close()


_offers_lock = threading.Lock()
# can_offer()'s verdicts for the nassl and sslyze releases they name (tls_offers.json): they depend only on
# the OpenSSL builds inside nassl and on sslyze's suite repository, and working them out costs ~530 local
# handshakes (~0.065 s of CPU) at the start of every audit's first TLS scan. A suite the record does not
# hold (another release: all of them) is worked out as before. sslyze's repository names one TLS 1.2
# suite after either of two OpenSSL spellings, by the process's string hashing, so a record holds what
# one process saw. `python -m auditor.probes.tls_suites` writes it; tests compare it with can_offer().
OFFERS_FILE = Path(__file__).with_name("tls_offers.json")


def offers(version: TlsVersionEnum) -> tuple[Offer, ...]:
    """Per client, the suites of sslyze's repository for `version` that the client can offer, sorted.
    Computed once per process (a lock: the ports of a host start their eliminations at the same time,
    and each used to compute all of it, ~0.05 s of CPU each)."""
    with _offers_lock:
        return _offers(version)


def releases() -> dict[str, str]:
    """The releases can_offer()'s verdicts depend on."""
    import nassl
    from sslyze.__version__ import __version__ as sslyze_version

    return {"nassl": str(nassl.__version__), "sslyze": str(sslyze_version)}


def _verdict_key(legacy: bool, suite: CipherSuite) -> str:
    return f"{'legacy' if legacy else 'modern'}:{suite.openssl_name}"


@cache
def _recorded() -> dict[str, dict[str, bool]]:
    """OFFERS_FILE's verdicts per version name if it was written for the installed nassl and sslyze."""
    try:
        data = json.loads(OFFERS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("releases") != releases() or not isinstance(data.get("offers"), dict):
        return {}
    verdicts: dict[str, dict[str, bool]] = {}
    for name, entry in data["offers"].items():
        if isinstance(entry, dict) and all(isinstance(entry.get(k), list) for k in ("offered", "refused")):
            verdicts[name] = {**dict.fromkeys(map(str, entry["refused"]), False),
                              **dict.fromkeys(map(str, entry["offered"]), True)}
    return verdicts


def _by_client(version: TlsVersionEnum, can: Callable[[bool, CipherSuite], bool]) -> tuple[Offer, ...]:
    groups: dict[bool, list[CipherSuite]] = {}
    for suite in sorted(CipherSuitesRepository.get_all_cipher_suites(version), key=attrgetter("name")):
        legacy = uses_legacy_client(version, suite)
        if can(legacy, suite):
            groups.setdefault(legacy, []).append(suite)
    return tuple(Offer(version, legacy, tuple(suites)) for legacy, suites in sorted(groups.items(), reverse=True))


def computed_offers(version: TlsVersionEnum) -> tuple[Offer, ...]:
    """offers() worked out with can_offer() for every suite."""
    return _by_client(version, lambda legacy, suite: can_offer(version, legacy, suite))


@cache
def _offers(version: TlsVersionEnum) -> tuple[Offer, ...]:
    recorded = _recorded().get(version.name, {})

    def can(legacy: bool, suite: CipherSuite) -> bool:
        verdict = recorded.get(_verdict_key(legacy, suite))
        return verdict if verdict is not None else can_offer(version, legacy, suite)

    return _by_client(version, can)


def offers_table() -> dict[str, object]:
    """OFFERS_FILE's content for the installed nassl and sslyze: can_offer()'s verdict on every suite of
    the repository, with the client sslyze would use for it."""
    table: dict[str, dict[str, list[str]]] = {}
    for version in TlsVersionEnum:
        entry: dict[str, list[str]] = {"offered": [], "refused": []}
        for suite in CipherSuitesRepository.get_all_cipher_suites(version):
            legacy = uses_legacy_client(version, suite)
            entry["offered" if can_offer(version, legacy, suite) else "refused"].append(_verdict_key(legacy, suite))
        table[version.name] = {k: sorted(v) for k, v in entry.items()}
    return {"releases": releases(), "offers": table}


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # accepted, rejected, unknown (could not tell)
    suite: str | None = None  # OpenSSL name of the negotiated suite
    ephemeral_key: EphemeralKeyInfo | None = None
    message: str = ""


def handshake(info: ServerConnectivityInfo, version: TlsVersionEnum, legacy: bool, names: str) -> Outcome:
    """One handshake offering `names`; accepted with the negotiated suite, as sslyze's per-suite test
    would count it (a server DH key too small for our OpenSSL, or a client-certificate request, still
    means the suite is accepted)."""
    conn = info.get_preconfigured_tls_connection(override_tls_version=version, should_use_legacy_openssl=legacy)
    try:
        set_suites(conn.ssl_client, version, names)
        try:
            conn.connect()
            return Outcome("accepted", conn.ssl_client.get_current_cipher_name(),
                           conn.ssl_client.get_ephemeral_key())
        except ClientCertificateRequested:
            return Outcome("accepted", conn.ssl_client.get_current_cipher_name(),
                           conn.ssl_client.get_ephemeral_key())
        except ServerTlsConfigurationNotSupported:
            return Outcome("accepted", conn.ssl_client.get_current_cipher_name())
        except (ServerRejectedTlsHandshake, TlsHandshakeTimedOut) as exc:  # sslyze: both are rejections
            return Outcome("rejected", message=exc.error_message)
        except Exception as exc:  # timeouts, resets before the handshake, odd errors: cannot tell
            return Outcome("unknown", message=f"{type(exc).__name__}: {exc}"[:200])
    finally:
        conn.close()


@dataclass(slots=True)
class _Version:
    offers: tuple[Offer, ...]
    accepted: dict[str, CipherSuiteAcceptedByServer] = field(default_factory=dict)
    rejection: str = "Server rejected the connection"  # sslyze's message for suites never accepted
    chains: int = 0
    short_offer_pending: bool = False
    failed: str | None = None


@dataclass(slots=True)
class Elimination:
    """What the elimination found: a CipherSuitesScanResult per concluded version, the reason per
    version left to the per-suite scan, and how many handshakes it made."""

    results: dict[TlsVersionEnum, CipherSuitesScanResult]
    fallback: dict[TlsVersionEnum, str]
    handshakes: int


def scan_result(version: TlsVersionEnum, accepted: Sequence[CipherSuiteAcceptedByServer],
                rejection: str, offered: Sequence[Offer] | None = None) -> CipherSuitesScanResult:
    """sslyze's result for `version`: the accepted suites, every other suite the clients can offer as
    rejected, both sorted by name in reverse as sslyze sorts them."""
    taken = {a.cipher_suite.name for a in accepted}
    rejected = [CipherSuiteRejectedByServer(cipher_suite=s, error_message=rejection)
                for o in (offers(version) if offered is None else offered) for s in o.suites if s.name not in taken]
    return CipherSuitesScanResult(
        tls_version_used=version,
        accepted_cipher_suites=sorted(accepted, key=attrgetter("cipher_suite.name"), reverse=True),
        rejected_cipher_suites=sorted(rejected, key=attrgetter("cipher_suite.name"), reverse=True),
    )


_Task = tuple[TlsVersionEnum, Offer, tuple[CipherSuite, ...]]


def eliminate(info: ServerConnectivityInfo, versions: Sequence[TlsVersionEnum], lane: Lane, deadline: float,
              hs: Callable[[ServerConnectivityInfo, TlsVersionEnum, bool, str], Outcome] = handshake,
              before_wait: Callable[[], object] | None = None) -> Elimination:
    """Elimination for `versions`, its handshakes run in `lane` (at most its limit at once), each next
    step of a chain ahead of the lane's other jobs. A chain is split in two when a connection of the lane
    would otherwise stay idle. `before_wait` runs once the first offers are queued (to queue other work
    behind them)."""
    state = {v: _Version(offers(v)) for v in versions}
    done: queue.SimpleQueue[tuple[_Task | None, TlsVersionEnum, Outcome]] = queue.SimpleQueue()
    in_flight = 0
    handshakes = 0

    def start(task: _Task) -> None:
        nonlocal in_flight, handshakes
        version, offer, suites = task
        in_flight += 1
        handshakes += 1
        state[version].chains += 1
        future = lane.submit(hs, info, version, offer.legacy, ":".join(s.openssl_name for s in suites), first=True)
        future.add_done_callback(lambda f: done.put((task, version, f.result() if not f.exception() else
                                                     Outcome("unknown", message=str(f.exception())[:200]))))

    def short_offer(version: TlsVersionEnum) -> None:
        nonlocal in_flight, handshakes
        in_flight += 1
        handshakes += 1
        future = lane.submit(hs, info, version, True, SHORT_OFFER[version], first=True)  # legacy has them all
        future.add_done_callback(lambda f: done.put((None, version, f.result() if not f.exception() else
                                                     Outcome("unknown", message=str(f.exception())[:200]))))

    for version, st in state.items():
        for offer in st.offers:
            start((version, offer, offer.suites))
    if before_wait is not None:
        before_wait()
    while in_flight:
        try:
            task, version, outcome = done.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            for st in state.values():
                st.failed = st.failed or "no answer before the deadline"
            break
        in_flight -= 1
        st = state[version]
        if task is None:  # the short offer after a rejected first offer
            if outcome.kind != "rejected":
                st.failed = (f"the server rejected the full offer but not a short one ({outcome.kind})"
                             if outcome.kind == "accepted" else f"version check: {outcome.message}")
            continue
        st.chains -= 1
        if st.failed:
            continue
        _, offer, suites = task
        if outcome.kind == "unknown":
            st.failed = outcome.message or "handshake failed"
            continue
        if outcome.kind == "rejected":
            st.rejection = outcome.message or st.rejection
            if (st.chains == 0 and not st.accepted and version in SHORT_OFFER and not st.short_offer_pending
                    and not st.rejection.startswith(VERSION_REFUSED)):
                st.short_offer_pending = True  # every chain of the version rejected at once: a large offer?
                short_offer(version)
            continue
        chosen = next((s for s in suites if s.openssl_name == outcome.suite), None)
        if chosen is None:
            st.failed = f"negotiated {outcome.suite or 'an unknown suite'}, which was not offered"
            continue
        st.accepted[chosen.name] = CipherSuiteAcceptedByServer(cipher_suite=chosen, ephemeral_key=outcome.ephemeral_key)
        rest = tuple(s for s in suites if s is not chosen)
        if not rest:
            continue
        idle = lane.limit - in_flight
        if idle > 1 and len(rest) >= MIN_SPLIT:
            start((version, offer, rest[0::2]))
            start((version, offer, rest[1::2]))
        else:
            start((version, offer, rest))
    results: dict[TlsVersionEnum, CipherSuitesScanResult] = {}
    fallback: dict[TlsVersionEnum, str] = {}
    for version, st in state.items():
        if st.failed:
            fallback[version] = st.failed
        else:
            results[version] = scan_result(version, list(st.accepted.values()), st.rejection, st.offers)
    return Elimination(results, fallback, handshakes)


if __name__ == "__main__":  # python -m auditor.probes.tls_suites: record the offers of the installed releases
    OFFERS_FILE.write_text(json.dumps(offers_table(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OFFERS_FILE}")
