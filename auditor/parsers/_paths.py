"""Include resolution against a map of collected files: POSIX paths only, never the local disk."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from fnmatch import fnmatchcase

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


def expand(pattern: str, available: Iterable[str]) -> list[str]:
    """The provided paths an include pattern names, sorted as glob(3) returns them."""
    pattern = normalize(pattern)
    if not has_magic(pattern):
        return [p for p in available if normalize(p) == pattern][:1]
    return sorted(p for p in available if glob_match(pattern, normalize(p)))
