"""Waivers: required fields, UTC inclusive expiry edges, malformed files rejected with file:line."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from auditor.gating.gate import GateConfig, evaluate
from auditor.gating.waivers import WaiverError, load_waivers, parse_waivers, utc_today
from auditor.model import Severity
from tests.core.test_user_files import no_hang
from tests.report.fixtures import make_results

CHECKS = ["web.hsts", "web.tls_configuration", "secrets.weak_or_default"]


def _one(expires: str, target: str | None = None) -> str:
    t = f"    target: '{target}'\n" if target else ""
    return (
        f"version: 1\nwaivers:\n  - check: web.tls_configuration\n{t}"
        f"    justification: legacy clients\n    expires: {expires}\n    approver: CISO\n"
    )


def _gate(text: str, today: date) -> tuple[bool, list[str], bool]:
    results = make_results()
    ws = parse_waivers(text, "w.yaml", CHECKS)
    g = evaluate(results, GateConfig(fail_on=Severity.HIGH, waivers=ws, today=today))
    tg = g.target(0)
    return (
        tg.get("web.tls_configuration").waived,
        [w.check_id for w in g.expired],
        "web.tls_configuration" in tg.gating,
    )


def test_last_valid_day_still_applies() -> None:
    waived, expired, gates = _gate(_one("2025-06-30"), date(2025, 6, 30))
    assert waived and not expired and not gates


def test_the_day_after_it_no_longer_applies_and_is_announced() -> None:
    waived, expired, gates = _gate(_one("2025-06-30"), date(2025, 7, 1))
    assert not waived and expired == ["web.tls_configuration"] and gates


def test_expiry_is_judged_in_utc() -> None:
    # 23:30 in New York on June 30 is already July 1 in UTC: the waiver has expired.
    from zoneinfo import ZoneInfo

    late = datetime(2025, 6, 30, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    assert utc_today(late) == date(2025, 7, 1)
    assert utc_today(datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)) == date(2025, 6, 30)


@pytest.mark.parametrize(
    ("expires", "why"),
    [
        ("2025-02-30", "not a valid date"),
        ("'30/06/2025'", "not a valid date"),
        ("2025-06-30T10:00:00", "not a date and time"),
        ("tomorrow", "not a valid date"),
        ("20250630", "not a valid date"),
    ],
)
def test_malformed_dates_are_errors_with_line(expires: str, why: str) -> None:
    with pytest.raises(WaiverError) as exc:
        parse_waivers(_one(expires), "w.yaml", CHECKS)
    assert str(exc.value).startswith("w.yaml:5:") and why in str(exc.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "waivers:\n  - {check: web.hsts, expires: 2030-01-01, approver: x}\n",
            "w.yaml:2: waiver needs a non-empty 'justification'",
        ),
        (
            "waivers:\n  - {check: web.hsts, justification: '  ', expires: 2030-01-01, approver: x}\n",
            "justification",
        ),
        ("waivers:\n  - {check: web.hsts, justification: j, approver: x}\n", "needs an 'expires' date"),
        ("waivers:\n  - {check: web.hsts, justification: j, expires: 2030-01-01}\n", "'approver'"),
        (
            "waivers:\n  - {check: web.hsts, justification: j, expires: 2030-01-01, approver: x,"
            " expiry: 1}\n",
            "unknown key 'expiry'",
        ),
        (
            "waivers:\n  - {check: web.nope, justification: j, expires: 2030-01-01, approver: x}\n",
            "unknown check 'web.nope'",
        ),
        (
            "waivers:\n  - {check: 'WEB HSTS', justification: j, expires: 2030-01-01, approver: x}\n",
            "not a check id",
        ),
        ("waivers: {check: web.hsts}\n", "must be a list"),
        ("waivers:\n  - [web.hsts]\n", "a waiver is a mapping"),
        (
            "waivers:\n  - {check: web.hsts, justification: [a], expires: 2030-01-01, approver: x}\n",
            "must be text",
        ),
        ("waiver:\n  - {}\n", "unknown key 'waiver'"),
        ("version: 2\nwaivers: []\n", "unsupported waivers version"),
        ("version: true\nwaivers: []\n", "w.yaml:1: unsupported waivers version True (expected 1)"),
        ("version: 1.0\nwaivers: []\n", "w.yaml:1: unsupported waivers version 1.0 (expected 1)"),
        ("version: '1'\nwaivers: []\n", "unsupported waivers version '1'"),
        (
            "waivers:\n  - {check: web.hsts, target: '', justification: j, expires: 2030-01-01, approver: x}\n",
            "w.yaml:2: 'target' must be a non-empty glob",
        ),
        (
            "waivers:\n  - check: web.hsts\n    justification: j\n    expires: 2030-01-01\n    approver: x\n"
            "    target: '   '\n",
            "w.yaml:6: 'target' must be a non-empty glob",
        ),
        (
            "waivers:\n  - {check: web.hsts, target: null, justification: j, expires: 2030-01-01, approver: x}\n",
            "'target' must be a non-empty glob",
        ),
        (
            "waivers:\n  - {check: web.hsts, target: [a], justification: j, expires: 2030-01-01, approver: x}\n",
            "'target' must be text",
        ),
        (
            "waivers:\n  - check: web.hsts\n    justification: j\n    expires: 2030-01-01\n"
            "    approver: x\n    expires: 2099-12-31\n",
            "w.yaml:6: invalid YAML: duplicate key 'expires' (first on line 4)",
        ),
        ("waivers: []\nwaivers: []\n", "w.yaml:2: invalid YAML: duplicate key 'waivers' (first on line 1)"),
        ("", "no 'waivers' list"),
        ("waivers:\n  - {check: web.hsts\n", "w.yaml:3: invalid YAML"),
    ],
)
def test_malformed_files_are_errors(text: str, message: str) -> None:
    with pytest.raises(WaiverError) as exc:
        parse_waivers(text, "w.yaml", CHECKS)
    assert message in str(exc.value)
    assert str(exc.value).startswith("w.yaml")


def test_target_glob_and_first_match() -> None:
    text = _one("2030-01-01", target="meet.*")
    results = make_results()
    ws = parse_waivers(text, "w.yaml", CHECKS)
    g = evaluate(results, GateConfig(fail_on=Severity.HIGH, waivers=ws, today=date(2025, 1, 1)))
    assert not g.target(0).get("web.tls_configuration").waived  # config-repo
    assert g.target(1).get("web.tls_configuration").waived  # meet.example.org
    w = g.target(1).get("web.tls_configuration").waiver
    assert w is not None and w.source == "w.yaml:3" and w.approver == "CISO"


def test_a_waiver_never_makes_a_pass_or_unclear_look_waived() -> None:
    text = (
        "waivers:\n  - {check: xmpp.c2s_encryption, justification: j, expires: 2030-01-01, approver: x}\n"
        "  - {check: rooms.lobby_available, justification: j, expires: 2030-01-01, approver: x}\n"
    )
    g = evaluate(make_results(), GateConfig(waivers=parse_waivers(text, "w.yaml"), today=date(2025, 1, 1)))
    assert not g.target(0).get("xmpp.c2s_encryption").waived
    assert not g.target(0).get("rooms.lobby_available").waived


def test_load_from_file(tmp_path: Path) -> None:
    p = tmp_path / "waivers.yaml"
    p.write_text(_one("2030-01-01"), encoding="utf-8")
    assert len(load_waivers(p, CHECKS).waivers) == 1
    with pytest.raises(WaiverError, match="cannot read"):
        load_waivers(tmp_path / "missing.yaml")
    p.write_bytes(b"\xff\xfe")
    with pytest.raises(WaiverError, match="UTF-8"):
        load_waivers(p)


def test_huge_or_fifo_waivers_are_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as f:
        f.truncate(4 * 1024 * 1024 + 1)
    with pytest.raises(WaiverError, match=r"^waivers .*huge\.yaml is larger than 4194304 bytes$"):
        load_waivers(huge)
    os.mkfifo(tmp_path / "fifo.yaml")
    with no_hang(), pytest.raises(WaiverError, match="is not a regular file"):
        load_waivers(tmp_path / "fifo.yaml")


def test_example_waiver_file_is_valid() -> None:
    from tests.report.fixtures import repo_root

    ws = load_waivers(repo_root() / "examples" / "waivers.yaml")
    assert ws.waivers and all(w.justification and w.approver for w in ws.waivers)


def test_a_nesting_too_deep_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waivers, profiles and declarations share one YAML reader; without libyaml's nesting limit (PyYAML's
    own loader) it would recurse until RecursionError."""
    import yaml

    from auditor.gating import yamlsrc

    deep = "waivers: " + "[" * 100_000 + "]" * 100_000 + "\n"
    with pytest.raises(WaiverError, match=r"w.yaml(:1)?: invalid YAML"):
        parse_waivers(deep, "w.yaml")

    class PureLoader(yaml.SafeLoader):
        pass

    for tag, constructor in yamlsrc._LineLoader.yaml_constructors.items():
        PureLoader.add_constructor(tag, constructor)
    monkeypatch.setattr(yamlsrc, "_LineLoader", PureLoader)
    with pytest.raises(WaiverError, match=r"^w.yaml: invalid YAML: nested too deeply$"):
        parse_waivers(deep, "w.yaml")


