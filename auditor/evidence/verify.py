"""`jitsi-audit verify BUNDLE [--pubkey KEY]`: check an evidence bundle without extracting it.

The archive is read member by member (never written to disk), each member hashed as it is read, with
bounds on member and total sizes (counted for every entry, read or skipped) and on the pax and GNU
long-name headers tarfile reads whole. Verification fails, naming each problem, when:
- a member name is absolute, contains `..`, a backslash or a NUL, or a member is a link or a device,
  or a directory other than a folder of the listed members (what re-packing adds) — such an archive is
  rejected, never extracted;
- anything but zero bytes follows the end of the archive (tarfile stops silently at a header it cannot
  read; GNU tar skips to the next one and would extract what follows);
- the manifest does not list report.json, run.json and versions.json, or has no creation time;
- a member appears twice, a member listed in the manifest is missing, a member is not in the
  manifest, or a member's sha256 or size differs from the manifest;
- with --pubkey: the bundle is unsigned, signed by another key, or the signature does not match the
  manifest; without --pubkey a signature is still checked against the public key it carries, which
  proves integrity but not who signed: pass --pubkey for that.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import gzip
import hashlib
import json
import lzma
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from auditor import json_input
from auditor.evidence.bundle import BUNDLE_FORMAT, MANIFEST, SIGNATURE, key_fingerprint, member_json

MAX_MEMBER = 256 * 1024 * 1024
MAX_TOTAL = 1024 * 1024 * 1024
MAX_MEMBERS = 10_000


@dataclass(slots=True)
class VerifyResult:
    problems: list[str] = field(default_factory=list)
    members: int = 0
    signature: str = "absent"  # absent | valid | valid (embedded key, not authenticated) | invalid
    key: str | None = None
    created_at: str | None = None
    tool: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _show(name: str) -> str:
    """A member name for a message: JSON-escaped, and cut (a name may be 64 KiB of escapes)."""
    return json.dumps(name if len(name) <= 200 else name[:200] + "...", ensure_ascii=True)


def unsafe_name(name: str) -> str | None:
    """Why a member name is unsafe, or None."""
    if not name or "\x00" in name:
        return "empty or NUL in the name"
    if "\\" in name:
        return "backslash in the name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute name"
    parts = name.split("/")
    if any(p == ".." for p in parts):
        return "'..' in the name"
    if any(p in ("", ".") for p in parts):
        return "empty or '.' path component"
    return None


REQUIRED_MEMBERS = frozenset({"report.json", "run.json", "versions.json"})
MAX_SPECIAL_HEADER = 64 * 1024  # pax and GNU long-name headers: tarfile reads them whole into memory
MAX_MANIFEST = 16 * 1024 * 1024
_CHUNK = 1024 * 1024
_MAGIC = ((b"\x1f\x8b", "gz"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))


class _BoundedTarInfo(tarfile.TarInfo):
    """Refuses a pax or GNU long-name header larger than MAX_SPECIAL_HEADER before tarfile reads it
    into memory (a 300 KB archive could hold a 300 MiB header)."""

    def _proc_pax(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if self.size > MAX_SPECIAL_HEADER:
            raise tarfile.HeaderError(f"a pax header of {self.size} bytes")
        info: tarfile.TarInfo = super()._proc_pax(tarfile_)  # type: ignore[misc]
        if any(key.startswith("GNU.sparse.") for key in info.pax_headers):  # its map is built before any check
            raise tarfile.HeaderError("a sparse member (jitsi-audit writes none; its map could be unbounded)")
        return info

    def _proc_sparse(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        raise tarfile.HeaderError("a sparse member (jitsi-audit writes none; its map could be unbounded)")

    def _proc_gnulong(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if self.size > MAX_SPECIAL_HEADER:
            raise tarfile.HeaderError(f"a GNU long-name header of {self.size} bytes")
        info: tarfile.TarInfo = super()._proc_gnulong(tarfile_)  # type: ignore[misc]
        return info


@dataclass(frozen=True, slots=True)
class _Member:
    sha256: str
    size: int
    data: bytes | None  # kept for the manifest and its signature only


def _decompressed(path: Path) -> IO[bytes]:
    """The archive's tar stream, seekable (decompressed as it is read), whatever its compression."""
    raw = path.open("rb")
    head = raw.read(6)
    raw.seek(0)
    kind = next((k for magic, k in _MAGIC if head.startswith(magic)), None)
    if kind == "gz":
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
    if kind == "bz2":
        return cast(IO[bytes], bz2.BZ2File(raw, mode="rb"))
    if kind == "xz":
        return cast(IO[bytes], lzma.LZMAFile(raw, mode="rb"))
    return raw


