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

What is joined, and with whom:
- Only names that identify one deployment match hosts: not docker-jitsi-meet's internal XMPP domain
  (`meet.jitsi`, which every docker deployment has), localhost, config.js's stub for `location.host`,
  reserved or private-use names (.local, .internal, .test ...), one-label names, private addresses.
- Only the other host's files that belong to the missing components alone (prosody's files for a web
  host), never its docker .env or compose file (they describe the web front too) nor its command outputs
  (versions, listeners): they stand in for the host's own files of those components, which are left out
  (the host does not run them: what it has of them is stale).
- A host of the run whose collection is incomplete decides nothing this way (its missing files could hide
  a failure); at most MAX_CONFIGURATIONS different sets of files are tried per host (hosts with the same
  files are run once): beyond, only a failure found among them decides.
- Nothing raised while joining two hosts reaches the run: that check stays unclear, with a note.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from auditor.model import CheckResult, Evidence, Finding, Status
from auditor.roles import CROSS_ROLE, FILE_ROLES, PROSODY

if TYPE_CHECKING:
    from auditor.context import AuditContext
    from auditor.criteria import Declaration, Profile
    from auditor.engine import TargetResult
    from auditor.registry import Check
    from auditor.snapshot import CollectedItem, Snapshot

_DECIDED = (Status.PASS, Status.FAIL, Status.NOT_APPLICABLE)
MAX_CONFIGURATIONS = 16  # different sets of another host's files a host's checks are run with (one parse each)
_NAMED = 3  # hosts named in a message or a note; the others are counted
_LABEL_MAX = 64  # characters of a host's name in `HOST:path`, messages and notes
# Names many unrelated deployments share: docker-jitsi-meet's internal XMPP domain, loopback, config.js's
# `location.host` stub (location.host.invalid), reserved (RFC 2606/6761) and private-use names.
_SHARED = ("meet.jitsi", "localhost", "invalid", "test", "example", "local", "localdomain", "internal",
           "home.arpa", "lan")
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+")
_PATH_SEP = re.compile(r":(?=/(?!/))")  # in a name, the ":/" that ends HOST in HOST:path (not docker:// ...)


def decide_across_hosts(
    results: Sequence[TargetResult],
    profile: Profile,
    checks: Sequence[Check],
    declarations: Mapping[str, Declaration] | None = None,
) -> list[TargetResult]:
    """`results` with the cross-role checks each partial host left unclear decided with its partners. Never
    raises for what the targets hold: a host whose join fails keeps its results, with a note."""
    by_id = {c.id: c for c in checks if c.id in CROSS_ROLE}
    usable = [i for i, r in enumerate(results)
              if r.snapshot is not None and r.deployment is not None and r.roles is not None and r.roles.known]
    out = list(results)
    if len(usable) < 2 or not by_id:
        return out
    domains = {i: _domains(results[i]) for i in usable}
    labels = _labels(results)
    for i in usable:
        host = results[i]
        assert host.roles is not None
        if not host.roles.partial or not domains[i]:
            continue
        try:
            out[i] = _decide_host(i, results, usable, domains, labels, by_id, profile, declarations)
        except Exception as exc:  # a bug or a target's content this code did not foresee: never the run
            note = f"checks needing another host's files were not decided across hosts: {type(exc).__name__}"
            out[i] = replace(host, notes=[*host.notes, note])
    return out


def _decide_host(
    i: int,
    results: Sequence[TargetResult],
    usable: list[int],
    domains: dict[int, set[str]],
    labels: list[str],
    by_id: dict[str, Check],
    profile: Profile,
    declarations: Mapping[str, Declaration] | None,
) -> TargetResult:
    host = results[i]
    assert host.roles is not None
    wanted: dict[tuple[str, ...], list[int]] = {}  # missing roles -> the host's unclear findings needing them
    for k, finding in enumerate(host.findings):
        if finding.check_id not in by_id or finding.status is not Status.UNCLEAR:
            continue
        needed = CROSS_ROLE[finding.check_id]
        missing = tuple(r for r in needed if r not in host.roles.roles)
        if missing and len(missing) < len(needed):
            wanted.setdefault(missing, []).append(k)
    findings, notes = list(host.findings), list[str]()
    for missing, indexes in wanted.items():
        partners = [j for j in usable if j != i and domains[i] & domains[j]
                    and set(missing) <= set(results[j].roles.roles)]  # type: ignore[union-attr]
        if not partners:
            continue
        outcomes, more = _outcomes(host, [by_id[findings[k].check_id] for k in indexes], partners, results,
                                   labels, missing, notes)
        for k, per_partner in zip(indexes, outcomes, strict=True):
            finding = findings[k]
            decided = _combine(finding, [(labels[j], r) for j, r in per_partner], missing, more)
            if decided is not None:
                findings[k] = decided
                used = [labels[j] for j, r in per_partner if r.status in _DECIDED]
                notes.append(f"{finding.check_id}: decided with the {'/'.join(missing)} evidence of "
                             f"{_names(used)} (the same deployment)")
            elif more:
                notes.append(f"{finding.check_id}: not decided across hosts: {len(partners)} hosts of the run "
                             f"serve this domain with {'/'.join(missing)}, in more than {MAX_CONFIGURATIONS} "
                             "different configurations, and none of those tried fails")
    if findings == host.findings and not notes:
        return host
    return _rerated(host, findings, profile, declarations, notes)


