"""Third-party checks come in through the `jitsi_audit.checks` entry-point group, validated like built-ins."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.criteria import load_profile
from auditor.registry import MetadataError, all_checks, plugin_checks

PLUGIN = '''
from auditor.model import CheckResult, Severity
from auditor.registry import check


@check(
    "acme.room_banner",
    title="ACME policy banner is configured",
    severity=Severity.LOW,
    criteria=("mgmt.dlp_watermark",),
    rationale="Company policy asks every meeting to show the classification banner.",
    remediation="Set the banner in interface_config.js.",
)
def room_banner(ctx):
    return CheckResult.unclear("no banner evidence in this test")
'''


def _install(tmp_path: Path, module: str, source: str, target: str) -> None:
    (tmp_path / f"{module}.py").write_text(source)
    info = tmp_path / f"{module}_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[jitsi_audit.checks]\n{module} = {target}\n")


@pytest.fixture
def on_path(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("acme_")]:
            del sys.modules[name]


def test_a_plugin_module_is_loaded_and_validated(on_path: Path) -> None:
    _install(on_path, "acme_checks", PLUGIN, "acme_checks")
    checks, errors = plugin_checks()
    assert [c.id for c in checks] == ["acme.room_banner"] and errors == []
    ids = {c.id for c in all_checks(load_profile("default").criterion_ids)}
    assert "acme.room_banner" in ids and "auth.room_creation_restricted" in ids


def test_a_broken_plugin_is_reported_not_fatal(on_path: Path) -> None:
    _install(on_path, "acme_broken", "raise RuntimeError('boom')\n", "acme_broken")
    checks, errors = plugin_checks()
    assert checks == [] and len(errors) == 1 and "acme_broken" in errors[0] and "boom" in errors[0]


def test_a_plugin_with_bad_metadata_is_refused(on_path: Path) -> None:
    _install(on_path, "acme_bad", PLUGIN.replace('"mgmt.dlp_watermark"', '"no.such_criterion"'), "acme_bad")
    with pytest.raises(MetadataError, match="unknown criteria"):
        all_checks(load_profile("default").criterion_ids)


DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from auditor.cli import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_the_cli_names_each_plugin_that_failed_to_load_on_one_line(
    on_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _install(on_path, "acme_broken", "raise RuntimeError('boom\\nsecond line')\n", "acme_broken")
    _install(on_path, "acme_checks", PLUGIN, "acme_checks")
    report = tmp_path / "report.json"
    code, _, err = _cli(["--root", str(DEMO), "-q", "-o", str(report)], capsys)
    lines = err.splitlines()
    broken = [line for line in lines if "acme_broken" in line]
    assert broken == ["jitsi-audit: plugin 'acme_broken' failed to load: RuntimeError: boom second line"]
    # the run goes on with the plugins that loaded: the demo is audited, the good plugin's check ran
    assert code in (1, 3)
    ids = {f["check_id"] for t in json.loads(report.read_text())["targets"] for f in t["findings"]}
    assert "acme.room_banner" in ids and "auth.room_creation_restricted" in ids

    code, out, err = _cli(["checks"], capsys)
    assert code == 0 and "acme.room_banner" in out
    assert [line for line in err.splitlines() if "acme_broken" in line] == broken


def test_no_plugin_line_when_every_plugin_loads(on_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _install(on_path, "acme_checks", PLUGIN, "acme_checks")
    code, out, err = _cli(["--list-checks"], capsys)
    assert code == 0 and "acme.room_banner" in out and "plugin" not in err
