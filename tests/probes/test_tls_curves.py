"""Bookkeeping of the elliptic-curve elimination (tls_curves) against a scripted server: which groups it
supports, in its order of preference. The real servers are in test_tls_curves_lab.py."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from nassl.ephemeral_key_info import OpenSslEcNidEnum
from sslyze.plugins.elliptic_curves_plugin import (
    SupportedEllipticCurvesImplementation,
    SupportedEllipticCurvesScanResult,
)
from sslyze.server_connectivity import (
    ClientAuthRequirementEnum,
    ServerConnectivityInfo,
    ServerTlsProbingResult,
    TlsVersionEnum,
)

from auditor.probes.tls_curves import CurveOutcome, candidates, curve_name, eliminate_curves
from auditor.probes.tls_pool import TlsPool

C = OpenSslEcNidEnum
V = TlsVersionEnum


def info(version: TlsVersionEnum = V.TLS_1_3, ecdh: bool = True) -> ServerConnectivityInfo:
    probing = ServerTlsProbingResult(version, "ECDHE-RSA-AES128-GCM-SHA256", ClientAuthRequirementEnum.DISABLED, ecdh)
    location: Any = None  # the scripted server needs no address
    return ServerConnectivityInfo(location, location, probing)


class Server:
    """Picks the first of `supported` that is offered; `ecdsa_needs`: a TLS 1.2 server whose only
    certificate is on that curve (an ECDSA suite needs it offered too, else it falls back to `rsa`)."""

    def __init__(self, supported: Sequence[OpenSslEcNidEnum], **odd: Any) -> None:
        self.supported = list(supported)
        self.odd = odd
        self.log: list[tuple[OpenSslEcNidEnum, ...]] = []
        self.lock = threading.Lock()

    def __call__(self, _info: ServerConnectivityInfo, version: TlsVersionEnum,
                 groups: Sequence[OpenSslEcNidEnum]) -> CurveOutcome:
        with self.lock:
            self.log.append(tuple(groups))
        if self.odd.get("unknown_after") is not None and len(self.log) > self.odd["unknown_after"]:
            return CurveOutcome("unknown", message="ConnectionToServerFailed: reset")
        if self.odd.get("rogue"):
            return CurveOutcome("accepted", C.SECT163K1)
        chosen = next((c for c in self.supported if c in groups), None)
        if chosen is None:
            return CurveOutcome("rejected", message="TLS alert: handshake failure")
        need = self.odd.get("ecdsa_needs")
        if need is not None:  # ECDSA only when the certificate's curve is offered; else no suite fits
            return CurveOutcome("accepted", chosen, ecdsa=True) if need in groups else \
                CurveOutcome("rejected", message="TLS alert: handshake failure")
        return CurveOutcome("accepted", chosen)


def run(server: Server, probing: ServerConnectivityInfo | None = None) -> Any:
    future = eliminate_curves(probing or info(), TlsPool(8).lane(2), hs=server)
    return future.result(timeout=30)


def names(curves: Any) -> list[str]:
    return [c.name for c in curves]


def test_candidates_are_sslyzes_curves_common_ones_first() -> None:
    assert set(candidates()) == set(C.get_supported_by_ssl_client()) and len(candidates()) == len(set(candidates()))
    assert candidates()[:2] == (C.X25519, C.SECP256R1)
    assert curve_name(C.SECP256R1) == "secp256r1" and curve_name(C.X25519) == "X25519"


def test_supported_curves_found_in_accepted_plus_one_handshakes() -> None:
    server = Server([C.SECP384R1, C.X25519, C.SECP256R1])
    found = run(server)
    assert found.fallback is None and found.handshakes == len(server.log) == 4
    assert names(found.result.supported_curves) == sorted(["secp384r1", "X25519", "secp256r1"])
    assert len(found.result.rejected_curves) == len(candidates()) - 3
    assert names(found.result.rejected_curves) == sorted(names(found.result.rejected_curves))
    assert server.log[0] == candidates() and server.log[-1] == tuple(c for c in candidates() if c not in
                                                                    (C.SECP384R1, C.X25519, C.SECP256R1))


def test_no_ecdh_server_is_sslyzes_answer_without_a_handshake() -> None:
    server = Server([C.X25519])
    found = run(server, info(ecdh=False))
    assert found.handshakes == 0 and server.log == []
    assert found.result.supports_ecdh_key_exchange is False and found.result.supported_curves is None


def test_tls12_ecdsa_curves_are_confirmed_alone_as_sslyze_tests_them() -> None:
    # the certificate is on P-256: X25519 is negotiated only while P-256 is offered too; alone it fails,
    # which is what sslyze's one-curve handshake reports
    server = Server([C.X25519, C.SECP256R1], ecdsa_needs=C.SECP256R1)
    found = run(server, info(V.TLS_1_2))
    assert found.fallback is None
    assert names(found.result.supported_curves) == ["secp256r1"]
    assert (C.X25519,) in server.log and (C.SECP256R1,) in server.log
    assert found.handshakes == len(server.log) == 2 + 2 + 1  # two found, each confirmed, one rejection


def test_result_is_sslyzes_and_its_cli_prints_it() -> None:
    found = run(Server([C.X25519]))
    assert isinstance(found.result, SupportedEllipticCurvesScanResult)
    lines = SupportedEllipticCurvesImplementation.cli_connector_cls.result_to_console_output(found.result)
    assert any("Supported curves:" in line and "X25519" in line for line in lines)


@pytest.mark.parametrize(("odd", "reason"), [({"unknown_after": 1}, "reset"), ({"rogue": True}, "not offered")])
def test_a_curve_scan_that_cannot_conclude_is_left_to_sslyze(odd: dict[str, Any], reason: str) -> None:
    found = run(Server([C.X25519, C.SECP256R1], **odd))
    assert found.result is None and found.fallback is not None and reason in found.fallback


def test_a_server_with_every_curve_needs_no_final_rejection() -> None:
    found = run(Server(list(reversed(candidates()))))
    assert found.handshakes == len(candidates()) and found.result.rejected_curves == []


def test_a_lane_limit_raised_starts_the_queued_jobs() -> None:
    pool = TlsPool(max_connections=8)
    lane = pool.lane(1)
    release = threading.Event()
    running: list[int] = []
    lock = threading.Lock()

    def job(i: int) -> int:
        with lock:
            running.append(i)
        release.wait(10)
        return i

    futures = [lane.submit(job, i) for i in range(3)]
    deadline = threading.Event()
    deadline.wait(0.2)
    assert running == [0]  # the lane's limit
    lane.set_limit(3)
    for _ in range(200):
        if len(running) == 3:
            break
        deadline.wait(0.01)
    assert sorted(running) == [0, 1, 2]
    release.set()
    assert [f.result(timeout=10) for f in futures] == [0, 1, 2]
