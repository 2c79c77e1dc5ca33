"""Token (JWT) authentication: keys, empty tokens, accepted issuers/audiences, room verification."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from auditor.context import AuditContext
from auditor.facts import View, truthy
from auditor.model import CheckResult, Evidence, Severity
from auditor.registry import CheckFn, check
from checks._common import (
    NO_MUC,
    complete_prosody,
    conference_mucs,
    evs,
    secret_verdict,
    section_ev,
    token_hosts,
    why_missing,
)

HANDBOOK_JWT = "https://jitsi.github.io/handbook/docs/devops-guide/token-authentication"
TOKEN_LIB = "https://github.com/jitsi/jitsi-meet/blob/master/resources/prosody-plugins/token/util.lib.lua"


def _scope(ctx: AuditContext) -> list[str] | CheckResult | None:
    """Token hosts (prosody), None for docker JWT mode; a result when JWT is not in use or unknown."""
    v = ctx.view
    if v.prosody is not None:
        hosts = token_hosts(v)
        if not hosts:
            return CheckResult.not_applicable("no VirtualHost uses token authentication")
        return hosts
    if v.env_ok:
        enabled, _ = v.env_flag("ENABLE_AUTH", False)
        kind, where = v.docker_auth_type()
        if enabled and (kind or "").lower() == "jwt":
            return None
        return CheckResult.not_applicable("docker PROSODY_AUTH_TYPE/AUTH_TYPE is not jwt", *evs(where))
    return CheckResult.unclear(why_missing(ctx, "prosody configuration"))


def _token_check(fn: Callable[[View, list[str] | None], CheckResult]) -> CheckFn:
    """A JWT check: `fn(view, hosts)` judges the token VirtualHosts, or docker's JWT_* settings when
    `hosts` is None. Not applicable without token authentication, unclear without evidence; a pass on
    a partial prosody configuration is unclear (complete_prosody)."""

    @functools.wraps(fn)
    def run(ctx: AuditContext) -> CheckResult:
        scope = _scope(ctx)
        return scope if isinstance(scope, CheckResult) else fn(ctx.view, scope)

    return complete_prosody(run)


@check(
    "jwt.signing_keys",
    title="JWT tokens are verified with a key server (RS256) or a strong HS256 secret",
    severity=Severity.HIGH,
    criteria=("auth.sso", "enc.key_strength"),
    rationale="""With HS256 anyone who knows app_secret mints tokens for any room, user and moderator right.
    A short or default secret (e.g. the template's example_app_secret) is guessed offline from one
    captured token. RS256 with asap_key_server keeps the signing key at the issuer only.""",
    remediation="""Prefer asymmetric keys on the token VirtualHost:
        asap_key_server = "https://keys.example.org/asap"
    or, for HS256, a random secret of 32+ characters: app_secret = "<openssl rand -hex 32>".""",
    references=(HANDBOOK_JWT, TOKEN_LIB),
)
@_token_check
def signing_keys(v: View, hosts: list[str] | None) -> CheckResult:
    if hosts is None:
        key_server, s_ev = v.env_get("JWT_ASAP_KEYSERVER")
        if key_server:
            return CheckResult.passed("tokens are verified with public keys from JWT_ASAP_KEYSERVER", *evs(s_ev))
        raw_secret, sec_ev = v.env_get("JWT_APP_SECRET")
        env_verdict = secret_verdict(raw_secret)
        if raw_secret is None or (env_verdict is not None and env_verdict.weak):
            what = "missing" if raw_secret is None else f"{env_verdict.secret_class if env_verdict else 'weak'}"
            return CheckResult.failed(f"HS256 JWT_APP_SECRET is {what}", *evs(sec_ev))
        return CheckResult.passed("HS256 JWT_APP_SECRET is long and random", *evs(sec_ev))
    failures: list[Evidence] = []
    passes: list[Evidence] = []
    notes: list[str] = []
    for host in hosts:
        server = v.p_get(host, "asap_key_server") or v.p_get(host, "cache_keys_url")
        if server is not None and server[0]:
            passes.append(server[1])
            continue
        secret = v.p_get(host, "app_secret")
        if secret is None:
            failures.append(section_ev(v, host, f'VirtualHost "{host}": no app_secret and no asap_key_server'))
            notes.append(f"{host}: no key configured")
            continue
        verdict = secret_verdict(secret[0])
        if verdict is None or verdict.weak:
            failures.append(secret[1])
            cls = verdict.secret_class if verdict else "unreadable"
            notes.append(f"{host}: HS256 app_secret is {cls}" + (f" ({verdict.length} characters)" if verdict else ""))
        else:
            passes.append(secret[1])
    if failures:
        return CheckResult.failed("; ".join(notes), *failures)
    return CheckResult.passed("token signatures use a key server or a strong HS256 secret", *passes)


@check(
    "jwt.asymmetric_keys",
    title="JWT tokens are signed with asymmetric keys (RS256 via asap_key_server)",
    severity=Severity.LOW,
    criteria=("auth.sso",),
    rationale="""A shared HS256 secret sits on every prosody host and in the issuer: whoever reads one
    configuration file can issue tokens. With RS256 only the identity provider bridge holds the signing key.""",
    remediation="""On the token VirtualHost: asap_key_server = "https://keys.example.org/asap" (prosody fetches
    <kid>.pem from it); remove app_secret. Docker: JWT_ASAP_KEYSERVER=https://keys.example.org/asap""",
    references=(HANDBOOK_JWT, TOKEN_LIB),
)
@_token_check
def asymmetric_keys(v: View, hosts: list[str] | None) -> CheckResult:
    if hosts is None:
        key_server, s_ev = v.env_get("JWT_ASAP_KEYSERVER")
        if key_server:
            return CheckResult.passed("RS256 keys come from JWT_ASAP_KEYSERVER", *evs(s_ev))
        return CheckResult.failed("tokens are signed with the shared HS256 JWT_APP_SECRET", *evs(s_ev))
    shared = []
    good = []
    for host in hosts:
        server = v.p_get(host, "asap_key_server") or v.p_get(host, "cache_keys_url")
        if server is not None and server[0]:
            good.append(server[1])
        else:
            secret = v.p_get(host, "app_secret")
            shared.append(secret[1] if secret else section_ev(v, host))
    if shared:
        return CheckResult.failed("tokens are signed with a shared HS256 app_secret", *shared)
    return CheckResult.passed("tokens are verified with public keys from a key server (RS256)", *good)


