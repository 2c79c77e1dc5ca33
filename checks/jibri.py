"""Jibri recordings: where they are written, whether that storage is encrypted, where they go next."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.facts import truthy
from auditor.model import CheckResult, Evidence, Severity
from auditor.parsers.base import Location
from auditor.registry import check
from checks._common import ev, evs, short

JIBRI_REF = "https://github.com/jitsi/jibri/blob/master/src/main/resources/reference.conf"
DEFAULT_DIR = "/tmp/recordings"
DEFAULT_FINALIZE = "/path/to/finalize"
_LSBLK_RE = re.compile(r'(?<!\w)(\w+)="([^"]*)"')  # from a name's start: linear on a long line


class Jibri:
    """jibri.conf, or docker variables when only .env is known."""

    def __init__(self, path: str | None, doc: Any) -> None:
        self.path = path
        self.doc = doc

    def get(self, ctx: AuditContext, key: str) -> tuple[Any, Evidence] | None:
        if self.doc is None:
            return None
        pf = ctx.deployment.first(Role.JIBRI_CONF)
        return ctx.view.hocon(pf, key)


def _jibri(ctx: AuditContext) -> Jibri | CheckResult:
    pf = ctx.deployment.first(Role.JIBRI_CONF)
    if pf is not None:
        if pf.value is None:
            return CheckResult.unclear(f"cannot tell: {pf.error or 'jibri.conf unreadable'}")
        return Jibri(pf.path, pf.value)
    v = ctx.view
    if v.env_ok:
        flag, where = v.env_flag("ENABLE_RECORDING", False)
        if flag:
            return Jibri(None, None)
        return CheckResult.not_applicable("server-side recording is off (ENABLE_RECORDING)", *evs(where))
    rec = ctx.fact("recording.enabled")
    if rec.value:
        return CheckResult.unclear("cannot tell: recording is enabled but jibri.conf is not in the evidence (Jibri may run on another host)", *rec.evidence)
    if rec.value is None:
        return CheckResult.unclear(f"cannot tell: {rec.note or 'no recording configuration in the evidence'}")
    return CheckResult.not_applicable("no Jibri on this deployment: nothing is recorded server-side")


def _recordings_dir(ctx: AuditContext, j: Jibri) -> tuple[str, Evidence | None, bool]:
    """(directory, evidence, known on the host?)"""
    if j.doc is None:
        raw, where = ctx.view.env_get("JIBRI_RECORDING_DIR", "/config/recordings")
        return raw or "/config/recordings", where, False
    got = j.get(ctx, "jibri.recording.recordings-directory")
    if got is None:
        return DEFAULT_DIR, ev(j.path or "", None, f"recordings-directory not set (default {DEFAULT_DIR})"), True
    return str(got[0]), got[1], True


_SHARED_TEMP = ("/tmp", "/var/tmp", "/dev/shm")  # world-writable, often wiped (by path component: not /tmpdata)


@check(
    "jibri.recordings_directory",
    title="Recordings are written to a dedicated directory, not the shared /tmp",
    severity=Severity.LOW,
    criteria=("enc.files_recordings",),
    rationale="""Jibri's default recordings-directory is /tmp/recordings: world-writable parent, often wiped or on
    tmpfs, and readable by any local process that guesses the path. Recordings belong on dedicated storage with
    tight permissions.""",
    remediation="""/etc/jitsi/jibri/jibri.conf: jibri { recording { recordings-directory = "/srv/recordings" } } with
    the directory owned by jibri, mode 0700, on an encrypted volume.""",
    references=(JIBRI_REF,),
)
def recordings_directory(ctx: AuditContext) -> CheckResult:
    j = _jibri(ctx)
    if isinstance(j, CheckResult):
        return j
    path, where, _ = _recordings_dir(ctx, j)
    directory = posixpath.normpath(path)
    if any(directory == shared or directory.startswith(shared + "/") for shared in _SHARED_TEMP):
        return CheckResult.failed(f"recordings are written to {path}", *evs(where))
    return CheckResult.passed(f"recordings are written to {path}", *evs(where))


def _mounts(ctx: AuditContext) -> list[tuple[str, str, str]] | None:
    item = ctx.deployment.snapshot.command("findmnt")
    if item is None or not item.ok:
        return None
    out = []
    for line in item.text().splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out.append((parts[0].replace("\\x20", " "), parts[1], parts[2]))
    return out


def _blocks(ctx: AuditContext) -> list[dict[str, str]] | None:
    item = ctx.deployment.snapshot.command("lsblk")
    if item is None or not item.ok:
        return None
    return [dict(_LSBLK_RE.findall(line)) for line in item.text().splitlines() if "NAME=" in line]


def _encrypted(blocks: list[dict[str, str]], source: str, target: str) -> bool | None:
    """Whether the block device behind `source` sits on dm-crypt. lsblk -P lists devices in tree order,
    so a device's ancestors precede it back to its disk."""
    name = posixpath.basename(source)
    index = next(
        (i for i, b in enumerate(blocks) if b.get("NAME") == name or (target and b.get("MOUNTPOINT") == target)), None
    )
    if index is None:
        return None
    if blocks[index].get("TYPE") == "crypt":
        return True
    for b in reversed(blocks[:index]):
        if b.get("TYPE") == "crypt":
            return True
        if b.get("TYPE") == "disk":
            return False
    return False