def _outcomes(
    host: TargetResult,
    checks: list[Check],
    partners: list[int],
    results: Sequence[TargetResult],
    labels: list[str],
    missing: tuple[str, ...],
    notes: list[str],
) -> tuple[list[list[tuple[int, CheckResult]]], bool]:
    """Per check, its result with each partner tried (in the run's order); and whether some partners were
    left untried (more than MAX_CONFIGURATIONS different sets of files). A partner's context is built once
    for all the checks and dropped after them; partners with the same files share it."""
    from auditor.engine import run_check

    groups: dict[frozenset[CollectedItem], list[int]] = {}
    by_partner: dict[int, list[CheckResult]] = {}
    unused: dict[str, list[int]] = {}  # why -> partners whose evidence could not be used

    def cannot(j: int, why: str) -> None:
        by_partner[j] = [CheckResult.unclear(f"cannot tell: {why}")] * len(checks)
        unused.setdefault(why, []).append(j)

    for j in partners:
        if results[j].error is not None:  # files it could not read might make a check fail
            cannot(j, "the collection is incomplete")
            continue
        try:
            files = _contribution(results[j], missing)
        except Exception as exc:
            cannot(j, f"the files could not be joined ({type(exc).__name__})")
            continue
        if files:
            groups.setdefault(files, []).append(j)
        else:  # a role given by the inventory, files not collected: nothing to join
            cannot(j, f"no {'/'.join(missing)} file was collected")
    more = len(groups) > MAX_CONFIGURATIONS
    for files, members in list(groups.items())[:MAX_CONFIGURATIONS]:
        try:
            ctx, own = _joined_context(host, files, missing)
        except Exception as exc:  # one pair's evidence that cannot be parsed costs that pair only
            for j in members:
                cannot(j, f"the files could not be joined ({type(exc).__name__})")
            continue
        raw = [run_check(c, ctx) for c in checks]
        del ctx
        for j in members:
            by_partner[j] = [_relabelled(r, own, labels[j]) for r in raw]
    for why, js in unused.items():
        notes.append(f"the {'/'.join(missing)} evidence of {_names([labels[j] for j in js])} is not used: {why}")
    tried = [j for j in partners if j in by_partner]
    return [[(j, by_partner[j][n]) for j in tried] for n in range(len(checks))], more


def _domains(result: TargetResult) -> set[str]:
    """The names that identify the deployment a host belongs to: its public name, every name its config.js
    and docker .env give, the VirtualHosts of the prosody it runs; without names many deployments share."""
    from auditor.facts import View

    assert result.deployment is not None and result.roles is not None
    try:
        view = View(result.deployment)
        hosts = view.hosts() if PROSODY in result.roles.roles else []
        names = {view.public_domain(), *view.own_domains(), *hosts}
    except Exception:  # a host whose names cannot be read is joined with nothing
        return set()
    found = {n.lower().rstrip(".") for n in names if isinstance(n, str)}
    return {n for n in found if _distinctive(n)}


def _distinctive(name: str) -> bool:
    try:
        return ipaddress.ip_address(name.strip("[]")).is_global
    except ValueError:
        pass
    if "." not in name or len(name) > 253:
        return False
    return not any(name == s or name.endswith("." + s) for s in _SHARED)


