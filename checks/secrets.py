"""Secrets judged where they were read: only names and verdicts leave the parser."""

from __future__ import annotations

from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.model import NO_SECRET, CheckResult, Severity
from auditor.registry import check
from checks._common import not_parsed


@check(
    "secrets.weak_or_default",
    title="No default, placeholder or weak secrets",
    severity=Severity.CRITICAL,
    criteria=("enc.key_strength", "auth.password_policy", "mgmt.access_control"),
    rationale="""Component secrets, service passwords (focus, jvb, jibri, jigasi), the JWT app secret and the TURN
    secret protect the whole deployment. Known defaults (docker-jitsi-meet's passw0rd/s3cr37,
    CVE-2020-11878), placeholders and short values are guessed in minutes.""",
    remediation="""Generate each secret anew (openssl rand -hex 16 or docker-jitsi-meet's gen-passwords.sh), set it in
    both places that share it (e.g. prosody external_service_secret and coturn static-auth-secret),
    and restart the services.""",
    references=("CVE-2020-11878",),
)
def weak_or_default(ctx: AuditContext) -> CheckResult:
    fact = ctx.fact("secrets.weak_or_default")
    names = ctx.fact("secrets.weak").value or []
    # read, not parsed (budget, syntax error): the lexical pass still sees `secret = "value"`, but a value
    # reached only through a parse (a HOCON substitution, a Lua local) is unknown
    unparsed = not_parsed(ctx, skip=(Role.CERTIFICATE,))
    if fact.value is None:
        if ctx.view.unreadable_paths():  # a file that may hold secrets was not read: never a pass
            return CheckResult.unclear(f"cannot tell: {fact.note}")
        if unparsed:
            return CheckResult.unclear(f"cannot tell: no secret among the files parsed, but {unparsed}")
        return CheckResult.not_applicable(fact.note or NO_SECRET)
    note = f"; {fact.note}" if fact.note else ""
    if fact.value:
        return CheckResult.failed(
            f"{len(names)} weak or default secret(s): {', '.join(names)}{note}", *fact.evidence
        )
    if unparsed:
        return CheckResult.unclear(f"cannot tell: no weak secret among the files parsed, but {unparsed}")
    return CheckResult.passed(f"every secret found is long and not a known default{note}")
