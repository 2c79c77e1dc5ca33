"""What a user's profile or declarations file may say: every field of the right type and size, no unknown
keys, a built-in catalogue, rule conditions checked when the file is read (not while rating), no
`declarable` outside the built-in profiles. Every error is one line naming file:line (exit 2 in the CLI)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import auditor.cli as cli
from auditor.criteria import ProfileError, builtin_profiles, load_declarations, load_profile, rate
from auditor.model import Basis, Rating
from auditor.registry import all_checks
from tests.report.fixtures import make_results


def _bomb(depth: int = 8, width: int = 9) -> str:
    """A flow sequence of YAML aliases: &a0 is `width` strings, each &aN is `width` times &a(N-1). A few
    hundred bytes that print as width**(depth+1) items (9**9: gigabytes)."""
    node = "&a0 [" + ", ".join(["lol"] * width) + "]"
    for level in range(1, depth):
        node = f"&a{level} [{node}" + f", *a{level - 1}" * (width - 1) + "]"
    return node


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _profile_error(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, "mine.yaml", text)
    with pytest.raises(ProfileError) as exc:
        load_profile(str(path))
    message = str(exc.value)
    assert "\n" not in message
    return message.replace(str(tmp_path) + "/", "")


def _declarations_error(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, "d.yaml", text)
    with pytest.raises(ProfileError) as exc:
        load_declarations(path, load_profile("default"))
    message = str(exc.value)
    assert "\n" not in message
    return message.replace(str(tmp_path) + "/", "")


# -- item 1: aliases that expand to gigabytes, wrong types, unknown keys ----------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("declarations:\n  jur.headquarters:\n    rating: N/A\n    statement: {bomb}\n",
         "d.yaml:4: jur.headquarters: statement must be text, not a list"),
        ("declarations:\n  jur.headquarters:\n    rating: N/A\n    statement: ok\n    reference: {bomb}\n",
         "d.yaml:5: jur.headquarters: reference must be text, not a list"),
        ("declarations:\n  jur.headquarters:\n    statement: ok\n    rating: {bomb}\n",
         "d.yaml:4: jur.headquarters: rating must be one of"),
    ],
)
def test_a_declaration_built_from_aliases_is_refused_at_once(tmp_path: Path, text: str, message: str) -> None:
    started = time.monotonic()
    assert message in _declarations_error(tmp_path, text.format(bomb=_bomb()))
    assert time.monotonic() - started < 5  # was 31 s and 5 GB for the statement


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extends: default\nprofile: {bomb}\n", "mine.yaml:2: 'profile' (its name) must be text, not a list"),
        ("extends: default\nfail_on: {bomb}\n", "mine.yaml:2: fail_on must be one of"),
        ("extends: default\ndescription: {bomb}\n", "mine.yaml:2: 'description' must be text"),
        ("extends: default\nseverities:\n  web.hsts: {bomb}\n", "mine.yaml:3: severity of web.hsts must be"),
        ("extends: default\nthresholds: {{min_score: {bomb}}}\n", "thresholds.min_score: a minimum score is a"),
        (
            "extends: default\ncriteria:\n  enc.e2ee:\n    rules:\n      - rating: Unclear\n        reason: {bomb}\n",
            "mine.yaml:6: enc.e2ee: reason must be text, not a list",
        ),
        (
            "extends: default\ncriteria:\n  enc.e2ee:\n    rules:\n      - rating: {bomb}\n",
            "mine.yaml:5: enc.e2ee: rating must be one of",
        ),
    ],
)
def test_a_profile_field_built_from_aliases_is_refused_at_once(tmp_path: Path, text: str, message: str) -> None:
    started = time.monotonic()
    assert message in _profile_error(tmp_path, text.format(bomb=_bomb()))
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("declarations:\n  jur.headquarters: {rating: N/A, statement: x, refrence: y}\n",
         "d.yaml:2: jur.headquarters: unknown key 'refrence' (expected rating, reference, statement)"),
        ("declaration: {}\ndeclarations: {}\n", "d.yaml:1: unknown key 'declaration' (expected declarations)"),
        ("declarations:\n  jur.headquarters: {rating: N/A, statement: '" + "x" * 5000 + "'}\n",
         "d.yaml:2: jur.headquarters: statement is longer than 4096 characters"),
        ("declarations:\n  jur.headquarters: {rating: N/A, statement: '   '}\n", "statement must not be empty"),
        ("declarations:\n  jur.headquarters: {rating: No, statement: x}\n", 'quote "No"'),
        ("declarations:\n\n  enc.in_transit: {rating: Fully, statement: x}\n", "d.yaml:3: enc.in_transit is verified"),
    ],
)
def test_declarations_keys_and_text(tmp_path: Path, text: str, message: str) -> None:
    assert message in _declarations_error(tmp_path, text)


def test_declarations_still_load(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "d.yaml",
        "declarations:\n  jur.headquarters: {rating: N/A, statement: self-hosted, reference: ISMS-1}\n"
        "  vuln.bug_bounty: {rating: 'No', statement: none}\n",
    )
    decl = load_declarations(path, load_profile("default"))
    assert decl["jur.headquarters"].reference == "ISMS-1" and decl["vuln.bug_bounty"].rating is Rating.NO
    assert load_declarations(_write(tmp_path, "top.yaml", "jur.privacy: {rating: Fully, statement: x}\n"),
                             load_profile("default"))["jur.privacy"].reference is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extends: default\ncriteria:\n  enc.e2ee:\n    rule: []\n", "mine.yaml:3: criterion 'enc.e2ee' needs a list"),
        (
            "extends: default\ncriteria:\n  enc.e2ee:\n    rules: []\n    comment: x\n",
            "mine.yaml:5: enc.e2ee: unknown key 'comment'",
        ),
        (
            "extends: default\ncriteria:\n  enc.e2ee:\n    rules:\n      - {iff: {any_fail: [web.hsts]}, rating: 'No'}\n",
            "mine.yaml:5: enc.e2ee: unknown rule key 'iff'",
        ),
    ],
)
def test_unknown_keys_in_criteria_and_rules(tmp_path: Path, text: str, message: str) -> None:
    """A typo such as `iff:` made the rule hold always."""
    assert message in _profile_error(tmp_path, text)


# -- item 2: version, catalogue -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extends: default\nversion: abc\n", "mine.yaml:2: 'version' must be a whole number"),
        ("extends: default\nversion: [1]\n", "mine.yaml:2: 'version' must be a whole number"),
        ("extends: default\n\nversion: true\n", "mine.yaml:3: 'version' must be a whole number"),
        ("extends: default\ncatalogue: nope.yaml\n", "mine.yaml:2: 'catalogue' names a built-in criteria catalogue"),
        ("extends: default\ncatalogue: default.yaml\n", "mine.yaml:2: 'catalogue' names a built-in"),
        ("extends: default\ncatalogue: ../../../etc/passwd\n", "mine.yaml:2: 'catalogue' names a built-in"),
        ("extends: default\ncatalogue: [criteria-2020.yaml]\n", "mine.yaml:2: 'catalogue' names a built-in"),
        ("profile: x\ncatalogue: __init__.py\ncriteria: {}\n", "mine.yaml:2: 'catalogue' names a built-in"),
    ],
)
def test_version_and_catalogue(tmp_path: Path, text: str, message: str) -> None:
    assert message in _profile_error(tmp_path, text)


def test_the_named_builtin_catalogue_still_loads(tmp_path: Path) -> None:
    p = load_profile(str(_write(tmp_path, "mine.yaml", "extends: default\ncatalogue: criteria-2020.yaml\n")))
    assert len(p.criteria) == 33 and p.version == 1 and p.catalogue_version == 1


@pytest.mark.parametrize("catalogue", ["nope.yaml", "default.yaml", "../../../etc/passwd"])
def test_a_bad_catalogue_is_exit_2_in_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], catalogue: str
) -> None:
    path = _write(tmp_path, "p.yaml", f"extends: default\nversion: 1\ncatalogue: {catalogue}\n")
    with pytest.raises(SystemExit) as exc:
        cli.main(["--root", str(tmp_path), "-q", "--profile", str(path)])
    _, err = capsys.readouterr()
    assert exc.value.code == 2 and f"{path}:3: 'catalogue'" in err and "Traceback" not in err


# -- item 3: rule conditions --------------------------------------------------------------------


def _rule(condition: str) -> str:
    return f"extends: default\ncriteria:\n  enc.e2ee:\n    rules:\n      - if: {condition}\n        rating: Fully\n"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("{fact: [a]}", "mine.yaml:5: enc.e2ee: 'fact' maps fact names"),
        ("{any_fail: 5}", "mine.yaml:5: enc.e2ee: 'any_fail' is a list of check ids, not a number"),
        ("{any_fail: web.hsts}", "'any_fail' is a list of check ids, not text"),
        ("{all_pass: []}", "'all_pass' is a list of check ids"),
        ("{any_pass: [web.hsts, [x]]}", "'any_pass' is a list of check ids"),
        ("{fact_known: 5}", "'fact_known' is a list of fact names, not a number"),
        ("{fact_known: [auth.nope]}", "mine.yaml:5: enc.e2ee: unknown fact 'auth.nope'"),
        ("{fact: {auth.nope: jwt}}", "unknown fact 'auth.nope'"),
        ("{fact: {auth.main: {jwt: 1}}}", "fact auth.main is compared with a value or a list"),
        ("{fact: {auth.main: []}}", "fact auth.main is compared with a value or a list"),
        ("[any_fail]", "mine.yaml:5: enc.e2ee: 'if' maps conditions"),
        ("{any_fial: [web.hsts]}", "unknown condition(s) 'any_fial' (known: all_ok"),
    ],
)
def test_rule_conditions_are_checked_when_the_profile_is_read(tmp_path: Path, condition: str, message: str) -> None:
    assert message in _profile_error(tmp_path, _rule(condition))


def test_the_builtin_profiles_name_only_known_facts() -> None:
    """Why their fact names need no check (nor the import of auditor.facts) when they are read."""
    from auditor.facts import FACT_KEYS

    for name in builtin_profiles():
        for rules in load_profile(name).rules.values():
            for rule in rules:
                named = set(rule.conditions.get("fact", {})) | set(rule.conditions.get("fact_known", []))
                assert named <= set(FACT_KEYS), (name, named - set(FACT_KEYS))


def test_valid_rule_conditions_still_rate(tmp_path: Path) -> None:
    path = _write(tmp_path, "mine.yaml", _rule("{fact: {auth.main: [jwt, ldap]}, fact_known: [auth.main]}"))
    p = load_profile(str(path))
    result = make_results()[0]
    assert result.facts is not None
    ratings = {r.id: r for r in rate(p, result.findings, result.facts)}
    assert ratings["enc.e2ee"].basis is Basis.VERIFIED


def test_unknown_check_ids_in_rules_are_reported_with_line(tmp_path: Path) -> None:
    p = load_profile(str(_write(tmp_path, "mine.yaml", _rule("{any_fail: [web.hsts, web.nope]}"))))
    assert p.user_check_ids == {"web.hsts", "web.nope"}  # so the CLI checks them before any host
    with pytest.raises(ProfileError, match=r"mine.yaml:5: unknown check 'web.nope'"):
        p.apply_to_checks(all_checks(p.criterion_ids))
    assert load_profile("default").user_check_ids == set()


def test_unknown_rule_check_id_is_exit_2_in_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "p.yaml", _rule("{any_fail: [web.nope]}"))
    with pytest.raises(SystemExit) as exc:
        cli.main(["--root", str(tmp_path), "-q", "--profile", str(path)])
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == "" and f"{path}:5: unknown check 'web.nope'" in err


# -- item 5: declarable -------------------------------------------------------------------------


def test_a_user_profile_cannot_make_a_verified_criterion_declarable(tmp_path: Path) -> None:
    text = "extends: default\ncriteria:\n  enc.in_transit:\n    declarable: true\n    rules: [{rating: Unclear}]\n"
    assert "mine.yaml:4: enc.in_transit: 'declarable' is set by the built-in profiles only" in _profile_error(
        tmp_path, text
    )
    # repeating the built-in flags is fine: a copy of profiles/default.yaml is a user's profile too
    copy = _write(tmp_path, "copy.yaml", (Path(__file__).resolve().parents[2] / "profiles" / "default.yaml").read_text())
    assert load_profile(str(copy)).declarable == load_profile("default").declarable
    false = "extends: default\ncriteria:\n  jur.headquarters:\n    declarable: false\n    rules: [{rating: Unclear, reason: x}]\n"
    assert "jur.headquarters" in load_profile(str(_write(tmp_path, "f.yaml", false))).declarable  # built-ins decide


def test_declarability_comes_from_the_builtin_profiles(tmp_path: Path) -> None:
    builtin = load_profile("default").declarable
    assert "jur.headquarters" in builtin and "enc.in_transit" not in builtin
    override = "extends: default\ncriteria:\n  jur.headquarters:\n    rules: [{rating: Unclear, reason: x}]\n"
    assert load_profile(str(_write(tmp_path, "o.yaml", override))).declarable == builtin
    base = load_profile("default")
    standalone = "profile: alone\ncriteria:\n" + "".join(
        f"  {cid}: {{rules: [{{rating: Unclear, reason: r}}]}}\n" for cid in base.criterion_ids
    )
    assert load_profile(str(_write(tmp_path, "alone.yaml", standalone))).declarable == builtin


def test_declaring_a_verified_criterion_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = _write(
        tmp_path, "p.yaml",
        "extends: default\ncriteria:\n  enc.in_transit:\n    declarable: true\n    rules: [{rating: Unclear}]\n",
    )
    decl = _write(tmp_path, "d.yaml", "declarations:\n  enc.in_transit: {rating: Fully, statement: trust me}\n")
    with pytest.raises(SystemExit) as exc:
        cli.main(["--root", str(tmp_path), "-q", "--profile", str(profile), "--declarations", str(decl)])
    _, err = capsys.readouterr()
    assert exc.value.code == 2 and f"{profile}:4:" in err


def test_rules_naming_the_same_long_list_again_stay_linear(tmp_path: Path) -> None:
    """check_ids de-duplicated with a list's `in`: 30 rules aliasing one list of 20 000 ids took 104 s."""
    ids = ", ".join(f"web.c{i}" for i in range(20_000))
    rules = "".join("      - {if: {any_fail: *L}, rating: Partially, reason: r}\n" for _ in range(30))
    text = ("extends: default\ncriteria:\n  enc.in_transit:\n    rules:\n"
            f"      - {{if: {{any_fail: &L [{ids}]}}, rating: Unclear, reason: r}}\n{rules}")
    started = time.monotonic()
    profile = load_profile(str(_write(tmp_path, "amp.yaml", text)))
    assert len(profile.check_ids("enc.in_transit")) == 20_000
    assert time.monotonic() - started < 5


