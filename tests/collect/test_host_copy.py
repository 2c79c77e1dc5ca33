"""--root on a copy of a whole host's root (a backup, a mounted disk image, a VM image build): read where the
collector reads a live host, links taken as on that host, no command run, versions from dpkg's database.
Before, the walk read every file of the copy: 5 000 files of /usr and /etc cut it short (exit 3), the CA
bundle's hundreds of certificates became the deployment's, and prosody's account files were read whole."""

from __future__ import annotations

import base64
import gzip
import json
import os
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.snapshot import ItemStatus
from auditor.transports.local import collect_local_dir, is_host_copy

from .conftest import PLAIN_PASSWORD, build_host_tree, make_cert_and_key, write

DOMAIN = "shard2.example.org"  # build_host_tree has meet.example.org, linked relatively


def _rest_of_a_system(root: Path) -> None:
    """A CA bundle and more library files than the walk's 5 000-file cap."""
    for i in range(60):
        cert, _key = make_cert_and_key(f"ca{i}.example")
        write(root, f"/etc/ssl/certs/ca{i}.pem", cert)
    for i in range(5200):
        write(root, f"/usr/lib/x86_64-linux-gnu/lib{i}.so", b"\x7fELF")


def _debian_copy(root: Path) -> None:
    """What a Debian quick-install's root holds, with Debian's absolute links, plus the rest of a system."""
    build_host_tree(root)
    # jitsi-meet's postinst links with absolute paths
    write(root, f"/etc/nginx/sites-available/{DOMAIN}.conf",
          f"server {{\n    listen 443 ssl;\n    server_name {DOMAIN};\n    ssl_protocols TLSv1.2 TLSv1.3;\n}}\n")
    (root / "etc/nginx/sites-enabled").mkdir(parents=True, exist_ok=True)
    os.symlink(f"/etc/nginx/sites-available/{DOMAIN}.conf", root / f"etc/nginx/sites-enabled/{DOMAIN}.conf")
    # an absolute link out of the plan's paths, and one climbing out of the copy
    write(root, "/etc/shadow", "root:$6$notforyou:19000:0:99999:7:::\n", 0o640)
    os.symlink("/etc/shadow", root / "etc/jitsi/meet/shadow.js")
    os.symlink("../../../../../../../../etc/hostname", root / "etc/jitsi/meet/escape.js")
    _rest_of_a_system(root)
    write(root, "/home/alice/notes.txt", "my bank password is hunter2\n")
    write(root, "/var/lib/dpkg/status",
          "Package: jitsi-meet-web\nStatus: install ok installed\nVersion: 1.0.3992-1\n\n"
          "Package: prosody\nStatus: install ok installed\nVersion: 0.11.2-1\n")
    for i in range(30):
        write(root, f"/var/lib/dpkg/info/p{i}.list", "/usr/lib/x\n")


def test_a_host_copy_is_read_as_its_host(tmp_path: Path) -> None:
    _debian_copy(tmp_path)
    assert is_host_copy(tmp_path)
    snap = collect_local_dir(tmp_path)
    assert snap.facts["layout"] == "host root copy" and snap.facts["collection"] == "complete"
    assert not snap.errors
    keys = set(snap.items)
    # only the plan's paths: no CA bundle, library, home or dpkg file
    assert not [k for k in keys if k.startswith(("/etc/ssl/certs/", "/usr/lib/x86", "/var/lib/dpkg/"))]
    assert "/home/alice/notes.txt" not in keys and "/home/alice/djm/.env" in keys  # a compose project's .env
    # Debian's absolute link resolves inside the copy, not on this machine
    site = snap.items[f"/etc/nginx/sites-enabled/{DOMAIN}.conf"]
    assert site.ok and b"server_name shard2.example.org" in (site.content or b"")
    assert site.link_target == f"/etc/nginx/sites-available/{DOMAIN}.conf"
    # a link to a file outside the plan's paths, or out of the copy, is not followed
    for name in ("shadow.js", "escape.js"):
        item = snap.items[f"/etc/jitsi/meet/{name}"]
        assert not item.ok, name
    assert not any(b"notforyou" in (i.content or b"") for i in snap.items.values())
    # prosody's account files: which password fields exist, never their values
    assert not any(PLAIN_PASSWORD.encode() in (i.content or b"") for i in snap.items.values())
    # no command ran on this machine: the only command item is the copy's dpkg listing
    assert [k for k in keys if k.startswith("cmd:")] == ["cmd:dpkg-query"]
    assert snap.command("dpkg-query") is not None
    assert b"jitsi-meet-web\t1.0.3992-1\tii" in (snap.command("dpkg-query").content or b"")  # type: ignore[union-attr]


