"""JSON nested deeper than the decoder goes is bad JSON like any other: one line and exit 2 (or a failed
verification), never a RecursionError traceback, wherever the program reads JSON it did not write."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from auditor.evidence.verify import verify_bundle
from auditor.json_input import loads

DEEP = "[" * 200_000 + "]" * 200_000


def test_loads_reports_deep_nesting_as_a_value_error() -> None:
    assert loads('{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(ValueError, match="nested too deeply"):
        loads(DEEP)
    with pytest.raises(ValueError):
        loads(b"{")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from auditor.cli import entry; entry()", *args],
                          capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("what", ["merge", "baseline", "snapshot", "advisories"])
def test_every_json_input_of_the_cli_says_so_in_one_line(tmp_path: Path, what: str) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"schema_version": "1.0", "targets": ' + DEEP + "}", encoding="utf-8")
    demo = str(Path(__file__).resolve().parents[2] / "examples" / "demo")
    args = {
        "merge": ["merge", str(deep)],
        "baseline": ["--root", demo, "--baseline", str(deep), "-q"],
        "snapshot": ["--snapshot", str(deep), "-q"],
        "advisories": ["advisories"],
    }[what]
    env = {**os.environ, "JITSI_AUDIT_ADVISORIES": str(deep)} if what == "advisories" else None
    run = _cli(*args, env=env)
    assert "Traceback" not in run.stderr and "RecursionError" not in run.stderr, run.stderr
    assert "nested too deeply" in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert run.returncode == (3 if what == "snapshot" else 2)


def test_a_bundle_with_a_deep_manifest_fails_verification(tmp_path: Path) -> None:
    path = tmp_path / "b.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in (("manifest.json", DEEP.encode()), ("signature.json", json.dumps({"x": 1}).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    res = verify_bundle(path)
    assert not res.ok and "manifest.json is not valid JSON" in res.problems
