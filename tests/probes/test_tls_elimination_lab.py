"""The elimination's suites (tls_suites) against sslyze's own per-suite scan, on the lab's real nginx and
prosody: per version, the same accepted suites with the same ephemeral key type and size, and the same
rejected suites, in far fewer connections."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sslyze.connection_helpers import tls_connection
from sslyze.scanner.models import ServerScanRequest
from sslyze.scanner.scanner import Scanner
from sslyze.server_connectivity import ServerConnectivityInfo, check_connectivity_to_server

from auditor.probes.model import ProbeTarget
from auditor.probes.tls import endpoint_from_result, scan_request
from auditor.probes.tls_pool import POOL
from auditor.probes.tls_scan import SUITE_COMMANDS, run_scan
from auditor.probes.tls_suites import eliminate
from tests.probes.conftest import HostFactory, lab_hosts_fixture

pytestmark = [pytest.mark.lab, pytest.mark.filterwarnings("ignore:Parsed a serial number")]


lab_hosts = lab_hosts_fixture("tls-e")


class Connections:
    """Counts the TCP connections sslyze's connection helper opens (every handshake opens one)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = tls_connection._open_socket

        def counted(*args: Any) -> Any:
            self.count += 1
            return real(*args)

        monkeypatch.setattr(tls_connection, "_open_socket", counted)


def _per_suite(request: ServerScanRequest) -> Any:
    scanner = Scanner(per_server_concurrent_connections_limit=4, concurrent_server_scans_limit=1)
    scanner.queue_scans([request])
    (result,) = list(scanner.get_results())
    assert result.scan_result is not None, result.connectivity_error_trace
    return result.scan_result


def _key(eph: Any) -> tuple[str, int] | None:
    return None if eph is None else (type(eph).__name__, eph.size)


def _suites(found: Any) -> tuple[dict[str, Any], set[str]]:
    return ({a.cipher_suite.name: _key(a.ephemeral_key) for a in found.accepted_cipher_suites},
            {r.cipher_suite.name for r in found.rejected_cipher_suites})


@pytest.mark.parametrize(("variant", "port"), [("legacy-2020", 443), ("hardened", 443), ("debian-default", 443),
                                               ("legacy-2020", 5281), ("debian-default", 5222)])
def test_elimination_equals_sslyze_per_suite_scan(lab_hosts: HostFactory, variant: str, port: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    host = lab_hosts(variant)
    target = ProbeTarget(host.domain, host.address, ca_bundle=host.ca_cert, https_port=host.web_port)
    request = scan_request(target, host.address, port, 5, False)
    versions = list(SUITE_COMMANDS)
    reference = ServerScanRequest(server_location=request.server_location,
                                  network_configuration=request.network_configuration,
                                  scan_commands={SUITE_COMMANDS[v] for v in versions})
    connections = Connections(monkeypatch)
    expected = _per_suite(reference)
    per_suite_connections = connections.count

    probing = check_connectivity_to_server(request.server_location, request.network_configuration)
    info = ServerConnectivityInfo(request.server_location, request.network_configuration, probing)
    connections.count = 0
    found = eliminate(info, versions, POOL.lane(4), time.monotonic() + 60)
    assert found.fallback == {}
    assert connections.count == found.handshakes
    accepted_total = 0
    for version in versions:
        want = _suites(getattr(expected, SUITE_COMMANDS[version].value).result)
        got = _suites(found.results[version])
        assert got == want, version
        accepted_total += len(want[0])
    # accepted + 1 per client chain of each version, a few more where a chain was split (at most one per
    # accepted suite), one more per rejected version (the short offer that rules out a too-large hello)
    assert found.handshakes <= 2 * accepted_total + 2 * len(versions) + 1
    assert found.handshakes * 4 < per_suite_connections, (found.handshakes, per_suite_connections)
    if variant == "legacy-2020" and port == 443:
        assert accepted_total > 10  # the old cipher list: many suites over three versions


def test_web_front_result_feeds_mozilla_checker(lab_hosts: HostFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole web-front scan through the pool: no per-suite scan commands, Mozilla's checker judged, the
    endpoint the same as from sslyze's Scanner with every command."""
    host = lab_hosts("legacy-2020")
    target = ProbeTarget(host.domain, host.address, ca_bundle=host.ca_cert, https_port=host.web_port)
    request = scan_request(target, host.address, 443, 5, True)
    connections = Connections(monkeypatch)
    scanner = Scanner(per_server_concurrent_connections_limit=4, concurrent_server_scans_limit=1)
    scanner.queue_scans([request])
    (reference,) = list(scanner.get_results())
    sslyze_connections, connections.count = connections.count, 0
    ours = run_scan(request, POOL.lane(4), time.monotonic() + 60, list(SUITE_COMMANDS))
    assert ours.elimination is not None and ours.elimination.fallback == {}
    want = endpoint_from_result(reference, 443, "web HTTPS", None, host.domain, 0.0)
    got = endpoint_from_result(ours.result, 443, "web HTTPS", None, host.domain, 0.0)
    assert got.mozilla_intermediate is not None and got.mozilla_intermediate == want.mozilla_intermediate
    assert got.mozilla_modern == want.mozilla_modern
    assert set(got.ciphers) == set(want.ciphers) and got.protocols == want.protocols == ("TLSv1.0", "TLSv1.1",
                                                                                          "TLSv1.2")
    assert got.certificate == want.certificate and got.incomplete == ()
    assert connections.count * 3 < sslyze_connections, (connections.count, sslyze_connections)

