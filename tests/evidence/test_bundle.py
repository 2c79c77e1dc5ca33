"""Evidence bundles: written, verified, and every kind of tampering detected and named."""

from __future__ import annotations

import base64
import io
import json
import os
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auditor.criteria import load_profile
from auditor.evidence.bundle import (
    MANIFEST,
    SIGNATURE,
    EvidenceError,
    build_members,
    load_private_key,
    load_public_key,
    member_json,
    signature_bytes,
    write_bundle,
)
from auditor.evidence.verify import unsafe_name, verify_bundle
from tests.core.test_user_files import no_hang
from tests.report.fixtures import NOW, make_results


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _bundle(tmp_path: Path, key: Ed25519PrivateKey | None, name: str = "bundle.tar.gz") -> Path:
    results = make_results()
    (tmp_path / "waivers.yaml").write_text("waivers: []\n", encoding="utf-8")
    members = build_members(
        results,
        '{"schema_version": "1.0", "targets": []}\n',
        load_profile("default"),
        created=NOW,
        probes={1: {"tls": {"443": {"protocols": ["TLSv1.2"]}}}},
        inputs={"waivers": tmp_path / "waivers.yaml"},
    )
    path = tmp_path / name
    write_bundle(path, members, created=NOW, sign_key=key)
    return path


