"""Secret hygiene beyond strength: one secret reused for unrelated purposes, and secret files others can read.

Only setting names, reuse groups and file modes are looked at; values never reach this module.
"""

from __future__ import annotations

import posixpath
import re

from auditor.collect.plan import is_private_key_name
from auditor.collect.stream import MAX_KEY_LENGTH
from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.model import NO_SECRET, NO_SECRET_FILE, CheckResult, Evidence, Severity
from auditor.parsers.base import Location
from auditor.redaction import MARKER_PREFIX
from auditor.registry import check
from auditor.secret_settings import SecretSetting, secret_settings
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot
from checks._common import not_parsed

# Settings that hold the same secret BY DESIGN are given the same purpose (e.g. the TURN secret lives in
# prosody and in coturn; jicofo's XMPP password in jicofo.conf, the legacy config and docker's .env).
_PURPOSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("turn", re.compile(r"external_service_secret|turncredentials_secret|static-auth-secret|turn_credentials|turn_secret|external_services", re.I)),
    # docker-jitsi-meet renders JICOFO_AUTH_PASSWORD into the client, service and visitors (vN) connections.
    ("jicofo-xmpp", re.compile(r"jicofo\.xmpp\.(?:client|service|visitors\.[^.]+)\.password|jicofo_auth_password|jicofo\.auth\.pass", re.I)),
    ("jicofo-component", re.compile(r"focus\.[^/]*/component_secret|jicofo_secret|jicofo_component_secret", re.I)),
    # The Debian package writes one debconf value (jvbsecret) to JVB_SECRET, the shard PASSWORD and the component;
    # docker-jitsi-meet writes JVB_AUTH_PASSWORD to every configs.shard<N>.PASSWORD (any name: the shard's).
    ("jvb", re.compile(r"xmpp-client\.configs\.[^.]+\.password|jvb_auth_password|videobridge\.xmpp\.user\.[^.]+\.password", re.I)),
    ("jvb", re.compile(r"jitsi-videobridge\.[^/]*/component_secret|jvb_secret|jvb_component_secret", re.I)),
    ("jwt", re.compile(r"app_secret|jwt_app_secret", re.I)),
    ("jibri-control", re.compile(r"control-login\.password|jibri_xmpp_password", re.I)),
    ("jibri-recorder", re.compile(r"call-login\.password|jibri_recorder_password", re.I)),
    ("jigasi", re.compile(r"jigasi_xmpp_password|jigasi\.xmpp\.acc\.pass|org\.jitsi\.jigasi\..*pass", re.I)),
    ("jigasi-transcriber", re.compile(r"jigasi_transcriber_password", re.I)),
    ("ldap-bind", re.compile(r"ldap_bind_pw|ldap_bindpw|ldap_password|ldap_bindpw", re.I)),
)
# Whole-line comment starts by format (default: "#": nginx, Apache, coturn, dotenv, YAML, saslauthd).
_COMMENT_PREFIXES: dict[Role, tuple[str, ...]] = {
    Role.PROSODY_MAIN: ("--",), Role.PROSODY_INCLUDE: ("--",),
    Role.CONFIG_JS: ("//",), Role.INTERFACE_CONFIG_JS: ("//",),
    Role.JICOFO_CONF: ("#", "//"), Role.JVB_CONF: ("#", "//"), Role.JIBRI_CONF: ("#", "//"),
    Role.JICOFO_PROPERTIES: ("#", "!"), Role.JVB_PROPERTIES: ("#", "!"), Role.JIGASI_PROPERTIES: ("#", "!"),
}  # fmt: skip


def purpose(s: SecretSetting) -> str:
    bare = s.name.split(": ", 1)[-1]
    for name, regex in _PURPOSES:
        if regex.search(bare):
            return name
    return re.split(r"[./]", bare)[-1].lower()  # unknown: the same key in two files is one purpose


