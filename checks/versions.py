"""Known vulnerabilities: deployed versions against the bundled advisory data (never fetched here).

Versions come from the collected `dpkg-query` and `prosodyctl about` output and from docker-jitsi-meet
image tags; a configuration-only audit (--root) has neither for a Debian host, and says so.
Finding severities are fixed per check, so high/critical and low/medium advisories are two checks.
Whether image tags are pinned at all is docker.image_tag's question (checks/docker_env.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from auditor.advisories.data import ActiveData, AdvisoryData, AdvisoryDataError, active_data
from auditor.advisories.docker import IMAGE_VAR
from auditor.advisories.matching import Installed, Inventory, Match, deployment_inventory, match_inventory
from auditor.context import AuditContext
from auditor.deployment import Deployment
from auditor.discovery import Role
from auditor.model import CheckResult, Evidence, Severity
from auditor.parsers.base import Location
from auditor.registry import check

HIGH_BAND = {"high", "critical", "unrated"}  # unrated advisories count as high
MINOR_BAND = {"low", "medium"}
MAX_LISTED = 10
MAX_EVIDENCE = 50  # places listed per finding (an image written in many compose files)
_UPGRADE = """Debian/Ubuntu: `apt update && apt install --only-upgrade jitsi-meet jicofo jitsi-videobridge2 prosody`
(plus jigasi/jibri when installed). docker-jitsi-meet: set `JITSI_IMAGE_VERSION=stable-<latest>` in .env (or
use the latest release's compose files), then `docker compose pull && docker compose up -d`. Each finding
names the advisory and the version that fixes it."""


@check(
    "vuln.known_advisories",
    title="No high or critical published advisory affects the deployed versions",
    severity=Severity.HIGH,
    criteria=("vuln.nvd_2019", "vuln.nvd_2020"),
    rationale="""Jitsi (JSA), docker-jitsi-meet and Prosody publish the versions that fix each vulnerability. A
    deployment older than the fix of a high or critical one (JWT forgery, log4j, jicofo DoS, Prosody
    DoS/impersonation) is exposed to a known, documented attack.""",
    remediation=_UPGRADE,
    references=("https://github.com/jitsi/security-advisories", "https://prosody.im/security/"),
)
def known_advisories(ctx: AuditContext) -> CheckResult:
    return _band(ctx, HIGH_BAND, "high or critical")


@check(
    "vuln.minor_advisories",
    title="No low or medium published advisory affects the deployed versions",
    severity=Severity.MEDIUM,
    criteria=("vuln.nvd_2019", "vuln.nvd_2020"),
    rationale="""Low and medium advisories (IP exposure through chat content, lobby password disclosure, XML
    parsing DoS) are fixed in later releases; running an older one keeps them open.""",
    remediation=_UPGRADE,
    references=("https://github.com/jitsi/security-advisories",),
)
def minor_advisories(ctx: AuditContext) -> CheckResult:
    return _band(ctx, MINOR_BAND, "low or medium")


@check(
    "vuln.prosody_version",
    title="The Prosody version carries every published Prosody security fix",
    severity=Severity.MEDIUM,
    criteria=("vuln.nvd_2019", "vuln.nvd_2020"),
    rationale="""Prosody is the XMPP server every Jitsi deployment exposes (BOSH/websocket, often 5222). Its
    advisories include unauthenticated denial of service and s2s impersonation; distribution builds may
    backport fixes without changing the upstream version, which is said where it applies.""",
    remediation="""Upgrade Prosody (packages.prosody.im or your distribution's security updates) to a release at or
    above the fixed versions named in the finding (currently 0.12.6 or 13.0.5); docker: a newer prosody image.""",
    references=("https://prosody.im/security/",),
)
def prosody_version(ctx: AuditContext) -> CheckResult:
    return _component(ctx, "prosody", "Prosody", "no prosody package, `prosodyctl about` or prosody image",
                      "Prosody advisory", lambda m: True)


@check(
    "vuln.e2ee_fixes",
    title="The deployed Jitsi Meet includes the fixes from the published E2EE review",
    severity=Severity.LOW,
    criteria=("enc.scrutiny",),
    rationale="""Jitsi's E2EE was reviewed by ETH Zurich and Royal Holloway researchers: fail-open decryption
    let a rogue videobridge inject unencrypted media into an E2EE call and unsupported clients announced
    "E2EE on" (JSA-2022-0001, fixed in 2.0.7830); poll votes could be forged (JSA-2022-0004, stable-8044).
    The scrutiny only protects deployments that carry the fixes.""",
    remediation="Upgrade jitsi-meet to 2.0.8044 or later (docker: an image tag stable-8044 or later).",
    references=("JSA-2022-0001", "JSA-2022-0004", "https://github.com/jitsi/security-advisories"),
)
def e2ee_fixes(ctx: AuditContext) -> CheckResult:
    return _component(ctx, "jitsi-meet", "Jitsi Meet", "no jitsi-meet package and no jitsi/web image",
                      "E2EE-review advisory", lambda m: "e2ee-review" in m.advisory.tags)


# -- shared ----------------------------------------------------------------------------------


def _inventory(ctx: AuditContext) -> Inventory:
    """The deployment's installed versions, built once for every advisory check of the host."""
    return ctx.deployment.derived("advisories.inventory", deployment_inventory)


def _matches(ctx: AuditContext, data: AdvisoryData) -> list[Match]:
    """Every advisory match of the deployment's inventory, computed once for all four checks (each
    selects its band or component from it) and per advisory data."""
    cache = ctx.deployment.derived("advisories.matches", _match_cache)
    hit = cache.get(id(data))
    if hit is None or hit[0] is not data:
        hit = cache[id(data)] = (data, match_inventory(_inventory(ctx), data))
    return hit[1]


def _match_cache(_dep: Deployment) -> dict[int, tuple[AdvisoryData, list[Match]]]:
    return {}


def _load() -> ActiveData | CheckResult:
    try:
        return active_data()
    except AdvisoryDataError as exc:
        return CheckResult.unclear(f"the advisory data is unusable: {exc}")


def _band(ctx: AuditContext, band: set[str], label: str) -> CheckResult:
    got = _load()
    if isinstance(got, CheckResult):
        return got
    inv = _inventory(ctx)
    if not inv.installed:
        return CheckResult.unclear(_no_evidence(inv))
    matches = _matches(ctx, got.data)
    keep: Callable[[Match], bool] = lambda m: m.advisory.severity in band  # noqa: E731
    extra = _env_evidence(ctx, inv.installed)
    return _judge(matches, inv.installed, got, f"{label} advisory", keep, extra, inv.unjudged_note())


def _component(ctx: AuditContext, component: str, name: str, absent: str, label: str,
               keep: Callable[[Match], bool]) -> CheckResult:
    """The advisories `keep` selects for one component's installed versions (`absent`: why none is known
    when other components are)."""
    got = _load()
    if isinstance(got, CheckResult):
        return got
    inv = _inventory(ctx)
    installed = [i for i in inv.installed if i.component == component]
    unjudged = inv.unjudged_note(component)
    if not installed:
        if unjudged is not None:
            return CheckResult.unclear(f"the {name} version was not judged: {unjudged}")
        return CheckResult.unclear(
            f"the {name} version is not in the evidence: " + (_no_evidence(inv) if not inv.installed else absent)
        )
    matches = [m for m in _matches(ctx, got.data) if m.installed.component == component]
    return _judge(matches, installed, got, label, keep, _env_evidence(ctx, installed), unjudged)


def _judge(
    matches: list[Match],
    installed: list[Installed],
    got: ActiveData,
    label: str,
    keep: Callable[[Match], bool],
    extra: list[Evidence],
    unjudged: str | None = None,
) -> CheckResult:
    """`unjudged`: why some images were not compared (too many): a pass would rest on a truncated list,
    so it is unclear instead, and a failure or an unclear verdict says so too."""
    chosen = [m for m in matches if keep(m)]
    affected = [m for m in chosen if m.certain]
    unsure = [m for m in chosen if not m.certain]
    warning = f"; {got.warning}" if got.warning else ""
    cap = f"; {unjudged}" if unjudged is not None else ""
    if affected:
        evidence = _evidence(m.installed for m in affected)
        ids = _by_advisory(affected)
        worst = max(affected, key=lambda m: m.advisory.rank).advisory.severity
        more = f"; {_count(len(_ids(unsure)), 'more')} cannot be decided" if unsure else ""
        return CheckResult.failed(
            f"{_count(len(ids), label)} affect the deployed versions (highest {worst}): {_listing(ids)}{more}"
            f" [{got.label}]{warning}{cap}",
            *evidence,
            *extra,
        )
    if unsure:
        return CheckResult.unclear(
            f"{_count(len(_ids(unsure)), label)} cannot be decided: {_unclear_listing(unsure)} [{got.label}]{warning}"
            f"{cap}",
            *_evidence(m.installed for m in unsure),
            *extra,
        )
    compared = _short_list(", ".join(dict.fromkeys(i.describe() for i in installed)))
    if unjudged is not None:
        return CheckResult.unclear(
            f"cannot tell: {unjudged}; no {label} affects the ones compared ({compared})"
            f" [{got.label}]{warning}",
            *_evidence(installed),
            *extra,
        )
    return CheckResult.passed(f"no {label} affects {compared} [{got.label}]{warning}", *_evidence(installed), *extra)


def _short_list(text: str, limit: int = 1000) -> str:
    """A listing of what was compared, cut after whole items (up to MAX_IMAGES images could be named)."""
    return text if len(text) <= limit else text[:limit].rsplit(", ", 1)[0] + ", ..."


def _count(n: int, noun: str) -> str:
    if n == 1 or noun == "more":
        return f"{n} {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"


def _env_evidence(ctx: AuditContext, installed: Iterable[Installed]) -> list[Evidence]:
    """The .env line a compose `${JITSI_IMAGE_VERSION...}` tag was resolved from."""
    if any(i.image is not None and IMAGE_VAR in i.image.written for i in installed):
        return _env_var_evidence(ctx)
    return []


def _ids(matches: Iterable[Match]) -> list[str]:
    return list(dict.fromkeys(m.advisory.id for m in matches))


def _by_advisory(matches: list[Match]) -> list[tuple[Match, list[Match]]]:
    groups: dict[str, list[Match]] = {}
    for m in matches:
        groups.setdefault(m.advisory.id, []).append(m)
    ordered = sorted(groups.values(), key=lambda ms: (-ms[0].advisory.rank, ms[0].advisory.id))
    return [(ms[0], ms) for ms in ordered]


def _listing(groups: list[tuple[Match, list[Match]]]) -> str:
    parts = []
    for first, ms in groups[:MAX_LISTED]:
        adv = first.advisory
        alias = f"/{adv.aliases[0]}" if adv.aliases and adv.aliases[0].startswith("CVE-") else ""
        cond = f"; applies with {adv.condition}" if adv.condition else ""
        parts.append(f"{adv.id}{alias} {adv.severity} ({ms[0].reason}{cond})")
    rest = len(groups) - MAX_LISTED
    return "; ".join(parts) + (f"; and {rest} more" if rest > 0 else "")


def _unclear_listing(matches: list[Match]) -> str:
    """Grouped by reason: many advisories usually share one (an unresolved tag, a distro build)."""
    by_reason: dict[str, list[str]] = {}
    for m in matches:
        ids = by_reason.setdefault(m.reason, [])
        if m.advisory.id not in ids:
            ids.append(m.advisory.id)
    parts = []
    for reason, ids in list(by_reason.items())[:MAX_LISTED]:
        shown = ", ".join(ids[:6]) + (f" +{len(ids) - 6}" if len(ids) > 6 else "")
        parts.append(f"{shown}: {reason}")
    return "; ".join(parts)


def _evidence(installed: Iterable[Installed]) -> list[Evidence]:
    """Each place a version was read from, once (an image: every place it is written, up to MAX_PLACES
    of each); the first MAX_EVIDENCE of them, then one entry counting the places left out."""
    seen: dict[tuple[str, int | None, str], Evidence] = {}
    unlisted: dict[int, int] = {}  # per distinct image (its Installed per component share the count)
    for i in installed:
        if i.unlisted and i.image is not None:
            unlisted[id(i.image)] = i.unlisted
        for location, excerpt in i.places():
            key = (location.path, location.line, excerpt)
            if key not in seen:
                seen[key] = Evidence(location, excerpt[:120])
    out = list(seen.values())
    kept = out[:MAX_EVIDENCE]
    more = len(out) - len(kept) + sum(unlisted.values())
    if more:
        kept.append(Evidence(kept[-1].location, f"... and {more} more places of these versions, not listed"))
    return kept


def _env_var_evidence(ctx: AuditContext) -> list[Evidence]:
    out = []
    for env in ctx.deployment.of(Role.DOCKER_ENV, active_only=False):
        entry = env.value.get(IMAGE_VAR) if env.value is not None else None
        if entry is not None:
            out.append(Evidence(Location(env.path, entry.line), f"{IMAGE_VAR}={entry.value or ''}"))
    return out


def _no_evidence(inv: Inventory) -> str:
    if inv.docker is not None and inv.docker.detected:
        return "docker-jitsi-meet found but no image version could be read: " + "; ".join(inv.docker.notes)
    if inv.dpkg_collected:
        return (
            "dpkg-query lists no Jitsi or Prosody package (jitsi-meet, jicofo, jitsi-videobridge2, jigasi, "
            "jibri, prosody) and no docker-jitsi-meet image was found"
        )
    return (
        "no version evidence: no dpkg-query output was collected (an offline --root audit of configuration "
        "files has none) and no docker-jitsi-meet compose file or .env names an image; audit the host over "
        "SSH to compare its installed versions"
    )
