"""collect_local_dir (--root DIR) and collect_local_host (local://)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from auditor.collect import plan
from auditor.snapshot import ItemStatus
from auditor.transports.errors import CollectError
from auditor.transports.local import DirLimits, collect_local_dir, collect_local_host

from .conftest import KEY_CANARY_LINE, HostTree, make_cert_and_key, write


def test_host_root_copy(host_tree: HostTree) -> None:
    snap = collect_local_dir(host_tree.root)
    assert snap.transport == "dir" and snap.root == str(host_tree.root)
    conf = snap.items["/etc/prosody/conf.d/meet.example.org.cfg.lua"]
    assert conf.ok and conf.link_target == "../conf.avail/meet.example.org.cfg.lua"
    assert snap.items["/etc/jitsi/jicofo/jicofo.conf"].mode == 0o640
    assert snap.items["/etc/os-release"].ok  # link inside the root
    key = snap.items["/etc/jitsi/meet/meet.example.org.key"]
    assert key.status is ItemStatus.OK and key.content is None and "private key" in (key.error or "")
    sneaky = snap.items["/etc/jitsi/meet/innocent.pem"]
    assert sneaky.content is None
    assert not any(KEY_CANARY_LINE.encode() in (i.content or b"") for i in snap.items.values())
    assert snap.items["/etc/jitsi/videobridge/blob.bin"].content == bytes(range(256)) * 4
    big = snap.items["/etc/jitsi/videobridge/big.log"]
    assert big.status is ItemStatus.TOO_LARGE and big.size == plan.FILE_SIZE_CAP + 10
    assert snap.items[f"/etc/nginx/conf.d/{host_tree.hostile_name}"].ok
    assert snap.facts["collection"] == "complete"


def test_links_loops_and_special_files(host_tree: HostTree) -> None:
    snap = collect_local_dir(host_tree.root)
    assert snap.items["/etc/nginx/conf.d/loop-a.conf"].status is ItemStatus.NOT_REGULAR
    assert "loop" in (snap.items["/etc/nginx/conf.d/loop-a.conf"].error or "")
    # the tree is a copy of a host's root: the absolute link names the copy's /etc/shadow, which it lacks
    outside = snap.items["/etc/nginx/conf.d/shadow.conf"]
    assert outside.status is ItemStatus.MISSING and outside.link_target == "/etc/shadow" and outside.content is None
    assert snap.items["/etc/nginx/conf.d/dotdot.conf"].status is ItemStatus.NOT_REGULAR
    assert snap.items["/etc/nginx/conf.d/dangling.conf"].status is ItemStatus.MISSING
    assert snap.items["/etc/nginx/conf.d/fifo.conf"].status is ItemStatus.NOT_REGULAR  # and no hang


def test_host_copy_absolute_links_resolve_inside_the_copy(tmp_path: Path) -> None:
    """A `cp -a` copy of a Debian host keeps absolute links (/etc/prosody/certs/x.crt ->
    /etc/jitsi/meet/x.crt): they name the copy's files, never the auditor machine's."""
    root, outside = tmp_path / "host", tmp_path / "outside"
    cert, _ = make_cert_and_key("meet.example.org")
    write(root, "etc/jitsi/meet/meet.example.org.crt", cert)
    write(root, "etc/nginx/sites-available/meet.conf", "server { listen 443 ssl; }\n")
    write(outside, "secret.conf", "CANARY-outside-the-copy\n")
    links = {
        "etc/prosody/certs/meet.example.org.crt": "/etc/jitsi/meet/meet.example.org.crt",
        "etc/nginx/sites-enabled/meet.conf": "/etc/nginx/sites-available/meet.conf",
        "etc/alt/meet.crt": "/etc/prosody/certs/../../jitsi/meet/meet.example.org.crt",  # link, then ..
        "etc/alt/dir": "/etc/jitsi",  # a directory link used as a path component below
        "etc/alt/climb.conf": "../../../outside/secret.conf",  # a `..` above the root
        "etc/alt/machine.conf": str(outside / "secret.conf"),  # absolute, only on the auditor's machine
        "etc/alt/self.conf": str(root / "etc/nginx/sites-available/meet.conf"),  # into the copy, as a path
        "etc/alt/gone.conf": "/etc/nowhere.conf",
        "etc/alt/loop.conf": "/etc/alt/loop.conf",
    }
    for link, target in links.items():
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / link)
    os.symlink("/etc/alt/dir/meet/meet.example.org.crt", root / "etc/alt/via-dir.crt")
    snap = collect_local_dir(root)
    for key in ("/etc/prosody/certs/meet.example.org.crt", "/etc/alt/meet.crt", "/etc/alt/via-dir.crt"):
        assert snap.items[key].ok and snap.items[key].content == cert, key
    assert snap.items["/etc/nginx/sites-enabled/meet.conf"].content == b"server { listen 443 ssl; }\n"
    assert snap.items["/etc/alt/self.conf"].ok  # a repository linking to itself by its real path
    for key in ("/etc/alt/climb.conf", "/etc/alt/machine.conf"):
        assert snap.items[key].status is ItemStatus.NOT_REGULAR, key
        assert snap.items[key].error == plan.REASONS["symlink_outside"]
    assert snap.items["/etc/alt/gone.conf"].status is ItemStatus.MISSING
    assert "loop" in (snap.items["/etc/alt/loop.conf"].error or "")
    assert all(b"CANARY" not in (item.content or b"") for item in snap.items.values())


def test_docker_config_volume_keys(tmp_path: Path) -> None:
    cert, _ = make_cert_and_key("meet.jitsi")
    write(tmp_path, "web/config.js", "config.p2p = {};\n")
    write(tmp_path, "web/keys/cert.crt", cert)
    write(tmp_path, "prosody/config/conf.d/jitsi-meet.cfg.lua", 'VirtualHost "meet.jitsi"\n')
    write(tmp_path, ".git/config", "[core]\n")
    write(tmp_path, "node_modules/x/index.js", "x\n")
    os.symlink("web", tmp_path / "weblink")
    snap = collect_local_dir(tmp_path)
    assert set(snap.items) == {
        "/web/config.js",
        "/web/keys/cert.crt",
        "/prosody/config/conf.d/jitsi-meet.cfg.lua",
        "/weblink",
    }
    assert snap.items["/weblink"].status is ItemStatus.NOT_REGULAR


def test_caps(tmp_path: Path) -> None:
    for i in range(20):
        write(tmp_path, f"f{i:02}.conf", "x" * 100)
    snap = collect_local_dir(tmp_path, DirLimits(max_files=5))
    assert len(snap.items) == 5 and snap.facts["collection"] == "incomplete"
    assert any("15 were not read" in e for e in snap.errors)
    total = collect_local_dir(tmp_path, DirLimits(total_cap=550))
    statuses = [i.status for i in total.items.values()]
    assert statuses.count(ItemStatus.OK) == 5 and statuses.count(ItemStatus.TOO_LARGE) == 15


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # root reads everything, so refuse the way the kernel would for another user
    write(tmp_path, "etc/jitsi/jicofo/jicofo.conf", "x")
    write(tmp_path, "etc/turnserver.conf", "y")
    real_scandir, real_open = os.scandir, os.open

    def scandir(path: str) -> object:
        if str(path).endswith("/etc/jitsi/jicofo"):
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    def fake_open(path: str, flags: int, mode: int = 0o777) -> int:
        if str(path).endswith("turnserver.conf"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "open", fake_open)
    snap = collect_local_dir(tmp_path)
    assert snap.items["/etc/jitsi/jicofo"].status is ItemStatus.PERMISSION_DENIED
    turn = snap.items["/etc/turnserver.conf"]
    assert turn.status is ItemStatus.PERMISSION_DENIED and turn.size == 1 and turn.content is None


def test_missing_root_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        collect_local_dir(tmp_path / "nope")
    write(tmp_path, "file", "x")
    with pytest.raises(NotADirectoryError):
        collect_local_dir(tmp_path / "file")


def test_local_host_runs_the_collector(world_tmp: Path) -> None:
    (world_tmp / "root").mkdir()
    write(world_tmp / "root", "etc/turnserver.conf", "listening-port=3478\n")
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "LC_ALL": "C",
        "JITSI_AUDIT_ROOT_PREFIX": str(world_tmp / "root"),
    }
    snap = collect_local_host(env=env)
    assert snap.transport == "local" and snap.facts["collection"] == "complete"
    assert snap.items["/etc/turnserver.conf"].content == b"listening-port=3478\n"
    assert snap.command("uname") is not None


def test_local_host_timeout_kills_the_collector(world_tmp: Path) -> None:
    fakebin = world_tmp / "bin"
    fakebin.mkdir()
    (fakebin / "dpkg-query").write_text("#!/bin/sh\nsleep 60\n")
    (fakebin / "dpkg-query").chmod(0o755)
    (world_tmp / "root").mkdir()
    env = {
        "PATH": f"{fakebin}:/usr/bin:/bin",
        "LC_ALL": "C",
        "JITSI_AUDIT_ROOT_PREFIX": str(world_tmp / "root"),
    }
    before = threading.active_count()
    with pytest.raises(CollectError) as info:
        collect_local_host(timeout=1.5, env=env)
    assert "timed out" in str(info.value)
    assert info.value.snapshot is not None and info.value.snapshot.facts["collection"] == "incomplete"
    assert threading.active_count() == before
