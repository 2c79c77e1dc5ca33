"""Profiles: presets, `extends`, severity overrides, disabled checks, thresholds, errors with lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.criteria import ProfileError, builtin_profiles, load_profile
from auditor.model import Severity
from auditor.registry import all_checks


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_default_profile_is_unchanged() -> None:
    p = load_profile("default")
    assert p.name == "default" and len(p.criteria) == 33 and p.fail_on == "high"
    assert not p.severity_overrides and not p.disabled_checks and not p.min_scores and p.extends == []


def test_builtin_presets() -> None:
    assert {"default", "ci", "strict"} <= set(builtin_profiles())
    ci = load_profile("ci")
    assert ci.name == "ci" and ci.fail_on == "medium" and ci.extends == ["profiles/default.yaml"]
    assert ci.rules == load_profile("default").rules
    strict = load_profile("strict")
    assert strict.fail_on == "low" and strict.min_scores.overall == 70
    assert strict.min_scores.categories == {"encryption": 80}
    checks = strict.apply_to_checks(all_checks(strict.criterion_ids))
    assert {c.id: c.meta.severity for c in checks}["web.hsts"] is Severity.HIGH


def test_user_profile_extends_and_overrides(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "mine.yaml",
        """\
extends: ci
fail_on: high
severities:
  web.hsts: critical
disabled_checks:
  - rooms.welcome_page_open
thresholds:
  min_score: 40
  categories: {authentication: 25}
criteria:
  jur.headquarters:
    rules:
      - {rating: Unclear, reason: "we must declare it"}
""",
    )
    p = load_profile(str(path))
    assert p.name == "mine" and p.fail_on == "high"
    assert p.extends == ["profiles/default.yaml", "profiles/ci.yaml"]
    assert p.severity_overrides["web.hsts"] is Severity.CRITICAL
    assert p.severity_overrides["exposure.jvb_rest_api"] is Severity.CRITICAL  # inherited from ci
    assert p.min_scores.overall == 40 and p.min_scores.categories == {"authentication": 25}
    assert p.rules["jur.headquarters"][0].reason == "we must declare it"
    assert "jur.headquarters" in p.declarable  # from the built-in profile, not this file
    assert p.rules["enc.algorithm"] == load_profile("default").rules["enc.algorithm"]
    checks = p.apply_to_checks(all_checks(p.criterion_ids))
    ids = {c.id: c for c in checks}
    assert "rooms.welcome_page_open" not in ids
    assert ids["web.hsts"].meta.severity is Severity.CRITICAL
    assert ids["web.hsts"].meta.title  # the rest of the metadata is kept


def test_extends_a_file_relative_to_the_profile(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    _write(tmp_path / "base", "org.yaml", "extends: strict\nfail_on: medium\n")
    child = _write(tmp_path, "team.yaml", "extends: base/org.yaml\nseverities: {web.hsts: low}\n")
    p = load_profile(str(child))
    assert p.fail_on == "medium" and p.min_scores.overall == 70
    assert p.severity_overrides["web.hsts"] is Severity.LOW  # the child wins over strict


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "extends: default\nseverities:\n  web.hsts: urgent\n",
            "mine.yaml:3: severity of web.hsts must be one of",
        ),
        ("extends: default\nfail_on: never\n", "mine.yaml:2: fail_on must be one of"),
        ("extends: default\nthresholds: {min_score: 120}\n", "mine.yaml:2"),
        ("extends: default\nthresholds: {categories: {nope: 1}}\n", "unknown category 'nope'"),
        ("extends: default\ndisabled_checks: web.hsts\n", "mine.yaml:2: 'disabled_checks' is a list"),
        ("extends: default\nseverity: {}\n", "mine.yaml:2: unknown profile key 'severity'"),
        ("extends: nope\n", "mine.yaml:1: extends: unknown profile 'nope'"),
        ("extends: mine.yaml\n", "mine.yaml:1: profiles extend each other in a loop"),
        (
            "extends: default\ncriteria:\n  enc.bogus:\n    rules: []\n",
            "mine.yaml:3: unknown criterion 'enc.bogus'",
        ),
        (
            "extends: default\ncriteria:\n  enc.e2ee: {rules: [{rating: Maybe}]}\n",
            "mine.yaml:3: enc.e2ee: rating",
        ),
        ("extends: default\nseverities: {web.hsts: [x\n", "mine.yaml:3: invalid YAML"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "mine.yaml", text)
    with pytest.raises(ProfileError) as exc:
        load_profile(str(path))
    assert message in str(exc.value).replace(str(tmp_path) + "/", "")


def test_unknown_check_ids_are_reported_with_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "mine.yaml", "extends: default\n\nseverities:\n  web.nope: high\n")
    p = load_profile(str(path))
    with pytest.raises(ProfileError, match=r"mine.yaml:4: unknown check 'web.nope'"):
        p.apply_to_checks(all_checks(p.criterion_ids))
    path = _write(tmp_path, "mine.yaml", "extends: default\ndisabled_checks:\n  - web.hsts\n  - web.nope\n")
    p = load_profile(str(path))
    with pytest.raises(ProfileError, match=r"mine.yaml:4: unknown check 'web.nope'"):
        p.apply_to_checks(all_checks(p.criterion_ids))


def test_user_check_ids_are_those_of_the_users_own_files(tmp_path: Path) -> None:
    """The CLI validates these before contacting any host; the built-in profiles' ids are not among them."""
    for name in builtin_profiles():
        assert load_profile(name).user_check_ids == set()
    (tmp_path / "base").mkdir()
    _write(tmp_path / "base", "org.yaml", "extends: ci\ndisabled_checks: [rooms.welcome_page_open]\n")
    child = _write(tmp_path, "team.yaml", "extends: base/org.yaml\nseverities: {web.hsts: low}\n")
    p = load_profile(str(child))
    assert "exposure.jvb_rest_api" in p.severity_overrides  # from the built-in ci profile
    assert p.user_check_ids == {"rooms.welcome_page_open", "web.hsts"}
    assert load_profile(str(_write(tmp_path, "plain.yaml", "extends: strict\nfail_on: high\n"))).user_check_ids == set()


def test_builtin_profiles_name_only_registered_checks() -> None:
    """Why the built-in profiles' check ids need no validation at run time."""
    for name in builtin_profiles():
        p = load_profile(name)
        p.apply_to_checks(all_checks(p.criterion_ids))  # raises on an unknown id
