"""Where users' data and addresses go: end-to-end encryption and third parties."""

from __future__ import annotations

from auditor.context import AuditContext
from auditor.model import CheckResult, Severity
from auditor.registry import check


@check(
    "privacy.e2ee_available",
    title="End-to-end encryption is offered to participants",
    severity=Severity.MEDIUM,
    criteria=("enc.e2ee", "enc.at_rest_provider"),
    rationale="""Without E2EE the videobridge decrypts all media (hop-by-hop DTLS-SRTP). E2EE is opt-in per
    meeting; config.js e2ee.disabled = true removes it.""",
    remediation="Remove e2ee: { disabled: true } from config.js (or set disabled: false).",
    references=("https://jitsi.org/blog/e2ee/",),
)
def e2ee_available(ctx: AuditContext) -> CheckResult:
    return ctx.from_fact(
        "e2ee.available",
        good=True,
        pass_msg="E2EE can be switched on in meetings",
        fail_msg="E2EE is disabled in config.js",
    )


@check(
    "privacy.third_party_stun",
    title="No third-party STUN/TURN servers",
    severity=Severity.MEDIUM,
    criteria=("jur.data_location", "jur.privacy"),
    rationale="""Jitsi's defaults send every P2P client's and the bridge's address to meet-jit-si-turnrelay.jitsi.net
    (8x8) or Google STUN servers: an on-premises install still tells a third party who meets.""",
    remediation="""config.js p2p.stunServers: [{ urls: 'stun:meet.example.org:3478' }], and in jvb.conf
    ice4j.harvest.mapping.stun.addresses = [ "meet.example.org:3478" ] (or static mappings).""",
    references=("https://jitsi.github.io/handbook/docs/devops-guide/devops-guide-quickstart",),
)
def third_party_stun(ctx: AuditContext) -> CheckResult:
    return ctx.from_fact(
        "privacy.third_party_stun",
        good=False,
        pass_msg="STUN/TURN servers are the deployment's own",
        fail_msg="third-party STUN/TURN servers are used",
    )


@check(
    "privacy.third_party_requests",
    title="Clients make no requests to third parties (gravatar, analytics, callstats)",
    severity=Severity.LOW,
    criteria=("jur.privacy", "jur.data_location"),
    rationale="""Unless disableThirdPartyRequests is true, clients fetch avatars from Gravatar (hashed e-mail and IP)
    and configured analytics receive usage data.""",
    remediation="In config.js: disableThirdPartyRequests: true, and remove analytics and callstats ids.",
    references=("https://github.com/jitsi/jitsi-meet/blob/master/config.js",),
)
def third_party_requests(ctx: AuditContext) -> CheckResult:
    return ctx.from_fact(
        "privacy.third_party_requests",
        good=False,
        pass_msg="third-party requests are disabled",
        fail_msg="clients contact third parties",
    )
