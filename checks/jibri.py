"""Jibri recordings: where they are written, whether that storage is encrypted, where they go next."""

from __future__ import annotations

import posixpath
import re
from typing import Any

import regex

from auditor.advisories.docker import image_releases
from auditor.advisories.versions import docker_stable
from auditor.context import AuditContext
from auditor.deployment import ROOTLESS_SINCE
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


# docker-jitsi-meet's jibri.conf template: `JIBRI_RECORDING_DIR | default "/config/recordings"` until the
# rootless-containers change (086d047f, 2026-06-16; first release stable-11146) made it "/storage/recordings".
DOCKER_DIR_SINCE = ROOTLESS_SINCE
DOCKER_DIR_OLD, DOCKER_DIR_NEW = "/config/recordings", "/storage/recordings"


def _jibri_image_release(ctx: AuditContext) -> int | None:
    """The stable-N release of the jitsi/jibri image: the compose files (jibri.yml) as .env resolves them,
    else JITSI_IMAGE_VERSION (jibri.yml tags the image with it). None when unknown or when they disagree."""
    numbers = image_releases(ctx.deployment).get("jibri")
    if numbers:
        return next(iter(numbers)) if len(numbers) == 1 else None
    tag, _ = ctx.view.env_get("JITSI_IMAGE_VERSION")
    return docker_stable(tag or "")


def _recordings_dir(ctx: AuditContext, j: Jibri) -> tuple[str, Evidence | None, bool]:
    """(directory, evidence, known on the host?)"""
    if j.doc is None:
        release = _jibri_image_release(ctx)
        if release is None:  # both are under the jibri container's volume, neither is /tmp
            default = f"{DOCKER_DIR_NEW} (images since stable-{DOCKER_DIR_SINCE}; {DOCKER_DIR_OLD} before)"
        else:
            default = DOCKER_DIR_NEW if release >= DOCKER_DIR_SINCE else DOCKER_DIR_OLD
        raw, where = ctx.view.env_get("JIBRI_RECORDING_DIR", default)
        return raw or default, where, False
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
        if allow is None:
            problems.append("streaming is allowed to any RTMP server")
            where.append(ev(j.path or "", None, 'rtmp-allow-list not set (default [".*"])'))
        elif not isinstance(allow[0], list) or not all(isinstance(i, str | int | float) for i in allow[0]):
            return CheckResult.unclear("cannot tell: rtmp-allow-list is not a list of patterns", allow[1])
        elif len(allow[0]) > _MAX_PATTERNS:
            return CheckResult.unclear(f"cannot tell: rtmp-allow-list has {len(allow[0])} patterns; the auditor "
                                       f"evaluates at most {_MAX_PATTERNS}", allow[1], *where)
        else:
            verdicts = [(str(i), *open_pattern(str(i))) for i in allow[0]]
            opened = next(((pattern, probe) for pattern, is_open, probe in verdicts if is_open), None)
            undecided = next(((pattern, why) for pattern, is_open, why in verdicts if is_open is None), None)
            if opened is not None:
                problems.append(f"streaming is allowed to any RTMP server (rtmp-allow-list pattern "
                                f"{short(opened[0], 60)!r} admits {opened[1]})")
                where.append(allow[1])
            elif undecided is not None:
                return CheckResult.unclear(f"cannot tell: rtmp-allow-list pattern {short(undecided[0], 60)!r} is "
                                           f"not evaluated: {undecided[1]}", allow[1], *where)
            else:
                where.append(allow[1])
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


# Chrome's switch, honoured whatever its value (HasSwitch). Its -spki-list variant is not the same: it only
# accepts certificates whose public key hash is listed, a pin an attacker cannot meet without that key.
_IGNORE_CERT_SWITCH = "ignore-certificate-errors"
# docker-jitsi-meet's jibri.conf template: IGNORE_CERTIFICATE_ERRORS since stable-9364 (ca61ea20); read with
# `{{ if .Env.IGNORE_CERTIFICATE_ERRORS }}` (any non-empty value, "false" too) until `toBool` (fae66ad0,
# first release stable-9646)
_IGNORE_VAR_SINCE, _IGNORE_TOBOOL_SINCE = 9364, 9646


def _ignores_cert_errors(flag: str) -> bool:
    """Whether a chrome.flags entry turns on --ignore-certificate-errors (chromedriver passes an argument
    with or without its leading dashes; anything after `=` does not switch it off)."""
    name = flag.strip().removeprefix("--").partition("=")[0]
    return name == _IGNORE_CERT_SWITCH


