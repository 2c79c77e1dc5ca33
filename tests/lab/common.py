
"""Pieces every lab host has, whatever its layout: sshd, sudo, the audit user, the web root, the
ForceCommand command log, prosody plugin stand-ins, the jicofo/JVB stand-in daemons and prosody accounts."""

from __future__ import annotations

import uuid

from .model import COLLECTOR_PATH, SSH_PORT, SSH_USER, Listener
from .pki import scram_sha1
from .plan import DaemonSpec, HostContext, Plan

SFTP_SERVER = "/usr/lib/openssh/sftp-server"
FORCECOMMAND = "/etc/ssh/jitsi-lab-forcecommand"

# Our own sshd drop-in per hardening level. Debian's sshd_config includes sshd_config.d/*.conf
# first, and for sshd the first value of a keyword wins, so these override the main file.
SSHD_HARDENED = """\
# Hardened SSH access for operations and the read-only audit account.
Port {port}
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
HostKey /etc/ssh/ssh_host_rsa_key
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthenticationMethods publickey
MaxAuthTries 3
LoginGraceTime 30
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitTunnel no
AllowUsers {user}
KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512
Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr
MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com
HostKeyAlgorithms ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256
PidFile /run/sshd.pid
"""

SSHD_DEBIAN = """\
# Key-only logins (the rest is Debian's sshd_config).
Port {port}
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
HostKey /etc/ssh/ssh_host_rsa_key
PasswordAuthentication no
PidFile /run/sshd.pid
"""

SSHD_LEGACY = """\
# Set up in 2020 and never touched since.
Port {port}
HostKey /etc/ssh/ssh_host_rsa_key
HostKey /etc/ssh/ssh_host_ecdsa_key
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin yes
PasswordAuthentication no
MaxAuthTries 10
X11Forwarding yes
ClientAliveInterval 0
KexAlgorithms +diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1
Ciphers +aes128-cbc,aes256-cbc
MACs +hmac-sha1
HostKeyAlgorithms +ssh-rsa
PubkeyAcceptedAlgorithms +ssh-rsa
PidFile /run/sshd.pid
"""

# Runs for every session of the audit user: logs the command, then runs it as sshd would have.
FORCECOMMAND_PY = '''\
#!{python} -I
"""jitsi-audit lab: record every command sshd runs for this account, then run it (ForceCommand)."""
import json
import os
import pwd
import sys
import time

LOG = {log!r}
SFTP_LOG = {sftp_log!r}
SFTP_SERVER = {sftp!r}

cmd = os.environ.get("SSH_ORIGINAL_COMMAND")
user = pwd.getpwuid(os.getuid())
if cmd is None:
    kind = "shell"
elif cmd.split()[:1] == [SFTP_SERVER] or cmd in ("internal-sftp", "sftp"):
    kind = "sftp"
else:
    kind = "exec"
record = {{
    "ts": round(time.time(), 3),
    "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    "user": user.pw_name,
    "kind": kind,
    "command": cmd,
    "client": os.environ.get("SSH_CLIENT", ""),
}}
try:
    with open(LOG, "a") as f:
        f.write(json.dumps(record) + "\\n")
except OSError as exc:  # never run a command that could not be recorded
    sys.stderr.write("jitsi-lab: cannot record command: %s\\n" % exc)
    sys.exit(126)
shell = user.pw_shell or "/bin/sh"
if kind == "sftp":
    fd = os.open(SFTP_LOG, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 2)
    os.execv(SFTP_SERVER, [SFTP_SERVER, "-e", "-l", "VERBOSE"])
elif kind == "exec":
    os.execv(shell, [shell, "-c", cmd])
else:
    os.execv(shell, ["-" + os.path.basename(shell)])
'''

COLLECTOR_PLACEHOLDER = b"""#!/bin/sh
# jitsi-audit read-only collector: placeholder installed by the jitsi-audit lab.
# The real collector (auditor/collect/remote_collector.sh) replaces it when it exists.
echo "jitsi-audit-collect placeholder: no collector installed"
exit 0
"""

