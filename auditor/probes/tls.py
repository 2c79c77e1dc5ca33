"""TLS endpoints of the host scanned with sslyze's Python API: versions, suites, certificate, weaknesses."""

from __future__ import annotations

import queue
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID
from nassl.ephemeral_key_info import DhEphemeralKeyInfo, EcDhEphemeralKeyInfo
from sslyze.connection_helpers.opportunistic_tls_helpers import ProtocolWithOpportunisticTlsEnum
from sslyze.mozilla_tls_profile.tls_config_checker import (
    SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER,
    MozillaTlsConfiguration,
    ServerNotCompliantWithTlsConfiguration,
    ServerScanResultIncomplete,
    TlsConfigurationEnum,
    check_server_against_tls_configuration,
)
from sslyze.plugins.certificate_info.implementation import CertificateInfoExtraArgument
from sslyze.plugins.certificate_info.trust_stores.trust_store_repository import TrustStoresRepository
from sslyze.plugins.scan_commands import ScanCommand
from sslyze.scanner.models import (
    ScanCommandsExtraArguments,
    ServerScanRequest,
    ServerScanResult,
    ServerScanStatusEnum,
)
from sslyze.scanner.scan_command_attempt import ScanCommandAttemptStatusEnum
from sslyze.server_connectivity import ServerConnectivityInfo
from sslyze.server_setting import ServerNetworkConfiguration, ServerNetworkLocation

from auditor.probes.model import (
    CertificateSummary,
    CipherInfo,
    ProbeOptions,
    ProbeTarget,
    TlsEndpoint,
    TlsResult,
)
from auditor.probes.net import sanitize
from auditor.probes.tls_curves import CurveElimination
from auditor.probes.tls_pool import POOL
from auditor.probes.tls_quick import LABELS, quick_scan
from auditor.probes.tls_scan import SUITE_COMMANDS, run_scan
from auditor.probes.tls_sniff import sniff_tls
from auditor.probes.tls_suites import Elimination

# sslyze's bundled trust stores hold a root with a negative serial; cryptography warns on every load.
warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive",
                        category=CryptographyDeprecationWarning)

# port -> (service, STARTTLS flavour). The HTTPS port of the target is added as "web HTTPS".
TLS_SERVICES: dict[int, tuple[str, ProtocolWithOpportunisticTlsEnum | None]] = {
    443: ("web HTTPS", None),
    4443: ("videobridge TCP", None),
    5281: ("prosody HTTPS", None),
    5349: ("TURN over TLS", None),
    5222: ("XMPP client STARTTLS", ProtocolWithOpportunisticTlsEnum.XMPP),
    5269: ("XMPP server STARTTLS", ProtocolWithOpportunisticTlsEnum.XMPP_SERVER),
}
_VERSIONS = (
    (ScanCommand.SSL_2_0_CIPHER_SUITES, "SSLv2"),
    (ScanCommand.SSL_3_0_CIPHER_SUITES, "SSLv3"),
    (ScanCommand.TLS_1_0_CIPHER_SUITES, "TLSv1.0"),
    (ScanCommand.TLS_1_1_CIPHER_SUITES, "TLSv1.1"),
    (ScanCommand.TLS_1_2_CIPHER_SUITES, "TLSv1.2"),
    (ScanCommand.TLS_1_3_CIPHER_SUITES, "TLSv1.3"),
)
# Ports that may well not speak TLS (the videobridge's ICE-TCP): one or two ClientHellos settle that before
# sslyze's connectivity test (~11 connections) runs (tls_sniff).
SNIFF_FIRST = frozenset({4443})
# Other TLS ports: certificate and the cheap vulnerability tests; versions and suites are sampled with a
# few handshakes (tls_quick). The web front gets every suite and what Mozilla's profile checker needs.
CORE_COMMANDS = frozenset({
    ScanCommand.CERTIFICATE_INFO, ScanCommand.TLS_COMPRESSION, ScanCommand.HEARTBLEED,
    ScanCommand.SESSION_RENEGOTIATION,
})
FULL_COMMANDS = CORE_COMMANDS | frozenset(SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER)
# sslyze waits one read timeout for a client-certificate request after a TLS 1.3 handshake; prosody's
# s2s port asks for certificates and then waits for the peer, so keep that wait short there: at most
# S2S_READ_TIMEOUT, less when the exposure probe saw the port answer fast (s2s_read_timeout()).
S2S_READ_TIMEOUT = 2.0
S2S_MIN_READ_TIMEOUT = 0.5


