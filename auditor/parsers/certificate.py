"""PEM certificates (a chain, possibly with junk around it) read with cryptography, and private-key
detection that never hands key material back.

PEM blocks are found by a line scan (linear whatever the input); each CERTIFICATE block is loaded
with cryptography's X.509 parser. A certificate block that does not load is an error with its line:
the file claims a certificate it does not contain. Other blocks and text in between are ignored.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import AuthorityInformationAccessOID

from auditor.parsers.base import DEFAULT_MAX_BYTES, ConfigParseError, prepare_text

# cryptography warns about certificates that break RFC 5280 (a serial that is not positive, an empty
# attribute ...) while still reading them: what a target holds is judged here, never printed as Python
# warnings on the operator's terminal.
warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning)

_BEGIN = re.compile(r"^\s*-----BEGIN ([A-Z0-9 #._-]{1,64})-----\s*$")
_END = re.compile(r"^\s*-----END ([A-Z0-9 #._-]{1,64})-----\s*$")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----|PuTTY-User-Key-File-\d")


@dataclass(frozen=True, slots=True)
class CertInfo:
    subject: str  # RFC 4514
    issuer: str
    self_signed: bool  # issuer == subject and the signature verifies with the certificate's own key
    # (for signature algorithms cryptography declines, e.g. SHA-1: the key identifiers agree)
    not_before: datetime  # UTC
    not_after: datetime  # UTC
    key_type: str  # RSA, EC, Ed25519, Ed448, DSA, X25519, X448 or unknown
    key_bits: int | None
    signature_hash: str | None  # sha256, sha1, md5 …; None for Ed25519/Ed448
    sans: list[str]  # DNS names and IP addresses (other kinds as "kind:value")
    is_ca: bool
    line: int = 0  # of the BEGIN line
    serial_number: str = ""  # hex
    fingerprint_sha256: str = ""  # hex, of the DER encoding
    curve: str | None = None  # for EC keys
    has_ocsp_url: bool | None = None  # an OCSP responder in Authority Information Access; None: unreadable


@dataclass(frozen=True, slots=True)
class PrivateKeyInfo:
    """What can be said of a private key without repeating it."""

    line: int
    label: str  # the PEM label, e.g. "RSA PRIVATE KEY"
    encrypted: bool
    key_type: str | None  # None when encrypted or not loadable
    key_bits: int | None


@dataclass(frozen=True, slots=True)
class _Block:
    label: str
    line: int
    pem: str
    headers: bool  # RFC 1421 headers such as Proc-Type: 4,ENCRYPTED


def _pem_blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    label: str | None = None
    start, body, headers = 0, [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if label is None:
            m = _BEGIN.match(line)
            if m:
                label, start, body, headers = m.group(1), number, [line.strip()], False
            continue
        end = _END.match(line)
        if end and end.group(1) == label:
            body.append(line.strip())
            blocks.append(_Block(label, start, "\n".join(body) + "\n", headers))
            label = None
        elif _BEGIN.match(line):  # a block that never ended: start over at the new one
            m = _BEGIN.match(line)
            assert m is not None
            label, start, body, headers = m.group(1), number, [line.strip()], False
        else:
            headers = headers or ":" in line
            body.append(line.strip())
    return blocks


def parse_certificates(text: str, path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[CertInfo]:
    text = prepare_text(text, path, max_bytes)
    return [_describe(b, path) for b in _pem_blocks(text) if b.label in ("CERTIFICATE", "X509 CERTIFICATE")]


def contains_private_key(text: str) -> bool:
    return _PRIVATE_KEY.search(text) is not None


def private_key_blocks(text: str, path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[PrivateKeyInfo]:
    """Type and size of each PEM private key (unencrypted ones only); never the key itself."""
    text = prepare_text(text, path, max_bytes)
    out = []
    for block in _pem_blocks(text):
        if not block.label.endswith("PRIVATE KEY"):
            continue
        encrypted = "ENCRYPTED" in block.label or (block.headers and "ENCRYPTED" in block.pem)
        key_type = key_bits = None
        if not encrypted:
            key_type, key_bits = _private_key_shape(block)
        out.append(PrivateKeyInfo(block.line, block.label, encrypted, key_type, key_bits))
    return out


def _private_key_shape(block: _Block) -> tuple[str | None, int | None]:
    data = block.pem.encode("ascii", "replace")
    try:
        if block.label == "OPENSSH PRIVATE KEY":
            public: object = serialization.load_ssh_private_key(data, None).public_key()
        else:
            key = serialization.load_pem_private_key(data, None, unsafe_skip_rsa_key_validation=True)
            public = key.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None, None
    kind, bits, _ = _key_shape(public)
    return kind, bits


def _key_shape(key: object) -> tuple[str, int | None, str | None]:
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456, None
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, None
    if isinstance(key, x25519.X25519PublicKey):
        return "X25519", 256, None
    if isinstance(key, x448.X448PublicKey):
        return "X448", 448, None
    return "unknown", None, None


def _describe(block: _Block, path: str) -> CertInfo:
    try:
        cert = x509.load_pem_x509_certificate(block.pem.encode("ascii", "replace"))
        subject, issuer = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
        try:
            public_key: object = cert.public_key()
        except (ValueError, UnsupportedAlgorithm):
            public_key = None
        key_type, key_bits, curve = _key_shape(public_key)
        try:
            digest = cert.signature_hash_algorithm
            signature_hash = digest.name if digest is not None else None
        except UnsupportedAlgorithm:
            signature_hash = None
        sans = _sans(cert)
        is_ca = _is_ca(cert)
        self_signed = cert.subject == cert.issuer and _verifies_itself(cert)
        return CertInfo(
            subject=subject,
            issuer=issuer,
            self_signed=self_signed,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            key_type=key_type,
            key_bits=key_bits,
            signature_hash=signature_hash,
            sans=sans,
            is_ca=is_ca,
            line=block.line,
            serial_number=format(cert.serial_number, "x"),
            fingerprint_sha256=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
            curve=curve,
            has_ocsp_url=_has_ocsp_url(cert),
        )
    except ConfigParseError:
        raise
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        message = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
        raise ConfigParseError(path, f"invalid certificate: {message}", block.line) from None


def _has_ocsp_url(cert: x509.Certificate) -> bool | None:
    """Whether the certificate names an OCSP responder (Let's Encrypt's stopped in 2025); None when its
    Authority Information Access cannot be read."""
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return False
    except ValueError:  # a malformed extension
        return None
    return any(d.access_method == AuthorityInformationAccessOID.OCSP for d in aia)


def _sans(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    out: list[str] = []
    for name in ext:
        if isinstance(name, x509.DNSName | x509.IPAddress):
            out.append(str(name.value))
        elif isinstance(name, x509.RFC822Name):
            out.append(f"email:{name.value}")
        elif isinstance(name, x509.UniformResourceIdentifier):
            out.append(f"uri:{name.value}")
        else:
            out.append(f"{type(name).__name__}")
    return out


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _verifies_itself(cert: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, TypeError):
        return False
    except UnsupportedAlgorithm:
        return _key_ids_match(cert)
    except ValueError as exc:
        # cryptography declines some algorithms (SHA-1 signatures): judge by the key identifiers.
        # Any other ValueError ("does not match issuer key type") means another key signed it.
        return "nsupported" in str(exc) and _key_ids_match(cert)
    return True


def _key_ids_match(cert: x509.Certificate) -> bool:
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return True  # nothing says otherwise: issuer == subject
    return aki is None or aki == ski
