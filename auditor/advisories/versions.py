"""Version schemes of the Jitsi components, and the stable-release mapping between them.

Each advisory states its affected range in the scheme of its component:
- `stable`: jitsi-meet, by stable release number N (`2.0.N`, `stable-N`, `N`). The meta package
  `jitsi-meet` is `2.0.N-r`; `jitsi-meet-web`/`-prosody`/`-tokens` are `1.0.<build>-1` with a build
  number unrelated to N, translated through the mapping (comparing `1.0.5056` with "< 2.0.5963"
  directly is the NixOS #132134 false positive: 1.0.5056 *is* stable 5963).
- `debian`: jicofo (`1.0-<build>`), jigasi (`1.1-<build>`), jibri, prosody, clients: dpkg comparison
  of upstream versions (the Debian revision of an installed package is dropped first).
- `jvb`: jitsi-videobridge `2.<minor>-<n>-g<hash>`, compared by (2, minor, n): the hash is no order.
- `docker`: docker-jitsi-meet image tags `stable-N[-k]`, ordered (N, k) with a bare tag as k = 0.

Installed evidence becomes an interval [lo, hi] in the scheme (None: unbounded), because some
evidence is inexact: a web build between two stable releases, a docker tag for a stable release whose
jicofo build is not in the mapping, an image whose Prosody version is only bounded from below.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from auditor.advisories.debversion import DebVersion, VersionError


class Scheme(StrEnum):
    STABLE = "stable"
    DEBIAN = "debian"
    JVB = "jvb"
    DOCKER = "docker"


COMPONENT_SCHEMES: dict[str, Scheme] = {
    "jitsi-meet": Scheme.STABLE,
    "jicofo": Scheme.DEBIAN,
    "jitsi-videobridge": Scheme.JVB,
    "jigasi": Scheme.DEBIAN,
    "jibri": Scheme.DEBIAN,
    "prosody": Scheme.DEBIAN,
    "docker-jitsi-meet": Scheme.DOCKER,
    "jitsi-meet-electron": Scheme.DEBIAN,  # client: listed, never matched against a server
    "jitsi-desktop": Scheme.DEBIAN,  # the legacy Jitsi desktop client: listed only
}

_META_RE = re.compile(r"^(?:\d+:)?2\.0\.(\d+)(?:[-+~.].*)?$")
_WEB_BUILD_RE = re.compile(r"^(?:\d+:)?1\.0\.(\d+)(?:-.*)?$")
_STABLE_BOUND_RE = re.compile(r"^(?:2\.0\.|stable-)?(\d+)(?:-\d+)?$")
_JVB_RE = re.compile(r"^(?:\d+:)?(\d+)\.(\d+)[.-](\d+)(?:-g[0-9a-f]+)?(?:-[0-9A-Za-z.+~]+)?$")
_DOCKER_RE = re.compile(r"^stable-(\d+)(?:-(\d+))?$")


@functools.total_ordering
@dataclass(frozen=True, slots=True)
class VKey:
    """A position in one scheme: integer parts, or a Debian version."""

    parts: tuple[int, ...] = ()
    deb: DebVersion | None = None

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, VKey):
            return NotImplemented
        if self.deb is not None and other.deb is not None:
            return self.deb < other.deb
        return self.parts < other.parts

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VKey):
            return NotImplemented
        if self.deb is not None and other.deb is not None:
            return self.deb == other.deb
        return self.parts == other.parts and self.deb is other.deb

    def __hash__(self) -> int:
        return hash(self.parts)


# Stable positions are doubled so that "after stable N, before the next one" is 2N + 1.
def stable_key(n: int, *, after: bool = False) -> VKey:
    return VKey((2 * n + (1 if after else 0),))


def parse_bound(scheme: Scheme, text: str) -> VKey:
    """An advisory's bound (`introduced`/`below`) in its component's scheme; ValueError if malformed."""
    text = text.strip()
    if scheme is Scheme.STABLE:
        m = _STABLE_BOUND_RE.match(text)
        if not m:
            raise ValueError(f"{text!r} is not a jitsi-meet stable number (2.0.N, stable-N or N)")
        return stable_key(int(m.group(1)))
    if scheme is Scheme.JVB:
        key = jvb_key(text)
        if key is None:
            raise ValueError(f"{text!r} is not a videobridge version (2.<minor>-<n>[-g<hash>])")
        return key
    if scheme is Scheme.DOCKER:
        key = docker_key(text)
        if key is None:
            raise ValueError(f"{text!r} is not a docker-jitsi-meet tag (stable-N[-k])")
        return key
    try:
        return VKey(deb=DebVersion.upstream_only(text))
    except VersionError as exc:
        raise ValueError(str(exc)) from None


def jvb_key(text: str) -> VKey | None:
    m = _JVB_RE.match(text.strip())
    return VKey((int(m.group(1)), int(m.group(2)), int(m.group(3)))) if m else None


def docker_key(tag: str) -> VKey | None:
    m = _DOCKER_RE.match(tag.strip())
    return VKey((int(m.group(1)), int(m.group(2) or 0))) if m else None


def docker_stable(tag: str) -> int | None:
    m = _DOCKER_RE.match(tag.strip())
    return int(m.group(1)) if m else None


def meta_stable(version: str) -> int | None:
    """The stable number of the `jitsi-meet` meta package version (`2.0.9779-1` → 9779)."""
    m = _META_RE.match(version.strip())
    return int(m.group(1)) if m else None


def web_build(version: str) -> int | None:
    """The build of a `jitsi-meet-web`/`-prosody`/`-tokens` version (`1.0.5056-1` → 5056)."""
    m = _WEB_BUILD_RE.match(version.strip())
    return int(m.group(1)) if m else None


def deb_upstream_key(version: str) -> VKey | None:
    """An installed Debian package version as an upstream key, None if invalid. The revision and the epoch
    are the packager's: an epoch (`1:0.11.2-1`) resets the package's ordering, not upstream's, and kept
    it ranked the version above every upstream bound (no advisory matched)."""
    try:
        return VKey(deb=DebVersion(0, DebVersion.parse(version).upstream, ""))
    except VersionError:
        return None


@dataclass(frozen=True, slots=True)
class Interval:
    lo: VKey | None
    hi: VKey | None
    detail: str = ""  # how the version was translated, for messages ("stable 5963")

    @property
    def exact(self) -> bool:
        return self.lo is not None and self.lo == self.hi


UNKNOWN = Interval(None, None)


@dataclass(frozen=True, slots=True)
class Release:
    stable: int
    date: str
    web: int | None  # jitsi-meet-web build
    jicofo: str | None  # upstream version "1.0-<build>"
    jvb: str | None  # upstream version "2.x-<n>-g<hash>"


class StableMap:
    """Appendix A of the research notes: stable N ↔ web build ↔ jicofo ↔ videobridge."""

    def __init__(self, releases: Sequence[Release]) -> None:
        self.releases = sorted(releases, key=lambda r: r.stable)
        self._web = [(r.web, r.stable) for r in self.releases if r.web is not None]
        self._web_builds = [b for b, _ in self._web]
        self._stables = [r.stable for r in self.releases]

    def get(self, stable: int) -> Release | None:
        i = bisect.bisect_left(self._stables, stable)
        return self.releases[i] if i < len(self._stables) and self._stables[i] == stable else None

    def web_interval(self, build: int) -> Interval:
        """A web build as stable positions: exact for a stable's build, else between two releases.

        A build strictly between the builds of stables N1 and N2 contains everything of N1 and may
        contain a fix first released in N2, so it is (N1, N2]: affected for sure only by advisories
        fixed after N2, unaffected by those fixed in N1 or earlier.
        """
        same = [s for b, s in self._web if b == build]
        if same:
            label = f"stable {same[0]}" if len(same) == 1 else f"stable {same[0]}-{same[-1]}"
            return Interval(stable_key(same[0]), stable_key(same[-1]), label)
        i = bisect.bisect_left(self._web_builds, build)
        below = self._web[i - 1][1] if i > 0 else None
        above = self._web[i][1] if i < len(self._web) else None
        lo = stable_key(below, after=True) if below is not None else None
        hi = stable_key(above) if above is not None else None
        if below is not None and above is not None:
            detail = f"a build between stable {below} and {above}"
        elif below is not None:
            detail = f"a build after stable {below}, the last in the mapping"
        else:
            detail = f"a build before stable {above}, the first in the mapping"
        return Interval(lo, hi, detail)

    def component_interval(self, stable: int, field: str, scheme: Scheme) -> Interval:
        """The jicofo or videobridge version shipped with stable N (bracketed when N is not mapped)."""
        known = [(r.stable, getattr(r, field)) for r in self.releases if getattr(r, field) is not None]
        exact = [v for s, v in known if s == stable]
        if exact:
            key = parse_bound(scheme, exact[0])
            return Interval(key, key, f"{field} {exact[0]} in stable {stable}")
        lower = [(s, v) for s, v in known if s < stable]
        upper = [(s, v) for s, v in known if s > stable]
        lo = parse_bound(scheme, lower[-1][1]) if lower else None
        hi = parse_bound(scheme, upper[0][1]) if upper else None
        span = " and ".join(f"{v} (stable {s})" for s, v in (lower[-1:] + upper[:1]))
        return Interval(lo, hi, f"{field} of stable {stable} is not in the mapping: between {span or 'nothing'}")
