"""Supported elliptic curves by elimination, as sslyze's SupportedEllipticCurvesScanResult.

sslyze's ELLIPTIC_CURVES command (plugins/elliptic_curves_plugin) makes one handshake per curve nassl's
modern client knows (30), each at the server's highest TLS version with only ECDH suites enabled and
one group offered (TLS 1.3: the key share; TLS 1.2 and below: supported_groups for ECDHE). Here the
same client, version and suites offer every group still untested; the server picks one, which is
recorded (the ephemeral key's curve, as sslyze reads it) and removed; the offer is repeated until the
server rejects it: accepted + 1 handshakes, one after the other.

Where the elimination could differ from sslyze's one-curve handshakes it asks sslyze's question too: a
TLS 1.2 (or older) handshake that negotiated an ECDSA suite may have needed the certificate's curve in
the same offer, so each curve found that way is confirmed alone (sslyze's own _test_curve). A
handshake that fails in a way sslyze does not count as a rejection, or a negotiated curve that was not
offered, leaves the command to sslyze's per-curve scan (`CurveElimination.fallback` says why).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass

from nassl._nassl import OpenSSLError
from nassl.ephemeral_key_info import _OPENSSL_NID_TO_SECG_ANSI_X9_62, EcDhEphemeralKeyInfo, OpenSslEcNidEnum
from nassl.ssl_client import ClientCertificateRequested, SslClient
from sslyze.errors import ServerRejectedTlsHandshake, TlsHandshakeTimedOut
from sslyze.plugins.elliptic_curves_plugin import EllipticCurve, SupportedEllipticCurvesScanResult
from sslyze.server_connectivity import ServerConnectivityInfo, TlsVersionEnum, enable_ecdh_cipher_suites

from auditor.probes.tls_pool import Lane

# Offered first (the TLS 1.3 key share goes to the first group: a common one avoids a HelloRetryRequest).
PREFERRED = (OpenSslEcNidEnum.X25519, OpenSslEcNidEnum.SECP256R1, OpenSslEcNidEnum.SECP384R1,
             OpenSslEcNidEnum.X448, OpenSslEcNidEnum.SECP521R1)
# OpenSSL errors sslyze's _test_curve counts as "curve rejected" (its issues 466, 490, 579).
CURVE_REJECTIONS = ("ossl_statem_client_read_transition:unexpected message", "tls_process_ske_ecdhe:wrong curve",
                    "sslv3 alert unexpected message", "wrong curve")


def candidates() -> tuple[OpenSslEcNidEnum, ...]:
    """sslyze's curves (every group nassl's client supports), common ones first."""
    rest = sorted(set(OpenSslEcNidEnum.get_supported_by_ssl_client()) - set(PREFERRED), key=int)
    return (*PREFERRED, *rest)


def curve_name(nid: OpenSslEcNidEnum) -> str:
    """sslyze's name for a curve (it reads the same nassl table)."""
    return _OPENSSL_NID_TO_SECG_ANSI_X9_62.get(nid, f"unknown-curve-with-openssl-id-{nid.value}")


@dataclass(frozen=True, slots=True)
class CurveOutcome:
    kind: str  # accepted, rejected, unknown (could not tell)
    curve: OpenSslEcNidEnum | None = None
    ecdsa: bool = False  # the negotiated suite authenticates with ECDSA (TLS 1.2 and below)
    message: str = ""


def curve_handshake(info: ServerConnectivityInfo, version: TlsVersionEnum,
                    groups: Sequence[OpenSslEcNidEnum]) -> CurveOutcome:
    """One handshake set up as sslyze's _test_curve, offering `groups`; accepted with the curve of the
    server's ephemeral key."""
    conn = info.get_preconfigured_tls_connection(override_tls_version=version, should_use_legacy_openssl=False)
    try:
        client = conn.ssl_client
        if not isinstance(client, SslClient):
            return CurveOutcome("unknown", message="no modern OpenSSL client")
        enable_ecdh_cipher_suites(version, client)
        client.set_groups(list(groups))
        try:
            with suppress(ClientCertificateRequested):  # sslyze: the handshake went far enough
                conn.connect()
            key = client.get_ephemeral_key()
            suite = client.get_current_cipher_name() or ""
        except (ServerRejectedTlsHandshake, TlsHandshakeTimedOut) as exc:
            return CurveOutcome("rejected", message=exc.error_message)
        except OpenSSLError as exc:
            text = str(exc.args[0]) if exc.args else str(exc)
            if any(m in text for m in CURVE_REJECTIONS):
                return CurveOutcome("rejected", message=text[:200])
            return CurveOutcome("unknown", message=f"OpenSSLError: {text}"[:200])
        except Exception as exc:  # timeouts, resets before the handshake, odd errors: cannot tell
            return CurveOutcome("unknown", message=f"{type(exc).__name__}: {exc}"[:200])
    finally:
        conn.close()
    if not isinstance(key, EcDhEphemeralKeyInfo):  # sslyze: no ECDH key means the curve was not used
        return CurveOutcome("rejected", message="no ECDH key exchange")
    return CurveOutcome("accepted", OpenSslEcNidEnum(key.curve), "-ECDSA-" in suite)