def test_a_configuration_tree_is_still_walked_whole(tmp_path: Path) -> None:
    """No etc/os-release: a configuration repository, every file read (dpkg's files aside)."""
    write(tmp_path, "/etc/jitsi/meet/meet.example.org-config.js", "var config = { hosts: {} };\n")
    write(tmp_path, "/deploy/notes/extra.conf", "server {\n    listen 443 ssl;\n}\n")
    write(tmp_path, "/var/lib/dpkg/status", "Package: jicofo\nStatus: install ok installed\nVersion: 1.0-544-1\n")
    write(tmp_path, "/var/lib/dpkg/info/jicofo.list", "/usr/share/jicofo\n")
    assert not is_host_copy(tmp_path)
    snap = collect_local_dir(tmp_path)
    assert "/deploy/notes/extra.conf" in snap.items and "layout" not in snap.facts
    assert not [k for k in snap.items if k.startswith("/var/lib/dpkg/")]
    assert snap.command("dpkg-query") is not None


def _clean_copy(root: Path) -> None:
    """A quick-install's root with nothing hostile in it, and the rest of a system around it."""
    write(root, "/usr/lib/os-release", 'ID=debian\nVERSION_ID="12"\n')
    (root / "etc").mkdir()
    os.symlink("../usr/lib/os-release", root / "etc/os-release")
    write(root, "/etc/prosody/prosody.cfg.lua", 'c2s_require_encryption = true\nInclude "conf.d/*.cfg.lua"\n')
    write(root, f"/etc/prosody/conf.avail/{DOMAIN}.cfg.lua",
          f'VirtualHost "{DOMAIN}"\n    authentication = "internal_hashed"\n')
    (root / "etc/prosody/conf.d").mkdir()
    os.symlink(f"/etc/prosody/conf.avail/{DOMAIN}.cfg.lua", root / f"etc/prosody/conf.d/{DOMAIN}.cfg.lua")
    write(root, f"/etc/jitsi/meet/{DOMAIN}-config.js", f"var config = {{ hosts: {{ domain: '{DOMAIN}' }} }};\n")
    _rest_of_a_system(root)
    write(root, "/var/lib/dpkg/status", "Package: prosody\nStatus: install ok installed\nVersion: 0.11.2-1\n")


def test_the_audit_of_a_host_copy_is_complete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _clean_copy(tmp_path)
    out = tmp_path.parent / "report.json"
    with pytest.raises(SystemExit) as exited:
        main(["--root", str(tmp_path), "-q", "-f", "json", "-o", str(out)])
    capsys.readouterr()
    assert exited.value.code != 3  # before: "more than 5000 files", incomplete
    target = json.loads(out.read_text())["targets"][0]
    assert target["complete"] and target["error"] is None
    assert any(n.startswith("a copy of a host's root") for n in target["notes"])
    assert not [c for c in target["collected"] if c["role"] == "certificate"]  # not the CA bundle's
    assert any(c["key"] == f"/etc/prosody/conf.d/{DOMAIN}.cfg.lua" and c["role"] == "prosody_include"
               for c in target["collected"])  # through Debian's absolute link, inside the copy
    found = {f["check_id"]: f for f in target["findings"]}
    assert found["vuln.prosody_version"]["status"] == "fail"


