"""Include resolution against a map of collected files: POSIX paths only, never the local disk."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Final

_MAGIC = frozenset("*?[")


def has_magic(pattern: str) -> bool:
    return any(c in _MAGIC for c in pattern)


def normalize(path: str) -> str:
    """Lexical normalisation (no symlinks: the target's filesystem is not ours to look at)."""
    return posixpath.normpath(path) if path else path


def resolve(base_dir: str, target: str) -> str:
    """`target` as the target host would open it from `base_dir`."""
    return normalize(target if posixpath.isabs(target) else posixpath.join(base_dir, target))


def is_url(target: str) -> bool:
    head = target.split("/", 1)[0]
    return head.endswith(":") and len(head) > 2  # "http:", "file:", … but not "C:"-like oddities


def glob_match(pattern: str, path: str) -> bool:
    """glob(3) semantics: `*`, `?` and `[…]` match within one path segment; a leading `.` of a
    segment is matched only by a literal `.` (hidden files are not picked up by `*`)."""
    pat_parts = pattern.split("/")
    path_parts = path.split("/")
    if len(pat_parts) != len(path_parts):
        return False
    for pat, part in zip(pat_parts, path_parts, strict=True):
        if part.startswith(".") and not pat.startswith(".") and has_magic(pat):
            return False
        if not fnmatchcase(part, pat):
            return False
    return True


class PathIndex:
    """Include patterns against one fixed set of paths, for a parse that resolves many includes against it
    (a literal names at most one path; a glob names the matching paths, sorted as glob(3) returns them). Paths
    are normalised once, a literal include is a dict lookup, a glob whose magic is in its last segment only
    (`sites-enabled/*`) is compared with that directory's files only, and each pattern's answer is kept.
    (Normalising every path for every include, as tests/parsers/path_oracle.py does, took 40 s for 5 000
    include lines against 2 000 collected files.) Other globs still compare every path: the parsers' time
    bounds cover those."""

    MAX_CACHED: Final = 4096  # patterns whose answers are kept

    def __init__(self, available: Iterable[str]) -> None:
        self._all: list[tuple[str, str]] = [(path, normalize(path)) for path in available]
        self._exact: dict[str, str] = {}
        self._by_dir: dict[str, list[tuple[str, str]]] = {}
        for path, norm in self._all:
            self._exact.setdefault(norm, path)
            self._by_dir.setdefault(posixpath.dirname(norm), []).append((path, norm))
        self._cache: dict[str, list[str]] = {}

    def expand(self, pattern: str) -> list[str]:
        """The paths `pattern` names (what tests/parsers/path_oracle.expand works out the slow way)."""
        pattern = normalize(pattern)
        found = self._cache.get(pattern)
        if found is None:
            found = self._glob(pattern) if has_magic(pattern) else self._literal(pattern)
            self._keep(pattern, found)
        return list(found)

    def below(self, directory: str) -> list[str]:
        """The paths under `directory` (at any depth), sorted."""
        prefix = directory.rstrip("/") + "/"
        key = "\0below:" + prefix  # NUL: never a pattern
        found = self._cache.get(key)
        if found is None:
            found = sorted(path for path, norm in self._all if norm.startswith(prefix))
            self._keep(key, found)
        return list(found)

    def _keep(self, key: str, found: list[str]) -> None:
        if len(self._cache) < self.MAX_CACHED:
            self._cache[key] = found

    def _literal(self, pattern: str) -> list[str]:
        path = self._exact.get(pattern)
        return [] if path is None else [path]

    def _glob(self, pattern: str) -> list[str]:
        directory = posixpath.dirname(pattern)
        candidates = self._all if has_magic(directory) else self._by_dir.get(directory, [])
        return sorted(path for path, norm in candidates if glob_match(pattern, norm))
