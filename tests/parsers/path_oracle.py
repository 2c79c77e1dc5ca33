"""The plain reference that auditor.parsers._paths.PathIndex is checked against: every path normalised and
compared for every pattern (quadratic, which is why the parsers use the index)."""

from __future__ import annotations

from collections.abc import Iterable

from auditor.parsers._paths import glob_match, has_magic, normalize


def expand(pattern: str, available: Iterable[str]) -> list[str]:
    """The provided paths an include pattern names, sorted as glob(3) returns them."""
    pattern = normalize(pattern)
    if not has_magic(pattern):
        return [p for p in available if normalize(p) == pattern][:1]
    return sorted(p for p in available if glob_match(pattern, normalize(p)))
