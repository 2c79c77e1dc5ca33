
"""The docker-style variant: a docker-jitsi-meet host as the auditor finds it over SSH.

On the host: /opt/docker-jitsi-meet/{.env,docker-compose.yml} and the CONFIG directory
/root/.jitsi-meet-cfg with the files the containers rendered (layout of images up to stable-11031:
web/config.js, web/nginx/*, prosody/config/{prosody.cfg.lua,conf.d/jitsi-meet.cfg.lua},
jicofo/jicofo.conf, jvb/jvb.conf). Those files use the containers' paths (/config/...).

There is no docker daemon in the lab: the same nginx and prosody configuration runs from a copy
under /run/jitsi-lab-runtime with host paths substituted, listening where docker would publish
(8000, 8443, udp 10000 on all interfaces; 8080 and 8888 on 127.0.0.1; prosody not published).
"""

from __future__ import annotations

from . import common
from .configs import MOZILLA_INTERMEDIATE
from .model import Listener
from .plan import DaemonSpec, HostContext, Plan
from .variants import Variant

CONFIG = "/root/.jitsi-meet-cfg"
COMPOSE_DIR = "/opt/docker-jitsi-meet"
RUNTIME = "/run/jitsi-lab-runtime"
XMPP = "meet.jitsi"
IMAGE_TAG = "stable-10655"


def env_file(domain: str, s: dict[str, str]) -> str:
    return f"""# Security
#
# Set these to strong passwords to avoid intruders from impersonating a service account
# The service(s) won't start unless these are specified
# Running ./gen-passwords.sh will update .env with strong passwords
# You may skip the Jigasi and Jibri passwords if you are not using those
# DO NOT reuse passwords
#

# XMPP password for Jicofo client connections
JICOFO_AUTH_PASSWORD={s["jicofo"]}

# XMPP password for JVB client connections
JVB_AUTH_PASSWORD={s["jvb"]}

# XMPP password for Jigasi MUC client connections
JIGASI_XMPP_PASSWORD={s["jigasi"]}

# XMPP password for Jigasi transcriber client connections
JIGASI_TRANSCRIBER_PASSWORD={s["transcriber"]}

# XMPP recorder password for Jibri client connections
JIBRI_RECORDER_PASSWORD={s["recorder"]}

# XMPP password for Jibri client connections
JIBRI_XMPP_PASSWORD={s["jibri"]}

#
# Basic configuration options
#

# Directory where all configuration will be stored
CONFIG=~/.jitsi-meet-cfg

# Exposed HTTP port (will redirect to HTTPS port)
HTTP_PORT=8000

# Exposed HTTPS port
HTTPS_PORT=8443

# System time zone
TZ=UTC

# Public URL for the web service (required)
PUBLIC_URL=https://{domain}:8443

# Media IP addresses to advertise by the JVB
#JVB_ADVERTISE_IPS=192.168.1.1,1.2.3.4

JITSI_IMAGE_VERSION={IMAGE_TAG}

#
# Authentication configuration
#

# Enable authentication (will ask for login and password to join the meeting)
ENABLE_AUTH=0

# Enable guest access (if authentication is enabled, this allows for users to be held in lobby until
# registered user lets them in)
#ENABLE_GUESTS=1

# Select authentication type: internal, jwt, ldap or matrix
#AUTH_TYPE=internal

ENABLE_HTTP_REDIRECT=0
ENABLE_HSTS=1
ENABLE_LETSENCRYPT=0
ENABLE_XMPP_WEBSOCKET=1
ENABLE_COLIBRI_WEBSOCKET=1
ENABLE_LOBBY=1
ENABLE_BREAKOUT_ROOMS=1
COLIBRI_REST_ENABLED=false
JICOFO_ENABLE_REST=0
JVB_STUN_SERVERS=meet-jit-si-turnrelay.jitsi.net:443
"""


