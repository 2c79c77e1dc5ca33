"""Evidence bundles: what an auditor needs to check a jitsi-audit run later, in one .tar.gz.

Members (all regular files, flat names below these folders):
  manifest.json              format, creation time, tool, and the sha256 and size of every other member
  manifest.sig               optional: Ed25519 signature of the exact bytes of manifest.json
  report.json                the --format json report of the run
  run.json                   timestamps: bundle creation, per target start / finish, completeness, errors
  versions.json              tool, Python and library versions, profile and criteria catalogue versions,
                             the checks that ran with their (effective) severities
  snapshots/NN-TARGET.json   the redacted snapshot of everything collected from each target
                             (auditor.snapshot.Snapshot.to_json: secrets were replaced before storage)
  probes/NN-TARGET.json      probe results, when the run made any
  inputs/...                 the waivers, declarations, baseline and profile files the run used (every
                             file of an `extends` chain: profile, profile-extends-1 ...), each checked
                             against the SHA-256 the report recorded when the run read it

The manifest is canonical JSON (sorted keys, no spaces) so its signature is over well-defined bytes.
Signatures use Ed25519 from `cryptography` (the project's crypto library, already a dependency):
`--sign-key` takes a PEM (PKCS#8) or OpenSSH private key; an encrypted key's passphrase is read from
the environment variable JITSI_AUDIT_SIGN_KEY_PASSPHRASE, never from the command line.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import platform
import re
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from auditor import __version__
from auditor.atomic_output import atomic_binary
from auditor.user_files import read_user_file

if TYPE_CHECKING:
    from auditor.criteria import Profile
    from auditor.engine import TargetResult

BUNDLE_FORMAT = "jitsi-audit-evidence/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PASSPHRASE_ENV = "JITSI_AUDIT_SIGN_KEY_PASSPHRASE"
MAX_INPUT = 256 * 1024 * 1024  # an input file (a baseline is a report): as large as verify accepts a member
MAX_KEY = 1024 * 1024  # a PEM or OpenSSH key file is a few KiB
_SLUG_RE = re.compile(r"[^A-Za-z0-9._-]+")
_LIBRARIES = ("cryptography", "pyyaml", "pydantic", "paramiko", "sslyze", "typer", "rich")


class EvidenceError(Exception):
    """A bundle or key that cannot be written or read (one line, safe to print)."""


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def slug(text: str, limit: int = 60) -> str:
    """A file-name-safe rendering of a target name (never a path: no '/', no '..')."""
    s = _SLUG_RE.sub("_", text).strip("._") or "target"
    return s[:limit]


def member_json(data: Any) -> bytes:
    """How JSON members (and the signature file) are written: indented, sorted keys, UTF-8."""
    return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def plain(value: Any) -> Any:
    """Probe results as JSON data: objects with to_json() converted, containers walked."""
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _lib_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def build_members(
    results: list[TargetResult],
    report_json: str,
    profile: Profile,
    *,
    created: datetime,
    probes: Mapping[int, Any] | None = None,
    inputs: Mapping[str, Path] | None = None,
    input_sha256: Mapping[str, str] | None = None,
) -> list[Member]:
    """Every member but the manifest and signature. `probes` maps a result's index to its probe data.
    `input_sha256`: the digests the run recorded of the inputs it read (the report's gate block: waivers,
    baseline; its profile block: the profile files, declarations); an input whose bytes no longer match
    changed during the run and is refused (EvidenceError): the bundle would hold a file the run did not use."""
    members = [Member("report.json", report_json.encode("utf-8"))]
    targets: list[dict[str, Any]] = []
    for i, r in enumerate(results, start=1):
        entry: dict[str, Any] = {
            "target": r.target,
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat(),
            "complete": r.complete,
            "error": r.error,
            "error_stage": r.error_stage,
            "snapshot": None,
            "probes": None,
        }
        if r.snapshot is not None:
            name = f"snapshots/{i:02d}-{slug(r.target)}.json"
            members.append(Member(name, member_json(r.snapshot.to_json())))
            entry["snapshot"] = name
            finished = r.snapshot.finished_at
            entry["collected_started_at"] = r.snapshot.started_at.isoformat()
            entry["collected_finished_at"] = finished.isoformat() if finished else None
        probe_data = (probes or {}).get(i - 1)
        if probe_data:
            name = f"probes/{i:02d}-{slug(r.target)}.json"
            members.append(Member(name, member_json(plain(probe_data))))
            entry["probes"] = name
        targets.append(entry)
    members.append(Member("run.json", member_json({"created_at": created.isoformat(), "targets": targets})))
    checks: dict[str, str] = {}
    for r in results:
        for f in r.findings:
            checks.setdefault(f.check_id, f.severity.value)
    versions = {
        "tool": {"name": "jitsi-audit", "version": __version__},
        "python": platform.python_version(),
        "libraries": _lib_versions(),
        "profile": {
            "name": profile.name,
            "version": profile.version,
            "source": profile.source,
            "extends": list(profile.extends),
            "fail_on": profile.fail_on,
            "severity_overrides": {k: v.value for k, v in sorted(profile.severity_overrides.items())},
            "disabled_checks": sorted(profile.disabled_checks),
        },
        "catalogue": {"name": "orange-cyberdefense-2020", "version": profile.catalogue_version},
        "checks": [{"id": cid, "severity": sev} for cid, sev in sorted(checks.items())],
    }
    members.append(Member("versions.json", member_json(versions)))
    for label, path in sorted((inputs or {}).items()):
        data = read_user_file(path, label, EvidenceError, max_bytes=MAX_INPUT)
        recorded = (input_sha256 or {}).get(label)
        if recorded is not None and (now := hashlib.sha256(data).hexdigest()) != recorded:
            raise EvidenceError(f"{label} {path} changed during the run (the report records sha256 {recorded[:12]}…, "
                                f"the file is now {now[:12]}…): no bundle written; run again")
        members.append(Member(f"inputs/{slug(label, 40)}{_suffix(path)}", data))
    return members


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def manifest_bytes(members: Iterable[Member], created: datetime) -> bytes:
    return canonical_json(
        {
            "format": BUNDLE_FORMAT,
            "created_at": created.astimezone(UTC).isoformat(),
            "tool": {"name": "jitsi-audit", "version": __version__},
            "hash": "sha256",
            "members": [{"name": m.name, "sha256": m.sha256, "size": len(m.data)} for m in members],
        }
    )


# -- keys and signatures ------------------------------------------------------------------------


def key_fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def load_private_key(path: Path) -> Ed25519PrivateKey:
    blob = read_user_file(path, "the signing key", EvidenceError, max_bytes=MAX_KEY)
    # bytes, whatever the locale; and gone from the environment once read: the audit's own children
    # (ssh ProxyCommand, docker, kubectl, ansible-inventory) must not inherit it
    password = os.environb.get(PASSPHRASE_ENV.encode()) or None
    os.environ.pop(PASSPHRASE_ENV, None)
    key: object
    try:
        if b"OPENSSH PRIVATE KEY" in blob:
            key = serialization.load_ssh_private_key(blob, password)
        else:
            key = serialization.load_pem_private_key(blob, password)
    except TypeError:
        raise EvidenceError(
            f"the signing key {path} is encrypted: set {PASSPHRASE_ENV}" if password is None
            else f"the signing key {path} is not encrypted: unset {PASSPHRASE_ENV}"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        why = "is not a readable PEM or OpenSSH private key (or the passphrase is wrong)"
        raise EvidenceError(f"{path} {why}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise EvidenceError(f"{path}: the signing key must be Ed25519")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    blob = read_user_file(path, "the public key", EvidenceError, max_bytes=MAX_KEY)
    key: object
    try:
        if blob.lstrip().startswith(b"ssh-"):
            key = serialization.load_ssh_public_key(blob.strip())
        elif b"PRIVATE KEY" in blob:
            raise EvidenceError(f"{path} is a private key: pass the public key to --pubkey")
        else:
            key = serialization.load_pem_public_key(blob)
    except (ValueError, UnsupportedAlgorithm):
        raise EvidenceError(f"{path} is not a readable PEM or OpenSSH public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise EvidenceError(f"{path}: the public key must be Ed25519")
    return key


def signature_bytes(manifest: bytes, key: Ed25519PrivateKey) -> bytes:
    pub = key.public_key()
    return member_json(
        {
            "algorithm": "Ed25519",
            "signed": MANIFEST,
            "public_key": base64.b64encode(
                pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            ).decode("ascii"),
            "public_key_sha256": key_fingerprint(pub),
            "signature": base64.b64encode(key.sign(manifest)).decode("ascii"),
        }
    )


# -- writing ------------------------------------------------------------------------------------


def _tarinfo(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def pack(path: Path, entries: list[tuple[str, bytes]], created: datetime) -> None:
    """Write the archive atomically (temporary file in the same directory, then rename)."""
    mtime = int(created.timestamp())
    with (
        atomic_binary(path, ".jitsi-audit-evidence-") as raw,
        tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, data in entries:
            tar.addfile(_tarinfo(name, len(data), mtime), io.BytesIO(data))


def write_bundle(
    path: Path,
    members: list[Member],
    *,
    created: datetime,
    sign_key: Ed25519PrivateKey | None = None,
) -> str:
    """Write the bundle; returns the manifest's sha256."""
    names = [m.name for m in members]
    if len(set(names)) != len(names) or {MANIFEST, SIGNATURE} & set(names):
        raise EvidenceError("duplicate or reserved member names in the evidence bundle")
    manifest = manifest_bytes(members, created)
    entries = [(MANIFEST, manifest)]
    if sign_key is not None:
        entries.append((SIGNATURE, signature_bytes(manifest, sign_key)))
    entries += [(m.name, m.data) for m in members]
    try:
        pack(path, entries, created)
    except OSError as exc:
        raise EvidenceError(f"cannot write the evidence bundle {path}: {exc.strerror}") from None
    return hashlib.sha256(manifest).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)