@check(
    "jibri.recordings_encrypted",
    title="Recordings land on encrypted storage (LUKS/dm-crypt)",
    severity=Severity.HIGH,
    criteria=("enc.files_recordings",),
    rationale="""Jibri writes MP4 files in clear; Jitsi has no encryption at rest. Only an encrypted volume (LUKS /
    dm-crypt) under the recordings directory protects them on stolen disks, snapshots and decommissioned
    hardware. The auditor reads `findmnt` and `lsblk` output; without them it cannot tell.""",
    remediation="""Mount an encrypted volume (cryptsetup luksFormat / luksOpen, then mkfs and mount) at the
    recordings directory, e.g. /srv/recordings, and set recordings-directory to it.""",
    references=(JIBRI_REF, "https://gitlab.com/cryptsetup/cryptsetup"),
)
def recordings_encrypted(ctx: AuditContext) -> CheckResult:
    j = _jibri(ctx)
    if isinstance(j, CheckResult):
        return j
    path, where, on_host = _recordings_dir(ctx, j)
    if not on_host:
        return CheckResult.unclear(
            f"cannot tell: recordings go to {path} inside the jibri container; its host volume is not in the evidence",
            *evs(where),
        )
    mounts = _mounts(ctx)
    blocks = _blocks(ctx)
    if mounts is None or blocks is None:
        return CheckResult.unclear("cannot tell: findmnt/lsblk output was not collected", *evs(where))
    norm = posixpath.normpath(path)
    covering = [m for m in mounts if norm == m[0] or norm.startswith(m[0].rstrip("/") + "/")]
    if not covering:
        return CheckResult.unclear(f"cannot tell: no mount covers {path} in the findmnt output", *evs(where))
    target, source, fstype = max(covering, key=lambda m: len(m[0]))
    mount_ev = Evidence(Location("cmd:findmnt"), f"{target} {source} {fstype}")
    if fstype in ("tmpfs", "ramfs"):
        return CheckResult.passed(f"{path} is on {fstype}: recordings stay in memory", *evs(where), mount_ev)
    if fstype in ("ecryptfs", "fuse.gocryptfs", "fuse.encfs"):
        return CheckResult.passed(f"{path} is on an encrypted filesystem ({fstype})", *evs(where), mount_ev)
    crypt = _encrypted(blocks, source, target)
    block_ev = Evidence(Location("cmd:lsblk"), f"device of {source}")
    if crypt is None:
        return CheckResult.unclear(f"cannot tell: {source} is not in the lsblk output", *evs(where), mount_ev)
    if crypt:
        return CheckResult.passed(f"{path} is on {source}, a dm-crypt (LUKS) device", *evs(where), mount_ev, block_ev)
    return CheckResult.failed(f"{path} is on {source} ({fstype}), which is not encrypted", *evs(where), mount_ev, block_ev)


@check(
    "jibri.finalize_script",
    title="A finalize script moves recordings off the recorder",
    severity=Severity.LOW,
    criteria=("enc.files_recordings",),
    rationale="""Without a finalize script (the reference value is a placeholder, /path/to/finalize) recordings
    accumulate on the Jibri host indefinitely; the script is where they are uploaded to protected storage and
    deleted.""",
    remediation="""jibri { recording { finalize-script = "/usr/local/bin/jibri-finalize.sh" } } that uploads the
    directory it is given over an authenticated, encrypted channel and removes the local copy.""",
    references=(JIBRI_REF,),
)
def finalize_script(ctx: AuditContext) -> CheckResult:
    j = _jibri(ctx)
    if isinstance(j, CheckResult):
        return j
    if j.doc is None:
        raw, where = ctx.view.env_get("JIBRI_FINALIZE_RECORDING_SCRIPT_PATH")
        if raw:
            return CheckResult.passed(f"recordings are finalized by {raw}", *evs(where))
        return CheckResult.failed("no finalize script: recordings stay on the recorder", *evs(where))
    got = j.get(ctx, "jibri.recording.finalize-script")
    if got is None or not str(got[0]).strip() or str(got[0]) == DEFAULT_FINALIZE:
        where = got[1] if got else ev(j.path or "", None, "finalize-script not set")
        return CheckResult.failed("no finalize script: recordings stay on the recorder", where)
    return CheckResult.passed(f"recordings are finalized by {short(got[0])}", got[1])


