"""A realistic, hardened single-host deployment as inline files, and helpers to audit variations of it.

Each check test starts from BASE (or a JWT / LDAP / docker variant), applies small text edits, builds a
Snapshot, runs the whole engine (redaction, parsing, facts, every check) and looks at one finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from auditor.criteria import Profile, load_profile
from auditor.engine import TargetResult, audit_snapshot
from auditor.model import Finding
from auditor.registry import Check, all_checks
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot

D = "meet.example.org"
PROSODY_MAIN = "/etc/prosody/prosody.cfg.lua"
PROSODY_SITE = f"/etc/prosody/conf.d/{D}.cfg.lua"
JICOFO = "/etc/jitsi/jicofo/jicofo.conf"
JICOFO_PROPS = "/etc/jitsi/jicofo/sip-communicator.properties"
JVB = "/etc/jitsi/videobridge/jvb.conf"
JVB_PROPS = "/etc/jitsi/videobridge/sip-communicator.properties"
CONFIG_JS = f"/etc/jitsi/meet/{D}-config.js"
INTERFACE_JS = "/usr/share/jitsi-meet/interface_config.js"
NGINX = f"/etc/nginx/sites-enabled/{D}.conf"
APACHE_MAIN = "/etc/apache2/apache2.conf"
APACHE_PORTS = "/etc/apache2/ports.conf"
APACHE_SSL = "/etc/apache2/mods-enabled/ssl.conf"
APACHE_SECURITY = "/etc/apache2/conf-enabled/security.conf"
APACHE_SITE = f"/etc/apache2/sites-enabled/{D}.conf"
CERT = f"/etc/jitsi/meet/{D}.crt"
TURN = "/etc/turnserver.conf"
JIBRI = "/etc/jitsi/jibri/jibri.conf"
SASL = "/etc/saslauthd.conf"
LDAP_CONF = "/etc/ldap/ldap.conf"
ENV = "/srv/jitsi/.env"
COMPOSE = "/srv/jitsi/docker-compose.yml"

# Strong random-looking values (the redactor judges them "ok").
TURN_SECRET = "Vq7rT2xK9mW4pL8sZ3nB6cY1dF5gH0jA"
FOCUS_PW = "Rk3Lm9Qz2Wx7Tp5Vn8Bs4Jd6Hf1Gc0Ya"
JVB_PW = "Nc5Zt8Rw2Qm7Kp4Xv9Ls3Bd6Fh1Gj0Ty"
JWT_SECRET = "Hs9Pq2Wr7Kt4Mx8Zv3Nc6Lb1Df5Gj0Ys"
LDAP_PW = "Lb4Xq8Tr2Wm7Kz5Nv9Pc3Hd6Fs1Gj0Qa"

PROSODY_MAIN_TEXT = """\
-- Prosody configuration for a single Jitsi Meet host.
admins = { "ops@meet.example.org" }

modules_enabled = {
    "disco";
    "roster";
    "saslauth";
    "tls";
    "limits";
    "ping";
}

modules_disabled = {
    "s2s";
}

allow_registration = false
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = true

http_interfaces = { "127.0.0.1", "::1" }
https_ports = { }

limits = {
    c2s = { rate = "10kb/s"; burst = "2s"; };
    s2sin = { rate = "30kb/s"; };
}

log = {
    info = "/var/log/prosody/prosody.log";
    error = "/var/log/prosody/prosody.err";
}

VirtualHost "localhost"

Include "conf.d/*.cfg.lua"
"""

PROSODY_SITE_TEXT = f"""\
plugin_paths = {{ "/usr/share/jitsi-meet/prosody-plugins/" }}
muc_mapper_domain_base = "{D}";

external_service_secret = "{TURN_SECRET}";
external_services = {{
    {{ type = "stun", host = "{D}", port = 3478 }},
    {{ type = "turns", host = "{D}", port = 5349, transport = "tcp", secret = true, ttl = 86400, algorithm = "turn" }}
}};

cross_domain_bosh = false;
cross_domain_websocket = false;
consider_bosh_secure = true;

ssl = {{
    protocol = "tlsv1_2+";
    ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"
}}

