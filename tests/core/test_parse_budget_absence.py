"""What the parse budget skipped may configure what a check looks for: with files left unparsed, "not
configured" (not applicable) is unfounded and becomes unclear, and secrets.reuse does not call values
shared by design a reuse when the settings that pair them were not parsed."""

from __future__ import annotations

import pytest

from auditor.discovery import Role
from auditor.model import Status
from tests.checks import base
from tests.checks import test_config_checks as cases
from tests.core.test_parse_budget_verdicts import _audit

PROSODY = frozenset({Role.PROSODY_MAIN, Role.PROSODY_INCLUDE})


def test_not_applicable_becomes_unclear_when_the_virtualhost_was_not_parsed() -> None:
    # the jwt variant's token VirtualHost lives in the prosody include; left unparsed, "no token
    # authentication, not applicable" would be read from what is missing
    plain = _audit("jwt")
    skipped = _audit("jwt", "roles", frozenset({Role.PROSODY_INCLUDE}))
    judged = [c for c in plain if c.startswith("jwt.") and plain[c].status is not Status.NOT_APPLICABLE]
    assert judged, "the jwt variant judges its token checks"
    for check_id in judged:
        f = skipped[check_id]
        assert f.status is not Status.NOT_APPLICABLE, (check_id, f.message)
        if f.status is Status.UNCLEAR:
            assert "parse budget" in f.message, (check_id, f.message)
    # and no check's "not applicable" survives unless it comes from the target's roles or the missing probes
    kept = [c for c, f in skipped.items() if f.status is Status.NOT_APPLICABLE and not c.startswith("live.")]
    assert kept == [], kept


def test_without_parse_budget_trouble_not_applicable_stays() -> None:
    found = {f.check_id: f for f in base.audit(base.snapshot(cases._variant("jwt"), dict(cases.REC))).findings}
    assert [c for c, f in found.items() if f.status is Status.NOT_APPLICABLE], "the variant has n/a checks"
    assert not [c for c, f in found.items() if "parse budget" in f.message]


@pytest.mark.parametrize("source", ["tree:demo", "tree:debian-2020"])
def test_reuse_is_not_claimed_when_the_pairing_settings_were_not_parsed(source: str) -> None:
    f = _audit(source, "roles", PROSODY)["secrets.reuse"]
    assert f.status is not Status.FAIL, f.message
