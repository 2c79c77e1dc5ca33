"""`jitsi-audit verify BUNDLE [--pubkey KEY]`: check an evidence bundle without extracting it.

The archive is read member by member in memory (never written to disk), with bounds on member and
total sizes. Verification fails, naming each problem, when:
- a member name is absolute, contains `..`, a backslash or a NUL, or a member is a link or a device
  (directory entries with safe names are ignored) — such an archive is rejected, never extracted;
- a member appears twice, a member listed in the manifest is missing, a member is not in the
  manifest, or a member's sha256 or size differs from the manifest;
- with --pubkey: the bundle is unsigned, signed by another key, or the signature does not match the
  manifest; without --pubkey a signature is still checked against the public key it carries, which
  proves integrity but not who signed: pass --pubkey for that.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def _read_members(path: Path, result: VerifyResult) -> dict[str, bytes] | None:
    contents: dict[str, bytes] = {}
    total = 0
    opened = False
    try:
        with tarfile.open(path, mode="r:*") as tar:  # a re-packed bundle may be compressed otherwise
            opened = True
            count = 0
            for info in tar:
                count += 1
                if count > MAX_MEMBERS:
                    result.problems.append(f"more than {MAX_MEMBERS} members: not a jitsi-audit bundle")
                    return None
                shown = json.dumps(info.name, ensure_ascii=True)
                why = unsafe_name(info.name)
                if why:
                    result.problems.append(f"unsafe member {shown} ({why}): rejected, nothing extracted")
                    continue
                if info.isdir():
                    continue  # a re-packed bundle may list its folders; nothing is extracted anyway
                if not info.isreg():
                    result.problems.append(f"member {shown} is not a regular file (links and devices are "
                                           "rejected)")
                    continue
                if info.name in contents:
                    result.problems.append(f"member {shown} appears more than once")
                    continue
                if info.size > MAX_MEMBER or total + info.size > MAX_TOTAL:
                    result.problems.append(f"member {shown} is too large ({info.size} bytes)")
                    return None
                handle = tar.extractfile(info)
                data = handle.read(MAX_MEMBER + 1) if handle is not None else b""
                total += len(data)
                contents[info.name] = data
    except (FileNotFoundError, PermissionError):
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if opened:
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]  # one line, whatever tarfile said
        else:  # tarfile's message lists each compression it tried, over five lines
            reason = "not a tar archive, compressed or not"
        result.problems.append(f"not a readable .tar.gz bundle: {reason}")
        return None
    return contents


def verify_bundle(path: Path, pubkey: Ed25519PublicKey | None = None) -> VerifyResult:
    """Check every hash and the signature. Raises FileNotFoundError / PermissionError when unreadable."""
    if not path.is_file():
        raise FileNotFoundError(str(path))
    result = VerifyResult()
    contents = _read_members(path, result)
    if contents is None:
        return result
    manifest_raw = contents.pop(MANIFEST, None)
    signature_raw = contents.pop(SIGNATURE, None)
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
    result.created_at = str(manifest.get("created_at"))
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
        shown = json.dumps(name, ensure_ascii=True)
        if unsafe_name(name) or name in (MANIFEST, SIGNATURE) or name in listed:
            result.problems.append(f"{MANIFEST} lists an unsafe, reserved or duplicate name {shown}")
            continue
        listed.add(name)
        data = contents.get(name)
        if data is None:
            result.problems.append(f"member {shown} is missing (removed from the bundle)")
            continue
        actual = hashlib.sha256(data).hexdigest()
        expected, size = entry["sha256"], entry.get("size")
        if actual != expected:
            result.problems.append(f"member {shown} changed: sha256 {actual}, the manifest says {expected}")
        elif size is not None and size != len(data):
            result.problems.append(f"member {shown} changed: {len(data)} bytes, the manifest says {size}")
        result.members += 1
    for name in sorted(set(contents) - listed):
        result.problems.append(f"member {json.dumps(name, ensure_ascii=True)} is not in the manifest (added)")
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
