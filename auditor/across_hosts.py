"""Checks that need two components' files, decided across the hosts of one split deployment.

A sharded or split install spreads Jitsi over hosts: config.js and nginx on a web front, prosody and
jicofo on a signalling host, bridges elsewhere. A few checks read two components' files at once
(auditor.roles.CROSS_ROLE: the welcome page is harmless only if prosody requires authentication): on the
web host they are unclear ("no prosody configuration in the evidence"), on the signalling host N/A, so no
host of the fleet decides them.

Once every host of a run is audited, such a check left unclear on a host running part of a deployment is
run again on that host's evidence joined with the files of each other host of the run that runs the
missing components and serves the same domain (the web host's public name is one of the signalling host's
VirtualHosts). Its result replaces the unclear one: failed when it fails with any of them, passed when it
passes with every one (not applicable when it is N/A with every one), otherwise it stays unclear. The
message names the other host; evidence read there is shown as `HOST:path`; the host's notes say what was
decided this way. Only results of one run are joined: `jitsi-audit merge` of split runs does not do it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from auditor.model import CheckResult, Evidence, Finding, Status
from auditor.roles import CROSS_ROLE, FILE_ROLES

if TYPE_CHECKING:
    from auditor.context import AuditContext
    from auditor.criteria import Declaration, Profile
    from auditor.engine import TargetResult
    from auditor.registry import Check
    from auditor.snapshot import Snapshot

_DECIDED = (Status.PASS, Status.FAIL, Status.NOT_APPLICABLE)


def decide_across_hosts(
    results: Sequence[TargetResult],
    profile: Profile,
    checks: Sequence[Check],
    declarations: Mapping[str, Declaration] | None = None,
) -> list[TargetResult]:
    """`results` with the cross-role checks each partial host left unclear decided with its partners."""
    by_id = {c.id: c for c in checks if c.id in CROSS_ROLE}
    usable = [i for i, r in enumerate(results)
              if r.snapshot is not None and r.deployment is not None and r.roles is not None and r.roles.known]
    out = list(results)
    if len(usable) < 2 or not by_id:
        return out
    domains = {i: _domains(results[i]) for i in usable}
    contexts: dict[tuple[int, int, tuple[str, ...]], AuditContext] = {}  # one parse per pair of hosts
    for i in usable:
        host = results[i]
        assert host.roles is not None
        if not host.roles.partial:
            continue
        findings, notes = list(host.findings), []
        for k, finding in enumerate(findings):
            check = by_id.get(finding.check_id)
            if check is None or finding.status is not Status.UNCLEAR:
                continue
            needed = CROSS_ROLE[finding.check_id]
            missing = tuple(r for r in needed if r not in host.roles.roles)
            if not missing or len(missing) == len(needed):
                continue
            partners = [j for j in usable if j != i and domains[i] & domains[j]
                        and set(missing) <= set(results[j].roles.roles)]  # type: ignore[union-attr]
            if not partners:
                continue
            outcomes = []
            for j in partners:
                ctx = contexts.get((i, j, missing))
                if ctx is None:
                    ctx = contexts[(i, j, missing)] = _joined_context(host, results[j], missing)
                outcomes.append((results[j], _run(check, ctx, host, results[j].target)))
            decided = _combine(finding, outcomes, missing)
            if decided is not None:
                findings[k] = decided
                notes.append(f"{finding.check_id}: decided with the {'/'.join(missing)} evidence of "
                             f"{', '.join(results[j].target for j in partners)} (the same deployment)")
        if notes:
            out[i] = _rerated(host, findings, profile, declarations, notes)
    return out


def _domains(result: TargetResult) -> set[str]:
    from auditor.facts import View

    assert result.deployment is not None
    view = View(result.deployment)
    names = {view.public_domain(), *view.own_domains()}
    return {n.lower().rstrip(".") for n in names if n}


def _joined(host: Snapshot, partner: TargetResult, missing: tuple[str, ...]) -> Snapshot:
    """The host's evidence plus the partner's files of the missing components (the host's own files and
    command outputs win: the partner's versions and listeners are not the host's)."""
    assert partner.deployment is not None
    items = dict(host.items)
    for f in partner.deployment.files:
        if set(FILE_ROLES.get(f.role, ())) & set(missing):
            items.setdefault(f.item.key, f.item)
    return host.with_items(items)


def _joined_context(host: TargetResult, partner: TargetResult, missing: tuple[str, ...]) -> AuditContext:
    from auditor.context import AuditContext
    from auditor.engine import prepare_snapshot
    from auditor.facts import View

    assert host.snapshot is not None
    prepared = prepare_snapshot(_joined(host.snapshot, partner, missing), redact=False)  # both already redacted
    return AuditContext(prepared.deployment, prepared.facts, View(prepared.deployment), host.probes)


def _run(check: Check, ctx: AuditContext, host: TargetResult, partner: str) -> CheckResult:
    try:
        result = check.run(ctx)
    except Exception as exc:  # one broken check costs its own result only, as in engine.run_checks
        return CheckResult.unclear(f"check failed to run: {type(exc).__name__}")
    own = set(host.snapshot.items) if host.snapshot is not None else set()
    return replace(result, evidence=tuple(_relabel(e, own, partner) for e in result.evidence))


def _relabel(evidence: Evidence, own: set[str], partner: str) -> Evidence:
    path = evidence.location.path
    if path in own or not path.startswith("/"):
        return evidence
    return replace(evidence, location=replace(evidence.location, path=f"{partner}:{path}"))


def _combine(finding: Finding, outcomes: list[tuple[TargetResult, CheckResult]],
             missing: tuple[str, ...]) -> Finding | None:
    what = "/".join(missing)
    failed = [(p, r) for p, r in outcomes if r.status is Status.FAIL]
    if failed:
        partner, result = failed[0]
    elif all(r.status in _DECIDED for _, r in outcomes):
        passed = [(p, r) for p, r in outcomes if r.status is Status.PASS]
        partner, result = (passed or outcomes)[0]
    else:
        return None
    with_whom = partner.target if len(outcomes) == 1 or failed else ", ".join(p.target for p, _ in outcomes)
    return replace(finding, status=result.status, evidence=result.evidence,
                   message=f"{result.message} (with the {what} of {with_whom})")


def _rerated(host: TargetResult, findings: list[Finding], profile: Profile,
             declarations: Mapping[str, Declaration] | None, notes: list[str]) -> TargetResult:
    from auditor.engine import rated

    assert host.facts is not None and host.roles is not None
    ratings, scores = rated(profile, findings, host.facts, declarations, host.roles)
    return replace(host, findings=findings, criteria=ratings, scores=scores, notes=[*host.notes, *notes])
