"""Host keys through the real CLI against lab hosts: strict by default, every key used is recorded,
a changed key stops that host only (exit 3, one line naming host and stage), known_hosts is never
rewritten, and ssh_config options that would relax the check are ignored."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.security.conftest import SecHost
from tests.security.labtools import commands_since, host_key_fingerprint, known_hosts_lines, log_offset, ssh_config
from tests.security.support import expand_archives, report_args, run_cli

pytestmark = pytest.mark.lab

# The host-key faults these tests put to the CLI (counted for the README's reliability figures).
HOST_KEY_FAULTS = ("changed host key", "unknown host key", "revoked host key")


def test_changed_host_key_stops_that_host_and_the_other_completes(sec_host: SecHost, tmp_path: Path) -> None:
    good, changed = sec_host("hardened"), sec_host("debian-default")
    kh = tmp_path / "known_hosts"
    # `changed`'s address is on file with good's keys: what a man in the middle would look like.
    kh.write_text(known_hosts_lines(good) + known_hosts_lines(good, as_address=changed.address))
    kh_before = kh.read_bytes()
    cfg = ssh_config([changed], tmp_path / "ssh_config")  # relaxing options included: ignored
    offset = log_offset(changed.command_log)
    run = run_cli(
        [good.ssh_target, changed.ssh_target, "--known-hosts", str(kh), "-i", good.ssh_key,
         "--ssh-config", str(cfg), "--accept-new-host-key", *report_args()],
        tmp_path / "run",
    )  # fmt: skip
    assert run.code == 3, run.diagnose()
    # one line for the stopped host, naming it and the stage
    errors = run.error_lines()
    assert len(errors) == 1, run.diagnose()
    line = errors[0]
    assert line.startswith(f"jitsi-audit: {changed.ssh_target}: host key: "), line
    assert "CHANGED" in line and f"[{changed.address}]:{changed.ssh_port}" in line
    assert host_key_fingerprint(changed) in line  # what the server offered
    assert host_key_fingerprint(good) in line  # what is on file
    assert str(kh) in line
    # the stopped host: nothing collected, no session ever ran on it
    bad = run.target(changed.ssh_target)
    assert bad["complete"] is False and bad["error_stage"] == "host key"
    assert bad["host_key"] is None and bad["findings"] == [] and bad["collected"] == []
    assert commands_since(changed, offset) == []
    # the other host completed, with the key it was verified against in the report
    ok = run.target(good.ssh_target)
    assert ok["complete"] is True and ok["error"] is None
    assert ok["host_key"] == {"type": "ssh-ed25519", "fingerprint": host_key_fingerprint(good)}
    assert ok["findings"] and ok["facts"] and ok["collected"]
    # and in the evidence bundle: the report and the snapshot of that host
    members = dict(expand_archives("evidence", run.files["evidence.tar.gz"]))
    bundled = json.loads(members["evidence!report.json"])
    assert [t["host_key"] for t in bundled["targets"]] == [ok["host_key"], None]
    snaps = [k for k in members if re.fullmatch(r"evidence!snapshots/\d+-.*\.json", k)]
    assert len(snaps) == 1, sorted(members)
    assert json.loads(members[snaps[0]])["host_key"] == ok["host_key"]
    assert json.loads(run.files["snapshot.json"])["host_key"] == ok["host_key"]
    # the terminal report shows it too
    assert host_key_fingerprint(good) in run.files["report.txt"].decode()
    # --accept-new-host-key never overrides a changed key, and known_hosts is left alone
    assert kh.read_bytes() == kh_before


def test_unknown_host_key_is_refused_by_default(sec_host: SecHost, tmp_path: Path) -> None:
    unknown, known = sec_host("hardened"), sec_host("debian-default")
    kh = tmp_path / "known_hosts"
    kh.write_text(known_hosts_lines(known))
    kh_before = kh.read_bytes()
    cfg = ssh_config([unknown, known], tmp_path / "ssh_config", relaxing=True)
    offset = log_offset(unknown.command_log)
    run = run_cli(
        [unknown.ssh_target, known.ssh_target, "--known-hosts", str(kh), "--ssh-config", str(cfg), "-f", "json",
         "-o", "report.json"],
        tmp_path / "run",
    )  # fmt: skip
    assert run.code == 3, run.diagnose()
    [line] = run.error_lines()
    assert line.startswith(f"jitsi-audit: {unknown.ssh_target}: host key: ")
    assert "not in known_hosts" in line and host_key_fingerprint(unknown) in line
    assert run.target(unknown.ssh_target)["error_stage"] == "host key"
    assert commands_since(unknown, offset) == []
    assert kh.read_bytes() == kh_before  # StrictHostKeyChecking no / UserKnownHostsFile: ignored
    ok = run.target(known.ssh_target)
    assert ok["complete"] and ok["host_key"]["fingerprint"] == host_key_fingerprint(known)


def test_accept_new_records_the_key_and_revoked_keys_stay_refused(sec_host: SecHost, tmp_path: Path) -> None:
    new, revoked = sec_host("hardened"), sec_host("debian-default")
    kh = tmp_path / "known_hosts"
    key_line = known_hosts_lines(revoked).splitlines()[0]
    kh.write_text(f"@revoked {key_line}\n{known_hosts_lines(revoked)}")
    cfg = ssh_config([new, revoked], tmp_path / "ssh_config", relaxing=False)
    run = run_cli(
        [new.ssh_target, revoked.ssh_target, "--known-hosts", str(kh), "--ssh-config", str(cfg),
         "--accept-new-host-key", "-f", "json", "-o", "report.json", "--save-snapshot", "snap.json"],
        tmp_path / "run",
    )  # fmt: skip
    assert run.code == 3, run.diagnose()
    [line] = run.error_lines()
    assert line.startswith(f"jitsi-audit: {revoked.ssh_target}: host key: ") and "@revoked" in line
    ok = run.target(new.ssh_target)
    assert ok["complete"] and ok["host_key"]["fingerprint"] == host_key_fingerprint(new)
    saved = json.loads(run.files["snap.json"])
    assert saved["facts"]["ssh.host_key_new"] == "yes"
    # exactly one line was appended, for the key that was used, and the file was not rewritten
    added = kh.read_text().splitlines()[len(known_hosts_lines(revoked).splitlines()) + 1 :]
    assert len(added) == 1 and added[0].startswith(f"[{new.address}]:{new.ssh_port} ")
    # the next run trusts that key, and only that key
    again = run_cli(
        [new.ssh_target, "--known-hosts", str(kh), "--ssh-config", str(cfg), "-f", "json", "-o", "report.json"],
        tmp_path / "again",
    )
    assert again.code in (0, 1), again.diagnose()
    assert again.target(new.ssh_target)["host_key"] == ok["host_key"]
