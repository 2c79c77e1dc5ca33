"""The CLI wiring of gating and evidence: options, exit codes (2 > 3 > 1 > 0), stderr notices, outputs.

The audit itself is replaced by the hand-built results, so these tests need no parsed deployment.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import auditor.cli as cli
from auditor.engine import TargetResult
from tests.report.fixtures import make_results


@pytest.fixture
def fake_audit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """`--root DIR/ok` audits to the fixture's directory target, `--root DIR/down` to the failed one."""
    results = make_results()

    def fake(root: Path, *args: Any) -> TargetResult:
        return results[0] if root.name == "ok" else results[2]

    monkeypatch.setattr(cli, "_audit_root", fake)
    (tmp_path / "ok").mkdir()
    (tmp_path / "down").mkdir()
    return tmp_path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def _waivers(path: Path, entries: list[dict[str, str]]) -> Path:
    lines = ["waivers:"]
    for e in entries:
        lines.append("  - " + json.dumps(e))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GATING = ["secrets.weak_or_default", "web.tls_configuration"]  # the fixture's failures at high and above


def test_findings_gate_then_waivers_lift_them(fake_audit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(fake_audit / "ok")
    code, _, _ = run(["--root", root, "-q", "-f", "json"], capsys)
    assert code == 1
    w = _waivers(
        fake_audit / "w.yaml",
        [
            {"check": c, "justification": "accepted", "expires": "2999-01-01", "approver": "CISO"}
            for c in GATING
        ],
    )
    code, out, _ = run(["--root", root, "-q", "--waivers", str(w), "-f", "markdown"], capsys)
    assert code == 0
    assert "waived" in out


def test_expired_waiver_is_announced_and_gates(fake_audit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w = _waivers(
        fake_audit / "w.yaml",
        [
            {"check": c, "justification": "accepted", "expires": "2020-01-01", "approver": "CISO"}
            for c in GATING
        ],
    )
    code, _, err = run(["--root", str(fake_audit / "ok"), "-q", "--waivers", str(w), "-f", "csv"], capsys)
    assert code == 1
    assert "waiver for secrets.weak_or_default" in err and "expired on 2020-01-01" in err


@pytest.mark.parametrize(
    "content",
    [
        "waivers:\n  - {check: web.hsts, justification: x, expires: 2030-02-30, approver: y}\n",
        "waivers:\n  - {check: web.hsts, expires: 2030-01-01, approver: y}\n",
        "waivers:\n  - {check: web.unknown_check, justification: x, expires: 2030-01-01, approver: y}\n",
        "waivers: [\n",
        "waivers:\n  - {check: web.hsts, target: '', justification: x, expires: 2030-01-01, approver: y}\n",
        "version: true\nwaivers: []\n",
    ],
)
def test_malformed_waivers_exit_2(fake_audit: Path, capsys: pytest.CaptureFixture[str], content: str) -> None:
    w = fake_audit / "w.yaml"
    w.write_text(content, encoding="utf-8")
    code, out, err = run(["--root", str(fake_audit / "ok"), "--waivers", str(w)], capsys)
    assert code == 2 and out == ""
    assert f"{w}:" in err


def test_usage_errors_exit_2(fake_audit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(fake_audit / "ok")
    assert run(["--root", root, "--min-score", "bogus=3"], capsys)[0] == 2
    assert run(["--root", root, "--min-score", "101"], capsys)[0] == 2
    assert run(["--root", root, "--baseline", str(fake_audit / "missing.json")], capsys)[0] == 2
    assert run(["--root", root, "--sign-key", str(fake_audit / "k.pem")], capsys)[0] == 2
    assert run(["--root", root, "--fail-on", "never"], capsys)[0] == 2
    code, out, err = run(["--root", root, "--fail-on", "", "--profile", "ci"], capsys)  # not the profile's
    assert code == 2 and out == "" and "--fail-on must be one of" in err
    bad = fake_audit / "p.yaml"
    bad.write_text("extends: default\nseverities: {web.hsts: urgent}\n", encoding="utf-8")
    code, _, err = run(["--root", root, "--profile", str(bad)], capsys)
    assert code == 2 and f"{bad}:2:" in err


def test_min_score_and_profile_fail_on(fake_audit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(fake_audit / "ok")
    w = _waivers(
        fake_audit / "w.yaml",
        [
            {"check": c, "justification": "accepted", "expires": "2999-01-01", "approver": "CISO"}
            for c in GATING
        ],
    )
    assert run(["--root", root, "-q", "--waivers", str(w), "--min-score", "39"], capsys)[0] == 0
    assert run(["--root", root, "-q", "--waivers", str(w), "--min-score", "encryption=50"], capsys)[0] == 1
    # the ci profile fails on medium: the fixture's medium failures gate again
    assert run(["--root", root, "-q", "--waivers", str(w), "--profile", "ci"], capsys)[0] == 1
    assert (
        run(["--root", root, "-q", "--waivers", str(w), "--profile", "ci", "--fail-on", "high"], capsys)[0]
        == 0
    )


def test_baseline_only_new_failures_gate(fake_audit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(fake_audit / "ok")
    base = fake_audit / "base.json"
    code, _, _ = run(["--root", root, "-q", "-o", str(base)], capsys)
    assert code == 1 and json.loads(base.read_text())["targets"][0]["target"] == "config-repo"
    code, out, _ = run(["--root", root, "-q", "--baseline", str(base), "-f", "table"], capsys)
    assert code == 0
    assert "0 new, 5 unchanged, 0 fixed" in out


def test_incomplete_takes_precedence_over_findings(
    fake_audit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(["--root", str(fake_audit / "ok"), "--root", str(fake_audit / "down"), "-q"], capsys)
    assert code == 3


def test_every_format_by_extension(fake_audit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = fake_audit / "out"
    out_dir.mkdir()
    names = ["r.sarif", "r.xml", "r.html", "r.md", "r.csv", "r.json", "r.txt"]
    args = ["--root", str(fake_audit / "ok"), "-q"]
    for n in names:
        args += ["-o", str(out_dir / n)]
    code, out, _ = run(args, capsys)
    assert code == 1 and out == ""
    assert json.loads((out_dir / "r.sarif").read_text())["version"] == "2.1.0"
    assert (out_dir / "r.xml").read_text().startswith("<?xml")
    assert (out_dir / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert (out_dir / "r.md").read_text().startswith("## ")
    assert (out_dir / "r.csv").read_text().startswith("kind,target,check_id")


def _keys(tmp: Path) -> tuple[Path, Path, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    priv = tmp / "sign.pem"
    priv.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    pub = tmp / "sign.pub"
    pub.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    return priv, pub, key


def test_evidence_bundle_and_verify(fake_audit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    priv, pub, _ = _keys(fake_audit)
    bundle = fake_audit / "evidence.tar.gz"
    w = _waivers(
        fake_audit / "w.yaml",
        [{"check": "web.hsts", "justification": "cdn", "expires": "2999-01-01", "approver": "CISO"}],
    )
    code, _, err = run(
        [
            "--root",
            str(fake_audit / "ok"),
            "-q",
            "--waivers",
            str(w),
            "--evidence",
            str(bundle),
            "--sign-key",
            str(priv),
        ],
        capsys,
    )
    assert code == 1 and "evidence bundle" in err and "signed" in err
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        report = json.loads(tar.extractfile("report.json").read())  # type: ignore[union-attr]
    assert {
        "manifest.json",
        "manifest.sig",
        "report.json",
        "versions.json",
        "run.json",
        "inputs/waivers.yaml",
    } <= set(names)
    assert report["exit_code"] == 1
    code, out, _ = run(["verify", str(bundle), "--pubkey", str(pub)], capsys)
    assert code == 0 and out.startswith("OK ") and "signature valid" in out
    (fake_audit / "other").mkdir()
    _, other_pub, _ = _keys(fake_audit / "other")
    code, out, _ = run(["verify", str(bundle), "--pubkey", str(other_pub)], capsys)
    assert code == 1 and "signed by another key" in out
    code, _, err = run(["verify", str(fake_audit / "nope.tar.gz")], capsys)
    assert code == 2
    code, _, err = run(["verify", str(bundle), "--pubkey", str(fake_audit / "nokey.pub")], capsys)
    assert code == 2


def test_check_ids_of_the_users_files_are_validated_before_any_host_is_contacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown check id in the waivers or in the user's profile is a usage error (exit 2, nothing on
    stdout) found before any host is contacted: the host's SSH port is never connected to. With valid
    inputs, and with a built-in profile (whose ids are known), the same host is contacted."""
    from tests.loopback import Server

    ssh = Server(lambda conn: None)  # accepts and hangs up: the host is incomplete
    try:
        host = [f"ssh://nobody@127.0.0.1:{ssh.port}", "--no-probes", "--known-hosts", str(tmp_path / "kh"), "-q"]
        w = _waivers(tmp_path / "w.yaml", [{"check": "web.unknown_check", "justification": "x",
                                              "expires": "2030-01-01", "approver": "y"}])
        code, out, err = run([*host, "--waivers", str(w)], capsys)
        assert code == 2 and out == "" and f"{w}:" in err and "unknown_check" in err
        p = tmp_path / "p.yaml"
        p.write_text("extends: default\ndisabled_checks: [web.no_such_check]\n", encoding="utf-8")
        code, out, err = run([*host, "--profile", str(p)], capsys)
        assert code == 2 and out == "" and f"{p}:2: unknown check 'web.no_such_check'" in err
        assert ssh.accepted == 0
        good = _waivers(tmp_path / "good.yaml", [{"check": "web.hsts", "justification": "x",
                                                   "expires": "2030-01-01", "approver": "y"}])
        code, out, err = run([*host, "--waivers", str(good)], capsys)
        assert code == 3 and "127.0.0.1" in err and ssh.accepted == 1
        code, out, err = run([*host, "--profile", "ci"], capsys)  # the hosts go first
        assert code == 3 and "127.0.0.1" in err and ssh.accepted == 2
    finally:
        ssh.close()


def test_a_report_that_cannot_be_written_is_exit_2_before_any_host_is_contacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every file the run will write is checked first: a fleet's audit is not run for nothing."""
    from tests.loopback import Server

    ssh = Server(lambda conn: None)
    try:
        host = [f"ssh://nobody@127.0.0.1:{ssh.port}", "--no-probes", "--known-hosts", str(tmp_path / "kh"), "-q"]
        (tmp_path / "d.json").mkdir()
        cases = {
            ("-o", str(tmp_path / "d.json")): "it is a directory",
            ("-o", str(tmp_path / "missing" / "r.json")): f"no directory {tmp_path / 'missing'}",
            ("--save-snapshot", str(tmp_path)): "it is a directory",
            ("--evidence", str(tmp_path / "missing" / "e.tar.gz")): "no directory",
            ("--timeout", "0"): "--timeout",
        }
        for args, message in cases.items():
            code, out, err = run([*host, *args], capsys)
            assert code == 2 and out == "" and message in err, (args, err)
        assert ssh.accepted == 0
        code, out, err = run([*host, "-o", str(tmp_path / "r.json")], capsys)
        assert code == 3 and ssh.accepted == 1 and (tmp_path / "r.json").is_file()
    finally:
        ssh.close()


def test_the_report_records_the_sha256_of_the_files_the_run_read(
    fake_audit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run-level gate names the waivers file and the baseline by path and by the SHA-256 of the exact
    bytes read (here with a byte order mark and CRLF line ends): `merge` compares runs by the content."""
    root = str(fake_audit / "ok")
    base = fake_audit / "base.json"
    assert run(["--root", root, "-q", "-o", str(base)], capsys)[0] == 1
    w = fake_audit / "w.yaml"
    w.write_bytes(b"\xef\xbb\xbfwaivers:\r\n  - {check: web.hsts, justification: cdn, expires: 2999-01-01, "
                  b"approver: CISO}\r\n")
    out_json, out_html = fake_audit / "r.json", fake_audit / "r.html"
    args = ["--root", root, "-q", "--waivers", str(w), "--baseline", str(base), "-o", str(out_json), "-o", str(out_html)]
    assert run(args, capsys)[0] == 0
    gate = json.loads(out_json.read_text())["gate"]
    waivers_sha256, baseline_sha256 = (hashlib.sha256(p.read_bytes()).hexdigest() for p in (w, base))
    assert (gate["waivers"], gate["waivers_sha256"]) == (str(w), waivers_sha256)
    assert (gate["baseline"], gate["baseline_sha256"]) == (str(base), baseline_sha256)
    html = out_html.read_text()
    assert f"(sha256 {waivers_sha256[:12]}…)" in html and f"(sha256 {baseline_sha256[:12]}…)" in html
    assert run(["--root", root, "-q", "-o", str(out_json)], capsys)[0] == 1  # no files: no digests
    gate = json.loads(out_json.read_text())["gate"]
    assert gate["waivers_sha256"] is None and gate["baseline_sha256"] is None


def test_a_gating_file_changed_during_the_run_is_not_bundled(fake_audit: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundle reads the waivers again when it is written, after the report: a file edited meanwhile (a
    CI job's checkout moving on) would be bundled as what the run used. Its bytes must match the digest the
    report recorded, or no bundle is written (exit 2, one line)."""
    bundle = fake_audit / "evidence.tar.gz"
    w = _waivers(fake_audit / "w.yaml",
                 [{"check": "web.hsts", "justification": "cdn", "expires": "2999-01-01", "approver": "CISO"}])
    read = hashlib.sha256(w.read_bytes()).hexdigest()
    real = cli._write_report

    def edit_then_write(path: Path | None, pieces: Any) -> None:
        w.write_text(w.read_text().replace("cdn", "edited"), encoding="utf-8")
        real(path, pieces)

    monkeypatch.setattr(cli, "_write_report", edit_then_write)
    code, out, err = run(["--root", str(fake_audit / "ok"), "--waivers", str(w), "-f", "json", "--evidence",
                          str(bundle)], capsys)
    assert code == 2 and not bundle.exists()
    assert json.loads(out)["gate"]["waivers_sha256"] == read
    line = next(x for x in err.splitlines() if "changed during the run" in x)
    assert line == (f"jitsi-audit: waivers {w} changed during the run (the report records sha256 {read[:12]}…, "
                    f"the file is now {hashlib.sha256(w.read_bytes()).hexdigest()[:12]}…): no bundle written; run again")
    monkeypatch.setattr(cli, "_write_report", real)
    code, _, err = run(["--root", str(fake_audit / "ok"), "-q", "--waivers", str(w), "--evidence", str(bundle)],
                       capsys)
    assert code == 1 and bundle.exists(), err  # unchanged during the run: bundled


def test_profile_chain_and_declarations_are_recorded_and_bundled_as_read(
    fake_audit: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every user profile file of an `extends` chain and the declarations file: the report's profile block
    records each one's SHA-256, the bundle holds each one's bytes (the parent too: a verifier needs it to
    know the rules), and a file edited during the run is refused like the gating files."""
    base = fake_audit / "base.yaml"
    base.write_text("extends: default\nseverities:\n  web.hsts: low\n", encoding="utf-8")
    team = fake_audit / "team.yaml"
    team.write_text("extends: base.yaml\nfail_on: critical\n", encoding="utf-8")
    decl = fake_audit / "d.yaml"
    decl.write_text("jur.headquarters: {rating: N/A, statement: self-hosted}\n", encoding="utf-8")
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (base, team, decl)}
    bundle = fake_audit / "evidence.tar.gz"
    args = ["--root", str(fake_audit / "ok"), "--profile", str(team), "--declarations", str(decl), "-f", "json",
            "--evidence", str(bundle)]
    code, out, err = run(args, capsys)
    assert code in (0, 1) and bundle.exists(), err
    profile = json.loads(out)["profile"]
    assert profile["files"] == [{"path": str(base), "sha256": digest["base.yaml"]},
                                {"path": str(team), "sha256": digest["team.yaml"]}]
    assert profile["declarations"] == {"path": str(decl), "sha256": digest["d.yaml"]}
    with tarfile.open(bundle) as tar:
        held = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.name.startswith("inputs/")}  # type: ignore[union-attr]
    assert held == {"inputs/profile.yaml": team.read_bytes(), "inputs/profile-extends-1.yaml": base.read_bytes(),
                    "inputs/declarations.yaml": decl.read_bytes()}
    bundle.unlink()

    real = cli._write_report

    def edit_then_write(path: Path | None, pieces: Any) -> None:
        base.write_text(base.read_text().replace("low", "info"), encoding="utf-8")
        real(path, pieces)

    monkeypatch.setattr(cli, "_write_report", edit_then_write)
    code, _, err = run(args, capsys)
    assert code == 2 and not bundle.exists()
    assert f"profile-extends-1 {base} changed during the run (the report records sha256 {digest['base.yaml'][:12]}…" in err


def test_a_built_in_profile_records_no_files(fake_audit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["--root", str(fake_audit / "ok"), "-f", "json"], capsys)
    profile = json.loads(out)["profile"]
    assert profile["files"] == [] and "declarations" not in profile


def test_waivers_may_expire_at_most_max_waiver_days_ahead(fake_audit: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A waiver to 2999 accepts a risk for good: a profile's max_waiver_days (or --max-waiver-days, which
    overrides it) bounds how far after the run's UTC date a waiver may expire. Beyond it: exit 2, one line
    naming the entry; an expired waiver is not refused (it already no longer applies)."""
    from datetime import timedelta

    from auditor.gating.waivers import utc_today

    today = utc_today()
    w = _waivers(fake_audit / "w.yaml", [
        {"check": "web.hsts", "justification": "cdn", "expires": (today + timedelta(days=365)).isoformat(),
         "approver": "CISO"},
        {"check": "web.tls_configuration", "justification": "old", "expires": "2001-01-01", "approver": "CISO"},
        {"check": "secrets.weak_or_default", "justification": "rotating",
         "expires": (today + timedelta(days=400)).isoformat(), "approver": "CISO"},
    ])
    base = ["--root", str(fake_audit / "ok"), "-q", "--waivers", str(w)]
    code, _, err = run([*base, "--max-waiver-days", "365"], capsys)
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"jitsi-audit: {w}:4: the waiver for secrets.weak_or_default expires on "
        f"{(today + timedelta(days=400)).isoformat()}, 400 days after {today.isoformat()} (UTC); waivers may run "
        "for at most 365 days (max_waiver_days)")
    assert run([*base, "--max-waiver-days", "400"], capsys)[0] == 1
    strict = fake_audit / "strict.yaml"
    strict.write_text("extends: default\nmax_waiver_days: 30\n", encoding="utf-8")
    code, _, err = run([*base, "--profile", str(strict)], capsys)
    assert code == 2 and f"{w}:2: the waiver for web.hsts expires on" in err
    assert run([*base, "--profile", str(strict), "--max-waiver-days", "400"], capsys)[0] == 1  # the CLI wins
    strict.write_text("extends: default\nmax_waiver_days: 1 year\n", encoding="utf-8")
    code, _, err = run([*base, "--profile", str(strict)], capsys)
    assert code == 2 and (f"{strict}:2: max_waiver_days is a whole number of days from 1 to 36500, "
                          "not '1 year'") in err
    code, _, err = run([*base, "--max-waiver-days", "0"], capsys)
    assert code == 2 and "--max-waiver-days: max_waiver_days is a whole number of days from 1 to 36500, not 0" in err