COMPOSE = f"""services:
    # Frontend
    web:
        image: ${{JITSI_IMAGE_REPO:-jitsi}}/web:${{JITSI_IMAGE_VERSION:-{IMAGE_TAG}}}
        restart: ${{RESTART_POLICY:-unless-stopped}}
        ports:
            - '${{HTTP_PORT}}:8000'
            - '${{HTTPS_PORT}}:8443'
        volumes:
            - ${{CONFIG}}/web:/config:Z
            - ${{CONFIG}}/web/crontabs:/var/spool/cron/crontabs:Z
            - ${{CONFIG}}/transcripts:/usr/share/jitsi-meet/transcripts:Z
        environment:
            - ENABLE_AUTH
            - ENABLE_GUESTS
            - ENABLE_HSTS
            - ENABLE_HTTP_REDIRECT
            - ENABLE_LETSENCRYPT
            - ENABLE_XMPP_WEBSOCKET
            - PUBLIC_URL
            - TZ
        networks:
            meet.jitsi:
                aliases:
                    - ${{XMPP_DOMAIN:-meet.jitsi}}

    # XMPP server
    prosody:
        image: ${{JITSI_IMAGE_REPO:-jitsi}}/prosody:${{JITSI_IMAGE_VERSION:-{IMAGE_TAG}}}
        restart: ${{RESTART_POLICY:-unless-stopped}}
        expose:
            - '5222'
            - '5347'
            - '5280'
        volumes:
            - ${{CONFIG}}/prosody/config:/config:Z
            - ${{CONFIG}}/prosody/prosody-plugins-custom:/prosody-plugins-custom:Z
        environment:
            - ENABLE_AUTH
            - ENABLE_GUESTS
            - ENABLE_LOBBY
            - JICOFO_AUTH_PASSWORD
            - JVB_AUTH_PASSWORD
            - JIGASI_XMPP_PASSWORD
            - JIBRI_RECORDER_PASSWORD
            - JIBRI_XMPP_PASSWORD
            - PUBLIC_URL
            - TZ
        networks:
            meet.jitsi:
                aliases:
                    - ${{XMPP_SERVER:-xmpp.meet.jitsi}}

    # Focus component
    jicofo:
        image: ${{JITSI_IMAGE_REPO:-jitsi}}/jicofo:${{JITSI_IMAGE_VERSION:-{IMAGE_TAG}}}
        restart: ${{RESTART_POLICY:-unless-stopped}}
        ports:
            - '127.0.0.1:${{JICOFO_REST_PORT:-8888}}:8888'
        volumes:
            - ${{CONFIG}}/jicofo:/config:Z
        environment:
            - JICOFO_AUTH_PASSWORD
            - JICOFO_ENABLE_REST
            - TZ
        depends_on:
            - prosody
        networks:
            meet.jitsi:

    # Video bridge
    jvb:
        image: ${{JITSI_IMAGE_REPO:-jitsi}}/jvb:${{JITSI_IMAGE_VERSION:-{IMAGE_TAG}}}
        restart: ${{RESTART_POLICY:-unless-stopped}}
        ports:
            - '${{JVB_PORT:-10000}}:${{JVB_PORT:-10000}}/udp'
            - '127.0.0.1:${{JVB_COLIBRI_PORT:-8080}}:8080'
        volumes:
            - ${{CONFIG}}/jvb:/config:Z
        environment:
            - JVB_AUTH_PASSWORD
            - JVB_STUN_SERVERS
            - COLIBRI_REST_ENABLED
            - PUBLIC_URL
            - TZ
        depends_on:
            - prosody
        networks:
            meet.jitsi:

# Custom network so all services can communicate using a FQDN
networks:
    meet.jitsi:
"""


def web_config_js(domain: str) -> str:
    return f"""// Jitsi Meet configuration.
var config = {{}};

config.hosts = {{}};
config.hosts.domain = '{XMPP}';
config.focusUserJid = 'focus@auth.{XMPP}';

var subdir = '<!--# echo var="subdir" default="" -->';
var subdomain = '<!--# echo var="subdomain" default="" -->';
if (subdir.startsWith('<!--')) {{
    subdir = '';
}}
if (subdomain) {{
    subdomain = subdomain.substring(0,subdomain.length-1).split('.').join('_').toLowerCase() + '.';
}}
config.hosts.muc = 'muc.' + subdomain + '{XMPP}';
config.bosh = 'https://{domain}:8443/' + subdir + 'http-bind';
config.websocket = 'wss://{domain}:8443/' + subdir + 'xmpp-websocket';
config.bridgeChannel = {{
    preferSctp: true
}};


// Video configuration.
//

config.resolution = 720;
config.constraints = {{
    video: {{
        height: {{ ideal: 720, max: 720, min: 180 }},
        width: {{ ideal: 1280, max: 1280, min: 320}},
    }}
}};

// Recording.
//

config.recordingService = {{
    enabled: false,
}};

config.localRecording = {{
    disable: false,
    notifyAllParticipants: false,
}};

// Prejoin page.
config.prejoinConfig = {{
    enabled: true,
}};

// Welcome page.
config.welcomePage = {{
    disabled: false
}};

// P2P.
config.p2p = {{
    enabled: true,
    codecPreferenceOrder: [ 'AV1', 'VP9', 'VP8', 'H264' ],
}};

// Lobby.
config.hideLobbyButton = false;

// Analytics.
config.analytics = {{}};

// Deployment information.
config.deploymentInfo = {{}};

// Testing
config.testing = {{
    enableCodecSelectionAPI: true
}};
"""


