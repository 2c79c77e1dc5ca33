"""Live TLS: what the host's TLS endpoints accept, and the certificates they present."""

from __future__ import annotations

from auditor.context import AuditContext
from auditor.model import CheckResult, Evidence, Severity
from auditor.probes.judge import ev, need, scanned, tls_disagreement
from auditor.probes.model import WEAK_PROTOCOLS, TlsEndpoint
from auditor.registry import check

MOZILLA = "https://ssl-config.mozilla.org/#server=nginx&config=intermediate"
TAGS = ("live", "tls")


def _where(e: TlsEndpoint) -> str:
    return f"{e.port} ({e.service})"


def _no_scan(res_reason: str | None, endpoints: list[TlsEndpoint]) -> CheckResult | None:
    if not endpoints:
        return CheckResult.unclear(f"cannot tell: no TLS endpoint could be scanned{res_reason or ''}")
    return None


def _front_unscanned(all_eps: tuple[TlsEndpoint, ...]) -> CheckResult | None:
    """A pass needs the HTTPS front: other ports passing say nothing about what most users connect to."""
    for e in all_eps:
        if e.service == "web HTTPS" and not e.scanned and e.status in ("error", "timeout"):
            return CheckResult.unclear(f"cannot tell: the HTTPS front (port {e.port}) could not be scanned: {e.status}")
    return None


def _unscanned_note(all_eps: tuple[TlsEndpoint, ...]) -> str:
    failed = [f"{e.port}: {e.status}" for e in all_eps if not e.scanned and e.status not in ("unreachable",)]
    return f" (not scanned: {', '.join(failed)})" if failed else ""


@check(
    "live.tls_protocols",
    title="Live TLS endpoints accept only TLS 1.2 and 1.3",
    severity=Severity.HIGH,
    criteria=("enc.algorithm", "enc.in_transit", "enc.all_channels"),
    rationale="""SSLv3, TLS 1.0 and TLS 1.1 are deprecated (RFC 8996) and open downgrade and CBC attacks. The
    configuration can say otherwise than the port: another server block, a load balancer or an old
    prosody/coturn build may still accept them.""",
    remediation="""nginx: ssl_protocols TLSv1.2 TLSv1.3; prosody: ssl = { protocol = "tlsv1_2+" };
    coturn: no-tlsv1 and no-tlsv1_1. Then check every server block that listens on the port.""",
    references=(MOZILLA, "https://www.rfc-editor.org/rfc/rfc8996"),
    tags=TAGS,
)
def tls_protocols(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "tls")
    if res is None or res.tls is None:
        return early or CheckResult.unclear("cannot tell: no TLS results")
    eps = scanned(res)
    if (missing := _no_scan(_unscanned_note(res.tls.endpoints), eps)) is not None:
        return missing
    evidence = [ev("tls", str(e.port), f"{e.service}: {' '.join(e.protocols) or 'no protocol'}") for e in eps]
    weak = [(e, [p for p in e.protocols if p in WEAK_PROTOCOLS]) for e in eps]
    weak = [(e, ps) for e, ps in weak if ps]
    if weak:
        msg = "; ".join(f"port {_where(e)} accepts {', '.join(ps)}" for e, ps in weak)
        if (d := tls_disagreement(ctx, res)) is not None:
            msg += f"; {d}"
        return CheckResult.failed(msg, *evidence)
    ports = ", ".join(str(e.port) for e in eps)
    note = _unscanned_note(res.tls.endpoints)
    if (blocked := _front_unscanned(res.tls.endpoints)) is not None:
        return blocked
    return CheckResult.passed(f"ports {ports} accept only TLS 1.2+{note}", *evidence)


