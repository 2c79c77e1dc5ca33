"""Scores, defined once.

Points per criterion: Fully = 1, Partially = 0.5, No = 0, Unclear = 0 (missing evidence never
earns points). N/A criteria are left out. A category score is 100 × points / rated criteria, rounded
to one decimal; a category with no rated criterion has no score (None). The overall score is the
mean of the category scores that exist, so each of the review's five categories weighs the same
whatever its number of criteria. `coverage` is the share of rated criteria that are not Unclear.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.model import CriterionRating, Rating

POINTS = {Rating.FULLY: 1.0, Rating.PARTIALLY: 0.5, Rating.NO: 0.0, Rating.UNCLEAR: 0.0}


@dataclass(frozen=True, slots=True)
class CategoryScore:
    category: str
    score: float | None
    rated: int
    unclear: int


@dataclass(frozen=True, slots=True)
class Scores:
    categories: tuple[CategoryScore, ...]
    overall: float | None
    coverage: float | None


def score(ratings: list[CriterionRating], category_order: list[str]) -> Scores:
    cats: list[CategoryScore] = []
    total_rated = total_unclear = 0
    for cat in category_order:
        rated = [r for r in ratings if r.category == cat and r.rating is not Rating.NA]
        unclear = sum(1 for r in rated if r.rating is Rating.UNCLEAR)
        total_rated += len(rated)
        total_unclear += unclear
        value = round(100 * sum(POINTS[r.rating] for r in rated) / len(rated), 1) if rated else None
        cats.append(CategoryScore(cat, value, len(rated), unclear))
    present = [c.score for c in cats if c.score is not None]
    overall = round(sum(present) / len(present), 1) if present else None
    coverage = round((total_rated - total_unclear) / total_rated, 3) if total_rated else None
    return Scores(tuple(cats), overall, coverage)