def web_nginx_conf() -> str:
    return """user www-data;
worker_processes 2;
pid /run/nginx.pid;
include /etc/nginx/modules-enabled/*.conf;

events {
    worker_connections 768;
}

http {
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    types_hash_max_size 2048;
    server_tokens off;

    include /etc/nginx/mime.types;
    types {
        # add support for wasm MIME type, that is required by specification and it is not part of default mime.types file
        application/wasm wasm;
        # add support for the wav MIME type that is requried to playback wav files in Firefox.
        audio/wav        wav;
    }
    default_type application/octet-stream;

    access_log /dev/stdout;
    error_log /dev/stderr;

    gzip on;
    gzip_types text/plain text/css application/javascript application/json;
    gzip_vary on;
    gzip_min_length 512;

    client_max_body_size 0;

    include /config/nginx/site-confs/*;
}

daemon off;
"""


def web_site_default() -> str:
    return """server {
    listen 8000 default_server;
    listen [::]:8000 default_server;

    include /config/nginx/meet.conf;
}

server {
    listen 8443 ssl;
    listen [::]:8443 ssl;

    include /config/nginx/ssl.conf;
    include /config/nginx/meet.conf;
}
"""


def web_ssl_conf() -> str:
    return f"""# session settings
ssl_session_timeout 1d;
ssl_session_cache shared:MozSSL:10m;  # about 40000 sessions
ssl_session_tickets off;

# protocols
ssl_protocols TLSv1.2 TLSv1.3;
ssl_prefer_server_ciphers off;
ssl_ciphers {MOZILLA_INTERMEDIATE};

# self-signed or own certificate
ssl_certificate /config/keys/cert.crt;
ssl_certificate_key /config/keys/cert.key;
"""


def web_meet_conf() -> str:
    return """server_name _;

client_max_body_size 0;

root /usr/share/jitsi-meet;

# ssi on with javascript for multidomain variables in config.js
ssi on;
ssi_types application/x-javascript application/javascript;

index index.html;
error_page 404 /static/404.html;

# Security headers
add_header X-Content-Type-Options nosniff;
add_header X-XSS-Protection "1; mode=block";
add_header Strict-Transport-Security "max-age=63072000" always;

set $prefix "";

location = /config.js {
    alias /config/config.js;
}

location = /interface_config.js {
    alias /config/interface_config.js;
}

location = /external_api.js {
    alias /usr/share/jitsi-meet/libs/external_api.min.js;
}

# ensure all static content can always be found first
location ~ ^/(libs|css|static|images|fonts|lang|sounds|connection_optimization|.well-known|transcripts)/(.*)$ {
    add_header 'Access-Control-Allow-Origin' '*';
    alias /usr/share/jitsi-meet/$1/$2;
}

# BOSH
location = /http-bind {
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header Host meet.jitsi;

    proxy_pass http://xmpp.meet.jitsi:5280/http-bind?prefix=$prefix&$args;
}

# xmpp websockets
location = /xmpp-websocket {
    tcp_nodelay on;

    proxy_http_version 1.1;
    proxy_set_header Connection $connection_upgrade;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Host meet.jitsi;
    proxy_set_header X-Forwarded-For $remote_addr;

    proxy_pass http://xmpp.meet.jitsi:5280/xmpp-websocket?prefix=$prefix&$args;
}

# colibri (JVB) websockets
location ~ ^/colibri-ws/([a-zA-Z0-9-\\._]+)/(.*) {
    tcp_nodelay on;

    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;

    proxy_pass http://jvb:9090/colibri-ws/$1/$2$is_args$args;
}

location ~ ^/([^/?&:'"]+)$ {
    try_files $uri @root_path;
}

location @root_path {
    rewrite ^/(.*)$ / break;
}

location ~ ^/([^/?&:'"]+)/config.js$ {
    set $subdomain "$1.";
    set $subdir "$1/";

    alias /config/config.js;
}

# Anything that didn't match above, and isn't a real file, assume it's a room name and redirect to /
location ~ ^/([^/?&:'"]+)/(.*)$ {
    set $subdomain "$1.";
    set $subdir "$1/";
    rewrite ^/([^/?&:'"]+)/(.*)$ /$2;
}
"""