@check(
    "live.tls_ciphers",
    title="Live TLS endpoints offer only strong suites with forward secrecy",
    severity=Severity.HIGH,
    criteria=("enc.algorithm", "enc.key_strength"),
    rationale="""RC4, 3DES, NULL, EXPORT and anonymous suites are broken; suites with RSA key exchange give no
    forward secrecy (a stolen key decrypts recorded traffic); DH groups under 2048 bits are weak.""",
    remediation="""Use Mozilla's intermediate cipher list (ECDHE with AES-GCM or ChaCha20-Poly1305) in nginx
    ssl_ciphers, prosody's ssl.ciphers and coturn's cipher-list, and drop static RSA key exchange.""",
    references=(MOZILLA,),
    tags=TAGS,
)
def tls_ciphers(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "tls")
    if res is None or res.tls is None:
        return early or CheckResult.unclear("cannot tell: no TLS results")
    eps = scanned(res)
    if (missing := _no_scan(_unscanned_note(res.tls.endpoints), eps)) is not None:
        return missing
    problems: list[str] = []
    evidence: list[Evidence] = []
    non_aead = 0
    for e in eps:
        weak = sorted({c.name for c in e.ciphers if c.weak})
        no_fs = sorted({c.name for c in e.ciphers if not c.forward_secrecy and not c.weak})
        small_dh = sorted({f"{c.name} ({c.kx_bits} bits)" for c in e.ciphers
                           if c.kx_bits is not None and "_DHE_" in c.name and c.kx_bits < 2048})
        non_aead += sum(1 for c in e.ciphers if not c.aead)
        if weak:
            problems.append(f"port {e.port}: weak suites {_few(weak)}")
        if no_fs:
            problems.append(f"port {e.port}: no forward secrecy with {_few(no_fs)}")
        if small_dh:
            problems.append(f"port {e.port}: small DH groups {_few(small_dh)}")
        evidence.append(ev("tls", str(e.port), f"{len(e.ciphers)} suites accepted"))
    if problems:
        return CheckResult.failed("; ".join(problems), *evidence)
    note = f" ({non_aead} CBC suite(s) without AEAD remain)" if non_aead else ""
    if (blocked := _front_unscanned(res.tls.endpoints)) is not None:
        return blocked
    return CheckResult.passed(f"every accepted suite has forward secrecy and no weak cipher{note}", *evidence)


def _few(names: list[str], n: int = 4) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


@check(
    "live.tls_certificate",
    title="Live certificates are trusted, match the name and are not about to expire",
    severity=Severity.HIGH,
    criteria=("enc.in_transit",),
    rationale="""An untrusted, self-signed, expired or mismatched certificate trains users to click through
    warnings and lets an attacker in the path impersonate the server; mobile apps simply fail.""",
    remediation="""Use a publicly trusted certificate for the domain (e.g. Let's Encrypt via
    /usr/share/jitsi-meet/scripts/install-letsencrypt-cert.sh) on nginx, prosody and coturn, and make sure
    renewal runs (and reloads the services).""",
    references=("https://jitsi.github.io/handbook/docs/devops-guide/devops-guide-quickstart",),
    tags=TAGS,
)
def tls_certificate(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "tls")
    if res is None or res.tls is None:
        return early or CheckResult.unclear("cannot tell: no TLS results")
    eps = [e for e in scanned(res) if e.certificate is not None]
    if not eps:
        return CheckResult.unclear("cannot tell: no certificate was retrieved")
    problems: list[str] = []
    evidence: list[Evidence] = []
    for e in eps:
        cert = e.certificate
        assert cert is not None
        summary = f"{cert.subject}, issuer {cert.issuer}, expires {cert.not_after}"
        evidence.append(ev("tls", str(e.port), summary))
        issues = []
        if cert.days_left < 0:
            issues.append(f"expired {-cert.days_left} day(s) ago")
        elif cert.days_left < 14:
            issues.append(f"expires in {cert.days_left} day(s)")
        if cert.self_signed:
            issues.append("self-signed")
        elif not cert.trusted:
            issues.append(f"not trusted ({cert.validation_error})")
        if not cert.hostname_match:
            issues.append(f"does not name {res.domain} ({', '.join(cert.names[:4]) or 'no names'})")
        if issues:
            problems.append(f"port {e.port}: " + ", ".join(issues))
    if problems:
        return CheckResult.failed("; ".join(problems), *evidence)
    soonest = min(e.certificate.days_left for e in eps if e.certificate)
    return CheckResult.passed(f"trusted and matching on ports {', '.join(str(e.port) for e in eps)}; "
                              f"the first expiry is in {soonest} days", *evidence)


