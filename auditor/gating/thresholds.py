"""Minimum scores: `--min-score 70` (overall) or `--min-score encryption=80` (one category).

A threshold that cannot be shown to be met fails: a target without a score (nothing rated) does
not pass `--min-score`. Scores are compared as printed (one decimal), `score >= minimum` passes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from auditor.scoring import Scores

OVERALL = "overall"


class ThresholdError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class MinScores:
    overall: float | None = None
    categories: Mapping[str, float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.overall is not None or bool(self.categories)

    def merged(self, other: MinScores) -> MinScores:
        """`other` (e.g. the command line) overrides self (e.g. the profile) key by key."""
        cats = dict(self.categories)
        cats.update(other.categories)
        return MinScores(other.overall if other.overall is not None else self.overall, cats)

    def items(self) -> list[tuple[str, float]]:
        out = [(OVERALL, self.overall)] if self.overall is not None else []
        return out + sorted(self.categories.items())

    def to_json(self) -> dict[str, object]:
        return {"overall": self.overall, "categories": dict(self.categories)}


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    target: str
    scope: str  # "overall" or a category id
    minimum: float
    actual: float | None

    @property
    def met(self) -> bool:
        return self.actual is not None and self.actual >= self.minimum

    def describe(self) -> str:
        actual = "no score" if self.actual is None else f"{self.actual:g}"
        verdict = "met" if self.met else "NOT met"
        return f"{self.scope} score {actual} (minimum {self.minimum:g}): {verdict}"

    def to_json(self) -> dict[str, object]:
        return {"scope": self.scope, "minimum": self.minimum, "actual": self.actual, "met": self.met}


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ThresholdError(f"{what}: {text!r} is not a number") from None
    if math.isnan(value) or not 0 <= value <= 100:
        raise ThresholdError(f"{what}: a minimum score is between 0 and 100")
    return value


def parse_min_scores(specs: Iterable[str], categories: Iterable[str]) -> MinScores:
    """`N` or `overall=N` for the overall score, `CATEGORY=N` for one category (repeatable)."""
    known = list(categories)
    overall: float | None = None
    cats: dict[str, float] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep:
            overall = _number(spec.strip(), "--min-score")
            continue
        name = name.strip().lower()
        if name == OVERALL:
            overall = _number(value.strip(), f"--min-score {name}")
        elif name in known:
            cats[name] = _number(value.strip(), f"--min-score {name}")
        else:
            raise ThresholdError(f"--min-score: unknown category {name!r} (overall, {', '.join(known)})")
    return MinScores(overall, cats)


def min_scores_from_mapping(data: object, categories: Iterable[str], where: str) -> MinScores:
    """Profile form: `thresholds: {min_score: 60, categories: {encryption: 70}}`."""
    if not isinstance(data, dict):
        raise ThresholdError(f"{where}: 'thresholds' must be a mapping (min_score, categories)")
    known = list(categories)
    unknown = set(map(str, data)) - {"min_score", "categories"}
    if unknown:
        raise ThresholdError(f"{where}: unknown threshold key(s) {sorted(unknown)} (min_score, categories)")
    overall = data.get("min_score")
    cats_raw = data.get("categories") or {}
    if not isinstance(cats_raw, dict):
        raise ThresholdError(f"{where}: 'thresholds.categories' maps category ids to minimum scores")
    cats: dict[str, float] = {}
    for name, value in cats_raw.items():
        if name not in known:
            raise ThresholdError(f"{where}: unknown category {name!r} (known: {', '.join(known)})")
        cats[str(name)] = _number(str(value), f"{where}: thresholds.categories.{name}")
    minimum = None if overall is None else _number(str(overall), f"{where}: thresholds.min_score")
    return MinScores(minimum, cats)


def evaluate_thresholds(target: str, scores: Scores | None, minimums: MinScores) -> list[ThresholdResult]:
    results: list[ThresholdResult] = []
    by_cat = {c.category: c.score for c in scores.categories} if scores is not None else {}
    for scope, minimum in minimums.items():
        actual = (scores.overall if scores is not None else None) if scope == OVERALL else by_cat.get(scope)
        results.append(ThresholdResult(target, scope, minimum, actual))
    return results
