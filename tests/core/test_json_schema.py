"""The JSON report schema is generated from the models, committed, and real output validates against it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from auditor.report.json_model import report_schema

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO / "auditor" / "report" / "report.schema.json"


def test_committed_schema_is_the_generated_one() -> None:
    committed = json.loads(SCHEMA_FILE.read_text())
    assert committed == json.loads(json.dumps(report_schema())), "run: jitsi-audit schema > auditor/report/report.schema.json"


def test_demo_report_validates_and_has_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    run = subprocess.run(
        [sys.executable, "-m", "auditor.cli", "--root", str(REPO / "examples" / "demo"), "-f", "json", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr  # the demo has failed high/critical findings
    report = json.loads(out.read_text())
    jsonschema.validate(report, json.loads(SCHEMA_FILE.read_text()))
    target = report["targets"][0]
    assert len(target["facts"]) == 20 and target["facts"]["auth.main"] == "anonymous"
    assert len(target["criteria"]) == 33
    assert {c["basis"] for c in target["criteria"]} == {"verified"}
    assert target["scores"]["overall"] is not None and target["complete"] is True
    assert any(c["role"] == "prosody_main" for c in target["collected"])