@check(
    "live.tls_certificate_key",
    title="Live certificates use strong keys and signatures",
    severity=Severity.MEDIUM,
    criteria=("enc.key_strength",),
    rationale="RSA keys under 2048 bits, EC keys under 256 bits and SHA-1/MD5 signatures can be broken.",
    remediation="Reissue the certificate with an RSA 2048+ or ECDSA P-256 key, signed with SHA-256+.",
    references=(MOZILLA,),
    tags=TAGS,
)
def tls_certificate_key(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "tls")
    if res is None or res.tls is None:
        return early or CheckResult.unclear("cannot tell: no TLS results")
    eps = [e for e in scanned(res) if e.certificate is not None]
    if not eps:
        return CheckResult.unclear("cannot tell: no certificate was retrieved")
    problems, evidence = [], []
    for e in eps:
        cert = e.certificate
        assert cert is not None
        what = f"{cert.key_type} {cert.key_size} bits, {cert.signature_algorithm}"
        evidence.append(ev("tls", str(e.port), what))
        minimum = 2048 if cert.key_type == "RSA" else 256 if cert.key_type.startswith("EC") else 0
        if cert.key_size < minimum:
            problems.append(f"port {e.port}: {cert.key_type} key of {cert.key_size} bits")
        if any(h in cert.signature_algorithm.lower() for h in ("sha1", "md5")):
            problems.append(f"port {e.port}: signed with {cert.signature_algorithm}")
    if problems:
        return CheckResult.failed("; ".join(problems), *evidence)
    return CheckResult.passed("certificate keys and signatures are strong", *evidence)


@check(
    "live.tls_vulnerabilities",
    title="Live TLS endpoints are not vulnerable to known TLS attacks",
    severity=Severity.CRITICAL,
    criteria=("enc.in_transit",),
    rationale="""Heartbleed leaks server memory (keys, passwords), ROBOT decrypts RSA key exchange, TLS
    compression enables CRIME, insecure renegotiation and the OpenSSL CCS bug allow injection.""",
    remediation="""Upgrade OpenSSL and the server (nginx, prosody's LuaSec, coturn), disable static RSA key
    exchange and TLS compression, and restart the services.""",
    references=("CVE-2014-0160", "CVE-2017-13099", "CVE-2014-0224", "https://robotattack.org/"),
    tags=TAGS,
)
def tls_vulnerabilities(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "tls")
    if res is None or res.tls is None:
        return early or CheckResult.unclear("cannot tell: no TLS results")
    eps = scanned(res)
    if not eps:
        return CheckResult.unclear("cannot tell: no TLS endpoint could be scanned")
    problems, evidence = [], []
    tested = 0
    for e in eps:
        found = []
        if e.heartbleed:
            found.append("Heartbleed")
        if e.robot in ("VULNERABLE_STRONG_ORACLE", "VULNERABLE_WEAK_ORACLE"):
            found.append(f"ROBOT ({e.robot.lower().replace('_', ' ')})")
        if e.compression:
            found.append("TLS compression (CRIME)")
        if e.secure_renegotiation is False:
            found.append("insecure renegotiation")
        if e.ccs_injection:
            found.append("OpenSSL CCS injection")
        tested += sum(x is not None for x in (e.heartbleed, e.compression, e.secure_renegotiation))
        if found:
            problems.append(f"port {e.port}: {', '.join(found)}")
        evidence.append(ev("tls", str(e.port), f"heartbleed={e.heartbleed} robot={e.robot} compression="
                                               f"{e.compression} secure_reneg={e.secure_renegotiation}"))
    if problems:
        return CheckResult.failed("; ".join(problems), *evidence)
    if tested == 0:
        return CheckResult.unclear("cannot tell: the vulnerability tests did not complete", *evidence)
    if (blocked := _front_unscanned(res.tls.endpoints)) is not None:
        return blocked
    return CheckResult.passed("no Heartbleed, ROBOT, compression, insecure renegotiation or CCS injection",
                              *evidence)