@pytest.mark.parametrize(
    ("field", "message"),
    [("version", "w.yaml:1: unsupported waivers version (a list)"), ("expires", "'expires' is not a valid date")],
)
def test_a_field_built_from_aliases_is_refused_without_printing_it(field: str, message: str) -> None:
    from tests.gating.test_profile_inputs import _bomb

    entry = {"check": "web.hsts", "justification": "j", "expires": "2030-01-01", "approver": "x"}
    version = _bomb() if field == "version" else "1"
    if field == "expires":
        entry["expires"] = _bomb()
    text = f"version: {version}\nwaivers:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in entry.items()) + "\n"
    with pytest.raises(WaiverError) as exc:
        parse_waivers(text, "w.yaml", CHECKS)
    assert message in str(exc.value) and "lol" not in str(exc.value)  # was printed: 4.6 s for 40 characters


def test_an_empty_target_never_waives_every_target(tmp_path: Path) -> None:
    """`target: ""` was read as no target and so waived every target; it is an error (exit 2 in the CLI)."""
    p = tmp_path / "w.yaml"
    p.write_text(
        "waivers:\n  - {check: web.tls_configuration, target: '', justification: j, expires: 2999-01-01, "
        "approver: x}\n",
        encoding="utf-8",
    )
    with pytest.raises(WaiverError, match=r"w\.yaml:2: 'target' must be a non-empty glob"):
        load_waivers(p, CHECKS)


