"""No check passes, nor turns a pass into a fail, with TWO files unavailable at once.

tests/core/test_absence_fails.py makes one file unavailable at a time; a check may still read the other
file of a pair (jvb.stun_mapping tells the deployment's own names from prosody's or config.js's, the
prosody view falls back to other files when the main one is unusable), so a pass can survive one file
and stand on nothing with both gone. For every tree where a judged check passes: every pair of files of
distinct roles among test_absence_fails's (ROLES and OTHER_ROLES, one file per role in these trees), both
left unparsed by the budget, both broken by a syntax error, or both unreadable. Mixed modes (one
skipped, the other broken) found nothing more and doubled the run time (about 30 s of CPU serially as it
is). A file made broken or unreadable takes the links to it along (conf.d/x.cfg.lua ->
../conf.avail/x.cfg.lua is one file); the budget counts a link as a file of its own, so there only the
path is refused.

A check must not fail; an unclear verdict names the budget or one of the files; and a check that reads
either role (removing its files changes the verdict) must not pass with neither usable.
"""

from __future__ import annotations

import functools
import itertools
import posixpath

import pytest

import auditor.engine as engine
from auditor.discovery import Role
from auditor.model import Finding, Status
from tests.checks import base
from tests.core.test_absence_fails import (  # noqa: F401 - _parse_once: the fixture, used by name
    ALLOWED,
    MODES,
    _files,
    _judged,
    _parse_once,
    _reads,
    _SkipPath,
    _unavailable,
)
from tests.core.test_parse_budget_verdicts import (  # noqa: F401 - the fixture, used by name
    SOURCES,
    _audit,
    _bundled_advisories,
    _passing_sources,
)

# Checks that may pass with files they read unusable, with the reason.
MAY_PASS: dict[str, str] = {
    "secrets.file_permissions": "judges modes, which an unreadable or unparsed file still has (and the "
    "lexical redaction markers, which a broken or skipped file still shows)",
}


@functools.cache
def _passing() -> dict[str, list[str]]:
    """The judged checks passing on each tree (test_parse_budget_verdicts._passing_sources)."""
    out: dict[str, list[str]] = {}
    for check_id in _judged():
        for source in _passing_sources(check_id):
            out.setdefault(source, []).append(check_id)
    return out


@functools.cache
def _names(source: str, path: str) -> tuple[str, ...]:
    """`path` and the links to it: one file, made unavailable together, either named by an unclear verdict."""
    links = [k for k, item in SOURCES[source]().items.items() if item.link_target
             and posixpath.normpath(posixpath.join(posixpath.dirname(k), item.link_target)) == path]
    return (path, *links)


def _audit_without_both(source: str, pair: tuple[tuple[Role, str], ...], mode: str) -> dict[str, Finding]:
    snap = SOURCES[source]()
    with pytest.MonkeyPatch.context() as mp:
        if mode == "budget":
            mp.setattr(engine, "ParseBudget", functools.partial(_SkipPath, *(p for _, p in pair)))
        else:
            for role, path in pair:
                for gone in _names(source, path):
                    snap = _unavailable(snap, gone, mode, role)
        return {f.check_id: f for f in base.audit(snap).findings}


def _wrong(source: str, check_id: str, pair: tuple[tuple[Role, str], ...], mode: str, found: Finding) -> str | None:
    if found.status is Status.FAIL:
        return "a pass became a fail"
    if found.status is Status.UNCLEAR:
        names = [q for _, p in pair for q in _names(source, p)]
        named = "parse budget" in found.message if mode == "budget" else any(q in found.message for q in names)
        return None if named else "unclear without naming why"
    if found.status is Status.PASS and check_id not in MAY_PASS and any(_reads(source, check_id, r) for r, _ in pair):
        return "still passes, though it reads them"
    return None


def test_may_pass_entries_are_judged_checks() -> None:
    assert set(MAY_PASS) <= set(_judged()) and not set(MAY_PASS) & set(ALLOWED)


@pytest.mark.parametrize("trees", [*(s for s in SOURCES if not s.startswith("case:")), "case:*"])
def test_no_pass_survives_two_unavailable_files(trees: str) -> None:
    # the passing trees are known once the audits have run, so not when the parameters are collected
    for source in [s for s in _passing() if s.startswith("case:")] if trees == "case:*" else [trees]:
        _no_pass_survives(source)


def _no_pass_survives(source: str) -> None:
    checks = _passing().get(source, [])
    wrong: list[str] = []
    for pair in itertools.combinations(_files(source), 2) if checks else ():
        if pair[0][0] is pair[1][0]:
            continue
        for mode in MODES:
            found = _audit_without_both(source, pair, mode)
            for check_id in checks:
                assert _audit(source)[check_id].status is Status.PASS
                if why := _wrong(source, check_id, pair, mode, found[check_id]):
                    wrong.append(f"{check_id} with {pair[0][1]} and {pair[1][1]} {mode}: {why}: {found[check_id].message}")
    assert not wrong, f"{len(wrong)} wrong verdict(s) on {source}:\n" + "\n".join(wrong[:10])


@pytest.mark.parametrize("mode", ["syntax", "unreadable"])
def test_a_disabled_prosody_file_is_not_the_configuration(mode: str) -> None:
    # debian-current keeps conf.avail/jaas.cfg.lua, not linked from conf.d: with the main file and the
    # enabled host file unusable, the view was built from it alone (was: five rooms.* fails)
    pair = tuple((r, p) for r, p in _files("tree:debian-current") if r in (Role.PROSODY_MAIN, Role.PROSODY_INCLUDE))
    assert len(pair) == 2
    found = _audit_without_both("tree:debian-current", pair, mode)
    assert found["rooms.lobby_available"].status is Status.UNCLEAR, found["rooms.lobby_available"].message
