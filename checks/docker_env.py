"""docker-jitsi-meet's .env: authentication, image tags, generated passwords, advertised addresses.

Other .env variables are judged where their effect is (ENABLE_LOBBY by rooms.lobby_available,
ENABLE_HTTP_REDIRECT by web.http_redirect, ENABLE_HSTS by web.hsts, LDAP_* by the ldap checks ...).
"""

from __future__ import annotations

import re

from auditor.advisories.docker import MAX_COMPOSE_FILES
from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.model import NO_DOCKER_ENV, CheckResult, Evidence, Severity
from auditor.parsers.base import ConfigParseError
from auditor.parsers.compose import parse_compose
from auditor.registry import check
from checks._common import ev, evs, secret_verdict, short

ENV_EXAMPLE = "https://github.com/jitsi/docker-jitsi-meet/blob/master/env.example"
DOCKER_DOC = "https://jitsi.github.io/handbook/docs/devops-guide/devops-guide-docker"
SERVICE_PASSWORDS = (
    "JICOFO_AUTH_PASSWORD",
    "JVB_AUTH_PASSWORD",
    "JIGASI_XMPP_PASSWORD",
    "JIGASI_TRANSCRIBER_PASSWORD",
    "JIBRI_RECORDER_PASSWORD",
    "JIBRI_XMPP_PASSWORD",
)
_PINNED = re.compile(r"^stable-\d+(?:-\d+)?$|^\d+(?:\.\d+)*$|^sha256:")
_IMAGE_VAR = re.compile(r"\$\{JITSI_IMAGE_VERSION(?::?-([^}]*))?\}")


def _no_env(ctx: AuditContext) -> CheckResult | None:
    pf = ctx.deployment.docker_env
    if pf is not None and pf.value is None:
        return CheckResult.unclear(f"cannot tell: {pf.error or '.env unreadable'}")
    if pf is None:
        return CheckResult.not_applicable(NO_DOCKER_ENV)
    return None


@check(
    "docker.auth_enabled",
    title="docker-jitsi-meet requires authentication to create meetings (ENABLE_AUTH)",
    severity=Severity.HIGH,
    criteria=("auth.rbac", "mgmt.access_control"),
    rationale="""ENABLE_AUTH defaults to 0: prosody's main domain is jitsi-anonymous and anyone who reaches the site
    creates meetings. With ENABLE_AUTH=1 (AUTH_TYPE internal, jwt or ldap) only users open meetings; ENABLE_GUESTS=1
    lets others join once a host is there.""",
    remediation=""".env: ENABLE_AUTH=1, AUTH_TYPE=internal (or jwt / ldap), ENABLE_GUESTS=1 if guests should join;
    then create users with prosodyctl --config /config/prosody.cfg.lua register <user> meet.jitsi <password>.""",
    references=(ENV_EXAMPLE, DOCKER_DOC),
)
def auth_enabled(ctx: AuditContext) -> CheckResult:
    early = _no_env(ctx)
    if early:
        return early
    v = ctx.view
    enabled, e1 = v.env_flag("ENABLE_AUTH", False)
    if not enabled:
        return CheckResult.failed("ENABLE_AUTH is off: anyone can create meetings", *evs(e1))
    kind, e2 = v.docker_auth_type()
    guests, e3 = v.env_flag("ENABLE_GUESTS", False)
    return CheckResult.passed(
        f"authentication required ({kind}); guests {'may join after a host' if guests else 'cannot join'}", *evs(e1, e2, e3)
    )


def _compose_images(ctx: AuditContext) -> tuple[list[tuple[str, str, Evidence]], int]:
    """(service, image, evidence) of the Jitsi images in the compose files, and how many compose files
    were left unread: at most MAX_COMPOSE_FILES are parsed, as for the advisories (a target may hold
    hundreds, each slow to parse)."""
    out = []
    composes = [(pf.path, pf.value) for pf in ctx.deployment.of(Role.DOCKER_COMPOSE) if isinstance(pf.value, str)]
    for path, text in composes[:MAX_COMPOSE_FILES]:
        try:
            compose = parse_compose(text, path)
        except ConfigParseError:
            continue
        for name, svc in compose.services.items():
            if svc.image and "jitsi" in svc.image:
                out.append((name, svc.image, ev(path, svc.line, f"{name}: image {short(svc.image)}")))
    return out, max(0, len(composes) - MAX_COMPOSE_FILES)


