"""Meeting access control and in-meeting moderation features offered by the server."""

from __future__ import annotations

from auditor.context import AuditContext
from auditor.model import CheckResult, Severity
from auditor.registry import check

TEMPLATE = "https://github.com/jitsi/jitsi-meet/blob/master/doc/debian/jitsi-meet-prosody/prosody.cfg.lua-jvb.example"


@check(
    "rooms.lobby_available",
    title="Lobby (waiting room) is available",
    severity=Severity.MEDIUM,
    criteria=("mgmt.access_control",),
    rationale="""The lobby lets moderators admit participants one by one; without mod_muc_lobby_rooms and its
    component, the only access control left is a room password.""",
    remediation="""On the main VirtualHost: modules_enabled = { ..., "muc_lobby_rooms" }; lobby_muc = "lobby.meet.example.org"
    and add Component "lobby.meet.example.org" "muc".""",
    references=(TEMPLATE,),
)
def lobby_available(ctx: AuditContext) -> CheckResult:
    return ctx.from_fact(
        "lobby.enabled", good=True, pass_msg="the lobby is configured", fail_msg="the lobby is not configured"
    )


@check(
    "rooms.breakout_rooms",
    title="Breakout rooms are available",
    severity=Severity.INFO,
    criteria=("mgmt.in_meeting_controls",),
    rationale="Breakout rooms are a moderator-controlled in-meeting feature enforced by prosody.",
    remediation="""modules_enabled = { ..., "muc_breakout_rooms" }; breakout_rooms_muc = "breakout.meet.example.org"
    and Component "breakout.meet.example.org" "muc".""",
    references=(TEMPLATE,),
)
def breakout_rooms(ctx: AuditContext) -> CheckResult:
    return ctx.from_fact(
        "rooms.breakout",
        good=True,
        pass_msg="breakout rooms are configured",
        fail_msg="breakout rooms are not configured",
    )


@check(
    "rooms.av_moderation",
    title="Audio/video moderation is enforced by the server",
    severity=Severity.LOW,
    criteria=("mgmt.in_meeting_controls",),
    rationale="""AV moderation lets moderators decide who may unmute audio, video or share the screen, enforced
    server-side by the av_moderation component rather than by the client alone.""",
    remediation='Add Component "avmoderation.meet.example.org" "av_moderation_component" with muc_component set.',
    references=(TEMPLATE,),
)
def av_moderation(ctx: AuditContext) -> CheckResult:
    return ctx.from_fact(
        "moderation.av",
        good=True,
        pass_msg="AV moderation component configured",
        fail_msg="no AV moderation component",
    )


@check(
    "rooms.rate_limits",
    title="XMPP traffic and joins are rate limited",
    severity=Severity.MEDIUM,
    criteria=("mgmt.access_control",),
    rationale="""Without prosody limits or rate-limit modules one client can flood the server or brute-force
    room passwords and logins.""",
    remediation="""Global: limits = { c2s = { rate = "10kb/s" }; s2sin = { rate = "30kb/s" } }, and
    modules_enabled = { "muc_rate_limit" } on the conference component (or nginx limit_req on /http-bind).""",
    references=("https://prosody.im/doc/modules/mod_limits",),
)
def rate_limits(ctx: AuditContext) -> CheckResult:
    return ctx.from_fact(
        "xmpp.rate_limit",
        good=True,
        pass_msg="rate limiting is configured",
        fail_msg="no rate limiting on XMPP",
    )


@check(
    "rooms.welcome_page_open",
    title="No public welcome page that creates rooms for anyone",
    severity=Severity.LOW,
    criteria=("mgmt.access_control",),
    rationale="""On an anonymous deployment the welcome page is a public meeting factory; on a secure domain it is
    harmless.""",
    remediation="In config.js: welcomePage: { disabled: true }, or require authentication to create rooms.",
    references=("https://jitsi.github.io/handbook/docs/devops-guide/devops-guide-quickstart",),
)
def welcome_page_open(ctx: AuditContext) -> CheckResult:
    welcome = ctx.fact("web.welcome_page")
    main = ctx.fact("auth.main")
    if welcome.value is False:
        return CheckResult.passed("the welcome page is disabled", *welcome.evidence)
    if main.value is None or welcome.value is None:
        return CheckResult.unclear("cannot tell: " + (welcome.note or main.note or "no evidence"))
    if main.value == "anonymous":
        return CheckResult.failed(
            "the welcome page lets anyone create rooms on an anonymous domain",
            *welcome.evidence,
            *main.evidence,
        )
    return CheckResult.passed(
        "the welcome page is on, but room creation requires authentication", *main.evidence
    )


@check(
    "rooms.meeting_password_policy",
    title="Room passwords follow a policy",
    severity=Severity.INFO,
    criteria=("auth.meeting_password_policy",),
    rationale="""Jitsi has no server-side room password policy; config.js roomPasswordNumberOfDigits at least forces
    numeric passwords of a fixed length in the client.""",
    remediation="In config.js: roomPasswordNumberOfDigits: 10",
    references=("https://github.com/jitsi/jitsi-meet/blob/master/config.js",),
)
def meeting_password_policy(ctx: AuditContext) -> CheckResult:
    view = ctx.view
    if not view.cfg_ok and view.env_ok:  # docker renders roomPasswordNumberOfDigits from this variable
        raw, evidence = view.env_get("ROOM_PASSWORD_DIGITS")
        found = [e for e in (evidence,) if e]
        if raw and raw.strip().isdigit() and int(raw) > 0:
            return CheckResult.passed(f"room passwords are {int(raw)} digits", *found)
        return CheckResult.failed("no room password policy (ROOM_PASSWORD_DIGITS unset)", *found)
    if not view.cfg_ok:
        return CheckResult.unclear("cannot tell: config.js not in the evidence")
    digits = view.js("roomPasswordNumberOfDigits")
    if isinstance(digits, int | float) and digits > 0:
        return CheckResult.passed(
            f"room passwords are {int(digits)} digits", view.js_ev("roomPasswordNumberOfDigits")
        )
    return CheckResult.failed("no room password policy", view.js_ev("roomPasswordNumberOfDigits"))