def _read_members(path: Path, result: VerifyResult, dirs: list[str]) -> dict[str, _Member] | None:
    """Every regular member's sha256 and size (member data is hashed as it is read, never kept whole).
    Anything the writer does not write (links, devices, directories, data after the end of the
    archive that a tar program would still read) is a problem; sizes are bounded before data is read."""
    members: dict[str, _Member] = {}
    total = 0
    opened = False
    stream = _decompressed(path)
    try:
        with stream, tarfile.open(fileobj=stream, mode="r:", tarinfo=_BoundedTarInfo) as tar:
            opened = True
            count = 0
            for info in tar:
                count += 1
                if count > MAX_MEMBERS:
                    result.problems.append(f"more than {MAX_MEMBERS} members: not a jitsi-audit bundle")
                    return None
                total += max(0, info.size)  # every entry's data is read past, listed or not
                shown = _show(info.name)
                if info.size > MAX_MEMBER or total > MAX_TOTAL:
                    result.problems.append(f"member {shown} is too large ({info.size} bytes)")
                    return None
                why = unsafe_name(info.name)
                if why:
                    result.problems.append(f"unsafe member {shown} ({why}): rejected, nothing extracted")
                    continue
                if info.isdir():  # a re-packed bundle may list its folders: checked against the manifest
                    dirs.append(info.name)
                    continue
                if not info.isreg():
                    result.problems.append(f"member {shown} is not a regular file (links and devices are rejected)")
                    continue
                if info.name in members:
                    result.problems.append(f"member {shown} appears more than once")
                    continue
                members[info.name] = _hash_member(tar, info)
            trailing = _trailing_data(stream, tar.offset)
            if trailing:
                result.problems.append(f"data after the end of the archive at offset {tar.offset} ({trailing}): "
                                       "a tar program would read what this check cannot see")
    except (FileNotFoundError, PermissionError):
        raise
    except RecursionError:  # tarfile reads a chain of pax / long-name headers recursively
        result.problems.append("not a readable .tar.gz bundle: a chain of extended headers too long to read")
        return None
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError) as exc:
        if opened:
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]  # one line, whatever tarfile said
        else:  # not a tar archive at all (its first block is no tar header)
            reason = "not a tar archive, compressed or not"
        result.problems.append(f"not a readable .tar.gz bundle: {reason}")
        return None
    return members


def _hash_member(tar: tarfile.TarFile, info: tarfile.TarInfo) -> _Member:
    digest = hashlib.sha256()
    keep = info.name in (MANIFEST, SIGNATURE) and info.size <= MAX_MANIFEST
    kept: list[bytes] = []
    size = 0
    handle = tar.extractfile(info)
    while handle is not None and (chunk := handle.read(_CHUNK)):
        digest.update(chunk)
        size += len(chunk)
        if keep:
            kept.append(chunk)
    return _Member(digest.hexdigest(), size, b"".join(kept) if keep else None)


def _trailing_data(stream: IO[bytes], offset: int) -> str | None:
    """What follows the block where tarfile stopped (the end-of-archive marker, or a header it could not
    read and silently stopped at): only zero bytes may. tarfile also stops at a single zero block, which
    GNU tar reads past with -i."""
    if stream.tell() != offset + tarfile.BLOCKSIZE:  # usually just past the block tarfile stopped at
        stream.seek(offset)  # a compressed stream may decompress again from its start to get there
    seen = 0
    while chunk := stream.read(_CHUNK):
        if chunk.strip(b"\x00"):
            return "non-zero bytes"
        seen += len(chunk)
        if seen > MAX_TOTAL:
            return "more than the size bound"
    return None


