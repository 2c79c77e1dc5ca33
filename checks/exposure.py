"""Internal APIs that must not be reachable from outside."""

from __future__ import annotations

from auditor.context import AuditContext
from auditor.model import CheckResult, Severity
from auditor.registry import check


@check(
    "exposure.jvb_rest_api",
    title="Videobridge COLIBRI/REST API is not public",
    severity=Severity.HIGH,
    criteria=("mgmt.access_control", "mgmt.central_control"),
    rationale="""The videobridge's private REST API (COLIBRI, stats, shutdown) lets whoever reaches it inspect and
    manipulate conferences. It must stay on 127.0.0.1 and never be proxied by nginx.""",
    remediation="""jvb.conf: videobridge { apis.rest.enabled = false, http-servers.private.host = 127.0.0.1 } and
    remove any nginx `location /colibri/` that proxies to port 8080.""",
    references=("https://github.com/jitsi/jitsi-videobridge/blob/master/doc/rest.md",),
)
def jvb_rest_api(ctx: AuditContext) -> CheckResult:
    return ctx.from_fact(
        "jvb.rest_public",
        good=False,
        pass_msg="the videobridge REST API is not exposed",
        fail_msg="the videobridge REST API is reachable from outside",
    )
