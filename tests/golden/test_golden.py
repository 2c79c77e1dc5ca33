"""Golden tests: the real CLI on each fixture tree against the expectations written in tests/golden/*.yaml.

Each YAML was reasoned from the fixture's files and the facts contract (issue 2), not copied from tool
output. Per fixture the CLI runs once (`--root TREE -f table -f json -o out.json --save-snapshot`),
then once more on the saved snapshot; every test reads those runs. The CLI runs in this process
(`auditor.cli.main` with stdout and stderr captured, the exit code from its SystemExit); two tests run
the installed `jitsi-audit` entry point in a subprocess and compare it with the in-process runs.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
REPO = HERE.parent.parent
SCHEMA = REPO / "auditor" / "report" / "report.schema.json"
GOLDEN = sorted(p.stem for p in HERE.glob("*.yaml"))

FACT_KEYS = (
    "auth.main", "auth.guest_domain", "auth.secure_domain", "lobby.enabled", "rooms.breakout",
    "moderation.av", "e2ee.available", "p2p.enabled", "privacy.third_party_stun",
    "privacy.third_party_requests",
    "xmpp.c2s_require_encryption", "web.tls_protocols", "web.weak_tls", "web.hsts", "jvb.rest_public",
    "web.welcome_page", "recording.enabled", "xmpp.rate_limit", "secrets.weak_or_default", "secrets.weak",
)  # fmt: skip
# The checks of issue 2 (the foundation); newer catalogue checks get expectations when their author adds them.
COVERED_CHECKS = frozenset(
    {
        "auth.room_creation_restricted", "auth.secure_domain", "auth.service_accounts_hashed",
        "auth.directory_integration", "auth.token_sso", "exposure.jvb_rest_api", "privacy.e2ee_available",
        "privacy.third_party_stun", "privacy.third_party_requests", "recording.server_side",
        "rooms.lobby_available", "rooms.breakout_rooms", "rooms.av_moderation", "rooms.rate_limits",
        "rooms.welcome_page_open", "rooms.meeting_password_policy", "secrets.weak_or_default",
        "web.tls_configuration", "web.hsts", "xmpp.c2s_encryption",
    }
)  # fmt: skip
CANARY_RE = re.compile(r"CANARY-[A-Za-z0-9#@-]+")
# What a terminal could interpret: C0/C1 controls (except newline and tab), DEL, bidi overrides.
UNSAFE_TERMINAL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ENV = {"NO_COLOR": "1", "COLUMNS": "120", "PYTHONIOENCODING": "utf-8"}
_TMP = Path(tempfile.mkdtemp(prefix="jitsi-audit-golden-"))


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    json_text: str
    snapshot_text: str  # the saved snapshot, with every item's content decoded and appended

    @functools.cached_property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.json_text)
        return data

    @property
    def target(self) -> dict[str, Any]:
        targets = self.report["targets"]
        assert len(targets) == 1
        result: dict[str, Any] = targets[0]
        return result

    def statuses(self) -> dict[str, str]:
        return {f["check_id"]: f["status"] for f in self.target["findings"] if f["check_id"] in COVERED_CHECKS}

    def outputs(self) -> dict[str, str]:
        return {
            "stdout": self.stdout,
            "stderr": self.stderr,
            "json": self.json_text,
            "snapshot": self.snapshot_text,
        }


def golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((HERE / f"{name}.yaml").read_text(encoding="utf-8"))
    return data


def known_bugs(name: str, kind: str) -> set[str]:
    """Items (`fact X`, `check X`, `rating X`) whose expectation the tool does not meet yet."""
    return {b["item"].split(" ", 1)[1] for b in golden(name).get("known_bugs", []) if b["item"].startswith(kind + " ")}


def expected_status(g: dict[str, Any], check_id: str) -> str:
    if check_id in g["failed_checks"]:
        return "fail"
    return "unclear" if check_id in g.get("unclear_checks", []) else "pass"


@contextlib.contextmanager
def _cli_environment() -> Iterator[None]:
    """The environment of a plain, colourless 120-column run; restored afterwards."""
    saved = dict(os.environ)
    for name in ("FORCE_COLOR", "CLICOLOR_FORCE"):
        os.environ.pop(name, None)
    os.environ.update(_ENV)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _exit_code(exc: SystemExit) -> int:
    """What the process would exit with (sys.exit semantics: None is 0, a message is 1)."""
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


def _cli(*args: str) -> tuple[int, str, str]:
    """`jitsi-audit ARGS` in this process: (exit code, stdout, stderr). An exception that escapes the
    CLI is exit 1 with its traceback on stderr, as the interpreter would report it."""
    from auditor.cli import main

    out, err = io.StringIO(), io.StringIO()
    with _cli_environment(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc)
        except Exception:
            traceback.print_exc(file=err)
            code = 1
    return code, out.getvalue(), err.getvalue()


def _cli_subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed `jitsi-audit` console script (the venv's, beside this interpreter)."""
    exe = Path(sys.executable).with_name("jitsi-audit")
    path = str(exe) if exe.exists() else shutil.which("jitsi-audit")
    assert path, "the jitsi-audit entry point is not installed (pip install -e .)"
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env.update(_ENV)
    return subprocess.run(
        [path, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        cwd=REPO,
        env=env,
        timeout=300,
        check=False,
    )


def _decoded_snapshot(path: Path) -> str:
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    parts = [text]
    for item in json.loads(text).get("items", []):
        if item.get("content_b64"):
            parts.append(base64.b64decode(item["content_b64"]).decode("utf-8", errors="replace"))
    return "\n".join(parts)


def _audit(source: list[str], work: Path) -> Run:
    work.mkdir(parents=True, exist_ok=True)
    out, snap = work / "out.json", work / "snapshot.json"
    code, stdout, stderr = _cli(*source, "-f", "table", "-f", "json", "-o", str(out), "--save-snapshot", str(snap), "-q")
    json_text = out.read_text(encoding="utf-8") if out.exists() else ""
    return Run(code, stdout, stderr, json_text, _decoded_snapshot(snap))


def _unreadable_snapshot(name: str, work: Path) -> Path:
    """The fixture collected as --root would, with the listed items made unreadable (git keeps no modes)."""
    from auditor.snapshot import CollectedItem, ItemStatus
    from auditor.transports.local import collect_local_dir

    snap = collect_local_dir(FIXTURES / name)
    for key in golden(name)["unreadable"]:
        item = snap.items[key]
        snap.add(
            CollectedItem(
                key=key,
                kind="file",
                status=ItemStatus.PERMISSION_DENIED,
                size=item.size,
                mode=0o640,
                owner="root",
                group="prosody",
                link_target=item.link_target,
            )
        )
    work.mkdir(parents=True, exist_ok=True)
    path = work / "input-snapshot.json"
    snap.save(path)
    return path


@functools.cache
def _runs(name: str) -> tuple[Run, Run]:
    """The audit of the tree, then (right after, same code) the audit of the snapshot it saved."""
    work = _TMP / name
    if "unreadable" in golden(name):
        first = _audit(["--snapshot", str(_unreadable_snapshot(name, work / "first"))], work / "first")
    else:
        first = _audit(["--root", str(FIXTURES / name)], work / "first")
    second = _audit(["--snapshot", str(work / "first" / "snapshot.json")], work / "second")
    return first, second


def first_run(name: str) -> Run:
    return _runs(name)[0]


def second_run(name: str) -> Run:
    return _runs(name)[1]


def _diagnose(run: Run) -> str:
    return f"exit {run.code}\nstderr:\n{run.stderr[-3000:]}"


@pytest.fixture(params=GOLDEN)
def name(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def test_every_fixture_has_a_golden_file_and_every_golden_file_a_fixture() -> None:
    trees = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
    assert trees == GOLDEN
    for n in GOLDEN:
        assert set(golden(n)["facts"]) == set(FACT_KEYS), n


def test_exit_code(name: str) -> None:
    run = first_run(name)
    assert run.code == golden(name)["exit_code"], _diagnose(run)


def test_json_report_is_produced_and_valid(name: str) -> None:
    run = first_run(name)
    assert run.json_text, _diagnose(run)
    report = run.report
    assert report["exit_code"] == run.code
    assert run.target["complete"] is True  # the target was collected; unreadable parts are unclear findings
    if SCHEMA.exists():
        import jsonschema

        jsonschema.validate(report, json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_facts(name: str) -> None:
    run = first_run(name)
    assert run.json_text, _diagnose(run)
    got = run.target["facts"]
    want = golden(name)["facts"]
    assert set(got) == set(FACT_KEYS)
    details = run.target.get("fact_details", {})
    skip = known_bugs(name, "fact")
    wrong = {
        k: {"expected": want[k], "got": got[k], "note": details.get(k, {}).get("note")}
        for k in FACT_KEYS
        if k not in skip
        and (sorted(got[k]) if k == "secrets.weak" and got[k] is not None else got[k])
        != (sorted(want[k]) if k == "secrets.weak" and want[k] is not None else want[k])
    }
    assert not wrong, json.dumps(wrong, indent=1, ensure_ascii=True)


def test_failed_and_unclear_checks(name: str) -> None:
    run = first_run(name)
    assert run.json_text, _diagnose(run)
    skip = known_bugs(name, "check")
    statuses = {c: s for c, s in run.statuses().items() if c not in skip}
    g = golden(name)
    assert sorted(c for c, s in statuses.items() if s == "fail") == sorted(set(g["failed_checks"]) - skip)
    if "unclear_checks" in g:
        got_unclear = sorted(c for c, s in statuses.items() if s == "unclear")
        assert got_unclear == sorted(set(g["unclear_checks"]) - skip)
    assert set(run.statuses()) == COVERED_CHECKS  # every foundation check ran


def test_ratings(name: str) -> None:
    run = first_run(name)
    assert run.json_text, _diagnose(run)
    got = {c["id"]: c["rating"] for c in run.target["criteria"]}
    skip = known_bugs(name, "rating")
    want = {k: str(v) for k, v in golden(name)["ratings"].items() if k not in skip}
    assert {k: got.get(k) for k in want} == want


def test_saved_snapshot_audits_to_the_same_result(name: str) -> None:
    first, second = first_run(name), second_run(name)
    assert first.json_text and second.json_text, _diagnose(second)
    a, b = first.target, second.target
    assert a["facts"] == b["facts"]

    def findings(t: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (f["check_id"], f["status"], f["message"], json.dumps(f["evidence"], sort_keys=True)) for f in t["findings"]
        ]

    assert findings(a) == findings(b)
    assert [(c["id"], c["rating"], c["reasons"]) for c in a["criteria"]] == [
        (c["id"], c["rating"], c["reasons"]) for c in b["criteria"]
    ]
    assert first.code == second.code


def _secrets_of(name: str) -> list[str]:
    found: set[str] = set()
    for path in (FIXTURES / name).rglob("*"):
        if path.is_file():
            found.update(CANARY_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
    needles = set(found)
    needles.update(re.split(r"[-#@]", c)[-1] for c in found)  # the random tail: catches partial redaction
    needles.update(str(v) for v in golden(name).get("never_printed") or [])
    return sorted(needles)


def test_no_secret_value_in_any_output(name: str) -> None:
    needles = _secrets_of(name)
    for run in (first_run(name), second_run(name)):
        for where, text in run.outputs().items():
            leaked = [n for n in needles if n in text]
            assert not leaked, f"{name}: {where} contains {leaked}"


def test_terminal_report_has_no_control_characters(name: str) -> None:
    run = first_run(name)
    assert run.stdout.strip(), _diagnose(run)
    bad = sorted({hex(ord(c)) for c in UNSAFE_TERMINAL_RE.findall(run.stdout)})
    assert not bad, f"{name}: terminal report contains {bad}"


INCOMPLETE = [n for n in GOLDEN if "parse_errors" in golden(n) or "unreadable" in golden(n)]


@pytest.mark.parametrize("broken", INCOMPLETE)
def test_incomplete_evidence_is_named_with_file_and_line(broken: str) -> None:
    run = first_run(broken)
    assert run.json_text, _diagnose(run)
    notes = "\n".join(run.target["notes"])
    for err in golden(broken).get("parse_errors", []):
        lines = [int(m) for m in re.findall(re.escape(err["path"]) + r":(\d+)", notes)]
        assert lines, f"no file:line for {err['path']} in notes:\n{notes}"
        if err["line"] is not None:
            assert err["line"] in lines, (err, lines)
        assert err["path"] in run.stdout  # the terminal report names it too
    for key in golden(broken).get("unreadable", []):
        collected = {c["key"]: c for c in run.target["collected"]}
        assert collected[key]["status"] == "permission_denied"
        assert any(key in n and "permission denied" in n for n in run.target["notes"]), notes
    # Incomplete evidence never reads as a pass: every check left unclear says why.
    for f in run.target["findings"]:
        if f["status"] == "unclear":
            assert f["message"].strip()


def test_hostile_values_stay_inert() -> None:
    run = first_run("hostile-values")
    assert run.json_text, _diagnose(run)
    raw = run.json_text
    assert "\x1b" not in raw and "\x07" not in raw  # JSON escapes control characters
    for f in run.target["findings"]:
        for e in f["evidence"]:
            assert e["excerpt"] is None or len(e["excerpt"]) <= 300, e["excerpt"][:100]
    for fact in run.target["fact_details"].values():
        for e in fact["evidence"]:
            assert e["excerpt"] is None or len(e["excerpt"]) <= 300, e["excerpt"][:100]
    assert len(run.stdout) < 200_000  # no 100k-character value printed whole


KNOWN_BUGS = [(n, b["item"]) for n in GOLDEN for b in golden(n).get("known_bugs", [])]


@pytest.mark.xfail(strict=True, reason="a tool bug listed under known_bugs in the golden file")
@pytest.mark.parametrize(("fixture", "item"), KNOWN_BUGS)
def test_known_bug_is_still_present(fixture: str, item: str) -> None:
    """Passing (XPASS, a failure under strict) means the bug is fixed: drop it from known_bugs."""
    run = first_run(fixture)
    g = golden(fixture)
    kind, key = item.split(" ", 1)
    if kind == "fact":
        assert run.target["facts"][key] == g["facts"][key]
    elif kind == "check":
        assert run.statuses()[key] == expected_status(g, key)
    else:
        assert {c["id"]: c["rating"] for c in run.target["criteria"]}[key] == str(g["ratings"][key])


def _comparable(target: dict[str, Any]) -> dict[str, Any]:
    """A target's results without the run's timestamps."""
    return {
        "facts": target["facts"],
        "findings": [(f["check_id"], f["status"], f["message"]) for f in target["findings"]],
        "criteria": [(c["id"], c["rating"], c["reasons"]) for c in target["criteria"]],
        "notes": target["notes"],
    }


def test_installed_entry_point_gives_the_in_process_result(tmp_path: Path) -> None:
    """The console script in a subprocess (real argv, streams and exit status) matches the in-process run."""
    out = tmp_path / "out.json"
    proc = _cli_subprocess("--root", str(FIXTURES / "debian-2020"), "-f", "table", "-o", str(out), "-q")
    run = first_run("debian-2020")
    assert proc.returncode == run.code == golden("debian-2020")["exit_code"], proc.stderr[-3000:]
    assert proc.stdout == run.stdout
    assert proc.stderr == run.stderr
    got = json.loads(out.read_text(encoding="utf-8"))["targets"][0]
    assert _comparable(got) == _comparable(run.target)


def test_installed_entry_point_usage_error_matches_in_process() -> None:
    """A usage error: exit 2 and one line on stderr, from the console script and in process alike."""
    args = ("--root", str(FIXTURES / "hardened"), "--fail-on", "sometimes", "-q")
    proc = _cli_subprocess(*args)
    code, stdout, stderr = _cli(*args)
    assert (proc.returncode, proc.stdout, proc.stderr) == (code, stdout, stderr)
    assert code == 2 and stdout == ""
    assert stderr.startswith("jitsi-audit: --fail-on must be one of") and stderr.count("\n") == 1