@check(
    "jibri.upload_targets",
    title="Recordings and streams go only to approved destinations",
    severity=Severity.MEDIUM,
    criteria=("enc.files_recordings", "jur.data_location"),
    rationale="""config.js dropbox.appKey lets moderators send recordings to their Dropbox (a third party), and
    Jibri's streaming rtmp-allow-list defaults to ".*": a moderator can stream the meeting to any RTMP server.""",
    remediation="""Remove dropbox from config.js (docker: DROPBOX_APPKEY unset) and restrict streaming:
    jibri { streaming { rtmp-allow-list = [ "^rtmp://live\\\\.example\\\\.org/.*$" ] } }""",
    references=(JIBRI_REF,),
)
def upload_targets(ctx: AuditContext) -> CheckResult:
    j = _jibri(ctx)
    if isinstance(j, CheckResult):
        return j
    v = ctx.view
    problems: list[str] = []
    where: list[Evidence] = []
    if v.cfg_ok and v.js("dropbox.appKey"):
        problems.append("recordings can be uploaded to Dropbox")
        where.append(v.js_ev("dropbox.appKey"))
    elif v.env_ok and v.env_get("DROPBOX_APPKEY")[0]:
        problems.append("recordings can be uploaded to Dropbox")
        where += evs(v.env_get("DROPBOX_APPKEY")[1])
    if j.doc is None:
        # docker-jitsi-meet's jibri.conf template writes no streaming section: Jibri's default [".*"] applies
        problems.append("streaming is allowed to any RTMP server (the docker jibri image sets no rtmp-allow-list)")
        where += evs(v.env_get("ENABLE_RECORDING")[1])
    else:
        allow = j.get(ctx, "jibri.streaming.rtmp-allow-list")
        items = allow[0] if allow and isinstance(allow[0], list) else None
        if items is None or any(str(i) in (".*", "^.*$", ".+") for i in items):
            problems.append("streaming is allowed to any RTMP server")
            where.append(allow[1] if allow else ev(j.path or "", None, 'rtmp-allow-list not set (default [".*"])'))
    if problems:
        return CheckResult.failed("; ".join(problems), *where)
    return CheckResult.passed("no third-party upload and streaming limited to listed servers", *where)


def _environments(ctx: AuditContext, j: Jibri) -> list[dict[str, Any]]:
    got = j.get(ctx, "jibri.api.xmpp.environments")
    return [e for e in got[0] if isinstance(e, dict)] if got and isinstance(got[0], list) else []


@check(
    "jibri.xmpp_cert_verification",
    title="Jibri verifies the XMPP server certificate (trust-all-xmpp-certs = false)",
    severity=Severity.HIGH,
    criteria=("enc.in_transit",),
    rationale="""trust-all-xmpp-certs = true makes Jibri accept any certificate when it logs in to prosody (as the
    recorder and control user, with their passwords): an attacker on the path receives them and the meeting
    streams. docker's XMPP_TRUST_ALL_CERTS defaults to true.""",
    remediation="""jibri.conf, in every xmpp environment: trust-all-xmpp-certs = false, with prosody's certificate in
    Jibri's Java trust store. Docker: XMPP_TRUST_ALL_CERTS=0 with a trusted certificate.""",
    references=(JIBRI_REF,),
)
def xmpp_cert_verification(ctx: AuditContext) -> CheckResult:
    j = _jibri(ctx)
    if isinstance(j, CheckResult):
        return j
    if j.doc is None:
        flag, where = ctx.view.env_flag("XMPP_TRUST_ALL_CERTS", True)
        if flag:
            return CheckResult.failed("Jibri trusts any XMPP certificate (XMPP_TRUST_ALL_CERTS)", *evs(where))
        return CheckResult.passed("Jibri verifies the XMPP certificate", *evs(where))
    envs = _environments(ctx, j)
    got = j.get(ctx, "jibri.api.xmpp.environments")
    if not envs:
        return CheckResult.unclear("cannot tell: no xmpp environment in jibri.conf", *evs(got[1] if got else None))
    bad = [str(e.get("name", "?")) for e in envs if truthy(e.get("trust-all-xmpp-certs")) is True]
    where = got[1] if got else ev(j.path or "", None)
    if bad:
        return CheckResult.failed(f"Jibri trusts any XMPP certificate in environment(s) {', '.join(bad)}", where)
    # Jibri reads the key with getBoolean, no default (JibriConfig.kt toXmppEnvironment): an environment
    # without it is refused when Jibri starts, so it verifies nothing either way
    unset = [str(e.get("name", "?")) for e in envs if "trust-all-xmpp-certs" not in e]
    if unset:
        return CheckResult.unclear(f"cannot tell: environment(s) {short(', '.join(unset), 120)} do not set "
                                   "trust-all-xmpp-certs, which Jibri requires: it refuses to load them", where)
    return CheckResult.passed("Jibri verifies the XMPP certificate in every environment", where)
