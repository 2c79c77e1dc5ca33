"""Few-handshake TLS probing: which versions a port accepts and whether it accepts weak suites.

sslyze tests every cipher suite of every version with its own handshake (hundreds per port). Here one
handshake per version (every suite offered) tells which versions are accepted, and two more per
accepted version tell whether a weak suite or a suite without forward secrecy is accepted (the server
then negotiates one of them, which is named). The handshakes are tls_suites.handshake, run in the
host's lane of the process-wide TLS pool.
"""

from __future__ import annotations

import time

from nassl.ephemeral_key_info import DhEphemeralKeyInfo, EcDhEphemeralKeyInfo
from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuitesRepository
from sslyze.server_connectivity import ServerConnectivityInfo, TlsVersionEnum

from auditor.probes.model import CipherInfo
from auditor.probes.tls_pool import Lane
from auditor.probes.tls_suites import Outcome, handshake

LABELS = {
    TlsVersionEnum.SSL_2_0: "SSLv2", TlsVersionEnum.SSL_3_0: "SSLv3", TlsVersionEnum.TLS_1_0: "TLSv1.0",
    TlsVersionEnum.TLS_1_1: "TLSv1.1", TlsVersionEnum.TLS_1_2: "TLSv1.2", TlsVersionEnum.TLS_1_3: "TLSv1.3",
}
LEGACY = (TlsVersionEnum.SSL_2_0, TlsVersionEnum.SSL_3_0, TlsVersionEnum.TLS_1_0, TlsVersionEnum.TLS_1_1)
ALL_SUITES = "ALL:COMPLEMENTOFALL"
WEAK_SUITES = "RC4:3DES:DES:NULL:eNULL:aNULL:EXPORT:LOW:MD5:IDEA:SEED"
NO_FS_SUITES = "kRSA:kECDH:kDH"


def version_offer(version: TlsVersionEnum) -> tuple[str, bool]:
    """(suites, legacy client) of the one handshake that tells whether `version` is accepted."""
    if version == TlsVersionEnum.TLS_1_3:
        return "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256", False
    return ALL_SUITES, version != TlsVersionEnum.TLS_1_2


def cipher_info(version: TlsVersionEnum, hs: Outcome) -> CipherInfo | None:
    from auditor.probes.tls import classify_cipher

    if not hs.suite:
        return None
    try:
        suite = CipherSuitesRepository.get_cipher_suite_with_openssl_name(version, hs.suite)
    except ValueError:
        return None
    eph = hs.ephemeral_key
    bits = eph.size if isinstance(eph, DhEphemeralKeyInfo | EcDhEphemeralKeyInfo) else None
    return classify_cipher(suite.name, LABELS[version], suite.key_size, suite.is_anonymous, bits)


def quick_scan(info: ServerConnectivityInfo, lane: Lane, deadline: float) -> tuple[
        tuple[str, ...], tuple[CipherInfo, ...], tuple[str, ...]]:
    """(accepted versions, sampled suites, versions that could not be told), the handshakes in `lane`."""
    order = (*LEGACY, TlsVersionEnum.TLS_1_2, TlsVersionEnum.TLS_1_3)

    def run(jobs: list[tuple[TlsVersionEnum, str, bool]]) -> list[Outcome]:
        futures = [lane.submit(handshake, info, version, legacy, suites) for version, suites, legacy in jobs]
        out = []
        for future in futures:
            try:
                out.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
            except Exception as exc:  # a job the deadline cut short
                out.append(Outcome("unknown", message=type(exc).__name__))
        return out

    found = run([(v, *version_offer(v)) for v in order])
    accepted = [v for v, hs in zip(order, found, strict=True) if hs.kind == "accepted"]
    unknown = [LABELS[v] for v, hs in zip(order, found, strict=True) if hs.kind == "unknown"]
    extra: list[tuple[TlsVersionEnum, str, bool]] = []
    for version in accepted:
        if version not in (TlsVersionEnum.TLS_1_3, TlsVersionEnum.SSL_2_0):
            extra.append((version, WEAK_SUITES, True))
            extra.append((version, NO_FS_SUITES, version != TlsVersionEnum.TLS_1_2))
    samples = run(extra)
    ciphers: dict[str, CipherInfo] = {}
    pairs = [(v, hs) for v, hs in zip(order, found, strict=True) if v in accepted]
    pairs += [(job[0], hs) for job, hs in zip(extra, samples, strict=True)]
    for version, hs in pairs:
        info_ = cipher_info(version, hs) if hs.kind == "accepted" else None
        if info_ is not None:
            ciphers.setdefault(f"{info_.protocol}/{info_.name}", info_)
    return tuple(LABELS[v] for v in accepted), tuple(ciphers.values()), tuple(unknown)
