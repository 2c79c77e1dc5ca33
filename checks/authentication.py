"""Who may create rooms, and how accounts are stored and integrated."""

from __future__ import annotations

from auditor.context import AuditContext
from auditor.discovery import Role
from auditor.facts import OPTIONAL_TOKEN, optional_token
from auditor.model import CheckResult, Evidence, Severity
from auditor.registry import check
from checks._common import short

HANDBOOK_SECURE_DOMAIN = "https://jitsi.github.io/handbook/docs/devops-guide/secure-domain"
HANDBOOK_JWT = "https://jitsi.github.io/handbook/docs/devops-guide/token-authentication"
HANDBOOK_LDAP = "https://jitsi.github.io/handbook/docs/devops-guide/ldap-authentication"
# Providers the auth.main fact files under "other" although they authenticate every user: prosody's
# matrix_user_verification (docker AUTH_TYPE=matrix) and docker's AUTH_TYPE=hybrid_matrix_token.
_OTHER_AUTHENTICATING = frozenset({"matrix_user_verification", "matrix", "hybrid_matrix_token"})


@check(
    "auth.room_creation_restricted",
    title="Room creation requires an authenticated user",
    severity=Severity.HIGH,
    criteria=("auth.rbac", "mgmt.access_control", "mgmt.central_control"),
    rationale="""With an anonymous main XMPP domain anyone who can reach the site creates rooms and becomes
    their moderator: the deployment is an open relay for strangers' meetings.""",
    remediation="""Enable a secure domain or token authentication on the main VirtualHost:
    VirtualHost "meet.example.org"
        authentication = "internal_hashed"   -- or "token" / "ldap"
    and give guests their own anonymous VirtualHost "guest.meet.example.org".""",
    references=(HANDBOOK_SECURE_DOMAIN, HANDBOOK_JWT),
)
def room_creation_restricted(ctx: AuditContext) -> CheckResult:
    fact = ctx.fact("auth.main")
    if fact.value == "other":
        provider = _main_provider(ctx)
        if provider is not None and provider.lower() in _OTHER_AUTHENTICATING:
            return CheckResult.passed(f"the main domain requires authentication ({provider})", *fact.evidence)
        name = f'"{short(provider, 60)}"' if provider else "(unnamed)"
        return CheckResult.unclear(
            f"cannot tell: the main domain's authentication provider {name} is not a known one: whether it "
            "lets anyone in is unknown",
            *fact.evidence,
        )
    if fact.value == "jwt":
        optional = optional_token(ctx.view)
        if optional:
            return CheckResult.failed(f"{OPTIONAL_TOKEN}: anyone can create rooms", *fact.evidence, *optional)
    return ctx.from_fact(
        "auth.main",
        good=lambda v: v not in ("anonymous",),
        pass_msg="the main domain requires authentication",
        fail_msg="the main XMPP domain is anonymous: anyone can create rooms",
    )


def _main_provider(ctx: AuditContext) -> str | None:
    """The authentication provider as written: the main VirtualHost's `authentication`, else docker's
    PROSODY_AUTH_TYPE or AUTH_TYPE (the places the auth.main fact reads)."""
    v = ctx.view
    if v.prosody is not None and v.main_host is not None:
        return v.auth_of(v.main_host)[0]
    return v.docker_auth_type(None)[0] if v.env_ok else None


@check(
    "auth.secure_domain",
    title="Secure domain: only authenticated hosts open rooms, guests wait",
    severity=Severity.MEDIUM,
    criteria=("auth.rbac", "mgmt.access_control"),
    rationale="""Prosody authentication alone is not enough: jicofo must also require it (or tokens must be
    mandatory), otherwise rooms are still created for whoever joins first.""",
    remediation="""In /etc/jitsi/jicofo/jicofo.conf:
    jicofo { authentication { enabled = true, type = XMPP, login-url = "meet.example.org" } }""",
    references=(HANDBOOK_SECURE_DOMAIN,),
)
def secure_domain(ctx: AuditContext) -> CheckResult:
    return ctx.from_fact(
        "auth.secure_domain",
        good=True,
        pass_msg="creating a room requires an authenticated, non-guest user",
        fail_msg="rooms can be created without authentication",
    )


