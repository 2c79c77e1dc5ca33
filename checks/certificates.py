"""The web certificate: who issued it, its key, its validity and the names it covers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from auditor import apache_front
from auditor.context import AuditContext
from auditor.deployment import host_path
from auditor.discovery import Role
from auditor.model import CheckResult, Evidence, Severity
from auditor.parsers.certificate import CertInfo
from auditor.registry import check
from auditor.snapshot import ItemStatus
from checks._common import ev, why_missing
from checks.nginx import tls_server

MOZILLA = "https://wiki.mozilla.org/Security/Server_Side_TLS"
HANDBOOK = "https://jitsi.github.io/handbook/docs/devops-guide/devops-guide-quickstart"
EXPIRY_MARGIN = timedelta(days=14)
_WEB_CERT_HINTS = ("/jitsi/meet/", "/letsencrypt/live/", "/web/keys/", "/acme-certs/", "/storage/keys/")


def web_certificate(ctx: AuditContext) -> tuple[str, CertInfo] | None:
    """(path, leaf) of the web server's certificate when the evidence holds it."""
    got = web_certificate_or_reason(ctx)
    return None if isinstance(got, CheckResult) else got


def web_certificate_or_reason(ctx: AuditContext) -> tuple[str, CertInfo] | CheckResult:
    """The web server's leaf certificate, or why it cannot be judged."""
    dep = ctx.deployment
    by_path = {p.path: p for p in dep.of(Role.CERTIFICATE)}
    server = tls_server(ctx)
    wanted: str | None = None
    front = "nginx"
    if server is not None:
        d = server.directive("ssl_certificate")
        if d is not None and d.args:
            wanted = host_path(d.location.path, d.args[0])
            if "$" in wanted:
                return CheckResult.unclear(f"cannot tell: ssl_certificate {wanted} depends on a variable")
    elif (apache := apache_front.apache_config(dep)) is not None:
        vhost = apache_front.tls_vhost(apache, ctx.view.own_domain())
        cert = vhost.directive("SSLCertificateFile") if vhost is not None else None
        if cert is not None and cert.args:
            wanted, front = cert.args[0], "Apache"
            if "$" in wanted:
                return CheckResult.unclear(f"cannot tell: SSLCertificateFile {wanted} depends on a variable")
    if wanted is not None:
        pf = by_path.get(wanted)
        if pf is None:
            item = dep.snapshot.get(wanted)
            why = f"{wanted}: {item.error or item.status.value}" if item is not None else f"{wanted} is not in the evidence"
            return CheckResult.unclear(f"cannot tell: the certificate {front} uses ({why})")
    else:
        hinted = [p for path, p in by_path.items() if any(h in path for h in _WEB_CERT_HINTS)]
        if not hinted:
            unread = _unreadable_certificate(ctx)
            if unread is not None:  # discovery knows a certificate by its content: this one it could not read
                return CheckResult.unclear(f"cannot tell: the web certificate could not be read ({unread})")
            if server is None and ctx.deployment.nginx is None and not ctx.view.env_ok:
                return CheckResult.unclear(why_missing(ctx, "web certificate or nginx configuration"))
            return CheckResult.unclear("cannot tell: the web certificate is not in the evidence")
        pf = hinted[0]
    if pf.value is None:
        return CheckResult.unclear(f"cannot tell: {pf.error or pf.path + ' unreadable'}")
    leaves = [c for c in pf.value if not c.is_ca] or list(pf.value)
    if not leaves:
        return CheckResult.unclear(f"cannot tell: no certificate in {pf.path}")
    return pf.path, leaves[0]


def _unreadable_certificate(ctx: AuditContext) -> str | None:
    """`path: reason` of a collected but unreadable file where Jitsi's installers put the web certificate."""
    for item in ctx.deployment.snapshot.files():
        if (not item.ok and item.status is not ItemStatus.MISSING and item.key.endswith((".crt", ".pem", ".cer"))
                and any(h in item.key for h in _WEB_CERT_HINTS)):
            return f"{item.key}: {item.error or item.status.value}"
    return None


def _ev(path: str, cert: CertInfo, what: str) -> Evidence:
    return ev(path, cert.line or None, what)


def _cn(name: str) -> str:
    for part in name.split(","):
        if part.strip().upper().startswith(("CN=", "O=")):
            return part.split("=", 1)[1]
    return name


@check(
    "cert.trusted_issuer",
    title="The web certificate is issued by a CA, not self-signed",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit", "enc.key_strength"),
    rationale="""The installer's default certificate is self-signed (RSA 4096, ten years): browsers warn, users
    learn to click through warnings, and the mobile apps refuse to connect. A CA-issued certificate (Let's
    Encrypt through the bundled script) lets clients authenticate the server.""",
    remediation="""Run /usr/share/jitsi-meet/scripts/install-letsencrypt-cert.sh, or point ssl_certificate /
    ssl_certificate_key at a certificate from your CA (docker: ENABLE_LETSENCRYPT=1).""",
    references=(HANDBOOK,),
)
def trusted_issuer(ctx: AuditContext) -> CheckResult:
    got = web_certificate_or_reason(ctx)
    if isinstance(got, CheckResult):
        return got
    path, cert = got
    where = _ev(path, cert, f"issuer {cert.issuer[:80]}")
    if cert.self_signed:
        return CheckResult.failed(f"the certificate for {_cn(cert.subject)} is self-signed", where)
    issuer = _cn(cert.issuer)
    kind = "Let's Encrypt" if "let's encrypt" in cert.issuer.lower() else issuer
    return CheckResult.passed(f"issued by {kind} (chain trust is checked live)", where)