def test_unknown_check_ids_are_found_after_one_parse(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads the waivers for their form before the checks are registered and validates their
    check ids after, from the same parse (a 4 MB file was parsed twice), pointing at the `check:` line."""
    import auditor.cli as cli
    from auditor.gating import waivers as module
    from auditor.gating.yamlsrc import load_yaml
    from tests.report.fixtures import repo_root

    calls: list[str] = []

    def counted(text: str, source: str) -> object:
        calls.append(source)
        return load_yaml(text, source)

    monkeypatch.setattr(module, "load_yaml", counted)
    p = tmp_path / "w.yaml"
    p.write_text("waivers:\n  - justification: j\n    expires: 2030-01-01\n    check: web.nope\n"
                 "    approver: x\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        cli.main(["--root", str(repo_root() / "examples" / "demo"), "-q", "--waivers", str(p)])
    assert exc.value.code == 2 and f"{p}:4: unknown check 'web.nope'" in capsys.readouterr().err
    assert calls == [str(p)]
    p.write_text(_one("2030-01-01"), encoding="utf-8")
    calls.clear()
    with pytest.raises(SystemExit) as exc:
        cli.main(["--root", str(repo_root() / "examples" / "demo"), "-q", "--waivers", str(p)])
    assert exc.value.code in (0, 1) and calls == [str(p)]
