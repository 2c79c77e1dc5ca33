"""The web front's TLS and header settings often live in an included file: nginx's snippets/ (tutorials'
ssl-params.conf) or certbot's /etc/letsencrypt/options-ssl-nginx.conf (certbot --nginx). Collected, they
are judged where they are; an include by name that is not in the evidence makes the verdicts that found
a setting unset unclear, never a fail for a default that may not apply."""

from __future__ import annotations

from auditor.model import Status
from auditor.snapshot import Snapshot
from tests.checks import base

TLS_LINES = """    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
"""
HEADER_LINES = """    add_header Strict-Transport-Security "max-age=63072000" always;
    add_header Content-Security-Policy "frame-ancestors 'self'" always;
    add_header Referrer-Policy "strict-origin-when-cross-origin" always;
    add_header X-Content-Type-Options "nosniff" always;
"""
SNIPPET = "/etc/nginx/snippets/ssl-params.conf"
CERTBOT = "/etc/letsencrypt/options-ssl-nginx.conf"
CHECKS = ("web.tls_mozilla_profile", "web.security_headers", "web.hsts_max_age")


def _moved_to(include: str) -> dict[str, str]:
    """The base host with its TLS and header lines replaced by `include INCLUDE;`."""
    return base.apply(base.base_files(), ((base.NGINX, TLS_LINES, f"    include {include};\n"),
                                          (base.NGINX, HEADER_LINES, "")))


def _findings(files: dict[str, str]) -> dict[str, tuple[Status, str, list[str]]]:
    snap: Snapshot = base.snapshot(files)
    result = base.audit(snap)
    return {f.check_id: (f.status, f.message, [str(e.location) for e in f.evidence]) for f in result.findings}


def test_settings_in_a_collected_snippet_are_judged_where_they_are() -> None:
    files = _moved_to("snippets/ssl-params.conf")
    files[SNIPPET] = TLS_LINES.replace("    ", "") + HEADER_LINES.replace("    ", "")
    got = _findings(files)
    for check_id in CHECKS:
        assert got[check_id][0] is Status.PASS, (check_id, got[check_id])
    assert f"{SNIPPET}:1" in got["web.tls_mozilla_profile"][2]


def test_certbots_options_file_is_judged_when_collected() -> None:
    files = _moved_to(CERTBOT)
    # certbot's own file (a 2020 release): TLS 1.2/1.3, but CBC suites beside the GCM ones
    files[CERTBOT] = ("ssl_session_cache shared:le_nginx_SSL:10m;\nssl_protocols TLSv1.2 TLSv1.3;\n"
                      "ssl_prefer_server_ciphers off;\n"
                      'ssl_ciphers "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:'
                      'ECDHE-RSA-AES128-SHA256:AES128-SHA";\n')
    status, message, evidence = _findings(files)["web.tls_mozilla_profile"]
    assert status is Status.FAIL and "outside Mozilla intermediate" in message
    assert "(nginx's default cipher list)" not in message
    assert f"{CERTBOT}:4" in evidence


def test_an_include_missing_from_the_evidence_makes_unset_settings_unclear() -> None:
    files = _moved_to("/etc/nginx/custom/tls-and-headers.conf")
    got = _findings(files)
    hidden = "/etc/nginx/custom/tls-and-headers.conf (included at"
    for check_id in (*CHECKS, "web.ocsp_stapling"):
        status, message, _ = got[check_id]
        if check_id == "web.ocsp_stapling":  # still set in the site itself: judged as before
            assert status is Status.PASS
            continue
        assert status is Status.UNCLEAR and hidden in message, (check_id, message)
    assert got["web.hsts"][0] is Status.UNCLEAR and hidden in got["web.hsts"][1]


def test_stock_and_glob_includes_hide_nothing() -> None:
    files = base.apply(base.base_files(), ((base.NGINX, HEADER_LINES, "    include proxy_params;\n"
                                            "    include /etc/nginx/conf.d.extra/*.conf;\n"),))
    status, message, _ = _findings(files)["web.security_headers"]
    assert status is Status.FAIL and message.startswith("missing: "), message


APACHE_TLS = """SSLProtocol -all +TLSv1.2 +TLSv1.3
SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305
"""
APACHE_CERTBOT = "/etc/letsencrypt/options-ssl-apache.conf"


