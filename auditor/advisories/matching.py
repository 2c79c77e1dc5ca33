"""Installed versions (the inventory) and the advisories that affect them.

`match()` takes plain values (dpkg-query packages, a Prosody version, image references) for callers
and tests; `deployment_inventory()` builds the same inventory from a parsed deployment, with the
file/command and line each version was read from, for the checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from auditor.advisories.data import COMPONENT_PACKAGES, Advisory, AdvisoryData, active_data
from auditor.advisories.debversion import DebVersion, VersionError
from auditor.advisories.docker import IMAGE_VAR, DockerEvidence, ImageRef, deployment_images, parse_image
from auditor.advisories.versions import (
    COMPONENT_SCHEMES,
    UNKNOWN,
    Interval,
    Scheme,
    StableMap,
    VKey,
    deb_upstream_key,
    docker_key,
    docker_stable,
    jvb_key,
    meta_stable,
    parse_bound,
    stable_key,
    web_build,
)
from auditor.deployment import Deployment
from auditor.parsers.base import Location

DPKG_KEY = "cmd:dpkg-query"
PROSODYCTL_KEY = "cmd:prosodyctl-about"
PACKAGE_COMPONENT = {pkg: comp for comp, pkgs in COMPONENT_PACKAGES.items() for pkg in pkgs}
IMAGE_COMPONENTS: dict[str, tuple[str, ...]] = {
    "web": ("jitsi-meet", "docker-jitsi-meet"),
    "prosody": ("jitsi-meet", "prosody", "docker-jitsi-meet"),
    "jicofo": ("jicofo", "docker-jitsi-meet"),
    "jvb": ("jitsi-videobridge", "docker-jitsi-meet"),
    "jigasi": ("jigasi", "docker-jitsi-meet"),
    "jibri": ("jibri", "docker-jitsi-meet"),
}
# Which docker image carries the code of a jitsi-meet package.
_PACKAGE_IMAGES = {
    "jitsi-meet": ("web", "prosody"),
    "jitsi-meet-web": ("web",),
    "jitsi-meet-web-config": ("web",),
    "jitsi-meet-prosody": ("prosody",),
    "jitsi-meet-tokens": ("prosody",),
}
# What the target multiplies: one image reference written in many compose files (or many services) is
# judged once, with up to MAX_PLACES of the places it was read from; and at most MAX_IMAGES distinct
# references are judged at all (docker-jitsi-meet runs 6 to 10 images). Past that, the images are
# counted in Inventory.unjudged and the checks cannot pass: 20 files of 3 000 services each made
# 1.5M advisory comparisons per check.
MAX_IMAGES = 256
MAX_PLACES = 10
# A distribution build may carry a backported fix without changing the upstream version.
_DISTRO_REVISION_RE = re.compile(r"deb\d+u\d+|ubuntu|\+deb\d", re.I)
# Blanks, not \s, after ^ (\s runs over every following empty line), and one blank run between two
# others: either way a long output made the search quadratic
# "# Prosody 0.12.4", "# Prosody trunk nightly build 1234", "# Prosody hg:0a1b2c": a version, not the
# prose prosodyctl prints when it cannot read its configuration ("Prosody was unable to find ...").
_PROSODY_ABOUT_RE = re.compile(r"^[ \t]*(?:#+[ \t]*)?Prosody[ \t]+(\d\S*|trunk\S*|nightly\S*|hg:\S+)", re.M)


class Verdict(StrEnum):
    AFFECTED = "affected"
    UNCLEAR = "unclear"


@dataclass(frozen=True, slots=True)
class Installed:
    """One version observation of one component."""

    component: str
    subject: str  # package name, image (`jitsi/web`) or `prosody` (prosodyctl about)
    version: str | None  # None: unknown (an unresolved image tag)
    kind: str  # "package", "image" or "prosodyctl"
    location: Location
    excerpt: str
    image: ImageRef | None = None
    elsewhere: tuple[tuple[Location, str], ...] = ()  # the same image read at other places (bounded)
    unlisted: int = 0  # places of the same image past MAX_PLACES, not kept

    def places(self) -> list[tuple[Location, str]]:
        """Where this version was read: (location, excerpt), first the one in `location`."""
        return [(self.location, self.excerpt), *self.elsewhere]

    def describe(self) -> str:
        if self.kind == "image" and self.image is not None:
            return self.image.reference or self.subject
        return f"{self.subject} {self.version}" if self.version else self.subject


@dataclass(frozen=True, slots=True)
class Match:
    advisory: Advisory
    verdict: Verdict
    installed: Installed
    reason: str

    @property
    def certain(self) -> bool:
        return self.verdict is Verdict.AFFECTED


@dataclass(slots=True)
class Inventory:
    installed: list[Installed] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dpkg_collected: bool = False
    docker: DockerEvidence | None = None
    unjudged: int = 0  # distinct image references past MAX_IMAGES: not in `installed`, not judged
    # Why the image list is truncated, and the components the missing images would have carried.
    truncated: list[tuple[str, frozenset[str]]] = field(default_factory=list)

    def unjudged_note(self, component: str | None = None) -> str | None:
        """Why a verdict on `component` (None: any) would rest on a truncated image list, or None."""
        reasons = [why for why, comps in self.truncated if component is None or component in comps]
        return "; ".join(reasons) or None

    def components(self) -> list[str]:
        return sorted({i.component for i in self.installed})

    def of(self, component: str) -> list[Installed]:
        return [i for i in self.installed if i.component == component]


# -- building the inventory ------------------------------------------------------------------


def inventory_from(
    packages: Mapping[str, str],
    prosody_version: str | None = None,
    images: Iterable[ImageRef | str] = (),
    *,
    package_lines: Mapping[str, int] | None = None,
    prosody_line: int | None = None,
) -> Inventory:
    inv = Inventory(dpkg_collected=bool(packages))
    lines = package_lines or {}
    for name in sorted(packages):
        comp = PACKAGE_COMPONENT.get(name)
        if comp is None:
            continue
        version = packages[name]
        inv.installed.append(
            Installed(comp, name, version, "package", Location(DPKG_KEY, lines.get(name)), f"{name} {version}")
        )
    if prosody_version and not inv.of("prosody"):
        loc = Location(PROSODYCTL_KEY, prosody_line)
        inv.installed.append(
            Installed("prosody", "prosody", prosody_version, "prosodyctl", loc, f"Prosody {prosody_version}")
        )
    refs = [_as_ref(i) for i in images]
    for ref, places, unlisted in _distinct_images(refs, inv):
        short = ref.jitsi_image
        assert short is not None
        (loc, excerpt), elsewhere = places[0], tuple(places[1:])
        for comp in IMAGE_COMPONENTS[short]:
            inv.installed.append(
                Installed(comp, ref.name, ref.release_tag, "image", loc, excerpt, ref, elsewhere, unlisted)
            )
    if refs:
        inv.docker = DockerEvidence(refs, [])
    return inv


_ImageKey = tuple[str, str | None, str | None, str | None, bool]


def _distinct_images(
    refs: Iterable[ImageRef], inv: Inventory
) -> list[tuple[ImageRef, list[tuple[Location, str]], int]]:
    """The Jitsi images of `refs`, one per distinct reference (its first occurrence, up to MAX_PLACES
    places and how many more), the first MAX_IMAGES of them; the rest are counted in `inv`.

    Two occurrences are the same when everything a verdict or its reason reads is: the reference, the
    reason its release is unknown, and whether JITSI_IMAGE_VERSION wrote it (the .env evidence)."""
    seen: dict[_ImageKey, tuple[ImageRef, list[tuple[Location, str]], list[int]]] = {}
    skipped: set[_ImageKey] = set()
    components: set[str] = set()
    for ref in refs:
        short = ref.jitsi_image
        if short is None:
            continue
        key = (ref.name, ref.tag, ref.digest, ref.version_problem, IMAGE_VAR in ref.written)
        entry = seen.get(key)
        if entry is None:
            if len(seen) >= MAX_IMAGES:
                if key not in skipped:
                    skipped.add(key)
                    components.update(IMAGE_COMPONENTS[short])
                continue
            entry = seen[key] = (ref, [], [0])
        places, unlisted = entry[1], entry[2]
        written = ref.written
        excerpt = f"image: {written}" if written and not written.startswith("JITSI_") else written
        place = (Location(ref.path, ref.line), excerpt or ref.reference)
        if place in places:
            continue
        if len(places) >= MAX_PLACES:
            unlisted[0] += 1
            continue
        places.append(place)
    inv.unjudged = n = len(skipped)
    if skipped:
        note = (f"{n} more distinct docker image reference{'s' if n != 1 else ''} (past the first {MAX_IMAGES}) "
                f"{'were' if n != 1 else 'was'} not compared with the advisories")
        inv.truncated.append((note, frozenset(components)))
        inv.notes.append(note)
    return [(ref, places, unlisted[0]) for ref, places, unlisted in seen.values()]


def _as_ref(item: ImageRef | str) -> ImageRef:
    if isinstance(item, ImageRef):
        return item
    name, tag, digest = parse_image(item)
    return ImageRef(name, tag, digest, item, "images", None)


def deployment_inventory(dep: Deployment) -> Inventory:
    """Versions from the collected `dpkg-query` and `prosodyctl about` output and docker images."""
    packages = dep.packages
    lines: dict[str, int] = {}
    item = dep.snapshot.command("dpkg-query")
    if item is not None and item.ok:
        for n, line in enumerate(item.text().splitlines(), start=1):
            lines.setdefault(line.split("\t", 1)[0], n)
    version, vline = prosodyctl_version(dep)
    docker = dep.derived("docker.images", deployment_images)  # also read by the prosody checks
    inv = inventory_from(packages, version, docker.images, package_lines=lines, prosody_line=vline)
    inv.dpkg_collected = item is not None and item.ok
    inv.docker = docker if docker.detected else None
    inv.notes += docker.notes
    # compose files or a .env not read (unreadable, unparsable, past the compose bounds), each reason
    # naming its files: the images they name are unknown, so no verdict can pass on the others
    every = frozenset(c for comps in IMAGE_COMPONENTS.values() for c in comps)
    inv.truncated += [(why, every) for why in docker.unknown]
    return inv


def prosodyctl_version(dep: Deployment) -> tuple[str | None, int | None]:
    item = dep.snapshot.command("prosodyctl-about")
    if item is None or not item.ok:
        return None, None
    text = item.text()
    m = _PROSODY_ABOUT_RE.search(text)
    if not m:
        return None, None
    return m.group(1), text.count("\n", 0, m.start(1)) + 1


# -- matching ----------------------------------------------------------------------------------


def match(
    packages: Mapping[str, str],
    prosody_version: str | None = None,
    images: Iterable[ImageRef | str] = (),
    *,
    data: AdvisoryData | None = None,
) -> list[Match]:
    """Advisories affecting (or possibly affecting) the given versions, with the evidence for each.

    `packages`: dpkg-query's package → version; `prosody_version`: e.g. "0.12.4" from `prosodyctl
    about` (used when no prosody package is listed); `images`: references such as
    `jitsi/web:stable-8044`. Unaffected pairs are left out; UNCLEAR says why it cannot be decided.
    """
    return match_inventory(inventory_from(packages, prosody_version, images), data)


def match_inventory(inv: Inventory, data: AdvisoryData | None = None) -> list[Match]:
    data = data if data is not None else active_data().data
    smap = data.stable_map()
    floors = [(parse_bound(Scheme.DOCKER, f.tag), f.prosody, f.source) for f in data.docker_prosody_floors]
    out: list[Match] = []
    for adv in data.advisories:
        if not adv.matchable:
            continue
        for inst in inv.installed:
            if not _applies(adv, inst):
                continue
            found = _decide(adv, inst, smap, floors)
            if found is not None:
                out.append(Match(adv, found[0], inst, found[1]))
    return out


def _applies(adv: Advisory, inst: Installed) -> bool:
    if adv.component != inst.component:
        return False
    if inst.kind == "image":
        short = inst.image.jitsi_image if inst.image is not None else None
        if adv.images is not None:
            return short in adv.images
        if adv.packages is not None and adv.component == "jitsi-meet":
            return any(short in _PACKAGE_IMAGES.get(p, ()) for p in adv.packages)
        return True
    return adv.packages is None or inst.subject in adv.packages


def interval_of(
    inst: Installed, smap: StableMap, floors: Sequence[tuple[VKey, str, str]] = ()
) -> tuple[Interval, str | None]:
    """The installed version in the component's scheme, or (UNKNOWN, why)."""
    scheme = COMPONENT_SCHEMES[inst.component]
    version = inst.version
    if inst.kind == "image":
        problem = inst.image.version_problem if inst.image is not None else None
        if version is None:
            return UNKNOWN, problem or "image tag unknown"
        stable = docker_stable(version)
        if stable is None:
            return UNKNOWN, f"tag {version!r} is not a stable-N release tag"
        if inst.component == "jitsi-meet":
            return Interval(stable_key(stable), stable_key(stable), f"stable {stable}"), None
        if inst.component == "docker-jitsi-meet":
            key = docker_key(version)
            return Interval(key, key, version), None
        if inst.component == "jicofo":
            return smap.component_interval(stable, "jicofo", Scheme.DEBIAN), None
        if inst.component == "jitsi-videobridge":
            return smap.component_interval(stable, "jvb", Scheme.JVB), None
        if inst.component == "prosody":
            tag_key = docker_key(version)
            best = [(k, v, s) for k, v, s in floors if tag_key is not None and tag_key >= k]
            if best:
                k, v, _ = max(best, key=lambda f: f[0])
                lo = parse_bound(Scheme.DEBIAN, v)
                return Interval(lo, None, f"Prosody >= {v} in the prosody image since {_tag_text(k)}"), None
            return UNKNOWN, f"the Prosody version inside {inst.describe()} is not known"
        return UNKNOWN, f"the {inst.component} version inside {inst.describe()} is not known"
    if version is None:
        return UNKNOWN, "version unknown"
    if scheme is Scheme.STABLE:
        if inst.subject == "jitsi-meet":
            n = meta_stable(version)
            if n is None:
                return UNKNOWN, f"jitsi-meet {version} is not a 2.0.N version"
            return Interval(stable_key(n), stable_key(n), f"stable {n}"), None
        build = web_build(version)
        if build is None:
            return UNKNOWN, f"{inst.subject} {version} is not a 1.0.<build> version"
        return smap.web_interval(build), None
    if scheme is Scheme.JVB:
        key = jvb_key(version)
        return (Interval(key, key), None) if key is not None else (UNKNOWN, f"{version} is not a 2.x-n version")
    if inst.component == "prosody" and not re.match(r"^(?:\d+:)?\d+\.\d+", version):
        return UNKNOWN, f"Prosody {version} is a nightly or trunk build"
    if inst.kind == "prosodyctl":
        try:
            key = VKey(deb=DebVersion.upstream_only(version))
        except VersionError:
            return UNKNOWN, f"Prosody {version!r} is not a version"
        return Interval(key, key), None
    deb = deb_upstream_key(version)
    return (Interval(deb, deb), None) if deb is not None else (UNKNOWN, f"{version!r} is not a Debian version")


def _tag_text(key: VKey) -> str:
    n, k = key.parts
    return f"stable-{n}" + (f"-{k}" if k else "")


def _decide(
    adv: Advisory, inst: Installed, smap: StableMap, floors: Sequence[tuple[VKey, str, str]]
) -> tuple[Verdict, str] | None:
    what = inst.describe()
    interval, problem = interval_of(inst, smap, floors)
    translated = f" ({interval.detail})" if interval.detail else ""
    if not adv.affected:  # only unconfirmed server advisories get here without ranges
        return Verdict.UNCLEAR, f"{what}: the affected versions of {adv.id} are not confirmed"
    if problem is not None:
        return Verdict.UNCLEAR, f"{what}: {problem}"
    scheme = COMPONENT_SCHEMES[adv.component]
    verdicts = [_range_verdict(interval, r.introduced, r.below, scheme) for r in adv.affected]
    if all(v == "no" for v in verdicts):
        return None
    fixed = f"fixed in {adv.fixed}" if adv.fixed else f"affected {adv.range_text()}"
    if "yes" not in verdicts:
        return Verdict.UNCLEAR, f"{what}{translated}: not precise enough for the affected range {adv.range_text()}"
    if not adv.confirmed:
        return Verdict.UNCLEAR, f"{what}{translated} is in the unconfirmed range {adv.range_text()}"
    if inst.component == "prosody" and inst.kind == "package" and inst.version is not None:
        return _distro(adv, inst, what, fixed)
    return Verdict.AFFECTED, f"{what}{translated}: {fixed}"


def _range_verdict(iv: Interval, introduced: str | None, below: str | None, scheme: Scheme) -> str:
    lo_b = parse_bound(scheme, introduced) if introduced else None
    hi_b = parse_bound(scheme, below) if below else None
    if hi_b is not None and iv.lo is not None and iv.lo >= hi_b:
        return "no"
    if lo_b is not None and iv.hi is not None and iv.hi < lo_b:
        return "no"
    under = hi_b is None or (iv.hi is not None and iv.hi < hi_b)
    over = lo_b is None or (iv.lo is not None and iv.lo >= lo_b)
    return "yes" if under and over else "maybe"


def _distro(adv: Advisory, inst: Installed, what: str, fixed: str) -> tuple[Verdict, str] | None:
    """A Debian/Ubuntu prosody build below the upstream fix may carry the fix as a backport."""
    assert inst.version is not None
    try:
        installed = DebVersion.parse(inst.version)
    except VersionError:
        return Verdict.UNCLEAR, f"{what}: not a Debian version"
    same = [DebVersion.parse(v) for v in adv.distro_fixed]
    same = [v for v in same if v.without_revision() == installed.without_revision() and v.epoch == installed.epoch]
    if same:
        if any(installed >= v for v in same):
            return None
        return Verdict.AFFECTED, f"{what}: the distribution fixed it in {min(same)}"
    if _DISTRO_REVISION_RE.search(installed.revision):
        return (
            Verdict.UNCLEAR,
            f"{what}: upstream {installed.upstream} is affected ({fixed}), but this distribution build may "
            "carry a backported fix: check the distribution's security tracker",
        )
    return Verdict.AFFECTED, f"{what}: {fixed}"


def worst(matches: Iterable[Match]) -> str | None:
    ranked = sorted(matches, key=lambda m: m.advisory.rank, reverse=True)
    return ranked[0].advisory.severity if ranked else None
