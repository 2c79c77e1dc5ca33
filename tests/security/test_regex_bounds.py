"""Every regular expression of the auditor and its checks, run over long adversarial texts, finishes:
no pattern may be quadratic or worse on what a target sends (long runs of blanks, newlines, name
characters, backslashes, digits after a plausible prefix). A pattern with two readings of one run
(`\\s*` over newlines after `^`, `\\\\.|.` in a quoted value, `\\w+` from any position) is found here as
a timeout: on these 50 000-character texts a linear search takes milliseconds, a quadratic one
seconds to minutes. Guarded by an alarm, like the suite's other hang guards; not a speed target."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator

import auditor
import checks
from tests.core.test_user_files import no_hang

SIZE = 50_000
ALARM_SECONDS = 3.0
RUNS = ["\n", " \n", "\t", " ", "_", "a-", "\\", "1", "a", "="]
PREFIXES = ["", "password = '", "key=", "Include ", "NAME="]
# Used only through a bound: is_secret_name looks at the last 256 characters of a name, and the
# concatenation pattern is matched at one position after a quoted value, never searched.
EXEMPT = {"auditor.redaction.SECRET_NAME_RE": "is_secret_name bounds it",
          "auditor.redaction._CONCAT_RE": "matched at one position, never searched"}


def _patterns() -> Iterator[tuple[str, re.Pattern[str]]]:
    """Module-level patterns, and those held in module-level tuples, lists and dicts (rule tables)."""
    seen: set[int] = set()
    for pkg in (auditor, checks):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                for qualified, pattern in _held(f"{info.name}.{name}", value, 3):
                    if id(pattern) not in seen and qualified not in EXEMPT:
                        seen.add(id(pattern))
                        yield qualified, pattern


def _held(name: str, value: object, depth: int) -> Iterator[tuple[str, re.Pattern[str]]]:
    if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
        yield name, value
    elif depth > 0 and isinstance(value, tuple | list):
        for i, item in enumerate(value):
            yield from _held(f"{name}[{i}]", item, depth - 1)
    elif depth > 0 and isinstance(value, dict):
        for key, item in value.items():
            yield from _held(f"{name}[{key!r}]", item, depth - 1)


def test_no_pattern_is_superlinear_on_long_runs() -> None:
    patterns = list(_patterns())
    assert len(patterns) > 80  # the walk found the modules' patterns
    slow = []
    for name, pattern in patterns:
        for run in RUNS:
            for prefix in PREFIXES:
                text = prefix + run * (SIZE // len(run)) + "!"
                try:
                    with no_hang(ALARM_SECONDS):
                        for _ in pattern.finditer(text):
                            pass
                except AssertionError:  # no_hang's alarm
                    slow.append(f"{name} on {prefix!r} + {run!r} x {SIZE // len(run)}")
                    break
    assert not slow, "\n".join(slow)
