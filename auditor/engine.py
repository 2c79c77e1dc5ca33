"""The audit engine: snapshot → deployment → facts → checks → criteria → scores. It never prints."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from auditor.context import AuditContext
from auditor.criteria import Declaration, Profile, rate
from auditor.deployment import HOCON_IMAGES, ROOTLESS_SINCE, Deployment, ParseBudget, build_deployment, rootless_images
from auditor.discovery import Role, is_template, looks_like_configuration
from auditor.facts import Facts, View, derive_facts
from auditor.model import CheckResult, CriterionRating, Finding, Rating, Status
from auditor.redaction import Redactor, redact_snapshot
from auditor.registry import Check
from auditor.roles import HostRoles, host_roles, not_applicable_reason, requirement
from auditor.scoring import Scores, score
from auditor.secret_settings import unredacted_secret_values
from auditor.snapshot import HOST_COPY_LAYOUT, ItemStatus, Snapshot


@dataclass(slots=True)
class TargetResult:
    """Everything the reporters need about one target."""

    target: str
    started_at: datetime
    finished_at: datetime
    snapshot: Snapshot | None
    facts: Facts | None
    findings: list[Finding]
    criteria: list[CriterionRating]
    scores: Scores | None
    error: str | None = None  # the one-line reason when the target could not be audited at all
    error_stage: str | None = None
    deployment: Deployment | None = None
    notes: list[str] = field(default_factory=list)
    probes: dict[str, Any] = field(default_factory=dict)  # live probe results by key (JSON-serialisable)
    # "stage: reason" lines that leave the audit of this target incomplete although it has a report
    # (e.g. a live probe that met a TLS handshake failure or a 5xx): exit 3, never a pass.
    problems: list[str] = field(default_factory=list)
    roles: HostRoles | None = None  # the Jitsi components the target runs (auditor.roles)

    @property
    def complete(self) -> bool:
        return self.error is None

    def unclear_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.UNCLEAR]


ProgressFn = Callable[[str, str], None]  # (target, stage)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The part of an audit that needs neither checks nor probes: the redacted snapshot, the parsed
    deployment and its facts. A live audit builds it while the probes are still running (and learns
    the deployment's domain from it), then hands it to `audit_snapshot`, so nothing is built twice."""

    snapshot: Snapshot  # redacted (unless prepared with redact=False)
    deployment: Deployment
    facts: Facts


def prepare_snapshot(snapshot: Snapshot, *, redact: bool = True) -> Prepared:
    deployment: Deployment | None = None
    budget = ParseBudget()  # one per target: the safety net's second build gets what the first left
    if redact:
        redactor = Redactor()
        snapshot = redact_snapshot(snapshot, redactor=redactor)
        # What the parsers read under a secret name and the lexical pass left (a substitution, a value
        # over several lines ...) is replaced as well, then the files are parsed again.
        deployment = build_deployment(snapshot, budget)
        missed = unredacted_secret_values(deployment)
        if missed:
            snapshot = redact_snapshot(snapshot, missed, redactor=redactor)
            deployment = None
    if deployment is None:
        deployment = build_deployment(snapshot, budget)
    return Prepared(snapshot, deployment, derive_facts(deployment))


@lru_cache(maxsize=4096)
def _requirement(check_id: str, declared: tuple[str, ...]) -> tuple[str, ...]:
    """The roles a check needs: the same for every host of a run, looked up once per process."""
    return requirement(check_id, declared)


def run_check(check: Check, ctx: AuditContext) -> CheckResult:
    """One check's result; a check that raises costs its own result only (unclear, with the exception's type)."""
    try:
        return check.run(ctx)
    except Exception as exc:
        return CheckResult.unclear(f"check failed to run: {type(exc).__name__}")


def budget_note(deployment: Deployment) -> str | None:
    """What the parse budget left unparsed on this target, for every unclear verdict: a file it skipped
    may be the evidence the verdict lacks, whatever the check names as the cause."""
    skipped = deployment.over_budget()
    if not skipped:
        return None
    return f"{len(skipped)} file(s) left unparsed by the target's parse budget, e.g. {skipped[0].error}"


def unusable_notes(deployment: Deployment) -> list[tuple[str, str]]:
    """(path, error) of the collected files that could not be read or parsed (the budget aside): one
    may hold the evidence an unclear verdict lacks, whatever the check names as the cause ("not in the
    evidence" of a file that is there but unreadable)."""
    out: list[tuple[str, str]] = []
    for p in deployment.errors():
        item = deployment.snapshot.get(p.path)
        if p.error and p.active and not p.over_budget and (item is None or item.status is not ItemStatus.MISSING):
            out.append((p.path, p.error))
    return out


def _unusable_named(result: CheckResult, unusable: list[tuple[str, str]]) -> CheckResult:
    """An unclear verdict that names none of the unusable files gets the first one's reason."""
    if result.status is not Status.UNCLEAR or not unusable or any(p in result.message for p, _ in unusable):
        return result
    return replace(result, message=f"{result.message} ({len(unusable)} file(s) could not be read or parsed, "
                                   f"e.g. {unusable[0][1]})")