def _docker_chrome_flags(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    custom, where = v.env_get("CHROMIUM_FLAGS")
    if custom:  # the template: the comma-separated flags (empty entries dropped), then --no-sandbox
        flags = [f for f in custom.split(",") if f]
        bad = [f for f in flags if _ignores_cert_errors(f)]
        if bad:
            return CheckResult.failed(f"Jibri's Chrome accepts any certificate for the meeting page "
                                      f"(CHROMIUM_FLAGS has {short(bad[0], 40)})", *evs(where))
        return CheckResult.passed("Jibri's Chrome verifies the web server's certificate (CHROMIUM_FLAGS "
                                  "sets no --ignore-certificate-errors)", *evs(where))
    raw, flag_where = v.env_get("IGNORE_CERTIFICATE_ERRORS")
    where_all = evs(where) + evs(flag_where)
    flag, _ = v.env_flag("IGNORE_CERTIFICATE_ERRORS", False)
    unquoted = (raw or "").replace('"', "").replace("'", "")
    if not unquoted:
        return CheckResult.passed("Jibri's Chrome verifies the web server's certificate "
                                  "(IGNORE_CERTIFICATE_ERRORS not set)", *where_all)
    release = _jibri_image_release(ctx)
    if release is not None and release < _IGNORE_VAR_SINCE:
        return CheckResult.passed(f"Jibri's Chrome verifies the web server's certificate (the stable-{release} "
                                  "image predates IGNORE_CERTIFICATE_ERRORS)", *where_all)
    if flag:
        return CheckResult.failed("Jibri's Chrome accepts any certificate for the meeting page "
                                  f"(IGNORE_CERTIFICATE_ERRORS={short(raw, 20)})", *where_all)
    if release is not None and release >= _IGNORE_TOBOOL_SINCE:
        return CheckResult.passed("Jibri's Chrome verifies the web server's certificate "
                                  f"(IGNORE_CERTIFICATE_ERRORS={short(raw, 20)})", *where_all)
    if release is not None:
        return CheckResult.failed(f"Jibri's Chrome accepts any certificate for the meeting page: the stable-{release} "
                                  f"image turns it on for any value, IGNORE_CERTIFICATE_ERRORS={short(raw, 20)} too",
                                  *where_all)
    return CheckResult.unclear(f"cannot tell: IGNORE_CERTIFICATE_ERRORS={short(raw, 20)} is off in images since "
                               f"stable-{_IGNORE_TOBOOL_SINCE}, but stable-{_IGNORE_VAR_SINCE} to stable-9584 turn it on "
                               "for any value, and the jibri image's release is not in the evidence", *where_all)


@check(
    "jibri.chrome_cert_verification",
    title="Jibri's Chrome verifies the web server's certificate (no --ignore-certificate-errors)",
    severity=Severity.HIGH,
    criteria=("enc.in_transit",),
    rationale="""Jibri records or streams a meeting by opening its page in Chrome over HTTPS, as a hidden
    participant. With --ignore-certificate-errors in jibri.chrome.flags (docker: IGNORE_CERTIFICATE_ERRORS)
    Chrome accepts any certificate: whoever can redirect or intercept Jibri's connection impersonates the web
    server and receives the whole recorded meeting, or injects a page of their own into the recording.""",
    remediation="""Remove --ignore-certificate-errors from jibri { chrome { flags = [...] } } and give the web
    server a certificate Jibri's Chrome trusts (a public CA, or the private CA in the host's NSS database).
    Docker: unset IGNORE_CERTIFICATE_ERRORS and keep it out of CHROMIUM_FLAGS.""",
    references=(JIBRI_REF, "https://github.com/jitsi/docker-jitsi-meet/blob/master/jibri/rootfs/defaults/jibri.conf"),
)
def chrome_cert_verification(ctx: AuditContext) -> CheckResult:
    j = _jibri(ctx)
    if isinstance(j, CheckResult):
        return j
    if j.doc is None:
        return _docker_chrome_flags(ctx)
    got = j.get(ctx, "jibri.chrome.flags")
    if got is None:
        return CheckResult.passed("Jibri's Chrome runs with Jibri's default flags, which verify certificates",
                                  ev(j.path or "", None, "chrome.flags not set (Jibri's defaults)"))
    flags, where = got
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        return CheckResult.unclear("cannot tell: jibri.chrome.flags is not a list of strings", where)
    bad = [f for f in flags if _ignores_cert_errors(f)]
    if bad:
        return CheckResult.failed(f"Jibri's Chrome accepts any certificate for the meeting page "
                                  f"(chrome.flags has {short(bad[0], 40)})", where)
    return CheckResult.passed("Jibri's Chrome verifies the web server's certificate "
                              "(chrome.flags sets no --ignore-certificate-errors)", where)

# -- rtmp-allow-list patterns ---------------------------------------------------------------------------
# Jibri compiles each entry with java.util.regex.Pattern.compile and admits a stream when one of them
# matches the whole URL (StreamingJibriService.kt: rtmpAllowList.none { it.matcher(rtmpUrl).matches() }).
# A pattern is "open" when it fully matches URLs on hosts nobody would list (OPEN_PROBES). The patterns are
# the target's, so they run in the `regex` module, whose matches stop at a timeout, never in `re`, which
# cannot be stopped (`(.?)` x 20 then `\20`..`\1` is exponential in both, and in Java).
# Flags V0 | ASCII, nearest to Pattern's defaults: \w \d \s \b and (?i) are ASCII-only in Java without
# UNICODE_CHARACTER_CLASS / UNICODE_CASE, as ASCII makes them. Java's `.` excludes \r \u0085 \u2028 \u2029
# too, regex's only \n, and neither reads ^ $ per line: the probes hold no line terminator, so both agree
# on them. V0, not V1: V1 reads `--` `||` `~~` in a class as set operations, Java as characters.
# Syntax that Java and regex read differently gets no verdict (None, with the reason) rather than a guess:
# _for_regex translates only \Q..\E quoting (Java's, one exact meaning: the text escaped), and refuses
# nested classes and `&&` intersections (Java's; V0 reads them as characters), escapes outside the short
# lists below (\p{..}: Java's POSIX and property names are not all regex's; \h \R \v \k \0 \c \e ...),
# groups Java has not or reads otherwise (flags after the start: Java sets them from there on; (?x) (?u)
# (?d) (?U), (?P (?# (?| (*VERB)), and a `{` that Java refuses but regex reads as text or fuzzy matching.
OPEN_PROBES = ("rtmp://attacker.invalid/live/x", "rtmps://evil.example:1935/app/key")
_MAX_PATTERN = 512
_MAX_PATTERNS = 50  # per list: each one may spend len(OPEN_PROBES) x _MATCH_TIMEOUT
# A probe is ~30 characters: a pattern Java could run decides in microseconds; 50 ms is a thousand times
# that on a loaded machine, and bounds a list at 50 x 2 x 50 ms = 5 s.
_MATCH_TIMEOUT = 0.05
_REGEX_FLAGS = regex.V0 | regex.ASCII
_SAME_ESCAPES = frozenset("dDwWsStnrfaxu")  # read alike by Java and regex, in a character class or not
_SAME_OUTSIDE = frozenset("bBAGZz123456789")  # and outside a class: boundaries, anchors, back-references
_REPETITION = re.compile(r"\{\d+(?:,\d*)?\}")
_GROUP = re.compile(r"\(\?(?:[:=!>]|<[=!]|<[A-Za-z][A-Za-z0-9]*>|[ims]*(?:-[ims]*)?[:)])")
_FLAG_GROUP = re.compile(r"\(\?[A-Za-z-]+[:)]")


class _NotEvaluated(Exception):
    """A pattern that Java and the regex module may read differently (the reason is the message)."""


def _for_regex(pattern: str) -> str:
    """The Java pattern as the regex module reads it alike: \\Q..\\E quoted text escaped."""
    out: list[str] = []
    i, in_class, flags_end = 0, False, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            e = pattern[i + 1:i + 2]
            if e == "Q":  # quoted up to \E, or to the end
                end = pattern.find("\\E", i + 2)
                end = len(pattern) if end < 0 else end
                out.append(regex.escape(pattern[i + 2:end], special_only=False))
                i = end + 2
                continue
            if not e:
                raise _NotEvaluated("trailing backslash")
            if not (e in _SAME_ESCAPES or (e in _SAME_OUTSIDE and not in_class) or (e.isascii() and not e.isalnum())):
                raise _NotEvaluated(f"escape '\\{e}' (Java and the regex module do not read it alike)")
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "[" or pattern.startswith("&&", i):
                raise _NotEvaluated("nested or intersected character class (Java only)")
            in_class = c != "]"
        elif c == "[":
            start = i + 1 + (pattern[i + 1:i + 2] == "^")
            if pattern[start:start + 1] == "]":
                raise _NotEvaluated("']' first in a character class (Java and the regex module differ)")
            out.append(pattern[i:start])
            i, in_class = start, True
            continue
        elif c == "(" and pattern[i + 1:i + 2] in ("?", "*"):
            group = _GROUP.match(pattern, i)
            if group is None and _FLAG_GROUP.match(pattern, i):
                raise _NotEvaluated("flags other than i, m and s (Java and the regex module do not read them alike)")
            if group is None:
                raise _NotEvaluated(f"group construct '{short(pattern[i:i + 4], 4)}' (not Java's, or read otherwise)")
            if group.group().endswith(")"):  # (?i): from the start Java and regex agree; later only Java scopes it
                if i != flags_end:
                    raise _NotEvaluated("flags set after the start of the pattern")
                flags_end = group.end()
            out.append(group.group())
            i = group.end()
            continue
        elif c == "{" and not _REPETITION.match(pattern, i):
            raise _NotEvaluated("'{' that is not a repetition {n}, {n,} or {n,m} (an error to Java)")
        out.append(c)
        i += 1
    return "".join(out)


def open_pattern(pattern: str) -> tuple[bool | None, str]:
    """(True: it admits RTMP servers on any host, and the probe it admits / False: it does not /
    None: not decided, why)."""
    if len(pattern) > _MAX_PATTERN:
        return None, f"longer than {_MAX_PATTERN} characters"
    try:
        compiled = regex.compile(_for_regex(pattern), _REGEX_FLAGS)
        for probe in OPEN_PROBES:
            if compiled.fullmatch(probe, timeout=_MATCH_TIMEOUT):
                return True, probe
    except _NotEvaluated as exc:
        return None, str(exc)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        return None, f"not compiled: {short(str(exc), 80)}"
    except TimeoutError:
        return None, "too costly to evaluate"
    return False, ""