def prosody_cfg() -> str:
    return f"""-- Prosody configuration rendered by the jitsi/prosody image.
admins = {{ }}

plugin_paths = {{ "/prosody-plugins/", "/prosody-plugins-custom", "/prosody-plugins-contrib" }}
http_default_host = "{XMPP}"

modules_enabled = {{
    "roster";
    "saslauth";
    "tls";
    "disco";
    "private";
    "limits";
    "version";
    "ping";
    "posix";
}}

modules_disabled = {{
    "s2s";
}}

allow_registration = false;

c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = false

authentication = "internal_hashed"

data_path = "/config/data"
pidfile = "/config/data/prosody.pid";

-- The container's network is private: listen on all its interfaces.
interfaces = {{ "*" }}
http_interfaces = {{ "*" }}
https_ports = {{ }}

log = {{
    {{ levels = {{ min = "info" }}, to = "console" }};
}}

certificates = "certs"

Include "conf.d/*.cfg.lua"
"""


def prosody_jitsi_cfg(s: dict[str, str]) -> str:
    x = XMPP
    return f"""admins = {{
    "focus@auth.{x}",
    "jvb@auth.{x}"
}}

unlimited_jids = {{
    "focus@auth.{x}",
    "jvb@auth.{x}"
}}

plugin_paths = {{ "/prosody-plugins/", "/prosody-plugins-custom", "/prosody-plugins-contrib" }}

muc_mapper_domain_base = "{x}";
muc_mapper_domain_prefix = "muc";

http_default_host = "{x}"

consider_bosh_secure = true;
consider_websocket_secure = true;

smacks_max_unacked_stanzas = 5;
smacks_hibernation_time = 60;
smacks_max_old_sessions = 1;

VirtualHost "{x}"
    authentication = "jitsi-anonymous"
    ssl = {{
        key = "/config/certs/{x}.key";
        certificate = "/config/certs/{x}.crt";
    }}
    modules_enabled = {{
        "bosh";
        "websocket";
        "smacks";
        "speakerstats";
        "conference_duration";
        "room_metadata";
        "end_conference";
        "muc_lobby_rooms";
        "muc_breakout_rooms";
        "av_moderation";
        "external_services";
    }}

    main_muc = "muc.{x}"
    room_metadata_component = "metadata.{x}"
    lobby_muc = "lobby.{x}"
    breakout_rooms_muc = "breakout.{x}"
    speakerstats_component = "speakerstats.{x}"
    conference_duration_component = "conferenceduration.{x}"
    end_conference_component = "endconference.{x}"
    av_moderation_component = "avmoderation.{x}"
    c2s_require_encryption = true

VirtualHost "auth.{x}"
    ssl = {{
        key = "/config/certs/auth.{x}.key";
        certificate = "/config/certs/auth.{x}.crt";
    }}
    modules_enabled = {{
        "limits_exception";
        "smacks";
    }}
    authentication = "internal_hashed"
    smacks_hibernation_time = 15;

Component "internal-muc.{x}" "muc"
    storage = "memory"
    modules_enabled = {{
        "muc_hide_all";
        "ping";
    }}
    restrict_room_creation = true
    muc_room_locking = false
    muc_room_default_public_jids = true

Component "muc.{x}" "muc"
    restrict_room_creation = true
    storage = "memory"
    modules_enabled = {{
        "muc_hide_all";
        "muc_meeting_id";
        "polls";
        "muc_domain_mapper";
        "muc_password_whitelist";
    }}
    muc_room_cache_size = 10000
    muc_room_locking = false
    muc_room_default_public_jids = true
    muc_password_whitelist = {{
        "focus@auth.{x}";
    }}

Component "focus.{x}" "client_proxy"
    target_address = "focus@auth.{x}"

Component "speakerstats.{x}" "speakerstats_component"
    muc_component = "muc.{x}"

Component "conferenceduration.{x}" "conference_duration_component"
    muc_component = "muc.{x}"

Component "endconference.{x}" "end_conference"
    muc_component = "muc.{x}"

Component "avmoderation.{x}" "av_moderation_component"
    muc_component = "muc.{x}"

Component "lobby.{x}" "muc"
    storage = "memory"
    restrict_room_creation = true
    muc_room_locking = false
    muc_room_default_public_jids = true
    modules_enabled = {{
        "muc_hide_all";
    }}

Component "breakout.{x}" "muc"
    storage = "memory"
    restrict_room_creation = true
    muc_room_locking = false
    muc_room_default_public_jids = true
    modules_enabled = {{
        "muc_hide_all";
        "muc_meeting_id";
        "polls";
    }}

Component "metadata.{x}" "room_metadata_component"
    muc_component = "muc.{x}"
    breakout_rooms_component = "breakout.{x}"
"""


