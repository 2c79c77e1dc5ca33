"""--min-score: overall or per category; a missing score never passes."""

from __future__ import annotations

import pytest

from auditor.gating.gate import GateConfig, evaluate
from auditor.gating.thresholds import MinScores, ThresholdError, evaluate_thresholds, parse_min_scores
from auditor.scoring import CategoryScore, Scores
from tests.report.fixtures import make_results

CATS = ["encryption", "authentication", "jurisdiction", "security_management", "vulnerability_management"]


def test_parse() -> None:
    m = parse_min_scores(["70", "encryption=80.5", "Authentication=0"], CATS)
    assert m.overall == 70 and m.categories == {"encryption": 80.5, "authentication": 0}
    assert parse_min_scores(["overall=55"], CATS).overall == 55
    assert not parse_min_scores([], CATS)
    for bad in ("abc", "101", "-1", "nan", "bogus=10", "encryption=x"):
        with pytest.raises(ThresholdError):
            parse_min_scores([bad], CATS)


def test_evaluate() -> None:
    scores = Scores(
        (CategoryScore("encryption", 80.0, 4, 0), CategoryScore("jurisdiction", None, 0, 0)), 60.0, 1.0
    )
    res = {
        t.scope: t
        for t in evaluate_thresholds("t", scores, MinScores(60, {"encryption": 80.1, "jurisdiction": 0}))
    }
    assert res["overall"].met  # equal passes
    assert not res["encryption"].met
    assert not res["jurisdiction"].met  # no score: not shown to be met
    assert "no score" in res["jurisdiction"].describe()


def test_merge_command_line_over_profile() -> None:
    prof = MinScores(50, {"encryption": 70, "authentication": 40})
    cli = MinScores(None, {"encryption": 90})
    m = prof.merged(cli)
    assert m.overall == 50 and m.categories == {"encryption": 90, "authentication": 40}


def test_thresholds_gate_the_run() -> None:
    results = make_results()  # overall 39.6
    assert evaluate(results, GateConfig(min_scores=MinScores(39.6))).target(0).thresholds_failed == []
    g = evaluate(results, GateConfig(min_scores=MinScores(40)))
    assert g.failed and g.target(0).thresholds_failed
    assert any("overall score 39.6 (minimum 40): NOT met" in r for r in g.reasons())
    assert g.target(2).thresholds == []  # an incomplete target has exit code 3 instead
