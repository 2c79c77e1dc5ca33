"""No check fails on the absence of what a file it could not read may hold.

For every registered check: the trees where it passes (tests/core/test_parse_budget_verdicts.py), then
the same tree with one file made unavailable to the checks: left unparsed by the parse budget, broken by
a syntax error, or unreadable (permission denied). Files: the prosody main configuration and its
includes, jicofo.conf, jvb.conf and config.js for every check; the other single-file roles (OTHER_ROLES)
for the checks whose verdict changes when that role's files are removed, since they read them (which
keeps the run short). A check that passes with the file's content must not fail without it: its fail
would rest on the absence of what the file may hold (the guest VirtualHost in a skipped include), not on
evidence present. Unclear instead, naming why (the file, or the budget). ALLOWED lists, with the reason,
the checks whose subject is the file's availability itself.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Iterator

import pytest

import auditor.deployment as deployment_module
import auditor.engine as engine
from auditor.deployment import ParseBudget, build_deployment
from auditor.discovery import DiscoveredFile, Role, discover
from auditor.model import Finding, Status
from auditor.snapshot import ItemStatus, Snapshot
from tests.checks import base
from tests.core.test_parse_budget_verdicts import (
    CHECKS,
    SOURCES,
    _audit,
    _front_outside_budget,
    _passing_sources,
)

ROLES = (Role.PROSODY_MAIN, Role.PROSODY_INCLUDE, Role.JICOFO_CONF, Role.JVB_CONF, Role.CONFIG_JS)
# The other roles parsed one file at a time (auditor.deployment._SINGLE_FILE_PARSERS, and nginx sites
# in a tree without nginx.conf) that the fixture trees hold. Certificates aside: they are recognised by
# their content, which an unreadable one does not show, and a PEM file has no syntax to break.
OTHER_ROLES = (
    Role.JICOFO_PROPERTIES, Role.JVB_PROPERTIES, Role.JICOFO_ENV, Role.JVB_ENV, Role.DOCKER_ENV, Role.TURNSERVER,
    Role.NGINX_SITE, Role.JIBRI_CONF, Role.INTERFACE_CONFIG_JS, Role.SASLAUTHD, Role.JIGASI_PROPERTIES,
)
MODES = ("budget", "syntax", "unreadable")
BROKEN = '\nbroken_by_the_test = "unterminated\n'  # an unfinished string: a parse error in Lua, HOCON, JS, nginx
# What breaks the other formats: a malformed escape (properties), an open quote (shell), a line without
# its separator (.env, saslauthd), a NUL (turnserver.conf, where every line is a name and a value).
BROKEN_AS = {
    Role.JICOFO_PROPERTIES: "\nbroken.by.the.test = \\u00zz\n",
    Role.JVB_PROPERTIES: "\nbroken.by.the.test = \\u00zz\n",
    Role.JIGASI_PROPERTIES: "\nbroken.by.the.test = \\u00zz\n",
    Role.JICOFO_ENV: '\nBROKEN_BY_THE_TEST="unterminated\n',
    Role.JVB_ENV: '\nBROKEN_BY_THE_TEST="unterminated\n',
    Role.TURNSERVER: "\nbroken-by-the-test\x00\n",
}

# Checks whose subject is the availability of the files itself (their fail is the finding), with the
# reason. None so far: secrets.file_permissions judges modes, which an unreadable file still has.
ALLOWED: dict[str, str] = {}


@pytest.fixture(autouse=True, scope="module")
def _parse_once() -> Iterator[None]:
    """Each audit here parses a tree again with one file changed: parse each text once (the parsers are
    functions of the text and path alone): the run takes a third of the time (HOCON's parser is slow)."""
    with pytest.MonkeyPatch.context() as mp:
        for role, parse in list(deployment_module._SINGLE_FILE_PARSERS.items()):
            mp.setitem(deployment_module._SINGLE_FILE_PARSERS, role, functools.cache(parse))
        yield


class _SkipPath(ParseBudget):
    """The real budget, refusing the given paths as if their role's count had been reached."""

    def __init__(self, *paths: str) -> None:
        super().__init__()
        self.paths = frozenset(paths)

    def refusal(self, f: DiscoveredFile) -> str | None:
        if f.path in self.paths:
            self.counts[f.role] = self.per_role
        return super().refusal(f)


def _unavailable(snap: Snapshot, path: str, mode: str, role: Role | None = None) -> Snapshot:
    item = snap.items[path]
    if mode == "syntax":
        text = item.text() + (BROKEN_AS.get(role, BROKEN) if role else BROKEN)
        item = dataclasses.replace(item, content=text.encode(), size=len(text))
    else:
        item = dataclasses.replace(item, status=ItemStatus.PERMISSION_DENIED, content=None, error="permission denied")
    return snap.with_items({**snap.items, path: item})


@functools.cache
def _files(source: str) -> list[tuple[Role, str]]:
    """The active, readable files of ROLES and OTHER_ROLES in the source's tree; nginx sites only where
    they are parsed one by one (no nginx.conf nor Apache front: their tree is read whole, unbudgeted)."""
    return [(f.role, f.path) for f in discover(SOURCES[source]())
            if f.role in (*ROLES, *OTHER_ROLES) and f.active and f.item.ok
            and not (f.role is Role.NGINX_SITE and _front_outside_budget(source))]


@functools.cache
def _audit_without(source: str, path: str, mode: str) -> dict[str, Finding]:
    snap = SOURCES[source]()
    with pytest.MonkeyPatch.context() as mp:
        if mode == "budget":
            mp.setattr(engine, "ParseBudget", functools.partial(_SkipPath, path))
        else:
            role = next(r for r, p in _files(source) if p == path)
            snap = _unavailable(snap, path, mode, role)
        return {f.check_id: f for f in base.audit(snap).findings}


def _judged() -> list[str]:
    """live.* checks judge probe results, which an offline audit has none of."""
    return [c.id for c in CHECKS if not c.id.startswith("live.") and c.id not in ALLOWED]


def test_allowed_entries_are_checks() -> None:
    assert set(ALLOWED) <= {c.id for c in CHECKS}, "stale ALLOWED entries"


def _check_unavailable(check_id: str, source: str, path: str, mode: str) -> None:
    found = _audit_without(source, path, mode)[check_id]
    assert found.status is not Status.FAIL, (
        f"{check_id} fails on {source} with {path} unavailable ({mode}): {found.message}")
    if found.status is Status.UNCLEAR:
        named = "parse budget" in found.message if mode == "budget" else path in found.message
        assert named, f"{check_id} on {source}, {path} {mode}: unclear without naming why: {found.message}"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("check_id", _judged())
def test_a_pass_does_not_become_a_fail_when_a_file_is_unavailable(check_id: str, mode: str, role: Role) -> None:
    for source in _passing_sources(check_id):
        assert _audit(source)[check_id].status is Status.PASS
        for _, path in [f for f in _files(source) if f[0] is role]:
            _check_unavailable(check_id, source, path, mode)


def _reads(source: str, check_id: str, role: Role) -> bool:
    """Whether the check's verdict on `source` changes when the files of `role` are removed."""
    passed, gone = _audit(source)[check_id], _audit(source, "delete", frozenset({role}))[check_id]
    return (gone.status, gone.message) != (passed.status, passed.message)


@pytest.mark.parametrize("role", OTHER_ROLES, ids=lambda r: r.value)
@pytest.mark.parametrize("check_id", _judged())
def test_a_pass_does_not_become_a_fail_when_another_file_is_unavailable(check_id: str, role: Role) -> None:
    for source in _passing_sources(check_id):
        paths = [p for r, p in _files(source) if r is role]
        if not paths or not _reads(source, check_id, role):
            continue
        for path in paths:
            for mode in MODES:
                _check_unavailable(check_id, source, path, mode)


def test_the_other_roles_are_broken_by_the_test() -> None:
    # each mode makes the file unusable, or the test proves nothing
    seen: set[Role] = set()
    for source in ("base", "tree:demo", "tree:ldap", "docker", "jibri", "tree:hostile-values"):
        snap = SOURCES[source]()
        for role, path in [f for f in _files(source) if f[0] in OTHER_ROLES]:
            seen.add(role)
            for mode in ("syntax", "unreadable"):
                dep = build_deployment(_unavailable(snap, path, mode, role))
                got = next(p for p in dep.errors() if p.path == path)
                assert got.value is None and got.error, (source, path, mode)
    assert seen == set(OTHER_ROLES)


@pytest.mark.parametrize("mode", MODES)
def test_the_guest_virtualhost_in_an_unavailable_include_is_not_a_fail(mode: str) -> None:
    # the reported case: the guest VirtualHost lives in the include
    include = next(p for r, p in _files("base") if r is Role.PROSODY_INCLUDE)
    assert _audit("base")["auth.guest_domain_consistent"].status is Status.PASS
    found = _audit_without("base", include, mode)["auth.guest_domain_consistent"]
    assert found.status is Status.UNCLEAR, found.message


def _base_with(edits: Iterable[base.Edit], unavailable: str, mode: str) -> dict[str, Finding]:
    snap = base.snapshot(base.apply(base.base_files(), edits))
    return {f.check_id: f for f in base.audit(_unavailable(snap, unavailable, mode)).findings}


@pytest.mark.parametrize("mode", ["syntax", "unreadable"])
def test_a_fail_on_evidence_present_stands(mode: str) -> None:
    # a known third party's STUN server is one whatever the deployment's own names: config.js, where they
    # are read from, does not matter
    relay = [(base.JVB, f'addresses = [ "{base.D}:3478" ]', 'addresses = [ "meet-jit-si-turnrelay.jitsi.net:443" ]')]
    assert _base_with(relay, base.CONFIG_JS, mode)["jvb.stun_mapping"].status is Status.FAIL
    # a guest VirtualHost found with a login is no guest domain, whatever the main file would add
    login = [(base.PROSODY_SITE, 'authentication = "jitsi-anonymous"\n    c2s_require_encryption = true',
              'authentication = "internal_hashed"\n    c2s_require_encryption = true')]
    assert _base_with(login, base.PROSODY_MAIN, mode)["auth.guest_domain_consistent"].status is Status.FAIL


@pytest.mark.parametrize("mode", ["syntax", "unreadable"])
def test_an_unclear_verdict_names_the_unusable_file(mode: str) -> None:
    # "config.js not in the evidence" alone would be wrong: it is there, unreadable or broken
    found = _audit_without("base", base.CONFIG_JS, mode)["rooms.meeting_password_policy"]
    assert found.status is Status.UNCLEAR
    assert base.CONFIG_JS in found.message, found.message


@pytest.mark.parametrize("source", ["base", "docker", "tree:ldap"])
def test_the_secret_checks_do_not_pass_on_a_file_with_a_syntax_error(source: str) -> None:
    # the lexical pass still reads `secret = "value"` in a broken file, but a value reached only through a
    # parse (a HOCON substitution, a Lua local, a properties continuation) is judged by the redaction's
    # safety net, which needs one: secrets.weak_or_default is unclear with secrets.reuse (was: pass)
    for check_id in ("secrets.weak_or_default", "secrets.reuse"):
        assert _audit(source)[check_id].status is Status.PASS, check_id
    for _, path in _files(source):
        for check_id in ("secrets.weak_or_default", "secrets.reuse"):
            found = _audit_without(source, path, "syntax")[check_id]
            assert found.status is Status.UNCLEAR and path in found.message, (check_id, path, found.message)
