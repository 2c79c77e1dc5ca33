"""Real servers on loopback for the probe tests: nginx and prosody with generated certificates.

Three hosts, each on its own 127.x.y.z address:
  good  - TLS 1.2/1.3 Mozilla intermediate, HSTS and security headers, redirect to HTTPS, prosody only
          on a second ("internal") address behind the proxy, secure main domain.
  weak  - TLSv1/1.1 with @SECLEVEL=0 (on 443 and 5281), self-signed certificate, no HSTS, version disclosure, config.js
          with a TURN credential and a secret, /colibri/stats and /about/health proxied, prosody c2s
          and plain HTTP on the public address (anonymous main domain, focus/passw0rd), and a port
          that silently drops SYNs.
  expired - the good site with an expired certificate.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab.pki import make_ca, make_leaf, make_self_signed, scram_sha1

MOZILLA_INTERMEDIATE = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
)
TURN_CANARY = "CANARY-probe-turn-credential-7f3a9c"
SECRET_CANARY = "CANARY-probe-callstats-secret-41d8e2"
FOCUS_PASSWORD = "passw0rd"


@dataclass
class Host:
    name: str
    domain: str
    address: str
    internal: str | None = None  # where prosody listens when it is not public
    ca: str = ""
    canaries: list[str] = field(default_factory=list)


@dataclass
class ProbeLab:
    root: Path
    good: Host
    weak: Host
    expired: Host
    drop_port: int
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _holders: list[socket.socket] = field(default_factory=list)

    def stop(self) -> None:
        for proc in self.procs:  # only the processes this lab started, by their handle
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for sock in self._holders:
            sock.close()


def _free_base() -> str:
    """A 127.a.b.0 prefix whose addresses have nothing listening on the ports the lab needs."""
    rng = random.Random(os.getpid() ^ int(time.time()))
    for _ in range(50):
        base = f"127.{rng.randint(100, 250)}.{rng.randint(1, 250)}."
        if all(_bindable(base + last, port) for last in ("10", "11", "20", "30")
               for port in (80, 443, 5222, 5269, 5280, 5281, 8888)):
            return base
    raise RuntimeError("no free loopback address for the probe lab")


def _bindable(address: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def _wait_listening(address: str, port: int, proc: subprocess.Popen[bytes], log: Path,
                    timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((address, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {address}:{port}: {log.read_text(errors='replace')[-2000:]}")


def _write_pki(root: Path, lab: ProbeLab) -> dict[str, tuple[Path, Path]]:
    ca_pair, ca_key, ca_cert = make_ca("jitsi-audit probe test CA")
    (root / "ca.pem").write_bytes(ca_pair.cert_pem)
    now = dt.datetime.now(dt.UTC)
    pairs = {
        "good": make_leaf(ca_key, ca_cert, [lab.good.domain, f"*.{lab.good.domain}"]),
        "weak": make_self_signed([lab.weak.domain]),
        "expired": make_leaf(ca_key, ca_cert, [lab.expired.domain], not_before=now - dt.timedelta(days=120),
                             not_after=now - dt.timedelta(days=30)),
    }
    out = {}
    for name, pair in pairs.items():
        cert, key = root / f"{name}.crt", root / f"{name}.key"
        cert.write_bytes(pair.cert_pem)
        key.write_bytes(pair.key_pem)
        key.chmod(0o600)
        out[name] = (cert, key)
    lab.good.ca = lab.expired.ca = str(root / "ca.pem")
    lab.weak.ca = str(out["weak"][0])
    return out


CONFIG_GOOD = """var config = {
    hosts: { domain: '%(domain)s', muc: 'conference.%(domain)s' },
    bosh: '/http-bind',
    websocket: 'wss://%(domain)s/xmpp-websocket',
    p2p: { enabled: true, stunServers: [ { urls: 'stun:%(domain)s:3478' } ] },
    disableThirdPartyRequests: true
};
"""
CONFIG_WEAK = """var config = {
    hosts: { domain: '%(domain)s', muc: 'conference.%(domain)s' },
    bosh: '//%(domain)s/http-bind',
    callStatsSecret: '%(secret)s',
    p2p: { enabled: true, iceServers: [
        { urls: 'turn:%(domain)s:3478', username: 'jitsi', credential: '%(turn)s' } ] }
};
"""


def _server(root: Path, host: Host, cert: Path, key: Path, body: str, *, tls: str, extra_port: int = 0) -> str:
    www = root / f"{host.name}-www"
    extra = f"listen {host.address}:{extra_port} ssl;" if extra_port else ""
    return f"""
  server {{
    listen {host.address}:443 ssl;
    {extra}
    server_name {host.domain};
    ssl_certificate {cert};
    ssl_certificate_key {key};
    {tls}
    root {www};
    {body}
    location = /config.js {{ default_type application/javascript; alias {www}/config.js; }}
    location / {{ try_files $uri /index.html; }}
  }}
