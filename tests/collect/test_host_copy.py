"""--root on a copy of a whole host's root (a backup, a mounted disk image, a VM image build): read where the
collector reads a live host, links taken as on that host, no command run, versions from dpkg's database.
Before, the walk read every file of the copy: 5 000 files of /usr and /etc cut it short (exit 3), the CA
bundle's hundreds of certificates became the deployment's, and prosody's account files were read whole."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from auditor.cli import main
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
