"""Meeting access and moderation enforced by prosody: waiting for hosts, lobby, owners, limits, controls."""

from __future__ import annotations

from typing import Any

from auditor.context import AuditContext
from auditor.facts import View
from auditor.model import CheckResult, Evidence, Severity
from auditor.registry import check
from checks._client_era import Feature, client_predating
from checks._common import (
    NO_MUC,
    complete_prosody,
    conference_mucs,
    docker_flag,
    evs,
    module_hosts,
    prosody_or_docker,
    section_ev,
    token_hosts,
    why_missing,
)

TEMPLATE = "https://github.com/jitsi/jitsi-meet/blob/master/doc/debian/jitsi-meet-prosody/prosody.cfg.lua-jvb.example"
PLUGINS = "https://github.com/jitsi/jitsi-meet/tree/master/resources/prosody-plugins"
CONTRIB = "https://github.com/jitsi-contrib/prosody-plugins"
LOBBY_AUTOSTART = ("muc_lobby_autostart", "lobby_autostart", "token_lobby_autostart", "persistent_lobby")


def _loaded_anywhere(ctx: AuditContext, modules: tuple[str, ...]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for module in modules:
        found.extend((module, host) for host in module_hosts(ctx.view, module))
    return found


def _module_ev(ctx: AuditContext, host: str, module: str) -> Evidence:
    v = ctx.view
    return section_ev(v, None if host == "global" else host, f"module {module} on {host}")


@check(
    "rooms.wait_for_host",
    title="Participants wait until an authenticated host opens the meeting",
    severity=Severity.MEDIUM,
    criteria=("mgmt.access_control", "auth.rbac"),
    rationale="""Unless jicofo requires authentication (secure domain) or mod_muc_wait_for_host holds
    participants, the first person to arrive creates the meeting and becomes its moderator: strangers can
    hold any room name before its host.""",
    remediation="""Secure domain: jicofo { authentication { enabled = true, type = XMPP, login-url = "meet.example.org" } },
    or with tokens: Component "conference.meet.example.org" "muc" modules_enabled = { ..., "muc_wait_for_host" }.""",
    references=("https://jitsi.github.io/handbook/docs/devops-guide/secure-domain", PLUGINS),
)
@complete_prosody
def wait_for_host(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    if v.prosody is not None:
        for muc in conference_mucs(v):
            if v.module_enabled(muc, "muc_wait_for_host"):
                return CheckResult.passed(
                    "mod_muc_wait_for_host holds participants until a host joins", _module_ev(ctx, muc, "muc_wait_for_host")
                )
    secure = ctx.fact("auth.secure_domain")
    main = ctx.fact("auth.main")
    if secure.value is True and main.value != "jwt":
        return CheckResult.passed("jicofo requires an authenticated host to start a meeting", *secure.evidence)
    if main.value == "jwt" and secure.value is False:  # tokens are optional (allow_empty_token)
        return CheckResult.failed(f"{secure.note}: the first to arrive opens the room and is its moderator", *secure.evidence, *main.evidence)
    if main.value == "jwt":
        return CheckResult.failed(
            "token authentication without muc_wait_for_host: any token holder opens the room and is moderator",
            *main.evidence,
        )
    if secure.value is False:
        return CheckResult.failed("the first participant starts the meeting and becomes moderator", *secure.evidence, *main.evidence)
    return CheckResult.unclear(f"cannot tell: {secure.note or main.note or 'no evidence'}")


@check(
    "rooms.persistent_lobby",
    title="The lobby is switched on for every meeting, not left to each moderator",
    severity=Severity.LOW,
    criteria=("mgmt.access_control",),
    rationale="""The lobby is available but off in every new meeting until a moderator enables it. Modules such as
    persistent_lobby (with muc_wait_for_host) or the contrib lobby_autostart make every meeting start with the
    waiting room on.""",
    remediation="""On the main VirtualHost: modules_enabled = { ..., "persistent_lobby" } together with
    muc_wait_for_host on the conference MUC (or jitsi-contrib's "muc_lobby_autostart").""",
    references=(PLUGINS, CONTRIB),
)
@prosody_or_docker(CheckResult.failed("docker-jitsi-meet enables the lobby per meeting only (no persistent lobby)"))
def persistent_lobby(ctx: AuditContext) -> CheckResult:
    lobby = ctx.fact("lobby.enabled")
    if lobby.value is False:
        return CheckResult.failed("there is no lobby at all", *lobby.evidence)
    found = _loaded_anywhere(ctx, LOBBY_AUTOSTART)
    if found:
        module, host = found[0]
        return CheckResult.passed(f"{module} turns the lobby on for every meeting", _module_ev(ctx, host, module))
    if lobby.value is None:  # e.g. a prosody without a Jitsi VirtualHost: nothing to say about its meetings
        return CheckResult.unclear(f"cannot tell: {lobby.note or 'the lobby is not in the evidence'}", *lobby.evidence)
    return CheckResult.failed("the lobby is off in every meeting until a moderator turns it on", *lobby.evidence)


def _component(ctx: AuditContext, ctype: str) -> str | None:
    for name, t in ctx.view.components().items():
        if t == ctype:
            return name
    return None


@check(
    "rooms.end_conference",
    title="Moderators can end the meeting for everyone (end_conference component)",
    severity=Severity.LOW,
    criteria=("mgmt.in_meeting_controls",),
    rationale="""The end_conference component lets a moderator close the meeting for all participants,
    server-side; without it a moderator can only leave or kick people one by one.""",
    remediation="""Component "endconference.meet.example.org" "end_conference"
        muc_component = "conference.meet.example.org"
    and on the main VirtualHost: end_conference_component = "endconference.meet.example.org".""",
    references=(TEMPLATE,),
)
@prosody_or_docker(docker_flag("ENABLE_END_CONFERENCE", True,
    on=CheckResult.passed("the docker prosody image adds the end_conference component"),
    off=CheckResult.failed("ENABLE_END_CONFERENCE is off")))  # fmt: skip
def end_conference(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    comp = _component(ctx, "end_conference")
    if comp:
        return CheckResult.passed("moderators can end the meeting for all", section_ev(v, comp))
    if v.main_host is None:
        return CheckResult.unclear(why_missing(ctx, "prosody configuration"))
    return CheckResult.failed("no end_conference component", section_ev(v, v.main_host))


# Polls reached the client in 2021-08 (jitsi-meet PR 9166; the postinst's polls component followed):
# stable 6173 (2021-08-11) is the earliest release that may carry them.
POLLS = Feature("polls", web_build=5211, stable=6173)


@check(
    "rooms.polls_server_side",
    title="Polls are validated by the server, or disabled",
    severity=Severity.LOW,
    criteria=("mgmt.in_meeting_controls",),
    rationale="""Polls travel as chat messages; without the server-side polls component (or mod_polls on the
    MUC) participants can forge votes and results (JSA-2022-0004). Disable polls where they are not needed.""",
    remediation="""Component "polls.meet.example.org" "polls_component" (with the main VirtualHost pointing at it), or
    in config.js: disablePolls: true. Docker: keep DISABLE_POLLS unset, or set it to true to remove polls.""",
    references=(TEMPLATE, "https://github.com/jitsi/security-advisories"),
)
@prosody_or_docker()
def polls_server_side(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    older = client_predating(v, POLLS)
    if older is not None:
        return CheckResult.passed(f"the client ({older.what}) predates polls ({POLLS.since()})", *evs(older.evidence))
    if v.cfg_ok and v.js("disablePolls") is True:
        return CheckResult.passed("polls are disabled in config.js", v.js_ev("disablePolls"))
    if v.prosody is None:
        disabled, where = v.env_flag("DISABLE_POLLS", False)
        if disabled:
            return CheckResult.passed("polls are disabled (DISABLE_POLLS)", *evs(where))
        return CheckResult.passed("the docker prosody image adds the polls component", *evs(where))
    comp = _component(ctx, "polls_component")
    if comp:
        return CheckResult.passed("polls are handled by the server-side polls component", section_ev(v, comp))
    mucs = [m for m in conference_mucs(v) if v.module_enabled(m, "polls")]
    if mucs:
        return CheckResult.passed("mod_polls validates polls on the conference MUC", _module_ev(ctx, mucs[0], "polls"))
    if v.main_host is None:  # unreadable or without a Jitsi host: the component may be where we cannot see
        return CheckResult.unclear(why_missing(ctx, "prosody configuration"))
    polls_ev = [v.js_ev("disablePolls")] if v.cfg_ok else []
    return CheckResult.failed("polls are enabled in the client without server-side validation", *polls_ev)


@check(
    "rooms.moderator_rights",
    title="Moderator rights are not handed to every participant (muc_allowners)",
    severity=Severity.HIGH,
    criteria=("auth.rbac", "mgmt.access_control"),
    rationale="""mod_muc_allowners makes every joining user an owner (moderator): anyone can kick, mute, lock
    the room or end the meeting. It is only safe behind token authentication that already decided who may
    join.""",
    remediation="""Remove "muc_allowners" from the conference MUC's modules_enabled, or use token authentication with
    allowners_moderated_subdomains / token_affiliation to grant moderator from the token.""",
    references=(PLUGINS, CONTRIB),
)
@prosody_or_docker(CheckResult.passed("the docker prosody image does not load muc_allowners"))
def moderator_rights(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    hosts = module_hosts(v, "muc_allowners")
    if not hosts:
        affil = module_hosts(v, "token_affiliation") or module_hosts(v, "token_moderation")
        note = " (moderator rights come from the token)" if affil else ""
        return CheckResult.passed("no module grants moderator rights to everyone" + note)
    where = [_module_ev(ctx, h, "muc_allowners") for h in hosts]
    if token_hosts(v) and ctx.fact("auth.main").value == "jwt":
        return CheckResult.passed("muc_allowners is used behind mandatory token authentication", *where)
    return CheckResult.failed("muc_allowners makes every participant a moderator", *where)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip().strip("\"'"))
    except ValueError:
        return None


def _max_participants(v: View) -> CheckResult:
    value, where = v.env_get("MAX_PARTICIPANTS")
    n = _int(value) if value else None
    if n and n > 0:
        return CheckResult.passed(f"meetings are limited to {n} participants", *evs(where))
    return CheckResult.failed("MAX_PARTICIPANTS is not set: no participant limit", *evs(where))


@check(
    "rooms.max_occupants",
    title="Meetings have a participant limit (muc_max_occupants)",
    severity=Severity.LOW,
    criteria=("mgmt.access_control",),
    rationale="""Without a size limit one meeting can absorb the whole bridge (or be flooded by bots); mod_muc_max_occupants
    caps the number of participants per room.""",
    remediation="""Component "conference.meet.example.org" "muc"
        modules_enabled = { ..., "muc_max_occupants" }
        muc_max_occupants = 100
    Docker: MAX_PARTICIPANTS=100""",
    references=(PLUGINS,),
)
@prosody_or_docker(_max_participants)
def max_occupants(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    mucs = conference_mucs(v)
    if not mucs:
        return NO_MUC
    for muc in mucs:
        if v.module_enabled(muc, "muc_max_occupants"):
            got = v.p_get(muc, "muc_max_occupants")
            n = _int(got[0]) if got else None
            if got and n and n > 0:
                return CheckResult.passed(f"meetings are limited to {n} participants", got[1])
            return CheckResult.failed("muc_max_occupants is loaded without a limit", section_ev(v, muc))
    return CheckResult.failed("no participant limit on the conference MUC", *[section_ev(v, m) for m in mucs])


@check(
    "rooms.join_rate_limit",
    title="Joins and leaves on the conference MUC are rate limited (muc_rate_limit)",
    severity=Severity.LOW,
    criteria=("mgmt.access_control",),
    rationale="""mod_muc_rate_limit queues joins beyond a few per second per room, which blunts join floods and
    room-password guessing.""",
    remediation="""Component "conference.meet.example.org" "muc"
        modules_enabled = { ..., "muc_rate_limit" }
    Docker: PROSODY_ENABLE_RATE_LIMITS=1""",
    references=(TEMPLATE,),
)
@prosody_or_docker(docker_flag("PROSODY_ENABLE_RATE_LIMITS", False,
    on=CheckResult.passed("PROSODY_ENABLE_RATE_LIMITS loads muc_rate_limit and rate_limit"),
    off=CheckResult.failed("PROSODY_ENABLE_RATE_LIMITS is off: no join rate limit")))  # fmt: skip
def join_rate_limit(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    mucs = conference_mucs(v)
    if not mucs:
        return NO_MUC
    limited = [m for m in mucs if v.module_enabled(m, "muc_rate_limit")]
    if limited:
        return CheckResult.passed("muc_rate_limit is loaded on the conference MUC", _module_ev(ctx, limited[0], "muc_rate_limit"))
    return CheckResult.failed("joins are not rate limited", *[section_ev(v, m) for m in mucs])


@check(
    "rooms.meeting_passwords",
    title="Moderators can protect meetings with a password",
    severity=Severity.INFO,
    criteria=("auth.meeting_passwords",),
    rationale="""Room passwords are XMPP MUC passwords enforced by prosody; config.js can hide the option
    (securityUi.disableLobbyPassword, or a toolbar without the security button).""",
    remediation="""Keep a conference MUC component and do not set securityUi: { disableLobbyPassword: true } in config.js.""",
    references=("https://jitsi.github.io/handbook/docs/user-guide/user-guide-advanced",),
)
@prosody_or_docker()
def meeting_passwords(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    if v.cfg_ok and v.js("securityUi.disableLobbyPassword") is True:
        return CheckResult.failed("config.js hides the room password option", v.js_ev("securityUi.disableLobbyPassword"))
    if v.prosody is None:
        return CheckResult.passed("the docker prosody image provides a password-capable conference MUC")
    mucs = conference_mucs(v)
    if not mucs:
        return NO_MUC
    return CheckResult.passed("moderators can lock meetings with a password", section_ev(v, mucs[0]))


@check(
    "xmpp.connection_limits",
    title="Prosody throttles client connections (limits)",
    severity=Severity.LOW,
    criteria=("mgmt.access_control",),
    rationale="""mod_limits caps the bandwidth of each client and server connection (limits = { c2s = ... }): one
    client cannot saturate prosody. The upstream prosody and docker templates set it; old hand-written configs
    often lack it.""",
    remediation="""Global section of prosody.cfg.lua: modules_enabled = { ..., "limits" } and
    limits = { c2s = { rate = "10kb/s" }; s2sin = { rate = "30kb/s" } }""",
    references=("https://prosody.im/doc/modules/mod_limits",),
)
@prosody_or_docker(CheckResult.passed("the docker prosody image sets c2s and s2s limits"))
def connection_limits(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    assert v.prosody is not None
    limits = v.p_get(None, "limits")
    loaded = v.module_enabled(None, "limits")
    if limits is not None and isinstance(limits[0], dict) and limits[0].get("c2s") and loaded:
        return CheckResult.passed("client connections are rate limited by mod_limits", limits[1])
    if v.prosody.main_path is None:
        return CheckResult.unclear(
            "cannot tell: limits are set in prosody.cfg.lua, which is not in the evidence",
            *([limits[1]] if limits else []),
        )
    if limits is not None and not loaded:
        return CheckResult.failed("limits is set but mod_limits is not loaded", limits[1])
    return CheckResult.failed("no c2s limits in prosody", section_ev(v, None))
