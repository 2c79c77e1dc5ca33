"""Helpers the configuration checks share. Not a check module: nothing here is collected as a check."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import Any

from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.facts import ANONYMOUS_AUTH, View, ev, missing_reason
from auditor.model import CheckResult, Evidence, Status
from auditor.parsers.base import Location
from auditor.redaction import SecretVerdict
from auditor.registry import CheckFn

__all__ = ["Evidence", "Location", "ev"]

NO_MUC = CheckResult.unclear("cannot tell: no conference MUC component in the prosody configuration")
LOOPBACK = {"127.0.0.1", "::1", "localhost", "[::1]", "127.0.1.1"}
TOKEN_AUTH = {"token", "hybrid_matrix_token"}


def short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def why_missing(ctx: AuditContext, what: str) -> str:
    """The reason `what` cannot be judged: the read/parse error of one of its files, else its absence
    (naming another file that could not be read, which is not given as the cause)."""
    reason, error = missing_reason(ctx.view, what)
    return f"cannot tell: {reason} ({error})" if error else f"cannot tell: {reason}"


def file_error(ctx: AuditContext, role: Role) -> str | None:
    """The read/parse error of the files of `role`, when every one of them failed."""
    files = ctx.deployment.of(role)
    if files and all(p.value is None for p in files):
        return files[0].unusable
    return None


def over_budget(ctx: AuditContext, *roles: Role, skip: tuple[Role, ...] = ()) -> str | None:
    """The reason of the first file of `roles` (any role when none is given) that the parse budget left
    unparsed, or None: what such a file holds is unknown, so a check reading it cannot pass."""
    for p in ctx.deployment.over_budget(*roles):
        if p.role not in skip:
            return p.error or f"{p.path}: not parsed (the target's parse budget)"
    return None


def parsed(ctx: AuditContext, role: Role) -> tuple[str, Any] | None:
    """(path, parsed value) of the first file of `role` that parsed."""
    for p in ctx.deployment.of(role):
        if p.value is not None:
            return p.path, p.value
    return None


def secret_verdict(value: Any) -> SecretVerdict | None:
    return SecretVerdict.from_marker(value) if isinstance(value, str) else None


def lua_list(value: Any) -> list[str]:
    """The items of a prosody list setting (a Lua table is parsed as a dict or a list; a bare value is one)."""
    items = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]
    return [str(i) for i in items if i is not None]


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- prosody ---------------------------------------------------------------------------------------


def opt(v: View, host: str | None, key: str) -> tuple[Any, Evidence] | None:
    return v.p_get(host, key)


def section_ev(v: View, name: str | None, excerpt: str | None = None) -> Evidence:
    assert v.prosody is not None
    if name is None:
        return Evidence(Location(v.prosody.path_of(None)), excerpt or "global section")
    loc = v.prosody.component_location(name)
    section = v.prosody.sections.get(name.lower())
    kind = section.kind if section is not None else "VirtualHost"
    return Evidence(loc, excerpt or f'{kind} "{name}"')


def token_hosts(v: View) -> list[str]:
    return [h for h in v.hosts() if (v.auth_of(h)[0] or "") in TOKEN_AUTH]


def anonymous_hosts(v: View) -> list[str]:
    return [h for h in v.hosts() if (v.auth_of(h)[0] or "") in ANONYMOUS_AUTH]


def conference_mucs(v: View) -> list[str]:
    """The MUC components that hold the meetings (main_muc, conference.<domain>)."""
    comps = v.components()
    found: list[str] = []
    if v.main_host is not None:
        main_muc = v.p_get(v.main_host, "main_muc")
        if main_muc and isinstance(main_muc[0], str) and main_muc[0] in comps:
            found.append(main_muc[0])
        guess = f"conference.{v.main_host}"
        if guess in comps and guess not in found:
            found.append(guess)
    if not found:
        found = [n for n, t in comps.items() if t == "muc" and n.startswith("conference.")]
    return found


def module_hosts(v: View, module: str) -> list[str]:
    """Hosts and components (and 'global') on which a prosody module is loaded."""
    out = ["global"] if v.module_enabled(None, module) else []
    for name in [*v.hosts(), *v.components()]:
        if v.module_enabled(name, module):
            out.append(name)
    return out


def env_ev(v: View, name: str) -> Evidence | None:
    return v.env_get(name)[1]


def evs(*items: Evidence | None) -> list[Evidence]:
    return [e for e in items if e is not None]


def na_unless_prosody(ctx: AuditContext) -> CheckResult | None:
    if ctx.view.prosody is None:
        return CheckResult.unclear(why_missing(ctx, "prosody configuration"))
    return None


def prosody_gap(ctx: AuditContext) -> str | None:
    """Why part of the prosody configuration is missing from the effective view (unreadable or broken
    file, Include of a file not collected), or None."""
    dep = ctx.deployment
    if dep.prosody_error:
        return dep.prosody_error
    for role in (Role.PROSODY_MAIN, Role.PROSODY_INCLUDE):
        for p in dep.of(role):
            if p.value is None:
                return p.unusable
    if dep.prosody is not None and dep.prosody.missing_includes:
        inc = dep.prosody.missing_includes[0]
        return f"{inc.location}: Include {inc.pattern} not in the evidence"
    return None


def absent_from_prosody(ctx: AuditContext, message: str, *evidence: Evidence) -> CheckResult:
    """A fail read from the absence of a prosody section or setting: unclear when part of the prosody
    configuration is unusable (skipped, broken or unreadable file), since that part may hold it."""
    gap = prosody_gap(ctx)
    if gap:
        return CheckResult.unclear(f"cannot tell: {message}, as far as the prosody files parsed show ({gap})", *evidence)
    return CheckResult.failed(message, *evidence)


def not_parsed(ctx: AuditContext, skip: tuple[Role, ...] = ()) -> str | None:
    """The error of the first file that was read but not parsed (the parse budget, a syntax error):
    beyond what a lexical pass finds in it, its settings are unknown."""
    readable = {f.path for f in ctx.deployment.files if f.item.ok}
    for p in ctx.deployment.errors():
        if p.path in readable and p.role not in skip:
            return p.error
    return None


def complete_prosody(fn: Callable[[AuditContext], CheckResult]) -> Callable[[AuditContext], CheckResult]:
    """A pass judged on a partial prosody configuration is unfounded: make it unclear (fails stand)."""

    @functools.wraps(fn)
    def wrapper(ctx: AuditContext) -> CheckResult:
        result = fn(ctx)
        if result.status is Status.PASS and ctx.view.prosody is not None:
            gap = prosody_gap(ctx)
            if gap:
                return CheckResult.unclear(f"cannot tell: part of the prosody configuration is unusable ({gap})", *result.evidence)
        return result

    return wrapper


def prosody_or_docker(docker: CheckResult | Callable[[View], CheckResult] | None = None) -> Callable[[CheckFn], CheckFn]:
    """A check of prosody's configuration, or of docker-jitsi-meet's .env where there is no prosody file.

    Unclear when the evidence holds neither. Without prosody files but with a .env, `docker` is the
    verdict (a result, or a function of the view judging the .env); with `docker` None the check
    itself handles both. A pass on a partial prosody configuration becomes unclear (complete_prosody).
    """

    def decorate(fn: CheckFn) -> CheckFn:
        @functools.wraps(fn)
        def run(ctx: AuditContext) -> CheckResult:
            v = ctx.view
            if v.prosody is None:
                if not v.env_ok:
                    return CheckResult.unclear(why_missing(ctx, "prosody configuration"))
                if docker is not None:
                    return docker if isinstance(docker, CheckResult) else docker(v)
            return fn(ctx)

        return complete_prosody(run)

    return decorate


def docker_flag(name: str, default: bool, *, on: CheckResult, off: CheckResult) -> Callable[[View], CheckResult]:
    """A docker verdict from one boolean .env setting (`default` when unset): `on` or `off`, with the
    setting as evidence."""

    def judge(v: View) -> CheckResult:
        flag, where = v.env_flag(name, default)
        verdict = on if flag else off
        return CheckResult(verdict.status, verdict.message, (*verdict.evidence, *evs(where)))

    return judge
