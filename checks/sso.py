"""Single sign-on: legacy Shibboleth, the SSO adapter behind tokenAuthUrl, and what that means for MFA."""

from __future__ import annotations

from urllib.parse import urlsplit

from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.facts import url_host
from auditor.model import CheckResult, Evidence, Severity
from auditor.registry import check
from checks._common import ev, evs, parsed, short, token_hosts, why_missing

HANDBOOK_AUTH = "https://jitsi.github.io/handbook/docs/devops-guide/token-authentication"
SHIBBOLETH_DOC = "https://github.com/jitsi/jicofo/blob/master/doc/shibboleth.md"


def _shibboleth(ctx: AuditContext) -> Evidence | None:
    v = ctx.view
    props = parsed(ctx, Role.JICOFO_PROPERTIES)
    if props is not None:
        entry = props[1].get("org.jitsi.jicofo.auth.URL")
        if entry is not None and str(entry.value).lower().startswith("shibboleth:"):
            return ev(props[0], entry.line, f"org.jitsi.jicofo.auth.URL={short(entry.value)}")
    got = v.hocon(ctx.deployment.jicofo, "jicofo.authentication.type")
    if got is not None and str(got[0]).upper() == "SHIBBOLETH":
        return got[1]
    return None


@check(
    "sso.legacy_shibboleth",
    title="No legacy jicofo Shibboleth authentication",
    severity=Severity.HIGH,
    criteria=("auth.sso",),
    rationale="""Jicofo's Shibboleth mode was removed ("Shibboleth authentication is no longer supported"): a
    deployment still configured for it either runs an unmaintained jicofo with its open advisories or has
    no working SSO at all. SAML is now bridged to JWT tokens.""",
    remediation="""Remove org.jitsi.jicofo.auth.URL=shibboleth:... (or type = SHIBBOLETH) and use token
    authentication with a SAML-to-JWT bridge (e.g. Renater/Jitsi-SAML2JWT): authentication = "token" and
    config.js tokenAuthUrl: 'https://sso.example.org/login?room={room}'.""",
    references=(SHIBBOLETH_DOC,),
)
def legacy_shibboleth(ctx: AuditContext) -> CheckResult:
    found = _shibboleth(ctx)
    if found is not None:
        return CheckResult.failed("jicofo is configured for the removed Shibboleth authentication", found)
    pf = ctx.deployment.jicofo
    if (pf is None or pf.value is None) and parsed(ctx, Role.JICOFO_PROPERTIES) is None:
        if pf is None and ctx.view.env_ok:
            return CheckResult.passed("docker jicofo supports no Shibboleth mode")
        return CheckResult.unclear(why_missing(ctx, "jicofo configuration"))
    return CheckResult.passed("jicofo does not use Shibboleth")


def _sso_scope(ctx: AuditContext) -> tuple[str | None, Evidence | None] | CheckResult:
    """(tokenAuthUrl, its evidence) when token auth is on; a result otherwise."""
    v = ctx.view
    if v.prosody is not None:
        if not token_hosts(v):
            return CheckResult.not_applicable("no token authentication: there is no SSO adapter to check")
    elif v.env_ok:
        enabled, _ = v.env_flag("ENABLE_AUTH", False)
        kind, where = v.docker_auth_type()
        if not (enabled and (kind or "").lower() == "jwt"):
            return CheckResult.not_applicable("docker PROSODY_AUTH_TYPE/AUTH_TYPE is not jwt: there is no SSO adapter", *evs(where))
        url, url_ev = v.env_get("TOKEN_AUTH_URL")
        return url, url_ev
    else:
        return CheckResult.unclear(why_missing(ctx, "prosody configuration"))
    if not v.cfg_ok:
        return CheckResult.unclear(why_missing(ctx, "config.js"))
    url = v.js("tokenAuthUrl")
    return (url if isinstance(url, str) and url else None), v.js_ev("tokenAuthUrl")


@check(
    "sso.token_auth_url",
    title="Token users are sent to an SSO adapter over HTTPS (tokenAuthUrl)",
    severity=Severity.MEDIUM,
    criteria=("auth.sso", "auth.mfa"),
    rationale="""With token authentication, config.js tokenAuthUrl is where Jitsi sends users to sign in: an
    OIDC/SAML adapter that authenticates them at the identity provider and returns a JWT. Over plain HTTP the
    returned token can be read on the network. Without tokenAuthUrl tokens are minted by an embedding
    application, and whether that application uses an identity provider is not visible here.""",
    remediation="""In config.js: tokenAuthUrl: 'https://sso.meet.example.org/oidc/auth?state={state}' (your
    IdP adapter, e.g. jitsi-keycloak-adapter or Jitsi-SAML2JWT). Docker: TOKEN_AUTH_URL=https://...""",
    references=(HANDBOOK_AUTH,),
)
def token_auth_url(ctx: AuditContext) -> CheckResult:
    scope = _sso_scope(ctx)
    if isinstance(scope, CheckResult):
        return scope
    url, where = scope
    if url is None:
        return CheckResult.unclear(
            "cannot tell: token authentication without tokenAuthUrl; tokens come from an embedding application "
            "whose sign-in is not in the evidence",
            *evs(where),
        )
    try:
        parts = urlsplit(url)
    except ValueError:  # `https://[x`: an unclosed IPv6 literal
        return CheckResult.unclear(f"cannot tell: tokenAuthUrl {short(url)} is not a URL", *evs(where))
    if parts.scheme.lower() == "http":
        return CheckResult.failed("tokenAuthUrl uses plain HTTP: tokens travel unencrypted", *evs(where))
    return CheckResult.passed(f"users sign in through the SSO adapter at {parts.hostname}", *evs(where))


@check(
    "sso.mfa_delegated",
    title="MFA can be enforced by an identity provider in front of Jitsi",
    severity=Severity.INFO,
    criteria=("auth.mfa",),
    rationale="""Jitsi has no MFA of its own. Only an identity provider issuing the tokens (through the SSO
    adapter) can require a second factor, and whether it does is not visible in Jitsi's configuration: it
    has to be declared.""",
    remediation="""Put an identity provider with MFA in front of Jitsi (token authentication, tokenAuthUrl to its
    adapter), enforce MFA there, and declare it in the declarations file (auth.mfa).""",
    references=(HANDBOOK_AUTH,),
)
def mfa_delegated(ctx: AuditContext) -> CheckResult:
    main = ctx.fact("auth.main")
    if main.value is None:
        return CheckResult.unclear(f"cannot tell: {main.note or 'main authentication unknown'}")
    scope = _sso_scope(ctx)
    if isinstance(scope, CheckResult):
        if scope.status.value == "unclear":
            return scope
        return CheckResult.failed(
            f"authentication is {main.value}: no identity provider that could enforce MFA", *main.evidence
        )
    url, where = scope
    if url is None:
        return CheckResult.unclear(
            "cannot tell: token authentication without an SSO adapter in config.js; MFA depends on the token "
            "issuer (declare it)",
            *evs(where),
        )
    return CheckResult.unclear(
        f"MFA is delegated to the identity provider behind {url_host(url) or short(url)}; whether it enforces a "
        "second factor is not visible here (declare it)",
        *evs(where),
    )
