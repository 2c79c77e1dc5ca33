from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from auditor.parsers.base import ConfigParseError
from auditor.parsers.certificate import (
    PrivateKeyInfo,
    contains_private_key,
    parse_certificates,
    private_key_blocks,
)
from tests.parsers.helpers import fixture, within

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
RSA_CA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_1024 = rsa.generate_private_key(public_exponent=65537, key_size=1024)
EC_LEAF = ec.generate_private_key(ec.SECP384R1())
ED = ed25519.Ed25519PrivateKey.generate()
SHA256 = hashes.SHA256()


def _cert(
    key: object,
    subject: str,
    *,
    issuer: str | None = None,
    signer: object | None = None,
    ca: bool | None = None,
    digest: hashes.HashAlgorithm | None = SHA256,
    sans: tuple[str, ...] = (),
    days: int = 90,
) -> str:
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer or subject)]))
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(0x1F2E)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=days))
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
    cert = builder.sign(signer or key, digest)  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_chain_with_junk() -> None:
    leaf = _cert(
        EC_LEAF, "meet.example.org", issuer="Lab CA", signer=RSA_CA, ca=False, sans=("meet.example.org", "localhost")
    )
    ca = _cert(RSA_CA, "Lab CA", ca=True, days=3650)
    text = "subject=CN = meet.example.org\n" + leaf + "\n# chain follows\n" + ca
    certs = parse_certificates(text, "/etc/jitsi/meet/meet.example.org.crt")
    assert [(c.subject, c.issuer, c.self_signed, c.is_ca, c.line) for c in certs] == [
        ("CN=meet.example.org", "CN=Lab CA", False, False, 2),
        ("CN=Lab CA", "CN=Lab CA", True, True, 2 + leaf.count("\n") + 2),
    ]
    first, second = certs
    assert (first.key_type, first.key_bits, first.curve) == ("EC", 384, "secp384r1")
    assert (second.key_type, second.key_bits, second.curve) == ("RSA", 2048, None)
    assert first.signature_hash == "sha256"
    assert first.sans == ["meet.example.org", "localhost"] and second.sans == []
    assert first.not_before == NOW and first.not_after == NOW + dt.timedelta(days=90)
    assert first.serial_number == "1f2e"
    assert len(first.fingerprint_sha256) == 64
    assert first.has_ocsp_url is False and second.has_ocsp_url is False


def test_ocsp_responder_in_authority_information_access() -> None:
    def with_aia(*methods: x509.ObjectIdentifier) -> str:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "meet.example.org")]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lab CA")]))
            .public_key(EC_LEAF.public_key())
            .serial_number(7)
            .not_valid_before(NOW)
            .not_valid_after(NOW + dt.timedelta(days=90))
            .add_extension(x509.AuthorityInformationAccess(
                [x509.AccessDescription(m, x509.UniformResourceIdentifier("http://ca.example.net/x")) for m in methods]
            ), critical=False)
        )
        return builder.sign(RSA_CA, SHA256).public_bytes(serialization.Encoding.PEM).decode()

    ocsp, issuers = AuthorityInformationAccessOID.OCSP, AuthorityInformationAccessOID.CA_ISSUERS
    assert parse_certificates(with_aia(issuers, ocsp), "a.crt")[0].has_ocsp_url is True
    assert parse_certificates(with_aia(issuers), "b.crt")[0].has_ocsp_url is False  # Let's Encrypt since 2025


