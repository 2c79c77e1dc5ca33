"""Few-handshake TLS probing with sslyze's connection helpers.

sslyze tests every cipher suite of every version with its own handshake (hundreds per port); on a
STARTTLS port over a slow link that takes half a minute. Here one handshake per version (every suite
offered) tells which versions are accepted, and two more per accepted version tell whether a weak suite
or a suite without forward secrecy is accepted (the server then negotiates one of them, which is named).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from nassl.ephemeral_key_info import DhEphemeralKeyInfo, EcDhEphemeralKeyInfo
from nassl.ssl_client import ClientCertificateRequested, SslClient
from sslyze.errors import ServerRejectedTlsHandshake, ServerTlsConfigurationNotSupported, TlsHandshakeTimedOut
from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuitesRepository
from sslyze.server_connectivity import (
    ClientAuthRequirementEnum,
    ServerConnectivityInfo,
    ServerTlsProbingResult,
    TlsVersionEnum,
)
from sslyze.server_setting import ServerNetworkConfiguration, ServerNetworkLocation

from auditor.probes.model import CipherInfo
from auditor.probes.net import parallel_map

LABELS = {
    TlsVersionEnum.SSL_2_0: "SSLv2", TlsVersionEnum.SSL_3_0: "SSLv3", TlsVersionEnum.TLS_1_0: "TLSv1.0",
    TlsVersionEnum.TLS_1_1: "TLSv1.1", TlsVersionEnum.TLS_1_2: "TLSv1.2", TlsVersionEnum.TLS_1_3: "TLSv1.3",
}
LEGACY = (TlsVersionEnum.SSL_2_0, TlsVersionEnum.SSL_3_0, TlsVersionEnum.TLS_1_0, TlsVersionEnum.TLS_1_1)
ALL_SUITES = "ALL:COMPLEMENTOFALL"
WEAK_SUITES = "RC4:3DES:DES:NULL:eNULL:aNULL:EXPORT:LOW:MD5:IDEA:SEED"
NO_FS_SUITES = "kRSA:kECDH:kDH"


@dataclass(frozen=True, slots=True)
class Handshake:
    accepted: bool | None  # None: could not tell (a network error, not a rejection)
    suite: str | None = None  # OpenSSL name of the negotiated suite
    kx_bits: int | None = None


class QuickProber:
    def __init__(self, location: ServerNetworkLocation, config: ServerNetworkConfiguration) -> None:
        # Connections are made with an explicit version, so the probing result only has to say
        # "ignore optional client-certificate requests".
        self.info = ServerConnectivityInfo(location, config, ServerTlsProbingResult(
            TlsVersionEnum.TLS_1_2, "", ClientAuthRequirementEnum.OPTIONAL, True))

    def handshake(self, version: TlsVersionEnum, suites: str, legacy: bool) -> Handshake:
        try:
            conn = self.info.get_preconfigured_tls_connection(override_tls_version=version,
                                                              should_use_legacy_openssl=legacy)
            if version == TlsVersionEnum.TLS_1_3 and isinstance(conn.ssl_client, SslClient):
                conn.ssl_client.set_ciphersuites(suites)
            else:
                conn.ssl_client.set_cipher_list(suites)
        except Exception:
            return Handshake(None)
        try:
            conn.connect()
            eph = conn.ssl_client.get_ephemeral_key()
            bits = eph.size if isinstance(eph, DhEphemeralKeyInfo | EcDhEphemeralKeyInfo) else None
            return Handshake(True, conn.ssl_client.get_current_cipher_name(), bits)
        except (ServerTlsConfigurationNotSupported, ClientCertificateRequested):
            return Handshake(True)  # sslyze counts these as accepted too
        except (ServerRejectedTlsHandshake, TlsHandshakeTimedOut):
            return Handshake(False)
        except Exception:
            return Handshake(None)
        finally:
            conn.close()

    def version(self, version: TlsVersionEnum) -> Handshake:
        if version == TlsVersionEnum.TLS_1_3:
            return self.handshake(version, "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:"
                                           "TLS_CHACHA20_POLY1305_SHA256", legacy=False)
        if version == TlsVersionEnum.TLS_1_2:
            modern = self.handshake(version, ALL_SUITES, legacy=False)
            return modern if modern.accepted else self.handshake(version, ALL_SUITES, legacy=True)
        return self.handshake(version, ALL_SUITES, legacy=True)


def legacy_accepted(location: ServerNetworkLocation, config: ServerNetworkConfiguration) -> dict[TlsVersionEnum,
                                                                                                    bool | None]:
    prober = QuickProber(location, config)
    return {v: prober.version(v).accepted for v in LEGACY}


def cipher_info(version: TlsVersionEnum, hs: Handshake) -> CipherInfo | None:
    from auditor.probes.tls import classify_cipher

    if not hs.suite:
        return None
    try:
        suite = CipherSuitesRepository.get_cipher_suite_with_openssl_name(version, hs.suite)
    except ValueError:
        return None
    return classify_cipher(suite.name, LABELS[version], suite.key_size, suite.is_anonymous, hs.kx_bits)


def quick_scan(location: ServerNetworkLocation, config: ServerNetworkConfiguration, connections: int = 3) -> tuple[
        tuple[str, ...], tuple[CipherInfo, ...], tuple[str, ...]]:
    """(accepted versions, sampled suites, versions that could not be told), `connections` handshakes at once."""
    prober = QuickProber(location, config)
    order = (*LEGACY, TlsVersionEnum.TLS_1_2, TlsVersionEnum.TLS_1_3)
    deadline = time.monotonic() + 300  # each handshake has its own network timeout
    found = parallel_map(prober.version, order, connections, deadline)
    accepted = [v for v, hs in zip(order, found, strict=True) if hs is not None and hs.accepted]
    unknown = [LABELS[v] for v, hs in zip(order, found, strict=True) if hs is None or hs.accepted is None]
    extra: list[tuple[TlsVersionEnum, str, bool]] = []
    for version in accepted:
        if version not in (TlsVersionEnum.TLS_1_3, TlsVersionEnum.SSL_2_0):
            extra.append((version, WEAK_SUITES, True))
            extra.append((version, NO_FS_SUITES, version != TlsVersionEnum.TLS_1_2))
    samples = parallel_map(lambda job: prober.handshake(*job), extra, connections, deadline)
    ciphers: dict[str, CipherInfo] = {}
    pairs = [(v, hs) for v, hs in zip(order, found, strict=True) if v in accepted]
    pairs += [(job[0], hs) for job, hs in zip(extra, samples, strict=True)]
    for version, hs in pairs:
        info = cipher_info(version, hs) if hs is not None and hs.accepted else None
        if info is not None:
            ciphers.setdefault(f"{info.protocol}/{info.name}", info)
    return tuple(LABELS[v] for v in accepted), tuple(ciphers.values()), tuple(unknown)