# -- a key written twice ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extends: default\ndisabled_checks: [web.hsts]\ndisabled_checks: []\n",
         "mine.yaml:3: invalid YAML: duplicate key 'disabled_checks' (first on line 2)"),
        ("extends: default\nmin_scores: {overall: 50, overall: 10}\n",
         "mine.yaml:2: invalid YAML: duplicate key 'overall' (first on line 2)"),
    ],
)
def test_a_key_written_twice_in_a_profile_is_refused(tmp_path: Path, text: str, message: str) -> None:
    """PyYAML keeps the last of two equal keys silently: the first `disabled_checks` would be lost."""
    assert _profile_error(tmp_path, text) == message


def test_a_key_written_twice_in_declarations_is_refused(tmp_path: Path) -> None:
    text = ("declarations:\n  jur.headquarters: {rating: N/A, statement: self-hosted}\n"
            "  jur.headquarters: {rating: Fully, statement: moved}\n")
    assert "d.yaml:3: invalid YAML: duplicate key 'jur.headquarters' (first on line 2)" in _declarations_error(
        tmp_path, text)


def test_merge_keys_may_still_be_overridden(tmp_path: Path) -> None:
    """`<<: *base` brings keys a mapping may override: that is YAML's merge, not a key written twice."""
    path = _write(tmp_path, "d.yaml", "declarations:\n  jur.headquarters: &b {rating: N/A, statement: self-hosted}\n"
                  "  vuln.bug_bounty:\n    <<: *b\n    statement: none\n")
    decl = load_declarations(path, load_profile("default"))
    assert decl["vuln.bug_bounty"].statement == "none" and decl["jur.headquarters"].statement == "self-hosted"


def test_a_profile_that_disables_every_check_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing audited reports no failure: without this the run would exit 0, a pass."""
    ids = sorted(c.id for c in all_checks(load_profile("default").criterion_ids))
    path = _write(tmp_path, "p.yaml", "extends: default\ndisabled_checks:\n" + "".join(f"  - {i}\n" for i in ids))
    with pytest.raises(SystemExit) as exc:
        cli.main(["--root", str(tmp_path), "-q", "--profile", str(path)])
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == "" and f"{path}: the profile disables every check" in err
    path.write_text("extends: default\ndisabled_checks:\n" + "".join(f"  - {i}\n" for i in ids[1:]), encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        cli.main(["--root", str(tmp_path), "-q", "--profile", str(path)])
    assert exc.value.code != 2, capsys.readouterr().err