# Stand-ins for two plugins of jitsi-meet-prosody (not in Debian): without them the Jitsi vhosts
# would have no authentication provider at all. Written for the lab; the real ones live in
# jitsi-meet's resources/prosody-plugins.
MOD_AUTH_JITSI_ANONYMOUS = """\
-- jitsi-audit lab stand-in for Jitsi's mod_auth_jitsi-anonymous: SASL ANONYMOUS, random user names.
local new_sasl = require "util.sasl".new;

local provider = {};

function provider.test_password(username, password) return nil, "Password based auth not supported"; end
function provider.get_password(username) return nil, "Password not available"; end
function provider.set_password(username, password) return nil, "Password based auth not supported"; end
function provider.user_exists(username) return nil, "Only anonymous users are supported"; end
function provider.create_user(username, password) return nil, "Account creation not supported"; end
function provider.get_sasl_handler(session)
    return new_sasl(module.host, { anonymous = function(sasl, username, realm) return true; end });
end

module:provides("auth", provider);
"""

MOD_AUTH_TOKEN = """\
-- jitsi-audit lab stand-in for Jitsi's mod_auth_token. It offers SASL ANONYMOUS like the real
-- module (the JWT travels in the BOSH/websocket URL) but verifies no token: every session that
-- authenticates is closed again, so nobody gets in.
local new_sasl = require "util.sasl".new;

local provider = {};

function provider.test_password(username, password) return nil, "Password based auth not supported"; end
function provider.get_password(username) return nil, "Password not available"; end
function provider.set_password(username, password) return nil, "Password based auth not supported"; end
function provider.user_exists(username) return nil, "Only token users are supported"; end
function provider.create_user(username, password) return nil, "Account creation not supported"; end
function provider.get_sasl_handler(session)
    return new_sasl(module.host, { anonymous = function(sasl, username, realm) return true; end });
end

module:provides("auth", provider);

module:hook("authentication-success", function(event)
    module:log("warn", "lab stand-in: token verification is not implemented, closing session");
    event.session:close({ condition = "not-authorized", text = "token required" });
    return true;
end);
"""


def sshd_dropin(level: str) -> str:
    template = {"hardened": SSHD_HARDENED, "debian": SSHD_DEBIAN, "legacy": SSHD_LEGACY}[level]
    text = template.format(port=SSH_PORT, user=SSH_USER)
    # Matched last: the audit account always goes through the command-recording wrapper.
    return text + f"\nMatch User {SSH_USER}\n    ForceCommand {FORCECOMMAND}\n"


def add_ssh_and_sudo(plan: Plan, ctx: HostContext, level: str, sudo: bool) -> None:
    plan.add("/etc/ssh/sshd_config.d/50-site.conf", sshd_dropin(level))
    plan.add(
        FORCECOMMAND,
        FORCECOMMAND_PY.format(
            python=ctx.python,
            log=f"{ctx.state_dir}/commands.log",
            sftp_log=f"{ctx.state_dir}/sftp.log",
            sftp=SFTP_SERVER,
        ),
        mode=0o755,
    )
    plan.add(COLLECTOR_PATH, ctx.collector, mode=0o755)
    # Every sudo call (granted or refused) lands in the host's own log, for the security tests.
    plan.add("/etc/sudoers.d/zz-logging", "Defaults logfile=/var/log/sudo.log\n", mode=0o440)
    if sudo:
        plan.add(
            "/etc/sudoers.d/jitsi-audit",
            "# The jitsi-audit account may run the read-only collector as root, and nothing else.\n"
            f"Defaults:{SSH_USER} !requiretty, !lecture\n"
            f"{SSH_USER} ALL=(root) NOPASSWD: {COLLECTOR_PATH}\n",
            mode=0o440,
        )
    plan.dir("/run/sshd", 0o755)


def sshd_daemon() -> DaemonSpec:
    return DaemonSpec(
        "sshd",
        ["/usr/sbin/sshd", "-D", "-e", "-f", "/etc/ssh/sshd_config"],
        listeners=[Listener("tcp", "0.0.0.0", SSH_PORT, "sshd")],
    )