def s2s_read_timeout(answered_in: float | None) -> float:
    """Four times what the s2s port took to answer a stream open (connect + one exchange), within
    [S2S_MIN_READ_TIMEOUT, S2S_READ_TIMEOUT]; unknown: the maximum."""
    if answered_in is None:
        return S2S_READ_TIMEOUT
    return min(S2S_READ_TIMEOUT, max(S2S_MIN_READ_TIMEOUT, 4 * answered_in))
_WEAK_MARKERS = ("_RC4_", "_DES_", "_3DES_", "DES40", "_NULL_", "_EXPORT", "_anon_", "_MD5", "_IDEA_")


def classify_cipher(name: str, protocol: str, key_size: int, anonymous: bool,
                    kx_bits: int | None) -> CipherInfo:
    tls13 = protocol == "TLSv1.3"
    fs = tls13 or "_ECDHE_" in name or "_DHE_" in name
    aead = tls13 or any(m in name for m in ("_GCM_", "CHACHA20_POLY1305", "_CCM"))
    weak = anonymous or key_size < 128 or any(m in name for m in _WEAK_MARKERS) or name.endswith("_NULL")
    return CipherInfo(name, protocol, fs, aead, weak, key_size, kx_bits)


def hostname_matches(domain: str, names: Iterable[str]) -> bool:
    host = domain.lower().rstrip(".")
    for raw in names:
        pattern = raw.lower().rstrip(".")
        if pattern == host:
            return True
        if pattern.startswith("*.") and host.count(".") >= 2 and host.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def _validation_text(error: str) -> str:
    text = error.split(" (encountered", 1)[0]
    if "candidates exhausted" in text:
        return "no trusted issuer (unknown CA or incomplete chain)"
    return text.removeprefix("validation failed: ")