def _noted(result: CheckResult, note: str | None) -> CheckResult:
    """An unclear verdict names the budget; a check found not applicable becomes unclear: "not
    configured" is read from files, and a skipped one may configure it (a VirtualHost with token
    authentication in an include the budget left unparsed)."""
    if note is None or "parse budget" in result.message:
        return result
    if result.status is Status.NOT_APPLICABLE:
        return CheckResult.unclear(f"cannot tell: {result.message}, as far as the files parsed show ({note})",
                                   *result.evidence)
    if result.status is Status.UNCLEAR:
        return replace(result, message=f"{result.message} ({note})")
    return result


def run_checks(ctx: AuditContext, checks: list[Check], roles: HostRoles | None = None) -> list[Finding]:
    findings: list[Finding] = []
    note = budget_note(ctx.deployment)
    unusable = unusable_notes(ctx.deployment)
    for c in checks:
        skip = not_applicable_reason(roles, _requirement(c.id, c.meta.requires)) if roles else None
        if skip:
            result = CheckResult.not_applicable(skip)
        else:
            # a live check judges probe answers: a file it cannot read is not why they are unclear (the
            # ones that compare with the configuration name their own gap)
            result = _noted(_unusable_named(run_check(c, ctx), [] if "live" in c.meta.tags else unusable), note)
        findings.append(
            Finding(
                check_id=c.id,
                title=c.meta.title,
                severity=c.meta.severity,
                status=result.status,
                message=result.message,
                criteria=c.meta.criteria,
                remediation=c.meta.remediation,
                evidence=result.evidence,
                references=c.meta.references,
            )
        )
    return findings


def audit_snapshot(
    snapshot: Snapshot,
    profile: Profile,
    checks: list[Check],
    declarations: Mapping[str, Declaration] | None = None,
    probes: dict[str, Any] | None = None,
    *,
    redact: bool = True,
    progress: ProgressFn | None = None,
    roles: Iterable[str] | None = None,
    prepared: Prepared | None = None,
) -> TargetResult:
    """Audit an already collected snapshot (a live collection, a directory or a saved snapshot).

    `roles`: the host's roles as given (inventory); otherwise detected for live collections. Checks
    needing a component the host does not run are not_applicable (auditor.roles). `prepared`: what
    `prepare_snapshot` already built from this snapshot (then `redact` does not apply again)."""
    started = snapshot.started_at
    if prepared is None:
        if progress:
            progress(snapshot.target, "parse")
        prepared = prepare_snapshot(snapshot, redact=redact)
    snapshot, deployment, facts = prepared.snapshot, prepared.deployment, prepared.facts
    ctx = AuditContext(deployment, facts, View(deployment), probes or {})
    if progress:
        progress(snapshot.target, "checks")
    host = host_roles(deployment, roles)
    findings = run_checks(ctx, checks, host)
    ratings, scores = rated(profile, findings, facts, declarations, host)
    notes = [
        f"{p.path}: {p.error}" if not (p.error or "").startswith(p.path) else p.error
        for p in deployment.errors()
        if p.error
    ]
    if deployment.prosody_error:
        notes.append(deployment.prosody_error)
    notes += container_notes(snapshot) + offline_notes(snapshot, deployment) + stale_render_notes(deployment)
    return TargetResult(
        target=snapshot.target,
        started_at=started,
        finished_at=datetime.now(UTC),
        snapshot=snapshot,
        facts=facts,
        findings=findings,
        criteria=ratings,
        scores=scores,
        deployment=deployment,
        notes=notes,
        probes=dict(probes or {}),
        roles=host,
    )


def rated(
    profile: Profile,
    findings: list[Finding],
    facts: Facts,
    declarations: Mapping[str, Declaration] | None,
    host: HostRoles,
) -> tuple[list[CriterionRating], Scores]:
    """The criteria ratings and scores of a host's findings."""
    ratings = _roles_not_applicable(rate(profile, findings, facts, declarations), findings, host)
    return ratings, score(ratings, [c for c, _ in profile.categories])


def offline_notes(snapshot: Snapshot, deployment: Deployment) -> list[str]:
    """A directory audit: where package versions came from (a root copy's dpkg database), the templates
    that look like Jitsi configuration (discovery leaves them out), and a tree with no Jitsi
    configuration at all (nothing to judge: the wrong directory?)."""
    if snapshot.transport != "dir":
        return []
    notes = []
    if snapshot.facts.get("layout") == HOST_COPY_LAYOUT:
        notes.append("a copy of a host's root: read where the collector reads a live host (the rest of the "
                     "system is not read), no command run")
    if snapshot.facts.get("packages"):
        notes.append(f"package versions from {snapshot.facts['packages']} (what dpkg-query lists on a host)")
    templates = [i.key for i in snapshot.files() if is_template(i.key) and looks_like_configuration(i)]
    if templates:
        shown = ", ".join(templates[:5]) + (f" and {len(templates) - 5} more" if len(templates) > 5 else "")
        notes.append(f"templates not audited (placeholders, not values: render them, then audit the result): {shown}")
    if all(f.role in (Role.CERTIFICATE, Role.PRIVATE_KEY) for f in deployment.files):
        where = snapshot.root or snapshot.target
        notes.append(f"no Jitsi configuration found in {where}: nothing to judge, the criteria are Unclear "
                     "or N/A (is it the right directory?)")
    return notes