@check(
    "jwt.empty_token_refused",
    title="Connections without a token are refused (allow_empty_token = false)",
    severity=Severity.HIGH,
    criteria=("auth.sso", "auth.rbac", "mgmt.access_control"),
    rationale="""allow_empty_token = true lets clients without any token log in on the token host: token
    authentication then only decorates users who happen to have one, and everyone else enters freely.""",
    remediation="""Remove allow_empty_token = true from the token VirtualHost (default false); give guests a
    separate anonymous VirtualHost if they must join. Docker: JWT_ALLOW_EMPTY=0""",
    references=(HANDBOOK_JWT, TOKEN_LIB),
)
@_token_check
def empty_token_refused(v: View, hosts: list[str] | None) -> CheckResult:
    if hosts is None:
        allowed, where = v.env_flag("JWT_ALLOW_EMPTY", False)
        if allowed:
            return CheckResult.failed("JWT_ALLOW_EMPTY lets clients in without a token", *evs(where))
        return CheckResult.passed("empty tokens are refused", *evs(where))
    bad = []
    for host in hosts:
        got = v.p_get(host, "allow_empty_token")
        if got is not None and truthy(got[0]) is True:
            bad.append(got[1])
    if bad:
        return CheckResult.failed("allow_empty_token = true: clients without a token are let in", *bad)
    return CheckResult.passed(
        "empty tokens are refused (allow_empty_token not enabled)", *[section_ev(v, h) for h in hosts]
    )