def verify_bundle(path: Path, pubkey: Ed25519PublicKey | None = None) -> VerifyResult:
    """Check every hash and the signature. Raises FileNotFoundError / PermissionError when unreadable."""
    if not path.is_file():
        raise FileNotFoundError(str(path))
    result = VerifyResult()
    dirs: list[str] = []
    contents = _read_members(path, result, dirs)
    if contents is None:
        return result
    manifest_member = contents.pop(MANIFEST, None)
    signature_member = contents.pop(SIGNATURE, None)
    manifest_raw = manifest_member.data if manifest_member is not None else None
    signature_raw = signature_member.data if signature_member is not None else None
    if manifest_member is not None and manifest_raw is None:
        result.problems.append(f"{MANIFEST} is larger than {MAX_MANIFEST} bytes: not a jitsi-audit manifest")
        return result
    if signature_member is not None and signature_raw is None:
        result.problems.append(f"{SIGNATURE} is larger than {MAX_MANIFEST} bytes")
        return result
    if manifest_raw is None:
        result.problems.append(f"{MANIFEST} is missing")
        return result
    try:
        manifest = json_input.loads(manifest_raw)
    except (ValueError, UnicodeDecodeError):
        result.problems.append(f"{MANIFEST} is not valid JSON")
        return result
    entries = manifest.get("members") if isinstance(manifest, dict) else None
    if not isinstance(entries, list) or manifest.get("format") != BUNDLE_FORMAT:
        result.problems.append(f"{MANIFEST} is not a {BUNDLE_FORMAT} manifest")
        return result
    created = manifest.get("created_at")
    if not isinstance(created, str):
        result.problems.append(f"{MANIFEST} has no creation time: not a jitsi-audit manifest")
    result.created_at = str(created)
    tool = manifest.get("tool")
    if isinstance(tool, dict):
        result.tool = f"{tool.get('name')} {tool.get('version')}"
    listed: set[str] = set()
    for entry in entries:
        ok = isinstance(entry, dict) and isinstance(entry.get("name"), str)
        if not ok or not isinstance(entry.get("sha256"), str):
            result.problems.append(f"{MANIFEST} has a malformed member entry")
            continue
        name = entry["name"]
        shown = _show(name)
        if unsafe_name(name) or name in (MANIFEST, SIGNATURE) or name in listed:
            result.problems.append(f"{MANIFEST} lists an unsafe, reserved or duplicate name {shown}")
            continue
        listed.add(name)
        member = contents.get(name)
        if member is None:
            result.problems.append(f"member {shown} is missing (removed from the bundle)")
            continue
        actual = member.sha256
        expected, size = entry["sha256"], entry.get("size")
        if actual != expected:
            result.problems.append(f"member {shown} changed: sha256 {actual}, the manifest says {expected}")
        elif size is not None and size != member.size:
            result.problems.append(f"member {shown} changed: {member.size} bytes, the manifest says {size}")
        result.members += 1
    for name in REQUIRED_MEMBERS - listed:  # every bundle has them: one without is not a bundle at all
        result.problems.append(f"{MANIFEST} does not list {name}: not a whole jitsi-audit bundle")
    for name in sorted(set(contents) - listed):
        result.problems.append(f"member {_show(name)} is not in the manifest (added)")
    parents = {n.rsplit("/", 1)[0] for n in listed if "/" in n}
    parents |= {p.rsplit("/", i)[0] for p in set(parents) for i in range(1, p.count("/") + 1)}
    for name in dirs:  # a folder that holds listed members is what re-packing adds; anything else is not ours
        folder = name.rstrip("/")
        if folder in listed or folder in contents or folder not in parents:
            result.problems.append(f"member {_show(name)} is a directory that is not a "
                                   "folder of the bundle's members")
    _check_signature(manifest_raw, signature_raw, pubkey, result)
    return result


def _check_signature(
    manifest: bytes, raw: bytes | None, pubkey: Ed25519PublicKey | None, result: VerifyResult
) -> None:
    if raw is None:
        if pubkey is not None:
            result.problems.append("the bundle is not signed, but --pubkey was given")
        return
    try:
        sig: Any = json_input.loads(raw)
        signature = base64.b64decode(sig["signature"], validate=True)
        embedded = Ed25519PublicKey.from_public_bytes(base64.b64decode(sig["public_key"], validate=True))
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        result.signature = "invalid"
        result.problems.append(f"{SIGNATURE} is malformed")
        return
    # Every byte of the signature file counts: its fields must agree and it must be exactly as written.
    if (
        not isinstance(sig, dict)
        or sig.get("algorithm") != "Ed25519"
        or sig.get("signed") != MANIFEST
        or sig.get("public_key_sha256") != key_fingerprint(embedded)
        or member_json(sig) != raw
    ):
        result.problems.append(f"the signature file {SIGNATURE} was modified (fields or bytes changed)")
    key = pubkey or embedded
    result.key = key_fingerprint(key)
    if pubkey is not None and key_fingerprint(embedded) != result.key:
        other = key_fingerprint(embedded)
        result.problems.append(f"signed by another key ({other}), not by the --pubkey key ({result.key})")
    try:
        key.verify(signature, manifest)
    except InvalidSignature:
        result.signature = "invalid"
        result.problems.append(f"the signature does not match {MANIFEST} for key {result.key}")
        return
    result.signature = "valid" if pubkey is not None else "valid (embedded key, not authenticated)"
