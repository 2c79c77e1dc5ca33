"""TLS for the probe tests' loopback servers (tests/loopback.py): a server context with a fresh self-signed
certificate, and a handler that handshakes and then waits."""

from __future__ import annotations

import datetime
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.loopback import Handler

NAME = "loopback.test"


def tls_context(root: Path, verify: ssl.VerifyMode = ssl.CERT_NONE) -> ssl.SSLContext:
    """A TLS server context with a fresh self-signed EC certificate for NAME; `verify`: client certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
            .sign(key, hashes.SHA256()))
    (root / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(Path(root / "cert.pem"), Path(root / "key.pem"))
    if verify is not ssl.CERT_NONE:
        ctx.verify_mode = verify
        ctx.load_verify_locations(root / "cert.pem")
    return ctx


def tls_handler(ctx: ssl.SSLContext) -> Handler:
    """Handshake, then read until the client closes (up to 5 s), answering nothing: like a server waiting
    for a request it does not recognise."""

    def handle(conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls_conn:
                while tls_conn.recv(4096):
                    pass
        except (ssl.SSLError, OSError):
            pass

    return handle


