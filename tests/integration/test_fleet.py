"""Fleet audits against real lab hosts: an Ansible inventory, roles, one exec per host, split runs merged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.cli import main
from tests.lab import LabHost

pytestmark = pytest.mark.lab


def _inventory(tmp_path: Path, hosts: dict[str, tuple[LabHost, str | None]]) -> tuple[Path, Path]:
    known = tmp_path / "known_hosts"
    known.write_text("".join(Path(h.known_hosts).read_text() for h, _ in hosts.values()))
    lines = ["[jitsi]"]
    for name, (h, role) in hosts.items():
        lines.append(f"{name} ansible_host={h.address} ansible_port={h.ssh_port} ansible_user={h.ssh_user} "
                     f"ansible_ssh_private_key_file={h.ssh_key} jitsi_audit_domain={h.domain} "
                     f"jitsi_audit_ca_bundle={h.ca_cert}" + (f" jitsi_audit_role={role}" if role else ""))
    inv = tmp_path / "inventory.ini"
    inv.write_text("\n".join(lines) + "\n")
    return inv, known


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    return int(info.value.code or 0), capsys.readouterr().err


def _sessions(host: LabHost) -> list[dict[str, object]]:
    path = Path(host.command_log)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_inventory_roles_one_exec_and_merge(lab_host, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    legacy: LabHost = lab_host("legacy-2020")
    bridge: LabHost = lab_host("hardened")  # audited as if it were a videobridge-only host
    inv, known = _inventory(tmp_path, {"meet-legacy": (legacy, None), "jvb-hardened": (bridge, "jvb")})
    before = {h.name: len(_sessions(h)) for h in (legacy, bridge)}
    whole = tmp_path / "whole.json"
    code, err = _run(["--inventory", str(inv), "--known-hosts", str(known), "-q", "-o", str(whole)], capsys)
    data = json.loads(whole.read_text())
    assert [t["target"] for t in data["targets"]] == ["meet-legacy", "jvb-hardened"]
    assert code == data["exit_code"]
    meet, jvb = data["targets"]
    assert meet["complete"] and jvb["complete"], err
    # one SSH session, one exec request per host
    for h in (legacy, bridge):
        new = _sessions(h)[before[h.name]:]
        assert [(s["kind"], s["command"]) for s in new] == [("exec", "/bin/sh -s")], new
    # roles: the all-in-one host gets every check; the "videobridge" is not failed for prosody or the web
    assert meet["host_roles_source"] == "detected" and {"web", "prosody", "jicofo", "jvb"} <= set(meet["host_roles"])
    assert not [f for f in meet["findings"] if f["message"].startswith("role ")]
    assert jvb["host_roles"] == ["jvb"] and jvb["host_roles_source"] == "inventory"
    skipped = {f["check_id"]: f["message"] for f in jvb["findings"] if f["message"].startswith("role jvb:")}
    assert skipped["xmpp.s2s_disabled"] == "role jvb: no prosody expected (inventory)"
    assert "web.hsts" in skipped and "live.hsts" in skipped and "jvb.public_http" not in skipped
    assert all(f["status"] == "not_applicable" for f in jvb["findings"] if f["check_id"] in skipped)
    # the same fleet split in two runs (two CI jobs) and merged gives the same verdict
    parts = []
    for name in ("meet-legacy", "jvb-hardened"):
        part = tmp_path / f"{name}.json"
        _run(["--inventory", str(inv), "--limit", name, "--known-hosts", str(known), "-q", "-o", str(part)], capsys)
        parts.append(str(part))
    merged = tmp_path / "merged.json"
    code_merged, _ = _run(["merge", *parts, "-o", str(merged)], capsys)
    fleet = json.loads(merged.read_text())
    assert [t["target"] for t in fleet["targets"]] == ["meet-legacy", "jvb-hardened"]
    assert code_merged == fleet["exit_code"] == code
