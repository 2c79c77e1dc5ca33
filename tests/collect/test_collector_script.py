"""The real remote_collector.sh, run locally with sh against a fake host tree (JITSI_AUDIT_ROOT_PREFIX)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import stat
import time
from pathlib import Path

import pytest

from auditor.collect import plan
from auditor.processes import PARTIAL_FACT, runs
from auditor.snapshot import ItemStatus
from checks.secret_hygiene import closed_directory, directory_modes

from .conftest import FILE_CAP, KEY_CANARY_LINE, PLAIN_PASSWORD, HostTree, make_cert_and_key, run_collector, write

D = "meet.example.org"
# busybox is found on PATH too (a busybox extracted from its package, not installed, will do)
SHELLS = [s for s in ("/bin/dash", "/bin/bash", shutil.which("busybox") or "/bin/busybox") if Path(s).exists()]


def _tree_state(root: Path) -> dict[str, tuple[int, int, int, str]]:
    """Every entry's mode, size, mtime and (for files) hash: to prove nothing changed."""
    state: dict[str, tuple[int, int, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            digest = ""
            if os.path.isfile(path) and not os.path.islink(path):
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            state[path] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return state


@pytest.mark.parametrize("shell", SHELLS)
def test_collects_debian_and_docker_tree(host_tree: HostTree, shell: str) -> None:
    run = run_collector(host_tree.root, shell=shell)
    snap = run.snapshot
    assert run.returncode == 0
    assert snap.errors == []
    assert snap.facts["collection"] == "complete"
    assert snap.facts["collector.plan_sha256"] == plan.plan_sha256()

    conf = snap.get(f"/etc/prosody/conf.d/{D}.cfg.lua")
    assert conf is not None and conf.ok and conf.link_target == f"../conf.avail/{D}.cfg.lua"
    assert b'authentication = "jitsi-anonymous"' in (conf.content or b"")
    jicofo = snap.get("/etc/jitsi/jicofo/jicofo.conf")
    assert jicofo is not None and jicofo.ok and jicofo.mode == 0o640 and jicofo.owner == "root"
    osr = snap.get("/etc/os-release")
    assert osr is not None and osr.ok and osr.link_target == "../usr/lib/os-release"
    assert (
        snap.get("/etc/jitsi/jibri") is not None
        and snap.items["/etc/jitsi/jibri"].status is ItemStatus.MISSING
    )
    assert snap.items["/etc/saslauthd.conf"].status is ItemStatus.MISSING


@pytest.mark.parametrize("shell", SHELLS)
def test_directory_modes_above_the_collected_files(host_tree: HostTree, shell: str) -> None:
    """One fact carries the modes of the directories above every file: the logical ones and, for a
    symlink, those of its real path; paths are the host's (the test prefix is taken off by the auditor)."""
    (host_tree.root / "etc/jitsi/jicofo").chmod(0o750)
    snap = run_collector(host_tree.root, shell=shell).snapshot
    dirs = directory_modes(snap)
    assert dirs["/etc/jitsi/jicofo"] == (0o750, True)
    assert dirs["/etc/jitsi"][1] and dirs["/etc"][1]
    assert "/etc/prosody/conf.d" in dirs and "/etc/prosody/conf.avail" in dirs  # the link's and the target's
    assert all(path.startswith("/") and not path.startswith(str(host_tree.root)) for path in dirs)
    assert len(dirs) <= plan.MAX_DIRECTORY_MODES
    jicofo = snap.items["/etc/jitsi/jicofo/jicofo.conf"]
    assert closed_directory(snap, dirs, jicofo) == ("/etc/jitsi/jicofo", 0o750)


def test_certificates_in_private_keys_out(host_tree: HostTree) -> None:
    run = run_collector(host_tree.root)
    snap = run.snapshot
    cert = snap.items[f"/etc/jitsi/meet/{D}.crt"]
    assert cert.ok and cert.content == host_tree.cert_pem
    for key in (f"/etc/jitsi/meet/{D}.key", f"/etc/prosody/certs/{D}.key", "/etc/jitsi/meet/innocent.pem"):
        item = snap.items[key]
        assert item.status is ItemStatus.OK and item.content is None, key
        assert item.error is not None and "private key" in item.error
        assert item.mode is not None and item.size
    # the key material is nowhere in the raw stream, in any alignment of base64
    body = host_tree.key_pem.split(b"-----")[2].replace(b"\n", b"")
    assert not any(_contains_b64(run.stdout, chunk) for chunk in (body[:40], KEY_CANARY_LINE.encode()))
    # docker web/keys: only *.crt is in the plan, and it is a certificate
    assert snap.items["/srv/jitsi-cfg/web/keys/cert.crt"].content == host_tree.cert_pem
    assert "/srv/jitsi-cfg/web/keys/cert.key" not in snap.items


def _contains_b64(stream: bytes, secret: bytes) -> bool:
    """True if `secret` appears in the stream raw or inside any base64 field, whatever its offset."""
    if secret in stream:
        return True
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret)[4:-4]
        if encoded and encoded in stream:
            return True
    return False


def test_referenced_certificates_follow_nginx_and_prosody(host_tree: HostTree) -> None:
    snap = run_collector(host_tree.root).snapshot
    # named by nginx, outside every glob, not a certificate: metadata only
    ref = snap.items["/etc/ssl/outside-ref.crt"]
    assert (
        ref.status is ItemStatus.OK and ref.content is None and "not a PEM certificate" in (ref.error or "")
    )
    # the commented-out prosody line and the nginx variable are ignored
    assert "/etc/prosody/certs/commented-out.crt" not in snap.items
    assert not any("$ssl_server_name" in k for k in snap.items)


@pytest.mark.parametrize("shell", SHELLS)
def test_referenced_certificates_follow_apache(host_tree: HostTree, shell: str) -> None:
    run = run_collector(host_tree.root, shell=shell)
    snap = run.snapshot
    site = snap.items[f"/etc/apache2/sites-enabled/{D}.conf"]
    assert site.ok and site.link_target == f"../sites-available/{D}.conf"
    assert snap.items["/etc/apache2/conf-enabled/security.conf"].content == b"ServerTokens OS\nServerSignature On\n"
    assert snap.items["/etc/apache2/mods-enabled/ssl.conf"].ok
    assert "/etc/apache2/mods-enabled/ssl.load" not in snap.items  # only *.conf is in the plan
    # SSLCertificateFile and SSLCertificateChainFile (relative to ServerRoot): PEM certificates, sent
    assert snap.items["/etc/ssl/apache/fullchain.pem"].content == host_tree.cert_pem
    assert snap.items["/etc/apache2/certs/chain.pem"].content == host_tree.cert_pem
    # sslcertificatekeyfile, quoted and in lower case: named, metadata only
    key = snap.items["/etc/ssl/apache/privkey.pem"]
    assert key.status is ItemStatus.OK and key.content is None and "private key" in (key.error or "")
    assert not _contains_b64(run.stdout, host_tree.key_pem.split(b"-----")[2].replace(b"\n", b"")[:40])
    # the commented-out line and the ${VARIABLE} path are ignored
    assert "/etc/ssl/apache/commented-out.pem" not in snap.items
    assert not any("APACHE_CERT" in k for k in snap.items)


def test_account_files_never_leave_their_password(host_tree: HostTree) -> None:
    run = run_collector(host_tree.root)
    accounts = {k: v for k, v in run.snapshot.items.items() if k.endswith(".dat")}
    plain = next(v for k, v in accounts.items() if k.endswith("/focus.dat"))
    hashed = next(v for k, v in accounts.items() if k.endswith("/jvb.dat"))
    assert b"password_field=yes" in (plain.content or b"") and b"scram_fields=no" in (plain.content or b"")
    assert b"password_field=no" in (hashed.content or b"") and b"scram_fields=yes" in (hashed.content or b"")
    assert not _contains_b64(run.stdout, PLAIN_PASSWORD.encode())


def test_symlinks_loops_outside_links_and_special_files(host_tree: HostTree) -> None:
    snap = run_collector(host_tree.root).snapshot
    loop = snap.items["/etc/nginx/conf.d/loop-a.conf"]
    assert loop.status is ItemStatus.NOT_REGULAR and "loop" in (loop.error or "")
    # read through the prefix, an absolute link names the copy's file: this copy has no /etc/shadow ...
    outside = snap.items["/etc/nginx/conf.d/shadow.conf"]
    assert outside.status is ItemStatus.MISSING and outside.link_target == "/etc/shadow"
    assert outside.content is None
    # ... and with one, it lies outside the directories nginx files may come from
    (host_tree.root / "etc/shadow").write_text("root:$6$notforyou:19000:0:99999:7:::\n")
    outside = run_collector(host_tree.root).snapshot.items["/etc/nginx/conf.d/shadow.conf"]
    assert outside.status is ItemStatus.NOT_REGULAR and outside.link_target == "/etc/shadow"
    assert outside.content is None and "outside" in (outside.error or "")
    dotdot = snap.items["/etc/nginx/conf.d/dotdot.conf"]
    assert dotdot.status is ItemStatus.NOT_REGULAR and dotdot.content is None
    assert snap.items["/etc/nginx/conf.d/dangling.conf"].status is ItemStatus.MISSING
    fifo = snap.items["/etc/nginx/conf.d/fifo.conf"]
    assert fifo.status is ItemStatus.NOT_REGULAR
    docker_outside = snap.items["/srv/jitsi-cfg/jicofo/outside.conf"]
    assert docker_outside.status is ItemStatus.MISSING and docker_outside.link_target == "/etc/hostname"
    (host_tree.root / "etc/hostname").write_text("meet\n")
    docker_outside = run_collector(host_tree.root).snapshot.items["/srv/jitsi-cfg/jicofo/outside.conf"]
    assert docker_outside.status is ItemStatus.NOT_REGULAR and docker_outside.content is None
    hard = snap.items["/srv/jitsi-cfg/jvb/hardlinked.conf"]
    assert hard.status is ItemStatus.NOT_REGULAR and "hard-linked" in (hard.error or "")


def test_size_cap_binary_and_hostile_names(host_tree: HostTree) -> None:
    snap = run_collector(host_tree.root).snapshot
    big = snap.items["/etc/jitsi/videobridge/big.log"]
    assert big.status is ItemStatus.TOO_LARGE and big.size == FILE_CAP + 10 and big.content is None
    blob = snap.items["/etc/jitsi/videobridge/blob.bin"]
    assert blob.ok and blob.content == bytes(range(256)) * 4
    hostile = snap.items[f"/etc/nginx/conf.d/{host_tree.hostile_name}"]
    assert hostile.ok and hostile.content == b"server { }\n"


def test_docker_projects_and_config_dirs(host_tree: HostTree) -> None:
    snap = run_collector(host_tree.root).snapshot
    facts = snap.facts
    assert facts["docker.0.dir"] == "/opt/docker-jitsi-meet"
    assert facts["docker.0.config"] == "/srv/jitsi-cfg" and facts["docker.0.config_source"] == "env"
    assert facts["docker.1.dir"] == "/home/alice/djm"
    assert facts["docker.1.config"] == "/root/.jitsi-meet-cfg"  # ~ of the project's owner (root here)
    assert "docker.2.dir" not in facts  # /home/bob/other does not mention jitsi
    for key in (
        "/opt/docker-jitsi-meet/.env",
        "/opt/docker-jitsi-meet/docker-compose.yml",
        "/opt/docker-jitsi-meet/jibri.yml",
        "/srv/jitsi-cfg/web/config.js",
        "/srv/jitsi-cfg/web/nginx/ssl.conf",
        "/srv/jitsi-cfg/prosody/config/conf.d/jitsi-meet.cfg.lua",
        "/root/.jitsi-meet-cfg/jvb/jvb.conf",
    ):
        assert snap.items[key].ok, key
    assert not any(k.startswith("/home/bob") for k in snap.items)


def test_docker_web_server_blocks_and_long_directories(host_tree: HostTree) -> None:
    """The web container's server blocks (site-confs) are collected; a directory name too long for the
    directory-modes fact is left out of it (the file itself is still collected)."""
    write(host_tree.root, "/srv/jitsi-cfg/web/nginx/site-confs/default", "server {\n    listen 8443 ssl;\n}\n")
    long_dir = "/opt/" + "j" * 252  # 257 characters (a name may have 255)
    write(host_tree.root, f"{long_dir}/docker-compose.yml", "services:\n  web:\n    image: jitsi/web:stable-9646\n")
    snap = run_collector(host_tree.root).snapshot
    assert snap.items["/srv/jitsi-cfg/web/nginx/site-confs/default"].ok
    assert snap.items[f"{long_dir}/docker-compose.yml"].ok
    dirs = directory_modes(snap)
    assert "/srv/jitsi-cfg/web/nginx/site-confs" in dirs and "/opt" in dirs
    assert long_dir not in dirs and all(len(d) <= 256 for d in dirs)
    assert len(snap.facts["dir_modes"]) < 4096


def test_collector_writes_nothing(host_tree: HostTree) -> None:
    before = _tree_state(host_tree.root)
    run_collector(host_tree.root)
    assert _tree_state(host_tree.root) == before


def test_script_has_no_writes_heredocs_or_network() -> None:
    script = plan.collector_script()
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    assert "<<" not in code  # here-documents may be temp files (bash)
    targets = re.findall(r"\d?>>?\s*(&?[^\s;|)]+)", code)
    assert targets, "pattern found no redirections"
    for target in targets:
        assert target == "/dev/null" or re.fullmatch(r"&\d", target), target
    for word in (
        "curl",
        "wget",
        "nc ",
        "/dev/tcp",
        "mktemp",
        "tee ",
        "rm ",
        "mv ",
        "cp ",
        "chmod",
        "chown",
        "touch",
    ):
        assert word not in code, word


def test_script_is_in_sync_with_plan() -> None:
    script = plan.collector_script()
    assert plan.splice_plan_block(script) == script, "run: python -m auditor.collect.plan --write"
    assert f"JA_PLAN_SHA256={plan.plan_sha256()}" in script
    assert plan.main([]) == 0


def test_plan_hash_covers_the_shell_code_not_its_comments(monkeypatch: pytest.MonkeyPatch) -> None:
    # An installed --sudo collector is recognised by this hash: a fix to the shell code alone must
    # make the old one a mismatch; rewording a comment or re-rendering the block must not.
    script = plan.collector_script()
    current = plan.plan_sha256()
    variants = {
        "code": script.replace("ja_rec()", "ja_rec_renamed()", 1),
        "comment": script.replace("# jitsi-audit collector:", "# jitsi-audit's collector:", 1),
        "blank lines": script.replace("\n\n", "\n\n\n", 3),
        "block": script.replace(f"JA_PLAN_SHA256={current}", "JA_PLAN_SHA256=" + "0" * 64),
    }
    assert all(v != script for v in variants.values())
    hashes = {}
    for name, text in variants.items():
        monkeypatch.setattr(plan, "collector_script", lambda text=text: text)
        hashes[name] = plan.plan_sha256()
    assert hashes["code"] != current
    assert hashes["comment"] == hashes["blank lines"] == hashes["block"] == current


def test_all_reason_codes_are_known(host_tree: HostTree) -> None:
    script = plan.collector_script()
    rec_lines = "\n".join(line for line in script.splitlines() if "ja_rec " in line)
    used = set(re.findall(r"(?:''|\"\$c_rc\") ([a-z_]+) (?:-|\"\$)", rec_lines))
    used.discard("-")
    assert used, "pattern found no reason codes"
    assert used <= set(plan.REASONS), used - set(plan.REASONS)
    snap = run_collector(host_tree.root).snapshot
    assert not [i for i in snap.items.values() if (i.error or "").startswith("reason ")]


def test_hanging_command_is_killed_by_timeout(world_tmp: Path) -> None:
    fakebin = world_tmp / "bin"
    fakebin.mkdir()
    hang = fakebin / "prosodyctl"
    hang.write_text("#!/bin/sh\nsleep 300\n")
    hang.chmod(0o755)
    (world_tmp / "root").mkdir()
    started = time.monotonic()
    run = run_collector(
        world_tmp / "root",
        path=f"{fakebin}:/usr/sbin:/usr/bin:/sbin:/bin",
        extra_env={"JITSI_AUDIT_CMD_TIMEOUT": "1"},
    )
    elapsed = time.monotonic() - started
    item = run.snapshot.items["cmd:prosodyctl-about"]
    assert item.status is ItemStatus.ERROR and item.exit_code == 124 and item.error == "command timed out (killed)"
    assert elapsed < 30
    assert run.snapshot.facts["collection"] == "complete"


@pytest.mark.parametrize(
    "body",
    [
        "trap '' TERM\nsleep 300\n",  # ignores timeout's SIGTERM: SIGKILL after the -k grace period
        "kill -9 $$\n",  # SIGKILL from elsewhere, as the kernel's OOM killer sends it: no timeout at all
    ],
)
def test_a_command_killed_by_sigkill_is_not_called_a_timeout(world_tmp: Path, body: str) -> None:
    # Exit 137 says SIGKILL, not who sent it: timeout's -k and the OOM killer look the same, so the
    # record says killed and names both, where it used to say "timed out" for either.
    fakebin = world_tmp / "bin"
    fakebin.mkdir()
    cmd = fakebin / "prosodyctl"
    cmd.write_text("#!/bin/sh\n" + body)
    cmd.chmod(0o755)
    (world_tmp / "root").mkdir()
    run = run_collector(
        world_tmp / "root",
        path=f"{fakebin}:/usr/sbin:/usr/bin:/sbin:/bin",
        extra_env={"JITSI_AUDIT_CMD_TIMEOUT": "1"},
    )
    item = run.snapshot.items["cmd:prosodyctl-about"]
    assert item.status is ItemStatus.ERROR and item.exit_code == 137
    assert item.error == plan.REASONS["killed"] and "timed out" not in item.error


def test_missing_commands_are_reported(world_tmp: Path) -> None:
    minimal = world_tmp / "minbin"
    minimal.mkdir()
    for tool in ("base64", "stat", "readlink", "tr", "head", "timeout", "id", "uname"):
        found = shutil.which(tool)
        assert found is not None
        os.symlink(found, minimal / tool)
    (world_tmp / "root").mkdir()
    run = run_collector(world_tmp / "root", path=str(minimal))
    snap = run.snapshot
    assert snap.items["cmd:dpkg-query"].status is ItemStatus.MISSING
    assert snap.items["cmd:prosodyctl-about"].status is ItemStatus.MISSING
    assert snap.items["cmd:uname"].ok
    assert snap.facts["collection"] == "complete"


def test_permission_denied_is_not_missing(host_tree: HostTree) -> None:
    root = host_tree.root
    (root / "etc/jitsi/jicofo").chmod(0o750)  # root:root, the test user is not in the group
    (root / "etc/turnserver.conf").chmod(0o600)
    (root / "var/lib/prosody").chmod(0o700)
    run = run_collector(root, user="nobody")
    snap = run.snapshot
    assert snap.facts["euid"] != "0"
    jicofo_dir = snap.items["/etc/jitsi/jicofo"]
    assert jicofo_dir.status is ItemStatus.PERMISSION_DENIED
    turn = snap.items["/etc/turnserver.conf"]
    assert turn.status is ItemStatus.PERMISSION_DENIED and turn.mode == 0o600 and turn.owner == "root"
    assert turn.content is None
    assert snap.items["/var/lib/prosody"].status is ItemStatus.PERMISSION_DENIED
    assert snap.items["/etc/saslauthd.conf"].status is ItemStatus.MISSING
    assert snap.items[f"/etc/jitsi/meet/{D}-config.js"].ok


def test_prefix_is_refused_under_sudo(world_tmp: Path) -> None:
    (world_tmp / "root").mkdir()
    run = run_collector(world_tmp / "root", extra_env={"SUDO_USER": "someone"})
    assert any("prefix_refused" in e for e in run.snapshot.errors)
    assert "root_prefix" not in run.snapshot.facts


def test_relative_prefix_is_refused() -> None:
    run = run_collector(Path("relative/dir"))
    assert any("prefix_refused" in e for e in run.snapshot.errors)


# -- format 2 text fields, symlink confinement without readlink, batched stat ---------------------

_PLAIN = re.compile(rb"[A-Za-z0-9/._+,@%=:-]*")


def _raw_records(stdout: bytes) -> list[list[bytes]]:
    """The F and C records of a raw stream, split into fields (no decoding)."""
    return [line.split(b"\t") for line in stdout.split(b"\n") if line[:2] in (b"F\t", b"C\t")]


def _field_text(field: bytes) -> bytes:
    return field[1:] if field.startswith(b":") else base64.b64decode(field, validate=True)


def _odd_names_tree(root: Path) -> dict[bytes, tuple[bytes, int]]:
    """Files under /etc/jitsi/jicofo with names of every kind, each with its own content and mode."""
    base = root / "etc/jitsi/jicofo"
    base.mkdir(parents=True)
    names = [
        b"plain-name_1.2+x,y=z@w%2e:c.conf",  # only safe characters: sent as is
        b"-leading-dash.conf",
        b"--",
        b"with space.conf",
        b"tab\tand\nnewline",
        b"trailing-newline\n",
        b"fake\n644 1 3 root root regular file",  # a name that looks like a stat line
        b"fake",
        b"star*and?q[1].conf",
        b"quote'\"$(x)`y`.conf",
        b"odd-\xff\xfe-bytes",
        b"\x1b[31mred",
    ]
    made: dict[bytes, tuple[bytes, int]] = {}
    for i, name in enumerate(names):
        content = b"%d:" % i + name + b"\n" * i
        mode = (0o600, 0o640, 0o644, 0o604)[i % 4]
        path = os.path.join(bytes(base), name)
        with open(path, "wb") as handle:
            handle.write(content)
        os.chmod(path, mode)
        made[b"/etc/jitsi/jicofo/" + name] = (content, mode)
    # links and special files between them: not batched, still right
    os.symlink(b"with space.conf", os.path.join(bytes(base), b"link to space"))
    os.symlink(b"plain-name_1.2+x,y=z@w%2e:c.conf", os.path.join(bytes(base), b"link-plain"))
    os.symlink(b"missing target", os.path.join(bytes(base), b"dangling"))
    os.mkfifo(os.path.join(bytes(base), b"fifo"))
    return made


@pytest.mark.parametrize("shell", SHELLS)
def test_odd_names_round_trip_plain_or_base64(world_tmp: Path, shell: str) -> None:
    root = world_tmp / "host"
    made = _odd_names_tree(root)
    run = run_collector(root, shell=shell)
    snap = run.snapshot
    assert snap.errors == [] and snap.facts["collection"] == "complete"
    for raw_name, (content, mode) in made.items():
        item = snap.items[raw_name.decode("utf-8", "backslashreplace")]
        assert item.ok and item.content == content, raw_name
        assert item.mode == mode and item.size == len(content), raw_name  # its own stat line
    assert snap.items["/etc/jitsi/jicofo/link to space"].content == made[b"/etc/jitsi/jicofo/with space.conf"][0]
    assert snap.items["/etc/jitsi/jicofo/link to space"].link_target == "with space.conf"
    assert snap.items["/etc/jitsi/jicofo/link-plain"].link_target == "plain-name_1.2+x,y=z@w%2e:c.conf"
    assert snap.items["/etc/jitsi/jicofo/dangling"].status is ItemStatus.MISSING
    assert snap.items["/etc/jitsi/jicofo/fifo"].status is ItemStatus.NOT_REGULAR
    # every text field is plain exactly when it has only safe characters, base64 otherwise
    seen = 0
    for fields in _raw_records(run.stdout):
        for field in (fields[1], fields[7]):
            if field == b"-":
                continue
            text = _field_text(field)
            assert field.startswith(b":") == bool(_PLAIN.fullmatch(text)), field
            seen += field.startswith(b":")
    assert seen > 20


def _confinement_tree(root: Path, outside: Path, cert: bytes) -> None:
    write(root, "/usr/lib/os-release", "ID=debian\n")
    # a symlinked directory that stays inside its rule's roots (/etc/jitsi): followed
    write(root, "/etc/jitsi/meet-real/inside.js", "var config = {};\n")
    os.symlink("meet-real", root / "etc/jitsi/meet")
    # a symlinked directory leading out of /etc/jitsi: every file in it refused
    write(root, "/srv/vb/jvb.conf", "CANARY-outside-dir\n")
    (root / "etc/jitsi").mkdir(parents=True, exist_ok=True)
    os.symlink("../../srv/vb", root / "etc/jitsi/videobridge")
    # a relative link with ../ in a directory reached through a symlink: the kernel takes .. from
    # /srv/jic, not from /etc/jitsi, so it reads /srv/secret.conf (outside) and not the decoy
    write(root, "/srv/jic/real.conf", "jicofo { }\n")
    write(root, "/srv/secret.conf", "CANARY-dotdot-after-link\n")
    write(root, "/etc/jitsi/secret.conf", "decoy inside the roots\n")
    os.symlink("../secret.conf", root / "srv/jic/up.conf")
    os.symlink("../../srv/jic", root / "etc/jitsi/jicofo")
    # in a real directory: a link to a link leading out, a link through the symlinked directory
    # above, and a link with ../ that stays inside (followed)
    write(root, "/etc/jitsi/jigasi/sip.properties", "x=1\n")
    os.symlink("../../../srv/vb/jvb.conf", root / "etc/jitsi/jigasi/hop")
    os.symlink("hop", root / "etc/jitsi/jigasi/chain")
    os.symlink("../videobridge/jvb.conf", root / "etc/jitsi/jigasi/via-dir")
    os.symlink("../jigasi/sip.properties", root / "etc/jitsi/jigasi/inside")
    # a symlink in the middle of the accounts glob (/var/lib/prosody/*/accounts/*.dat) leading out
    write(root, "/srv/acc/accounts/x.dat", 'return { ["password"] = "CANARY-outside-account" };\n')
    (root / "var/lib/prosody").mkdir(parents=True)
    os.symlink("../../../srv/acc", root / "var/lib/prosody/evil")
    # a real directory whose subdirectory link stays inside /var/lib/prosody: followed
    write(root, "/var/lib/prosody/real/accounts-real/ok.dat", 'return { ["stored_key"] = "k" };\n')
    os.symlink("accounts-real", root / "var/lib/prosody/real/accounts")
    # certificate paths named by nginx with .. and with a symlinked directory, both leading out of
    # the tree; the target is a real PEM certificate, so only confinement can refuse it
    (outside / "outside.crt").write_bytes(cert)
    (root / "etc/ssl").mkdir()
    os.symlink(str(outside), root / "etc/ssl-link")
    write(
        root,
        "/etc/nginx/sites-available/site.conf",
        "ssl_certificate /etc/ssl/../../../elsewhere/outside.crt;\nssl_certificate /etc/ssl-link/outside.crt;\n",
    )


@pytest.mark.parametrize("shell", SHELLS)
def test_symlinked_components_stay_confined(world_tmp: Path, shell: str) -> None:
    root = world_tmp / "host"
    outside = world_tmp / "elsewhere"
    outside.mkdir()
    cert, _ = make_cert_and_key("outside.example")
    _confinement_tree(root, outside, cert)
    run = run_collector(root, shell=shell)
    snap = run.snapshot
    assert snap.errors == []
    assert snap.items["/etc/jitsi/meet/inside.js"].content == b"var config = {};\n"
    refused = snap.items["/etc/jitsi/videobridge/jvb.conf"]
    assert refused.status is ItemStatus.NOT_REGULAR and refused.content is None
    assert "outside" in (refused.error or "")
    assert snap.items["/etc/jitsi/jigasi/inside"].content == b"x=1\n"
    for key in (
        "/etc/jitsi/jicofo/up.conf",
        "/etc/jitsi/jicofo/real.conf",
        "/etc/jitsi/jigasi/hop",
        "/etc/jitsi/jigasi/chain",
        "/etc/jitsi/jigasi/via-dir",
    ):
        item = snap.items[key]
        assert item.status is ItemStatus.NOT_REGULAR and item.content is None, key
    account = snap.items["/var/lib/prosody/evil/accounts/x.dat"]
    assert account.status is ItemStatus.NOT_REGULAR and "outside" in (account.error or "")
    assert b"scram_fields=yes" in (snap.items["/var/lib/prosody/real/accounts/ok.dat"].content or b"")
    for ref in ("/etc/ssl/../../../elsewhere/outside.crt", "/etc/ssl-link/outside.crt"):
        item = snap.items[ref]
        assert item.status is ItemStatus.NOT_REGULAR and item.content is None, ref
    canaries = (b"CANARY-outside-dir", b"CANARY-outside-account", b"CANARY-dotdot-after-link", cert.split(b"\n")[1])
    for canary in canaries:
        assert not _contains_b64(run.stdout, canary)


def test_referenced_files_already_collected_are_not_read_again(host_tree: HostTree) -> None:
    """nginx names /etc/jitsi/meet/D.crt and .key, which the /etc/jitsi/meet/* glob already sent."""
    run = run_collector(host_tree.root)
    keys = [_field_text(fields[1]) for fields in _raw_records(run.stdout)]
    for key in (f"/etc/jitsi/meet/{D}.crt", f"/etc/jitsi/meet/{D}.key", f"/etc/prosody/certs/{D}.crt"):
        assert keys.count(key.encode()) == 1, key
    assert keys.count(b"/etc/ssl/outside-ref.crt") == 1  # named only by nginx: still collected
    assert len(keys) == len(set(keys))


def test_account_summaries_for_every_combination(world_tmp: Path) -> None:
    root = world_tmp / "host"
    bodies = {
        "both": 'return { ["password"] = "CANARY-both-pw"; ["stored_key"] = "k" };\n',
        "plain": 'return { ["password"] = "CANARY-plain-pw" };\n',
        "scram": 'return { ["stored_key"] = "k"; ["salt"] = "s" };\n',
        "neither": "return { };\n",
    }
    for name, body in bodies.items():
        write(root, f"/var/lib/prosody/auth/accounts/{name}.dat", body, 0o640)
    run = run_collector(root)
    for name, (pw, sc) in {
        "both": ("yes", "yes"), "plain": ("yes", "no"), "scram": ("no", "yes"), "neither": ("no", "no")
    }.items():  # fmt: skip
        item = run.snapshot.items[f"/var/lib/prosody/auth/accounts/{name}.dat"]
        want = f"jitsi-audit account summary\npassword_field={pw}\nscram_fields={sc}\n".encode()
        assert item.content == want, name
    assert not any(_contains_b64(run.stdout, f"CANARY-{n}-pw".encode()) for n in ("both", "plain"))


# -- process names (/proc/<pid>/comm) -------------------------------------------------------------------


def _fake_proc(root: Path, comms: dict[str, bytes]) -> None:
    for pid, comm in comms.items():
        (root / "proc" / pid).mkdir(parents=True)
        (root / "proc" / pid / "comm").write_bytes(comm)


@pytest.mark.parametrize("shell", SHELLS)
def test_process_names_are_read_from_proc_without_procps(world_tmp: Path, shell: str) -> None:
    """Every /proc/<pid>/comm, read by the shell itself: no ps (a PATH without procps), only comm (never
    cmdline), no symlink followed, nothing unreadable or over-long kept."""
    root = world_tmp / "host"
    _fake_proc(root, {"1": b"systemd\n", "42": b"turnserver\n", "43": b"with space \n", "7": b"no-newline",
                      "8": b"x" * 65 + b"\n", "9": b"\n", "10": b"kworker/0:1-events\n"})
    (root / "proc/42/cmdline").write_bytes(b"turnserver\0--static-auth-secret=CANARY-PROC-SECRET\0")
    (root / "proc/self").mkdir()  # not a pid: never read
    (root / "proc/self/comm").write_text("self-comm\n")
    (world_tmp / "outside").mkdir()
    (world_tmp / "outside/comm").write_text("outside-comm\n")
    os.symlink(world_tmp / "outside", root / "proc/77")  # a pid directory that is a link (a test tree only)
    (root / "proc/78").mkdir()
    os.symlink(world_tmp / "outside/comm", root / "proc/78/comm")
    minimal = world_tmp / "minbin"
    minimal.mkdir()
    for tool in ("base64", "stat", "readlink", "tr", "head", "timeout", "id"):
        found = shutil.which(tool)
        assert found is not None
        os.symlink(found, minimal / tool)
    run = run_collector(root, shell=shell, path=str(minimal))
    item = run.snapshot.items["cmd:processes"]
    assert item.ok and item.kind == "command", item
    names = item.text().split("\n")
    assert names[-1] == ""
    assert sorted(names[:-1]) == sorted(["systemd", "turnserver", "with space ", "no-newline", "kworker/0:1-events"])
    assert b"CANARY-PROC-SECRET" not in run.stdout and b"self-comm" not in run.stdout
    assert b"outside-comm" not in run.stdout
    assert run.snapshot.facts["collection"] == "complete"


@pytest.mark.parametrize("shell", SHELLS)
def test_unreadable_or_vanished_process_names_are_skipped(world_tmp: Path, shell: str) -> None:
    """Another user's process on a /proc mounted hidepid= (its comm unreadable; a process that ends between
    the glob and the read fails the same read): skipped, quietly; the list of the others stays."""
    root = world_tmp / "host"
    _fake_proc(root, {"1": b"systemd\n", "2": b"hidden\n", "3": b"turnserver\n"})
    (root / "proc/2/comm").chmod(0o600)
    run = run_collector(root, shell=shell, user="nobody")
    item = run.snapshot.items["cmd:processes"]
    assert item.ok and sorted(item.text().split()) == ["systemd", "turnserver"]
    assert run.snapshot.errors == [] and run.snapshot.facts["collection"] == "complete"
    assert PARTIAL_FACT not in run.snapshot.facts  # PID 1 readable: other users' processes are not hidden


@pytest.mark.parametrize("shell", SHELLS)
def test_hidden_pid_1_marks_the_process_list_partial(world_tmp: Path, shell: str) -> None:
    """/proc mounted hidepid= without root: PID 1 (in every PID namespace) cannot be read, the list holds only
    the auditing user's processes; "no turnserver among them" must not read as "coturn is not running"."""
    root = world_tmp / "host"
    _fake_proc(root, {"1": b"systemd\n", "2": b"turnserver\n", "3": b"sshd\n"})
    for pid in ("1", "2"):
        (root / "proc" / pid / "comm").chmod(0o600)
    run = run_collector(root, shell=shell, user="nobody")
    item = run.snapshot.items["cmd:processes"]
    assert item.ok and item.text() == "sshd\n"
    assert "hidepid" in run.snapshot.facts[PARTIAL_FACT]
    assert runs(run.snapshot, "sshd") is True and runs(run.snapshot, "turnserver") is None
    assert run.snapshot.errors == [] and run.snapshot.facts["collection"] == "complete"


@pytest.mark.parametrize("shell", SHELLS)
def test_process_name_that_is_not_a_regular_file_is_skipped_without_blocking(world_tmp: Path, shell: str) -> None:
    """A FIFO where comm should be (a test tree, or a /proc that is not procfs) would block `read` for ever
    (nothing ever opens it for writing), a character device never end the line: skipped, quickly."""
    root = world_tmp / "host"
    _fake_proc(root, {"1": b"systemd\n", "2": b"turnserver\n"})
    (root / "proc/3").mkdir()
    os.mkfifo(root / "proc/3/comm")
    (root / "proc/4").mkdir()
    if os.geteuid() == 0:
        os.mknod(root / "proc/4/comm", 0o644 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero: no newline, no end
    started = time.monotonic()
    run = run_collector(root, shell=shell, timeout=30)
    assert time.monotonic() - started < 20
    item = run.snapshot.items["cmd:processes"]
    assert item.ok and sorted(item.text().split("\n")) == ["", "systemd", "turnserver"]
    assert run.snapshot.facts["collection"] == "complete"


def test_process_names_without_proc_are_missing_not_empty(world_tmp: Path) -> None:
    (world_tmp / "root").mkdir()
    run = run_collector(world_tmp / "root")
    item = run.snapshot.items["cmd:processes"]
    assert item.status is ItemStatus.MISSING and item.content is None
    assert item.error == plan.REASONS["no_proc"]
    assert run.snapshot.errors == [] and run.snapshot.facts["collection"] == "complete"


def test_process_names_over_the_output_cap_are_too_large(world_tmp: Path) -> None:
    root = world_tmp / "root"
    name = b"n" * 63 + b"\n"
    count = plan.COMMAND_OUTPUT_CAP // len(name) + 2
    _fake_proc(root, {str(pid): name for pid in range(1, count + 1)})
    run = run_collector(root)
    item = run.snapshot.items["cmd:processes"]
    assert item.status is ItemStatus.TOO_LARGE and item.content is None
    assert item.error == plan.REASONS["output_cap"]
    assert run.snapshot.facts["collection"] == "complete"


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("size", [plan.COMMAND_OUTPUT_CAP, plan.COMMAND_OUTPUT_CAP + 1, 2 * plan.COMMAND_OUTPUT_CAP])
def test_command_output_cap_is_exact_and_quick(world_tmp: Path, shell: str, size: int) -> None:
    """CAP bytes are kept whole; CAP + 1 (all head lets through; its base64 is as long as CAP's) or more are
    too_large, never a truncated "ok". Quickly, wherever the exit code lands in the captured output."""
    fakebin = world_tmp / "bin"
    fakebin.mkdir()
    tool = fakebin / "prosodyctl"
    tool.write_text(f"#!/bin/sh\nhead -c {size} /dev/zero | tr '\\000' a\n")
    tool.chmod(0o755)
    (world_tmp / "root").mkdir()
    started = time.monotonic()
    run = run_collector(world_tmp / "root", shell=shell, path=f"{fakebin}:/usr/sbin:/usr/bin:/sbin:/bin")
    assert time.monotonic() - started < 20
    item = run.snapshot.items["cmd:prosodyctl-about"]
    if size <= plan.COMMAND_OUTPUT_CAP:
        assert item.ok and item.content == b"a" * size and item.exit_code == 0
    else:
        assert item.status is ItemStatus.TOO_LARGE and item.content is None
        assert item.error == plan.REASONS["output_cap"]


@pytest.mark.parametrize("shell", SHELLS)
def test_process_names_of_this_machine(shell: str) -> None:
    """Without a prefix: the machine's own /proc, which holds the collector's shell itself."""
    run = run_collector(None, shell=shell)
    item = run.snapshot.items["cmd:processes"]
    assert item.ok, item
    assert Path(shell).name in item.text().split("\n")