@check(
    "docker.image_tag",
    title="Jitsi images are pinned to a stable release, not latest/unstable",
    severity=Severity.MEDIUM,
    criteria=("mgmt.central_control",),
    rationale="""docker-compose.yml in git master defaults JITSI_IMAGE_VERSION to `unstable` (nightly builds);
    `latest` moves with every release. Either way the running version is unknown, upgrades happen on pull, and
    advisories cannot be matched. Releases pin stable-NNNN.""",
    remediation=""".env: JITSI_IMAGE_VERSION=stable-10314 (the release you tested), then docker compose pull and up -d
    when you decide to upgrade.""",
    references=(ENV_EXAMPLE, "https://github.com/jitsi/docker-jitsi-meet/releases"),
)
def image_tag(ctx: AuditContext) -> CheckResult:
    early = _no_env(ctx)
    if early:
        return early
    v = ctx.view
    tag, where = v.env_get("JITSI_IMAGE_VERSION")
    images, unread = _compose_images(ctx)
    resolved: list[tuple[str, str, Evidence | None]] = []
    for name, image, img_ev in images:
        m = _IMAGE_VAR.search(image)
        if m:
            resolved.append((name, tag or (m.group(1) or ""), where if tag else img_ev))
        else:
            resolved.append((name, image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest", img_ev))
    if not resolved:
        if tag:
            resolved.append(("all", tag, where))
        else:
            return CheckResult.unclear(
                "cannot tell: JITSI_IMAGE_VERSION not set and docker-compose.yml is not in the evidence", *evs(where)
            )
    loose = [(n, t, e) for n, t, e in resolved if not _PINNED.match(t)]
    if loose:
        tags = sorted({t or "(none)" for _, t, _ in loose})
        return CheckResult.failed(f"images follow moving tag(s) {', '.join(tags)}", *dict.fromkeys(e for _, _, e in loose if e))
    tags = sorted({t for _, t, _ in resolved})
    if unread:
        return CheckResult.unclear(f"cannot tell: {unread} compose files past the first {MAX_COMPOSE_FILES} were not "
                                   f"read; the others pin {short(', '.join(tags), 200)}",
                                   *list(dict.fromkeys(e for _, _, e in resolved if e))[:MAX_COMPOSE_FILES])
    return CheckResult.passed(f"images pinned to {', '.join(tags)}", *dict.fromkeys(e for _, _, e in resolved if e))


@check(
    "docker.passwords_generated",
    title="Service passwords in .env were generated, not left empty or at example values",
    severity=Severity.HIGH,
    criteria=("enc.key_strength", "auth.password_policy"),
    rationale="""The internal XMPP accounts of jicofo, the videobridge, jigasi and jibri authenticate with the .env
    passwords. Images before stable-4384 shipped passw0rd (CVE-2020-11878); gen-passwords.sh writes 32 hex
    characters. An empty password stops the container; a short or example one lets anyone on the internal
    network impersonate a component.""",
    remediation="""./gen-passwords.sh (or openssl rand -hex 16 for each of JICOFO_AUTH_PASSWORD, JVB_AUTH_PASSWORD,
    JIGASI_XMPP_PASSWORD, JIGASI_TRANSCRIBER_PASSWORD, JIBRI_RECORDER_PASSWORD, JIBRI_XMPP_PASSWORD), then
    recreate the containers and the CONFIG directory's prosody accounts.""",
    references=(ENV_EXAMPLE, "CVE-2020-11878"),
)
def passwords_generated(ctx: AuditContext) -> CheckResult:
    early = _no_env(ctx)
    if early:
        return early
    v = ctx.view
    problems: list[str] = []
    where: list[Evidence] = []
    good = 0
    for name in SERVICE_PASSWORDS[:2]:  # the two every deployment needs
        raw, e = v.env_get(name)
        if not raw:
            problems.append(f"{name} empty")
            where += evs(e)
    for name in SERVICE_PASSWORDS:
        raw, e = v.env_get(name)
        if not raw:
            continue
        verdict = secret_verdict(raw)
        if verdict is None:
            continue
        if verdict.weak:
            problems.append(f"{name} {verdict.secret_class} ({verdict.length} characters)")
            where += evs(e)
        else:
            good += 1
    if problems:
        return CheckResult.failed("; ".join(problems), *where)
    if good == 0:
        return CheckResult.unclear("cannot tell: the service passwords were not judged at collection")
    return CheckResult.passed(f"{good} service password(s) set and strong")


@check(
    "docker.advertise_ips",
    title="The videobridge advertises configured addresses (JVB_ADVERTISE_IPS)",
    severity=Severity.LOW,
    criteria=("jur.data_location",),
    rationale="""Without JVB_ADVERTISE_IPS the bridge learns its public address from STUN servers, by default
    meet-jit-si-turnrelay.jitsi.net (8x8), on every start; behind NAT a wrong guess also breaks media.""",
    remediation=""".env: JVB_ADVERTISE_IPS=203.0.113.5 (the public address, plus the private one if clients use it) and
    JVB_DISABLE_STUN=1.""",
    references=(ENV_EXAMPLE,),
)
def advertise_ips(ctx: AuditContext) -> CheckResult:
    early = _no_env(ctx)
    if early:
        return early
    v = ctx.view
    ips, where = v.env_get("JVB_ADVERTISE_IPS")
    if not ips:
        ips, where = v.env_get("DOCKER_HOST_ADDRESS")
    if ips:
        return CheckResult.passed(f"the bridge advertises {ips}", *evs(where))
    stun, e2 = v.env_get("JVB_STUN_SERVERS", "meet-jit-si-turnrelay.jitsi.net:443")
    return CheckResult.failed(f"no advertised address: the bridge asks {stun} for it", *evs(where, e2))
