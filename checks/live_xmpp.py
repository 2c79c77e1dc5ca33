"""Live XMPP: who may log in (SASL mechanisms seen from outside), c2s encryption, default passwords,
and whether the live host agrees with its configuration."""

from __future__ import annotations

import json

from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.model import NO_CONFIG_TO_COMPARE, NOT_INTRUSIVE, OFFLINE, CheckResult, Severity
from auditor.probes.judge import (
    DISAGREEMENTS,
    anonymous_disagreement,
    c2s_disagreement,
    ev,
    fact_value,
    live,
    need,
    vantage_text,
)
from auditor.registry import check

TAGS = ("live", "xmpp")
# What live.config_agreement's comparisons read on the configuration side (auditor.probes.judge).
_COMPARED_ROLES = (Role.NGINX_MAIN, Role.NGINX_SITE, Role.PROSODY_MAIN, Role.PROSODY_INCLUDE, Role.CONFIG_JS,
                   Role.JVB_CONF, Role.JICOFO_CONF, Role.DOCKER_ENV)
SECURE_DOMAIN = "https://jitsi.github.io/handbook/docs/devops-guide/secure-domain"


@check(
    "live.xmpp_anonymous",
    title="The main XMPP domain does not let strangers log in anonymously",
    severity=Severity.HIGH,
    criteria=("auth.rbac", "mgmt.access_control"),
    rationale="""SASL ANONYMOUS on the main domain means anyone can log in and, unless tokens are required,
    create rooms and become their moderator. Guests belong on a separate anonymous domain.""",
    remediation="""Set authentication = "internal_hashed" (or ldap/token) on the main VirtualHost, add a
    guest VirtualHost with anonymous authentication and enable jicofo authentication.""",
    references=(SECURE_DOMAIN,),
    tags=TAGS,
)
def xmpp_anonymous(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "xmpp")
    if res is None or res.xmpp is None:
        return early or CheckResult.unclear("cannot tell: no XMPP results")
    bosh, c2s = res.xmpp.bosh, res.xmpp.c2s
    if bosh is None or not bosh.ok:
        # A prosody host without a web front (a split deployment): what port 5222 offers before TLS. ANONYMOUS
        # there is as open as over BOSH; its absence proves nothing when STARTTLS hides the mechanisms.
        if c2s is None or not c2s.ok or "ANONYMOUS" not in c2s.mechanisms:
            return CheckResult.unclear(f"cannot tell: no BOSH session ({bosh.error if bosh else 'not tried'})")
        offered, channel = c2s.mechanisms, "on port 5222 "
        evidence = ev("xmpp", "c2s/5222", f"SASL before TLS: {' '.join(offered)}")
    else:
        offered, channel = bosh.mechanisms, ""
        evidence = ev("xmpp", f"bosh/{res.xmpp.domain}", f"SASL: {' '.join(offered) or 'none'}")
    if "ANONYMOUS" not in offered:
        return CheckResult.passed(f"{res.xmpp.domain} offers {' '.join(offered) or 'no mechanism'}", evidence)
    main = fact_value(ctx, "auth.main")
    if main == "jwt":
        return CheckResult.passed("ANONYMOUS is offered, but token authentication needs a valid token",
                                  evidence)
    if (d := anonymous_disagreement(ctx, res)) is not None:
        return CheckResult.failed(d, evidence)
    if main is None and _token_hint(res):
        return CheckResult.unclear("ANONYMOUS is offered; the public config.js suggests token "
                                   "authentication, which only the configuration can confirm", evidence)
    return CheckResult.failed(f"{res.xmpp.domain} offers SASL ANONYMOUS {channel}{vantage_text(res)}: anyone can "
                              "log in and open rooms", evidence)


def _token_hint(res: object) -> bool:
    http = getattr(res, "http", None)
    values = dict(http.config_js.values) if http is not None and http.config_js is not None else {}
    raw = values.get("tokenAuthUrl")
    try:
        return raw is not None and json.loads(raw) not in (None, "")
    except ValueError:  # a long value is stored shortened (not JSON): it is set
        return True


