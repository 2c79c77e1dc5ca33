"""Verdicts reviewed against real deployments (Debian quick-install trees of 2020 and 2025, docker-jitsi-meet):
each test is a case where a check used to say the wrong thing about a real layout or setting."""

from __future__ import annotations

from auditor.model import Status
from tests.checks import base

# Debian's stock nginx site (port 80 only), as in /etc/nginx/sites-enabled/default.
DEBIAN_DEFAULT_SITE = """\
server {
\tlisten 80 default_server;
\tlisten [::]:80 default_server;
\troot /var/www/html;
\tindex index.html index.htm index.nginx-debian.html;
\tserver_name _;
\tlocation / {
\t\ttry_files $uri $uri/ =404;
\t}
}
"""
# jitsi-meet-turnserver (2020) multiplexed 443 between nginx (moved to 4444) and coturn.
TURN_STREAM = """\
stream {
    upstream web {
        server 127.0.0.1:4444;
    }
    upstream turn {
        server 127.0.0.1:4445;
    }
    map $ssl_preread_alpn_protocols $upstream {
        ~\\bh2\\b         web;
        ~\\bhttp/1\\.     web;
        default         turn;
    }
    server {
        listen 443;
        listen [::]:443;
        ssl_preread on;
        proxy_pass $upstream;
    }
}
"""
WEB_CHECKS = ("web.http_redirect", "web.tls_configuration", "web.tls_mozilla_profile", "web.hsts")


def _status(files: dict[str, str], *check_ids: str) -> dict[str, tuple[Status, str]]:
    found = base.findings(base.snapshot(files))
    return {c: (found[c].status, found[c].message) for c in check_ids}


def test_without_nginx_conf_the_https_site_is_judged_not_a_file_that_sorts_before_it() -> None:
    # no nginx.conf: each active file is read alone; "default" and "modules-enabled" sort before the site
    files = {**base.base_files(), "/etc/nginx/sites-enabled/default": DEBIAN_DEFAULT_SITE,
             "/etc/nginx/modules-enabled/60-jitsi-meet.conf": TURN_STREAM}
    got = _status(files, *WEB_CHECKS)
    for check_id in WEB_CHECKS:
        assert got[check_id][0] is Status.PASS, (check_id, got[check_id])


def test_the_2020_turn_multiplexing_site_on_4444_is_an_https_site() -> None:
    files = base.apply(base.base_files(), (
        (base.NGINX, "listen 443 ssl http2;", "listen 4444 ssl http2;"),
        (base.NGINX, "listen [::]:443 ssl http2;", "listen [::]:4444 ssl http2;"),
    ))
    files["/etc/nginx/modules-enabled/60-jitsi-meet.conf"] = TURN_STREAM
    got = _status(files, "web.http_redirect", "web.tls_configuration")
    assert got["web.http_redirect"][0] is Status.PASS, got
    assert got["web.tls_configuration"][0] is Status.PASS, got


def _docker(*lines: str) -> dict[str, str]:
    return {base.ENV: base.ENV_TEXT + "".join(f"{line}\n" for line in lines), base.COMPOSE: base.COMPOSE_TEXT}


def test_the_docker_web_image_turns_server_tokens_off() -> None:
    # web/rootfs/defaults/nginx.conf has `server_tokens off;` in its http block, unconditionally
    status, message = _status(_docker(), "web.server_tokens")["web.server_tokens"]
    assert status is Status.PASS, message


def test_an_empty_docker_flag_takes_the_image_default() -> None:
    # `ENABLE_HSTS=` reaches the container as "", and `{{ .Env.ENABLE_HSTS | default "1" | toBool }}` is true
    got = _status(_docker("ENABLE_HSTS="), "web.hsts", "web.hsts_max_age")
    assert got["web.hsts"][0] is Status.PASS, got
    assert got["web.hsts_max_age"][0] is Status.PASS, got


def test_a_docker_flag_spelled_no_is_true_for_the_images_tobool() -> None:
    # jitsi/tpl's toBool: not one of Go's ParseBool spellings and not empty -> true
    files = _docker("AUTH_TYPE=jwt", "JWT_APP_ID=example-app", "JWT_APP_SECRET=" + base.JWT_SECRET, "JWT_ALLOW_EMPTY=no")
    files[base.ENV] = files[base.ENV].replace("AUTH_TYPE=internal\n", "")
    status, message = _status(files, "jwt.empty_token_refused")["jwt.empty_token_refused"]
    assert status is Status.FAIL, message
    assert _status(_docker("ENABLE_P2P=False"), "web.ice_transport_policy")["web.ice_transport_policy"][0] is Status.PASS


def _optional_tokens(*, wait_for_host: bool) -> dict[str, str]:
    files = base.apply(base.base_files(), base.JWT_SITE_EDITS)
    files = base.apply(files, ((base.PROSODY_SITE, "allow_empty_token = false", "allow_empty_token = true"),))
    if not wait_for_host:
        files = base.apply(files, ((base.PROSODY_SITE, '"muc_wait_for_host";\n', ""),))
    return files


def test_optional_tokens_without_wait_for_host_let_anyone_create_rooms() -> None:
    # token_util: a session without a token passes process_and_verify_token and verify_room when
    # allow_empty_token is true, whatever app_id says
    ids = ("auth.room_creation_restricted", "auth.secure_domain", "rooms.wait_for_host")
    got = _status(_optional_tokens(wait_for_host=False), *ids)
    for check_id in ids:
        assert got[check_id][0] is Status.FAIL, (check_id, got[check_id])
    assert "allow_empty_token" in got["auth.room_creation_restricted"][1]


