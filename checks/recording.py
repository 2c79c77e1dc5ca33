"""Server-side recording and where recordings end up."""

from __future__ import annotations

from auditor.context import AuditContext
from auditor.model import CheckResult, Severity
from auditor.registry import check


@check(
    "recording.server_side",
    title="Server-side recording (Jibri) and what it stores",
    severity=Severity.INFO,
    criteria=("enc.files_recordings",),
    rationale="""Jibri writes MP4 recordings in clear to its recordings directory; nothing in Jitsi encrypts them at
    rest. Without server-side recording no recording is stored on the deployment.""",
    remediation="""If recordings are needed, put jibri.recording.recordings-directory on an encrypted volume and
    upload them to protected storage from the finalize script.""",
    references=("https://github.com/jitsi/jibri",),
)
def server_side(ctx: AuditContext) -> CheckResult:
    fact = ctx.fact("recording.enabled")
    if fact.value is None:
        return CheckResult.unclear(f"cannot tell: {fact.note or 'no evidence'}")
    if fact.value:
        return CheckResult.failed(
            "server-side recording is enabled; recordings are stored unencrypted by Jitsi", *fact.evidence
        )
    return CheckResult.passed(
        "no server-side recording: nothing is recorded on the deployment", *fact.evidence
    )