def add_prosody_plugins(plan: Plan, base: str = "/usr/share/jitsi-meet/prosody-plugins") -> None:
    plan.dir(base, 0o755)
    plan.add(f"{base}/mod_auth_jitsi-anonymous.lua", MOD_AUTH_JITSI_ANONYMOUS)
    plan.add(f"{base}/mod_auth_token.lua", MOD_AUTH_TOKEN)


def add_web_root(plan: Plan, domain: str, root: str = "/usr/share/jitsi-meet") -> None:
    """A minimal stand-in for the jitsi-meet-web package's static files."""
    plan.dir(root)
    for sub in ("libs", "static", "css", "images", "sounds", "lang", "fonts"):
        plan.dir(f"{root}/{sub}")
    plan.add(
        f"{root}/index.html",
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Jitsi Meet</title>\n'
        '<script src="config.js"></script><script src="interface_config.js"></script>\n'
        '<script src="libs/app.bundle.min.js"></script></head>\n'
        f'<body><div id="react" data-domain="{domain}"></div></body></html>\n',
    )
    plan.add(f"{root}/static/404.html", "<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>\n")
    plan.add(f"{root}/libs/app.bundle.min.js", "/* jitsi-audit lab placeholder for the web app */\n")
    plan.add(f"{root}/libs/external_api.min.js", "/* jitsi-audit lab placeholder for the iframe API */\n")
    plan.add(
        f"{root}/interface_config.js",
        "var interfaceConfig = {\n    APP_NAME: 'Jitsi Meet',\n    SHOW_JITSI_WATERMARK: true,\n"
        "    JITSI_WATERMARK_LINK: 'https://jitsi.org',\n    GENERATE_ROOMNAMES_ON_WELCOME_PAGE: true,\n"
        "    SUPPORT_URL: 'https://community.jitsi.org/',\n};\n",
    )
    plan.add(f"{root}/css/all.css", "body { margin: 0; }\n")


def standin_daemon(
    ctx: HostContext,
    role: str,
    version: str,
    http: list[tuple[str, int]],
    udp: list[tuple[str, int]] | None = None,
    tcp: list[tuple[str, int]] | None = None,
    user: str | None = None,
) -> DaemonSpec:
    argv = [ctx.python, "-I", ctx.standin, "--role", role, "--version", version]
    listeners: list[Listener] = []
    for addr, port in http:
        argv += ["--http", f"{addr}:{port}"]
        listeners.append(Listener("tcp", addr, port, role))
    for addr, port in tcp or []:
        argv += ["--tcp", f"{addr}:{port}"]
        listeners.append(Listener("tcp", addr, port, role))
    for addr, port in udp or []:
        argv += ["--udp", f"{addr}:{port}"]
        listeners.append(Listener("udp", addr, port, role))
    return DaemonSpec(
        role,
        argv,
        user=user or role,
        listeners=listeners,
        stdout=f"/var/log/jitsi/{'jicofo' if role == 'jicofo' else 'jvb'}.log",
    )


def prosody_encode(s: str) -> str:
    """Prosody's datamanager encodes host and user names: every non-alphanumeric byte as %xx."""
    return "".join(c if c.isascii() and c.isalnum() else f"%{ord(c):02x}" for c in s)


def prosody_account(plan: Plan, data_path: str, host: str, user: str, password: str, hashed: bool) -> None:
    """Write an account file the way `prosodyctl register` does (faster than running it)."""
    hdir = f"{data_path}/{prosody_encode(host)}"
    plan.dir(hdir, 0o750, "prosody", "prosody")
    plan.dir(f"{hdir}/accounts", 0o750, "prosody", "prosody")
    if hashed:
        salt = str(uuid.uuid4())
        stored, server = scram_sha1(password, salt, 10000)
        body = (
            f'return {{\n\t["iteration_count"] = 10000;\n\t["salt"] = "{salt}";\n'
            f'\t["server_key"] = "{server}";\n\t["stored_key"] = "{stored}";\n}};\n'
        )
    else:
        body = f'return {{\n\t["password"] = "{password}";\n}};\n'
    plan.add(f"{hdir}/accounts/{prosody_encode(user)}.dat", body, 0o640, "prosody", "prosody")