@check(
    "cert.key_strength",
    title="The web certificate has a strong key and signature (RSA 2048+ or ECDSA 256+, SHA-256+)",
    severity=Severity.MEDIUM,
    criteria=("enc.key_strength", "enc.algorithm"),
    rationale="""RSA keys under 2048 bits, DSA keys and SHA-1/MD5 signatures are below every current baseline
    (Mozilla, CA/Browser Forum): the server's identity can be forged.""",
    remediation="""Issue a new certificate with an RSA 2048+/ECDSA P-256 key and SHA-256 signatures
    (openssl req -newkey rsa:3072 ... or acme.sh --keylength ec-256).""",
    references=(MOZILLA,),
)
def key_strength(ctx: AuditContext) -> CheckResult:
    got = web_certificate_or_reason(ctx)
    if isinstance(got, CheckResult):
        return got
    path, cert = got
    desc = f"{cert.key_type} {cert.key_bits or '?'} bits, {cert.signature_hash or 'n/a'}"
    where = _ev(path, cert, desc)
    problems = []
    if cert.key_type == "RSA" and (cert.key_bits or 0) < 2048:
        problems.append(f"RSA key of {cert.key_bits} bits")
    elif cert.key_type == "EC" and (cert.key_bits or 0) < 256:
        problems.append(f"EC key of {cert.key_bits} bits")
    elif cert.key_type in ("DSA", "unknown"):
        problems.append(f"{cert.key_type} key")
    if cert.signature_hash in ("sha1", "md5", "md2", "md4"):
        problems.append(f"{cert.signature_hash.upper()} signature")
    if problems:
        return CheckResult.failed("weak certificate: " + ", ".join(problems), where)
    return CheckResult.passed(f"certificate key and signature are strong ({desc})", where)


@check(
    "cert.expiry",
    title="The web certificate is valid now and not about to expire",
    severity=Severity.HIGH,
    criteria=("enc.in_transit",),
    rationale="""An expired certificate breaks every client (the mobile apps and the Electron app refuse it) and
    trains users to accept warnings; renewal that silently stopped is noticed only when it is too late.""",
    remediation="""Renew the certificate (acme.sh --cron / certbot renew) and check the renewal timer; replace
    long-lived self-signed certificates with CA-issued ones.""",
    references=(HANDBOOK,),
)
def expiry(ctx: AuditContext) -> CheckResult:
    got = web_certificate_or_reason(ctx)
    if isinstance(got, CheckResult):
        return got
    path, cert = got
    now = datetime.now(UTC)
    where = _ev(path, cert, f"valid {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d}")
    if cert.not_after < now:
        return CheckResult.failed(f"the certificate expired on {cert.not_after:%Y-%m-%d}", where)
    if cert.not_before > now:
        return CheckResult.failed(f"the certificate is not valid before {cert.not_before:%Y-%m-%d}", where)
    left = (cert.not_after - now).days
    if cert.not_after - now < EXPIRY_MARGIN:
        return CheckResult.failed(f"the certificate expires in {left} day(s)", where)
    return CheckResult.passed(f"valid for {left} more days", where)


def _covers(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


@check(
    "cert.domain_coverage",
    title="The web certificate's names (SAN) cover the meeting domain",
    severity=Severity.MEDIUM,
    criteria=("enc.in_transit",),
    rationale="""Clients match the domain against the certificate's subjectAltName entries (the subject CN is
    ignored by browsers). A certificate for another name fails for every client, or is only accepted by
    clicking through warnings.""",
    remediation="""Issue the certificate for the meeting domain (e.g. acme.sh --issue -d meet.example.org) and point
    ssl_certificate at it.""",
    references=("https://www.rfc-editor.org/rfc/rfc6125",),
)
def domain_coverage(ctx: AuditContext) -> CheckResult:
    got = web_certificate_or_reason(ctx)
    if isinstance(got, CheckResult):
        return got
    path, cert = got
    domain = ctx.view.public_domain()  # docker: PUBLIC_URL's host, not the internal meet.jitsi
    where = _ev(path, cert, "SAN " + (", ".join(cert.sans[:5]) or "none"))
    if not domain:
        return CheckResult.unclear("cannot tell: the meeting domain is not known from the configuration", where)
    if gap := ctx.view.incomplete(Role.DOCKER_ENV):  # its PUBLIC_URL, when set, is the domain
        return CheckResult.unclear(f"cannot tell whether the certificate must cover {domain}: {gap}", where)
    if any(_covers(name, domain) for name in cert.sans):
        return CheckResult.passed(f"the certificate covers {domain}", where)
    if not cert.sans:
        return CheckResult.failed(f"the certificate has no subjectAltName (browsers reject it for {domain})", where)
    return CheckResult.failed(f"the certificate does not cover {domain}", where)