def _members(path: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    out = []
    with tarfile.open(path, "r:gz") as tar:
        for info in tar:
            f = tar.extractfile(info)
            out.append((info, f.read() if f else b""))
    return out


def _repack(src: Path, dst: Path, entries: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(dst, "w:gz") as tar:
        for info, data in entries:
            info = tarfile.TarInfo(info.name) if info.isreg() else info
            if info.isreg():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return dst


def test_contents(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = _bundle(tmp_path, key)
    names = [i.name for i, _ in _members(path)]
    assert names[:2] == [MANIFEST, SIGNATURE]
    assert "report.json" in names and "run.json" in names and "versions.json" in names
    assert "snapshots/01-config-repo.json" in names and "snapshots/02-meet.example.org.json" in names
    assert "probes/02-meet.example.org.json" in names and "inputs/waivers.yaml" in names
    data = dict((i.name, d) for i, d in _members(path))
    snap = json.loads(data["snapshots/01-config-repo.json"])
    assert snap["format"] == "jitsi-audit-snapshot/1" and snap["items"]
    versions = json.loads(data["versions.json"])
    assert versions["tool"]["name"] == "jitsi-audit" and versions["catalogue"]["version"] == 1
    assert versions["libraries"]["cryptography"]
    run = json.loads(data["run.json"])
    assert run["created_at"] == NOW.isoformat() and run["targets"][2]["complete"] is False
    manifest = json.loads(data[MANIFEST])
    assert {m["name"] for m in manifest["members"]} == set(names) - {MANIFEST, SIGNATURE}
    # the redacted snapshot only: no secret value went in (the fixture content is already redacted)
    assert b"\xc2\xabredacted\xc2\xbb" in base64.b64decode(
        next(i for i in snap["items"] if i["key"] == "/etc/jitsi/jicofo/config")["content_b64"]
    )


def test_verify_passes(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = _bundle(tmp_path, key)
    res = verify_bundle(path, key.public_key())
    assert res.ok, res.problems
    assert res.signature == "valid" and res.members == 7
    unsigned = _bundle(tmp_path, None, "unsigned.tar.gz")
    res = verify_bundle(unsigned)
    assert res.ok and res.signature == "absent"
    assert verify_bundle(path).signature.startswith("valid (embedded key")


def test_one_byte_change_to_any_member(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = _bundle(tmp_path, key)
    entries = _members(path)
    for index, (info, data) in enumerate(entries):
        changed = bytearray(data)
        changed[len(changed) // 2] ^= 0x01
        tampered = list(entries)
        tampered[index] = (info, bytes(changed))
        out = _repack(path, tmp_path / f"t{index}.tar.gz", tampered)
        res = verify_bundle(out, key.public_key())
        assert not res.ok, info.name
        joined = "\n".join(res.problems)
        if info.name == SIGNATURE:
            assert "signature" in joined
        elif info.name == MANIFEST:
            assert "manifest" in joined or "signature does not match" in joined
        else:
            assert f'member "{info.name}" changed' in joined


def test_one_byte_change_to_the_archive_itself(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = _bundle(tmp_path, key)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))
    assert not verify_bundle(path, key.public_key()).ok


def test_signature_swap_and_wrong_key(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = _bundle(tmp_path, key)
    entries = _members(path)
    manifest = dict((i.name, d) for i, d in entries)[MANIFEST]
    other = Ed25519PrivateKey.generate()
    # a valid signature of this very manifest, but by another key
    swapped = [(i, signature_bytes(manifest, other) if i.name == SIGNATURE else d) for i, d in entries]
    out = _repack(path, tmp_path / "swapped.tar.gz", swapped)
    res = verify_bundle(out, key.public_key())
    assert not res.ok and any("signed by another key" in p for p in res.problems)
    # a signature by the right key, but of another manifest
    sig = json.loads(dict((i.name, d) for i, d in entries)[SIGNATURE])
    sig["signature"] = base64.b64encode(key.sign(b"another manifest")).decode()
    replayed = [(i, member_json(sig) if i.name == SIGNATURE else d) for i, d in entries]
    res = verify_bundle(_repack(path, tmp_path / "replayed.tar.gz", replayed), key.public_key())
    assert not res.ok and any("signature does not match" in p for p in res.problems)
    # the right bundle checked against the wrong public key
    res = verify_bundle(path, other.public_key())
    assert not res.ok and res.signature == "invalid"
    # no signature at all while a key is expected
    unsigned = [(i, d) for i, d in entries if i.name != SIGNATURE]
    res = verify_bundle(_repack(path, tmp_path / "nosig.tar.gz", unsigned), key.public_key())
    assert not res.ok and any("not signed" in p for p in res.problems)


def test_member_added_or_removed(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = _bundle(tmp_path, key)
    entries = _members(path)
    extra = [*entries, (tarfile.TarInfo("notes.txt"), b"added later\n")]
    res = verify_bundle(_repack(path, tmp_path / "added.tar.gz", extra), key.public_key())
    assert not res.ok and res.problems == ['member "notes.txt" is not in the manifest (added)']
    removed = [(i, d) for i, d in entries if i.name != "report.json"]
    res = verify_bundle(_repack(path, tmp_path / "removed.tar.gz", removed), key.public_key())
    assert res.problems == ['member "report.json" is missing (removed from the bundle)']
    dup = [*entries, entries[3]]
    res = verify_bundle(_repack(path, tmp_path / "dup.tar.gz", dup), key.public_key())
    assert any("more than once" in p for p in res.problems)


@pytest.mark.parametrize(
    "name", ["../evil.txt", "/etc/evil.txt", "snapshots/../../evil.txt", "a\\b.txt", "./x", "a//b"]
)
def test_unsafe_member_names_are_rejected_without_extracting(tmp_path: Path, key: Ed25519PrivateKey, name: str) -> None:
    path = _bundle(tmp_path, key)
    entries = [*_members(path), (tarfile.TarInfo(name), b"owned\n")]
    out = _repack(path, tmp_path / "unsafe.tar.gz", entries)
    work = tmp_path / "cwd"
    work.mkdir()
    before = set(os.listdir(tmp_path))
    cwd = os.getcwd()
    os.chdir(work)
    try:
        res = verify_bundle(out, key.public_key())
    finally:
        os.chdir(cwd)
    assert not res.ok and any("unsafe member" in p for p in res.problems)
    assert not list(work.iterdir()) and set(os.listdir(tmp_path)) == before
    assert not Path("/etc/evil.txt").exists()
    assert unsafe_name(name)


def test_links_and_devices_are_rejected_directories_ignored(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = _bundle(tmp_path, key)
    link = tarfile.TarInfo("report2.json")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    hard = tarfile.TarInfo("hard.json")
    hard.type = tarfile.LNKTYPE
    hard.linkname = "report.json"
    fifo = tarfile.TarInfo("fifo")
    fifo.type = tarfile.FIFOTYPE
    folder = tarfile.TarInfo("snapshots")
    folder.type = tarfile.DIRTYPE
    extra = [(link, b""), (hard, b""), (fifo, b""), (folder, b"")]
    res = verify_bundle(_repack(path, tmp_path / "l.tar.gz", [*_members(path), *extra]))
    assert not res.ok and sum("not a regular file" in p for p in res.problems) == 3
    # a bundle re-packed with its folder entries (tar czf ... snapshots inputs) still verifies
    res = verify_bundle(_repack(path, tmp_path / "d.tar.gz", [*_members(path), (folder, b"")]), key.public_key())
    assert res.ok, res.problems


def test_not_a_bundle(tmp_path: Path) -> None:
    """Not a tar archive, or a truncated one: one problem, on one line (tarfile's own message for an
    unknown format spans five)."""
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"hello")
    res = verify_bundle(junk)
    assert not res.ok and res.problems == ["not a readable .tar.gz bundle: not a tar archive, compressed or not"]
    whole = _bundle(tmp_path, None).read_bytes()
    junk.write_bytes(whole[: len(whole) // 2])
    res = verify_bundle(junk)
    assert not res.ok and res.problems[0].startswith("not a readable .tar.gz bundle: ")
    assert all("\n" not in p for p in res.problems)
    with pytest.raises(FileNotFoundError):
        verify_bundle(tmp_path / "missing.tar.gz")


def test_key_formats(tmp_path: Path, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch) -> None:
    pem = tmp_path / "k.pem"
    pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ssh = tmp_path / "k_ed25519"
    ssh.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    )
    enc = tmp_path / "k.enc.pem"
    enc.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret-passphrase"),
        )
    )
    pub_pem = tmp_path / "k.pub.pem"
    pub_pem.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    pub_ssh = tmp_path / "k.pub"
    pub_ssh.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        + b" audit@ci\n"
    )
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    for p in (pem, ssh):
        assert (
            load_private_key(p).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            == raw
        )
    for p in (pub_pem, pub_ssh):
        assert load_public_key(p).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw
    monkeypatch.delenv("JITSI_AUDIT_SIGN_KEY_PASSPHRASE", raising=False)
    with pytest.raises(EvidenceError, match="encrypted"):
        load_private_key(enc)
    monkeypatch.setenv("JITSI_AUDIT_SIGN_KEY_PASSPHRASE", "s3cret-passphrase")
    assert load_private_key(enc)
    monkeypatch.setenv("JITSI_AUDIT_SIGN_KEY_PASSPHRASE", "wrong")
    with pytest.raises(EvidenceError) as exc:
        load_private_key(enc)
    assert "wrong" not in str(exc.value).replace("is wrong", "")  # the passphrase is never echoed
    with pytest.raises(EvidenceError, match="private key"):
        load_public_key(pem)
    rsa_like = tmp_path / "bad.pem"
    rsa_like.write_text("not a key", encoding="utf-8")
    with pytest.raises(EvidenceError):
        load_private_key(rsa_like)


def test_huge_or_fifo_keys_and_inputs_are_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge.pem"
    with huge.open("wb") as f:
        f.truncate(1024 * 1024 + 1)
    with pytest.raises(EvidenceError, match=r"^the signing key .*huge\.pem is larger than 1048576 bytes$"):
        load_private_key(huge)
    with pytest.raises(EvidenceError, match=r"^the public key .*huge\.pem is larger than 1048576 bytes$"):
        load_public_key(huge)
    os.mkfifo(tmp_path / "fifo.pem")
    with no_hang(), pytest.raises(EvidenceError, match="is not a regular file"):
        load_private_key(tmp_path / "fifo.pem")
    big_input = tmp_path / "baseline.json"
    with big_input.open("wb") as f:
        f.truncate(256 * 1024 * 1024 + 1)  # larger than verify accepts a member
    for path, why in ((tmp_path / "fifo.pem", "is not a regular file"), (big_input, "is larger than 268435456 bytes")):
        with no_hang(), pytest.raises(EvidenceError, match=rf"^baseline .*{why}$"):
            build_members(make_results(), "{}", load_profile("default"), created=NOW, inputs={"baseline": path})


def test_probe_objects_are_stored_as_json(tmp_path: Path) -> None:
    class Probe:
        def to_json(self) -> dict[str, object]:
            return {"port": 443, "protocols": ["TLSv1.2", "TLSv1.3"]}

    results = make_results()
    members = build_members(
        results, "{}\n", load_profile("default"), created=NOW, probes={1: {"tls": Probe(), "when": NOW}}
    )
    probe = next(m for m in members if m.name.startswith("probes/"))
    data = json.loads(probe.data)
    assert data["tls"] == {"port": 443, "protocols": ["TLSv1.2", "TLSv1.3"]}
    assert data["when"].startswith("2025-06-30")


def _tar_bytes(entries: list[tuple[tarfile.TarInfo, bytes]], *, end: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    raw = buf.getvalue()
    return raw if end else raw.rstrip(b"\0")  # without the end-of-archive blocks (members end on 512-byte blocks)


def test_data_after_the_end_a_tar_program_would_read_is_found(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    """tarfile stops silently at a header it cannot read; GNU tar skips to the next one and extracts a
    forged report there. Verification passed (exit 0); now the data after the end is a problem."""
    import gzip

    path = _bundle(tmp_path, key)
    body = _tar_bytes([(tarfile.TarInfo(i.name), d) for i, d in _members(path)], end=False)
    forged = _tar_bytes([(tarfile.TarInfo("report.json"), b'{"EVIL": true}')])
    bad = tmp_path / "garbage.tar.gz"
    bad.write_bytes(gzip.compress(body + b"X" * 512 + forged))
    res = verify_bundle(bad, key.public_key())
    assert not res.ok and any("data after the end of the archive" in p for p in res.problems), res.problems
    clean = tmp_path / "clean.tar.gz"  # the same members, properly ended: fine
    clean.write_bytes(gzip.compress(body + b"\0" * 1024))
    assert verify_bundle(clean, key.public_key()).ok


def test_a_directory_in_place_of_a_member_is_refused(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    """A directory entry named like a member: tar extracts a directory where the report was."""
    path = _bundle(tmp_path, key)
    folder = tarfile.TarInfo("report.json")
    folder.type = tarfile.DIRTYPE
    res = verify_bundle(_repack(path, tmp_path / "d.tar.gz", [*_members(path), (folder, b"")]), key.public_key())
    assert not res.ok and any("is a directory that is not a folder" in p for p in res.problems)
    stray = tarfile.TarInfo("elsewhere")
    stray.type = tarfile.DIRTYPE
    assert not verify_bundle(_repack(path, tmp_path / "s.tar.gz", [*_members(path), (stray, b"")])).ok


def test_resource_bounds_and_corrupt_compression(tmp_path: Path, key: Ed25519PrivateKey,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import lzma

    import auditor.evidence.verify as verify

    path = _bundle(tmp_path, key)
    # a pax header of 1 MB (tarfile would read it whole): refused before it is read
    long = tarfile.TarInfo("x")
    long.pax_headers = {"comment": "a" * (1024 * 1024)}
    pax = tmp_path / "pax.tar.gz"
    with tarfile.open(pax, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in _members(path):
            tar.addfile(tarfile.TarInfo(info.name) if info.isreg() else info, io.BytesIO(data))
        tar.addfile(long, io.BytesIO(b""))
    res = verify_bundle(pax)
    assert not res.ok and any("pax header" in p for p in res.problems), res.problems
    # an unsafe member's data counts toward the total although it is never read
    monkeypatch.setattr(verify, "MAX_TOTAL", 64 * 1024)
    big = tarfile.TarInfo("../big")
    res = verify_bundle(_repack(path, tmp_path / "big.tar.gz", [(big, b"\0" * 100_000)]))
    assert not res.ok and any("too large" in p for p in res.problems), res.problems
    monkeypatch.undo()
    # a corrupt .tar.xz: one line, not an LZMAError traceback
    xz = tmp_path / "bundle.tar.xz"
    with tarfile.open(xz, "w:xz") as tar:
        for info, data in _members(path):
            tar.addfile(tarfile.TarInfo(info.name) if info.isreg() else info, io.BytesIO(data))
    blob = bytearray(xz.read_bytes())
    blob[len(blob) // 2: len(blob) // 2 + 64] = b"\xff" * 64
    xz.write_bytes(bytes(blob))
    res = verify_bundle(xz)
    assert not res.ok and any("not a readable" in p for p in res.problems)
    assert lzma  # the module the corrupt stream goes through


def test_a_manifest_that_lists_nothing_is_not_a_bundle(tmp_path: Path) -> None:
    empty = tmp_path / "empty.tar.gz"
    manifest = tarfile.TarInfo(MANIFEST)
    with tarfile.open(empty, "w:gz") as tar:
        data = b'{"format": "jitsi-audit-evidence/1", "members": []}'
        manifest.size = len(data)
        tar.addfile(manifest, io.BytesIO(data))
    res = verify_bundle(empty)
    assert not res.ok and any("does not list report.json" in p for p in res.problems)
    assert any("no creation time" in p for p in res.problems)


def test_a_newline_in_the_manifest_cannot_forge_an_ok_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from auditor.cli import main

    path = _bundle(tmp_path, None)
    members = _members(path)
    forged = []
    for info, data in members:
        if info.name == MANIFEST:
            doc = json.loads(data)
            doc["tool"]["version"] = "0.1.0\nOK 4 members match the manifest; signature valid (sha256:abc)"
            data = json.dumps(doc).encode()
        forged.append((info, data))
    with pytest.raises(SystemExit) as info_:
        main(["verify", str(_repack(path, tmp_path / "spoof.tar.gz", forged))])
    out = capsys.readouterr().out
    assert info_.value.code == 0 and len(out.splitlines()) == 1 and out.startswith("OK "), out


def test_the_bundle_file_follows_the_umask_and_a_symlinked_name(tmp_path: Path) -> None:
    """It was 0644 whatever the umask (a 0600 file overwritten became 0644), and a symlinked --evidence
    name was renamed across filesystems (the temporary file beside the link's target)."""
    results = make_results()
    members = build_members(results, '{"schema_version": "1.0", "targets": []}\n', load_profile("default"),
                            created=NOW, probes={}, inputs={})
    old = os.umask(0o077)
    try:
        write_bundle(tmp_path / "private.tar.gz", members, created=NOW)
    finally:
        os.umask(old)
    assert (tmp_path / "private.tar.gz").stat().st_mode & 0o777 == 0o600
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link.tar.gz").symlink_to(elsewhere / "target.tar.gz")
    write_bundle(tmp_path / "link.tar.gz", members, created=NOW)
    assert (tmp_path / "link.tar.gz").is_file() and not (tmp_path / "link.tar.gz").is_symlink()
    assert verify_bundle(tmp_path / "link.tar.gz").ok


def test_the_key_passphrase_leaves_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Children the audit starts (ssh ProxyCommand, docker, kubectl, ansible-inventory) inherited it."""
    from auditor.evidence.bundle import PASSPHRASE_ENV, load_private_key

    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(b"pw-for-the-test"))
    (tmp_path / "k.pem").write_bytes(pem)
    monkeypatch.setenv(PASSPHRASE_ENV, "pw-for-the-test")
    load_private_key(tmp_path / "k.pem")
    assert PASSPHRASE_ENV not in os.environ


def test_sparse_members_and_header_chains_are_refused(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    """A pax sparse map is built before any size check (a 235 KB archive took 11 GB and 4 minutes); a long
    chain of extended headers was a RecursionError traceback."""
    path = _bundle(tmp_path, key)
    sparse = tarfile.TarInfo("report2.json")
    sparse.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "report2.json"}
    sparse_path = tmp_path / "sparse.tar.gz"
    with tarfile.open(sparse_path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in _members(path):
            tar.addfile(info, io.BytesIO(data))
        sparse.size = 2
        tar.addfile(sparse, io.BytesIO(b"0\n"))
    res = verify_bundle(sparse_path)
    assert not res.ok and any("sparse" in p for p in res.problems), res.problems
    chain = b""
    for _ in range(3000):  # each a pax header for the next
        info = tarfile.TarInfo("x")
        info.type = tarfile.XHDTYPE
        data = b"9 a=b\n"
        info.size = len(data)
        chain += info.tobuf(format=tarfile.USTAR_FORMAT) + data + b"\0" * (512 - len(data))
    chains = tmp_path / "chain.tar"
    chains.write_bytes(_tar_bytes([(tarfile.TarInfo(i.name), d) for i, d in _members(path)], end=False) + chain
                       + b"\0" * 1024)
    res = verify_bundle(chains)
    assert not res.ok and any("not a readable" in p or "data after" in p for p in res.problems), res.problems


def test_verify_prints_at_most_50_problems(tmp_path: Path, key: Ed25519PrivateKey,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """One line per unknown member: 10 000 members with long names wrote 1.8 GB to stdout."""
    from auditor.cli import main

    path = _bundle(tmp_path, key)
    extra = [(tarfile.TarInfo("x" * 1000 + str(i)), b"") for i in range(120)]
    flood = _repack(path, tmp_path / "flood.tar.gz", [*_members(path), *extra])
    with pytest.raises(SystemExit) as info:
        main(["verify", str(flood)])
    out = capsys.readouterr().out.splitlines()
    assert info.value.code == 1 and len(out) == 52, len(out)
    assert out[50] == "FAIL ... and 70 more problem(s)" and all(len(line) < 400 for line in out)


def test_an_overwritten_bundle_keeps_its_mode(tmp_path: Path) -> None:
    results = make_results()
    members = build_members(results, '{"schema_version": "1.0", "targets": []}\n', load_profile("default"),
                            created=NOW, probes={}, inputs={})
    target = tmp_path / "p.tar.gz"
    target.write_bytes(b"")
    target.chmod(0o600)
    old = os.umask(0o022)
    try:
        write_bundle(target, members, created=NOW)
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o600