def test_weak_self_signed_and_eddsa() -> None:
    weak = parse_certificates(_cert(RSA_1024, "weak.example"), "weak.crt")[0]
    assert (weak.key_type, weak.key_bits, weak.signature_hash, weak.self_signed, weak.is_ca) == (
        "RSA",
        1024,
        "sha256",
        True,
        False,
    )
    # cryptography no longer signs with SHA-1: this one was made once with
    # `openssl req -x509 -sha1 -newkey rsa:1024` (which also marks the leaf CA:TRUE)
    sha1 = parse_certificates(fixture("certs/weak-sha1-rsa1024.crt"), "sha1.crt")[0]
    assert (sha1.subject, sha1.key_bits, sha1.signature_hash, sha1.self_signed, sha1.is_ca) == (
        "CN=weak.example",
        1024,
        "sha1",
        True,
        True,
    )
    ed = parse_certificates(_cert(ED, "ed.example", digest=None), "ed.crt")[0]
    assert (ed.key_type, ed.key_bits, ed.signature_hash, ed.self_signed) == ("Ed25519", 256, None, True)
    # same name as issuer but signed by another key: self-issued, not self-signed
    forged = parse_certificates(_cert(EC_LEAF, "Lab CA", signer=RSA_CA), "f.crt")[0]
    assert forged.subject == forged.issuer and forged.self_signed is False


def test_no_certificates_and_broken_ones() -> None:
    assert parse_certificates("just text\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "x") == []
    with pytest.raises(ConfigParseError, match="invalid certificate") as err:
        parse_certificates("junk\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "bad.crt")
    assert err.value.line == 2
    truncated = _cert(RSA_CA, "t")[:-80] + "\n-----END CERTIFICATE-----\n"
    with pytest.raises(ConfigParseError):
        parse_certificates(truncated, "t.crt")
    with pytest.raises(ConfigParseError, match="UTF-8"):
        parse_certificates("caf\udce9", "u.crt")
    with within(2.0):
        assert parse_certificates("-----BEGIN CERTIFICATE-----\n" * 70_000, "many.crt") == []


def test_private_keys_are_detected_never_returned() -> None:
    rsa_pem = RSA_CA.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    ec_enc = EC_LEAF.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    ).decode()
    ssh = ED.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    combined = _cert(RSA_CA, "c") + rsa_pem + ec_enc + ssh
    assert contains_private_key(rsa_pem) and contains_private_key(ssh) and contains_private_key(combined)
    assert contains_private_key("PuTTY-User-Key-File-3: ssh-ed25519\n")
    assert not contains_private_key(_cert(RSA_CA, "c"))
    infos = private_key_blocks(combined, "k.pem")
    assert [(i.label, i.encrypted, i.key_type, i.key_bits) for i in infos] == [
        ("RSA PRIVATE KEY", False, "RSA", 2048),
        ("ENCRYPTED PRIVATE KEY", True, None, None),
        ("OPENSSH PRIVATE KEY", False, "Ed25519", 256),
    ]
    body = rsa_pem.splitlines()[1]
    for info in infos:
        assert isinstance(info, PrivateKeyInfo)
        assert body not in repr(info)
    assert all(not hasattr(c, "private_key") for c in parse_certificates(combined, "k.pem"))


def test_a_certificate_breaking_rfc_5280_is_read_without_python_warnings(tmp_path: Path) -> None:
    """A serial that is not positive (old CA bundles hold some): cryptography reads it with a deprecation
    warning, which the audit printed on the operator's terminal with the parser's source lines."""
    import base64
    import subprocess
    import sys

    pem = _cert(EC_LEAF, "meet.example.org", sans=("meet.example.org",))
    der = base64.b64decode("".join(pem.splitlines()[1:-1]))
    negative = der.replace(b"\x02\x02\x1f\x2e", b"\x02\x02\x9f\x2e", 1)  # serial 0x1F2E -> a negative one
    assert negative != der
    body = base64.encodebytes(negative).decode()
    path = tmp_path / "etc" / "jitsi" / "meet" / "meet.example.org.crt"
    path.parent.mkdir(parents=True)
    path.write_text(f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n")
    [info] = parse_certificates(path.read_text(), str(path))
    assert int(info.serial_number, 16) != 0x1F2E
    script = Path(sys.executable).with_name("jitsi-audit")
    run = subprocess.run([str(script), "--root", str(tmp_path), "-f", "json"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode in (0, 1), run.stderr
    assert "Warning" not in run.stderr and "cryptography" not in run.stderr, run.stderr