@check(
    "secrets.reuse",
    title="No secret is reused for unrelated purposes",
    severity=Severity.HIGH,
    criteria=("enc.key_strength", "auth.password_policy"),
    rationale="""When the same value protects two different things (the TURN secret and jicofo's password, the
    JWT secret and a service account) one leak opens both, and rotating one breaks the other. Settings that
    share a value by design (the TURN secret in prosody and coturn, jicofo's password in jicofo.conf and the
    docker .env) are not counted.""",
    remediation="""Generate a separate random value for each purpose (openssl rand -hex 32) and update both ends of
    each pair (e.g. prosody external_service_secret and coturn static-auth-secret keep sharing theirs).""",
    references=("https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html",),
)
def reuse(ctx: AuditContext) -> CheckResult:
    # In a repository a template expression (`{{ vault_pw }}`, `$(openssl rand -hex 16)`) is filled in at
    # deploy time: whether two of them yield one value is not in the tree
    skipped = ("empty", "reference") if ctx.deployment.snapshot.configuration_tree() else ("empty",)
    settings = [s for s in secret_settings(ctx.deployment) if s.verdict.secret_class not in skipped]
    unread = ctx.view.unreadable_paths()  # a file that may hold secrets was not read: never a pass
    unparsed = not_parsed(ctx, skip=(Role.CERTIFICATE,))  # read, not parsed: its settings are unknown
    gap = f"{unread[0]} could not be read" if unread else unparsed
    if not settings:
        if gap:
            return CheckResult.unclear(f"cannot tell: no secret among the files read, but {gap}")
        return CheckResult.not_applicable(NO_SECRET)
    groups: dict[int, list[SecretSetting]] = {}
    for s in settings:
        groups.setdefault(s.verdict.group, []).append(s)
    reused = [g for g in groups.values() if len({purpose(s) for s in g}) > 1]
    if reused:
        parts = [" = ".join(sorted({s.name for s in g})) for g in reused]
        evidence = [Evidence(s.location, f"{s.name}: reuse group {s.verdict.group}") for g in reused for s in g]
        if unparsed:  # which settings share a value by design is read from the parsed components
            return CheckResult.unclear(f"cannot tell: {len(reused)} secret value(s) shared between settings "
                                       f"({'; '.join(parts)}), but whether by design is unknown: {unparsed}", *evidence)
        return CheckResult.failed(f"{len(reused)} secret value(s) shared across purposes: " + "; ".join(parts), *evidence)
    shared = sum(1 for g in groups.values() if len(g) > 1)
    note = f" ({shared} pair(s) shared by design)" if shared else ""
    if gap:
        return CheckResult.unclear(
            f"cannot tell: {len(settings)} secret setting(s) read, none reused across purposes{note}, but {gap}"
        )
    return CheckResult.passed(f"{len(settings)} secret setting(s), no value reused across purposes{note}")


def live_secrets(text: str, role: Role | None) -> int:
    """How many redaction markers stand outside comment lines in `text` (a file of `role`).

    Redaction replaces a secret-looking value wherever it stands, comments included, so that nothing
    leaks. A file whose markers are all on comment lines (Debian's example.com.cfg.lua and prosody.cfg.lua:
    `--component_secret = "password"`) holds no secret. Only whole-line comments count: a marker inside a
    block comment (`--[[ ]]`, `/* */`) is still counted, as a live one would be."""
    prefixes = _COMMENT_PREFIXES.get(role, ("#",)) if role is not None else ("#",)
    return sum(line.count(MARKER_PREFIX) for line in text.splitlines()
               if MARKER_PREFIX in line and not line.lstrip().startswith(prefixes))


def _secret_bearing(ctx: AuditContext) -> list[tuple[str, int | None, str]]:
    """(path, mode, why) for every collected file that holds a secret or a private key."""
    roles = {f.path: f.role for f in ctx.deployment.files}
    out = []
    for item in ctx.deployment.snapshot.files():
        if item.status == ItemStatus.MISSING:  # a key a configuration names but the host lacks (example.com.key)
            continue
        role = roles.get(item.key)
        # by name too (the plan's list): the collector never takes their content, so discovery may give no role
        if role in (Role.PRIVATE_KEY, Role.PROSODY_ACCOUNT) or is_private_key_name(item.key):
            out.append((item.key, item.mode, "private key or account file"))
        elif item.redactions > 0 and (live := live_secrets(item.text(), role)):
            out.append((item.key, item.mode, f"{live} secret(s)"))
    return out


