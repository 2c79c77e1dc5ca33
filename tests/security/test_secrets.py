"""No secret value leaves the auditor: not in any report format, the saved snapshot, the evidence
bundle (searched inside the tar.gz), stdout, stderr or the DEBUG log records of every library.

Secrets are the canaries planted in every secret-bearing setting — by the golden fixture trees
(`CANARY-...` in tests/fixtures) and by the lab hosts (component secrets, focus/jvb/jibri/jigasi
passwords, JWT app secret, TURN static-auth-secret, docker .env passwords; LDAP bind password in the
fixtures) — plus the key material of every private key on the lab hosts (web, XMPP and SSH host keys)
and of the audit account's own key. Each is searched in plain, hex, base64 (any alignment), UTF-16,
URL-, JSON- and HTML-escaped forms, and the canaries' random tails too (a partial redaction).
"""

from __future__ import annotations

import base64
import io
import json
import re
import tarfile
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.lab import LabHost
from tests.security.conftest import SecHost
from tests.security.labtools import ssh_config
from tests.security.support import (
    FIXTURES,
    REPORT_FILES,
    CliRun,
    all_outputs,
    canaries_in_tree,
    find_leaks,
    private_key_material,
    report_args,
    run_cli,
)

FIXTURE_TREES = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def _fixture_secrets() -> list[str]:
    return sorted({s for tree in FIXTURE_TREES for s in canaries_in_tree(tree)})


def test_fixture_trees_plant_canaries() -> None:
    full = [s for s in _fixture_secrets() if s.startswith("CANARY-")]
    assert len(full) >= 30, full
    assert any("bindpw" in s for s in full)  # the LDAP bind password
    assert any("appsecret" in s for s in full)  # the JWT app secret


def _assert_every_output(run: CliRun, expect_snapshots: int) -> None:
    for name in REPORT_FILES.values():
        assert run.files.get(name), f"{name} was not written\n{run.diagnose()}"
    assert "evidence.tar.gz" in run.files, run.diagnose()
    snaps = [k for k in run.files if k.startswith("snapshot")]
    assert len(snaps) == expect_snapshots, sorted(run.files)


@pytest.fixture(scope="module")
def fixture_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[CliRun, CliRun]:
    """Every fixture tree in one run with every output, then the saved snapshots audited again."""
    work = tmp_path_factory.mktemp("fixtures")
    roots = [arg for tree in FIXTURE_TREES for arg in ("--root", str(tree))]
    first = run_cli([*roots, *report_args()], work / "first")
    saved = sorted(k for k in first.files if k.startswith("snapshot"))
    again = [arg for name in saved for arg in ("--snapshot", str(work / "first" / name))]
    second = run_cli([*again, *report_args()], work / "second")
    return first, second


def test_no_canary_in_any_output_of_the_fixture_trees(fixture_runs: tuple[CliRun, CliRun]) -> None:
    secrets = _fixture_secrets()
    for run in fixture_runs:
        assert run.code in (0, 1, 3), run.diagnose()
        _assert_every_output(run, len(FIXTURE_TREES))
        assert len(run.report["targets"]) == len(FIXTURE_TREES)
        leaks = find_leaks(secrets, all_outputs(run))
        assert not leaks, "\n".join(leaks[:40])


UNTERMINATED = {  # a quoted secret whose closing quote an edit lost: the file no longer parses
    "etc/prosody/conf.d/meet.example.org.cfg.lua": 'Component "focus.meet.example.org"\n'
                                                   '    component_secret = "CANARY-unterminated-lua-5c0d2e91a7\n',
    "etc/jitsi/jicofo/jicofo.conf": 'jicofo {\n  xmpp {\n    client {\n'
                                    '      password = "CANARY-unterminated-hocon-1f8b4a0c63\n',
    "etc/jitsi/meet/meet.example.org-config.js": "var config = {\n"
                                                 "    callStatsSecret: 'CANARY-unterminated-js-7e2c9d14b0,\n",
    "etc/jitsi/jibri/jibri.conf": 'jibri {\n  call-login {\n    password = """CANARY-unterminated-triple-4d6a1b88e2\n',
    # valid files, the value on the line after its key
    "etc/prosody/conf.avail/wrapped.cfg.lua": 'Component "jvb.meet.example.org"\n    component_secret =\n'
                                              '        "CANARY-nextline-lua-0b7e3f52c9"\n',
    "etc/jitsi/videobridge/jvb.conf": 'videobridge {\n  apis {\n    xmpp-client {\n      configs {\n'
                                      '        shard {\n          PASSWORD =\n            "CANARY-nextline-hocon-83d1c6a0f4"\n'
                                      '        }\n      }\n    }\n  }\n}\n',
    "etc/jitsi/meet/other.example.org-config.js": "var config = {\n    callStatsSecret:\n"
                                                  "        'CANARY-nextline-js-6a2f90d1e3',\n};\n",
}


def test_no_unterminated_or_wrapped_secret_in_any_output(tmp_path: Path) -> None:
    """The parsers fail on the first files and name the problem; neither their messages nor the saved
    evidence may carry the value that the missing quote left open. The others parse, with values on the
    line after their keys."""
    tree = tmp_path / "tree"
    for rel, text in UNTERMINATED.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text, encoding="utf-8")
    run = run_cli(["--root", str(tree), *report_args()], tmp_path / "work")
    assert run.code == 3, run.diagnose()  # incomplete: the files do not parse
    _assert_every_output(run, 1)
    leaks = find_leaks(canaries_in_tree(tree), all_outputs(run))
    assert not leaks, "\n".join(leaks[:40])