@dataclass(frozen=True, slots=True)
class CurveElimination:
    result: SupportedEllipticCurvesScanResult | None  # None: could not conclude
    fallback: str | None  # why the per-curve scan is needed
    handshakes: int


def curves_result(accepted: set[OpenSslEcNidEnum],
                  offered: Sequence[OpenSslEcNidEnum]) -> SupportedEllipticCurvesScanResult:
    return SupportedEllipticCurvesScanResult(
        supports_ecdh_key_exchange=True,
        supported_curves=[EllipticCurve(curve_name(n), n.value) for n in offered if n in accepted],
        rejected_curves=[EllipticCurve(curve_name(n), n.value) for n in offered if n not in accepted],
    )


CurveHandshake = Callable[[ServerConnectivityInfo, TlsVersionEnum, Sequence[OpenSslEcNidEnum]], CurveOutcome]


def eliminate_curves(info: ServerConnectivityInfo, lane: Lane,
                     hs: CurveHandshake = curve_handshake) -> Future[CurveElimination]:
    """The elimination as one chain of jobs in `lane` (each next step ahead of the lane's queue); the
    future is done when it concluded or cannot."""
    final: Future[CurveElimination] = Future()
    if not info.tls_probing_result.supports_ecdh_key_exchange:
        final.set_result(CurveElimination(SupportedEllipticCurvesScanResult(False, None, None), None, 0))
        return final
    version = info.tls_probing_result.highest_tls_version_supported
    offered = candidates()
    accepted: set[OpenSslEcNidEnum] = set()
    lock = threading.RLock()  # a callback runs in the submitting thread when its job is already done
    state = {"handshakes": 0, "open": 0, "chain_done": False}
    failed: list[str] = []

    def finish_if_done() -> None:  # under lock
        if final.done() or state["open"] or not (state["chain_done"] or failed):
            return
        if failed:
            final.set_result(CurveElimination(None, failed[0], state["handshakes"]))
        else:
            final.set_result(CurveElimination(curves_result(accepted, offered), None, state["handshakes"]))

    def submit(groups: tuple[OpenSslEcNidEnum, ...], confirm: bool) -> None:  # under lock
        state["handshakes"] += 1
        state["open"] += 1
        future = lane.submit(hs, info, version, groups, first=True)
        future.add_done_callback(lambda f: done(groups, confirm, f))

    def done(groups: tuple[OpenSslEcNidEnum, ...], confirm: bool, future: Future[CurveOutcome]) -> None:
        exc = future.exception()
        outcome = future.result() if exc is None else CurveOutcome("unknown", message=str(exc)[:200])
        with lock:
            state["open"] -= 1
            if failed or final.done():
                finish_if_done()
                return
            if outcome.kind == "unknown":
                failed.append(outcome.message or "handshake failed")
            elif confirm:  # sslyze's own one-curve handshake decides
                if outcome.kind == "rejected":
                    accepted.discard(groups[0])
                elif outcome.curve != groups[0]:
                    failed.append(f"negotiated {outcome.curve!r} when only {groups[0]!r} was offered")
            elif outcome.kind == "rejected":
                state["chain_done"] = True
            elif outcome.curve not in groups:
                failed.append(f"negotiated {outcome.curve!r}, which was not offered")
            else:
                assert outcome.curve is not None
                accepted.add(outcome.curve)
                if outcome.ecdsa and version.value < TlsVersionEnum.TLS_1_3.value:
                    submit((outcome.curve,), True)
                rest = tuple(g for g in groups if g != outcome.curve)
                if rest:
                    submit(rest, False)
                else:
                    state["chain_done"] = True
            finish_if_done()

    with lock:
        submit(offered, False)
    return final
