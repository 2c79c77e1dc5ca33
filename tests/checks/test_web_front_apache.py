"""A Debian host whose web front is Apache (jitsi-meet-web-config supports apache2 as well as nginx).

Without /etc/apache2 in the evidence, the checks that read the web front's configuration say that Apache is
the front and point at the dpkg line, instead of "no nginx configuration"; with nginx installed too, or its
configuration collected, they do not. With the Apache configuration collected, the checks and facts judge
it, with its files and lines as evidence.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path

import pytest

from auditor import cli
from auditor.criteria import load_profile
from auditor.engine import TargetResult, audit_snapshot
from auditor.model import Status
from auditor.registry import all_checks
from tests.advisories.helpers import dpkg, snapshot
from tests.checks import base
from tests.checks.base import audit

NGINX_CHECKS = ("web.tls_mozilla_profile", "web.hsts_max_age", "web.ocsp_stapling", "web.http_redirect",
                "web.security_headers", "web.server_tokens", "web.internal_locations")
CONFIG_JS = "var config = { hosts: { domain: 'meet.example.org' }, bosh: '/http-bind' };\n"
SITE = """server {
    listen 443 ssl;
    server_name meet.example.org;
    ssl_protocols TLSv1.2 TLSv1.3;
}
"""


def _audit(packages: str, files: dict[str, str] | None = None) -> TargetResult:
    profile = load_profile("default")
    checks = all_checks(profile.criterion_ids, with_plugins=False)
    snap = snapshot({"/etc/jitsi/meet/meet.example.org-config.js": CONFIG_JS, **(files or {})},
                    dpkg_output=packages)
    return audit_snapshot(snap, profile, checks)


def test_apache_front_is_named_with_its_dpkg_line() -> None:
    result = _audit(dpkg(("jitsi-meet-web", "1.0.8877-1"), ("apache2", "2.4.62-1~deb12u2"),
                         ("jitsi-meet-web-config", "1.0.8877-1")))
    found = {f.check_id: f for f in result.findings}
    for check_id in NGINX_CHECKS:
        f = found[check_id]
        assert f.status is Status.UNCLEAR, check_id
        assert "the web front is Apache" in f.message, (check_id, f.message)
        assert [(str(e.location), e.excerpt) for e in f.evidence] == [("cmd:dpkg-query:2", "apache2 2.4.62-1~deb12u2")]
    assert result.facts is not None
    assert "the web front is Apache" in (result.facts["web.tls_protocols"].note or "")


def test_nginx_installed_or_collected_is_not_called_apache() -> None:
    both = _audit(dpkg(("apache2", "2.4.62-1~deb12u2"), ("nginx", "1.22.1-9")))
    removed = _audit(dpkg(("apache2", "2.4.62-1~deb12u2", "rc ")))
    collected = _audit(dpkg(("apache2", "2.4.62-1~deb12u2")), {"/etc/nginx/sites-enabled/meet.example.org.conf": SITE})
    for result in (both, removed, collected):
        messages = [f.message for f in result.findings if f.check_id in NGINX_CHECKS]
        assert messages and not any("Apache" in m for m in messages), messages
    assert {f.check_id: f.status for f in collected.findings}["web.tls_mozilla_profile"] is not Status.UNCLEAR


# -- Apache's configuration collected: the checks and facts judge it ----------------------------------

APACHE_PACKAGES = {"apache2": "2.4.62-1~deb12u2", "jitsi-meet-web-config": "1.0.8877-1"}


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_collected_apache_configuration_is_judged_not_noted() -> None:
    result = audit(base.snapshot(base.apache_files(), packages=APACHE_PACKAGES))
    found = {f.check_id: f for f in result.findings}
    assert not [f.check_id for f in result.findings if "failed to run" in f.message]
    for check_id in NGINX_CHECKS:
        f = found[check_id]
        assert f.status is Status.PASS, (check_id, f.message)
        assert "the web front is Apache" not in f.message
        assert all(e.location.path.startswith("/etc/apache2/") for e in f.evidence), (check_id, f.evidence)
    assert result.facts is not None
    assert result.facts.value("web.tls_protocols") == ["TLSv1.2", "TLSv1.3"]
    assert result.facts.value("web.weak_tls") is False and result.facts.value("web.hsts") is True
    hsts = result.facts["web.hsts"].evidence[0]
    assert (hsts.location.path, hsts.location.line) == (base.APACHE_SITE, _line(base.APACHE_SITE_TEXT, "Strict-Transport"))


def test_without_apache2_conf_the_enabled_sites_are_read_together() -> None:
    """A config repository with sites-enabled only: Debian's default site sorts first and must not hide
    the Jitsi one; ServerTokens lives in files such a tree does not hold."""
    files = {k: v for k, v in base.apache_files().items() if k not in (base.APACHE_MAIN, base.APACHE_SECURITY)}
    files["/etc/apache2/sites-enabled/000-default.conf"] = "<VirtualHost *:80>\n    DocumentRoot /var/www/html\n</VirtualHost>\n"
    found = {f.check_id: f for f in audit(base.snapshot(files, packages=APACHE_PACKAGES)).findings}
    for check_id in NGINX_CHECKS:
        expected = Status.UNCLEAR if check_id == "web.server_tokens" else Status.PASS
        assert found[check_id].status is expected, (check_id, found[check_id].message)
    assert "security.conf" in found["web.server_tokens"].message


def test_unreadable_apache_site_is_unclear_with_the_reason() -> None:
    snap = base.snapshot(base.apache_files(), packages=APACHE_PACKAGES, denied=(base.APACHE_SITE,))
    found = {f.check_id: f for f in audit(snap).findings}
    for check_id in NGINX_CHECKS:
        assert found[check_id].status is Status.UNCLEAR, check_id
        assert "permission denied" in found[check_id].message and "the web front is Apache" not in found[check_id].message


def test_debian_defaults_on_apache_fail_where_they_are_set() -> None:
    """The site without its server-level TLS lines and security.conf as Debian ships it: ssl.conf's
    `SSLProtocol all -SSLv3` and `ServerTokens OS` are what Apache runs with."""
    files = base.apply(base.apache_files(), (
        (base.APACHE_SITE, "SSLProtocol -all +TLSv1.2 +TLSv1.3\n", ""),
        (base.APACHE_SITE, "SSLCipherSuite ECDHE-ECDSA", "#SSLCipherSuite ECDHE-ECDSA"),
        (base.APACHE_SECURITY, "", "ServerTokens OS\nServerSignature On\nTraceEnable Off\n"),
    ))
    result = audit(base.snapshot(files, packages=APACHE_PACKAGES))
    found = {f.check_id: f for f in result.findings}
    assert result.facts is not None
    assert result.facts.value("web.tls_protocols") == ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    assert result.facts.value("web.weak_tls") is True
    weak = found["web.tls_configuration"]
    where = (base.APACHE_SSL, _line(base.APACHE_SSL_TEXT, "SSLProtocol"))
    assert weak.status is Status.FAIL and where in [(e.location.path, e.location.line) for e in weak.evidence]
    assert found["web.tls_mozilla_profile"].status is Status.FAIL
    tokens = found["web.server_tokens"]
    assert tokens.status is Status.FAIL and "version and OS" in tokens.message and "ServerSignature" in tokens.message
    assert [(e.location.path, e.location.line) for e in tokens.evidence] == [(base.APACHE_SECURITY, 1), (base.APACHE_SECURITY, 2)]


def test_apache_proxying_the_bridge_api_is_an_exposure() -> None:
    files = base.apply(base.apache_files(), (
        (base.APACHE_SITE, "    ProxyPreserveHost on\n", "    ProxyPreserveHost on\n    ProxyPass /colibri/ http://127.0.0.1:8080/colibri/\n"),
    ))
    result = audit(base.snapshot(files, packages=APACHE_PACKAGES))
    assert result.facts is not None and result.facts.value("jvb.rest_public") is True
    assert result.facts["jvb.rest_public"].note == "Apache proxies the videobridge REST API"
    exposure = {f.check_id: f for f in result.findings}["exposure.jvb_rest_api"]
    assert exposure.status is Status.FAIL
    where = (base.APACHE_SITE, _line(files[base.APACHE_SITE], "ProxyPass /colibri/"))
    assert where in [(e.location.path, e.location.line) for e in exposure.evidence]


def test_the_certificate_apache_names_is_the_one_judged() -> None:
    """A self-signed installer certificate left in /etc/jitsi/meet must not hide the CA-issued one that
    SSLCertificateFile names (and the other way round)."""
    letsencrypt = f"/etc/letsencrypt/live/{base.D}/fullchain.pem"
    files = {**base.apache_files(), base.CERT: base.make_cert(self_signed=True), letsencrypt: base.make_cert()}
    named = base.apply(files, ((base.APACHE_SITE, f"SSLCertificateFile {base.CERT}", f"SSLCertificateFile {letsencrypt}"),))
    for tree, status, path in ((named, Status.PASS, letsencrypt), (files, Status.FAIL, base.CERT)):
        issuer = {f.check_id: f for f in audit(base.snapshot(tree, packages=APACHE_PACKAGES)).findings}["cert.trusted_issuer"]
        assert issuer.status is status and issuer.evidence[0].location.path == path, issuer.message


def test_root_audit_of_a_debian_apache_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--root` on a copy of a Debian host whose front is Apache: sites-enabled and conf-enabled are links
    into *-available as a2ensite/a2enconf make them; the JSON report carries file:line evidence."""
    root = tmp_path / "host"
    files = base.apply(base.apache_files(), (
        (base.APACHE_SECURITY, "", "ServerTokens OS\nServerSignature On\n"),  # Debian's security.conf
        (base.APACHE_SITE, "    SSLUseStapling on\n", ""),
        (base.APACHE_SITE, '    Header always set Referrer-Policy "strict-origin-when-cross-origin"\n', ""),
    ))
    links = {base.APACHE_SITE: f"../sites-available/{base.D}.conf", base.APACHE_SECURITY: "../conf-available/security.conf"}
    for path, text in files.items():
        target = path if path not in links else posixpath.join(posixpath.dirname(path), links[path])
        dest = root / posixpath.normpath(target).lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
        if path in links:
            (root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
            (root / path.lstrip("/")).symlink_to(links[path])
    out = tmp_path / "report.json"
    with pytest.raises(SystemExit) as exc:
        cli.main(["--root", str(root), "-f", "json", "-o", str(out), "-q"])
    capsys.readouterr()
    assert exc.value.code in (0, 1)
    (target,) = json.loads(out.read_text())["targets"]
    got = {f["check_id"]: (f["status"], [(e["path"], e["line"]) for e in f["evidence"]])
           for f in target["findings"] if f["check_id"] in NGINX_CHECKS}
    # apache2.conf includes sites-enabled/*.conf and conf-enabled/*.conf: the links are the files it reads
    site, security, text = base.APACHE_SITE, base.APACHE_SECURITY, files[base.APACHE_SITE]
    tls, headers = _line(text, "<VirtualHost *:443>"), [_line(text, f"set {h}") for h in ("Strict", "Content", "X-Content")]
    assert got == {
        "web.tls_mozilla_profile": ("pass", [(site, _line(text, "SSLProtocol")), (site, _line(text, "SSLCipherSuite"))]),
        "web.hsts_max_age": ("pass", [(site, headers[0])]),
        "web.ocsp_stapling": ("fail", [(site, tls)]),
        "web.http_redirect": ("pass", [(site, _line(text, "Redirect permanent"))]),
        "web.security_headers": ("fail", [(site, tls), *[(site, n) for n in headers]]),
        "web.server_tokens": ("fail", [(security, 1), (security, 2)]),
        "web.internal_locations": ("pass", []),
    }
    assert target["facts"]["web.tls_protocols"] == ["TLSv1.2", "TLSv1.3"] and target["facts"]["web.hsts"] is True