VirtualHost "{D}"
    authentication = "internal_hashed"
    modules_enabled = {{
        "bosh";
        "websocket";
        "ping";
        "external_services";
        "muc_lobby_rooms";
        "muc_breakout_rooms";
        "persistent_lobby";
    }}
    c2s_require_encryption = true
    lobby_muc = "lobby.{D}"
    breakout_rooms_muc = "breakout.{D}"
    main_muc = "conference.{D}"

VirtualHost "guest.{D}"
    authentication = "jitsi-anonymous"
    c2s_require_encryption = true

Component "conference.{D}" "muc"
    restrict_room_creation = true
    storage = "memory"
    modules_enabled = {{
        "muc_hide_all";
        "muc_meeting_id";
        "muc_rate_limit";
        "muc_max_occupants";
        "muc_wait_for_host";
        "polls";
    }}
    muc_max_occupants = 100
    admins = {{ "focus@auth.{D}" }}
    muc_room_locking = false

Component "breakout.{D}" "muc"
    restrict_room_creation = true
    storage = "memory"

Component "internal.auth.{D}" "muc"
    storage = "memory"
    admins = {{ "focus@auth.{D}", "jvb@auth.{D}" }}

VirtualHost "auth.{D}"
    authentication = "internal_hashed"
    modules_enabled = {{ "limits_exception"; }}

Component "focus.{D}" "client_proxy"
    target_address = "focus@auth.{D}"

Component "endconference.{D}" "end_conference"
    muc_component = "conference.{D}"

Component "avmoderation.{D}" "av_moderation_component"
    muc_component = "conference.{D}"

Component "lobby.{D}" "muc"
    storage = "memory"
    restrict_room_creation = true

Component "polls.{D}" "polls_component"
"""

JICOFO_TEXT = f"""\
jicofo {{
  authentication {{
    enabled = true
    type = XMPP
    login-url = "{D}"
  }}
  xmpp {{
    client {{
      client-proxy = "focus.{D}"
      xmpp-domain = "{D}"
      domain = "auth.{D}"
      username = "focus"
      password = "{FOCUS_PW}"
    }}
    trusted-domains = [ "recorder.{D}" ]
  }}
  bridge {{
    brewery-jid = "JvbBrewery@internal.auth.{D}"
  }}
  rest {{
    host = "127.0.0.1"
  }}
}}
"""

JVB_TEXT = f"""\
videobridge {{
  http-servers {{
    public {{
      host = 127.0.0.1
      port = 9090
    }}
    private {{
      host = 127.0.0.1
    }}
  }}
  websockets {{
    enabled = true
    domain = "{D}:443"
    tls = true
  }}
  apis {{
    xmpp-client {{
      configs {{
        shard {{
          HOSTNAME = "localhost"
          DOMAIN = "auth.{D}"
          USERNAME = "jvb"
          PASSWORD = "{JVB_PW}"
          MUC_JIDS = "JvbBrewery@internal.auth.{D}"
          MUC_NICKNAME = "jvb1"
        }}
      }}
    }}
  }}
}}
ice4j {{
  harvest {{
    mapping {{
      stun {{
        addresses = [ "{D}:3478" ]
      }}
    }}
  }}
}}
"""

CONFIG_JS_TEXT = f"""\
var subdir = '<!--# echo var="subdir" default="" -->';
var subdomain = '<!--# echo var="subdomain" default="" -->';
if (subdomain) {{
    subdomain = subdomain.substr(0, subdomain.length - 1).split('.').join('_').toLowerCase() + '.';
}}
var config = {{
    hosts: {{
        domain: '{D}',
        anonymousdomain: 'guest.{D}',
        muc: 'conference.' + subdomain + '{D}'
    }},
    bosh: 'https://{D}/' + subdir + 'http-bind',
    websocket: 'wss://{D}/' + subdir + 'xmpp-websocket',
    roomPasswordNumberOfDigits: 10,
    enableInsecureRoomNameWarning: true,
    disableThirdPartyRequests: true,
    welcomePage: {{ disabled: true }},
    gravatar: {{ disabled: true }},
    localRecording: {{ disable: true, notifyAllParticipants: true }},
    deeplinking: {{ disabled: true }},
    p2p: {{
        enabled: true,
        iceTransportPolicy: 'relay',
        stunServers: [ {{ urls: 'stun:{D}:3478' }} ]
    }},
    e2ee: {{ disabled: false }},
    analytics: {{}},
    fileSharing: {{ enabled: false }}
}};
"""

INTERFACE_JS_TEXT = """\
var interfaceConfig = {
    APP_NAME: 'Example Meet',
    SHOW_JITSI_WATERMARK: false,
    JITSI_WATERMARK_LINK: 'https://jitsi.org',
    GENERATE_ROOMNAMES_ON_WELCOME_PAGE: true
};
"""

NGINX_TEXT = f"""\
server_names_hash_bucket_size 64;
server_tokens off;