def jicofo_conf(s: dict[str, str]) -> str:
    x = XMPP
    return f"""jicofo {{
    // Authentication with external services. Valid values are XMPP, JWT or nothing
    authentication {{
      enabled = false
      type = XMPP
      login-url = "{x}"
      enable-auto-login = true
    }}

    // Configuration related to jitsi-videobridge
    bridge {{
      brewery-jid = "jvbbrewery@internal-muc.{x}"
      xmpp-connection-name = Client
    }}

    conference {{
      enable-auto-owner = true
    }}

    rest {{
      host = "127.0.0.1"
    }}

    xmpp {{
      client {{
        enabled = true
        hostname = "xmpp.{x}"
        port = "5222"
        domain = "auth.{x}"
        xmpp-domain = "{x}"
        username = "focus"
        password = "{s["jicofo"]}"
        conference-muc-jid = "muc.{x}"
        client-proxy = "focus.{x}"
        disable-certificate-verification = true
      }}
      trusted-domains = [ "hidden.{x}" ]
    }}
}}
"""


def jvb_conf(s: dict[str, str]) -> str:
    x = XMPP
    return f"""videobridge {{
    ice {{
        udp {{
            port = 10000
        }}
        advertise-private-candidates = true
    }}
    apis {{
        xmpp-client {{
            configs {{
                shard0 {{
                    HOSTNAME = "xmpp.{x}"
                    PORT = "5222"
                    DOMAIN = "auth.{x}"
                    USERNAME = "jvb"
                    PASSWORD = "{s["jvb"]}"
                    MUC_JIDS = "jvbbrewery@internal-muc.{x}"
                    MUC_NICKNAME = "jitsi-jvb-1"
                    DISABLE_CERTIFICATE_VERIFICATION = true
                }}
            }}
        }}
        rest {{
            enabled = false
        }}
    }}
    rest {{
        shutdown {{
            enabled = false
        }}
    }}
    stats {{
        enabled = true
    }}
    websockets {{
        enabled = true
        domain = "{x}:8443"
        tls = true
        server-id = "jvb"
    }}
    http-servers {{
        private {{
          host = 0.0.0.0
        }}
        public {{
            host = 0.0.0.0
            port = 9090
        }}
    }}
}}

ice4j {{
    harvest {{
        mapping {{
            aws {{
                enabled = false
            }}
            stun {{
                addresses = [ "meet-jit-si-turnrelay.jitsi.net:443" ]
            }}
        }}
    }}
}}
"""


