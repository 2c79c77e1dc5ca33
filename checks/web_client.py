"""The web client's config.js and interface_config.js: privacy, third parties, recording, controls, secrets.

config.js is served publicly at /config.js: everything in it is readable by anyone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.facts import View, is_third_party_host, stun_host, third_party_doubt
from auditor.model import CheckResult, Evidence, Severity, Status
from auditor.registry import CheckFn, check
from auditor.secret_settings import secret_settings
from checks._client_era import ClientRelease, Feature, client_predating
from checks._common import ev, evs, file_error, short, why_missing

CONFIG_JS = "https://github.com/jitsi/jitsi-meet/blob/master/config.js"
INTERFACE_JS = "https://github.com/jitsi/jitsi-meet/blob/master/interface_config.js"
_ANALYTICS = (
    "analytics.amplitudeAPPKey",
    "analytics.googleAnalyticsTrackingId",
    "googleAnalyticsTrackingId",
    "analytics.matomoEndpoint",
    "analytics.scriptURLs",
    "analytics.rtcstatsEnabled",
    "analytics.rtcstatsEndpoint",
    "analytics.watchRTCEnabled",
    "callStatsID",
    "callStatsSecret",
)
_ANALYTICS_ENV = ("AMPLITUDE_ID", "GOOGLE_ANALYTICS_ID", "MATOMO_ENDPOINT", "ANALYTICS_SCRIPT_URLS", "RTCSTATS_ENABLED")


def _set(value: Any) -> bool:
    return value not in (None, "", False, [], {}, 0)


def _client_config(docker: CheckResult | None = None) -> Callable[[CheckFn], CheckFn]:
    """A check of the client configuration: unclear without a usable config.js or docker .env. With
    only the .env, `docker` (when given) is the verdict on the config.js the docker web image writes;
    without it the check judges the .env itself."""

    def decorate(fn: CheckFn) -> CheckFn:
        @functools.wraps(fn)
        def run(ctx: AuditContext) -> CheckResult:
            v = ctx.view
            if not v.cfg_ok and not v.env_ok:
                return CheckResult.unclear(why_missing(ctx, "config.js"))
            result = docker if not v.cfg_ok and docker is not None else fn(ctx)
            # a config.js that is there but was not read or parsed: a pass judged without it is unfounded
            if result.status is Status.PASS and not v.cfg_ok and (gap := file_error(ctx, Role.CONFIG_JS)):
                return CheckResult.unclear(f"cannot tell: {gap}", *result.evidence)
            return result

        return run

    return decorate


def _iface(ctx: AuditContext) -> tuple[str, Any] | None:
    pf = ctx.deployment.interface_config_js
    if pf is None or pf.value is None:
        return None
    return pf.path, pf.value


@check(
    "web.p2p_stun_servers",
    title="Peer-to-peer calls use the operator's own STUN servers",
    severity=Severity.MEDIUM,
    criteria=("jur.data_location", "jur.privacy"),
    rationale="""In one-to-one calls each browser asks the p2p.stunServers for its public address. config.js ships
    with meet-jit-si-turnrelay.jitsi.net (8x8); with no setting at all lib-jitsi-meet falls back to the same
    8x8 or Google servers. Every participant's address then reaches a third party.""",
    remediation="""config.js: p2p: { enabled: true, stunServers: [ { urls: 'stun:meet.example.org:3478' } ] } (or
    p2p.enabled: false). Docker: P2P_STUN_SERVERS=stun:meet.example.org:3478""",
    references=(CONFIG_JS,),
)
@_client_config()
def p2p_stun_servers(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    p2p = ctx.fact("p2p.enabled")
    if p2p.value is False:
        return CheckResult.not_applicable("peer-to-peer mode is disabled", *p2p.evidence)
    own = v.own_domains()  # docker: the public host, not only the internal XMPP domain
    urls: list[str] = []
    if v.cfg_ok:
        servers = v.js("p2p.stunServers")
        where = evs(v.js_ev("p2p.stunServers"))
        if not isinstance(servers, list) or not servers:
            return CheckResult.failed("p2p.stunServers not set: lib-jitsi-meet's third-party default applies", *where)
        for entry in servers:
            raw = entry.get("urls") if isinstance(entry, dict) else entry
            urls += [u for u in (raw if isinstance(raw, list) else [raw]) if isinstance(u, str)]
    else:
        raw_env, env_where = v.env_get("P2P_STUN_SERVERS")
        where = evs(env_where)
        if not raw_env:
            return CheckResult.failed("P2P_STUN_SERVERS not set: lib-jitsi-meet's third-party default applies", *where)
        urls = raw_env.split(",")
    third = [u for u in urls if is_third_party_host(stun_host(u), own)]
    if third:
        if doubt := third_party_doubt(v, [stun_host(u) for u in third]):
            return CheckResult.unclear(doubt, *where)
        return CheckResult.failed(f"P2P clients ask third-party STUN servers: {', '.join(third)}", *where)
    unreadable = [u for u in urls if not stun_host(u)]
    if unreadable:
        return CheckResult.unclear(f"cannot tell: no host in the STUN server {short(unreadable[0])}", *where)
    return CheckResult.passed("P2P STUN servers are the operator's own", *where)


@check(
    "web.ice_transport_policy",
    title="Peer-to-peer calls do not reveal participants' IP addresses to each other",
    severity=Severity.INFO,
    criteria=("jur.privacy",),
    rationale="""In P2P mode the two browsers connect directly and learn each other's public IP address.
    p2p.iceTransportPolicy: 'relay' (through the operator's TURN server) or p2p.enabled: false avoids it, at a
    cost in bandwidth.""",
    remediation="""config.js: p2p: { enabled: true, iceTransportPolicy: 'relay' } with a TURN server, or p2p: { enabled: false }.""",
    references=(CONFIG_JS,),
)
@_client_config()
def ice_transport_policy(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    p2p = ctx.fact("p2p.enabled")
    if p2p.value is False:
        return CheckResult.passed("peer-to-peer mode is disabled: media always goes through the bridge", *p2p.evidence)
    if v.cfg_ok:
        policy = v.js("p2p.iceTransportPolicy")
        if policy == "relay" or v.js("forceTurnRelay") is True:
            return CheckResult.passed("P2P media is relayed through TURN", v.js_ev("p2p.iceTransportPolicy"))
        return CheckResult.failed("P2P peers see each other's IP addresses", v.js_ev("p2p.iceTransportPolicy"))
    return CheckResult.failed("P2P is on (docker ENABLE_P2P): peers see each other's IP addresses", *p2p.evidence)


@check(
    "web.gravatar",
    title="Avatars are not fetched from Gravatar",
    severity=Severity.LOW,
    criteria=("jur.privacy", "jur.data_location"),
    rationale="""Users who enter an e-mail address get their avatar from gravatar.com: Automattic receives a hash
    of the address and every participant's IP address.""",
    remediation="""config.js: gravatar: { disabled: true } (or disableThirdPartyRequests: true).""",
    references=(CONFIG_JS,),
)
@_client_config(docker=CheckResult.failed("the docker config.js leaves Gravatar on"))
def gravatar(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    if v.js("gravatar.disabled") is True:
        return CheckResult.passed("Gravatar is disabled", v.js_ev("gravatar.disabled"))
    if v.js("disableThirdPartyRequests") is True:
        return CheckResult.passed("third-party requests (Gravatar included) are disabled", v.js_ev("disableThirdPartyRequests"))
    base = v.js("gravatar.baseUrl") or v.js("gravatarBaseURL")
    if isinstance(base, str) and base and not is_third_party_host(stun_host(base), v.own_domain()):
        return CheckResult.passed("avatars come from the operator's own Gravatar-compatible server", v.js_ev("gravatar.baseUrl"))
    return CheckResult.failed("avatars are fetched from Gravatar", v.js_ev("gravatar.disabled"))


@check(
    "web.analytics",
    title="No analytics or call statistics are sent to third parties",
    severity=Severity.MEDIUM,
    criteria=("jur.privacy", "jur.data_location", "jur.vendor_access"),
    rationale="""Amplitude, Google Analytics, Matomo, rtcstats, watchRTC, analytics scripts and callstats receive
    usage data, meeting metadata and participants' addresses from every browser.""",
    remediation="""Remove analytics.* keys, googleAnalyticsTrackingId and callStatsID/callStatsSecret from config.js
    (docker: unset AMPLITUDE_ID, GOOGLE_ANALYTICS_ID, MATOMO_ENDPOINT, ANALYTICS_SCRIPT_URLS, RTCSTATS_ENABLED).""",
    references=(CONFIG_JS,),
)
@_client_config()
def analytics(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    if v.cfg_ok:
        used = [k for k in _ANALYTICS if _set(v.js(k))]
        if used:
            return CheckResult.failed(f"usage data goes to: {', '.join(used)}", *[v.js_ev(k) for k in used])
        return CheckResult.passed("no analytics or callstats configured")
    found = [(n, e) for n in _ANALYTICS_ENV for val, e in [v.env_get(n)] if val and val not in ("0", "false")]
    if found:
        return CheckResult.failed(f"usage data goes to: {', '.join(n for n, _ in found)}", *evs(*[e for _, e in found]))
    return CheckResult.passed("no analytics variable set in .env")


def _jaas_files(ctx: AuditContext) -> list[Evidence]:
    out = []
    for f in ctx.deployment.files:
        name = f.path.rsplit("/", 1)[-1]
        if (name == "jaas.cfg.lua" and f.active and "/conf.d/" in f.path) or "/jitsi/meet/jaas/" in f.path:
            out.append(ev(f.path, None, "JaaS configuration in use"))
    return out


@check(
    "web.jaas",
    title="The deployment does not depend on 8x8's JaaS",
    severity=Severity.MEDIUM,
    criteria=("jur.data_location", "jur.vendor_access"),
    rationale="""With JaaS components (chosen in the Debian installer or ENABLE_JAAS_COMPONENTS) the deployment
    contacts 8x8 services (conference mapper, public keys, rtcstats) and shares meeting metadata with them.""",
    remediation="""Unlink /etc/prosody/conf.d/jaas.cfg.lua, remove /etc/jitsi/meet/jaas/ includes from nginx and
    enableJaaS from config.js (docker: ENABLE_JAAS_COMPONENTS=0).""",
    references=("https://jaas.8x8.vc/",),
)
def jaas(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    found = _jaas_files(ctx)
    if v.cfg_ok and v.js("enableJaaS") is True:
        found.append(v.js_ev("enableJaaS"))
    if v.env_ok:
        flag, where = v.env_flag("ENABLE_JAAS_COMPONENTS", False)
        if flag and where:
            found.append(where)
    if found:
        return CheckResult.failed("JaaS (8x8) components are enabled", *found)
    if ctx.deployment.config_js is not None and not v.cfg_ok:
        return CheckResult.unclear(why_missing(ctx, "config.js"))
    if not v.cfg_ok and v.prosody is None and not v.env_ok:
        return CheckResult.unclear(why_missing(ctx, "config.js or prosody configuration"))
    return CheckResult.passed("no JaaS component in use")


@check(
    "web.insecure_room_name_warning",
    title="Users are warned about guessable room names",
    severity=Severity.LOW,
    criteria=("mgmt.access_control",),
    rationale="""Anyone who guesses a room name joins the meeting unless a lobby or password is set.
    enableInsecureRoomNameWarning (off by default) warns users who pick a short or common name.""",
    remediation="""config.js: enableInsecureRoomNameWarning: true, and keep GENERATE_ROOMNAMES_ON_WELCOME_PAGE: true in
    interface_config.js.""",
    references=(CONFIG_JS,),
)
@_client_config(docker=CheckResult.failed("the docker config.js does not enable the insecure room-name warning"))
def insecure_room_name_warning(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    if v.js("enableInsecureRoomNameWarning") is True:
        return CheckResult.passed("users are warned about insecure room names", v.js_ev("enableInsecureRoomNameWarning"))
    iface = _iface(ctx)
    extra: list[Evidence] = []
    note = ""
    if iface is not None and iface[1].get("GENERATE_ROOMNAMES_ON_WELCOME_PAGE") is False:
        note = "; the welcome page does not suggest random names either"
        extra.append(ev(iface[0], iface[1].line_of("GENERATE_ROOMNAMES_ON_WELCOME_PAGE"), "GENERATE_ROOMNAMES_ON_WELCOME_PAGE: false"))
    return CheckResult.failed("no warning for guessable room names" + note, v.js_ev("enableInsecureRoomNameWarning"), *extra)


@check(
    "web.local_recording_notify",
    title="Local (in-browser) recording is off or announced to everyone",
    severity=Severity.MEDIUM,
    criteria=("enc.files_recordings", "jur.privacy"),
    rationale="""Local recording saves the meeting on one participant's computer; by default the others are not
    notified (localRecording.notifyAllParticipants: false).""",
    remediation="""config.js: localRecording: { disable: true } or localRecording: { notifyAllParticipants: true }.
    Docker: DISABLE_LOCAL_RECORDING=1 or ENABLE_LOCAL_RECORDING_NOTIFY_ALL_PARTICIPANT=1""",
    references=(CONFIG_JS,),
)
@_client_config()
def local_recording_notify(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    older = client_predating(v, LOCAL_VIDEO_RECORDING)
    if older is not None and _audio_recording_on(v):
        return CheckResult.unclear(f"the client ({older.what}) {_PREDATES} and its audio-only local recording is "
                                   "enabled: whether the others are told is not a setting of that client",
                                   v.js_ev("localRecording.enabled"), *evs(older.evidence))
    if older is not None:
        return _audio_recording_off(v, older)
    if v.cfg_ok:
        if v.js("localRecording.disable") is True:
            return CheckResult.passed("local recording is disabled", v.js_ev("localRecording.disable"))
        if v.js("localRecording.notifyAllParticipants") is True:
            return CheckResult.passed("everyone is notified of local recordings", v.js_ev("localRecording.notifyAllParticipants"))
        return CheckResult.failed("participants can record locally without the others being told", v.js_ev("localRecording.notifyAllParticipants"))
    off, e1 = v.env_flag("DISABLE_LOCAL_RECORDING", False)
    notify, e2 = v.env_flag("ENABLE_LOCAL_RECORDING_NOTIFY_ALL_PARTICIPANT", False)
    if off or notify:
        return CheckResult.passed("local recording is disabled or announced", *evs(e1, e2))
    return CheckResult.failed("participants can record locally without the others being told", *evs(e1, e2))


# In-browser recording of the whole meeting (jitsi-meet PR 11338, on by default from PR 11731, 2022-06-23):
# stable 7439 (2022-06-17) is the earliest release that may carry it. Before, the client only had the
# 2018 audio-only local recording, off unless config.js set localRecording.enabled.
LOCAL_VIDEO_RECORDING = Feature("in-browser video recording", web_build=6260, stable=7439)


_PREDATES = f"predates {LOCAL_VIDEO_RECORDING.name} ({LOCAL_VIDEO_RECORDING.since()})"


def _audio_recording_on(v: View) -> bool:
    """The 2018 audio-only local recording of a client that predates in-browser recording: off unless this."""
    return v.cfg_ok and v.js("localRecording.enabled") is True


def _audio_recording_off(v: View, older: ClientRelease) -> CheckResult:
    cfg = [v.js_ev("localRecording.enabled")] if v.cfg_ok else []
    return CheckResult.passed(f"the client ({older.what}) {_PREDATES}; its audio-only local recording is off unless "
                              "localRecording.enabled", *cfg, *evs(older.evidence))


@check(
    "web.in_browser_recording",
    title="Participants cannot record meetings in the browser, where the files are saved unencrypted",
    severity=Severity.INFO,
    criteria=("enc.files_recordings",),
    rationale="""Since 2022 the client records the whole meeting in the participant's browser by default and saves
    the file, unencrypted, on that participant's computer: a recording the operator neither stores nor
    protects, whether or not the others are told.""",
    remediation="""config.js: localRecording: { disable: true }. Docker: DISABLE_LOCAL_RECORDING=1.""",
    references=(CONFIG_JS,),
)
@_client_config()
def in_browser_recording(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    older = client_predating(v, LOCAL_VIDEO_RECORDING)
    if older is not None and _audio_recording_on(v):  # each participant's file lands unencrypted
        return CheckResult.failed(f"the client ({older.what}) records audio locally (localRecording.enabled): "
                                  "the files are saved unencrypted on participants' computers",
                                  v.js_ev("localRecording.enabled"), *evs(older.evidence))
    if older is not None:
        return _audio_recording_off(v, older)
    if v.cfg_ok:
        if v.js("localRecording.disable") is True:
            return CheckResult.passed("in-browser recording is disabled", v.js_ev("localRecording.disable"))
        return CheckResult.failed("participants can record meetings in the browser; the files are saved unencrypted "
                                  "on their computers", v.js_ev("localRecording.disable"))
    off, where = v.env_flag("DISABLE_LOCAL_RECORDING", False)
    if off:
        return CheckResult.passed("in-browser recording is disabled (DISABLE_LOCAL_RECORDING)", *evs(where))
    return CheckResult.failed("participants can record meetings in the browser; the files are saved unencrypted on "
                              "their computers", *evs(where))


@check(
    "web.file_sharing",
    title="In-meeting file sharing is off, or its storage is accounted for",
    severity=Severity.LOW,
    criteria=("enc.files_recordings",),
    rationale="""fileSharing.enabled sends uploads to a file-sharing service that stores them in plain files;
    Jitsi encrypts them in transit only.""",
    remediation="""config.js: fileSharing: { enabled: false }, or keep the service's upload directory on an encrypted
    volume with a retention policy.""",
    references=("https://jitsi.github.io/handbook/docs/devops-guide/file-sharing",),
)
@_client_config(docker=CheckResult.passed("the docker config.js does not enable file sharing"))
def file_sharing(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    if v.js("fileSharing.enabled") is True:
        api = v.js("fileSharing.apiUrl")
        where = f" to {short(api, 60)}" if isinstance(api, str) else ""
        return CheckResult.failed(f"files shared in meetings are uploaded{where} and stored unencrypted", v.js_ev("fileSharing.enabled"))
    return CheckResult.passed("file sharing is off", v.js_ev("fileSharing.enabled"))


@check(
    "web.watermark",
    title="The watermark shown is the operator's, not a link to jitsi.org",
    severity=Severity.INFO,
    criteria=("mgmt.dlp_watermark",),
    rationale="""Jitsi only has branding watermarks (no user-identifying or DLP watermark). The default Jitsi logo
    links to jitsi.org, so users may take the meeting for the public meet.jit.si service.""",
    remediation="""interface_config.js: SHOW_JITSI_WATERMARK: false (or JITSI_WATERMARK_LINK: 'https://meet.example.org'),
    and SHOW_BRAND_WATERMARK with BRAND_WATERMARK_LINK for your own brand.""",
    references=(INTERFACE_JS,),
)
def watermark(ctx: AuditContext) -> CheckResult:
    iface = _iface(ctx)
    if iface is None:
        pf = ctx.deployment.interface_config_js
        if pf is not None:
            return CheckResult.unclear(f"cannot tell: {pf.error or 'interface_config.js unreadable'}")
        return CheckResult.unclear("cannot tell: interface_config.js is not in the evidence (it ships with jitsi-meet-web)")
    path, values = iface
    show = values.get("SHOW_JITSI_WATERMARK")
    link = values.get("JITSI_WATERMARK_LINK")
    where = ev(path, values.line_of("SHOW_JITSI_WATERMARK"), f"SHOW_JITSI_WATERMARK: {show}")
    if show is False:
        return CheckResult.passed("the Jitsi watermark is hidden (branding only; Jitsi has no DLP watermark)", where)
    if isinstance(link, str) and link and not is_third_party_host(stun_host(link), ctx.view.own_domain() or ""):
        return CheckResult.passed("the watermark links to the operator's own site", where)
    link_ev = ev(path, values.line_of("JITSI_WATERMARK_LINK"), f"JITSI_WATERMARK_LINK: {short(link)}")
    return CheckResult.failed("the Jitsi watermark links to jitsi.org", where, link_ev)


@check(
    "web.remote_controls",
    title="Moderators keep their remote mute and kick controls",
    severity=Severity.LOW,
    criteria=("mgmt.in_meeting_controls",),
    rationale="""disableRemoteMute and remoteVideoMenu.disableKick / disabled remove moderators' means to silence or
    remove a disruptive participant (the controls are client-side switches of server-side rights).""",
    remediation="""config.js: remove disableRemoteMute: true and remoteVideoMenu: { disabled: true, disableKick: true }.""",
    references=(CONFIG_JS,),
)
@_client_config(docker=CheckResult.passed("the docker config.js keeps the moderator controls"))
def remote_controls(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    off = [k for k in ("disableRemoteMute", "remoteVideoMenu.disabled", "remoteVideoMenu.disableKick") if v.js(k) is True]
    if off:
        return CheckResult.failed(f"moderator controls removed: {', '.join(off)}", *[v.js_ev(k) for k in off])
    return CheckResult.passed("moderators can mute and kick participants", v.js_ev("disableRemoteMute"))


@check(
    "web.deep_linking",
    title="Mobile visitors are not redirected to third-party app stores",
    severity=Severity.INFO,
    criteria=("jur.privacy",),
    rationale="""Deep linking sends mobile visitors to the Jitsi Meet app (Apple/Google stores, 8x8's app
    unless rebranded) instead of the browser: the meeting link and the visitor's address go to the app
    store and the app's vendor.""",
    remediation="""config.js: deeplinking: { disabled: true } (or point deeplinking.ios/android at your own app).""",
    references=(CONFIG_JS,),
)
@_client_config(docker=CheckResult.failed("the docker config.js leaves deep linking on"))
def deep_linking(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    if v.js("deeplinking.disabled") is True or v.js("disableDeepLinking") is True:
        key = "deeplinking.disabled" if v.js_has("deeplinking.disabled") else "disableDeepLinking"
        return CheckResult.passed("deep linking is disabled", v.js_ev(key))
    return CheckResult.failed("mobile visitors are sent to the app stores", v.js_ev("deeplinking.disabled"))


_SIGNALLING = ("bosh", "websocket")


def _signalling_scheme(url: Any) -> str | None:
    """'tls' for https:// / wss://, 'page' for a URL relative to the page (//host/..., /path), 'clear' for
    http:// / ws://; None when the value is not a URL string the auditor can read."""
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    if url.startswith("/"):
        return "page"
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return {"https": "tls", "wss": "tls", "http": "clear", "ws": "clear"}.get(scheme)


@check(
    "web.xmpp_signalling_tls",
    title="config.js sends clients to BOSH / XMPP websocket over TLS (https://, wss://)",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit", "enc.all_channels"),
    rationale="""The bosh and websocket URLs of config.js tell every client where to log in and chat over XMPP.
    An http:// or ws:// URL makes clients that follow it (the mobile apps, or browsers on a page served over
    plain HTTP) send logins, tokens and chat in clear; browsers on an HTTPS page block it as mixed content and
    meetings fail. docker-jitsi-meet writes https:// and, with ENABLE_XMPP_WEBSOCKET, wss:// URLs itself.""",
    remediation="""config.js: bosh: 'https://meet.example.org/http-bind' (or '//meet.example.org/http-bind') and
    websocket: 'wss://meet.example.org/xmpp-websocket', served by the nginx TLS front.""",
    references=(CONFIG_JS, "https://prosody.im/doc/websocket"),
)
@_client_config(docker=CheckResult.passed("the docker web image writes https:// (or page-relative) BOSH and wss:// websocket URLs"))
def xmpp_signalling_tls(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    set_keys = [k for k in _SIGNALLING if v.js_has(k)]
    if not set_keys:
        return CheckResult.unclear("cannot tell: config.js sets neither bosh nor websocket")
    schemes = {k: _signalling_scheme(v.js(k)) for k in set_keys}
    where = [v.js_ev(k) for k in set_keys]
    clear = [f"{k} {short(v.js(k), 60)}" for k, scheme in schemes.items() if scheme == "clear"]
    if clear:
        return CheckResult.failed(f"clients are sent to XMPP in clear text: {', '.join(clear)}", *where)
    unknown = [k for k, scheme in schemes.items() if scheme is None]
    if unknown:
        return CheckResult.unclear(f"cannot tell: {', '.join(unknown)} is not a URL the auditor can read", *where)
    return CheckResult.passed(f"{' and '.join(set_keys)} use TLS (or the page's own HTTPS)", *where)


def _stun_credentials(ctx: AuditContext) -> list[Evidence]:
    v = ctx.view
    servers = v.js("p2p.stunServers")
    out = []
    for entry in servers if isinstance(servers, list) else []:
        if isinstance(entry, dict) and (entry.get("credential") or entry.get("username")):
            out.append(v.js_ev("p2p.stunServers"))
            break
    return out


@check(
    "web.config_js_secrets",
    title="The public config.js and interface_config.js hold no secret or TURN credential",
    severity=Severity.HIGH,
    criteria=("enc.key_strength", "mgmt.access_control"),
    rationale="""config.js and interface_config.js are served to anyone at /config.js and /interface_config.js.
    A password, API secret, callstats secret or static TURN credential placed there is public.""",
    remediation="""Remove credentials from config.js (p2p.stunServers entries with username/credential, callStatsSecret,
    API keys); let prosody hand out short-lived TURN credentials (external_services with secret = true).""",
    references=(CONFIG_JS,),
)
def config_js_secrets(ctx: AuditContext) -> CheckResult:
    v = ctx.view
    pfs = [p for p in (ctx.deployment.config_js, ctx.deployment.interface_config_js) if p is not None]
    if not pfs or all(p.value is None for p in pfs):
        if not pfs:
            return CheckResult.unclear(why_missing(ctx, "config.js"))
        return CheckResult.unclear(f"cannot tell: {pfs[0].error or 'config.js unreadable'}")
    paths = {p.path for p in pfs if p.value is not None}
    found = [
        Evidence(s.location, f"{s.name}: {s.verdict.secret_class}, {s.verdict.length} characters")
        for s in secret_settings(ctx.deployment)
        if s.location.path in paths
    ]
    if v.cfg_ok:
        found += _stun_credentials(ctx)
    if found:
        return CheckResult.failed(f"{len(found)} secret(s) in the public client configuration", *found)
    return CheckResult.passed("no secret in the public client configuration", *[ev(p, None) for p in sorted(paths)])