@check(
    "live.xmpp_c2s_tls",
    title="Port 5222, where reachable, requires TLS before login",
    severity=Severity.HIGH,
    criteria=("enc.in_transit", "enc.all_channels"),
    rationale="""When 5222 is reachable and STARTTLS is optional, native XMPP clients (and attackers that
    strip STARTTLS) log in and chat in clear text.""",
    remediation="""c2s_require_encryption = true in prosody.cfg.lua, or bind 5222 to 127.0.0.1
    (c2s_interfaces = { "127.0.0.1" }) / block it in the firewall.""",
    references=("https://prosody.im/doc/modules/mod_tls",),
    tags=TAGS,
)
def xmpp_c2s_tls(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "exposure")
    if res is None or res.exposure is None:
        return early or CheckResult.unclear("cannot tell: no exposure results")
    reachable = res.exposure.is_open(5222)
    if reachable is False:
        return CheckResult.passed(f"port 5222 is not reachable {vantage_text(res)}")
    if reachable is None:
        return CheckResult.unclear("cannot tell whether port 5222 is reachable")
    why = res.unavailable("xmpp")
    c2s = res.xmpp.c2s if res.xmpp else None
    if why is not None or c2s is None or not c2s.ok:
        return CheckResult.unclear(f"cannot tell: {why or (c2s.error if c2s else 'stream not opened')}")
    evidence = ev("xmpp", "c2s/5222", f"starttls={c2s.starttls} required={c2s.starttls_required} "
                                      f"SASL before TLS: {' '.join(c2s.mechanisms) or 'none'}")
    if c2s.starttls_required:
        return CheckResult.passed("port 5222 requires STARTTLS before authentication", evidence)
    cleartext = [m for m in c2s.mechanisms if m != "EXTERNAL"]
    problem = "offers no STARTTLS" if not c2s.starttls else "makes STARTTLS optional"
    msg = f"port 5222 is reachable and {problem}"
    if cleartext:
        msg += f" (SASL {' '.join(cleartext)} offered before TLS)"
    if (d := c2s_disagreement(ctx, res)) is not None:
        msg += f"; {d}"
    return CheckResult.failed(msg, evidence)


@check(
    "live.default_credentials",
    title="Component accounts do not accept known default passwords (intrusive)",
    severity=Severity.CRITICAL,
    criteria=("enc.key_strength", "mgmt.access_control"),
    rationale="""docker-jitsi-meet shipped passw0rd for the focus and jvb accounts (CVE-2020-11878);
    whoever logs in as focus controls every conference. This probe logs in: only with --intrusive.""",
    remediation="Run docker-jitsi-meet's gen-passwords.sh (or set new passwords); recreate the containers.",
    references=("CVE-2020-11878",),
    tags=(*TAGS, "intrusive"),
)
def default_credentials(ctx: AuditContext) -> CheckResult:
    res = live(ctx)
    if res is None:
        return CheckResult.not_applicable(OFFLINE)
    if not res.intrusive:
        return CheckResult.not_applicable(NOT_INTRUSIVE)
    why = res.unavailable("xmpp")
    if why is not None or res.xmpp is None:
        return CheckResult.unclear(f"cannot tell: {why}")
    logins = res.xmpp.logins
    evidence = [ev("xmpp", f"login/{a.account}", f"{a.password_source}: {a.outcome}") for a in logins]
    accepted = [a.account for a in logins if a.outcome == "accepted"]
    if accepted:
        verb = "accepts" if len(accepted) == 1 else "accept"
        return CheckResult.failed(f"{', '.join(accepted)} {verb} the docker default password", *evidence)
    if logins and all(a.outcome == "rejected" for a in logins):
        return CheckResult.passed("the default passwords are rejected", *evidence)
    notes = "; ".join(f"{a.account}: {a.note or a.outcome}" for a in logins if a.outcome != "rejected")
    return CheckResult.unclear(f"cannot tell: {notes or 'no login attempted'}", *evidence)


@check(
    "live.config_agreement",
    title="The live host behaves as its configuration says",
    severity=Severity.MEDIUM,
    criteria=("mgmt.central_control",),
    rationale="""When what answers on the network disagrees with the configuration read over SSH (another
    server block, a load balancer, a stale file, a container), the configuration findings do not describe
    the service users reach: the disagreement itself needs an explanation.""",
    remediation="Find what really answers (ss -ltnp, nginx -T, docker ps) and remove the stale path.",
    tags=TAGS,
)
def config_agreement(ctx: AuditContext) -> CheckResult:
    res = live(ctx)
    if res is None:
        return CheckResult.not_applicable(OFFLINE)
    if all(fact_value(ctx, k) is None for k in ("auth.main", "web.tls_protocols", "web.hsts")) \
            and not ctx.view.cfg_ok:
        return CheckResult.not_applicable(NO_CONFIG_TO_COMPARE)
    found = []
    for judge in DISAGREEMENTS:
        try:
            text = judge(ctx, res)
        except Exception as exc:  # one comparison failing must not hide the others
            text = f"comparison {judge.__name__} failed ({type(exc).__name__})"
        if text:
            found.append(text)
    if found:
        evidence = [ev("compare", str(i), t[:120]) for i, t in enumerate(found, start=1)]
        return CheckResult.failed("; ".join(found), *evidence)
    # a comparison whose configuration side is unknown is skipped: with files missing, "no disagreement"
    # only covers what could be compared
    gap = ctx.view.incomplete(*_COMPARED_ROLES)
    if gap:
        return CheckResult.unclear(f"cannot tell: no disagreement in what could be compared, but {gap}")
    return CheckResult.passed("no disagreement between the configuration and the live answers")