# What docker-jitsi-meet images before stable-11146 rendered into the CONFIG volume (per service); since
# 086d047f (rootless containers) they render into /run/<service>/config inside the container instead.
_RENDERED_IN_CONFIG = {"web": "/web/config.js", "prosody": "/prosody/config/prosody.cfg.lua",
                       "jicofo": "/jicofo/jicofo.conf", "jvb": "/jvb/jvb.conf", "jibri": "/jibri/jibri.conf"}


def stale_render_notes(deployment: Deployment) -> list[str]:
    """A docker host whose compose project runs rootless images (stable-11146 or later) but whose CONFIG
    volume still holds what an older image rendered there: those files are judged as found, and may not be
    what the services load."""
    if deployment.snapshot.transport in ("docker", "kubectl"):  # read in the containers, where they render
        return []
    notes = overlay_notes(deployment)
    rootless = rootless_images(deployment)
    judged: list[str] = []
    dropped: list[str] = []  # the HOCON daemons' (auditor.deployment: the .env model instead)
    for service, tail in _RENDERED_IN_CONFIG.items():
        if service not in rootless:
            continue
        found = [i.key for i in deployment.snapshot.files()
                 if i.ok and i.key.endswith(tail) and not i.key.startswith("/etc/")]
        (dropped if service in HOCON_IMAGES.values() else judged).extend(found)
    out = []
    for stale, how in ((judged, "are judged as found"),
                       (dropped, "are not judged: the .env's settings are, as the current image renders them")):
        if stale:
            shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
            out.append(f"the compose project runs images of stable-{ROOTLESS_SINCE} or later, which render their "
                       f"configuration inside the containers (/run/<service>/config): {shown} were written by an older "
                       f"image and {how}; docker://CONTAINER reads what the services load")
    return out + notes


def overlay_notes(deployment: Deployment) -> list[str]:
    """docker-jitsi-meet's override inputs (custom-jicofo.conf ...) with no configuration of theirs in the
    evidence (rootless images render it inside the container): their settings are not judged."""
    from auditor.hocon_includes import HOCON_ROLES, OVERLAY_FILES

    alone = [p.path for role in HOCON_ROLES if deployment.first(role) is None
             for p in deployment.of(role, active_only=False) if posixpath.basename(p.path) in OVERLAY_FILES[role]]
    if not alone:
        return []
    return [f"{', '.join(alone[:5])}: docker-jitsi-meet override(s) of a configuration that is not in the evidence "
            "(images since stable-11146 render it inside the container): their settings are not judged; "
            "docker://CONTAINER reads the configuration they are merged into"]


def container_notes(snapshot: Snapshot) -> list[str]:
    """What a docker:// or kubectl:// transport says beside the files, for the reports (which show notes,
    not the snapshot's facts): containers left out and why, where the compose project's files came from."""
    facts = snapshot.facts
    notes = [facts["containers.note"]] if facts.get("containers.note") else []
    if facts.get("containers.skipped"):
        notes.append(f"containers not audited: {facts['containers.skipped']}")
    if facts.get("containers.project_files"):
        notes.append(f"compose project files: {facts['containers.project_files']}")
    rendered = sorted(v for k, v in facts.items() if k.startswith("containers.") and k.endswith(".config_dir")
                      and v.startswith("/run/"))
    if rendered:
        notes.append("configuration rendered inside the containers read where the services load it (images since "
                     f"stable-11146; /config holds the inputs): {', '.join(rendered)}")
    if facts.get("containers.dir_modes"):
        notes.append(f"directory modes: {facts['containers.dir_modes']}")
    return notes


def _roles_not_applicable(
    ratings: list[CriterionRating], findings: list[Finding], host: HostRoles
) -> list[CriterionRating]:
    """A verified criterion whose every check was skipped for the host's roles is N/A, not Unclear."""
    if not host.partial:
        return ratings
    skipped = {f.check_id: f.message for f in findings
               if f.status is Status.NOT_APPLICABLE and f.message.startswith(f"role {host.label}:")}
    present = {f.check_id for f in findings}
    out = []
    for r in ratings:
        ids = [c for c in r.check_ids if c in present]
        if r.basis.value == "verified" and ids and all(c in skipped for c in ids) and r.rating is not Rating.NA:
            r = replace(r, rating=Rating.NA, reasons=(skipped[ids[0]],))
        out.append(r)
    return out


def failed_result(target: str, stage: str, error: str, started: datetime) -> TargetResult:
    """A target that could not be audited: no facts, no findings, and the reason."""
    return TargetResult(
        target=target,
        started_at=started,
        finished_at=datetime.now(UTC),
        snapshot=None,
        facts=None,
        findings=[],
        criteria=[],
        scores=None,
        error=error,
        error_stage=stage,
    )
