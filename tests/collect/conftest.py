"""Fixtures for the collection tests: a fake Jitsi host tree and a runner for the real collector."""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from auditor.collect.plan import collector_script
from auditor.collect.stream import decode_stream
from auditor.snapshot import Snapshot

PLAIN_PASSWORD = "CANARY-plain-focus-password-7f3a"
KEY_CANARY_LINE = "CANARY-private-key-material"
FILE_CAP = 1024 * 1024


def make_cert_and_key(name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def write(root: Path, rel: str, content: str | bytes, mode: int = 0o644) -> Path:
    path = root / rel.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    path.chmod(mode)
    return path


@dataclass
class HostTree:
    root: Path
    cert_pem: bytes
    key_pem: bytes
    hostile_name: str


def build_host_tree(root: Path) -> HostTree:
    """A Debian quick-install look-alike, a docker-jitsi-meet project, and hostile bits."""
    d = "meet.example.org"
    cert, key = make_cert_and_key(d)
    write(root, "/usr/lib/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n')
    (root / "etc").mkdir(parents=True, exist_ok=True)
    os.symlink("../usr/lib/os-release", root / "etc/os-release")
    write(
        root,
        "/etc/prosody/prosody.cfg.lua",
        'admins = { }\nc2s_require_encryption = true\nInclude "conf.d/*.cfg.lua"\n',
    )
    write(
        root,
        f"/etc/prosody/conf.avail/{d}.cfg.lua",
        f'VirtualHost "{d}"\n    authentication = "jitsi-anonymous"\n'
        f'    ssl = {{\n        key = "/etc/prosody/certs/{d}.key";\n'
        f'        certificate = "/etc/prosody/certs/{d}.crt";\n    }}\n'
        f'    -- certificate = "/etc/prosody/certs/commented-out.crt";\n',
    )
    (root / "etc/prosody/conf.d").mkdir(parents=True)
    os.symlink(f"../conf.avail/{d}.cfg.lua", root / f"etc/prosody/conf.d/{d}.cfg.lua")
    write(root, f"/etc/prosody/certs/{d}.crt", cert)
    write(root, f"/etc/prosody/certs/{d}.key", key, 0o640)
    write(root, f"/var/lib/prosody/auth%2e{d.replace('.', '%2e')}/accounts/focus.dat",
          f'return {{\n\t["password"] = "{PLAIN_PASSWORD}";\n}};\n', 0o640)  # fmt: skip
    hashed = 'return {\n\t["stored_key"] = "abc";\n\t["salt"] = "x";\n\t["iteration_count"] = 4096;\n};\n'
    write(root, f"/var/lib/prosody/auth%2e{d.replace('.', '%2e')}/accounts/jvb.dat", hashed, 0o640)
    write(
        root,
        "/etc/jitsi/jicofo/jicofo.conf",
        'jicofo {\n  xmpp: { client: { password: "s3cr37" } }\n}\n',
        0o640,
    )
    write(root, "/etc/jitsi/videobridge/jvb.conf", "videobridge { }\n", 0o640)
    write(root, "/etc/jitsi/videobridge/big.log", b"x" * (FILE_CAP + 10))
    write(root, "/etc/jitsi/videobridge/blob.bin", bytes(range(256)) * 4)
    write(root, f"/etc/jitsi/meet/{d}-config.js", "var config = { hosts: { domain: 'meet.example.org' } };\n")
    write(root, f"/etc/jitsi/meet/{d}.crt", cert)
    write(root, f"/etc/jitsi/meet/{d}.key", key, 0o600)
    # a private key under an innocent name: caught by content, never sent
    write(root, "/etc/jitsi/meet/innocent.pem", key + f"# {KEY_CANARY_LINE}\n".encode())
    write(
        root,
        f"/etc/nginx/sites-available/{d}.conf",
        f"server {{\n    listen 443 ssl;\n    ssl_certificate /etc/jitsi/meet/{d}.crt;\n"
        f"    ssl_certificate_key /etc/jitsi/meet/{d}.key;\n"
        f'    ssl_certificate "/etc/ssl/outside-ref.crt";\n'
        f"    ssl_certificate $ssl_server_name.crt;\n}}\n",
    )
    (root / "etc/nginx/sites-enabled").mkdir(parents=True)
    os.symlink(f"../sites-available/{d}.conf", root / f"etc/nginx/sites-enabled/{d}.conf")
    write(root, "/etc/nginx/nginx.conf", "http { include /etc/nginx/sites-enabled/*; }\n")
    write(root, "/etc/ssl/outside-ref.crt", "not a certificate at all: secret-looking text\n")
    # Apache: a site linked from sites-enabled naming certificates in any case, quoted, relative to
    # ServerRoot, through a variable (ignored) and in a comment (ignored); conf/mods-enabled links
    write(root, "/etc/apache2/apache2.conf", "IncludeOptional mods-enabled/*.conf\nIncludeOptional sites-enabled/*.conf\n")
    write(
        root,
        f"/etc/apache2/sites-available/{d}.conf",
        "<VirtualHost *:443>\n    SSLEngine on\n    SSLCertificateFile /etc/ssl/apache/fullchain.pem\n"
        '    sslcertificatekeyfile "/etc/ssl/apache/privkey.pem"\n'
        "    SSLCertificateChainFile certs/chain.pem\n"
        "    SSLCertificateFile ${APACHE_CERT}/x.pem\n"
        "#   SSLCertificateFile /etc/ssl/apache/commented-out.pem\n</VirtualHost>\n",
    )
    (root / "etc/apache2/sites-enabled").mkdir(parents=True)
    os.symlink(f"../sites-available/{d}.conf", root / f"etc/apache2/sites-enabled/{d}.conf")
    write(root, "/etc/apache2/conf-available/security.conf", "ServerTokens OS\nServerSignature On\n")
    (root / "etc/apache2/conf-enabled").mkdir(parents=True)
    os.symlink("../conf-available/security.conf", root / "etc/apache2/conf-enabled/security.conf")
    write(root, "/etc/apache2/mods-available/ssl.conf", "<IfModule mod_ssl.c>\n    SSLProtocol all -SSLv3\n</IfModule>\n")
    write(root, "/etc/apache2/mods-available/ssl.load", "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n")
    (root / "etc/apache2/mods-enabled").mkdir(parents=True)
    for name in ("ssl.conf", "ssl.load"):
        os.symlink(f"../mods-available/{name}", root / f"etc/apache2/mods-enabled/{name}")
    write(root, "/etc/ssl/apache/fullchain.pem", cert)
    write(root, "/etc/ssl/apache/privkey.pem", key, 0o600)
    write(root, "/etc/apache2/certs/chain.pem", cert)
    write(root, "/etc/ssl/apache/commented-out.pem", cert)
    # hostile bits
    (root / "etc/nginx/conf.d").mkdir(parents=True)
    os.symlink("loop-b.conf", root / "etc/nginx/conf.d/loop-a.conf")
    os.symlink("loop-a.conf", root / "etc/nginx/conf.d/loop-b.conf")
    os.symlink("/etc/shadow", root / "etc/nginx/conf.d/shadow.conf")
    os.symlink("../../../etc/passwd-not-there", root / "etc/nginx/conf.d/dangling.conf")
    os.symlink("../../../../../../../../etc/passwd", root / "etc/nginx/conf.d/dotdot.conf")
    hostile = "evil\nname\t\x1b[31mred\x1b[0m ..conf"
    write(root, f"/etc/nginx/conf.d/{hostile}", "server { }\n")
    os.mkfifo(root / "etc/nginx/conf.d/fifo.conf")
    write(root, "/etc/turnserver.conf", "static-auth-secret=abc\n")
    # docker-jitsi-meet project with an explicit CONFIG, and one using the default
    write(
        root, "/opt/docker-jitsi-meet/docker-compose.yml", "services:\n  web:\n    image: jitsi/web:stable\n"
    )
    write(root, "/opt/docker-jitsi-meet/jibri.yml", "services:\n  jibri:\n    image: jitsi/jibri\n")
    write(
        root,
        "/opt/docker-jitsi-meet/.env",
        '# comment\nexport HTTP_PORT=8000\nCONFIG="/srv/jitsi-cfg"  \nJVB_AUTH_PASSWORD=x\n',
    )
    write(root, "/srv/jitsi-cfg/web/config.js", "config.p2p = { enabled: true };\n")
    write(root, "/srv/jitsi-cfg/web/keys/cert.crt", cert)
    write(root, "/srv/jitsi-cfg/web/keys/cert.key", key, 0o600)
    write(root, "/srv/jitsi-cfg/web/nginx/ssl.conf", "ssl_protocols TLSv1.2 TLSv1.3;\n")
    write(root, "/srv/jitsi-cfg/prosody/config/conf.d/jitsi-meet.cfg.lua", 'VirtualHost "meet.jitsi"\n')
    write(root, "/srv/jitsi-cfg/jicofo/jicofo.conf", "jicofo { }\n")
    write(root, "/srv/jitsi-cfg/jvb/jvb.conf", "videobridge { }\n")
    os.link(root / "etc/turnserver.conf", root / "srv/jitsi-cfg/jvb/hardlinked.conf")
    os.symlink("/etc/hostname", root / "srv/jitsi-cfg/jicofo/outside.conf")
    write(root, "/home/alice/djm/compose.yaml", "services:\n  prosody:\n    image: JITSI/prosody\n")
    write(root, "/root/.jitsi-meet-cfg/jvb/jvb.conf", "videobridge { default-config: true }\n")
    write(root, "/home/bob/other/docker-compose.yml", "services:\n  db:\n    image: postgres\n")
    return HostTree(root, cert, key, hostile)


@dataclass
class CollectorRun:
    stdout: bytes
    returncode: int
    snapshot: Snapshot


def run_collector(
    prefix: Path | None,
    *,
    shell: str = "/bin/sh",
    user: str | None = None,
    extra_env: dict[str, str] | None = None,
    path: str = "/usr/sbin:/usr/bin:/sbin:/bin",
    timeout: float = 120,
) -> CollectorRun:
    env = {"PATH": path, "LC_ALL": "C"}
    if prefix is not None:
        env["JITSI_AUDIT_ROOT_PREFIX"] = str(prefix)
    env.update(extra_env or {})
    argv = [shell, "sh", "-s"] if Path(shell).name == "busybox" else [shell, "-s"]
    if user is not None:
        setpriv = shutil.which("setpriv")
        if os.geteuid() != 0 or setpriv is None:
            pytest.skip("running as another user needs root and setpriv")
        pw = pwd.getpwnam(user)
        argv = [setpriv, f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", "--", *argv]
    proc = subprocess.run(
        argv, input=collector_script().encode(), capture_output=True, env=env, timeout=timeout, check=False
    )
    snap = decode_stream(proc.stdout, Snapshot(target="test", transport="local"))
    return CollectorRun(proc.stdout, proc.returncode, snap)


@pytest.fixture
def world_tmp() -> Iterator[Path]:
    """A temp dir other users can traverse (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="jaudit-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def host_tree(world_tmp: Path) -> HostTree:
    return build_host_tree(world_tmp / "host")
