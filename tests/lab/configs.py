
"""Configuration files of the Debian-packaged (quick-install) variants: hardened, debian-default,
legacy-2020 and jwt. Written for the lab after the formats of jitsi-meet's Debian templates, jicofo's
and jitsi-videobridge's HOCON, the 2020 sip-communicator.properties and jitsi-meet-turnserver."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from . import common
from .model import Listener
from .plan import DaemonSpec, FileSpec, HostContext, Plan
from .variants import ALL_IN_ONE, Variant

MOZILLA_INTERMEDIATE = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384"
)
# The pre-2020-05 template's list. OpenSSL 3 only offers TLS 1.0/1.1 at security level 0, which a
# 2020 host on OpenSSL 1.1.1 did not need; the suffix keeps the legacy protocols really on offer.
LEGACY_CIPHERS = (
    "EECDH+ECDSA+AESGCM:EECDH+aRSA+AESGCM:EECDH+ECDSA+SHA256:EECDH+aRSA+SHA256:EECDH+ECDSA+SHA384:"
    "EECDH+ECDSA+SHA256:EECDH+aRSA+SHA384:EDH+aRSA+AESGCM:EDH+aRSA+SHA256:EDH+aRSA:EECDH:!aNULL:!eNULL:"
    "!MEDIUM:!LOW:!3DES:!MD5:!EXP:!PSK:!SRP:!DSS:!RC4:!SEED:@SECLEVEL=0"
)
JITSI_STUN = "meet-jit-si-turnrelay.jitsi.net:443"

JITSI_META_VERSION = {"2025": "2.0.10655-1", "2020": "2.0.4627-1"}
JITSI_WEB_VERSION = {"2025": "1.0.8936-1", "2020": "1.0.4127-1"}
JICOFO_VERSION = {"2025": "1.0-1167-1", "2020": "1.0-589-1"}
JVB_VERSION = {"2025": "2.3-260-gea11cd36c-1", "2020": "2.1-202-g5f9377b9b-1"}
# coturn's package record on hosts that run it (the daemon is the lab machine's): Debian 10's for a 2020
# host, Debian 12's for today's defaults, and a release with the loopback-bypass fixes for the hardened host
COTURN_VERSION = {"2025": "4.6.1-1", "2020": "4.5.1.1-1.1"}
COTURN_PATCHED = "4.9.0-1"


def random_secret(n: int = 16) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


@dataclass(frozen=True)
class Profile:
    era: str  # "2025" or "2020": which templates the host was installed from
    main_auth: str  # authentication of the main VirtualHost
    guest: bool  # secure domain with guest.<domain>
    auth_storage: str  # auth.<domain> accounts: internal_hashed or internal_plain
    restrict_room_creation: bool
    lobby: bool
    legacy_focus_component: bool  # XEP-0114 focus component with component_secret
    prosody_local_only: bool  # c2s/http on 127.0.0.1, no https, no s2s
    prosody_http_public: bool  # BOSH port 5280 on every interface (prosody 0.11 default)
    jicofo_rest_host: str
    jvb_private_host: str
    jvb_public: tuple[str, int] | None  # colibri websockets (JVB public HTTP)
    hardened_web: bool
    ssh_level: str


PROFILES = {
    "hardened": Profile(
        "2025",
        "internal_hashed",
        True,
        "internal_hashed",
        True,
        True,
        False,
        True,
        False,
        "127.0.0.1",
        "127.0.0.1",
        ("127.0.0.1", 9090),
        True,
        "hardened",
    ),
    "debian": Profile(
        "2025",
        "jitsi-anonymous",
        False,
        "internal_hashed",
        True,
        True,
        False,
        False,
        False,
        "127.0.0.1",
        "127.0.0.1",
        ("0.0.0.0", 9090),
        False,
        "debian",
    ),
    "jwt": Profile(
        "2025",
        "token",
        False,
        "internal_hashed",
        True,
        True,
        False,
        False,
        False,
        "127.0.0.1",
        "127.0.0.1",
        ("0.0.0.0", 9090),
        False,
        "debian",
    ),
    "legacy2020": Profile(
        "2020",
        "anonymous",
        False,
        "internal_plain",
        False,
        True,
        True,
        False,
        True,
        "0.0.0.0",
        "0.0.0.0",
        None,
        False,
        "legacy",
    ),
}


# --------------------------------------------------------------------------------------------- prosody
def prosody_main_cfg(debian_default: str, p: Profile) -> str:
    """Debian's /etc/prosody/prosody.cfg.lua as installed, with the admin's global edits (hardened)."""
    text = debian_default
    if 'Include "conf.d/*.cfg.lua"' not in text:
        text += '\nInclude "conf.d/*.cfg.lua"\n'
    if not p.prosody_local_only:
        return text
    block = (
        "-- Site hardening: XMPP only for the local jicofo/JVB, no federation.\n"
        'interfaces = { "127.0.0.1" }\n'
        'c2s_interfaces = { "127.0.0.1" }\n'
        'http_interfaces = { "127.0.0.1" }\n'
        "https_ports = { }\n"
    )
    s2s_line = '\t-- "s2s"; -- Handle server-to-server connections'
    if s2s_line in text:  # what an admin does: un-comment s2s in Debian's modules_disabled
        text = text.replace(s2s_line, s2s_line.replace('-- "s2s"', '"s2s"'), 1)
    else:
        block += 'modules_disabled = { "s2s" }\n'
    block += "\n"
    marker = 'VirtualHost "localhost"'
    if marker in text:
        return text.replace(marker, block + marker, 1)
    return block + text


def prosody_host_cfg(p: Profile, d: str, s: dict[str, str]) -> str:
    out: list[str] = []
    w = out.append
    if p.era == "2025":
        w("-- We need this for prosody 13.0\ncomponent_admins_as_room_owners = true\n")
    w('plugin_paths = { "/usr/share/jitsi-meet/prosody-plugins/" }\n')
    w(
        f"-- domain mapper options, must at least have domain base set to use the mapper\n"
        f'muc_mapper_domain_base = "{d}";\n'
    )
    if p.era == "2020":
        w(
            f'turncredentials_secret = "{s["turn"]}";\n\nturncredentials = {{\n'
            f'  {{ type = "stun", host = "{d}", port = "4446" }},\n'
            f'  {{ type = "turn", host = "{d}", port = "4446", transport = "udp" }},\n'
            f'  {{ type = "turns", host = "{d}", port = "443", transport = "tcp" }}\n}};\n'
        )
        w("cross_domain_bosh = false;\nconsider_bosh_secure = true;\n")
        w(
            "-- BOSH on every interface, as prosody 0.11 (which this host ran in 2020) did by default\n"
            'http_interfaces = { "*", "::" }\n'
        )
    else:
        w(
            f'external_service_secret = "{s["turn"]}";\nexternal_services = {{\n'
            f'     {{ type = "stun", host = "{d}", port = 3478 }},\n'
            f'     {{ type = "turn", host = "{d}", port = 3478, transport = "udp", secret = true, ttl = 86400, '
            f'algorithm = "turn" }},\n'
            f'     {{ type = "turns", host = "{d}", port = 5349, transport = "tcp", secret = true, ttl = 86400, '
            f'algorithm = "turn" }}\n}};\n'
        )
        w("cross_domain_bosh = false;\nconsider_bosh_secure = true;\nconsider_websocket_secure = true;\n")
        if p.prosody_local_only:
            w("https_ports = { };\n")
        else:
            w("-- https_ports = { }; -- Remove this line to prevent listening on port 5284\n")
    w(f'\nssl = {{\n    protocol = "tlsv1_2+";\n    ciphers = "{MOZILLA_INTERMEDIATE}"\n}}\n')
    if p.era == "2025":
        w(f'\nunlimited_jids = {{\n    "focus@auth.{d}",\n    "jvb@auth.{d}"\n}}\n')
    # --- main virtual host
    w(f'\nVirtualHost "{d}"\n    authentication = "{p.main_auth}"\n')
    if p.main_auth == "token":
        w(
            f'    app_id = "{s["app_id"]}"\n    app_secret = "{s["app_secret"]}"\n'
            "    allow_empty_token = false\n"
            f'    asap_accepted_issuers = {{ "{s["app_id"]}" }}\n'
            '    asap_accepted_audiences = { "jitsi" }\n'
        )
    else:
        w(
            "    -- Properties below are modified by jitsi-meet-tokens package config\n"
            '    -- and authentication above is switched to "token"\n'
            '    --app_id="example_app_id"\n    --app_secret="example_app_secret"\n'
        )
    w(
        f'    ssl = {{\n        key = "/etc/prosody/certs/{d}.key";\n'
        f'        certificate = "/etc/prosody/certs/{d}.crt";\n    }}\n'
    )
    if p.era == "2020":
        w(
            f'    speakerstats_component = "speakerstats.{d}"\n'
            f'    conference_duration_component = "conferenceduration.{d}"\n'
            '    modules_enabled = {\n        "bosh";\n        "pubsub";\n        "ping";\n'
            '        "speakerstats";\n        "turncredentials";\n        "conference_duration";\n'
            '        "muc_lobby_rooms";\n    }\n'
        )
    else:
        w(
            '    modules_enabled = {\n        "bosh";\n        "websocket";\n        "smacks";\n'
            '        "ping";\n        "external_services";\n        "features_identity";\n'
            '        "conference_duration";\n        "muc_lobby_rooms";\n        "muc_breakout_rooms";\n'
            "    }\n"
        )
    w("    c2s_require_encryption = false\n")
    w(f'    lobby_muc = "lobby.{d}"\n')
    if p.era == "2025":
        w(f'    breakout_rooms_muc = "breakout.{d}"\n')
    w(f'    main_muc = "conference.{d}"\n')
    if p.guest:
        w(
            f'\nVirtualHost "guest.{d}"\n    authentication = "jitsi-anonymous"\n'
            "    c2s_require_encryption = false\n"
            '    modules_enabled = {\n        "bosh";\n        "websocket";\n        "smacks";\n'
            '        "ping";\n    }\n'
        )
    # --- MUCs
    w(f'\nComponent "conference.{d}" "muc"\n')
    if p.restrict_room_creation:
        w("    restrict_room_creation = true\n")
    w('    storage = "memory"\n    modules_enabled = {\n')
    if p.era == "2025":
        w('        "muc_hide_all";\n')
    w('        "muc_meeting_id";\n        "muc_domain_mapper";\n')
    if p.main_auth == "token":
        w('        "token_verification";\n')
    else:
        w('        --"token_verification";\n')
    if p.era == "2025":
        w('        "muc_rate_limit";\n        "muc_password_whitelist";\n')
    w(f'    }}\n    admins = {{ "focus@auth.{d}" }}\n')
    if p.era == "2025":
        w(f'    muc_password_whitelist = {{\n        "focus@auth.{d}"\n    }}\n')
    w("    muc_room_locking = false\n    muc_room_default_public_jids = true\n")
    if p.era == "2025":
        w(
            f'\nComponent "breakout.{d}" "muc"\n    restrict_room_creation = true\n    storage = "memory"\n'
            '    modules_enabled = {\n        "muc_hide_all";\n        "muc_meeting_id";\n'
            '        "muc_domain_mapper";\n        "muc_rate_limit";\n        "polls";\n    }\n'
            f'    admins = {{ "focus@auth.{d}" }}\n'
            "    muc_room_locking = false\n    muc_room_default_public_jids = true\n"
        )
    w(
        f'\n-- internal muc component\nComponent "internal.auth.{d}" "muc"\n    storage = "memory"\n'
        "    modules_enabled = {\n"
    )
    if p.era == "2025":
        w('        "muc_hide_all";\n')
    w(
        '        "ping";\n    }\n'
        f'    admins = {{ "focus@auth.{d}", "jvb@auth.{d}" }}\n'
        "    muc_room_locking = false\n    muc_room_default_public_jids = true\n"
    )
    w(f'\nVirtualHost "auth.{d}"\n')
    if p.era == "2025":
        w('    modules_enabled = {\n        "limits_exception";\n        "smacks";\n    }\n')
    w(
        f'    ssl = {{\n        key = "/etc/prosody/certs/auth.{d}.key";\n'
        f'        certificate = "/etc/prosody/certs/auth.{d}.crt";\n    }}\n'
    )
    w(f'    authentication = "{p.auth_storage}"\n')
    if p.era == "2025":
        w(
            f'\nVirtualHost "recorder.{d}"\n    modules_enabled = {{\n      "smacks";\n    }}\n'
            '    authentication = "internal_hashed"\n'
        )
    if p.legacy_focus_component:
        w(f'\nComponent "focus.{d}"\n    component_secret = "{s["focus_component"]}"\n')
    else:
        w(
            "\n-- Proxy to jicofo's user JID, so that it doesn't have to register as a component.\n"
            f'Component "focus.{d}" "client_proxy"\n    target_address = "focus@auth.{d}"\n'
        )
    w(f'\nComponent "speakerstats.{d}" "speakerstats_component"\n    muc_component = "conference.{d}"\n')
    if p.era == "2020":
        w(
            f'\nComponent "conferenceduration.{d}" "conference_duration_component"\n'
            f'    muc_component = "conference.{d}"\n'
        )
    else:
        w(f'\nComponent "endconference.{d}" "end_conference"\n    muc_component = "conference.{d}"\n')
        w(f'\nComponent "avmoderation.{d}" "av_moderation_component"\n    muc_component = "conference.{d}"\n')
    if p.lobby:
        w(
            f'\nComponent "lobby.{d}" "muc"\n    storage = "memory"\n    restrict_room_creation = true\n'
            "    muc_room_locking = false\n    muc_room_default_public_jids = true\n"
        )
        if p.era == "2025":
            w('    modules_enabled = {\n        "muc_hide_all";\n        "muc_rate_limit";\n    }\n')
    if p.era == "2025":
        w(
            f'\nComponent "metadata.{d}" "room_metadata_component"\n    muc_component = "conference.{d}"\n'
            f'    breakout_rooms_component = "breakout.{d}"\n'
        )
        w(f'\nComponent "polls.{d}" "polls_component"\n')
    return "".join(out)


def prosody_listeners(p: Profile, address: str) -> list[Listener]:
    if p.prosody_local_only:
        return [Listener("tcp", "127.0.0.1", 5222, "prosody"), Listener("tcp", "127.0.0.1", 5280, "prosody")]
    ls = [
        Listener("tcp", "0.0.0.0", 5222, "prosody"),
        Listener("tcp", "0.0.0.0", 5269, "prosody"),
        Listener("tcp", "0.0.0.0" if p.prosody_http_public else "127.0.0.1", 5280, "prosody"),
        Listener("tcp", "0.0.0.0", 5281, "prosody"),
    ]
    if p.legacy_focus_component:
        ls.append(Listener("tcp", "127.0.0.1", 5347, "prosody"))
    return ls


# ----------------------------------------------------------------------------------------------- nginx
def nginx_site(p: Profile, d: str) -> str:
    modern = p.era == "2025"
    out: list[str] = []
    w = out.append
    w("server_names_hash_bucket_size 64;\n\n")
    if modern:
        w(
            "types {\n# nginx's default mime.types doesn't include a mapping for wasm or wav.\n"
            "    application/wasm     wasm;\n    audio/wav            wav;\n}\n"
        )
    w("upstream prosody {\n    zone upstreams 64K;\n    server 127.0.0.1:5280;\n    keepalive 2;\n}\n")
    if p.jvb_public:
        w(
            f"upstream jvb1 {{\n    zone upstreams 64K;\n    server 127.0.0.1:{p.jvb_public[1]};\n"
            "    keepalive 2;\n}\n"
        )
    w(f"server {{\n    listen 80;\n    listen [::]:80;\n    server_name {d};\n\n")
    if p.hardened_web:
        w("    server_tokens off;\n")
    w(
        '    location ^~ /.well-known/acme-challenge/ {\n        default_type "text/plain";\n'
        "        root         /usr/share/jitsi-meet;\n    }\n"
        "    location = /.well-known/acme-challenge/ {\n        return 404;\n    }\n"
        "    location / {\n        return 301 https://$host$request_uri;\n    }\n}\n"
    )
    http2 = " http2" if modern else ""
    w(f"server {{\n    listen 443 ssl{http2};\n    listen [::]:443 ssl{http2};\n    server_name {d};\n\n")
    if modern:
        w(
            "    # Mozilla Guideline v5.4, nginx 1.17.7, OpenSSL 1.1.1d, intermediate configuration\n"
            f"    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_ciphers {MOZILLA_INTERMEDIATE};\n"
            "    ssl_prefer_server_ciphers off;\n\n"
            "    ssl_session_timeout 1d;\n    ssl_session_cache shared:SSL:10m;  # about 40000 sessions\n"
            "    ssl_session_tickets off;\n\n"
        )
    else:
        w(
            f"    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n    ssl_prefer_server_ciphers on;\n"
            f'    ssl_ciphers "{LEGACY_CIPHERS}";\n\n'
        )
    if p.hardened_web:
        w(
            "    ssl_ecdh_curve X25519:prime256v1:secp384r1;\n    server_tokens off;\n"
            '    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;\n'
            '    add_header X-Content-Type-Options "nosniff" always;\n'
            '    add_header Referrer-Policy "strict-origin-when-cross-origin" always;\n'
            '    add_header X-Frame-Options "SAMEORIGIN" always;\n'
        )
    elif modern:
        w('    add_header Strict-Transport-Security "max-age=63072000" always;\n')
    else:
        w('    add_header Strict-Transport-Security "max-age=31536000";\n')
    if modern:
        w(
            '    set $prefix "";\n    set $custom_index "";\n'
            f"    set $config_js_location /etc/jitsi/meet/{d}-config.js;\n\n"
        )
    w(
        f"    ssl_certificate /etc/jitsi/meet/{d}.crt;\n    ssl_certificate_key /etc/jitsi/meet/{d}.key;\n\n"
        "    root /usr/share/jitsi-meet;\n\n"
        "    # ssi on with javascript for multidomain variables in config.js\n"
        "    ssi on;\n    ssi_types application/x-javascript application/javascript;\n\n"
        "    index index.html index.htm;\n    error_page 404 /static/404.html;\n\n"
        "    gzip on;\n    gzip_types text/plain text/css application/javascript application/json;\n"
        "    gzip_vary on;\n\n"
    )
    cfg_js = "$config_js_location" if modern else f"/etc/jitsi/meet/{d}-config.js"
    w(
        f"    location = /config.js {{\n        alias {cfg_js};\n    }}\n\n"
        "    location = /external_api.js {\n        alias /usr/share/jitsi-meet/libs/external_api.min.js;\n"
        "    }\n\n"
    )
    w(
        "    # ensure all static content can always be found first\n"
        "    location ~ ^/(libs|css|static|images|fonts|lang|sounds|.well-known)/(.*)$\n    {\n"
        "        add_header 'Access-Control-Allow-Origin' '*';\n"
        "        alias /usr/share/jitsi-meet/$1/$2;\n\n"
        "        # cache all versioned files\n        if ($arg_v) {\n            expires 1y;\n        }\n    }\n\n"
    )
    if modern:
        w(
            "    # BOSH\n    location = /http-bind {\n"
            "        proxy_pass http://prosody/http-bind?prefix=$prefix&$args;\n"
            "        proxy_http_version 1.1;\n        proxy_set_header X-Forwarded-For $remote_addr;\n"
            '        proxy_set_header Host $http_host;\n        proxy_set_header Connection "";\n    }\n\n'
            "    # xmpp websockets\n    location = /xmpp-websocket {\n"
            "        proxy_pass http://prosody/xmpp-websocket?prefix=$prefix&$args;\n"
            "        proxy_http_version 1.1;\n        proxy_set_header Upgrade $http_upgrade;\n"
            '        proxy_set_header Connection "upgrade";\n        proxy_set_header Host $http_host;\n'
            "        tcp_nodelay on;\n    }\n\n"
        )
    else:
        w(
            "    # BOSH\n    location = /http-bind {\n        proxy_pass http://prosody/http-bind;\n"
            "        proxy_set_header X-Forwarded-For $remote_addr;\n"
            "        proxy_set_header Host $http_host;\n    }\n\n"
        )
    if p.jvb_public:
        w(
            "    # colibri (JVB) websockets for jvb1\n    location ~ ^/colibri-ws/default-id/(.*) {\n"
            "        proxy_pass http://jvb1/colibri-ws/default-id/$1$is_args$args;\n"
            "        proxy_http_version 1.1;\n        proxy_set_header Upgrade $http_upgrade;\n"
            '        proxy_set_header Connection "upgrade";\n        tcp_nodelay on;\n    }\n\n'
        )
    w(
        "    location ~ ^/conference-request/v1(\\/.*)?$ {\n"
        "        proxy_pass http://127.0.0.1:8888/conference-request/v1$1;\n"
        '        add_header "Cache-Control" "no-cache, no-store";\n'
        "        add_header 'Access-Control-Allow-Origin' '*';\n    }\n\n"
    )
    if modern:
        w(
            '    location ~ ^/([^/?&:\'"]+)$ {\n        set $roomname "$1";\n'
            "        try_files $uri @root_path;\n    }\n\n"
            "    location @root_path {\n        rewrite ^/(.*)$ /$custom_index break;\n    }\n\n"
            '    location ~ ^/([^/?&:\'"]+)/config.js$\n    {\n        set $subdomain "$1.";\n'
            '        set $subdir "$1/";\n\n        alias $config_js_location;\n    }\n\n'
        )
    else:
        w(
            "    location ~ ^/([a-zA-Z0-9=\\?]+)$ {\n        rewrite ^/(.*)$ / break;\n    }\n\n"
            "    location @root_path {\n        rewrite ^/(.*)$ / break;\n    }\n\n"
        )
    w(
        "    # BOSH for subdomains\n    location ~ ^/([^/?&:'\"]+)/http-bind {\n"
        '        set $subdomain "$1.";\n        set $subdir "$1/";\n'
    )
    if modern:
        w('        set $prefix "$1";\n')
    w(
        "\n        rewrite ^/(.*)$ /http-bind;\n    }\n\n"
        "    # Anything that didn't match above, and isn't a real file, assume it's a room name and "
        'redirect to /\n    location ~ ^/([^/?&:\'"]+)/(.*)$ {\n        set $subdomain "$1.";\n'
        '        set $subdir "$1/";\n        rewrite ^/([^/?&:\'"]+)/(.*)$ /$2;\n    }\n}\n'
    )
    return "".join(out)


# ------------------------------------------------------------------------------------------- config.js
def config_js(p: Profile, d: str, s: dict[str, str]) -> str:
    out: list[str] = []
    w = out.append
    if p.era == "2020":
        w(
            "/* eslint-disable no-unused-vars, no-var */\n\nvar config = {\n    // Connection\n    //\n\n"
            f"    hosts: {{\n        // XMPP domain.\n        domain: '{d}',\n\n"
            "        // When using authentication, domain for guest users.\n"
            "        // anonymousdomain: 'guest.example.com',\n\n"
            f"        // XMPP MUC domain. FIXME: use XEP-0030 to discover it.\n        muc: 'conference.{d}'\n"
            "    },\n\n"
            f"    // BOSH URL. FIXME: use XEP-0156 to discover it.\n    bosh: '//{d}/http-bind',\n\n"
            "    // Websocket URL\n    // websocket: 'wss://jitsi-meet.example.com/xmpp-websocket',\n\n"
            "    clientNode: 'http://jitsi.org/jitsimeet',\n\n"
            "    testing: {\n        p2pTestMode: false\n    },\n\n"
            "    enableNoAudioDetection: true,\n    enableNoisyMicDetection: true,\n\n"
            "    // Enabling the statistics module and sending them to callstats.io\n"
            f"    callStatsID: 'jitsi-lab-{d.split('.')[1]}',\n    callStatsSecret: '{s['callstats']}',\n\n"
            "    enableWelcomePage: true,\n\n"
            "    p2p: {\n        enabled: true,\n        stunServers: [\n"
            "            { urls: 'stun:meet-jit-si-turnrelay.jitsi.net:443' }\n        ],\n"
            "        preferH264: true\n    },\n\n"
            "    analytics: {\n        // googleAnalyticsTrackingId: 'your-tracking-id-UA-123456-1'\n    },\n\n"
            "    makeJsonParserHappy: 'even if last key had a trailing comma'\n};\n"
        )
        return "".join(out)
    w(
        "/* eslint-disable comma-dangle, no-unused-vars, no-var, prefer-template, vars-on-top */\n\n"
        'var subdir = \'<!--# echo var="subdir" default="" -->\';\n'
        'var subdomain = \'<!--# echo var="subdomain" default="" -->\';\n\n'
        "if (subdomain) {\n    subdomain = subdomain.substr(0, subdomain.length - 1).split('.')\n"
        "        .join('_')\n        .toLowerCase() + '.';\n}\n\n"
        "// In case of no ssi provided by the webserver, use empty strings\n"
        "if (subdir.startsWith('<!--')) {\n    subdir = '';\n}\n"
        "if (subdomain.startsWith('<!--')) {\n    subdomain = '';\n}\n\n"
        "var enableJaaS = false;\n\n"
        "var config = {\n    // Connection\n    //\n\n    hosts: {\n"
        f"        // XMPP domain.\n        domain: '{d}',\n\n"
    )
    if p.guest:
        w(
            f"        // When using authentication, domain for guest users.\n        anonymousdomain: 'guest.{d}',\n\n"
        )
    else:
        w(
            "        // When using authentication, domain for guest users.\n"
            "        // anonymousdomain: 'guest.example.com',\n\n"
        )
    w(
        f"        // XMPP MUC domain. FIXME: use XEP-0030 to discover it.\n"
        f"        muc: 'conference.' + subdomain + '{d}',\n    }},\n\n"
        f"    // BOSH URL. FIXME: use XEP-0156 to discover it.\n"
        f"    bosh: 'https://{d}/' + subdir + 'http-bind',\n\n"
        f"    // Websocket URL (XMPP)\n    websocket: 'wss://{d}/' + subdir + 'xmpp-websocket',\n\n"
    )
    if p.hardened_web:
        w(
            "    requireDisplayName: true,\n    prejoinConfig: {\n        enabled: true,\n    },\n"
            "    enableInsecureRoomNameWarning: true,\n    disableThirdPartyRequests: true,\n"
            "    gravatar: {\n        disabled: true,\n    },\n"
            "    localRecording: {\n        notifyAllParticipants: true,\n    },\n"
            "    p2p: {\n        enabled: true,\n        stunServers: [\n"
            f"            {{ urls: 'stun:{d}:3478' }},\n        ],\n    }},\n"
            "    analytics: {\n        disabled: true,\n        rtcstatsEnabled: false,\n    },\n"
        )
    else:
        w(
            "    // Enables the welcome page.\n    // welcomePage: {\n    //     disabled: false,\n    // },\n\n"
            "    // Require users to always specify a display name.\n    // requireDisplayName: true,\n\n"
            "    // disableThirdPartyRequests: false,\n\n"
            "    p2p: {\n        // Enables peer to peer mode.\n        enabled: true,\n\n"
            "        // The STUN servers that will be used in the peer to peer connections\n"
            "        stunServers: [\n            // { urls: 'stun:jitsi-meet.example.com:3478' },\n"
            "            { urls: 'stun:meet-jit-si-turnrelay.jitsi.net:443' },\n        ],\n    },\n\n"
            "    analytics: {\n        // True if the analytics should be disabled\n        // disabled: false,\n"
            "    },\n"
        )
    if p.main_auth == "token":
        w(
            f"\n    // Where users without a token are sent to get one.\n"
            f"    tokenAuthUrl: 'https://auth.{d.split('.', 1)[1]}/login?room={{room}}',\n"
        )
    w(
        "\n    // e2ee: {\n    //   labels,\n    //   externallyManagedKey: false,\n    //   disabled: false,\n"
        "    // },\n};\n\n"
        "/* eslint-enable no-unused-vars, no-var */\n"
    )
    return "".join(out)


# --------------------------------------------------------------------------------------- jicofo / jvb
def java_sys_props(home: str, config_file: str | None = None) -> str:
    """The JAVA_SYS_PROPS line of /etc/jitsi/{jicofo,videobridge}/config as the packages write it (with
    -Dconfig.file first since the HOCON era)."""
    first = f"-Dconfig.file={config_file} " if config_file else ""
    return (
        f'JAVA_SYS_PROPS="{first}-Dnet.java.sip.communicator.SC_HOME_DIR_LOCATION=/etc/jitsi '
        f"-Dnet.java.sip.communicator.SC_HOME_DIR_NAME={home} "
        "-Dnet.java.sip.communicator.SC_LOG_DIR_LOCATION=/var/log/jitsi "
        f'-Djava.util.logging.config.file=/etc/jitsi/{home}/logging.properties"\n'
    )


def jicofo_conf(p: Profile, d: str, s: dict[str, str]) -> str:
    out = [
        "# Jicofo HOCON configuration. See reference.conf in /usr/share/jicofo/jicofo.jar about\n"
        "# all available options and their default values.\njicofo {\n"
    ]
    w = out.append
    if p.guest:
        w(f"  authentication: {{\n    enabled: true\n    type: XMPP\n    login-url: {d}\n  }}\n")
    w(
        f"  xmpp: {{\n    client: {{\n      client-proxy: focus.{d}\n      xmpp-domain: {d}\n"
        f'      domain: auth.{d}\n      username: focus\n      password: "{s["focus"]}"\n    }}\n'
        f'    trusted-domains: [ "recorder.{d}" ]\n  }}\n'
        f'  bridge: {{\n    brewery-jid: "JvbBrewery@internal.auth.{d}"\n  }}\n'
    )
    if p.hardened_web:
        w(f'  rest: {{\n    host: "{p.jicofo_rest_host}"\n  }}\n')
    w("}\n")
    return "".join(out)


def jvb_conf(p: Profile, d: str, s: dict[str, str], stun: str) -> str:
    out = ["videobridge {\n"]
    w = out.append
    w("    http-servers {\n")
    if p.jvb_public:
        host_line = f"            host = {p.jvb_public[0]}\n" if p.hardened_web else ""
        w(f"        public {{\n{host_line}            port = {p.jvb_public[1]}\n        }}\n")
    if p.hardened_web:
        w(f"        private {{\n            host = {p.jvb_private_host}\n        }}\n")
    w("    }\n")
    if p.jvb_public:
        w(
            f'    websockets {{\n        enabled = true\n        domain = "{d}:443"\n        tls = true\n    }}\n'
        )
    w(
        "    apis {\n        xmpp-client {\n            configs {\n                shard {\n"
        '                    HOSTNAME = "localhost"\n'
        f'                    DOMAIN = "auth.{d}"\n                    USERNAME = "jvb"\n'
        f'                    PASSWORD = "{s["jvb"]}"\n'
        f'                    MUC_JIDS = "JvbBrewery@internal.auth.{d}"\n'
        f'                    MUC_NICKNAME = "{s["jvb_nick"]}"\n                }}\n            }}\n'
        "        }\n    }\n}\n"
    )
    w(
        f"ice4j {{\n    harvest {{\n        mapping {{\n            stun {{\n"
        f'                addresses = [ "{stun}" ]\n            }}\n        }}\n    }}\n}}\n'
    )
    return "".join(out)


def turnserver_conf(d: str, secret: str, address: str) -> str:
    return (
        "use-auth-secret\nkeep-address-family\n"
        # coturn ignores link-local addresses when it discovers them itself (the lab's are link-local)
        f"listening-ip={address}\nrelay-ip={address}\n"
        f"static-auth-secret={secret}\nrealm={d}\n"
        f"cert=/etc/jitsi/meet/{d}.crt\npkey=/etc/jitsi/meet/{d}.key\n"
        "no-multicast-peers\nno-cli\nno-loopback-peers\nno-tcp-relay\nno-tcp\n"
        "listening-port=3478\ntls-listening-port=5349\nno-tlsv1\nno-tlsv1_1\n"
        f"cipher-list={MOZILLA_INTERMEDIATE}\n"
        "# without it there are errors when running on Ubuntu 20.04\ndh2066\n"
        "# https://www.rtcsec.com/article/cve-2020-26262-bypass-of-coturns-access-control-protection/#further-concerns-what-else\n"
        "denied-peer-ip=0.0.0.0-0.255.255.255\ndenied-peer-ip=10.0.0.0-10.255.255.255\n"
        "denied-peer-ip=100.64.0.0-100.127.255.255\ndenied-peer-ip=127.0.0.0-127.255.255.255\n"
        "denied-peer-ip=169.254.0.0-169.254.255.255\ndenied-peer-ip=172.16.0.0-172.31.255.255\n"
        "denied-peer-ip=192.0.0.0-192.0.0.255\ndenied-peer-ip=192.0.2.0-192.0.2.255\n"
        "denied-peer-ip=192.88.99.0-192.88.99.255\ndenied-peer-ip=192.168.0.0-192.168.255.255\n"
        "denied-peer-ip=198.18.0.0-198.19.255.255\ndenied-peer-ip=198.51.100.0-198.51.100.255\n"
        "denied-peer-ip=203.0.113.0-203.0.113.255\ndenied-peer-ip=240.0.0.0-255.255.255.255\n"
        "denied-peer-ip=::1\ndenied-peer-ip=64:ff9b::-64:ff9b::ffff:ffff\n"
        "denied-peer-ip=::ffff:0.0.0.0-::ffff:255.255.255.255\ndenied-peer-ip=100::-100::ffff:ffff:ffff:ffff\n"
        "denied-peer-ip=2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff\n"
        "denied-peer-ip=2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"
        "denied-peer-ip=fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"
        "denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"
        "log-file=/var/log/turnserver.log\nsimple-log\n"
        "pidfile=/run/turnserver.pid\nuserdb=/var/lib/turn/turndb\n"
        "proc-user=turnserver\nproc-group=turnserver\n"
    )


# ----------------------------------------------------------------------------------------------- build
def build(plan: Plan, ctx: HostContext, v: Variant, debian_prosody_cfg: str) -> None:
    p = PROFILES[v.family]
    d = ctx.domain
    var = v.name
    web, prosody, jicofo, jvb = (c in v.components for c in ALL_IN_ONE)
    s: dict[str, str] = {}  # secrets of the files this host has (each canary is written somewhere)
    plain_accounts = prosody and p.auth_storage == "internal_plain"  # prosody's account files hold passwords
    if prosody or jicofo:
        # A 2020 install: the jicofo password is the well-known example value, the rest was generated.
        if p.era == "2020":
            s["focus"] = plan.weak("focuspassword")
        else:
            s["focus"] = plan.canary(var, "jicofo-password") if jicofo or plain_accounts else random_secret()
    if web and p.era == "2020":
        s["callstats"] = plan.canary(var, "callStatsSecret")
    if prosody or jvb:
        s["jvb"] = plan.canary(var, "jvb-password") if jvb or plain_accounts else random_secret()
    if prosody or v.turn:
        s["turn"] = plan.canary(var, "turn-secret")
    s["jvb_nick"] = str(__import__("uuid").uuid4())
    if p.legacy_focus_component and (prosody or jicofo):
        s["focus_component"] = plan.canary(var, "focus-component-secret")
    if p.legacy_focus_component and jvb:
        s["jvb_component"] = plan.canary(var, "jvb-component-secret")
    if p.main_auth == "token":
        s["app_id"] = "jitsi-lab-app"
        if prosody:
            s["app_secret"] = plan.canary(var, "jwt-app-secret")

    plan.xmpp_domain = d
    plan.anonymous_login = prosody and p.main_auth in ("anonymous", "jitsi-anonymous", "token")
    if jicofo or jvb:
        plan.groups += ["jitsi"]
    plan.users.update({user: ["jitsi"] for user, runs in (("jicofo", jicofo), ("jvb", jvb)) if runs})
    plan.audit_groups += [g for g, has in (("prosody", prosody), ("jitsi", jicofo or jvb), ("adm", True)) if has]

    # prosody
    if prosody:
        plan.add(
            "/etc/prosody/prosody.cfg.lua", prosody_main_cfg(debian_prosody_cfg, p), 0o640, "root", "prosody"
        )
        host_cfg = f"/etc/prosody/conf.avail/{d}.cfg.lua"
        if v.prosody_host_file_root_only:
            mode, grp = 0o600, "root"
        elif p.hardened_web:
            mode, grp = 0o640, "prosody"
        else:
            mode, grp = 0o644, "root"
        plan.add(host_cfg, prosody_host_cfg(p, d, s), mode, "root", grp)
        plan.links[f"/etc/prosody/conf.d/{d}.cfg.lua"] = f"../conf.avail/{d}.cfg.lua"
        for stem, pair in ((d, ctx.xmpp), (f"auth.{d}", ctx.xmpp_auth)):
            plan.add(f"/etc/prosody/certs/{stem}.crt", pair.cert_pem, 0o644, "root", "prosody")
            plan.add(f"/etc/prosody/certs/{stem}.key", pair.key_pem, 0o640, "root", "prosody")
        hashed = p.auth_storage == "internal_hashed"
        common.prosody_account(plan, "/var/lib/prosody", f"auth.{d}", "focus", s["focus"], hashed)
        common.prosody_account(plan, "/var/lib/prosody", f"auth.{d}", "jvb", s["jvb"], hashed)
        common.add_prosody_plugins(plan)
        plan.dir("/var/log/prosody", 0o750, "prosody", "adm")
        plan.dir("/run/prosody", 0o750, "prosody", "prosody")
        overlays: dict[str, str] = {}
        if v.prosody_host_file_root_only:
            # Prosody 0.12 refuses to run as root, so on a real host it could not read a root-only file.
            # Only prosody's own mount namespace gets a readable copy; SSH sessions see the 0600 file.
            private = f"{ctx.state_dir}/private/{d}.cfg.lua"
            plan.private.append(
                FileSpec(private, prosody_host_cfg(p, d, s).encode(), 0o400, "prosody", "prosody")
            )
            overlays[host_cfg] = private
        plan.daemons.append(
            DaemonSpec(
                "prosody",
                ["/usr/bin/prosody", "-F"],
                user="prosody",
                listeners=prosody_listeners(p, ctx.address),
                overlays=overlays,
            )
        )

    # web
    if web:
        plan.dir("/etc/jitsi", 0o755)
        plan.dir("/etc/jitsi/meet", 0o755)
        plan.add(f"/etc/jitsi/meet/{d}-config.js", config_js(p, d, s))
        plan.add(f"/etc/jitsi/meet/{d}.crt", ctx.web.cert_pem)
        plan.add(f"/etc/jitsi/meet/{d}.key", ctx.web.key_pem, 0o600 if p.hardened_web else 0o644)
        plan.add(f"/etc/nginx/sites-available/{d}.conf", nginx_site(p, d))
        plan.links[f"/etc/nginx/sites-enabled/{d}.conf"] = f"/etc/nginx/sites-available/{d}.conf"
        if p.hardened_web:
            plan.remove.append("/etc/nginx/sites-enabled/default")
        common.add_web_root(plan, d)
        plan.dir("/var/log/nginx", 0o755, "www-data", "adm")
        plan.daemons.append(
            DaemonSpec(
                "nginx",
                ["/usr/sbin/nginx", "-g", "daemon off;"],
                listeners=[Listener("tcp", "0.0.0.0", 80, "nginx"), Listener("tcp", "0.0.0.0", 443, "nginx")],
            )
        )

    # jicofo and the videobridge: real-format configs, stand-in listeners
    if jicofo or jvb:
        plan.dir("/var/log/jitsi", 0o770, "root", "jitsi")
    if jicofo:
        plan.dir("/etc/jitsi/jicofo", 0o750, "jicofo", "jitsi")
        if p.era == "2020":
            plan.add(
                "/etc/jitsi/jicofo/config",
                "# Jitsi Conference Focus settings\n# sets the host name of the XMPP server\nJICOFO_HOST=localhost\n\n"
                f"# sets the XMPP domain (default: none)\nJICOFO_HOSTNAME={d}\n\n"
                f"# sets the secret used to authenticate as an XMPP component\nJICOFO_SECRET={s['focus_component']}\n\n"
                "# sets the port to use for the XMPP component connection\nJICOFO_PORT=5347\n\n"
                f"# sets the XMPP domain name to use for XMPP user logins\nJICOFO_AUTH_DOMAIN=auth.{d}\n\n"
                "# sets the username to use for XMPP user logins\nJICOFO_AUTH_USER=focus\n\n"
                f"# sets the password to use for XMPP user logins\nJICOFO_AUTH_PASSWORD={s['focus']}\n\n"
                '# extra options to pass to the jicofo daemon\nJICOFO_OPTS=""\n\n'
                "# adds java system props that are passed to jicofo (default are for home and logging config file)\n"
                + java_sys_props("jicofo"),
                0o640,
                "jicofo",
                "jitsi",
            )
            plan.add(
                "/etc/jitsi/jicofo/sip-communicator.properties",
                f"org.jitsi.jicofo.BRIDGE_MUC=JvbBrewery@internal.auth.{d}\n"
                "org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED=true\n",
                0o640,
                "jicofo",
                "jitsi",
            )
            plan.roles.update(
                {
                    "jicofo_config": "/etc/jitsi/jicofo/config",
                    "jicofo_sip_properties": "/etc/jitsi/jicofo/sip-communicator.properties",
                }
            )
        else:
            plan.add("/etc/jitsi/jicofo/jicofo.conf", jicofo_conf(p, d, s), 0o640, "jicofo", "jitsi")
            plan.add(
                "/etc/jitsi/jicofo/config",
                "# Jitsi Conference Focus settings\n"
                "# adds java system props that are passed to jicofo (default are for home and logging config file)\n"
                + java_sys_props("jicofo", "/etc/jitsi/jicofo/jicofo.conf"),
                0o640,
                "jicofo",
                "jitsi",
            )
            plan.roles["jicofo_conf"] = "/etc/jitsi/jicofo/jicofo.conf"
        plan.add(
            "/etc/jitsi/jicofo/logging.properties",
            "handlers= java.util.logging.ConsoleHandler\n.level=INFO\n",
            0o640,
            "jicofo",
            "jitsi",
        )
        plan.daemons.append(
            common.standin_daemon(
                ctx, "jicofo", JICOFO_VERSION[p.era].rsplit("-", 1)[0], http=[(p.jicofo_rest_host, 8888)]
            )
        )
    if jvb:
        plan.dir("/etc/jitsi/videobridge", 0o750, "jvb", "jitsi")
        if p.era == "2020":
            plan.add(
                "/etc/jitsi/videobridge/config",
                "# Jitsi Videobridge settings\n\n# sets the XMPP domain (default: none)\n"
                f"JVB_HOSTNAME={d}\n\n# sets the hostname of the XMPP server (default: domain if set, localhost "
                "otherwise)\nJVB_HOST=\n\n# sets the port of the XMPP server (default: 5275)\nJVB_PORT=5347\n\n"
                f"# sets the shared secret used to authenticate to the XMPP server\nJVB_SECRET={s['jvb_component']}\n\n"
                '# extra options to pass to the JVB daemon\nJVB_OPTS="--apis=,"\n\n'
                "# adds java system props that are passed to jvb (default are for home and logging config file)\n"
                + java_sys_props("videobridge"),
                0o640,
                "jvb",
                "jitsi",
            )
            plan.add(
                "/etc/jitsi/videobridge/sip-communicator.properties",
                "org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER=true\n"
                f"org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES={JITSI_STUN}\n"
                "org.jitsi.videobridge.ENABLE_STATISTICS=true\n"
                "org.jitsi.videobridge.STATISTICS_TRANSPORT=muc\n"
                "org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=localhost\n"
                f"org.jitsi.videobridge.xmpp.user.shard.DOMAIN=auth.{d}\n"
                "org.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb\n"
                f"org.jitsi.videobridge.xmpp.user.shard.PASSWORD={s['jvb']}\n"
                f"org.jitsi.videobridge.xmpp.user.shard.MUC_JIDS=JvbBrewery@internal.auth.{d}\n"
                f"org.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME={s['jvb_nick']}\n",
                0o640,
                "jvb",
                "jitsi",
            )
            plan.roles["jvb_sip_properties"] = "/etc/jitsi/videobridge/sip-communicator.properties"
        else:
            stun = JITSI_STUN if not p.hardened_web else f"{d}:3478"
            plan.add("/etc/jitsi/videobridge/jvb.conf", jvb_conf(p, d, s, stun), 0o640, "jvb", "jitsi")
            plan.add(
                "/etc/jitsi/videobridge/config",
                "# Jitsi Videobridge settings\n\n# extra options to pass to the JVB daemon\n"
                'JVB_OPTS="--apis=,"\n\n'
                "# adds java system props that are passed to jvb (default are for home and logging config file)\n"
                + java_sys_props("videobridge", "/etc/jitsi/videobridge/jvb.conf"),
                0o640,
                "jvb",
                "jitsi",
            )
            plan.roles["jvb_conf"] = "/etc/jitsi/videobridge/jvb.conf"
        plan.add(
            "/etc/jitsi/videobridge/logging.properties",
            "handlers= java.util.logging.ConsoleHandler\n.level=INFO\n",
            0o640,
            "jvb",
            "jitsi",
        )
        jvb_http = [(p.jvb_private_host, 8080)] + ([p.jvb_public] if p.jvb_public else [])
        plan.daemons.append(
            common.standin_daemon(
                ctx,
                "jvb",
                JVB_VERSION[p.era].rsplit("-", 1)[0],
                http=jvb_http,
                udp=[("0.0.0.0", 10000)],
                tcp=[("0.0.0.0", 4443)] if p.era == "2020" else None,
            )
        )

    # coturn (jitsi-meet-turnserver)
    if v.turn:
        plan.add(
            "/etc/turnserver.conf", turnserver_conf(d, s["turn"], ctx.address), 0o640, "root", "turnserver"
        )
        plan.add(
            "/etc/default/coturn",
            "#\n# Uncomment it if you want to have the turnserver running as\n"
            "# an automatic system service daemon\n#\nTURNSERVER_ENABLED=1\n",
        )
        plan.audit_groups.append("turnserver")
        plan.roles["turnserver_conf"] = "/etc/turnserver.conf"
        plan.daemons.append(
            DaemonSpec(
                "coturn",
                ["/usr/bin/turnserver", "-c", "/etc/turnserver.conf"],
                listeners=[Listener("tcp", "*", 5349, "coturn"), Listener("udp", "*", 3478, "coturn")],
            )
        )

    # what the host says is installed
    plan.dpkg += [
        (pkg, version)
        for pkg, version, installed in (
            ("jitsi-meet", JITSI_META_VERSION[p.era], v.components == ALL_IN_ONE),
            ("jitsi-meet-web", JITSI_WEB_VERSION[p.era], web),
            ("jitsi-meet-web-config", JITSI_WEB_VERSION[p.era], web),
            ("jitsi-meet-prosody", JITSI_WEB_VERSION[p.era], prosody),
            ("jicofo", JICOFO_VERSION[p.era], jicofo),
            ("jitsi-videobridge2", JVB_VERSION[p.era], jvb),
            ("jitsi-meet-turnserver", JITSI_WEB_VERSION[p.era], v.turn),
            ("jitsi-meet-tokens", JITSI_WEB_VERSION[p.era], p.main_auth == "token" and prosody),
            ("coturn", COTURN_PATCHED if v.family == "hardened" else COTURN_VERSION[p.era], v.turn),
        )
        if installed
    ]
    if v.turn:
        plan.dpkg_drop.append("coturn")  # the lab machine's own record: the host's is the line above
    if v.components != ALL_IN_ONE:
        # A split host has nothing of a component it does not run; the lab machine's own packages (the
        # daemons every host runs) left their files in the copied /etc and their records in dpkg's status.
        if not prosody:
            plan.remove.append("/etc/prosody")
            plan.dpkg_drop.append("prosody")
        if not v.turn:
            plan.remove += ["/etc/turnserver.conf", "/etc/default/coturn"]
            plan.dpkg_drop.append("coturn")

    if prosody:
        plan.roles.update({"prosody_main": "/etc/prosody/prosody.cfg.lua", "prosody_host": host_cfg})
    if web:
        plan.roles.update(
            {
                "nginx_site": f"/etc/nginx/sites-available/{d}.conf",
                "config_js": f"/etc/jitsi/meet/{d}-config.js",
                "web_cert": f"/etc/jitsi/meet/{d}.crt",
                "web_key": f"/etc/jitsi/meet/{d}.key",
            }
        )
    closed = {5222, 5269, 5280, 5281, 5347, 8080, 8888, 9090}
    public = {lst.port for dmn in plan.daemons for lst in dmn.listeners if lst.proto == "tcp" and lst.public}
    plan.closed_ports = [f"tcp/{port}" for port in sorted(closed - public)]
    common.add_ssh_and_sudo(plan, ctx, p.ssh_level, v.sudo)
