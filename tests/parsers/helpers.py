"""Shared test helpers: fixture text, the shared reference files, fuzzing settings."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from auditor.parsers.base import ConfigParseError

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = Path("/work/shared/reference")

needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared reference files not present")

# Deterministic, no example database written into the checkout; small and quick. For a longer,
# randomised hunt: JITSI_AUDIT_FUZZ_EXAMPLES=2000 pytest tests/parsers/test_fuzz.py
_DEEP = int(os.environ.get("JITSI_AUDIT_FUZZ_EXAMPLES", "0") or 0)
FUZZ = settings(
    max_examples=_DEEP or 60,
    deadline=None,
    database=None,
    derandomize=not _DEEP,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def reference(name: str) -> str:
    return (REFERENCE / name).read_text(encoding="utf-8")


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """CPU time under `seconds` (what the engines' limits bound, whatever the machine's load), and
    wall time under a loose multiple of it (nothing waits or sleeps unbounded)."""
    wall, cpu = time.monotonic(), time.process_time()
    yield
    cpu_used, wall_used = time.process_time() - cpu, time.monotonic() - wall
    assert cpu_used < seconds, f"used {cpu_used:.2f} s of CPU (bound {seconds} s)"
    assert wall_used < 10 * seconds + 5, f"took {wall_used:.2f} s"


def only_parse_errors(parse: Callable[[], Any], bound: float = 3.0) -> None:
    """The property every parser has: it returns, or raises ConfigParseError, within a bound."""
    with within(bound):
        try:
            parse()
        except ConfigParseError as exc:
            assert exc.path  # a message with the file, never a traceback
            assert "\n" not in exc.message


@st.composite
def mutations(draw: st.DrawFn, base: str, alphabet: str) -> str:
    """`base` with a few random edits: deletions, insertions from `alphabet`, duplicated slices."""
    text = base
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "truncate"]))
        if op == "delete":
            end = min(len(text), pos + draw(st.integers(1, 20)))
            text = text[:pos] + text[end:]
        elif op == "insert":
            text = text[:pos] + draw(st.text(alphabet=alphabet, min_size=1, max_size=12)) + text[pos:]
        elif op == "duplicate":
            end = min(len(text), pos + draw(st.integers(1, 60)))
            text = text[:end] + text[pos:end] + text[end:]
        else:
            text = text[:pos]
    return text