# -- live, over SSH ------------------------------------------------------------------------------
PLAIN_VARIANTS = ("hardened", "debian-default", "legacy-2020", "jwt", "unreadable-config")
SUDO_VARIANTS = ("docker-style", "hardened", "jwt")


def _key_files(host: LabHost) -> list[Path]:
    root = Path(host.root)
    files = [Path(host.ssh_key), *root.glob("etc/ssh/ssh_host_*_key")]
    for top in ("etc/jitsi", "etc/prosody", "etc/ssl", "root", "opt", "home"):
        files += [p for p in (root / top).rglob("*") if p.is_file() and p.suffix in (".key", ".pem")]
    return files


def _lab_secrets(hosts: list[LabHost]) -> list[str]:
    values = {c for h in hosts for c in h.canaries}
    values |= {c.rsplit("-", 1)[-1] for h in hosts for c in h.canaries}  # the random tails
    values |= set(private_key_material(p for h in hosts for p in _key_files(h)))
    # Certificates are public and are collected on purpose: a line that is also certificate material
    # (e.g. a lab file holding a key and its certificate) is not a secret.
    values -= _certificate_lines(hosts)
    return sorted(values)


def _certificate_lines(hosts: list[LabHost]) -> set[str]:
    lines: set[str] = set()
    for h in hosts:
        root = Path(h.root)
        for top in ("etc", "var/lib/prosody", "root", "opt", "home"):
            for p in (root / top).rglob("*"):
                if not p.is_file() or p.suffix not in (".crt", ".pem", ".cert"):
                    continue
                try:
                    data = p.read_text(errors="replace")
                except OSError:
                    continue
                for block in re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", data, re.S):
                    lines.update(block.split())
    return lines


def _live_run(hosts: list[LabHost], tmp_path: Path, *, sudo: bool) -> CliRun:
    kh = tmp_path / "known_hosts"
    kh.write_text("".join(Path(h.known_hosts).read_text() for h in hosts))
    cfg = ssh_config(hosts, tmp_path / "ssh_config", relaxing=False)
    args = [h.ssh_target for h in hosts] + ["--known-hosts", str(kh), "--ssh-config", str(cfg)]
    return run_cli([*args, *(["--sudo"] if sudo else []), *report_args()], tmp_path / "run")


@pytest.mark.lab
@pytest.mark.parametrize("sudo", [False, True], ids=["plain", "sudo"])
def test_no_canary_in_any_output_of_live_audits(sec_host: SecHost, tmp_path: Path, sudo: bool) -> None:
    hosts = [sec_host(v) for v in (SUDO_VARIANTS if sudo else PLAIN_VARIANTS)]
    secrets = _lab_secrets(hosts)
    assert sum(len(h.canaries) for h in hosts) >= (10 if sudo else 12)
    assert len([s for s in secrets if not s.startswith("CANARY-")]) > 20  # key material is searched too
    run = _live_run(hosts, tmp_path, sudo=sudo)
    assert run.code in (0, 1, 3), run.diagnose()
    _assert_every_output(run, len(hosts))
    for h in hosts:
        t = run.target(h.ssh_target)
        assert t["host_key"] and t["collected"], (h.name, t["error"])
    # logging really was at DEBUG and captured: the SSH library's records are in stderr
    assert "LOG paramiko.transport DEBUG" in run.stderr
    leaks = find_leaks(secrets, all_outputs(run))
    assert not leaks, "\n".join(leaks[:40])
    # the collected evidence did carry the secret-bearing files (redacted), so the search meant something
    report = json.loads(run.files["report.json"])
    redactions = sum(c["redactions"] for t in report["targets"] for c in t["collected"])
    assert redactions >= len(hosts), redactions


def test_the_leak_search_finds_every_form() -> None:
    """The search above would see a secret however an output carried it (a self-test of the harness)."""
    secret = "CANARY-selftest-jvbpw#0123456789ab"
    for offset in range(3):  # base64 inside a JSON member of the gzipped tar, at every alignment
        payload = b"p" * offset + b"password = " + secret.encode()
        member = json.dumps({"content_b64": base64.b64encode(payload).decode()}).encode()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            info = tarfile.TarInfo("snapshots/01-x.json")
            info.size = len(member)
            tar.addfile(info, io.BytesIO(member))
        assert find_leaks([secret], {"evidence.tar.gz": buf.getvalue()}), offset
    carried = {
        "hex": secret.encode().hex().encode(),
        "utf16": secret.encode("utf-16-le"),
        "url": quote(secret, safe="").encode(),
        "html": secret.replace("#", "&#35;").encode(),
        "urlsafe": base64.urlsafe_b64encode(b"..." + secret.encode()),
    }
    for name, blob in carried.items():
        assert find_leaks([secret], {name: b"<" + blob + b">"}), name
    assert find_leaks([secret], {"clean": b"JAUDIT_REDACTED_ok_34_g1"}) == []