def _apache_moved_to(include: str) -> dict[str, str]:
    files = base.apache_files()
    site = base.APACHE_SITE
    assert APACHE_TLS in files[site], "the Apache base site sets its TLS lines at server level"
    return base.apply(files, ((site, APACHE_TLS, f"Include {include}\n"),))


def test_apache_certbot_options_are_judged_when_collected() -> None:
    files = _apache_moved_to(APACHE_CERTBOT)
    files[APACHE_CERTBOT] = ("SSLEngine on\nSSLProtocol all -SSLv2 -SSLv3 -TLSv1 -TLSv1.1\n"
                             "SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:AES128-SHA\n")
    status, message, evidence = _findings(files)["web.tls_mozilla_profile"]
    assert status is Status.FAIL and "outside Mozilla intermediate" in message, message
    assert f"{APACHE_CERTBOT}:3" in evidence


def test_apache_include_missing_from_the_evidence_makes_unset_ciphers_unclear() -> None:
    """(A setting found in view stays judged: only what is unset in view may come from the unseen file.)"""
    files = _apache_moved_to("/etc/apache2/custom/tls.conf")
    files[base.APACHE_SSL] = files[base.APACHE_SSL].replace("\tSSLCipherSuite HIGH:!aNULL\n", "")
    files[base.APACHE_SITE] = files[base.APACHE_SITE].replace("Include /etc/apache2/custom/tls.conf\n",
                                                              "SSLProtocol -all +TLSv1.2 +TLSv1.3\nInclude /etc/apache2/custom/tls.conf\n")
    status, message, _ = _findings(files)["web.tls_mozilla_profile"]
    assert status is Status.UNCLEAR and "/etc/apache2/custom/tls.conf (included at" in message, message


def test_snippets_and_certbot_options_are_collected_and_recognised() -> None:
    from auditor.collect.plan import DEBIAN_FILES
    from auditor.discovery import Role, discover

    planned = {rule.base + ("/" + rule.tail if rule.tail else "") for rule in DEBIAN_FILES}
    assert {"/etc/nginx/snippets/*", CERTBOT, APACHE_CERTBOT} <= planned
    snap = base.snapshot({SNIPPET: "ssl_protocols TLSv1.2;\n", CERTBOT: "ssl_protocols TLSv1.2;\n",
                          APACHE_CERTBOT: "SSLProtocol -all +TLSv1.2\n"})
    roles = {f.path: f.role for f in discover(snap)}
    assert roles == {SNIPPET: Role.NGINX_SNIPPET, CERTBOT: Role.NGINX_SNIPPET, APACHE_CERTBOT: Role.APACHE_SNIPPET}


def test_certbots_apache_options_alone_are_no_apache_front() -> None:
    files = {k: v for k, v in base.base_files().items() if not k.startswith("/etc/nginx/")}
    files[APACHE_CERTBOT] = "SSLProtocol all -SSLv2 -SSLv3\n"
    status, message, _ = _findings(files)["web.tls_mozilla_profile"]
    assert status is Status.UNCLEAR and "Apache" not in message and "nginx configuration" in message, message


CIPHERS_LINE = TLS_LINES.splitlines()[1] + "\n"


def test_an_unseen_include_in_the_server_block_may_override_the_http_level() -> None:
    files = base.apply(base.base_files(), (
        (base.NGINX, CIPHERS_LINE, "    include /etc/nginx/custom/tls.conf;\n"),
        (base.NGINX, "server_tokens off;\n", "server_tokens off;\n" + CIPHERS_LINE.strip() + "\n"),
    ))
    status, message, _ = _findings(files)["web.tls_mozilla_profile"]
    assert status is Status.UNCLEAR, message
    assert message.startswith("cannot tell: ssl_cipher") and "set at the http level" in message
    assert "/etc/nginx/custom/tls.conf (included at" in message


def test_an_unseen_include_at_the_http_level_does_not_hide_the_server_blocks_own_settings() -> None:
    files = base.apply(base.base_files(), ((base.NGINX, "server_tokens off;\n",
                                            "server_tokens off;\ninclude /etc/nginx/custom/global.conf;\n"),))
    got = _findings(files)
    for check_id in (*CHECKS, "web.ocsp_stapling"):
        assert got[check_id][0] is Status.PASS, (check_id, got[check_id])


