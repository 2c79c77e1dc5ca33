"""The TLS 1.3 client-certificate check runs beside the scan (tls_scan): the result must be what sslyze's
own connectivity test finds, and a server that requires a certificate is scanned knowing it."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sslyze.scanner.scan_command_attempt import ScanCommandAttemptStatusEnum
from sslyze.server_connectivity import ClientAuthRequirementEnum, check_connectivity_to_server

from auditor.probes.model import ProbeTarget
from auditor.probes.tls import scan_request
from auditor.probes.tls_pool import TlsPool
from auditor.probes.tls_scan import run_scan
from tests.loopback import Handler, Server
from tests.probes.loopback import NAME, tls_context, tls_handler

Required = ClientAuthRequirementEnum


@pytest.mark.parametrize(("verify", "expected"), [
    (ssl.CERT_NONE, Required.DISABLED),
    (ssl.CERT_OPTIONAL, Required.OPTIONAL),
    (ssl.CERT_REQUIRED, Required.REQUIRED),
])
def test_requirement_as_sslyze_finds_it(serve: Callable[[Handler], Server], tmp_path: Path,
                                        verify: ssl.VerifyMode, expected: ClientAuthRequirementEnum) -> None:
    server = serve(tls_handler(tls_context(tmp_path, verify)))
    target = ProbeTarget(NAME, "127.0.0.1", https_port=server.port)
    request = scan_request(target, "127.0.0.1", server.port, 2.0, False)
    sslyze_own = check_connectivity_to_server(request.server_location, request.network_configuration)
    assert sslyze_own.client_auth_requirement is expected
    scan = run_scan(request, TlsPool().lane(4), time.monotonic() + 60)
    assert scan.result.connectivity_result is not None
    assert scan.result.connectivity_result.client_auth_requirement is expected
    cert = scan.result.scan_result.certificate_info if scan.result.scan_result else None
    assert cert is not None and cert.status is ScanCommandAttemptStatusEnum.COMPLETED  # TLS 1.3: sent first