server {{
    listen 80;
    listen [::]:80;
    server_name {D};
    location ^~ /.well-known/acme-challenge/ {{
        default_type "text/plain";
        root /usr/share/jitsi-meet;
    }}
    location / {{
        return 301 https://$host$request_uri;
    }}
}}

server {{
    listen 443 ssl http2;
    listen [::]:443 ssl http2;
    server_name {D};

    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
    ssl_stapling on;
    ssl_stapling_verify on;
    ssl_certificate {CERT};
    ssl_certificate_key /etc/jitsi/meet/{D}.key;

    add_header Strict-Transport-Security "max-age=63072000" always;
    add_header Content-Security-Policy "frame-ancestors 'self'" always;
    add_header Referrer-Policy "strict-origin-when-cross-origin" always;
    add_header X-Content-Type-Options "nosniff" always;

    root /usr/share/jitsi-meet;

    location = /config.js {{
        alias /etc/jitsi/meet/{D}-config.js;
    }}
    location = /http-bind {{
        proxy_pass http://127.0.0.1:5280/http-bind;
    }}
    location = /xmpp-websocket {{
        proxy_pass http://127.0.0.1:5280/xmpp-websocket;
    }}
    location ~ ^/colibri-ws/default-id/(.*) {{
        proxy_pass http://127.0.0.1:9090/colibri-ws/default-id/$1$is_args$args;
    }}
    location ~ ^/conference-request/v1(\\/.*)?$ {{
        proxy_pass http://127.0.0.1:8888/conference-request/v1$1;
    }}
}}
"""

# The same hardened web front on Apache: the site in the shape jitsi-meet-web-config writes, with
# Debian's mods-enabled/ssl.conf defaults overridden at server level and security.conf hardened.
APACHE_MAIN_TEXT = """\
# Debian-style main configuration (ServerRoot /etc/apache2 is compiled in).
Timeout 300
User ${APACHE_RUN_USER}
ErrorLog ${APACHE_LOG_DIR}/error.log
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf
Include ports.conf
<Directory />
\tAllowOverride None
\tRequire all denied
</Directory>
IncludeOptional conf-enabled/*.conf
IncludeOptional sites-enabled/*.conf
"""

APACHE_PORTS_TEXT = """\
Listen 80
<IfModule ssl_module>
\tListen 443
</IfModule>
"""

APACHE_SSL_TEXT = """\
<IfModule mod_ssl.c>
\tSSLRandomSeed startup builtin
\tSSLSessionCache shmcb:${APACHE_RUN_DIR}/ssl_scache(512000)
\tSSLCipherSuite HIGH:!aNULL
\tSSLProtocol all -SSLv3
</IfModule>
"""

APACHE_SECURITY_TEXT = """\
ServerTokens Prod
ServerSignature Off
TraceEnable Off
"""

APACHE_SITE_TEXT = f"""\
<VirtualHost *:80>
    ServerName {D}
    Redirect permanent / https://{D}/
</VirtualHost>

<VirtualHost *:443>
    ServerName {D}
    Protocols h2 http/1.1

    SSLEngine on
    SSLProxyEngine on
    SSLCertificateFile {CERT}
    SSLCertificateKeyFile /etc/jitsi/meet/{D}.key
    SSLUseStapling on

    Header always set Strict-Transport-Security "max-age=63072000"
    Header always set Content-Security-Policy "frame-ancestors 'self'"
    Header always set Referrer-Policy "strict-origin-when-cross-origin"
    Header always set X-Content-Type-Options "nosniff"

    DocumentRoot "/usr/share/jitsi-meet"
    <Directory "/usr/share/jitsi-meet">
        Options Indexes MultiViews Includes FollowSymLinks
        AllowOverride All
        Require all granted
    </Directory>

    Alias "/config.js" "/etc/jitsi/meet/{D}-config.js"
    <Location /config.js>
        Require all granted
    </Location>

    ProxyPreserveHost on
    ProxyPass /http-bind http://localhost:5280/http-bind
    ProxyPassReverse /http-bind http://localhost:5280/http-bind
    ProxyPass /xmpp-websocket ws://localhost:5280/xmpp-websocket
    ProxyPass /colibri-ws/default-id ws://localhost:9090/colibri-ws/default-id
    ProxyPassMatch ^/conference-request/v1(/.*)?$ http://localhost:8888/conference-request/v1$1

    RewriteEngine on
    RewriteRule ^/([a-zA-Z0-9]+)$ /index.html
</VirtualHost>

SSLProtocol -all +TLSv1.2 +TLSv1.3
SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305
SSLHonorCipherOrder off
SSLStaplingCache shmcb:${{APACHE_RUN_DIR}}/ssl_stapling(32768)
"""

TURN_TEXT = f"""\
use-auth-secret
static-auth-secret={TURN_SECRET}
realm={D}
cert=/etc/jitsi/meet/{D}.crt
pkey=/etc/jitsi/meet/{D}.key
no-multicast-peers
no-cli
no-loopback-peers
no-tcp-relay
no-tcp
listening-port=3478
tls-listening-port=5349
no-tlsv1
no-tlsv1_1
denied-peer-ip=0.0.0.0-0.255.255.255
denied-peer-ip=10.0.0.0-10.255.255.255
denied-peer-ip=100.64.0.0-100.127.255.255
denied-peer-ip=127.0.0.0-127.255.255.255
denied-peer-ip=169.254.0.0-169.254.255.255
denied-peer-ip=172.16.0.0-172.31.255.255
denied-peer-ip=192.168.0.0-192.168.255.255
denied-peer-ip=::ffff:0.0.0.0-::ffff:255.255.255.255
denied-peer-ip=fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff
syslog
"""

JIBRI_TEXT = f"""\
jibri {{
  recording {{
    recordings-directory = "/srv/recordings"
    finalize-script = "/usr/local/bin/jibri-finalize.sh"
  }}
  streaming {{
    rtmp-allow-list = [ "^rtmp://live\\\\.example\\\\.org/.*$" ]
  }}
  api {{
    xmpp {{
      environments = [
        {{
          name = "prod"
          xmpp-server-hosts = [ "{D}" ]
          xmpp-domain = "{D}"
          control-muc {{
            domain = "internal.auth.{D}"
            room-name = "JibriBrewery"
            nickname = "jibri-1"
          }}
          control-login {{
            domain = "auth.{D}"
            username = "jibri"
            password = "Jc8Xw3Tq7Lm2Kv9Rz5Nb4Pd1Hf6Gs0Ya"
          }}
          trust-all-xmpp-certs = false
        }}
      ]
    }}
  }}
}}
"""

LSBLK_ENCRYPTED = """\
NAME="sda" TYPE="disk" FSTYPE="" MOUNTPOINT=""
NAME="sda1" TYPE="part" FSTYPE="ext4" MOUNTPOINT="/"
NAME="sdb" TYPE="disk" FSTYPE="" MOUNTPOINT=""
NAME="sdb1" TYPE="part" FSTYPE="crypto_LUKS" MOUNTPOINT=""
NAME="recordings_crypt" TYPE="crypt" FSTYPE="ext4" MOUNTPOINT="/srv/recordings"
"""
FINDMNT_ENCRYPTED = """\
/ /dev/sda1 ext4
/srv/recordings /dev/mapper/recordings_crypt ext4
/tmp tmpfs tmpfs
"""

JWT_SITE_EDITS = (
    (PROSODY_SITE, f'VirtualHost "{D}"\n    authentication = "internal_hashed"',
     f'VirtualHost "{D}"\n    authentication = "token"\n    app_id = "example-app"\n'
     f'    asap_key_server = "https://keys.{D}/asap"\n    asap_accepted_issuers = {{ "example-idp" }}\n'
     f'    asap_accepted_audiences = {{ "jitsi" }}\n    allow_empty_token = false'),
    (PROSODY_SITE, '"muc_wait_for_host";', '"muc_wait_for_host";\n        "token_verification";'),
    (CONFIG_JS, "roomPasswordNumberOfDigits: 10,", f"roomPasswordNumberOfDigits: 10,\n    tokenAuthUrl: 'https://sso.{D}/login?room={{room}}',"),
    (CONFIG_JS, f"        anonymousdomain: 'guest.{D}',\n", ""),
    (JICOFO, "enabled = true\n    type = XMPP", "enabled = false\n    type = XMPP"),
)

LDAP_SITE_EDITS = (
    (PROSODY_SITE, f'VirtualHost "{D}"\n    authentication = "internal_hashed"',
     f'VirtualHost "{D}"\n    authentication = "cyrus"\n    cyrus_application_name = "xmpp"'),
)
SASL_TEXT = f"""\
ldap_servers: ldaps://ldap.example.org/
ldap_bind_dn: cn=jitsi,ou=services,dc=example,dc=org
ldap_bind_pw: {LDAP_PW}
ldap_auth_method: bind
ldap_search_base: ou=people,dc=example,dc=org
ldap_filter: (uid=%u)
ldap_tls_check_peer: yes
ldap_tls_cacert_file: /etc/ssl/certs/ca-certificates.crt
"""

ENV_TEXT = """\
CONFIG=~/.jitsi-meet-cfg
HTTP_PORT=8000
HTTPS_PORT=8443
TZ=UTC
PUBLIC_URL=https://meet.example.org
JVB_ADVERTISE_IPS=203.0.113.5
ENABLE_AUTH=1
ENABLE_GUESTS=1
AUTH_TYPE=internal
ENABLE_HTTP_REDIRECT=1
ENABLE_LOBBY=1
PROSODY_ENABLE_RATE_LIMITS=1
MAX_PARTICIPANTS=100
JICOFO_AUTH_PASSWORD=3f9c2a7d8e1b4c6a9f0e2d4b6c8a1e3f
JVB_AUTH_PASSWORD=7a1e3f5c9b2d4e6f8a0c2e4b6d8f1a3c
JIBRI_RECORDER_PASSWORD=c4e6a8f0b2d4e6a8c0f2b4d6e8a0c2f4
JIBRI_XMPP_PASSWORD=e8a0c2f4b6d8e0a2c4f6b8d0e2a4c6f8
JITSI_IMAGE_VERSION=stable-10314
"""

COMPOSE_TEXT = """\
services:
    web:
        image: ${JITSI_IMAGE_REPO:-ghcr.io/jitsi}/web:${JITSI_IMAGE_VERSION:-unstable}
        ports:
            - '${HTTP_PORT}:80'
            - '${HTTPS_PORT}:443'
    prosody:
        image: ${JITSI_IMAGE_REPO:-ghcr.io/jitsi}/prosody:${JITSI_IMAGE_VERSION:-unstable}
        expose:
            - '5222'
"""


# -- certificates --------------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@cache
def make_cert(
    *, self_signed: bool = False, rsa_bits: int | None = None, days: int = 90, start_days: int = -1,
    sans: tuple[str, ...] = (D,), sha1: bool = False, ocsp: bool = True,
) -> str:
    """A PEM leaf certificate for the web server (CA-signed unless self_signed); a CA-signed one names an
    OCSP responder unless `ocsp` is False (as Let's Encrypt's have not since 2025)."""
    now = datetime.now(UTC)
    key = rsa.generate_private_key(65537, rsa_bits) if rsa_bits else ec.generate_private_key(ec.SECP256R1())
    algo = hashes.SHA1() if sha1 else hashes.SHA256()
    if self_signed:
        issuer_key, issuer_name = key, _name(D)
    else:
        issuer_key, issuer_name = ec.generate_private_key(ec.SECP384R1()), x509.Name(
            [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Let's Encrypt"), x509.NameAttribute(NameOID.COMMON_NAME, "E6")]
        )
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(D))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=start_days))
        .not_valid_after(now + timedelta(days=days))
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
    if ocsp and not self_signed:
        responder = x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                           x509.UniformResourceIdentifier("http://ocsp.example.net"))
        builder = builder.add_extension(x509.AuthorityInformationAccess([responder]), critical=False)
    # cryptography's stubs leave SHA1 out of sign()'s algorithms; sha1=True deliberately makes a weak certificate.
    if sha1 and isinstance(issuer_key, rsa.RSAPrivateKey):
        cert = builder.sign(issuer_key, algo)  # type: ignore[arg-type]  # SHA1 on purpose (weak-cert fixture)
    else:
        cert = builder.sign(issuer_key, hashes.SHA256() if not sha1 else algo)  # type: ignore[arg-type]  # likewise
    return cert.public_bytes(serialization.Encoding.PEM).decode()


# -- building and auditing -------------------------------------------------------------------------

Edit = tuple[str, str, str | None]  # (path, old, new); new None deletes the file, old "" replaces it whole


def base_files() -> dict[str, str]:
    return {
        PROSODY_MAIN: PROSODY_MAIN_TEXT,
        PROSODY_SITE: PROSODY_SITE_TEXT,
        JICOFO: JICOFO_TEXT,
        JVB: JVB_TEXT,
        CONFIG_JS: CONFIG_JS_TEXT,
        INTERFACE_JS: INTERFACE_JS_TEXT,
        NGINX: NGINX_TEXT,
        CERT: make_cert(),
        TURN: TURN_TEXT,
    }


def apache_files() -> dict[str, str]:
    """The base deployment with Apache, not nginx, as its web front."""
    files = {path: text for path, text in base_files().items() if path != NGINX}
    return {
        **files,
        APACHE_MAIN: APACHE_MAIN_TEXT,
        APACHE_PORTS: APACHE_PORTS_TEXT,
        APACHE_SSL: APACHE_SSL_TEXT,
        APACHE_SECURITY: APACHE_SECURITY_TEXT,
        APACHE_SITE: APACHE_SITE_TEXT,
    }


def apply(files: dict[str, str], edits: Iterable[Edit]) -> dict[str, str]:
    out = dict(files)
    for path, old, new in edits:
        if new is None:
            out.pop(path, None)
        elif old == "":
            out[path] = new
        else:
            assert old in out[path], f"edit anchor not in {path}: {old[:60]!r}"
            out[path] = out[path].replace(old, new, 1)
    return out


def snapshot(
    files: Mapping[str, str],
    commands: Mapping[str, str] | None = None,
    modes: Mapping[str, int | None] | None = None,  # a None mode: collected with no recorded mode
    packages: Mapping[str, str] | None = None,
    denied: Iterable[str] = (),
    missing: Iterable[str] = (),
) -> Snapshot:
    """A live-like (ssh) snapshot; `denied` paths are collected as unreadable (permission denied), `missing`
    ones as not found (a path the plan or a configuration names, absent from the host)."""
    snap = Snapshot(target="test-host", transport="ssh")
    for path in missing:
        snap.add(CollectedItem(path, "file", ItemStatus.MISSING, None, error="not found"))
    for path in denied:
        snap.add(CollectedItem(path, "file", ItemStatus.PERMISSION_DENIED, None, mode=0o600, error="permission denied"))
    for path, text in files.items():
        if path in denied:
            continue
        mode = (modes or {}).get(path, 0o640)
        snap.add(CollectedItem(path, "file", ItemStatus.OK, text.encode(), size=len(text), mode=mode))
    for name, text in (commands or {}).items():
        snap.add(CollectedItem("cmd:" + name, "command", ItemStatus.OK, text.encode(), exit_code=0))
    if packages:
        rows = "".join(f"{n}\t{v}\tii \n" for n, v in packages.items())
        snap.add(CollectedItem("cmd:dpkg-query", "command", ItemStatus.OK, rows.encode(), exit_code=0))
    return snap


@lru_cache(maxsize=1)
def _engine() -> tuple[Profile, list[Check]]:
    profile = load_profile("default")
    return profile, all_checks(profile.criterion_ids, with_plugins=False)


def audit(snap: Snapshot) -> TargetResult:
    profile, checks = _engine()
    return audit_snapshot(snap, profile, checks)


def findings(snap: Snapshot) -> dict[str, Finding]:
    return {f.check_id: f for f in audit(snap).findings}
