"""The elliptic-curve elimination (tls_curves) against sslyze's own per-curve scan, and certificate
analyses shared between ports (tls_certs) against sslyze's own analysis, on the lab's real nginx and
prosody. Lab hosts and the connection counter are test_tls_elimination_lab's (the same hosts)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.hashes import SHA256
from sslyze.plugins.certificate_info import implementation as certificate_info
from sslyze.plugins.certificate_info._cert_chain_analyzer import CertificateDeploymentAnalyzer
from sslyze.plugins.scan_commands import ScanCommand
from sslyze.scanner.models import ScanCommandsExtraArguments, ServerScanRequest
from sslyze.scanner.scanner import Scanner
from sslyze.server_connectivity import ServerConnectivityInfo, check_connectivity_to_server

from auditor.probes import tls_certs
from auditor.probes.model import ProbeTarget
from auditor.probes.tls import scan_request
from auditor.probes.tls_curves import candidates, eliminate_curves
from auditor.probes.tls_pool import POOL
from auditor.probes.tls_scan import run_scan
from tests.lab import LabHost
from tests.probes.conftest import HostFactory
from tests.probes.test_tls_elimination_lab import Connections, lab_hosts

pytestmark = [pytest.mark.lab, pytest.mark.filterwarnings("ignore:Parsed a serial number")]
__all__ = ["lab_hosts"]  # the module-scoped fixture, used here by name


def _sslyze(request: ServerScanRequest, commands: set[ScanCommand]) -> Any:
    extra = (request.scan_commands_extra_arguments if ScanCommand.CERTIFICATE_INFO in commands
             else ScanCommandsExtraArguments())
    reference = ServerScanRequest(server_location=request.server_location,
                                  network_configuration=request.network_configuration, scan_commands=commands,
                                  scan_commands_extra_arguments=extra)
    scanner = Scanner(per_server_concurrent_connections_limit=4, concurrent_server_scans_limit=1)
    scanner.queue_scans([reference])
    (result,) = list(scanner.get_results())
    assert result.scan_result is not None, result.connectivity_error_trace
    return result.scan_result


def _target(host: LabHost) -> ProbeTarget:
    return ProbeTarget(host.domain, host.address, ca_bundle=host.ca_cert, https_port=host.web_port)


@pytest.mark.parametrize("variant", ["legacy-2020", "hardened", "debian-default"])
def test_curve_elimination_equals_sslyze_per_curve_scan(lab_hosts: HostFactory, variant: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    host = lab_hosts(variant)
    request = scan_request(_target(host), host.address, 443, 5, True)
    connections = Connections(monkeypatch)
    attempt = _sslyze(request, {ScanCommand.ELLIPTIC_CURVES}).elliptic_curves
    assert attempt.result is not None, attempt.error_trace
    expected, per_curve_connections = attempt.result, connections.count

    probing = check_connectivity_to_server(request.server_location, request.network_configuration)
    info = ServerConnectivityInfo(request.server_location, request.network_configuration, probing)
    connections.count = 0
    found = eliminate_curves(info, POOL.lane(4)).result(timeout=60)
    assert found.fallback is None and found.result is not None
    assert found.result == expected  # supports_ecdh_key_exchange, supported and rejected curves, in order
    assert expected.supported_curves and expected.rejected_curves  # a real choice was made
    assert connections.count == found.handshakes <= len(expected.supported_curves) * 2 + 1
    assert per_curve_connections >= len(candidates())
    assert found.handshakes * 3 < per_curve_connections, (found.handshakes, per_curve_connections)


def test_web_front_scan_uses_the_elimination_for_curves(lab_hosts: HostFactory) -> None:
    host = lab_hosts("legacy-2020")
    request = scan_request(_target(host), host.address, 443, 5, True)
    scan = run_scan(request, POOL.lane(4), time.monotonic() + 60)
    assert scan.curves is not None and scan.curves.fallback is None and scan.result.scan_result is not None
    assert scan.curves.result is not None and scan.result.scan_result.elliptic_curves.result == scan.curves.result
    names = {c.name for c in scan.curves.result.supported_curves or []}
    assert {"X25519", "secp256r1", "secp384r1"} <= names  # legacy-2020's nginx: OpenSSL's default list


def _deployments(result: Any) -> list[Any]:
    info = result.certificate_info.result
    assert info is not None, result.certificate_info.error_trace
    found = list(info.certificate_deployments)
    if info.certificate_deployment_with_sni_disabled is not None:
        found.append(info.certificate_deployment_with_sni_disabled)
    return found


def _validation(deployment: Any) -> list[tuple[str, str | None, list[str] | None]]:
    return [(r.trust_store.name, r.validation_error,
             None if r.verified_certificate_chain is None else [c.fingerprint(SHA256()).hex() for c in r.verified_certificate_chain])
            for r in deployment.path_validation_results]


def _facts(deployment: Any) -> tuple[Any, ...]:
    return (deployment.leaf_certificate_is_ev, deployment.received_chain_has_valid_order,
            deployment.received_chain_contains_anchor_certificate, deployment.verified_chain_has_sha1_signature,
            deployment.verified_chain_has_legacy_symantec_anchor)


@pytest.mark.parametrize("variant", ["legacy-2020", "debian-default"])
def test_one_certificate_analysis_per_distinct_chain(lab_hosts: HostFactory, variant: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    host = lab_hosts(variant)
    target = _target(host)
    ports = [443, 5222, 5281]
    tls_certs.clear()
    ours = {}
    for port in ports:
        scan = run_scan(scan_request(target, host.address, port, 5, False), POOL.lane(4), time.monotonic() + 60)
        assert scan.result.scan_result is not None
        ours[port] = _deployments(scan.result.scan_result)
    chains = {tuple(d.received_certificate_chain_as_pem) for found in ours.values() for d in found}
    assert tls_certs.stats["analysed"] == len(chains)
    assert tls_certs.stats["reused"] == sum(len(found) for found in ours.values()) - len(chains) > 0

    monkeypatch.setattr(certificate_info, "CertificateDeploymentAnalyzer", CertificateDeploymentAnalyzer)
    for port in ports:  # sslyze's own analyser, every deployment analysed anew
        request = scan_request(target, host.address, port, 5, False)
        theirs = _deployments(_sslyze(request, {ScanCommand.CERTIFICATE_INFO}))
        assert [d.received_certificate_chain_as_pem for d in ours[port]] == \
            [d.received_certificate_chain_as_pem for d in theirs]
        assert [_validation(d) for d in ours[port]] == [_validation(d) for d in theirs], port
        assert [_facts(d) for d in ours[port]] == [_facts(d) for d in theirs]
    assert any(r.was_validation_successful for d in theirs for r in d.path_validation_results) == \
        (variant != "legacy-2020")  # the lab CA (supplied CA file) signs debian-default's chain


@pytest.mark.parametrize("port", [5269, 5222])
def test_xmpp_client_certificate_requirement_equals_sslyze(lab_hosts: HostFactory, port: int) -> None:
    """prosody asks s2s peers for a certificate (TLS 1.3): the check beside the scan (a stream open instead
    of sslyze's lone byte, tls_scan.client_auth_tls13) finds what sslyze's connectivity test finds."""
    from auditor.probes.tls_scan import client_auth_tls13

    host = lab_hosts("legacy-2020")
    request = scan_request(_target(host), host.address, port, 2.0, False)
    loc, cfg = request.server_location, request.network_configuration
    sslyze_own = check_connectivity_to_server(loc, cfg).client_auth_requirement
    scan = run_scan(request, POOL.lane(4), time.monotonic() + 60)
    assert scan.result.connectivity_result is not None
    assert scan.result.connectivity_result.client_auth_requirement is sslyze_own
    if port == 5269:
        assert sslyze_own.name == "OPTIONAL"
        assert client_auth_tls13(loc, cfg) is sslyze_own
