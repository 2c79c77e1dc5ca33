"""No check passes on files the parse budget left unparsed (auditor.deployment.ParseBudget).

For every registered check: a snapshot where it passes (the inline base deployment, its variants and
the pass cases of tests/checks, the fixture trees, examples/demo, a docker deployment for vuln.*), then
the same snapshot audited with the budget spent before the first file (CPU) or with no file allowed per
role (count): the check must not pass, and an unclear verdict names the budget. Per role, too: when
removing the files of one role changes the check's verdict (it reads them), leaving that role alone
unparsed must not let it pass. ALLOWED lists, with the reason, the checks that judge nothing parsed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import auditor.deployment as deployment_module
import auditor.engine as engine
from auditor.advisories import data as advisory_data
from auditor.discovery import DiscoveredFile, Role, discover
from auditor.model import Finding, Status
from auditor.registry import all_checks
from auditor.snapshot import Snapshot
from auditor.transports.local import collect_local_dir
from tests.advisories import helpers as advisory
from tests.checks import base
from tests.checks import test_config_checks as cases

REPO = Path(__file__).resolve().parents[2]
# Checks that never read a parsed file, so the parse budget cannot matter to them.
ALLOWED: dict[str, str] = {
    "secrets.file_permissions": "judges the collected files' modes and the lexical redaction markers of their "
    "text, which the parse budget does not touch",
    "sso.mfa_delegated": "never passes: MFA at the identity provider is not visible in any file",
}
PROBE_ONLY = "judged on live probe results, which an offline audit has none of (not_applicable here)"
# Judged from the web front, which is read whole outside the budget when the tree has nginx.conf or an
# Apache configuration: there they keep passing with every budgeted file unparsed (the inline base,
# whose nginx site is budgeted, still covers them).
WEB_FRONT = frozenset({
    "web.hsts", "web.hsts_max_age", "web.http_redirect", "web.internal_locations", "web.ocsp_stapling",
    "web.security_headers", "web.server_tokens", "web.tls_configuration", "web.tls_mozilla_profile",
})
# The single-file parses and nginx sites without nginx.conf are budgeted; nginx.conf's tree, Apache's,
# compose files, keys and accounts are read whole or by metadata, outside the budget.
BUDGETED = frozenset(deployment_module._SINGLE_FILE_PARSERS) | {Role.NGINX_SITE}

_DOCKER_COMPOSE = (  # images pinned by the compose default: the .env may override it
    "services:\n"
    "    web:\n        image: jitsi/web:${JITSI_IMAGE_VERSION:-stable-10590}\n"
    "    jicofo:\n        image: jitsi/jicofo:${JITSI_IMAGE_VERSION:-stable-10590}\n"
)


def _case_snapshot(case: cases.Case) -> Snapshot:
    files = base.apply(cases._variant(case.variant), case.edits)
    for path in case.drop:
        files.pop(path, None)
    modes: dict[str, int | None] = {p: 0o640 for p in files}
    modes.update(dict(case.modes))
    return base.snapshot(files, dict(case.commands), modes=modes, packages=dict(case.packages) or None,
                         denied=case.denied, missing=case.missing)


def _sources() -> dict[str, Callable[[], Snapshot]]:
    """Passing trees, in the order they are tried: the inline base first (its nginx site is parsed
    within the budget; nginx.conf's tree in the fixtures is not)."""
    out: dict[str, Callable[[], Snapshot]] = {
        "base": lambda: base.snapshot(base.base_files(), dict(cases.REC)),
        "docker-pinned": lambda: advisory.snapshot(
            {"/srv/jitsi/docker-compose.yml": _DOCKER_COMPOSE, "/srv/jitsi/.env": "ENABLE_AUTH=1\n"},
            prosodyctl="Prosody 13.0.5\n"),
    }
    for variant in ("jwt", "ldap", "jibri", "docker", "docker-web"):
        out[variant] = functools.partial(lambda v: base.snapshot(cases._variant(v), dict(cases.REC)), variant)
    for tree in [*sorted((REPO / "tests" / "fixtures").iterdir()), REPO / "examples" / "demo"]:
        out[f"tree:{tree.name}"] = functools.partial(collect_local_dir, tree)
    for i, case in enumerate(cases.CASES):
        if case.status == "pass":
            out[f"case:{case.check}:{i}"] = functools.partial(_case_snapshot, case)
    return out


SOURCES = _sources()
CHECKS = all_checks(with_plugins=False)


@pytest.fixture(autouse=True, scope="module")
def _bundled_advisories(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The bundled advisory data only (as tests/advisories/conftest.py), for the vuln.* verdicts."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg")))
        mp.delenv(advisory_data.ENV_VAR, raising=False)
        advisory_data._cache.clear()
        yield
        advisory_data._cache.clear()