@check(
    "live.tls_mozilla_intermediate",
    title="The HTTPS front end complies with Mozilla's intermediate TLS profile",
    severity=Severity.MEDIUM,
    criteria=("enc.algorithm",),
    rationale="""Mozilla's intermediate profile is the common baseline for public web servers: TLS 1.2+, AEAD
    suites with forward secrecy, safe curves, a trusted certificate of at most 366 days. The modern profile
    (TLS 1.3 only) is reported as information.""",
    remediation="Take the nginx TLS block from https://ssl-config.mozilla.org/ (intermediate).",
    references=(MOZILLA,),
    tags=TAGS,
)
def tls_mozilla_intermediate(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "tls")
    if res is None or res.tls is None:
        return early or CheckResult.unclear("cannot tell: no TLS results")
    web = next((e for e in res.tls.endpoints if e.service == "web HTTPS"), None)
    if web is None or not web.scanned:
        why = f"{web.status}: {web.error}" if web else "not scanned"
        return CheckResult.unclear(f"cannot tell: the HTTPS port could not be scanned ({why})")
    if web.mozilla_intermediate is None:
        parts = ", ".join(web.incomplete) or "some scan commands"
        return CheckResult.unclear(f"cannot tell: part of the scan did not complete ({parts})")
    modern = ("also meets the modern profile" if web.mozilla_modern == () else
              f"modern profile: {len(web.mozilla_modern)} difference(s)" if web.mozilla_modern else "")
    evidence = [ev("tls", str(web.port), issue) for issue in web.mozilla_intermediate[:10]]
    if web.mozilla_intermediate:
        keys = ", ".join(i.split(":", 1)[0] for i in web.mozilla_intermediate)
        return CheckResult.failed(f"port {web.port} differs from Mozilla intermediate in: {keys}", *evidence)
    return CheckResult.passed(f"port {web.port} meets Mozilla intermediate; {modern}".rstrip("; "),
                              ev("tls", str(web.port), "intermediate: compliant"))


@check(
    "live.tls_ocsp_stapling",
    title="The HTTPS front end staples OCSP responses",
    severity=Severity.INFO,
    criteria=("enc.in_transit",),
    rationale="""Stapling spares browsers a query to the CA (which tells the CA who visits) and speeds up
    connections. Certificates without an OCSP address (Let's Encrypt since 2025) have nothing to staple.""",
    remediation="nginx: ssl_stapling on; ssl_stapling_verify on; resolver <DNS server>;",
    references=("https://nginx.org/en/docs/http/ngx_http_ssl_module.html#ssl_stapling",),
    tags=TAGS,
)
def tls_ocsp_stapling(ctx: AuditContext) -> CheckResult:
    res, early = need(ctx, "tls")
    if res is None or res.tls is None:
        return early or CheckResult.unclear("cannot tell: no TLS results")
    web = next((e for e in res.tls.endpoints if e.service == "web HTTPS" and e.scanned), None)
    if web is None or web.certificate is None:
        return CheckResult.unclear("cannot tell: the HTTPS certificate was not retrieved")
    if not web.certificate.has_ocsp_url:
        return CheckResult.not_applicable("the certificate names no OCSP responder")
    evidence = ev("tls", str(web.port), f"OCSP stapled: {web.ocsp_stapled}")
    if web.ocsp_stapled:
        return CheckResult.passed("an OCSP response is stapled", evidence)
    return CheckResult.failed("no OCSP response is stapled", evidence)