@check(
    "secrets.file_permissions",
    title="Files holding secrets or private keys are not world-readable",
    severity=Severity.MEDIUM,
    criteria=("enc.key_strength", "enc.at_rest_provider"),
    rationale="""The prosody Jitsi file (TURN and JWT secrets), jicofo.conf, jvb.conf, the .env, turnserver.conf and
    the TLS keys give whoever reads them control of the deployment. A world-readable mode hands them to every
    local account and compromised service on the host, unless a directory above the file keeps others out
    (/etc/jitsi/jicofo is 0750 on Debian): the collector reports those directories' modes too.""",
    remediation="""chmod o-rwx on each file listed (e.g. chmod 640 /etc/prosody/conf.avail/meet.example.org.cfg.lua
    with group prosody; chmod 600 /etc/jitsi/meet/meet.example.org.key).""",
    references=("https://jitsi.github.io/handbook/docs/devops-guide/devops-guide-quickstart",),
)
def file_permissions(ctx: AuditContext) -> CheckResult:
    files = _secret_bearing(ctx)
    if not files:
        return CheckResult.not_applicable(NO_SECRET_FILE)
    snap = ctx.deployment.snapshot
    if snap.transport == "dir" and (snap.root or "/").rstrip("/") not in ("",):
        return CheckResult.unclear(
            f"cannot tell: the modes are those of the copy under {snap.root}, not necessarily the deployment's"
        )
    readable = [(p, m, why) for p, m, why in files if m is not None and m & 0o004]
    dirs = directory_modes(snap)
    shut = {p: closed for p, _, _ in readable if (item := snap.get(p)) and (closed := closed_directory(snap, dirs, item))}
    exposed = [(p, m, why) for p, m, why in readable if p not in shut]
    if exposed:
        return CheckResult.failed(
            f"{len(exposed)} secret-bearing file(s) are world-readable",
            *[Evidence(Location(p), f"mode {m:04o}: {why}") for p, m, why in exposed],
        )
    unknown = [p for p, m, _ in files if m is None]
    if unknown:
        return CheckResult.unclear(f"cannot tell: no recorded mode for {len(unknown)} secret-bearing file(s), e.g. {unknown[0]}")
    if shut:
        path, (directory, mode) = next(iter(shut.items()))
        return CheckResult.passed(
            f"{len(files)} secret-bearing file(s), none readable by others: {len(shut)} world-readable by mode "
            f"inside a directory others cannot search (e.g. {path} in {directory}, {mode:04o})",
            *[Evidence(Location(p), f"in {d} ({m:04o}): others cannot reach it") for p, (d, m) in shut.items()],
        )
    return CheckResult.passed(f"{len(files)} secret-bearing file(s), none world-readable")


# MODE:TYPE:PATH lines of the collector's dir_modes fact (`stat -c '%a:%F:%n'`, PATH with the root prefix).
_DIR_MODE_LINE = re.compile(r"([0-7]{3,4}):([a-z ]{1,40}):(/[^\n]{0,4095})")


def directory_modes(snap: Snapshot) -> dict[str, tuple[int, bool]]:
    """path -> (mode, is a directory) for the directories above the collected files, as the collector
    reported them (an older collector, a copied tree: none)."""
    prefix = (snap.facts.get("root_prefix") or "").rstrip("/")
    out: dict[str, tuple[int, bool]] = {}
    raw = snap.facts.get("dir_modes") or ""
    lines = raw.splitlines()
    if len(raw) >= MAX_KEY_LENGTH:  # cut by the stream decoder: the last line may be a shorter path
        lines = lines[:-1]
    for line in lines:
        m = _DIR_MODE_LINE.fullmatch(line)
        if m is None:
            continue
        path = m.group(3)
        if prefix:
            if not path.startswith(prefix + "/"):
                continue
            path = path[len(prefix) :]
        out[path] = (int(m.group(1), 8), m.group(2) == "directory")
    return out


def _chain(dirs: dict[str, tuple[int, bool]], path: str) -> list[tuple[str, int]] | None:
    """(directory, mode) for every directory above `path` (/ excepted), or None when one is not a known
    directory (not reported, or a symlink: then the path is not the file's real one)."""
    out = []
    d = posixpath.dirname(path)
    while d not in ("", "/"):
        entry = dirs.get(d)
        if entry is None or not entry[1]:
            return None
        out.append((d, entry[0]))
        d = posixpath.dirname(d)
    return out


def closed_directory(snap: Snapshot, dirs: dict[str, tuple[int, bool]], item: CollectedItem) -> tuple[str, int] | None:
    """A directory above the file that others cannot search (no o+x), so a world-readable mode does not
    let them read it; None when there is none or the path up to the file is not known for certain.

    Every way to a file goes through the directories of its real path, so one of them closed is enough.
    A symlink (conf.d -> ../conf.avail/x) counts through its target when the target was collected as a
    file of its own and the link's own directories are known (then `..` is what the kernel follows).
    Not covered: a second hard link elsewhere, ACLs."""
    path = item.key
    if item.link_target is not None:
        link = item.link_target
        if _chain(dirs, path) is None:
            return None
        path = posixpath.normpath(link if link.startswith("/") else posixpath.join(posixpath.dirname(path), link))
        target = snap.get(path)
        if target is None or target.link_target is not None:
            return None
    chain = _chain(dirs, path)
    return next(((d, mode) for d, mode in reversed(chain) if not mode & 0o001), None) if chain else None
