"""A secret reached through a Lua variable (`local shared = "..."` then `external_service_secret = shared`).

The bare name under the secret-named setting is a variable, not the secret: when the redaction took it
for one and replaced it with a marker, the Lua evaluation read an undefined global (nil), so the value
was never judged (secrets.weak_or_default passed on a six-character secret) and the parse-based safety
net never saw it (a `local` the lexical pass could not read, `("x")`, `local a, s = ...`, a value on the
next line, a table item, stayed in the snapshot). And a value equal to the variable's *name* (`local
turn`, then `algorithm = "turn"`) was replaced and judged a weak secret.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from auditor.engine import prepare_snapshot
from auditor.model import Status
from auditor.redaction import MARKER_RE
from auditor.secret_settings import secret_settings
from tests.checks.base import PROSODY_MAIN, base_files, findings, snapshot
from tests.security.support import FIXTURES, all_outputs, files_snapshot, find_leaks, report_args, run_cli

INCLUDE = "/etc/prosody/conf.d/shared.cfg.lua"


def _settings(text: str) -> dict[str, str]:
    """Setting name -> class of the secret it holds, from the prepared (redacted) snapshot."""
    prepared = prepare_snapshot(files_snapshot({INCLUDE: text}))
    return {s.name: s.verdict.secret_class for s in secret_settings(prepared.deployment)}


# How a Lua file can hand a local's value to a secret-named setting; the value is "abc123" in each.
LOCALS: dict[str, str] = {
    "plain": 'local shared = "abc123"\n',
    "semicolon": 'local shared = "abc123";\n',
    "parenthesised": 'local shared = ("abc123")\n',
    "several-names": 'local other, shared = "x", "abc123"\n',
    "next-line": 'local shared =\n    "abc123"\n',
    "attribute": 'local shared <const> = "abc123"\n',
    "long-string": "local shared = [[abc123]]\n",
}


@pytest.mark.parametrize("case", sorted(LOCALS))
def test_a_local_under_a_secret_name_is_redacted_and_judged(case: str) -> None:
    text = LOCALS[case] + 'VirtualHost "other.example.org"\n    external_service_secret = shared\n'
    prepared = prepare_snapshot(files_snapshot({INCLUDE: text}))
    redacted = prepared.snapshot.get(INCLUDE).text()  # type: ignore[union-attr]
    assert "abc123" not in redacted, redacted
    # the variable's name stays: it is not the secret, and the parser needs it to reach the value
    assert "external_service_secret = shared" in redacted, redacted
    verdicts = {s.name: s.verdict for s in secret_settings(prepared.deployment)}
    verdict = verdicts.get("shared.cfg.lua: other.example.org/external_service_secret")
    assert verdict is not None and verdict.secret_class == "short" and verdict.length == 6, verdicts


def test_a_table_item_under_a_secret_name_is_redacted() -> None:
    text = 'local t = { "abc123" }\nComponent "f.example.org"\n    component_secret = t[1]\n'
    prepared = prepare_snapshot(files_snapshot({INCLUDE: text}))
    redacted = prepared.snapshot.get(INCLUDE).text()  # type: ignore[union-attr]
    assert "abc123" not in redacted, redacted
    assert _settings(text).get("shared.cfg.lua: f.example.org/component_secret") == "short"


def test_every_piece_of_a_concatenated_local_is_redacted() -> None:
    text = 'local shared = "Kq7" ..\n    "Zw9"\nVirtualHost "other.example.org"\n    external_service_secret = shared\n'
    prepared = prepare_snapshot(files_snapshot({INCLUDE: text}))
    redacted = prepared.snapshot.get(INCLUDE).text()  # type: ignore[union-attr]
    assert "Kq7" not in redacted and "Zw9" not in redacted, redacted
    assert _settings(text).get("shared.cfg.lua: other.example.org/external_service_secret") == "short"


def test_a_local_in_a_secret_table_is_redacted_not_its_name() -> None:
    text = 'local shared = ("abc123")\nComponent "f.example.org"\n    turn_credentials = { shared, "Zz9q" }\n'
    prepared = prepare_snapshot(files_snapshot({INCLUDE: text}))
    redacted = prepared.snapshot.get(INCLUDE).text()  # type: ignore[union-attr]
    assert "abc123" not in redacted and "Zz9q" not in redacted and "{ shared, " in redacted, redacted


def test_a_value_equal_to_the_variables_name_is_not_the_secret() -> None:
    text = (
        'local turn = "abc123"\nexternal_services = {\n'
        '    { type = "turn", host = "t.example.org", port = 3478, secret = true, algorithm = "turn" }\n}\n'
        'VirtualHost "other.example.org"\n    external_service_secret = turn\n'
    )
    prepared = prepare_snapshot(files_snapshot({INCLUDE: text}))
    redacted = prepared.snapshot.get(INCLUDE).text()  # type: ignore[union-attr]
    assert "abc123" not in redacted
    assert '{ type = "turn", host = "t.example.org", port = 3478, secret = true, algorithm = "turn" }' in redacted
    names = {s.name: s.verdict.secret_class for s in secret_settings(prepared.deployment)}
    assert names == {"shared.cfg.lua: other.example.org/external_service_secret": "short"}, names


def test_an_undefined_bare_word_under_a_secret_name_is_still_replaced() -> None:
    """`component_secret = hunter2x` names no variable of the file: the word may be the secret (mistyped
    without quotes); it is replaced, as before."""
    text = 'local other = "x"\nComponent "f.example.org"\n    component_secret = hunter2x\n'
    redacted = prepare_snapshot(files_snapshot({INCLUDE: text})).snapshot.get(INCLUDE).text()  # type: ignore[union-attr]
    assert "hunter2x" not in redacted and MARKER_RE.search(redacted)


def test_a_quoted_value_equal_to_a_variables_name_is_still_a_secret() -> None:
    text = 'local shared = "x"\nComponent "f.example.org"\n    component_secret = "shared"\n'
    redacted = prepare_snapshot(files_snapshot({INCLUDE: text})).snapshot.get(INCLUDE).text()  # type: ignore[union-attr]
    assert 'component_secret = "shared"' not in redacted, redacted


def test_the_check_fails_on_a_short_secret_reached_through_a_local() -> None:
    files = base_files()
    files[INCLUDE] = 'local shared = "abc123"\nVirtualHost "other.example.org"\n    external_service_secret = shared\n'
    assert 'Include "conf.d/*.cfg.lua"' in files[PROSODY_MAIN]
    found = findings(snapshot(files))["secrets.weak_or_default"]
    assert found.status is Status.FAIL, found.message
    assert "shared.cfg.lua: other.example.org/external_service_secret" in found.message


def test_no_short_local_secret_in_any_output_of_the_cli(tmp_path: Path) -> None:
    """The colleague's case on a real tree: an include that parses, a short secret through a local."""
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES / "debian-current", tree)
    secret = "Zq7wKv"  # short, and not hex: no digest in an output can contain it by chance
    (tree / "etc/prosody/conf.d/shared.cfg.lua").write_text(
        f'local shared = "{secret}"\nlocal turn = "{secret}"\n'
        'VirtualHost "other.example.com"\n    external_service_secret = shared\n'
        'Component "c.other.example.com"\n    component_secret = turn\n',
        encoding="utf-8",
    )
    run = run_cli(["--root", str(tree), "--no-probes", *report_args()], tmp_path / "work")
    assert run.code in (1, 3), run.diagnose()
    assert not find_leaks([secret], all_outputs(run))
    result = {f["check_id"]: f for f in run.report["targets"][0]["findings"]}["secrets.weak_or_default"]
    assert result["status"] == "fail"
    assert "shared.cfg.lua: other.example.com/external_service_secret" in result["message"]
    assert "shared.cfg.lua: c.other.example.com/component_secret" in result["message"]
    assert "algorithm" not in result["message"] and "external_services" not in result["message"]