def test_the_protocols_fact_follows_the_same_rule() -> None:
    protocols = TLS_LINES.splitlines()[0] + "\n"
    files = base.apply(base.base_files(), (
        (base.NGINX, protocols, "    include /etc/nginx/custom/tls.conf;\n"),
        (base.NGINX, "server_tokens off;\n", "server_tokens off;\n" + protocols.strip() + "\n"),
    ))
    result = base.audit(base.snapshot(files))
    assert result.facts is not None
    fact = result.facts["web.tls_protocols"]
    assert fact.value is None and "set at the http level" in (fact.note or "")


def test_apache_an_unseen_include_after_a_setting_may_override_it_one_before_may_not() -> None:
    site = base.APACHE_SITE
    files = base.apache_files()
    anchor = "    SSLEngine on\n"
    after = base.apply(files, ((site, anchor, anchor + "    SSLProtocol -all +TLSv1.2 +TLSv1.3\n"
                                "    Include /etc/apache2/custom/late.conf\n"),))
    status, message, _ = _findings(after)["web.tls_mozilla_profile"]
    assert status is Status.UNCLEAR and "SSLProtocol is set (SSLProtocol -all +TLSv1.2 +TLSv1.3) before it" in message
    assert "/etc/apache2/custom/late.conf (included at" in message
    before = base.apply(files, ((site, anchor, anchor + "    Include /etc/apache2/custom/early.conf\n"
                                 "    SSLProtocol -all +TLSv1.2 +TLSv1.3\n    SSLCipherSuite " +
                                 APACHE_TLS.splitlines()[1].split(" ", 1)[1] + "\n"),))
    status, message, _ = _findings(before)["web.tls_mozilla_profile"]
    assert status is Status.PASS, message


# Locations: an include not in the evidence, in a server block or inside a location, may add a location or
# a proxy_pass to one, so the verdicts that found none are unclear (session 4 left location blocks out).
BOSH = """    location = /http-bind {
        proxy_pass http://127.0.0.1:5280/http-bind;
    }
"""
LOCATION_CHECKS = ("web.internal_locations", "jvb.stats_exposure")


def _location_include(where: str, include: str) -> dict[str, str]:
    if where == "location":
        body = f"    location = /http-bind {{\n        include {include};\n    }}\n"
    else:
        body = BOSH + f"    include {include};\n"
    return base.apply(base.base_files(), ((base.NGINX, BOSH, body),))


def test_the_base_host_proxies_nothing_internal() -> None:
    got = _findings(base.base_files())
    for check_id in LOCATION_CHECKS:
        assert got[check_id][0] is Status.PASS, (check_id, got[check_id])


def test_an_unseen_include_in_a_location_or_server_makes_the_locations_unclear() -> None:
    for where in ("location", "server"):
        got = _findings(_location_include(where, "/etc/nginx/custom/bosh.conf"))
        for check_id in LOCATION_CHECKS:
            status, message, _ = got[check_id]
            assert status is Status.UNCLEAR, (where, check_id, message)
            assert "/etc/nginx/custom/bosh.conf (included at" in message, message


def test_stock_includes_in_a_location_hide_nothing() -> None:
    got = _findings(_location_include("location", "proxy_params"))
    for check_id in LOCATION_CHECKS:
        assert got[check_id][0] is Status.PASS, (check_id, got[check_id])


def test_a_collected_include_is_judged_where_it_is() -> None:
    files = _location_include("server", "snippets/jitsi-extra.conf")
    files["/etc/nginx/snippets/jitsi-extra.conf"] = "location /colibri/ {\n    proxy_pass http://127.0.0.1:8080;\n}\n"
    status, message, evidence = _findings(files)["web.internal_locations"]
    assert status is Status.FAIL and "/etc/nginx/snippets/jitsi-extra.conf:1" in evidence, (message, evidence)