def test_optional_tokens_with_wait_for_host_keep_room_creation_restricted() -> None:
    ids = ("auth.room_creation_restricted", "auth.secure_domain", "rooms.wait_for_host")
    got = _status(_optional_tokens(wait_for_host=True), *ids)
    for check_id in ids:
        assert got[check_id][0] is Status.PASS, (check_id, got[check_id])


LEGACY_JVB_ENV = "/etc/jitsi/videobridge/config"


def _legacy_jvb(apis: str) -> dict[str, str]:
    files = {path: text for path, text in base.base_files().items() if path != base.JVB}
    files[LEGACY_JVB_ENV] = f'JVB_HOSTNAME={base.D}\nJVB_PORT=5347\nJVB_OPTS="--apis={apis}"\n'
    files[base.JVB_PROPS] = ("org.jitsi.videobridge.ENABLE_REST_SHUTDOWN=true\n"
                             "org.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb\n")
    return files


def test_legacy_rest_shutdown_on_a_public_rest_api_fails() -> None:
    # the 2020 scalable example: --apis=rest with ENABLE_REST_SHUTDOWN=true in sip-communicator.properties
    status, message = _status(_legacy_jvb("rest,xmpp"), "jvb.shutdown_api")["jvb.shutdown_api"]
    assert status is Status.FAIL, message


def test_legacy_rest_shutdown_without_the_rest_api_passes() -> None:
    status, message = _status(_legacy_jvb(","), "jvb.shutdown_api")["jvb.shutdown_api"]
    assert status is Status.PASS and "not served" in message, message


def test_legacy_rest_shutdown_beside_a_jvb_conf_counts() -> None:
    # an upgraded host keeps sip-communicator.properties next to the jvb.conf the postinst created
    files = base.base_files()
    files[base.JVB] = files[base.JVB].replace("      host = 127.0.0.1", "      host = 0.0.0.0")
    files[base.JVB_PROPS] = "org.jitsi.videobridge.ENABLE_REST_SHUTDOWN=true\n"
    status, message = _status(files, "jvb.shutdown_api")["jvb.shutdown_api"]
    assert status is Status.FAIL, message


def test_stapling_off_with_the_certificate_out_of_the_evidence_is_unclear() -> None:
    # Jitsi's self-signed certificate and Let's Encrypt's since 2025 name no OCSP responder: nothing to staple
    files = base.apply(base.base_files(), ((base.NGINX, "    ssl_stapling on;\n    ssl_stapling_verify on;\n", ""),))
    del files[base.CERT]
    status, message = _status(files, "web.ocsp_stapling")["web.ocsp_stapling"]
    assert status is Status.UNCLEAR and "OCSP responder" in message, message
    status, message = _status(_docker(), "web.ocsp_stapling")["web.ocsp_stapling"]
    assert status is Status.UNCLEAR, message


def _cross_domain(files: dict[str, str], prosody: str | None) -> tuple[Status, str]:
    packages = {"prosody": prosody} if prosody else None
    found = base.findings(base.snapshot(files, packages=packages))
    return found["xmpp.cross_domain"].status, found["xmpp.cross_domain"].message


def test_cross_domain_bosh_false_is_ignored_by_prosody_0_12() -> None:
    # prosody 0.12 deprecated cross_domain_bosh: mod_bosh declares cors = { enabled = true } and mod_http
    # reflects any Origin unless http_cors_override / access_control_allow_origins says otherwise
    files = base.base_files()
    status, message = _cross_domain(files, "13.0.1-1~bookworm1")
    assert status is Status.FAIL and "every origin" in message, message
    assert _cross_domain(files, "0.11.9-2")[0] is Status.PASS
    assert _cross_domain(files, None)[0] is Status.UNCLEAR


def test_cors_override_restricts_prosody_0_12() -> None:
    override = ("http_cors_override = {\n    bosh = { enabled = false; };\n"
                "    websocket = { enabled = false; };\n}\ncross_domain_bosh = false;")
    files = base.apply(base.base_files(), ((base.PROSODY_SITE, "cross_domain_bosh = false;", override),))
    status, message = _cross_domain(files, "13.0.1-1~bookworm1")
    assert status is Status.PASS, message


def test_docker_prosody_images_since_0_12_send_cors_for_every_origin() -> None:
    status, message = _status(_docker(), "xmpp.cross_domain")["xmpp.cross_domain"]  # stable-10314
    assert status is Status.FAIL, message
    old = {base.ENV: base.ENV_TEXT.replace("stable-10314", "stable-6865"), base.COMPOSE: base.COMPOSE_TEXT}
    assert _status(old, "xmpp.cross_domain")["xmpp.cross_domain"][0] is Status.PASS


def test_several_prosody_images_are_judged_by_the_one_that_decides_not_by_path_order() -> None:
    """Compose files of several deployments: a 0.12+ prosody image anywhere fails the check, an image of
    unknown version keeps it from passing, whatever directory sorts first."""
    old = base.COMPOSE_TEXT.replace("${JITSI_IMAGE_VERSION:-unstable}", "stable-6865")
    for other, expected in (("stable-10314", Status.FAIL), ("our-build", Status.UNCLEAR), ("stable-6865", Status.PASS)):
        tree = {base.ENV: base.ENV_TEXT.replace("stable-10314", "stable-6865"), "/a/docker-compose.yml": old,
                "/z/docker-compose.yml": base.COMPOSE_TEXT.replace("${JITSI_IMAGE_VERSION:-unstable}", other)}
        status, message = _status(tree, "xmpp.cross_domain")["xmpp.cross_domain"]
        assert status is expected, (other, message)