def test_a_videobridge_hosts_copy_is_judged_by_its_role(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As for a live host, the roles come from the copy's packages and files: a videobridge's disk image
    is not failed for lacking prosody (a configuration tree still gets every check)."""
    write(tmp_path, "/usr/lib/os-release", 'ID=debian\nVERSION_ID="12"\n')
    (tmp_path / "etc").mkdir()
    os.symlink("../usr/lib/os-release", tmp_path / "etc/os-release")
    write(tmp_path, "/etc/jitsi/videobridge/jvb.conf", "videobridge {\n  http-servers { public { port = 9090 } }\n}\n")
    write(tmp_path, "/var/lib/dpkg/status",
          "Package: jitsi-videobridge2\nStatus: install ok installed\nVersion: 2.3-92-g64ba3bd5-1\n")
    out = tmp_path.parent / "jvb.json"
    with pytest.raises(SystemExit):
        main(["--root", str(tmp_path), "-q", "-f", "json", "-o", str(out)])
    capsys.readouterr()
    target = json.loads(out.read_text())["targets"][0]
    assert target["host_roles"] == ["jvb"] and target["host_roles_source"] == "detected"
    found = {f["check_id"]: f for f in target["findings"]}
    assert found["xmpp.c2s_encryption"]["status"] == "not_applicable", found["xmpp.c2s_encryption"]["message"]


CANARY = "CANARY-on-the-auditors-machine"


def _outside_machine(outside: Path) -> None:
    """What this machine holds outside the copy: configuration-looking files a hostile copy links to."""
    for rel in ("etc/jitsi/meet/auditor-only-name.js", "etc/prosody/prosody.cfg.lua", "etc/nginx/nginx.conf",
                "proj/.env", "cfg/web/config.js", "cfg/jicofo/jicofo.conf"):
        write(outside, rel, f"-- {CANARY} {rel}\n")
    write(outside, "proj/docker-compose.yml", f"# {CANARY}\nservices:\n  web:\n    image: jitsi/web\n")


def _copy_linked_out(root: Path, outside: Path) -> None:
    """A copy (a disk image handed to the auditor) whose directories lead to this machine's files."""
    write(root, "/usr/lib/os-release", 'ID=debian\nVERSION_ID="12"\n')
    (root / "etc").mkdir()
    os.symlink("../usr/lib/os-release", root / "etc/os-release")
    write(root, "/var/lib/dpkg/status", "Package: prosody\nStatus: install ok installed\nVersion: 0.11.2-1\n")
    os.symlink(str(outside / "etc/jitsi"), root / "etc/jitsi")  # absolute: the kernel follows it here
    os.symlink(os.path.relpath(outside / "etc/prosody", root / "etc"), root / "etc/prosody")  # relative, climbing out
    os.symlink(f"/proc/self/root{outside}/etc/nginx", root / "etc/nginx")  # through /proc
    (root / "srv").mkdir()
    os.symlink(str(outside / "proj"), root / "srv/proj")
    # compose projects inside the copy whose CONFIG leads out of it: by `..`, by a link, by a link below it
    up = "../" * (len(root.parts) + 2)
    for name, config in (("up", f"{up}{str(outside).lstrip('/')}/cfg"), ("abs", f"/..{outside}/cfg"),
                         ("link", "/cfg-link"), ("sub", "/cfg-sub")):
        write(root, f"/opt/{name}/docker-compose.yml", "services:\n  web:\n    image: jitsi/web\n")
        write(root, f"/opt/{name}/.env", f"CONFIG={config}\n")
    os.symlink(str(outside / "cfg"), root / "cfg-link")
    (root / "cfg-sub").mkdir()
    os.symlink(str(outside / "cfg/web"), root / "cfg-sub/web")
    os.symlink(str(outside / "cfg/jicofo"), root / "cfg-sub/jicofo")


def test_nothing_of_this_machine_is_read_through_a_copys_links(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before, a directory of the copy linked to this machine (etc/jitsi -> /etc/jitsi, a docker project
    or CONFIG volume leading out) had its files read as the copy's: the links' roots were resolved
    as this machine resolves them, and the glob listed this machine's directory."""
    outside, root = tmp_path / "machine", tmp_path / "copy"
    _outside_machine(outside)
    _copy_linked_out(root, outside)
    snap = collect_local_dir(root)
    assert snap.facts["layout"] == "host root copy"
    leaked = [i.key for i in snap.items.values() if CANARY.encode() in (i.content or b"")]
    assert leaked == []
    # not even listed: this machine's file names are not keys, its directories' modes not a fact
    assert not [k for k in snap.items if "auditor-only-name" in k or k.startswith("/srv/proj/")]
    assert str(outside) not in snap.facts.get("dir_modes", "") and str(tmp_path) + "\n" not in snap.facts.get("dir_modes", "")
    for key in ("/etc/jitsi/meet", "/etc/nginx/sites-enabled"):
        assert snap.items[key].status is ItemStatus.NOT_REGULAR, key
    # the audit's report and its saved snapshot hold none of it either
    out, saved = tmp_path / "r.json", tmp_path / "s.json.gz"
    with pytest.raises(SystemExit):
        main(["--root", str(root), "-q", "-f", "json", "-o", str(out), "--save-snapshot", str(saved)])
    captured = capsys.readouterr()
    assert CANARY not in out.read_text() + captured.out + captured.err
    raw = gzip.decompress(saved.read_bytes())
    assert CANARY.encode() not in raw
    contents = [base64.b64decode(i["content_b64"]) for i in json.loads(raw)["items"] if i.get("content_b64")]
    assert not [c for c in contents if CANARY.encode() in c]


def test_symlinked_directories_do_not_make_the_compose_search_explode(tmp_path: Path) -> None:
    """Links to `.` in /home made the compose search's globs (/home/*/*/*/*/) grow as their number to the
    4th: 100 of them held the shell at gigabytes until the 180 s timeout (60: 1.6 GB), on a copy and on a
    live host alike. The search now walks one level at a time and tries a symlinked directory without
    entering it: the copy is read at once, and a project behind a link is still found."""
    write(tmp_path, "/usr/lib/os-release", "ID=debian\n")
    write(tmp_path, "/etc/os-release", "ID=debian\n")
    (tmp_path / "home").mkdir()
    for i in range(100):
        os.symlink(".", tmp_path / f"home/l{i}")
    os.symlink("/", tmp_path / "home/root-link")
    write(tmp_path, "/data/djm/docker-compose.yml", "services:\n  web:\n    image: jitsi/web:stable-9955\n")
    write(tmp_path, "/data/djm/.env", "JVB_AUTH_PASSWORD=0123456789abcdef0123\n")
    (tmp_path / "srv").mkdir()
    os.symlink("../data/djm", tmp_path / "srv/jitsi")  # a project dir that is a link: tried, not entered
    snap = collect_local_dir(tmp_path, timeout=60)
    assert not snap.errors and snap.facts["collection"] == "complete"
    assert "/srv/jitsi/docker-compose.yml" in snap.items


def test_the_compose_search_stops_and_says_so(tmp_path: Path) -> None:
    """A tree of more directories than the search may enter below one root: cut, with an error naming it."""
    from auditor.collect.plan import MAX_COMPOSE_SEARCH_DIRS

    write(tmp_path, "/usr/lib/os-release", "ID=debian\n")
    write(tmp_path, "/etc/os-release", "ID=debian\n")
    for i in range(MAX_COMPOSE_SEARCH_DIRS // 64 + 1):
        for j in range(64):
            (tmp_path / f"opt/p{i}/d{j}").mkdir(parents=True)
    snap = collect_local_dir(tmp_path, timeout=120)
    assert any("compose_search_cut" in e and "below /opt" in e for e in snap.errors), snap.errors


def test_a_collector_past_its_memory_cap_fails_clearly() -> None:
    """The collector of a host copy runs under an address-space cap (defence in depth): a process that
    grows past it is stopped, and the error says the cap may be why, on one line."""
    from auditor.snapshot import Snapshot
    from auditor.transports.errors import CollectError
    from auditor.transports.local import run_collector

    hungry = ["/bin/sh", "-c", "read -r _; a=x; while :; do a=$a$a; done"]
    with pytest.raises(CollectError) as failed:
        run_collector(hungry, Snapshot(target="t", transport="dir"), env={"PATH": "/usr/bin:/bin"}, timeout=60,
                      memory_cap=32 * 1024 * 1024)
    assert "stopped early" in str(failed.value) and "memory cap, 32 MB" in str(failed.value), str(failed.value)
    assert "\n" not in str(failed.value)
