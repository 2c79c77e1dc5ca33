"""Every regular expression of the auditor and its checks, run over long adversarial texts, finishes:
no pattern may be quadratic or worse on what a target sends (long runs of blanks, newlines, name
characters, backslashes, digits after a plausible prefix). A pattern with two readings of one run
(`\\s*` over newlines after `^`, `\\\\.|.` in a quoted value, `\\w+` from any position) is found here as
a timeout: on these 50 000-character texts a linear search takes milliseconds, a quadratic one
seconds to minutes. Guarded by an alarm, like the suite's other hang guards; not a speed target."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

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


_RE_CALLS = frozenset({"compile", "search", "match", "fullmatch", "sub", "subn", "findall", "finditer", "split"})


def _flags(node: ast.expr | None) -> int | None:
    """re.I, re.M | re.S, ...: the value of a flags argument made of re's constants, else None."""
    if node is None:
        return 0
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "re":
        value = getattr(re, node.attr, None)
        return int(value) if isinstance(value, re.RegexFlag) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _flags(node.left), _flags(node.right)
        return None if left is None or right is None else left | right
    return None


def _inline_patterns() -> Iterator[tuple[str, re.Pattern[str], bool]]:
    """Literal patterns given to re's functions inside functions and classes (module-level names are
    _patterns()'s): `re.search(r"...", text)` in a function body is compiled where it runs."""
    for pkg in (auditor, checks):
        for path in sorted(Path(pkg.__path__[0]).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            scopes = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
            seen: set[int] = set()
            for scope in scopes:
                for node in ast.walk(scope):
                    if id(node) in seen or not isinstance(node, ast.Call) or not node.args:
                        continue
                    seen.add(id(node))
                    func, first = node.func, node.args[0]
                    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                            and func.value.id == "re" and func.attr in _RE_CALLS):
                        continue
                    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                        continue
                    keyword = next((k.value for k in node.keywords if k.arg == "flags"), None)
                    positional = {"compile": 1, "search": 2, "match": 2, "fullmatch": 2, "findall": 2,
                                  "finditer": 2, "split": 3, "sub": 4, "subn": 4}[func.attr]
                    flag_node = keyword if keyword is not None else (
                        node.args[positional] if len(node.args) > positional else None)
                    flags = _flags(flag_node)
                    if flags is not None:
                        where = f"{path.relative_to(Path(pkg.__path__[0]).parent)}:{node.lineno}"
                        # re.match / re.fullmatch try one position: guarded as they run, not as a search
                        yield where, re.compile(first.value, flags), func.attr in ("match", "fullmatch")


def _superlinear(patterns: Iterable[tuple[str, re.Pattern[str], bool]]) -> list[str]:
    """The patterns that do not finish on a run: searched through the text (finditer), or tried at its
    start only where the code matches (True)."""
    slow = []
    for name, pattern, anchored in patterns:
        for run in RUNS:
            for prefix in PREFIXES:
                text = prefix + run * (SIZE // len(run)) + "!"
                try:
                    with no_hang(ALARM_SECONDS):
                        if anchored:
                            pattern.match(text)
                        else:
                            for _ in pattern.finditer(text):
                                pass
                except AssertionError:  # no_hang's alarm
                    slow.append(f"{name} on {prefix!r} + {run!r} x {SIZE // len(run)}")
                    break
    return slow


def test_no_pattern_is_superlinear_on_long_runs() -> None:
    patterns = list(_patterns())
    assert len(patterns) > 80  # the walk found the modules' patterns
    slow = _superlinear((name, pattern, False) for name, pattern in patterns)
    assert not slow, "\n".join(slow)


def test_no_inline_pattern_is_superlinear_on_long_runs() -> None:
    patterns = list(_inline_patterns())
    assert len(patterns) > 25  # the walk found the patterns written inside functions
    slow = _superlinear(patterns)
    assert not slow, "\n".join(slow)


def test_the_inline_walk_reads_flags_and_sees_a_quadratic_pattern() -> None:
    """The guard's own parts: flags made of re's constants are read (others skip the call), a quadratic
    pattern is found, and a pattern the code only matches at the start is run that way."""
    assert _flags(ast.parse("re.I | re.M", mode="eval").body) == re.I | re.M
    assert _flags(ast.parse("flags", mode="eval").body) is None  # not re's constants: skipped
    slow = _superlinear([("quadratic", re.compile(r"^\s*x", re.M), False)])
    assert slow and slow[0].startswith("quadratic on ")
    # one digits-then-dot pattern: quadratic when searched, linear where the code only matches
    version = re.compile(r"(?:\d+:)?(\d+)\.(\d+)")
    assert _superlinear([("searched", version, False)]) and not _superlinear([("matched", version, True)])
