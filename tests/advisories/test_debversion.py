"""dpkg's version ordering, on synthetic cases and on real versions of the Jitsi packages."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.advisories.debversion import DebVersion, VersionError, compare_versions, upstream_of, verrevcmp


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0", "1.0", 0),
        ("1.0", "1.0-0", 0),  # no revision compares like "0"
        ("1.0~rc1", "1.0", -1),  # ~ sorts before the end of the string
        ("1.0~~", "1.0~", -1),
        ("1.0", "1.0+b1", -1),
        ("1.0", "1.0a", -1),  # letters after the end
        ("1.0a", "1.0+", -1),  # letters before other characters
        ("1:0.1", "2.0", 1),  # the epoch wins
        ("0:2.0", "2.0", 0),
        ("1.01", "1.1", 0),  # digit runs compare as numbers
        ("1.10", "1.9", 1),
        ("2.0-1", "2.0-1~bpo1", 1),
        ("13.0.1-1~bookworm1", "13.0.1-1", -1),
        ("0.11.9-2+deb11u2", "0.11.9-2+deb11u1", 1),
        ("0.11.9-2+deb11u1", "0.11.9-2", 1),
        ("0.11.10-1", "0.11.9-2+deb11u2", 1),
        ("0.12.6-1", "13.0.0-1", -1),
    ],
)
def test_dpkg_ordering(a: str, b: str, expected: int) -> None:
    assert compare_versions(a, b) == expected
    assert compare_versions(b, a) == -expected


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1.0-589-1", "1.0-940-1"),  # jicofo builds, numeric not textual: 589 < 940
        ("1.0-940-1", "1.0-1050-1"),  # 940 < 1050 although "9" > "1"
        ("1.0-1133-1", "1.0-1189-1"),
        ("2.1-202-g5f9377b9b-1", "2.1-595-g3637fda42-1"),  # videobridge
        ("2.2-79-gf6426ea01-1", "2.3-19-gb286dc0ca-1"),
        ("1.0.4127-1", "1.0.5056-1"),  # jitsi-meet-web builds
        ("2.0.4627-1", "2.0.10590-1"),  # jitsi-meet meta
        ("1.1-215-g1234567-1", "1.1-216-1"),  # jigasi
    ],
)
def test_real_jitsi_versions(older: str, newer: str) -> None:
    assert compare_versions(older, newer) == -1


def test_the_web_build_trap_is_a_real_ordering_not_a_version_relation() -> None:
    # Compared as Debian versions, jitsi-meet-web 1.0.5056-1 is "older" than the fix 2.0.5963-1 although it IS
    # stable 5963: the schemes differ, which is why matching translates through the stable mapping.
    assert compare_versions("1.0.5056-1", "2.0.5963-1") == -1


def test_a_fixed_bound_without_revision_must_be_read_as_upstream() -> None:
    # As a full Debian version "1.0-940" is upstream 1.0 revision 940: 1.0-939-1 would then sort *after* it.
    assert DebVersion.parse("1.0-939-1") > DebVersion.parse("1.0-940")
    assert DebVersion.parse("1.0-939-1").without_revision() < DebVersion.upstream_only("1.0-940")
    assert upstream_of("1.0-940-1") == "1.0-940"
    assert upstream_of("1:2.0-3") == "1:2.0"


def test_parse_parts_and_errors() -> None:
    v = DebVersion.parse("2:1.0-940-1")
    assert (v.epoch, v.upstream, v.revision) == (2, "1.0-940", "1")
    assert str(v) == "2:1.0-940-1"
    assert DebVersion.parse("1.0") == DebVersion.parse("1.0-0")
    assert hash(DebVersion.parse("1.0")) == hash(DebVersion.parse("1.0-0"))
    for bad in ("", "a:1.0", "1.0-", "1.0 beta", "1.0-1_2", "-1"):
        with pytest.raises(VersionError):
            DebVersion.parse(bad)
    assert verrevcmp("", "") == 0


_PART = st.text(alphabet="0123456789.+~abz", min_size=1, max_size=6).filter(lambda t: t[0].isdigit())
_VERSION = st.builds(
    lambda e, u, r: (f"{e}:" if e else "") + u + (f"-{r}" if r else ""),
    st.sampled_from([0, 0, 1]),
    _PART,
    st.one_of(st.just(""), st.text(alphabet="0123456789.+~ab", min_size=1, max_size=4)),
)


@given(_VERSION, _VERSION, _VERSION)
def test_the_ordering_is_total_and_consistent(a: str, b: str, c: str) -> None:
    ab, ba = compare_versions(a, b), compare_versions(b, a)
    assert ab == -ba
    if ab <= 0 and compare_versions(b, c) <= 0:
        assert compare_versions(a, c) <= 0
    ordered = sorted([a, b, c], key=DebVersion.parse)
    assert all(compare_versions(x, y) <= 0 for x, y in itertools.pairwise(ordered))
