"""Print the figures of the README's reliability section, computed from the test suite itself.

    python -m tests.security.count_scenarios            # the figures, as text
    python -m tests.security.count_scenarios --markdown # the same as a Markdown list
    python -m tests.security.count_scenarios --run      # also run the suites and report the outcome

Every figure is counted from the data the tests run on (the hostile trees, the fault list, the
fixture canaries, the hypothesis settings, the collected test items), never typed by hand. With
--run the security, collection and parser suites are run (the lab tests need root) and the
outcome is printed: the figures hold only if nothing failed.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
PROPERTY_MODULES = (
    "tests.parsers.test_fuzz",
    "tests.collect.test_stream_decoder",
    "tests.security.test_parser_properties",
    "tests.security.test_redaction_properties",
)
RUN_PATHS = ("tests/security", "tests/collect", "tests/parsers")


@dataclass
class Figures:
    hostile_trees: int = 0
    hostile_kinds: dict[str, int] = field(default_factory=dict)
    stream_hostile: int = 0
    faults_ssh: int = 0
    faults_host_key: int = 0
    faults_probe: int = 0
    property_tests: int = 0
    property_examples: int = 0
    explicit_examples: int = 0
    parsers: list[str] = field(default_factory=list)
    parsers_covered: list[str] = field(default_factory=list)
    fixture_canaries: int = 0
    lab_secret_settings: int = 0
    outputs: list[str] = field(default_factory=list)
    needle_kinds: list[str] = field(default_factory=list)
    read_only_runs: int = 0
    outcome: str | None = None

    @property
    def faults(self) -> int:
        return self.faults_ssh + self.faults_host_key + self.faults_probe


def _property_tests(module: ModuleType) -> list[tuple[str, int, int]]:
    found = []
    for name, fn in inspect.getmembers(module, inspect.isfunction):
        if name.startswith("test_") and getattr(fn, "is_hypothesis_test", False):
            settings = fn._hypothesis_internal_use_settings  # type: ignore[attr-defined]
            explicit = getattr(fn.hypothesis.inner_test, "hypothesis_explicit_examples", [])  # type: ignore[attr-defined]
            found.append((name, int(settings.max_examples), len(explicit)))
    return found


def _parsers() -> list[str]:
    return sorted(
        p.stem for p in (REPO / "auditor" / "parsers").glob("*.py") if not p.stem.startswith("_") and p.stem != "base"
    )


def _imported_parsers(module: ModuleType) -> set[str]:
    tree = ast.parse(Path(inspect.getfile(module)).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("auditor.parsers."):
            names.add(node.module.rsplit(".", 1)[1])
    return names


def _lab_secret_settings() -> int:
    """Distinct secret settings the lab plants canaries in (plan.canary calls of its builders)."""
    settings: set[str] = set()
    for name in ("configs.py", "docker.py"):
        text = (REPO / "tests" / "lab" / name).read_text()
        settings.update(re.findall(r"plan\.canary\(var, \"([^\"]+)\"\)", text))
    return len(settings)


def count() -> Figures:
    sys.path.insert(0, str(REPO))
    from tests.security import support, test_faults, test_host_keys
    from tests.security.hostile_trees import SCENARIOS

    f = Figures()
    f.hostile_trees = len(SCENARIOS)
    for s in SCENARIOS:
        f.hostile_kinds[s.kind] = f.hostile_kinds.get(s.kind, 0) + 1
    stream = importlib.import_module("tests.collect.test_stream_decoder")
    f.stream_hostile = len([n for n in dir(stream) if n.startswith("test_")])
    f.faults_ssh = len(test_faults.FAULTS)
    f.faults_host_key = len(test_host_keys.HOST_KEY_FAULTS)
    from tests.security import badweb

    f.faults_probe = sum(len(v) for v in badweb.FAULTS.values())
    covered: set[str] = set()
    for name in PROPERTY_MODULES:
        module = importlib.import_module(name)
        tests = _property_tests(module)
        f.property_tests += len(tests)
        f.property_examples += sum(n for _, n, _ in tests)
        f.explicit_examples += sum(e for _, _, e in tests)
        if tests:
            covered |= _imported_parsers(module)
    f.parsers = _parsers()
    f.parsers_covered = sorted(set(f.parsers) & covered)
    f.fixture_canaries = len(
        {
            c
            for tree in support.FIXTURES.iterdir()
            if tree.is_dir()
            for c in support.canaries_in_tree(tree)
            if c.startswith("CANARY-")
        }
    )
    f.lab_secret_settings = _lab_secret_settings()
    f.outputs = [
        *support.REPORT_FILES,
        "saved snapshot",
        "evidence bundle (every member)",
        "stdout",
        "stderr with DEBUG logs",
    ]
    f.needle_kinds = list(support.NEEDLE_KINDS)
    f.read_only_runs = 2
    return f


def run_suites() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}", *RUN_PATHS]
        subprocess.run(cmd, cwd=REPO, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not xml.exists():
            return "the suites did not run"
        suite = ET.parse(xml).getroot()
        node = suite if suite.tag == "testsuite" else suite[0]
        total, failures, errors, skipped = (int(node.get(k, "0")) for k in ("tests", "failures", "errors", "skipped"))
        failed = [
            f"{case.get('classname')}.{case.get('name')}"
            for case in node.iter("testcase")
            if case.find("failure") is not None or case.find("error") is not None
        ]
        outcome = f"{total - failures - errors - skipped} passed, {failures + errors} failed, {skipped} skipped"
        outcome += f" ({', '.join(RUN_PATHS)})"
        return outcome + "".join(f"\n  failed: {name}" for name in failed)


def render(f: Figures, markdown: bool) -> str:
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(f.hostile_kinds.items(), key=lambda kv: -kv[1]))
    lines = [
        f"{f.hostile_trees} hostile configuration trees audited end to end through the CLI ({kinds}), "
        "each with its cost bounded, what it hides reported unknown or named, and the other facts unchanged",
        f"{f.stream_hostile} tests of the collection-stream decoder with hostile streams (names with `..` or "
        "absolute paths, NUL, escapes, endless lines, floods, truncation, random and mutated bytes)",
        f"{f.property_tests} property-based tests generating {f.property_examples} inputs per run "
        f"(+ {f.explicit_examples} kept regression examples), covering {len(f.parsers_covered)} of "
        f"{len(f.parsers)} parsers, the redaction and the whole audit",
        f"{f.faults} fault scenarios: {f.faults_ssh} connection, authentication, sudo and collection faults "
        f"and {f.faults_host_key} host-key faults each give one line naming host and stage and exit 3, "
        "with the healthy host of the same run complete; "
        f"{f.faults_probe} live-probe faults leave their checks unclear with the reason and exit 3 (one line naming host and probe), the host's collected evidence complete",
        f"{f.fixture_canaries} canary secrets in the fixture trees and {f.lab_secret_settings} secret settings "
        f"planted with canaries on the lab hosts, searched in {len(f.outputs)} outputs "
        f"({', '.join(f.outputs)}) in {len(f.needle_kinds)} forms ({', '.join(f.needle_kinds)}): none found",
        f"{f.read_only_runs} read-only proofs on a lab host (plain and --sudo): every file unchanged, "
        "one allow-listed command executed",
    ]
    if f.outcome:
        lines.append(f"last run: {f.outcome}")
    return "\n".join(("- " if markdown else "") + line for line in lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--run", action="store_true", help="run the suites and report their outcome")
    args = parser.parse_args(argv)
    figures = count()
    if args.run:
        figures.outcome = run_suites()
    sys.stdout.write(render(figures, args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