def test_rest_api_on_loopback_behind_an_unseen_location_include_is_unclear() -> None:
    rest_on = base.apply(base.base_files(), ((base.JVB, "videobridge {\n", "videobridge {\n  apis { rest { enabled = true } }\n"),))
    assert _findings(rest_on)["exposure.jvb_rest_api"][0] is Status.PASS  # REST on loopback, nothing proxies it
    hidden = base.apply(_location_include("location", "/etc/nginx/custom/bosh.conf"),
                        ((base.JVB, "videobridge {\n", "videobridge {\n  apis { rest { enabled = true } }\n"),))
    status, message, _ = _findings(hidden)["exposure.jvb_rest_api"]
    assert status is Status.UNCLEAR and "cannot tell whether nginx proxies it" in message, message


def test_rate_limits_only_on_a_hidden_location_are_unclear() -> None:
    no_limits = base.apply(base.base_files(), ((base.PROSODY_MAIN, '    "limits";\n', ""),
                                               (base.PROSODY_MAIN, 'limits = {\n    c2s = { rate = "10kb/s"; burst = "2s"; };\n'
                                                                   '    s2sin = { rate = "30kb/s"; };\n}\n', ""),
                                               (base.PROSODY_SITE, '        "muc_rate_limit";\n', "")))
    assert _findings(no_limits)["rooms.rate_limits"][0] is Status.FAIL
    hidden = base.apply(no_limits, ((base.NGINX, BOSH, "    location = /http-bind {\n        include /etc/nginx/custom/bosh.conf;\n    }\n"),))
    status, message, _ = _findings(hidden)["rooms.rate_limits"]
    assert status is Status.UNCLEAR and "/etc/nginx/custom/bosh.conf" in message, message


PLAIN_REDIRECT = "    location / {\n        return 301 https://$host$request_uri;\n    }\n"


def test_a_plain_server_whose_redirect_may_be_in_an_unseen_include_is_unclear() -> None:
    serving = base.apply(base.base_files(), ((base.NGINX, PLAIN_REDIRECT,
                                              "    root /usr/share/jitsi-meet;\n    location / {\n        index index.html;\n    }\n"),))
    assert _findings(serving)["web.http_redirect"][0] is Status.FAIL  # the app over plain HTTP, nothing hidden
    hidden = base.apply(base.base_files(), ((base.NGINX, PLAIN_REDIRECT,
                                             "    root /usr/share/jitsi-meet;\n    location / {\n"
                                             "        include /etc/nginx/custom/redirect.conf;\n    }\n"),))
    status, message, _ = _findings(hidden)["web.http_redirect"]
    assert status is Status.UNCLEAR and "/etc/nginx/custom/redirect.conf (included at" in message, message
    assert _findings(base.base_files())["web.http_redirect"][0] is Status.PASS


APACHE_LOCATION = "    <Location /config.js>\n        Require all granted\n    </Location>\n"


def test_apache_unseen_includes_make_the_proxied_paths_unclear() -> None:
    assert all(_findings(base.apache_files())[c][0] is Status.PASS for c in LOCATION_CHECKS)
    hidden = "/etc/apache2/custom/proxy.conf"
    for body in (APACHE_LOCATION.replace("        Require all granted\n",
                                         f"        Require all granted\n        Include {hidden}\n"),
                 APACHE_LOCATION + f"    Include {hidden}\n"):
        got = _findings(base.apply(base.apache_files(), ((base.APACHE_SITE, APACHE_LOCATION, body),)))
        for check_id in LOCATION_CHECKS:
            status, message, _ = got[check_id]
            assert status is Status.UNCLEAR and f"{hidden} (included at" in message, (check_id, message)


def test_apache_unseen_include_leaves_a_loopback_rest_api_unclear() -> None:
    rest = ((base.JVB, "videobridge {\n", "videobridge {\n  apis { rest { enabled = true } }\n"),)
    assert _findings(base.apply(base.apache_files(), rest))["exposure.jvb_rest_api"][0] is Status.PASS
    hidden = base.apply(base.apache_files(), (*rest, (base.APACHE_SITE, APACHE_LOCATION,
                                                      APACHE_LOCATION + "    Include /etc/apache2/custom/proxy.conf\n")))
    status, message, _ = _findings(hidden)["exposure.jvb_rest_api"]
    assert status is Status.UNCLEAR and "/etc/apache2/custom/proxy.conf" in message, message