def _labels(results: Sequence[TargetResult]) -> list[str]:
    """Each target's name as it prefixes evidence read there: no control characters or spaces, no ":/" but
    in "://" (the first ":/" of `HOST:path` ends HOST), not starting with '/', at most _LABEL_MAX characters;
    a name two targets share gets #position (the evidence bundle's number)."""
    names = []
    for r in results:
        name = _PATH_SEP.sub("%3A", _UNSAFE.sub("_", r.target)) or "target"
        if len(name) > _LABEL_MAX:
            name = name[: _LABEL_MAX - 1] + "…"
        names.append(f"[{name}]" if name.startswith("/") else name)
    count = Counter(names)
    return [n if count[n] == 1 else f"{n}#{pos}" for pos, n in enumerate(names, start=1)]


def _names(labels: list[str]) -> str:
    if len(labels) <= _NAMED:
        return ", ".join(labels)
    others = len(labels) - _NAMED
    return f"{', '.join(labels[:_NAMED])} and {others} other host{'s' if others > 1 else ''}"


def _file_roles(result: TargetResult) -> dict[str, set[str]]:
    """Each collected file's roles (key -> roles), as the host's discovery assigned them."""
    assert result.deployment is not None
    roles: dict[str, set[str]] = {}
    for f in result.deployment.files:
        roles.setdefault(f.item.key, set()).update(FILE_ROLES.get(f.role, ()))
    return roles


def _contribution(partner: TargetResult, missing: tuple[str, ...]) -> frozenset[CollectedItem]:
    """The partner's files of the missing components alone (no docker .env or compose file: they hold the
    web front's settings too; no command output: its versions and listeners are not the host's)."""
    assert partner.deployment is not None
    theirs = {k for k, roles in _file_roles(partner).items() if roles and roles <= set(missing)}
    return frozenset(f.item for f in partner.deployment.files if f.item.key in theirs)


def _joined(host: TargetResult, files: frozenset[CollectedItem], missing: tuple[str, ...]
            ) -> tuple[Snapshot, set[str]]:
    """The host's evidence with its own files of the missing components (stale: it does not run them)
    replaced by the partner's; and the keys of the host's own items in it."""
    assert host.snapshot is not None
    stale = {k for k, roles in _file_roles(host).items() if roles and roles <= set(missing)}
    items = {k: v for k, v in host.snapshot.items.items() if k not in stale}
    own = set(items)
    for item in sorted(files, key=lambda it: it.key):
        items.setdefault(item.key, item)
    return host.snapshot.with_items(items), own


def _joined_context(host: TargetResult, files: frozenset[CollectedItem], missing: tuple[str, ...]
                    ) -> tuple[AuditContext, set[str]]:
    from auditor.context import AuditContext
    from auditor.engine import prepare_snapshot
    from auditor.facts import View

    snapshot, own = _joined(host, files, missing)
    prepared = prepare_snapshot(snapshot, redact=False)  # both already redacted
    return AuditContext(prepared.deployment, prepared.facts, View(prepared.deployment), host.probes), own


def _relabelled(result: CheckResult, own: set[str], label: str) -> CheckResult:
    return replace(result, evidence=tuple(_relabel(e, own, label) for e in result.evidence))


def _relabel(evidence: Evidence, own: set[str], label: str) -> Evidence:
    """A file of the joined evidence that is not one of the host's own was read on the partner."""
    path = evidence.location.path
    if path in own or not path.startswith("/"):
        return evidence
    return replace(evidence, location=replace(evidence.location, path=f"{label}:{path}"))


def _combine(finding: Finding, outcomes: list[tuple[str, CheckResult]], missing: tuple[str, ...],
             more: bool = False) -> Finding | None:
    """Failed with any partner: failed; passed (or N/A) with every one: decided; otherwise None. `more`:
    some partners were not tried, so only a failure decides."""
    what = "/".join(missing)
    failed = [(p, r) for p, r in outcomes if r.status is Status.FAIL]
    if failed:
        partner, result = failed[0]
        with_whom = partner
    elif outcomes and not more and all(r.status in _DECIDED for _, r in outcomes):
        passed = [(p, r) for p, r in outcomes if r.status is Status.PASS]
        partner, result = (passed or outcomes)[0]
        with_whom = _names([p for p, _ in outcomes])
    else:
        return None
    return replace(finding, status=result.status, evidence=result.evidence,
                   message=f"{result.message} (with the {what} of {with_whom})")


def _rerated(host: TargetResult, findings: list[Finding], profile: Profile,
             declarations: Mapping[str, Declaration] | None, notes: list[str]) -> TargetResult:
    from auditor.engine import rated

    assert host.facts is not None and host.roles is not None
    ratings, scores = rated(profile, findings, host.facts, declarations, host.roles)
    return replace(host, findings=findings, criteria=ratings, scores=scores, notes=[*host.notes, *notes])
