"""Checks: validated metadata plus a pure function of the audit context.

Built-in checks live in the `checks` package and are collected from an explicit module list;
third-party checks come from the entry-point group `jitsi_audit.checks` (each entry point names a
module or a Check). Nothing registers itself by being imported.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING

from auditor.model import CheckResult, Severity

if TYPE_CHECKING:
    from auditor.context import AuditContext

CHECK_ID_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
ENTRY_POINT_GROUP = "jitsi_audit.checks"


class MetadataError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class CheckMeta:
    id: str
    title: str
    severity: Severity
    criteria: tuple[str, ...]
    rationale: str
    remediation: str
    references: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=())
    requires: tuple[str, ...] = ()  # host roles the check needs, any of (auditor.roles); () = see REQUIRES

    def validate(self, known_criteria: Iterable[str] | None = None) -> None:
        problems = []
        if not CHECK_ID_RE.match(self.id):
            problems.append("id must be dotted lower-case, e.g. 'xmpp.c2s_encryption'")
        if not self.title or len(self.title) > 120:
            problems.append("title must be 1-120 characters")
        if not isinstance(self.severity, Severity):
            problems.append("severity must be a Severity")
        if not self.criteria:
            problems.append("at least one criterion id")
        if known_criteria is not None:
            unknown = set(self.criteria) - set(known_criteria)
            if unknown:
                problems.append(f"unknown criteria {sorted(unknown)}")
        if len(self.rationale) < 20:
            problems.append("rationale must explain why (20+ characters)")
        if len(self.remediation) < 10:
            problems.append("remediation must say what to change")
        if self.requires:
            from auditor.roles import ROLES

            if set(self.requires) - set(ROLES):
                problems.append(f"requires must name roles from {', '.join(ROLES)}")
        for ref in self.references:
            if not ref.startswith(("https://", "CVE-", "JSA-")):
                problems.append(f"reference {ref!r} must be an https URL, a CVE or a JSA id")
        if problems:
            raise MetadataError(f"check {self.id!r}: " + "; ".join(problems))


CheckFn = Callable[["AuditContext"], CheckResult]


@dataclass(frozen=True, slots=True)
class Check:
    meta: CheckMeta
    fn: CheckFn

    @property
    def id(self) -> str:
        return self.meta.id

    def run(self, ctx: AuditContext) -> CheckResult:
        return self.fn(ctx)


def check(
    id: str,
    *,
    title: str,
    severity: Severity,
    criteria: Iterable[str],
    rationale: str,
    remediation: str,
    references: Iterable[str] = (),
    tags: Iterable[str] = (),
    requires: Iterable[str] = (),
) -> Callable[[CheckFn], Check]:
    """Decorator turning a function into a Check value (collected later from its module)."""

    meta = CheckMeta(
        id=id,
        title=title,
        severity=severity,
        criteria=tuple(criteria),
        rationale=" ".join(rationale.split()),
        remediation=remediation.strip(),
        references=tuple(references),
        tags=tuple(tags),
        requires=tuple(requires),
    )

    def wrap(fn: CheckFn) -> Check:
        return Check(meta, fn)

    return wrap


def checks_in_module(module: ModuleType) -> list[Check]:
    return [value for value in vars(module).values() if isinstance(value, Check)]


def builtin_checks() -> list[Check]:
    from checks import BUILTIN_MODULES

    found: list[Check] = []
    for name in BUILTIN_MODULES:
        found.extend(checks_in_module(importlib.import_module(f"checks.{name}")))
    return found


def plugin_checks() -> tuple[list[Check], list[str]]:
    """Checks from installed plugins, and one-line errors for plugins that failed to load."""
    found: list[Check] = []
    errors: list[str] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:
            reason = " ".join(str(exc).split())[:300]  # one line, whatever the plugin raised
            errors.append(f"plugin {ep.name!r} failed to load: {type(exc).__name__}: {reason}")
            continue
        if isinstance(obj, Check):
            found.append(obj)
        elif isinstance(obj, ModuleType):
            found.extend(checks_in_module(obj))
        else:
            errors.append(f"plugin {ep.name!r} is neither a Check nor a module of checks")
    return found, errors


def all_checks(known_criteria: Iterable[str] | None = None, *, with_plugins: bool = True,
               plugins: list[Check] | None = None) -> list[Check]:
    """Built-in and plugin checks, validated, sorted by id. `plugins`: the checks of an earlier
    `plugin_checks()` call (whose load errors the caller reported); otherwise they are loaded here."""
    checks = builtin_checks()
    if with_plugins:
        checks.extend(plugin_checks()[0] if plugins is None else plugins)
    criteria = list(known_criteria) if known_criteria is not None else None
    seen: set[str] = set()
    for c in checks:
        c.meta.validate(criteria)
        if c.id in seen:
            raise MetadataError(f"duplicate check id {c.id!r}")
        seen.add(c.id)
    return sorted(checks, key=lambda c: c.id)
