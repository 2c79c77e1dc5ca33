"""known_hosts parsing and matching: plain, hashed, wildcard, negated, revoked; append."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from auditor.transports.known_hosts import KnownHosts, fingerprint, host_token

KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
OTHER = "AAAAC3NzaC1lZDI1NTE5AAAAIB4lxYYn5WfGwIuRaL9Hc5OpvsD8ZShaXYGW9MDcrfP4"


def hashed(name: str, salt: bytes = b"0123456789abcdef0123") -> str:
    mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"


def test_host_token() -> None:
    assert host_token("meet.example.org", 22) == "meet.example.org"
    assert host_token("::1", 2222) == "[::1]:2222"


def test_lookup_plain_hashed_wildcard_negated(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(
        "# comment\n"
        f"meet.example.org,192.0.2.1 ssh-ed25519 {KEY}\n"
        f"{hashed('[10.0.0.5]:2222')} ssh-ed25519 {KEY}\n"
        f"*.lab.test,!bad.lab.test ssh-ed25519 {OTHER}\n"
        f"@revoked evil.test ssh-ed25519 {OTHER}\n"
        f"@cert-authority *.corp ssh-ed25519 {KEY}\n"
        "garbage\n"
    )
    kh = KnownHosts(path)
    assert [e.line_no for e in kh.lookup("meet.example.org")] == [2]
    assert [e.line_no for e in kh.lookup("MEET.example.org")] == [2]
    assert [e.line_no for e in kh.lookup("[10.0.0.5]:2222")] == [3]
    assert kh.lookup("10.0.0.5") == []
    assert [e.line_no for e in kh.lookup("a.lab.test")] == [4]
    assert kh.lookup("bad.lab.test") == []
    assert kh.revoked("evil.test", "ssh-ed25519", OTHER) is not None
    assert kh.revoked("evil.test", "ssh-ed25519", KEY) is None
    assert kh.lookup("x.corp") == [] and kh.has_cert_authority("x.corp")
    assert kh.lookup("[meet.example.org]:2222") == []  # a port makes a different name


def test_a_line_whose_key_cannot_be_read_is_skipped_and_named(tmp_path: Path) -> None:
    """OpenSSH skips such a line; it is no evidence that the host's key changed."""
    path = tmp_path / "known_hosts"
    path.write_text(f"meet.example.org ssh-ed25519 !!notbase64\nmeet.example.org ssh-rsa {KEY}\n")
    kh = KnownHosts(path)
    assert [e.line_no for e in kh.lookup("meet.example.org")] == [2]
    assert [e.line_no for e in kh.unreadable("meet.example.org")] == [1]
    assert kh.unreadable("other.example.org") == []


def test_append_creates_file_and_keeps_existing_lines(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "known_hosts"
    kh = KnownHosts(path)
    assert kh.entries == []
    kh.append("[127.0.0.1]:2222", "ssh-ed25519", KEY)
    assert path.read_text() == f"[127.0.0.1]:2222 ssh-ed25519 {KEY}\n"
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_text(path.read_text() + "other ssh-ed25519 " + OTHER)  # no final newline
    KnownHosts(path).append("h2", "ssh-ed25519", KEY)
    lines = path.read_text().splitlines()
    assert lines[-2] == f"other ssh-ed25519 {OTHER}" and lines[-1] == f"h2 ssh-ed25519 {KEY}"
    assert [e.line_no for e in KnownHosts(path).lookup("h2")] == [3]


def test_fingerprint_matches_openssh_format() -> None:
    fp = fingerprint(base64.b64decode(KEY))
    assert fp.startswith("SHA256:") and not fp.endswith("=") and len(fp) == 7 + 43
