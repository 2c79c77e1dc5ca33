"""A Debian host whose web front is Apache (jitsi-meet-web-config supports apache2 as well as nginx): the
checks that read the nginx configuration say that Apache is the front and point at the dpkg line, instead
of "no nginx configuration"; with nginx installed too, or its configuration collected, they do not."""

from __future__ import annotations

from auditor.criteria import load_profile
from auditor.engine import TargetResult, audit_snapshot
from auditor.model import Status
from auditor.registry import all_checks
from tests.advisories.helpers import dpkg, snapshot

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
