"""sslyze scan commands run through the process-wide TLS pool (tls_pool) instead of a Scanner.

sslyze's Scanner starts threads of its own for every scan (a connectivity tester, a producer that polls
every 0.2 s, one worker per connection) and always runs the per-suite scan commands as one handshake per
suite. Here the same public pieces do the same work: sslyze's connectivity test, each scan command's
jobs (ScanCommandImplementation.scan_jobs_for_scan_command) and its result
(result_for_completed_scan_jobs), wrapped in sslyze's ScanCommandAttempt and ServerScanResult, so the
result is what a Scanner returns; but every job is one job of the shared pool, the per-version
suites come from the elimination (tls_suites) unless it could not conclude for a version, and so do
the elliptic curves (tls_curves). Certificate chains are analysed once per process (tls_certs).

A server that asks for a client certificate over TLS 1.3 (prosody's s2s port) costs sslyze's
connectivity test one read timeout: it writes a byte and waits to learn whether the certificate was
optional. Here the connectivity test assumes "optional" and that check runs as a job of its own beside
the scan; if it finds the certificate required, the scan runs again knowing it (what sslyze would have
scanned), and if it fails to connect, the port is reported without connectivity, as sslyze would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, fields, replace
from traceback import TracebackException
from typing import Any

from nassl import _nassl
from nassl.ssl_client import ClientCertificateRequested
from sslyze import server_connectivity
from sslyze.connection_helpers.opportunistic_tls_helpers import ProtocolWithOpportunisticTlsEnum
from sslyze.connection_helpers.tls_connection import _HANDSHAKE_REJECTED_TLS_ERRORS, SslConnection
from sslyze.errors import (
    ConnectionToServerFailed,
    ConnectionToServerTimedOut,
    ServerRejectedTlsHandshake,
    TlsHandshakeTimedOut,
)
from sslyze.plugins.plugin_base import ScanCommandWrongUsageError, ScanJobResult
from sslyze.plugins.scan_commands import ScanCommand, ScanCommandsRepository
from sslyze.scanner.models import (
    AllScanCommandsAttempts,
    ServerConnectivityStatusEnum,
    ServerScanRequest,
    ServerScanResult,
    ServerScanStatusEnum,
    get_scan_command_attempt_cls,
)
from sslyze.scanner.scan_command_attempt import ScanCommandAttemptStatusEnum, ScanCommandErrorReasonEnum
from sslyze.server_connectivity import (
    ClientAuthRequirementEnum,
    ServerConnectivityInfo,
    ServerTlsProbingResult,
    TlsVersionEnum,
    check_connectivity_to_server,
)
from sslyze.server_setting import ServerNetworkConfiguration, ServerNetworkLocation

from auditor.probes import tls_certs
from auditor.probes.tls_curves import CurveElimination, eliminate_curves
from auditor.probes.tls_pool import Lane
from auditor.probes.tls_suites import Elimination, eliminate

tls_certs.install()

_client_auth_tls13 = server_connectivity._detect_client_auth_requirement_with_tls_1_3
_deferring = threading.local()


def _deferred_client_auth_tls13(server_location: ServerNetworkLocation,
                                network_config: ServerNetworkConfiguration) -> ClientAuthRequirementEnum:
    """sslyze's TLS 1.3 client-certificate check, or, inside connectivity_deferring_client_auth(),
    "optional" at once (the check is left to the caller)."""
    if getattr(_deferring, "active", False):
        _deferring.deferred = True
        return ClientAuthRequirementEnum.OPTIONAL
    return _client_auth_tls13(server_location, network_config)


server_connectivity._detect_client_auth_requirement_with_tls_1_3 = _deferred_client_auth_tls13


def connectivity_deferring_client_auth(location: ServerNetworkLocation, config: ServerNetworkConfiguration
                                       ) -> tuple[ServerTlsProbingResult, bool]:
    """sslyze's connectivity test without its TLS 1.3 client-certificate wait; True: that check was
    skipped (client_auth_requirement says OPTIONAL until client_auth_tls13() says otherwise)."""
    _deferring.active, _deferring.deferred = True, False
    try:
        return check_connectivity_to_server(location, config), bool(_deferring.deferred)
    finally:
        _deferring.active = False


def client_auth_tls13(location: ServerNetworkLocation,
                      config: ServerNetworkConfiguration) -> ClientAuthRequirementEnum:
    """The check connectivity_deferring_client_auth() skipped: sslyze's, except that over XMPP the byte it
    writes after the handshake is a stream open, which a server that took the handshake without a
    certificate answers at once (sslyze's lone byte leaves it waiting: "optional" only after a read
    timeout). A rejection (alert, closed connection) still means "required"."""
    flavour = config.tls_opportunistic_encryption
    if flavour not in (ProtocolWithOpportunisticTlsEnum.XMPP, ProtocolWithOpportunisticTlsEnum.XMPP_SERVER):
        return _client_auth_tls13(location, config)
    namespace = "jabber:server" if flavour is ProtocolWithOpportunisticTlsEnum.XMPP_SERVER else "jabber:client"
    opening = (f"<?xml version='1.0'?><stream:stream xmlns='{namespace}' xmlns:stream="
               f"'http://etherx.jabber.org/streams' to='{config.xmpp_to_hostname or location.hostname}' "
               "version='1.0'>").encode()
    connection = SslConnection(server_location=location, network_configuration=config,
                               tls_version=TlsVersionEnum.TLS_1_3, should_ignore_client_auth=True)
    try:
        connection.connect(should_retry_connection=False)
        connection.ssl_client.write(opening)
        connection.ssl_client.read(1)
        return ClientAuthRequirementEnum.OPTIONAL
    except (ClientCertificateRequested, ServerRejectedTlsHandshake):
        return ClientAuthRequirementEnum.REQUIRED
    except TimeoutError:  # sslyze's reading too: the server waits for more from a client it accepted
        return ClientAuthRequirementEnum.OPTIONAL
    except _nassl.OpenSSLError as exc:
        if any(message in str(exc.args[0]) for message in _HANDSHAKE_REJECTED_TLS_ERRORS):
            return ClientAuthRequirementEnum.REQUIRED
        raise
    except OSError as exc:
        raise ConnectionToServerFailed(server_location=location, network_configuration=config,
                                       error_message=f'Unexpected connection error: "{exc.args}"') from exc
    finally:
        connection.close()


SUITE_COMMANDS: dict[TlsVersionEnum, ScanCommand] = {
    TlsVersionEnum.SSL_2_0: ScanCommand.SSL_2_0_CIPHER_SUITES,
    TlsVersionEnum.SSL_3_0: ScanCommand.SSL_3_0_CIPHER_SUITES,
    TlsVersionEnum.TLS_1_0: ScanCommand.TLS_1_0_CIPHER_SUITES,
    TlsVersionEnum.TLS_1_1: ScanCommand.TLS_1_1_CIPHER_SUITES,
    TlsVersionEnum.TLS_1_2: ScanCommand.TLS_1_2_CIPHER_SUITES,
    TlsVersionEnum.TLS_1_3: ScanCommand.TLS_1_3_CIPHER_SUITES,
}


@dataclass(frozen=True, slots=True)
class Scan:
    result: ServerScanResult
    elimination: Elimination | None  # None: suites were not asked for, or no connectivity
    curves: CurveElimination | None = None  # None: curves were not asked for, or no connectivity


def _attempt(command: ScanCommand, status: ScanCommandAttemptStatusEnum, result: Any = None,
             reason: ScanCommandErrorReasonEnum | None = None, exc: BaseException | None = None) -> Any:
    cls = get_scan_command_attempt_cls(command)
    trace = TracebackException.from_exception(exc) if exc is not None else None
    return cls(status=status, error_reason=reason, error_trace=trace, result=result)


def _error_reason(exc: BaseException) -> ScanCommandErrorReasonEnum:
    """sslyze's classification of an exception raised while a command's result was put together."""
    if isinstance(exc, ClientCertificateRequested):
        return ScanCommandErrorReasonEnum.CLIENT_CERTIFICATE_NEEDED
    if isinstance(exc, ConnectionToServerTimedOut | TlsHandshakeTimedOut | ServerRejectedTlsHandshake):
        return ScanCommandErrorReasonEnum.CONNECTIVITY_ISSUE
    return ScanCommandErrorReasonEnum.BUG_IN_SSLYZE


def _job_result(future: Future[Any], deadline: float) -> ScanJobResult:
    try:
        return ScanJobResult(_return_value=future.result(timeout=max(0.0, deadline - time.monotonic())),
                             _exception=None)
    except FutureTimeout as exc:
        future.cancel()
        return ScanJobResult(_return_value=None, _exception=ConnectionToServerTimedOut(
            server_location=None, network_configuration=None,  # type: ignore[arg-type]
            error_message=f"no result before the scan's deadline ({type(exc).__name__})"))
    except Exception as exc:
        return ScanJobResult(_return_value=None, _exception=exc)


def _no_connectivity(request: ServerScanRequest, exc: BaseException) -> Scan:
    loc, cfg = request.server_location, request.network_configuration
    error = exc if isinstance(exc, ConnectionToServerFailed) else ConnectionToServerTimedOut(
        server_location=loc, network_configuration=cfg, error_message="Connection to the server timed out")
    return Scan(ServerScanResult(
        uuid=request.uuid, server_location=loc, network_configuration=cfg,
        connectivity_status=ServerConnectivityStatusEnum.ERROR,
        connectivity_error_trace=TracebackException.from_exception(error), connectivity_result=None,
        scan_status=ServerScanStatusEnum.ERROR_NO_CONNECTIVITY, scan_result=None), None)


def run_scan(request: ServerScanRequest, lane: Lane, deadline: float,
             suite_versions: Sequence[TlsVersionEnum] = (), per_suite_fallback: bool = True,
             curves_by_elimination: bool = True, probed: ServerTlsProbingResult | None = None) -> Scan:
    """The scan commands of `request`, and the suites of `suite_versions` by elimination, every connection
    in `lane`. Commands of `request` that are also per-suite commands of `suite_versions` are replaced by
    the elimination; for a version it could not conclude, sslyze's per-suite scan runs instead when
    `per_suite_fallback` (else that version's command is left NOT_SCHEDULED: Scan.elimination says why).
    ELLIPTIC_CURVES, if asked for, is found by elimination too (`curves_by_elimination`), sslyze's
    per-curve scan where that cannot conclude (Scan.curves says why).

    `probed`: the connectivity test's result, known already (no test)."""
    loc, cfg = request.server_location, request.network_configuration
    client_auth: Future[ClientAuthRequirementEnum] | None = None
    if probed is not None:
        probing = probed
    else:
        connectivity = lane.submit(connectivity_deferring_client_auth, loc, cfg)
        try:
            probing, deferred = connectivity.result(timeout=max(0.0, deadline - time.monotonic()))
        except (ConnectionToServerFailed, FutureTimeout) as exc:
            return _no_connectivity(request, exc)
        if deferred:
            client_auth = lane.submit(client_auth_tls13, loc, cfg, first=True)
    info = ServerConnectivityInfo(server_location=loc, network_configuration=cfg, tls_probing_result=probing)
    suite_commands = {SUITE_COMMANDS[v] for v in suite_versions}
    commands = [c for c in request.scan_commands if c not in suite_commands]
    curve_chain: Future[CurveElimination] | None = None
    if curves_by_elimination and ScanCommand.ELLIPTIC_CURVES in commands:
        commands.remove(ScanCommand.ELLIPTIC_CURVES)
    else:
        curves_by_elimination = False
    attempts: dict[str, Any] = {}
    queued: dict[ScanCommand, list[Future[Any]]] = {}

    def queue_jobs(command: ScanCommand) -> None:
        implementation = ScanCommandsRepository.get_implementation_cls(command)
        extra = getattr(request.scan_commands_extra_arguments, command.value, None)
        try:
            jobs = implementation.scan_jobs_for_scan_command(info, extra)
        except Exception as exc:
            reason = (ScanCommandErrorReasonEnum.WRONG_USAGE if isinstance(exc, ScanCommandWrongUsageError)
                      else ScanCommandErrorReasonEnum.BUG_IN_SSLYZE)
            attempts[command.value] = _attempt(command, ScanCommandAttemptStatusEnum.ERROR, reason=reason, exc=exc)
            return
        queued[command] = [lane.submit(job.function_to_call, *job.function_arguments) for job in jobs]

    def queue_commands() -> None:
        nonlocal curve_chain
        if curves_by_elimination:
            curve_chain = eliminate_curves(info, lane)
        for command in commands:
            queue_jobs(command)

    elimination = None
    if suite_versions:  # the elimination's chains are the critical path: their first offers go first

        elimination = eliminate(info, suite_versions, lane, deadline, before_wait=queue_commands)
        for version, found in elimination.results.items():
            attempts[SUITE_COMMANDS[version].value] = _attempt(
                SUITE_COMMANDS[version], ScanCommandAttemptStatusEnum.COMPLETED, found)
        for version in elimination.fallback if per_suite_fallback else ():
            queue_jobs(SUITE_COMMANDS[version])
    else:
        queue_commands()
    curves = None
    if curve_chain is not None:
        try:
            curves = curve_chain.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            curves = CurveElimination(None, "no answer before the deadline", 0)
        if curves.result is not None:
            attempts[ScanCommand.ELLIPTIC_CURVES.value] = _attempt(
                ScanCommand.ELLIPTIC_CURVES, ScanCommandAttemptStatusEnum.COMPLETED, curves.result)
        else:
            queue_jobs(ScanCommand.ELLIPTIC_CURVES)
    for command, futures in queued.items():
        results = [_job_result(f, deadline) for f in futures]
        implementation = ScanCommandsRepository.get_implementation_cls(command)
        try:
            found = implementation.result_for_completed_scan_jobs(info, results)
            attempts[command.value] = _attempt(command, ScanCommandAttemptStatusEnum.COMPLETED, found)
        except Exception as exc:
            attempts[command.value] = _attempt(command, ScanCommandAttemptStatusEnum.ERROR,
                                               reason=_error_reason(exc), exc=exc)
    if client_auth is not None:
        try:
            required = client_auth.result(timeout=max(0.0, deadline - time.monotonic()))
        except ConnectionToServerFailed as exc:
            return _no_connectivity(request, exc)
        except FutureTimeout:  # past the deadline: the caller reports the port late
            required = ClientAuthRequirementEnum.OPTIONAL
        if required is not ClientAuthRequirementEnum.OPTIONAL:  # what sslyze would have scanned
            return run_scan(request, lane, deadline, suite_versions, per_suite_fallback, curves_by_elimination,
                            replace(probing, client_auth_requirement=required))
    for cls_field in fields(AllScanCommandsAttempts):
        if cls_field.name not in attempts:
            attempts[cls_field.name] = _attempt(ScanCommand(cls_field.name), ScanCommandAttemptStatusEnum.NOT_SCHEDULED)
    return Scan(ServerScanResult(
        uuid=request.uuid, server_location=loc, network_configuration=cfg,
        connectivity_status=ServerConnectivityStatusEnum.COMPLETED, connectivity_error_trace=None,
        connectivity_result=probing, scan_status=ServerScanStatusEnum.COMPLETED,
        scan_result=AllScanCommandsAttempts(**attempts)), elimination, curves)
