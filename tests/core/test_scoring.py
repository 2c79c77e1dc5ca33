"""Golden tests of the score definition (auditor.scoring docstring)."""

from __future__ import annotations

from auditor.model import Basis, CriterionRating, Rating
from auditor.scoring import score


def _r(cat: str, rating: Rating) -> CriterionRating:
    return CriterionRating(f"{cat}.{rating.value}", cat, "t", rating, Basis.VERIFIED, (), ())


def test_category_and_overall_scores() -> None:
    ratings = [
        _r("a", Rating.FULLY),
        _r("a", Rating.PARTIALLY),
        _r("a", Rating.NO),
        _r("a", Rating.NA),
        _r("b", Rating.FULLY),
        _r("b", Rating.UNCLEAR),
        _r("c", Rating.NA),
    ]
    s = score(ratings, ["a", "b", "c"])
    by = {c.category: c for c in s.categories}
    assert by["a"].score == 50.0 and by["a"].rated == 3
    assert by["b"].score == 50.0 and by["b"].unclear == 1
    assert by["c"].score is None and by["c"].rated == 0
    assert s.overall == 50.0
    assert s.coverage == round(4 / 5, 3)


def test_unclear_earns_nothing_and_empty_has_no_score() -> None:
    assert score([_r("a", Rating.UNCLEAR)], ["a"]).overall == 0.0
    empty = score([], ["a"])
    assert empty.overall is None and empty.coverage is None


def test_categories_weigh_the_same() -> None:
    ratings = [_r("a", Rating.FULLY)] + [_r("b", Rating.NO) for _ in range(9)]
    assert score(ratings, ["a", "b"]).overall == 50.0