def summarize_certificate(deployment: Any, domain: str) -> CertificateSummary:
    chain: list[x509.Certificate] = list(deployment.received_certificate_chain)
    leaf = chain[0]
    try:
        san = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        names = tuple(san.get_values_for_type(x509.DNSName))  # type: ignore[attr-defined]
    except x509.ExtensionNotFound:
        names = tuple(str(a.value) for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    key = leaf.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key_type, key_size = "RSA", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_type, key_size = f"EC {key.curve.name}", key.curve.key_size
    else:
        key_type, key_size = type(key).__name__.replace("PublicKey", ""), 256
    try:
        aia = leaf.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
        has_ocsp = any(d.access_method == AuthorityInformationAccessOID.OCSP for d in aia)  # type: ignore[attr-defined]
    except x509.ExtensionNotFound:
        has_ocsp = False
    results = list(deployment.path_validation_results)
    trusted_by = tuple(sorted(r.trust_store.name for r in results if r.was_validation_successful))
    errors = [_validation_text(r.validation_error) for r in results if r.validation_error]
    sig_oid = leaf.signature_algorithm_oid
    not_after = leaf.not_valid_after_utc
    return CertificateSummary(
        subject=sanitize(leaf.subject.rfc4514_string(), 200),
        issuer=sanitize(leaf.issuer.rfc4514_string(), 200),
        names=tuple(sanitize(n, 200) for n in names[:50]),
        not_after=not_after.isoformat(),
        days_left=int((not_after - datetime.now(UTC)).total_seconds() // 86400),
        key_type=key_type,
        key_size=key_size,
        signature_algorithm=getattr(sig_oid, "_name", None) or sig_oid.dotted_string,
        self_signed=leaf.subject == leaf.issuer,
        hostname_match=hostname_matches(domain, names),
        trusted=bool(trusted_by),
        trusted_by=trusted_by,
        validation_error=None if trusted_by else sanitize(errors[0] if errors else "not validated", 200),
        chain_length=len(chain),
        has_ocsp_url=has_ocsp,
        lifespan_days=(not_after - leaf.not_valid_before_utc).days,
        sha256=leaf.fingerprint(hashes.SHA256()).hex(),
    )


def _attempt(scan: Any, command: ScanCommand, incomplete: list[str]) -> Any:
    attempt = getattr(scan, command.value)
    if attempt.status == ScanCommandAttemptStatusEnum.COMPLETED:
        return attempt.result
    if attempt.status == ScanCommandAttemptStatusEnum.ERROR:
        reason = attempt.error_reason.value if attempt.error_reason else "error"
        incomplete.append(f"{command.value}: {reason}")
    return None


_SET_LITERAL = re.compile(r"\{('[^{}']*'(?:, '[^{}']*')*)\}")


def _sorted_sets(text: str) -> str:
    """sslyze's checker prints Python sets (`{'TLSv1', 'TLSv1.1'}`) in hash order, which changes from run
    to run: sorted, the same server gives the same report (baselines, diffs, the 300-character cut)."""
    return _SET_LITERAL.sub(lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", text)


def _mozilla(result: ServerScanResult, profile: TlsConfigurationEnum) -> tuple[str, ...] | None:
    try:
        check_server_against_tls_configuration(result, MozillaTlsConfiguration.get(profile))
    except ServerNotCompliantWithTlsConfiguration as exc:
        return tuple(sanitize(f"{k}: {_sorted_sets(v)}", 300) for k, v in sorted(exc.issues.items()))
    except (ServerScanResultIncomplete, AssertionError):
        return None
    return ()


Sampled = tuple[tuple[str, ...], tuple[CipherInfo, ...], tuple[str, ...]]


def endpoint_from_result(result: ServerScanResult, port: int, service: str, starttls: str | None,
                         domain: str, seconds: float, sampled: Sampled | None = None) -> TlsEndpoint:
    base = TlsEndpoint(port=port, service=service, starttls=starttls, seconds=round(seconds, 3))
    if result.scan_status == ServerScanStatusEnum.ERROR_NO_CONNECTIVITY or result.scan_result is None:
        trace = result.connectivity_error_trace
        text = sanitize("".join(trace.format_exception_only()), 200) if trace else "no connectivity"
        low = text.lower()
        if "timed out" in low or "timeout" in low:
            status = "timeout"
        elif "rejected" in low or "refused" in low or "could not connect" in low:
            status = "unreachable"
        else:
            status = "no_tls"
        return _replace(base, status=status, error=text)
    scan = result.scan_result
    incomplete: list[str] = []
    protocols: list[str] = []
    ciphers: list[CipherInfo] = []
    for command, label in _VERSIONS:
        got = _attempt(scan, command, incomplete)
        if got is None or not got.accepted_cipher_suites:
            continue
        protocols.append(label)
        for accepted in got.accepted_cipher_suites:
            eph = accepted.ephemeral_key
            kx = eph.size if isinstance(eph, DhEphemeralKeyInfo | EcDhEphemeralKeyInfo) else None
            suite = accepted.cipher_suite
            ciphers.append(classify_cipher(suite.name, label, suite.key_size, suite.is_anonymous, kx))
    suite_scan = "full"
    if sampled is not None:
        protocols, ciphers, unknown = list(sampled[0]), list(sampled[1]), sampled[2]
        incomplete += [f"{v}: could not be tested" for v in unknown]
        suite_scan = "sampled"
    cert = _attempt(scan, ScanCommand.CERTIFICATE_INFO, incomplete)
    summary, stapled = None, None
    if cert is not None and cert.certificate_deployments:
        deployment = cert.certificate_deployments[0]
        summary = summarize_certificate(deployment, domain)
        stapled = deployment.ocsp_response is not None
    compression = _attempt(scan, ScanCommand.TLS_COMPRESSION, incomplete)
    heartbleed = _attempt(scan, ScanCommand.HEARTBLEED, incomplete)
    reneg = _attempt(scan, ScanCommand.SESSION_RENEGOTIATION, incomplete)
    robot = _attempt(scan, ScanCommand.ROBOT, incomplete)
    ccs = _attempt(scan, ScanCommand.OPENSSL_CCS_INJECTION, incomplete)
    scsv = _attempt(scan, ScanCommand.TLS_FALLBACK_SCSV, incomplete)
    ems = _attempt(scan, ScanCommand.TLS_EXTENDED_MASTER_SECRET, incomplete)
    curves = _attempt(scan, ScanCommand.ELLIPTIC_CURVES, incomplete)
    full = robot is not None and curves is not None
    return _replace(
        base,
        protocols=tuple(protocols),
        ciphers=tuple(ciphers),
        certificate=summary,
        ocsp_stapled=stapled,
        compression=compression.supports_compression if compression else None,
        secure_renegotiation=reneg.supports_secure_renegotiation if reneg else None,
        client_renegotiation_dos=reneg.is_vulnerable_to_client_renegotiation_dos if reneg else None,
        heartbleed=heartbleed.is_vulnerable_to_heartbleed if heartbleed else None,
        robot=robot.robot_result.name if robot else None,
        ccs_injection=ccs.is_vulnerable_to_ccs_injection if ccs else None,
        fallback_scsv=scsv.supports_fallback_scsv if scsv else None,
        extended_master_secret=ems.supports_ems_extension if ems else None,
        curves=tuple(c.name for c in (curves.supported_curves or [])) if curves else (),
        mozilla_intermediate=_mozilla(result, TlsConfigurationEnum.MOZILLA_INTERMEDIATE) if full else None,
        mozilla_modern=_mozilla(result, TlsConfigurationEnum.MOZILLA_MODERN) if full else None,
        incomplete=tuple(incomplete),
        suite_scan=suite_scan,
    )


def _replace(ep: TlsEndpoint, **changes: Any) -> TlsEndpoint:
    return replace(ep, **changes)


def scan_request(target: ProbeTarget, address: str, port: int, timeout: float, full: bool,
                 skip: frozenset[ScanCommand] | set[ScanCommand] = frozenset()) -> ServerScanRequest:
    starttls = TLS_SERVICES.get(port, ("", None))[1] if port != target.https_port else None
    xmpp_to = (target.xmpp_domain or target.domain) if starttls else None
    config = ServerNetworkConfiguration(
        tls_server_name_indication=target.domain,
        tls_opportunistic_encryption=starttls,
        xmpp_to_hostname=xmpp_to,
        # sslyze uses it as a socket timeout; sub-second values work (the annotation says int)
        network_timeout=max(1, round(timeout)) if timeout >= 1 else timeout,  # type: ignore[arg-type]
        network_max_retries=1,
    )
    extra = ScanCommandsExtraArguments()
    if target.ca_bundle:
        ca = CertificateInfoExtraArgument(Path(target.ca_bundle))
        extra = ScanCommandsExtraArguments(certificate_info=ca)
    return ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=target.domain, port=port, ip_address=address),
        network_configuration=config,
        scan_commands=set(FULL_COMMANDS if full else CORE_COMMANDS) - set(skip),
        scan_commands_extra_arguments=extra,
    )


LATE = "the TLS scan did not finish in time"
_trust_lock = threading.Lock()


def shared_trust_stores() -> None:
    """Parse sslyze's bundled trust stores once for the process before scans start: sslyze keeps them in
    a singleton that is not thread-safe, so concurrent first certificate validations (5 ports x N
    hosts) each parsed all five stores."""
    with _trust_lock:
        TrustStoresRepository.get_default()


def _method_note(elimination: Elimination | None, curves: CurveElimination | None = None) -> str:
    """suite_scan of a full scan: "full", plus what was left to sslyze's per-suite (per-curve) scan and why."""
    notes = []
    if elimination is not None and elimination.fallback:
        why = "; ".join(f"{LABELS[v]}: {sanitize(r, 120)}" for v, r in sorted(elimination.fallback.items()))
        notes.append(f"per-suite scan where elimination could not conclude: {why}")
    if curves is not None and curves.fallback:
        notes.append(f"per-curve scan: {sanitize(curves.fallback, 120)}")
    return f"full ({'; '.join(notes)})" if notes else "full"


Later = Callable[[], tuple[list[int], float, int]]


def probe_tls(target: ProbeTarget, address: str, ports: list[int], options: ProbeOptions, deadline: float,
              budget: int, s2s_timeout: float = S2S_READ_TIMEOUT, later: Later | None = None) -> TlsResult:
    """Scan `ports` within `budget` connections at once and `deadline`: every port with every accepted
    suite of every version (by elimination, tls_suites), the certificate and the cheap vulnerability
    tests; the HTTPS port also with what Mozilla's profile checker needs. Where the elimination cannot
    conclude, the HTTPS port falls back to sslyze's per-suite scan for that version, another port to a
    few handshakes per version (tls_quick, suite_scan "sampled").

    Every connection is a job of the host's lane in the process-wide TLS pool (tls_pool): `budget` at
    once for this host, MAX_CONNECTIONS for the whole process. One thread per port puts its jobs
    together; the slow s2s port starts first (its connectivity test waits a read timeout).

    `later`, if given, is called once `ports` are under way and returns more ports to scan, the s2s
    read timeout and the lane's connection budget from then on (the caller may wait there for the
    exposure probe: the web front's scan does not wait for it). If it fails, `ports` alone are scanned."""
    if not ports:
        return TlsResult(())
    shared_trust_stores()
    services: dict[int, tuple[str, str | None]] = {}
    lane = POOL.lane(budget)
    out: queue.Queue[tuple[int, TlsEndpoint]] = queue.Queue()
    start = time.monotonic()
    s2s = [s2s_timeout]

    def scan(port: int) -> None:
        service, flavour = services[port]
        timeout = options.io_timeout if port != 5269 else min(options.io_timeout, s2s[0])
        full = port == target.https_port
        try:
            if port in SNIFF_FIRST and not full:
                sniffed = lane.submit(sniff_tls, address, port, target.domain, timeout).result(
                    timeout=max(0.0, deadline - time.monotonic()))
                if sniffed.verdict == "not_tls":
                    out.put((port, TlsEndpoint(port, service, flavour, "no_tls", sniffed.reason,
                                               seconds=round(time.monotonic() - start, 3))))
                    return
            request = scan_request(target, address, port, timeout, full)
            done = run_scan(request, lane, deadline, tuple(SUITE_COMMANDS), per_suite_fallback=full)
            res = done.result
            took = time.monotonic() - start
            if full or done.elimination is None or not done.elimination.fallback or res.connectivity_result is None:
                ep = endpoint_from_result(res, port, service, flavour, target.domain, took)
                if res.scan_result is not None:
                    ep = _replace(ep, suite_scan=_method_note(done.elimination, done.curves))
            else:  # elimination could not conclude on a secondary port: a few handshakes per version instead
                info = ServerConnectivityInfo(res.server_location, res.network_configuration, res.connectivity_result)
                sampled = quick_scan(info, lane, deadline)
                ep = endpoint_from_result(res, port, service, flavour, target.domain, time.monotonic() - start,
                                          sampled)
        except Exception as exc:  # a bug or an odd server costs this port only
            ep = TlsEndpoint(port, service, flavour, "error", sanitize(f"{type(exc).__name__}: {exc}", 200),
                             seconds=round(time.monotonic() - start, 3))
        if time.monotonic() >= deadline:  # jobs cut short by the deadline: not a result to judge
            ep = TlsEndpoint(port, service, flavour, "timeout", LATE, seconds=round(time.monotonic() - start, 3))
        out.put((port, ep))

    def start_scans(batch: list[int]) -> None:
        for port in batch:
            service, proto = TLS_SERVICES.get(port, ("TLS", None))
            if port == target.https_port:
                service, proto = "web HTTPS", None
            services[port] = (service, None if proto is None else proto.name.lower().replace("_", "-"))
        for port in sorted(batch, key=lambda p: p != 5269):
            threading.Thread(target=scan, args=(port,), daemon=True, name=f"jaudit-tls-{port}").start()

    ports = list(dict.fromkeys(ports))
    start_scans(ports)
    if later is not None:
        try:
            more, s2s[0], limit = later()
        except Exception:  # the ports under way are still reported
            more, limit = [], budget
        more = [p for p in dict.fromkeys(more) if p not in services]
        lane.set_limit(limit)
        start_scans(more)
        ports += more
    done: dict[int, TlsEndpoint] = {}
    while len(done) < len(ports):
        try:
            port, ep = out.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        done[port] = ep
    return TlsResult(tuple(done.get(p) or TlsEndpoint(p, *services[p], "timeout", LATE) for p in ports))
