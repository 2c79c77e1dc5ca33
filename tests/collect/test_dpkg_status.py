"""Package versions of an offline copy of a host's root, from its dpkg database (var/lib/dpkg/status):
what `dpkg-query` prints on the host, for the same packages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.deployment import build_deployment
from auditor.snapshot import ItemStatus
from auditor.transports import dpkg_status
from auditor.transports.local import collect_local_dir

STATUS = """\
Package: bash
Status: install ok installed
Priority: required
Version: 5.2.15-2+b2
Description: GNU Bourne Again SHell

Package: jitsi-meet-web
Status: install ok installed
Priority: extra
Architecture: all
Version: 1.0.3992-1
Description: WebRTC JavaScript video conferences
 A description line that reads like a field:
Package: jicofo
Version: 99.0

Package: coturn
Status: deinstall ok config-files
Architecture: amd64
Version: 4.5.1.1-1.1
Description: TURN and STUN server for VoIP

Package: jitsi-videobridge2
Status: install reinstreq half-installed
Version: 2.1-171-g4cf3ce1f-1

Package: prosody
Status: install ok installed
Version: 1:0.11.2-1
Description: Lightweight Jabber/XMPP server

Package: jicofo
Status: install ok installed
Version: not-a-version
Description: a version that does not start with a digit is left out

Package: nginx
Status: install ok whatever
Version: 1.22.1-9
Description: an unknown status word is left out

Package: jitsi-meet
Status: install ok installed

Package: jibri
Status: install ok not-installed
Version: 8.0-93-g1-1
Description: wanted, never installed: dpkg-query lists it, the host has no file of it
"""


def test_the_listing_is_what_dpkg_query_prints() -> None:
    assert dpkg_status.listing(STATUS.encode()) == (
        "coturn\t4.5.1.1-1.1\trc \n"
        "jibri\t8.0-93-g1-1\tin \n"
        "jitsi-meet-web\t1.0.3992-1\tii \n"
        "jitsi-videobridge2\t2.1-171-g4cf3ce1f-1\tiHR\n"
        "prosody\t1:0.11.2-1\tii \n"
    )


@pytest.mark.parametrize(("status", "abbrev"), [
    ("install ok installed", "ii "), ("deinstall ok config-files", "rc "), ("hold ok installed", "hi "),
    ("purge ok not-installed", "pn "), ("install reinstreq unpacked", "iUR"), ("install ok", None),
    ("install ok installed extra", None), ("", None),
])
def test_status_abbrev(status: str, abbrev: str | None) -> None:
    assert dpkg_status.status_abbrev(status) == abbrev


def _root_copy(root: Path, status: str | bytes = STATUS) -> None:
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    (root / "etc" / "jitsi" / "meet").mkdir(parents=True)
    (root / "etc" / "jitsi" / "meet" / "meet.example.org-config.js").write_text(
        "var config = {\n    hosts: { domain: 'meet.example.org' },\n};\n")
    info = root / "var" / "lib" / "dpkg" / "info"
    info.mkdir(parents=True)
    for i in range(50):
        (info / f"pkg{i}.list").write_text("/usr/bin/x\n")
    path = root / dpkg_status.STATUS_PATH
    path.write_bytes(status if isinstance(status, bytes) else status.encode())


def test_a_root_copy_gets_the_versions_and_not_dpkgs_files(tmp_path: Path) -> None:
    _root_copy(tmp_path)
    snap = collect_local_dir(tmp_path)
    assert not [k for k in snap.items if k.startswith("/var/lib/dpkg/")]  # 50 .list files and the database
    item = snap.command("dpkg-query")
    assert item is not None and item.ok and item.exit_code == 0
    assert snap.facts["packages"] == "/var/lib/dpkg/status"
    # what the advisory matching and the client-era checks read: packages with files on the host (a
    # half-installed one too), not coturn's configuration files alone
    assert build_deployment(snap).packages == {"jitsi-meet-web": "1.0.3992-1", "prosody": "1:0.11.2-1",
                                               "jitsi-videobridge2": "2.1-171-g4cf3ce1f-1"}


def test_a_tree_without_a_dpkg_database_has_no_package_listing(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    snap = collect_local_dir(tmp_path)
    assert snap.command("dpkg-query") is None and "packages" not in snap.facts


def test_a_hostile_database_is_read_within_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a FIFO does not block the walk; a link climbing out of the copy is not followed
    fifo = tmp_path / "fifo"
    _root_copy(fifo)
    os.unlink(fifo / dpkg_status.STATUS_PATH)
    os.mkfifo(fifo / dpkg_status.STATUS_PATH)
    item = collect_local_dir(fifo).command("dpkg-query")
    assert item is not None and item.status is ItemStatus.NOT_REGULAR
    outside = tmp_path / "outside"
    _root_copy(outside)
    secret = tmp_path / "elsewhere"
    secret.write_text(STATUS)
    os.unlink(outside / dpkg_status.STATUS_PATH)
    os.symlink("../../../../elsewhere", outside / dpkg_status.STATUS_PATH)
    assert collect_local_dir(outside).command("dpkg-query") is None
    # too large: said, not read
    monkeypatch.setattr(dpkg_status, "STATUS_CAP", 100)
    big = tmp_path / "big"
    _root_copy(big)
    item = collect_local_dir(big).command("dpkg-query")
    assert item is not None and item.status is ItemStatus.TOO_LARGE and "larger than 100 bytes" in (item.error or "")
    assert "packages" not in collect_local_dir(big).facts  # no note that versions came from it
    # a field of megabytes, binary junk, fields without values: no line comes out of it
    junk = tmp_path / "junk"
    _root_copy(junk, b"Package: jitsi-meet-web\nVersion: " + b"1" * 3_000_000 + b"\nStatus: install ok installed\n"
                     + bytes(range(256)) * 100 + b"\n\nPackage:\nVersion:\nStatus:\n")
    monkeypatch.setattr(dpkg_status, "STATUS_CAP", 64 * 1024 * 1024)
    item = collect_local_dir(junk).command("dpkg-query")
    assert item is not None and item.ok and item.content == b""


def test_an_offline_audit_judges_the_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before, a --root audit had no versions: the vulnerability criteria stayed Unclear, and a 2020
    client was judged by today's defaults (polls, in-browser recording)."""
    _root_copy(tmp_path)
    out = tmp_path / "report.json"
    with pytest.raises(SystemExit):
        main(["--root", str(tmp_path), "-q", "-f", "json", "-o", str(out)])
    capsys.readouterr()
    target = json.loads(out.read_text())["targets"][0]
    found = {f["check_id"]: f for f in target["findings"]}
    assert found["vuln.prosody_version"]["status"] == "fail", found["vuln.prosody_version"]["message"]
    assert any(e["path"] == "cmd:dpkg-query" for e in found["vuln.prosody_version"]["evidence"])
    assert "predates" in found["web.in_browser_recording"]["message"]
    assert "package versions from /var/lib/dpkg/status (what dpkg-query lists on a host)" in target["notes"]


def test_a_database_of_tiny_stanzas_is_read_in_bounded_memory() -> None:
    """Before, the stanzas were split into one list: a 64 MB database of 2-byte stanzas took ~1 GB."""
    import tracemalloc

    data = b"ab\n\n" * (2 * 1024 * 1024) + b"\n\n" + STATUS.encode()  # 8 MB: 2 million stanzas
    tracemalloc.start()
    try:
        assert "jitsi-meet-web\t1.0.3992-1\tii \n" in dpkg_status.listing(data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * len(data), peak