@check(
    "auth.service_accounts_hashed",
    title="Service and user accounts are stored hashed (not internal_plain)",
    severity=Severity.HIGH,
    criteria=("auth.password_policy", "enc.at_rest_provider"),
    rationale="""internal_plain keeps XMPP passwords (focus, jvb, users) in clear text under
    /var/lib/prosody: anyone reading a backup can impersonate jicofo or the bridge. Jitsi templates
    used internal_plain for the auth domain until 2021 and upgrades never changed it.""",
    remediation="""Set authentication = "internal_hashed" on every VirtualHost (auth.<domain> included), then
    re-register the accounts (prosodyctl register focus auth.meet.example.org <new password>).""",
    references=("https://prosody.im/doc/authentication",),
)
def service_accounts_hashed(ctx: AuditContext) -> CheckResult:
    view = ctx.view
    if view.prosody is None:
        if view.env_ok:  # the image's templates use internal_hashed for every account domain
            return CheckResult.passed("docker-jitsi-meet's prosody image stores accounts with internal_hashed")
        return CheckResult.unclear(f"cannot tell: {ctx.fact('auth.main').note or 'no prosody configuration'}")
    hosts: list[str] = []
    evidence: dict[str, Evidence] = {}
    for host in view.hosts():
        raw, where = view.auth_of(host)
        if raw == "internal_plain" and where is not None:
            hosts.append(host)
            evidence.setdefault(str(where.location), where)
    if hosts:
        return CheckResult.failed(
            f"{len(hosts)} VirtualHost(s) store passwords in clear text: {', '.join(hosts)}",
            *evidence.values(),
        )
    why = view.incomplete(Role.PROSODY_MAIN, Role.PROSODY_INCLUDE)
    if why:  # the file that could not be used may hold the internal_plain host
        return CheckResult.unclear(f"cannot tell: {why}")
    return CheckResult.passed("no VirtualHost uses internal_plain")


@check(
    "auth.directory_integration",
    title="Users authenticate against a directory (LDAP / Active Directory)",
    severity=Severity.INFO,
    criteria=("auth.directory", "auth.password_policy"),
    rationale="""A directory gives central accounts, password policy and de-provisioning; local prosody
    accounts have no password policy at all.""",
    remediation="""Use LDAP through cyrus/saslauthd (authentication = "cyrus") or mod_auth_ldap, with ldaps:// or
    StartTLS and certificate verification.""",
    references=(HANDBOOK_LDAP,),
)
def directory_integration(ctx: AuditContext) -> CheckResult:
    return ctx.from_fact(
        "auth.main",
        good=lambda v: v in ("ldap", "cyrus"),
        pass_msg="users authenticate against a directory",
        fail_msg="no directory integration on the main domain",
    )


@check(
    "auth.token_sso",
    title="Authentication delegated to an identity provider through tokens (JWT)",
    severity=Severity.INFO,
    criteria=("auth.sso", "auth.mfa"),
    rationale="""Jitsi integrates SSO (SAML, OIDC) and therefore MFA only through JWT tokens issued by an
    identity provider bridge; without token auth there is no SSO.""",
    remediation="""Install jitsi-meet-tokens (authentication = "token", asap_key_server for RS256 keys) and
    point config.js tokenAuthUrl at your IdP adapter.""",
    references=(HANDBOOK_JWT,),
)
def token_sso(ctx: AuditContext) -> CheckResult:
    return ctx.from_fact(
        "auth.main",
        good="jwt",
        pass_msg="token authentication is enabled on the main domain",
        fail_msg="no token (JWT) authentication: no SSO integration",
    )