def _restricted(value: Any) -> bool:
    items = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]
    items = [str(i).strip() for i in items if i is not None]
    return bool(items) and "*" not in items and "" not in items


@check(
    "jwt.accepted_issuers_audiences",
    title="Tokens are accepted only from named issuers and for named audiences",
    severity=Severity.MEDIUM,
    criteria=("auth.sso",),
    rationale="""asap_accepted_audiences defaults to '*': a token issued for any other service by the same
    issuer (or signed by the same key server) is accepted by Jitsi. Wildcard issuers accept tokens of any
    tenant sharing the key server.""",
    remediation="""On the token VirtualHost:
        asap_accepted_issuers = { "my-idp" }
        asap_accepted_audiences = { "jitsi" }
    Docker: JWT_ACCEPTED_ISSUERS=my-idp and JWT_ACCEPTED_AUDIENCES=jitsi""",
    references=(TOKEN_LIB,),
)
@_token_check
def accepted_issuers_audiences(v: View, hosts: list[str] | None) -> CheckResult:
    if hosts is None:
        env_iss, e1 = v.env_get("JWT_ACCEPTED_ISSUERS")
        env_aud, e2 = v.env_get("JWT_ACCEPTED_AUDIENCES")
        pairs = (("audiences", env_aud), ("issuers", env_iss))
        missing = [n for n, val in pairs if not val or not _restricted(val.split(","))]
        if missing:
            return CheckResult.failed(f"accepted {' and '.join(missing)} not restricted", *evs(e1, e2))
        return CheckResult.passed("accepted issuers and audiences are restricted", *evs(e1, e2))
    problems: list[str] = []
    where: list[Evidence] = []
    for host in hosts:
        aud = v.p_get(host, "asap_accepted_audiences")
        iss = v.p_get(host, "asap_accepted_issuers")
        if aud is None or not _restricted(aud[0]):
            problems.append(f"{host}: audiences {'default *' if aud is None else 'include *'}")
            where.append(aud[1] if aud else section_ev(v, host, f'VirtualHost "{host}": asap_accepted_audiences not set'))
        if iss is not None and not _restricted(iss[0]):
            problems.append(f"{host}: issuers include *")
            where.append(iss[1])
        elif iss is None and v.p_get(host, "app_id") is None:
            problems.append(f"{host}: no app_id and no accepted issuers")
            where.append(section_ev(v, host))
    if problems:
        return CheckResult.failed("; ".join(problems), *where)
    return CheckResult.passed("tokens must name an accepted issuer and audience", *[section_ev(v, h) for h in hosts])


@check(
    "jwt.token_verification",
    title="The conference MUC verifies that a token allows the room (token_verification)",
    severity=Severity.HIGH,
    criteria=("auth.sso", "mgmt.access_control"),
    rationale="""Token authentication on the VirtualHost only checks the login. The room claim of the token is
    enforced by mod_token_verification on the conference MUC; without it any valid token opens any room.""",
    remediation="""Component "conference.meet.example.org" "muc"
        modules_enabled = { ..., "token_verification" }
    Docker: keep JWT_TOKEN_AUTH_MODULE=token_verification (the default).""",
    references=(HANDBOOK_JWT,),
)
@_token_check
def token_verification(v: View, hosts: list[str] | None) -> CheckResult:
    if hosts is None:
        module, where = v.env_get("JWT_TOKEN_AUTH_MODULE", "token_verification")
        if module == "token_verification":
            return CheckResult.passed("the prosody image loads token_verification on the MUC", *evs(where))
        return CheckResult.failed(f"JWT_TOKEN_AUTH_MODULE={module}: rooms are not checked", *evs(where))
    mucs = conference_mucs(v)
    if not mucs:
        return NO_MUC
    missing = [m for m in mucs if not v.module_enabled(m, "token_verification")]
    if missing:
        return CheckResult.failed(
            f"token_verification is not loaded on {', '.join(missing)}: any token opens any room",
            *[section_ev(v, m) for m in missing],
        )
    return CheckResult.passed("token_verification is loaded on the conference MUC", *[section_ev(v, m) for m in mucs])
