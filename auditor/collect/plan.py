"""The collection plan: every file and command the collector may read or run, as data.

This module is the allow-list. `remote_collector.sh` contains a generated block (between the
`BEGIN GENERATED PLAN` / `END GENERATED PLAN` markers) rendered from the data here by
`render_plan_block()`; a test asserts that the committed script matches. After editing the data,
regenerate with `python -m auditor.collect.plan --write`.

Policies decide how much of a matched file leaves the host:
- `full`: the content, unless the file is (or looks like) a private key: then metadata only.
- `cert`: the content only if it is a PEM certificate without any private key; else metadata only.
- `meta`: metadata only (mode, owner, group, size), never content.
- `account`: a prosody account file is summarised on the host (which password fields exist), so
  a cleartext `internal_plain` password never leaves the host.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shlex
import sys
from dataclasses import asdict, dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path

COLLECTOR_VERSION = "4"
STREAM_FORMAT = "2"
STREAM_MAGIC = "JITSI-AUDIT-COLLECT"

# Where the admin installs the collector for --sudo audits (see the header of remote_collector.sh).
SUDO_COLLECTOR_PATH = "/usr/local/libexec/jitsi-audit-collect"

FILE_SIZE_CAP = 1024 * 1024  # per file; larger files are reported too_large with their real size
TOTAL_SIZE_CAP = 32 * 1024 * 1024  # all file contents together
COMMAND_OUTPUT_CAP = 1024 * 1024
MAX_REFERENCED_CERTS = 32
MAX_DIRECTORY_MODES = 48  # directories above the collected files whose modes are reported
MAX_DOCKER_DIRS = 8
MAX_COMPOSE_FILES_EXAMINED = 64
DOCKER_SEARCH_ROOTS = ("/opt", "/srv", "/root", "/home/*")
DOCKER_SEARCH_DEPTH = 3  # directories below a search root
# Directories entered below one search root before the compose search stops (and says so): a home with
# thousands of project trees, or symlinked directories, must not make the collector's memory or time grow
# without end on the audited host.
MAX_COMPOSE_SEARCH_DIRS = 4096
COMPOSE_FILE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
DOCKER_DEFAULT_CONFIG = "~/.jitsi-meet-cfg"

# File names whose content is never collected, whatever the policy (DER keys and keystores cannot be
# recognised by the PEM marker below).
PRIVATE_KEY_NAME_PATTERNS = ("*.key", "*privkey*", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.p8")
PRIVATE_KEY_MARKER = b"PRIVATE KEY-----"  # ends "-----BEGIN (RSA |EC |OPENSSH |ENCRYPTED )PRIVATE KEY-----"
CERTIFICATE_MARKER = b"-----BEGIN CERTIFICATE-----"

# Key prefix of command items (auditor.snapshot.COMMAND_PREFIX) + these names.
CMD_DPKG = "dpkg-query"
CMD_SS = "ss"
CMD_PROSODYCTL_ABOUT = "prosodyctl-about"
CMD_LSBLK = "lsblk"
CMD_FINDMNT = "findmnt"
CMD_UNAME = "uname"
CMD_HOSTNAME = "hostname"
CMD_ID = "id"
CMD_PROCESSES = "processes"

# The command name (comm) of every process, read by the collector's shell itself from these files and
# reported as command CMD_PROCESSES (bounded like a command's output). comm is the executable's name,
# at most 15 bytes: never the arguments (/proc/<pid>/cmdline), which can carry secrets. `ps -e -o comm=`
# prints the same names from /proc but needs procps, which minimal hosts and most container images lack;
# and reading comm never waits on the process (cmdline can, on a process whose memory map is locked).
PROCESS_NAME_FILES = "/proc/[0-9]*/comm"


class Policy(StrEnum):
    FULL = "full"
    CERT = "cert"
    META = "meta"
    ACCOUNT = "account"


class Scan(StrEnum):
    """Read-only scan of a collected file for certificate paths to collect as well."""

    NONE = "-"
    NGINX = "n"  # ssl_certificate / ssl_certificate_key
    APACHE = "a"  # SSLCertificateFile / SSLCertificateChainFile / SSLCertificateKeyFile (any case)
    PROSODY = "p"  # certificate = "..." / key = "..." (in ssl = { ... })


@dataclass(frozen=True, slots=True)
class FileRule:
    """Files matching `pattern` (absolute; `*` globs, no recursion), read with `policy`.

    Symlinks are followed only when the resolved path stays inside one of `link_roots` (default:
    the glob-free directory of the pattern); otherwise the item is `not_regular`.
    """

    pattern: str
    policy: Policy = Policy.FULL
    max_files: int = 64
    link_roots: tuple[str, ...] = ()
    scan: Scan = Scan.NONE

    @property
    def base(self) -> str:
        """The glob-free leading directory (or the file itself for a fixed path)."""
        if "*" not in self.pattern:
            return self.pattern
        head = self.pattern.split("*", 1)[0]
        return head.rsplit("/", 1)[0] or "/"

    @property
    def tail(self) -> str:
        """The glob part after `base` ('' for a fixed path)."""
        if "*" not in self.pattern:
            return ""
        return self.pattern[len(self.base) :].lstrip("/")

    @property
    def roots(self) -> tuple[str, ...]:
        if self.link_roots:
            return self.link_roots
        return (self.base if self.tail else self.pattern.rsplit("/", 1)[0] or "/",)


@dataclass(frozen=True, slots=True)
class DockerRule:
    """A file under a docker-jitsi-meet project or CONFIG directory (path relative to it)."""

    relpattern: str
    policy: Policy = Policy.FULL
    max_files: int = 64

    @property
    def base(self) -> str:
        if "*" not in self.relpattern:
            return self.relpattern
        head = self.relpattern.split("*", 1)[0]
        return head.rsplit("/", 1)[0] if "/" in head else ""

    @property
    def tail(self) -> str:
        if "*" not in self.relpattern:
            return ""
        return self.relpattern[len(self.base) :].lstrip("/")


@dataclass(frozen=True, slots=True)
class CommandRule:
    """A read-only command, run only if its program exists, always under `timeout`."""

    name: str
    argv: tuple[str, ...]
    timeout: int


_NGINX_ROOTS = ("/etc/nginx",)
_APACHE_ROOTS = ("/etc/apache2",)
_CERT_ROOTS = (
    "/etc/jitsi",
    "/etc/prosody",
    "/var/lib/prosody",
    "/etc/letsencrypt",
    "/etc/ssl",
    "/opt/acmesh",
)

DEBIAN_FILES: tuple[FileRule, ...] = (
    FileRule("/etc/os-release", link_roots=("/etc", "/usr/lib")),
    FileRule("/etc/prosody/prosody.cfg.lua", scan=Scan.PROSODY),
    FileRule("/etc/prosody/conf.d/*", link_roots=("/etc/prosody",), scan=Scan.PROSODY),
    FileRule("/etc/prosody/conf.avail/*", link_roots=("/etc/prosody",), scan=Scan.PROSODY),
    FileRule("/etc/prosody/certs/*", Policy.CERT, link_roots=_CERT_ROOTS),
    FileRule("/var/lib/prosody/*/accounts/*.dat", Policy.ACCOUNT, max_files=40),
    FileRule("/etc/jitsi/jicofo/*", link_roots=("/etc/jitsi",)),
    FileRule("/etc/jitsi/videobridge/*", link_roots=("/etc/jitsi",)),
    FileRule("/etc/jitsi/meet/*", link_roots=_CERT_ROOTS),
    FileRule("/etc/jitsi/meet/jaas/*", link_roots=("/etc/jitsi",)),
    FileRule("/etc/jitsi/jibri/*", link_roots=("/etc/jitsi",)),
    FileRule("/etc/jitsi/jigasi/*", link_roots=("/etc/jitsi",)),
    FileRule("/usr/share/jitsi-meet/interface_config.js", link_roots=("/usr/share/jitsi-meet", "/etc/jitsi")),
    FileRule("/etc/nginx/nginx.conf", link_roots=_NGINX_ROOTS, scan=Scan.NGINX),
    FileRule("/etc/nginx/sites-enabled/*", link_roots=_NGINX_ROOTS, scan=Scan.NGINX),
    FileRule("/etc/nginx/sites-available/*", link_roots=_NGINX_ROOTS, scan=Scan.NGINX),
    FileRule("/etc/nginx/conf.d/*", link_roots=_NGINX_ROOTS, scan=Scan.NGINX),
    FileRule("/etc/nginx/snippets/*", link_roots=_NGINX_ROOTS, scan=Scan.NGINX),
    FileRule("/usr/local/openresty/nginx/conf/*.conf", scan=Scan.NGINX),
    # certbot --nginx / --apache put the TLS settings of the sites they manage in these, by include
    FileRule("/etc/letsencrypt/options-ssl-nginx.conf", link_roots=("/etc/letsencrypt",)),
    FileRule("/etc/letsencrypt/options-ssl-apache.conf", link_roots=("/etc/letsencrypt",)),
    FileRule("/etc/apache2/apache2.conf", link_roots=_APACHE_ROOTS, scan=Scan.APACHE),
    FileRule("/etc/apache2/ports.conf", link_roots=_APACHE_ROOTS, scan=Scan.APACHE),
    FileRule("/etc/apache2/sites-enabled/*", link_roots=_APACHE_ROOTS, scan=Scan.APACHE),
    FileRule("/etc/apache2/sites-available/*", link_roots=_APACHE_ROOTS, scan=Scan.APACHE),
    FileRule("/etc/apache2/conf-enabled/*", link_roots=_APACHE_ROOTS, scan=Scan.APACHE),
    FileRule("/etc/apache2/mods-enabled/*.conf", link_roots=_APACHE_ROOTS, scan=Scan.APACHE),
    FileRule("/etc/turnserver.conf"),
    FileRule("/etc/default/coturn"),
    FileRule("/etc/saslauthd.conf"),
    FileRule("/etc/default/saslauthd"),
    FileRule("/etc/sasl/prosody.conf"),
    FileRule("/etc/sasl2/prosody.conf"),
    FileRule("/etc/ldap/ldap.conf"),
)

DOCKER_PROJECT_FILES: tuple[DockerRule, ...] = (
    DockerRule(".env", max_files=1),
    DockerRule("*.yml", max_files=16),
    DockerRule("*.yaml", max_files=16),
)

DOCKER_CONFIG_FILES: tuple[DockerRule, ...] = (
    DockerRule("web/config.js"),
    DockerRule("web/custom-config.js"),
    DockerRule("web/interface_config.js"),
    DockerRule("web/custom-interface_config.js"),
    DockerRule("web/nginx/*"),
    DockerRule("web/nginx/site-confs/*"),  # the server blocks: nginx.conf includes /config/nginx/site-confs/*
    DockerRule("web/keys/*.crt", Policy.CERT, max_files=8),
    DockerRule("prosody/config/*.cfg.lua"),
    DockerRule("prosody/config/conf.d/*"),
    DockerRule("jicofo/*.conf"),
    DockerRule("jvb/*.conf"),
    DockerRule("jibri/*.conf"),
    DockerRule("jigasi/*.properties"),
)

# Container mode (JITSI_AUDIT_CONTAINER=1, set by the docker:// and kubectl:// transports): inside a
# docker-jitsi-meet container, only the image's rendered configuration directory is read (plus
# /etc/os-release and the commands); the Debian paths and the compose search are skipped.
CONTAINER_CONFIG_DIR = "/config"
# Images since stable-11146 (docker-jitsi-meet 086d047f, rootless containers) render each service's
# configuration from the read-only /config into /run/<service>/config, where the daemon reads it: /config
# then holds the operator's inputs (custom-*.conf) and whatever an older image rendered there. The first of
# these that exists in the container is read, /config last.
CONTAINER_CONFIG_DIRS: tuple[str, ...] = (
    "/run/web/config", "/run/prosody/config", "/run/jicofo/config", "/run/jvb/config", "/run/jibri/config",
    "/run/jigasi/config", CONTAINER_CONFIG_DIR,
)
CONTAINER_HOST_FILES: tuple[FileRule, ...] = (FileRule("/etc/os-release", link_roots=("/etc", "/usr/lib")),)
CONTAINER_CONFIG_FILES: tuple[DockerRule, ...] = (
    DockerRule("*config.js", max_files=8),  # web: config.js, interface_config.js, custom-*.js
    DockerRule("nginx/*"),
    DockerRule("nginx/site-confs/*"),
    DockerRule("keys/*.crt", Policy.CERT, max_files=8),
    DockerRule("*.cfg.lua"),  # prosody
    DockerRule("conf.d/*"),
    DockerRule("*.conf"),  # jicofo.conf, jvb.conf, jibri.conf
    DockerRule("*.properties"),  # legacy sip-communicator.properties, jigasi
)

JITSI_PACKAGES: tuple[str, ...] = (
    "jitsi-meet", "jitsi-meet-web", "jitsi-meet-web-config", "jitsi-meet-prosody", "jitsi-meet-tokens",
    "jitsi-meet-turnserver", "jicofo", "jitsi-videobridge2", "jibri", "jigasi",
    "prosody", "prosody-0.12", "prosody-13.0", "prosody-trunk", "coturn",
    "nginx", "nginx-full", "nginx-extras", "nginx-light", "nginx-core", "openresty", "apache2",
    "lua-sec", "lua-basexx", "lua-luaossl", "lua-cjson", "lua-inspect",
    "openjdk-17-jre-headless", "openjdk-21-jre-headless", "ruby-hocon",
    "sasl2-bin", "libsasl2-modules-ldap", "docker-ce", "docker.io", "docker-compose-plugin",
    "certbot", "openssh-server",
)  # fmt: skip

COMMANDS: tuple[CommandRule, ...] = (
    CommandRule(
        CMD_DPKG,
        ("dpkg-query", "-W", r"--showformat=${Package}\t${Version}\t${db:Status-Abbrev}\n", *JITSI_PACKAGES),
        15,
    ),
    CommandRule(CMD_SS, ("ss", "-Hltnup"), 10),
    CommandRule(CMD_PROSODYCTL_ABOUT, ("prosodyctl", "about"), 20),
    CommandRule(CMD_LSBLK, ("lsblk", "-P", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINT"), 10),
    CommandRule(CMD_FINDMNT, ("findmnt", "-rn", "-o", "TARGET,SOURCE,FSTYPE"), 10),
    CommandRule(CMD_UNAME, ("uname", "-srm"), 5),
    CommandRule(CMD_HOSTNAME, ("hostname", "-f"), 5),
    CommandRule(CMD_ID, ("id", "-un"), 5),
)

# Reason codes the collector (and the local walker) attach to items, as one-line messages.
REASONS: dict[str, str] = {
    "symlink_loop": "symlink loop (not followed)",
    "symlink_outside": "symlink leads outside the allowed directories (not followed)",
    "dangling_link": "dangling symlink",
    "link_unresolvable": "symlink target not accessible",
    "directory": "a directory",
    "directory_link": "symlink to a directory (not followed)",
    "special_file": "not a regular file",
    "hard_link": "hard-linked file in a user-writable location (not read)",
    "dir_unreadable": "directory not readable: its files are unknown",
    "not_found": "not found",
    "size_cap": f"larger than the per-file cap of {FILE_SIZE_CAP} bytes",
    "total_cap": f"total size cap of {TOTAL_SIZE_CAP} bytes reached",
    "private_key": "private key: metadata only, content never collected",
    "not_certificate": "not a PEM certificate: content not collected",
    "metadata_only": "metadata only by policy",
    "account_summary": "account file summarised on the host: password values not collected",
    "read_failed": "read failed",
    "stat_failed": "stat failed",
    "timeout": "command timed out",
    # SIGKILL: timeout's -k after the grace period, or the kernel's OOM killer (the status cannot tell)
    "killed": "command killed (SIGKILL: it outlived its timeout, or the host ran out of memory)",
    "not_installed": "command not installed",
    "not_executable": "command not executable",
    "no_timeout": "the timeout utility is missing on the host: command not run",
    "output_cap": f"output larger than {COMMAND_OUTPUT_CAP} bytes",
    "no_proc": "no /proc/<pid>/comm to read (/proc not mounted): process names unknown",
}

_SAFE_PATTERN = re.compile(r"^/[A-Za-z0-9/._*+-]*$")
_SAFE_REL = re.compile(r"^[A-Za-z0-9._*+-][A-Za-z0-9/._*+-]*$")
_SAFE_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_PROCESS_NAME_FILES = re.compile(r"^/proc/\[0-9\]\*/comm$")  # comm only: never cmdline or environ


def is_private_key_name(name: str) -> bool:
    """True for file names whose content is never collected (keys, keystores)."""
    base = name.rsplit("/", 1)[-1]
    return any(fnmatchcase(base, pattern) for pattern in PRIVATE_KEY_NAME_PATTERNS)


def looks_like_private_key(content: bytes) -> bool:
    return PRIVATE_KEY_MARKER in content


def validate_plan() -> None:
    """Raise ValueError when the plan holds something the shell block could not carry safely."""
    for rule in DEBIAN_FILES:
        paths = (rule.pattern, *rule.link_roots)
        for path in paths:
            if not _SAFE_PATTERN.match(path) or "/../" in path + "/" or "//" in path:
                raise ValueError(f"unsafe path in plan: {path!r}")
        if any("*" in root for root in rule.roots):
            raise ValueError(f"glob in link root: {rule.pattern!r}")
    for rule in CONTAINER_HOST_FILES:
        if not _SAFE_PATTERN.match(rule.pattern) or "*" in rule.pattern:
            raise ValueError(f"unsafe container host path in plan: {rule.pattern!r}")
    for directory in CONTAINER_CONFIG_DIRS:  # a word of the shell's `for` list: no blank, no glob
        if not _SAFE_PATTERN.match(directory) or any(c in directory for c in "* \t?["):
            raise ValueError(f"unsafe container config dir: {directory!r}")
    for drule in (*DOCKER_PROJECT_FILES, *DOCKER_CONFIG_FILES, *CONTAINER_CONFIG_FILES):
        if not _SAFE_REL.match(drule.relpattern) or ".." in drule.relpattern.split("/"):
            raise ValueError(f"unsafe relative path in plan: {drule.relpattern!r}")
    for root in DOCKER_SEARCH_ROOTS:
        if not _SAFE_PATTERN.match(root):
            raise ValueError(f"unsafe docker search root: {root!r}")
    for cmd in COMMANDS:
        if not _SAFE_NAME.match(cmd.name) or not _SAFE_NAME.match(cmd.argv[0]) or cmd.timeout < 1:
            raise ValueError(f"bad command rule: {cmd.name!r}")
    if not _PROCESS_NAME_FILES.match(PROCESS_NAME_FILES) or CMD_PROCESSES in {c.name for c in COMMANDS}:
        raise ValueError(f"process names must be read from /proc/[0-9]*/comm only: {PROCESS_NAME_FILES!r}")


def plan_data() -> dict[str, object]:
    """Everything that defines what the collector reads, as JSON-able data (hashed into the header)."""
    return {
        "collector_version": COLLECTOR_VERSION,
        "stream_format": STREAM_FORMAT,
        "caps": {
            "file": FILE_SIZE_CAP,
            "total": TOTAL_SIZE_CAP,
            "command": COMMAND_OUTPUT_CAP,
            "referenced_certs": MAX_REFERENCED_CERTS,
            "directory_modes": MAX_DIRECTORY_MODES,
            "docker_dirs": MAX_DOCKER_DIRS,
            "compose_files": MAX_COMPOSE_FILES_EXAMINED,
            "compose_search_dirs": MAX_COMPOSE_SEARCH_DIRS,
        },
        "private_key_names": list(PRIVATE_KEY_NAME_PATTERNS),
        "debian_files": [asdict(r) for r in DEBIAN_FILES],
        "docker": {
            "search_roots": list(DOCKER_SEARCH_ROOTS),
            "search_depth": DOCKER_SEARCH_DEPTH,
            "compose_names": list(COMPOSE_FILE_NAMES),
            "default_config": DOCKER_DEFAULT_CONFIG,
            "project_files": [asdict(r) for r in DOCKER_PROJECT_FILES],
            "config_files": [asdict(r) for r in DOCKER_CONFIG_FILES],
        },
        "container": {
            "config_dirs": list(CONTAINER_CONFIG_DIRS),
            "host_files": [asdict(r) for r in CONTAINER_HOST_FILES],
            "config_files": [asdict(r) for r in CONTAINER_CONFIG_FILES],
        },
        "commands": [asdict(c) for c in COMMANDS],
        "process_names": {"name": CMD_PROCESSES, "files": PROCESS_NAME_FILES},
    }


def plan_sha256() -> str:
    """The collector's identity, carried in its stream header: the plan's data and the shell code
    around the generated block, so an edit to either makes an installed collector a mismatch."""
    blob = json.dumps(plan_data(), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob + b"\n" + script_code(collector_script()).encode()).hexdigest()


def script_code(script: str) -> str:
    """The script's shell code outside the generated block, comment and blank lines left out (the
    script has no here-documents, so a line starting with # is never data). The block is left out
    because it carries this hash; what it renders is the plan data hashed beside it."""
    start, end = script.index(BEGIN_MARKER), script.index(END_MARKER) + len(END_MARKER)
    lines = (script[:start] + script[end:]).splitlines()
    return "\n".join(line for line in lines if line.strip() and not line.lstrip().startswith("#"))


def b64_length(n: int) -> int:
    return 4 * ((n + 2) // 3)


def _q(value: str) -> str:
    return shlex.quote(value)


def render_plan_block() -> str:
    """The generated part of remote_collector.sh (between the markers, markers excluded)."""
    validate_plan()
    out: list[str] = [
        f"JA_COLLECTOR_VERSION={_q(COLLECTOR_VERSION)}",
        f"JA_FORMAT={_q(STREAM_FORMAT)}",
        f"JA_MAGIC={_q(STREAM_MAGIC)}",
        f"JA_PLAN_SHA256={_q(plan_sha256())}",
        f"JA_FILE_CAP={FILE_SIZE_CAP}",
        f"JA_TOTAL_CAP={TOTAL_SIZE_CAP}",
        f"JA_CMD_B64CAP={b64_length(COMMAND_OUTPUT_CAP)}",
        f"JA_CMD_CAP={COMMAND_OUTPUT_CAP}",
        f"JA_MAX_CERT_REFS={MAX_REFERENCED_CERTS}",
        f"JA_MAX_DIRS={MAX_DIRECTORY_MODES}",
        f"JA_MAX_DOCKER_DIRS={MAX_DOCKER_DIRS}",
        f"JA_MAX_COMPOSE={MAX_COMPOSE_FILES_EXAMINED}",
        f"JA_MAX_WALK={MAX_COMPOSE_SEARCH_DIRS}",
        f"JA_DOCKER_DEFAULT_CONFIG={_q(DOCKER_DEFAULT_CONFIG)}",
        f"JA_CONTAINER_CONFIGS={_q(' '.join(CONTAINER_CONFIG_DIRS))}",
        "",
        "# ja_rule BASE TAIL POLICY SCAN MAX LINK_ROOT...",
        "ja_plan_debian() {",
    ]
    for rule in DEBIAN_FILES:
        args = [rule.base, rule.tail, rule.policy.value, rule.scan.value, str(rule.max_files), *rule.roots]
        out.append("  ja_rule " + " ".join(_q(a) for a in args))
    out += ["}", "", "ja_plan_container_host() {"]
    for rule in CONTAINER_HOST_FILES:
        args = [rule.base, rule.tail, rule.policy.value, rule.scan.value, str(rule.max_files), *rule.roots]
        out.append("  ja_rule " + " ".join(_q(a) for a in args))
    out += ["}", "", "# ja_drule SUBPATH TAIL POLICY MAX (under $JA_DDIR, confined to $JA_DROOT)"]
    for fname, rules in (
        ("ja_plan_docker_project", DOCKER_PROJECT_FILES),
        ("ja_plan_docker_config", DOCKER_CONFIG_FILES),
        ("ja_plan_container_config", CONTAINER_CONFIG_FILES),
    ):
        out.append(f"{fname}() {{")
        for drule in rules:
            args = [drule.base, drule.tail, drule.policy.value, str(drule.max_files)]
            out.append("  ja_drule " + " ".join(_q(a) for a in args))
        out += ["}", ""]
    # One directory glob per root and depth (the shell reads each directory level once), then the
    # compose file names tried in each directory found: a glob per name would walk the tree once per name.
    names = " ".join(f'"$ci_d"{name}' for name in COMPOSE_FILE_NAMES)
    out += [
        "# ja_compose_in DIR/...: the compose file names tried in each directory.",
        "ja_compose_in() {",
        '  for ci_d in "$@"; do',
        '    [ -d "$ci_d" ] || continue',
        f"    ja_compose_try {names}",
        "  done",
        "}",
        "",
        "# Candidate compose files: each search root walked DOCKER_SEARCH_DEPTH levels down (ja_compose_walk).",
        "ja_plan_compose() {",
    ]
    for root in DOCKER_SEARCH_ROOTS:
        if "*" in root:
            out.append(f'  for cw_r in "$JA_P"{root}; do ja_compose_walk "$cw_r" {DOCKER_SEARCH_DEPTH}; done')
        else:
            out.append(f'  ja_compose_walk "$JA_P"{root} {DOCKER_SEARCH_DEPTH}')
    out += ["}", "", "# ja_cmd NAME TIMEOUT ARGV... / ja_processes NAME COMM_FILES_GLOB", "ja_plan_commands() {"]
    for cmd in COMMANDS:
        out.append(f"  ja_cmd {_q(cmd.name)} {cmd.timeout} " + " ".join(_q(a) for a in cmd.argv))
    out.append(f"  ja_processes {_q(CMD_PROCESSES)} {_q(PROCESS_NAME_FILES)}")
    out += ["}", ""]
    out.append("ja_is_private_key_name() {")
    out.append("  case $1 in " + "|".join(PRIVATE_KEY_NAME_PATTERNS) + ") return 0 ;; esac")
    out += ["  return 1", "}"]
    return "\n".join(out) + "\n"


BEGIN_MARKER = "# ---- BEGIN GENERATED PLAN (auditor/collect/plan.py; regenerate, do not edit) ----\n"
END_MARKER = "# ---- END GENERATED PLAN ----\n"
SCRIPT_NAME = "remote_collector.sh"


def collector_script() -> str:
    """The collector's text: what `jitsi-audit collector --print` prints and SSH audits run."""
    return resources.files("auditor.collect").joinpath(SCRIPT_NAME).read_text(encoding="utf-8")


def collector_sha256() -> str:
    return hashlib.sha256(collector_script().encode()).hexdigest()


def splice_plan_block(script: str) -> str:
    """`script` with its generated block replaced by the current rendering."""
    start = script.index(BEGIN_MARKER) + len(BEGIN_MARKER)
    end = script.index(END_MARKER)
    return script[:start] + render_plan_block() + script[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the collector plan block into remote_collector.sh")
    parser.add_argument("--write", action="store_true", help="rewrite the script in place")
    args = parser.parse_args(argv)
    path = Path(__file__).with_name(SCRIPT_NAME)
    current = path.read_text(encoding="utf-8")
    updated = splice_plan_block(current)
    if args.write:
        path.write_text(updated, encoding="utf-8")
        return 0
    if updated != current:
        print(f"{path} is out of date: run python -m auditor.collect.plan --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