"""


def _proxy(upstream: str) -> str:
    return f"""
    location = /http-bind {{ proxy_pass http://{upstream}:5280/http-bind; proxy_set_header Host $http_host; }}
    location = /xmpp-websocket {{
        proxy_pass http://{upstream}:5280/xmpp-websocket; proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";
        proxy_set_header Host $http_host;
    }}
"""


def nginx_conf(root: Path, lab: ProbeLab, pki: dict[str, tuple[Path, Path]]) -> str:
    good, weak, expired = lab.good, lab.weak, lab.expired
    strong_tls = (f"ssl_protocols TLSv1.2 TLSv1.3; ssl_ciphers {MOZILLA_INTERMEDIATE}; "
                  "ssl_prefer_server_ciphers off; ssl_ecdh_curve X25519:prime256v1:secp384r1; "
                  "server_tokens off;")
    weak_tls = ('ssl_protocols TLSv1 TLSv1.1 TLSv1.2; ssl_ciphers "ALL:@SECLEVEL=0"; '
                "ssl_prefer_server_ciphers on;")
    good_body = headers_block() + _proxy(good.internal or good.address)
    headers = headers_block()
    jicofo = ('location ~ ^/conference-request/v1(/.*)?$ { default_type application/json; '
              'return 405 \'{"error":"method not allowed"}\'; }')
    weak_extra = """
    location = /colibri/stats {
        default_type application/json; return 200 '{"conferences":0,"participants":0}';
    }
    location = /about/health { default_type text/plain; return 200 ''; }
"""
    return f"""
worker_processes 1;
user root;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log;
events {{ worker_connections 512; }}
http {{
  access_log off;
  default_type application/octet-stream;
  types {{ text/html html; application/javascript js; }}
  client_body_temp_path {root}/tmp-body; proxy_temp_path {root}/tmp-proxy;
  fastcgi_temp_path {root}/tmp-fcgi; uwsgi_temp_path {root}/tmp-uwsgi; scgi_temp_path {root}/tmp-scgi;
  server {{ listen {good.address}:80; server_name {good.domain}; server_tokens off;
           location / {{ return 301 https://$host$request_uri; }} }}
  server {{ listen {weak.address}:80; server_name {weak.domain};
           location / {{ default_type text/html; return 200 '<html>plain</html>'; }} }}
  {_server(root, good, *pki["good"], good_body + jicofo, tls=strong_tls)}
  {_server(root, expired, *pki["expired"], headers, tls=strong_tls)}
  {_server(root, weak, *pki["weak"], _proxy(weak.address) + weak_extra, tls=weak_tls, extra_port=5281)}
}}
"""


def headers_block() -> str:
    return """
    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
    add_header X-Content-Type-Options "nosniff" always;
    add_header Referrer-Policy "strict-origin-when-cross-origin" always;
    add_header Content-Security-Policy "frame-ancestors 'self'" always;
    add_header Permissions-Policy "geolocation=()" always;
"""


def prosody_conf(root: Path, lab: ProbeLab, pki: dict[str, tuple[Path, Path]]) -> str:
    good, weak = lab.good, lab.weak
    gcert, gkey = pki["good"]
    wcert, wkey = pki["weak"]
    return f"""
pidfile = "{root}/prosody.pid"
data_path = "{root}/prosody-data"
run_as_root = true
log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = "{root}/prosody.log" }} }}
interfaces = {{ "{good.internal}", "{weak.address}" }}
c2s_ports = {{ 5222 }}
s2s_ports = {{ 5269 }}
s2s_interfaces = {{ "{weak.address}" }}
http_ports = {{ 5280 }}
http_interfaces = {{ "{good.internal}", "{weak.address}" }}
https_ports = {{ }}
c2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
certificates = "{root}/prosody-certs"
modules_enabled = {{ "roster"; "saslauth"; "tls"; "disco"; "bosh"; "websocket"; "ping"; "dialback" }}
consider_bosh_secure = true
consider_websocket_secure = true
c2s_require_encryption = false
s2s_require_encryption = false
s2s_secure_auth = false
VirtualHost "{good.domain}"
  authentication = "internal_hashed"
  ssl = {{ key = "{gkey}"; certificate = "{gcert}" }}
VirtualHost "{weak.domain}"
  authentication = "anonymous"
  ssl = {{ key = "{wkey}"; certificate = "{wcert}" }}
VirtualHost "auth.{weak.domain}"
  authentication = "internal_hashed"
  ssl = {{ key = "{wkey}"; certificate = "{wcert}" }}
"""


def _prosody_host_dir(domain: str) -> str:
    return domain.replace("%", "%25").replace(".", "%2e").replace("-", "%2d")


def _write_account(data: Path, domain: str, user: str, password: str) -> None:
    salt = "jitsiauditprobesalt"
    stored, server = scram_sha1(password, salt, 4096)
    accounts = data / _prosody_host_dir(domain) / "accounts"
    accounts.mkdir(parents=True, exist_ok=True)
    (accounts / f"{user}.dat").write_text(
        f'return {{\n\t["stored_key"] = "{stored}";\n\t["server_key"] = "{server}";\n'
        f'\t["salt"] = "{salt}";\n\t["iteration_count"] = 4096;\n}};\n'
    )


def start_probe_lab(root: Path) -> ProbeLab:
    if os.geteuid() != 0:
        raise PermissionError("the probe lab binds ports below 1024 and runs nginx/prosody as root")
    for tool in ("nginx", "prosody"):
        if shutil.which(tool) is None:
            raise FileNotFoundError(f"{tool} is not installed")
    base = _free_base()
    lab = ProbeLab(
        root=root,
        good=Host("good", "good.probe-lab.test", base + "10", internal=base + "11"),
        weak=Host("weak", "weak.probe-lab.test", base + "20", canaries=[TURN_CANARY, SECRET_CANARY]),
        expired=Host("expired", "expired.probe-lab.test", base + "30"),
        drop_port=8888,
    )
    pki = _write_pki(root, lab)
    for host, cfg in ((lab.good, CONFIG_GOOD), (lab.weak, CONFIG_WEAK), (lab.expired, CONFIG_GOOD)):
        www = root / f"{host.name}-www"
        www.mkdir()
        (www / "index.html").write_text(f"<!DOCTYPE html><html><head><title>Jitsi Meet</title></head>"
                                        f"<body>{host.name}</body></html>")
        values = {"domain": host.domain, "turn": TURN_CANARY, "secret": SECRET_CANARY}
        (www / "config.js").write_text(cfg % values)
    (root / "prosody-certs").mkdir()
    data = root / "prosody-data"
    _write_account(data, f"auth.{lab.weak.domain}", "focus", FOCUS_PASSWORD)
    _write_account(data, lab.good.domain, "alice", "a-long-random-password-for-alice")
    try:
        conf = root / "nginx.conf"
        conf.write_text(nginx_conf(root, lab, pki))
        log = root / "nginx.out"
        with log.open("wb") as out:
            lab.procs.append(subprocess.Popen(["nginx", "-c", str(conf), "-g", "daemon off;"],
                                              stdout=out, stderr=subprocess.STDOUT))
        _wait_listening(lab.good.address, 443, lab.procs[-1], root / "nginx-error.log")
        pconf = root / "prosody.cfg.lua"
        pconf.write_text(prosody_conf(root, lab, pki))
        plog = root / "prosody.out"
        with plog.open("wb") as out:
            lab.procs.append(subprocess.Popen(["prosody", "--config", str(pconf), "-F"],
                                              stdout=out, stderr=subprocess.STDOUT))
        for address, port in ((lab.weak.address, 5222), (lab.weak.address, 5269), (lab.weak.address, 5280),
                              (lab.good.internal or "", 5222), (lab.good.internal or "", 5280)):
            _wait_listening(address, port, lab.procs[-1], plog)
        # A port that silently drops connection attempts: a full accept queue (backlog 0, one held).
        dropper = socket.socket()
        dropper.bind((lab.weak.address, lab.drop_port))
        dropper.listen(0)
        holder = socket.create_connection((lab.weak.address, lab.drop_port), timeout=2)
        lab._holders += [dropper, holder]
    except BaseException:
        lab.stop()
        raise
    return lab
