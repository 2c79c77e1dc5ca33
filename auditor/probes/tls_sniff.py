"""Does a port speak TLS at all? One or two ClientHellos instead of sslyze's connectivity test.

sslyze's connectivity test learns that a port does not speak TLS only after trying every TLS version
with several cipher lists (about 11 connections, each waiting for its read timeout when the service
stays silent). A port that may well not be TLS (the videobridge's TCP port 4443: ICE-TCP) is first sent
a ClientHello made by Python's ssl module (OpenSSL: TLS 1.0 to 1.3, every suite) and the first bytes of
the answer are looked at, never trusted further:

- a TLS record (handshake or alert) or an SSLv2 answer: the port speaks TLS; sslyze's scan goes on;
- other bytes: not TLS, settled by that one connection;
- the connection closed, reset or silent: a second, smaller ClientHello (TLS 1.0 to 1.2, no TLS 1.3
  extensions; some old servers drop a large or unfamiliar hello); the same again: not TLS.

A port that cannot be connected to is left to sslyze's test, which reports it (unreachable, timeout).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from dataclasses import dataclass
from typing import Literal

from auditor.probes.net import sanitize

Verdict = Literal["tls", "not_tls", "unknown"]
_HELLOS = (("TLS 1.0-1.3", ssl.TLSVersion.TLSv1_3), ("TLS 1.0-1.2", ssl.TLSVersion.TLSv1_2))


@dataclass(frozen=True, slots=True)
class Sniff:
    verdict: Verdict  # unknown: no TCP connection (sslyze's connectivity test reports why)
    reason: str = ""
    connections: int = 0


def client_hello(server_name: str, highest: ssl.TLSVersion) -> bytes:
    """The bytes of an OpenSSL ClientHello (TLS 1.0 up to `highest`, every suite, SNI `server_name`)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    ctx.maximum_version = highest
    try:
        ctx.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    except ssl.SSLError:  # a library without some of them: its full list
        ctx.set_ciphers("ALL")
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=server_name or None)
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def looks_like_tls(data: bytes) -> bool:
    """A TLS record header (handshake 22 or alert 21, version 3.x) or an SSLv2 server hello / error."""
    if len(data) >= 3 and data[0] in (21, 22) and data[1] == 3:
        return True
    return len(data) >= 3 and data[0] & 0x80 != 0 and data[2] in (4, 0)  # SSLv2: 2-byte length, then type


def _answer(address: str, port: int, hello: bytes, timeout: float) -> bytes | str | None:
    """The first bytes the port sends back after `hello`; a text when it closed, reset or stayed silent;
    None when no connection could be made."""
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except OSError:
        return None
    with sock:
        try:
            sock.sendall(hello)
            data = sock.recv(16)
        except TimeoutError:
            return f"no answer within {timeout:g} s"
        except ConnectionResetError:
            return "connection reset"
        except OSError as exc:
            return sanitize(exc.strerror or type(exc).__name__, 80)
    return data or "connection closed"


def sniff_tls(address: str, port: int, server_name: str, timeout: float) -> Sniff:
    """Whether `port` answers a ClientHello as a TLS server (see the module)."""
    outcomes: list[str] = []
    for label, highest in _HELLOS:
        got = _answer(address, port, client_hello(server_name, highest), timeout)
        if got is None:
            return Sniff("unknown", "no connection", len(outcomes))
        if isinstance(got, bytes):
            if looks_like_tls(got):
                return Sniff("tls", connections=len(outcomes) + 1)
            return Sniff("not_tls", f"not TLS: answered a TLS ClientHello ({label}) with non-TLS data "
                                    f"(first bytes {got[:8].hex()})", len(outcomes) + 1)
        outcomes.append(f"{label}: {got}")
    return Sniff("not_tls", "not TLS: no TLS answer to two ClientHellos (" + "; ".join(outcomes) + ")",
                 len(outcomes))