def build(plan: Plan, ctx: HostContext, v: Variant) -> None:
    var = v.name
    s = {
        "jicofo": plan.canary(var, "JICOFO_AUTH_PASSWORD"),
        # The pre-2020 docker default (CVE-2020-11878), kept on purpose for one account.
        "jvb": plan.weak("passw0rd"),
        "jigasi": plan.canary(var, "JIGASI_XMPP_PASSWORD"),
        "transcriber": plan.canary(var, "JIGASI_TRANSCRIBER_PASSWORD"),
        "recorder": plan.canary(var, "JIBRI_RECORDER_PASSWORD"),
        "jibri": plan.canary(var, "JIBRI_XMPP_PASSWORD"),
    }
    plan.xmpp_domain = XMPP
    plan.anonymous_login = True
    plan.web_port, plan.http_port = 8443, 8000
    # A docker host has neither Debian's prosody nor nginx configuration.
    plan.remove += ["/etc/prosody", "/etc/nginx"]
    plan.audit_groups += ["adm"]

    plan.dir(COMPOSE_DIR)
    plan.add(f"{COMPOSE_DIR}/.env", env_file(ctx.domain, s), 0o600)
    plan.add(f"{COMPOSE_DIR}/docker-compose.yml", COMPOSE)
    # CONFIG as the containers rendered it
    files: dict[str, tuple[str | bytes, int]] = {
        "web/config.js": (web_config_js(ctx.domain), 0o644),
        "web/interface_config.js": ("var interfaceConfig = { APP_NAME: 'Jitsi Meet' };\n", 0o644),
        "web/nginx/nginx.conf": (web_nginx_conf(), 0o644),
        "web/nginx/site-confs/default": (web_site_default(), 0o644),
        "web/nginx/ssl.conf": (web_ssl_conf(), 0o644),
        "web/nginx/meet.conf": (web_meet_conf(), 0o644),
        "web/keys/cert.crt": (ctx.web.cert_pem, 0o644),
        "web/keys/cert.key": (ctx.web.key_pem, 0o600),
        "prosody/config/prosody.cfg.lua": (prosody_cfg(), 0o644),
        "prosody/config/conf.d/jitsi-meet.cfg.lua": (prosody_jitsi_cfg(s), 0o644),
        f"prosody/config/certs/{XMPP}.crt": (ctx.xmpp.cert_pem, 0o644),
        f"prosody/config/certs/{XMPP}.key": (ctx.xmpp.key_pem, 0o600),
        f"prosody/config/certs/auth.{XMPP}.crt": (ctx.xmpp_auth.cert_pem, 0o644),
        f"prosody/config/certs/auth.{XMPP}.key": (ctx.xmpp_auth.key_pem, 0o600),
        "jicofo/jicofo.conf": (jicofo_conf(s), 0o644),
        "jvb/jvb.conf": (jvb_conf(s), 0o644),
    }
    plan.dir(CONFIG, 0o755)
    for sub in (
        "web",
        "web/nginx",
        "web/nginx/site-confs",
        "web/keys",
        "web/crontabs",
        "transcripts",
        "prosody",
        "prosody/config",
        "prosody/config/conf.d",
        "prosody/config/certs",
        "prosody/config/data",
        "prosody/prosody-plugins-custom",
        "jicofo",
        "jvb",
    ):
        plan.dir(f"{CONFIG}/{sub}", 0o755)
    for rel, (content, mode) in files.items():
        plan.add(f"{CONFIG}/{rel}", content, mode)
    for user, pw in (("focus", s["jicofo"]), ("jvb", s["jvb"])):
        common.prosody_account(plan, f"{CONFIG}/prosody/config/data", f"auth.{XMPP}", user, pw, True)

    # What actually runs: the same files, container paths replaced by host paths.
    web_rt, pro_rt = f"{RUNTIME}/web", f"{RUNTIME}/prosody"
    web_sub = [
        ("/config/", f"{web_rt}/"),
        ("http://xmpp.meet.jitsi:5280", "http://127.0.0.1:5280"),
        ("http://jvb:9090", "http://127.0.0.1:9090"),
        ("pid /run/nginx.pid", f"pid {web_rt}/nginx.pid"),
        ("include /etc/nginx/modules-enabled/*.conf;\n", ""),
        ("include /etc/nginx/mime.types;", f"include {web_rt}/mime.types;"),
    ]
    pro_sub = [
        ("/config/", f"{pro_rt}/"),
        ('"/prosody-plugins/"', '"/usr/share/jitsi-meet/prosody-plugins/"'),
        ('interfaces = { "*" }', 'interfaces = { "127.0.0.1" }'),
    ]
    plan.dir(RUNTIME, 0o755)
    for sub in ("web", "web/nginx", "web/nginx/site-confs", "web/keys"):
        plan.dir(f"{RUNTIME}/{sub}", 0o755)
    plan.dir(pro_rt, 0o750, "prosody", "prosody")
    for sub in ("conf.d", "certs", "data"):
        plan.dir(f"{pro_rt}/{sub}", 0o750, "prosody", "prosody")
    for rel, (content, mode) in files.items():
        data = content.encode() if isinstance(content, str) else content
        if rel.startswith("web/"):
            for a, b in web_sub:
                data = data.replace(a.encode(), b.encode())
            # nginx needs $connection_upgrade from the image's nginx.conf map
            if rel == "web/nginx/nginx.conf":
                data = data.replace(
                    b"http {\n",
                    b"http {\n    map $http_upgrade $connection_upgrade {\n"
                    b"        default upgrade;\n        '' close;\n    }\n",
                    1,
                )
            plan.add(f"{RUNTIME}/{rel}", data, mode)
        elif rel.startswith("prosody/config/"):
            for a, b in pro_sub:
                data = data.replace(a.encode(), b.encode())
            plan.add(f"{pro_rt}/{rel[len('prosody/config/') :]}", data, 0o640, "prosody", "prosody")
    plan.add(f"{web_rt}/mime.types", MIME_TYPES)
    for user, pw in (("focus", s["jicofo"]), ("jvb", s["jvb"])):
        common.prosody_account(plan, f"{pro_rt}/data", f"auth.{XMPP}", user, pw, True)
    common.add_prosody_plugins(plan)
    common.add_web_root(plan, ctx.domain)

    plan.daemons.append(
        DaemonSpec(
            "prosody",
            ["/usr/bin/prosody", "-F", "--config", f"{pro_rt}/prosody.cfg.lua"],
            user="prosody",
            listeners=[
                Listener("tcp", "127.0.0.1", 5222, "prosody"),
                Listener("tcp", "127.0.0.1", 5280, "prosody"),
            ],
        )
    )
    plan.daemons.append(
        DaemonSpec(
            "nginx",
            ["/usr/sbin/nginx", "-c", f"{web_rt}/nginx/nginx.conf"],
            listeners=[Listener("tcp", "0.0.0.0", 8000, "nginx"), Listener("tcp", "0.0.0.0", 8443, "nginx")],
        )
    )
    plan.daemons.append(
        common.standin_daemon(ctx, "jicofo", "1.0-1167", http=[("127.0.0.1", 8888)], user="nobody")
    )
    plan.daemons.append(
        common.standin_daemon(
            ctx,
            "jvb",
            "2.3-260-gea11cd36c",
            http=[("127.0.0.1", 8080), ("127.0.0.1", 9090)],
            udp=[("0.0.0.0", 10000)],
            user="nobody",
        )
    )
    plan.dir("/var/log/jitsi", 0o755)
    plan.dpkg += [
        ("docker-ce", "5:27.3.1-1~debian.12~bookworm"),
        ("docker-compose-plugin", "2.29.7-1~debian.12~bookworm"),
    ]
    plan.roles.update(
        {
            "docker_env": f"{COMPOSE_DIR}/.env",
            "docker_compose": f"{COMPOSE_DIR}/docker-compose.yml",
            "docker_config_dir": CONFIG,
            "config_js": f"{CONFIG}/web/config.js",
            "prosody_main": f"{CONFIG}/prosody/config/prosody.cfg.lua",
            "prosody_host": f"{CONFIG}/prosody/config/conf.d/jitsi-meet.cfg.lua",
            "jicofo_conf": f"{CONFIG}/jicofo/jicofo.conf",
            "jvb_conf": f"{CONFIG}/jvb/jvb.conf",
            "nginx_site": f"{CONFIG}/web/nginx/meet.conf",
            "web_cert": f"{CONFIG}/web/keys/cert.crt",
            "web_key": f"{CONFIG}/web/keys/cert.key",
        }
    )
    plan.closed_ports = [
        "tcp/80",
        "tcp/443",
        "tcp/5222",
        "tcp/5269",
        "tcp/5280",
        "tcp/5347",
        "tcp/8080",
        "tcp/8888",
        "tcp/9090",
    ]
    common.add_ssh_and_sudo(plan, ctx, "debian", v.sudo)


MIME_TYPES = """types {
    text/html                             html htm shtml;
    text/css                              css;
    application/javascript                js;
    application/json                      json;
    image/svg+xml                         svg svgz;
    image/png                             png;
    application/wasm                      wasm;
    audio/wav                             wav;
}
"""
