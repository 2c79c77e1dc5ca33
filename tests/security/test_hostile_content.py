"""Hostile content from the target, end to end through the CLI: every tree of hostile_trees.SCENARIOS
is audited with `--root` in ONE run, next to the clean tree it was made from, with every output.

For each scenario: the cost is bounded (the run is guarded against hangs by a subprocess timeout
only), what cannot be judged is unknown and named in the notes or the collected item (never
guessed), the facts from the other files are exactly those of the clean tree, and no check crashed.
For the run: nothing outside the trees was read (canary), no URL was fetched, no hostile code ran,
the terminal report carries no control character, HTML/Markdown/SARIF/JUnit/CSV stay inert.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.security.hostile_trees import BASE, GROUPS, OUTSIDE_CANARY, SCENARIOS, Hostile, build
from tests.security.support import UNSAFE_TERMINAL_RE, CliRun, all_outputs, find_leaks, report_args, run_cli


class _Counter(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"jicofo { }\n")

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class HostileRun:
    run: CliRun
    roots: dict[str, Path]
    clean: Path
    hits: list[str]
    pwned: Path

    def target(self, name: str) -> dict[str, Any]:
        return self.run.target(str(self.roots[name]) if name in self.roots else str(self.clean))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileRun]:
    base = tmp_path_factory.mktemp("hostile")
    _Counter.hits = []
    server = HTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        pwned = base / "PWNED"
        roots = {sc.name: build(sc, base, url, pwned) for sc in SCENARIOS}
        clean = base / "clean" / "tree"
        shutil.copytree(BASE, clean, symlinks=True)
        args = ["--root", str(clean)] + [a for r in roots.values() for a in ("--root", str(r))]
        run = run_cli([*args, *report_args()], base / "run")
        yield HostileRun(run, roots, clean, list(_Counter.hits), pwned)
    finally:
        server.shutdown()
        server.server_close()


def test_the_run_completes_with_every_output(hostile: HostileRun) -> None:
    run = hostile.run
    assert run.code == 3, run.diagnose()  # unreadable evidence and cut-short trees: incomplete, never a pass
    assert len(run.report["targets"]) == len(SCENARIOS) + 1
    clean = hostile.target("clean")
    assert clean["complete"] and not clean["notes"], clean["notes"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_hostile_tree(hostile: HostileRun, scenario: Hostile) -> None:
    t = hostile.target(scenario.name)
    clean = hostile.target("clean")
    if scenario.incomplete:
        assert t["complete"] is False and t["error_stage"] == "collect", t["error"]
        lines = [
            ln for ln in hostile.run.error_lines() if ln.startswith(f"jitsi-audit: {hostile.roots[scenario.name]}: ")
        ]
        assert len(lines) == 1 and "collect: " in lines[0], hostile.run.error_lines()
    else:
        assert t["complete"] is True, t["error"]
    facts = t["facts"]
    assert facts is not None
    for group in scenario.intact + (("prosody_wide",) if "prosody" in scenario.intact else ()):
        assert {k: facts[k] for k in GROUPS[group]} == {k: clean["facts"][k] for k in GROUPS[group]}, group
    for group in scenario.unknown:
        assert all(facts[k] is None for k in GROUPS[group]), {k: facts[k] for k in GROUPS[group]}
    collected = {c["key"]: c for c in t["collected"]}
    for key, status in scenario.item.items():
        assert collected[key]["status"] == status, collected.get(key)
        assert collected[key]["error"], collected[key]  # says why, in one line
    for path in scenario.noted:
        assert any(path in note for note in t["notes"]), (path, t["notes"])
    for note in t["notes"]:
        assert "\n" not in note and len(note) < 2000, note[:200]
    # every check ran and judged: none crashed, the same checks as for the clean tree
    assert [f["check_id"] for f in t["findings"]] == [f["check_id"] for f in clean["findings"]]
    crashed = [f["check_id"] for f in t["findings"] if f["message"].startswith("check failed to run")]
    assert crashed == []
    # a file that could not be judged never makes a check pass on its behalf: unknown facts mean
    # the checks that need them are unclear (or not applicable), and the run is incomplete (exit 3)
    if scenario.unknown:
        assert hostile.run.code == 3


def test_nothing_outside_the_tree_was_read_fetched_or_run(hostile: HostileRun) -> None:
    assert any(s.outside_file for s in SCENARIOS)
    assert hostile.hits == [], hostile.hits  # no URL include, no fetch from config.js
    assert not hostile.pwned.exists()  # os.execute / os.exec never ran
    leaks = find_leaks([OUTSIDE_CANARY], all_outputs(hostile.run))
    assert leaks == [], leaks
    # an include that would have weakened TLS, had it been followed, changed nothing
    t = hostile.target("nginx-include-outside")
    assert t["facts"]["web.weak_tls"] is False and "SSLv3" not in json.dumps(t)


def test_terminal_report_is_inert(hostile: HostileRun) -> None:
    table = hostile.run.files["report.txt"].decode()
    bad = sorted({hex(ord(c)) for c in UNSAFE_TERMINAL_RE.findall(table)})
    assert bad == [], bad
    assert "owned" in table and "evil" in table  # the hostile path did reach the report, made inert
    for line in hostile.run.error_lines():
        assert not UNSAFE_TERMINAL_RE.search(line), repr(line)
    assert not UNSAFE_TERMINAL_RE.search(hostile.run.stdout)


def _strings(data: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _strings(v, k)
    elif isinstance(data, list):
        for v in data:
            yield from _strings(v, key)
    elif isinstance(data, str):
        yield key, data


RAW_MARKUP = ("<script>alert(1)", "<img src=x onerror", "](javascript:alert(3))")


def test_html_markdown_sarif_junit_csv_are_inert(hostile: HostileRun) -> None:
    files = hostile.run.files
    html = files["report.html"].decode()
    assert "&lt;script&gt;alert(1)" in html  # the value arrived, escaped
    md = files["report.md"].decode()  # cut to fit a PR comment: the hostile path may be cut off
    for name, text in (("html", html), ("markdown", md)):
        # a Markdown link is only markup in Markdown: in HTML it is inert text
        found = [raw for raw in RAW_MARKUP if raw in text and (name == "markdown" or not raw.startswith("]("))]
        assert found == [], (name, found)
        assert "\x1b" not in text and "\x07" not in text, name
    assert "<script" not in html.lower()  # the HTML report has no script at all
    sarif = json.loads(files["report.sarif"])
    strings = list(_strings(sarif))
    assert any("script" in v for _, v in strings)  # the hostile path is in the SARIF too
    for key, value in strings:
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", value), (key, value[:120])
        if key == "markdown":
            assert not any(raw in value for raw in RAW_MARKUP), value[:200]
    ET.fromstring(files["report.xml"])  # well-formed XML whatever the values
    junit = files["report.xml"].decode()
    assert "\x1b" not in junit and "<script>" not in junit
    rows = list(csv.reader(io.StringIO(files["report.csv"].decode(), newline="")))
    assert len({len(r) for r in rows}) == 1
    for row in rows:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")) and "\x1b" not in value, value[:120]