@functools.cache
def _audit(source: str, refuse: str = "", roles: frozenset[Role] = frozenset()) -> dict[str, Finding]:
    """The findings of `source`, with `refuse`: "cpu" (budget spent before the first file), "count" (no
    file of any role allowed), "roles" (the files of `roles` past the count), "delete" (`roles` removed)."""
    snap = SOURCES[source]()
    with pytest.MonkeyPatch.context() as mp:
        if refuse == "cpu":
            mp.setattr(deployment_module, "PARSE_CPU_BUDGET", -1.0)
        elif refuse == "count":
            mp.setattr(deployment_module, "MAX_FILES_PER_ROLE", 0)
        elif refuse == "roles":
            mp.setattr(engine, "ParseBudget", functools.partial(_RolesPastCount, roles))
        elif refuse == "delete":
            snap = _without(snap, roles)
        return {f.check_id: f for f in base.audit(snap).findings}


class _RolesPastCount(deployment_module.ParseBudget):
    """The real budget, with the count of `roles` already reached: their files get its refusal."""

    def __init__(self, roles: frozenset[Role]) -> None:
        super().__init__()
        self.roles = roles

    def refusal(self, f: DiscoveredFile) -> str | None:
        if f.role in self.roles:
            self.counts[f.role] = self.per_role
        return super().refusal(f)


def _without(snap: Snapshot, roles: frozenset[Role]) -> Snapshot:
    gone = {f.path for f in discover(snap) if f.role in roles}
    out = Snapshot(target=snap.target, transport=snap.transport)
    for key, item in snap.items.items():
        if key not in gone:
            out.add(item)
    return out


@functools.cache
def _passing_source(check_id: str) -> str | None:
    return next((s for s in SOURCES if _audit(s)[check_id].status is Status.PASS), None)


def _passing_sources(check_id: str) -> list[str]:
    """Every tree but the single-check cases where the check passes; else its first passing case."""
    found = [s for s in SOURCES if not s.startswith("case:") and _audit(s)[check_id].status is Status.PASS]
    first = _passing_source(check_id)
    return found or ([first] if first else [])


@functools.cache
def _front_outside_budget(source: str) -> bool:
    return any(f.role in (Role.NGINX_MAIN, Role.APACHE_MAIN, Role.APACHE_SITE) and f.item.ok
               for f in discover(SOURCES[source]()))


def _allowed(check_id: str) -> str | None:
    return PROBE_ONLY if check_id.startswith("live.") else ALLOWED.get(check_id)


def _judged() -> list[str]:
    return [c.id for c in CHECKS if _allowed(c.id) is None]


def test_every_check_has_a_passing_tree_or_an_allowed_reason() -> None:
    ids = {c.id for c in CHECKS}
    assert set(ALLOWED) <= ids, "stale ALLOWED entries"
    missing = [c for c in _judged() if _passing_source(c) is None]
    assert not missing, f"no passing tree for {missing}: add one to SOURCES or an ALLOWED reason"
    for check_id in ids - set(_judged()):  # the allowed ones really never read a budgeted file
        for source in [s for s in ("base", "tree:demo") if _audit(s)[check_id].status is Status.PASS]:
            assert _audit(source, "cpu")[check_id].status is Status.PASS, check_id


@pytest.mark.parametrize("refuse", ["cpu", "count"])
@pytest.mark.parametrize("check_id", _judged())
def test_no_check_passes_on_files_left_unparsed(check_id: str, refuse: str) -> None:
    sources = _passing_sources(check_id)
    assert sources
    for source in sources:
        if check_id in WEB_FRONT and _front_outside_budget(source):
            continue
        found = _audit(source, refuse)[check_id]
        assert found.status is not Status.PASS, f"{check_id} passes on {source} with every file unparsed: {found.message}"
        if found.status is Status.UNCLEAR:
            assert "parse budget" in found.message, found.message


@pytest.mark.parametrize("check_id", _judged())
def test_no_check_passes_without_a_role_it_reads(check_id: str) -> None:
    """A role is read by the check when removing its files changes the verdict; left unparsed, it
    must not leave a pass."""
    sources = _passing_sources(check_id)
    assert sources
    for source in sources:
        passed = _audit(source)[check_id]
        for role in _budgeted_roles(source):
            if role is Role.NGINX_SITE and _front_outside_budget(source):
                continue  # its sites are read within nginx.conf's tree, outside the budget
            gone = _audit(source, "delete", frozenset({role}))[check_id]
            if (gone.status, gone.message) == (passed.status, passed.message):
                continue  # not evidence of this check here
            found = _audit(source, "roles", frozenset({role}))[check_id]
            assert found.status is not Status.PASS, f"{check_id} passes on {source} with {role.value} unparsed"
            if found.status is Status.UNCLEAR:
                assert "parse budget" in found.message, found.message


@functools.cache
def _budgeted_roles(source: str) -> list[Role]:
    roles = {f.role for f in discover(SOURCES[source]()) if f.role in BUDGETED and f.item.ok}
    return sorted(roles, key=lambda r: r.value)
