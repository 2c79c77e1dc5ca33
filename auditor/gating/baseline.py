"""Baselines: a previous `--format json` report; only failures that are new since it gate the run.

A finding is identified by (target, check id). Against the baseline, a current failure is
- `new`       when that check did not fail for that target in the baseline (or the target is new),
- `unchanged` when it already failed there;
and a baseline failure whose check no longer fails for a target audited in both runs is `fixed`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from auditor import json_input
from auditor.user_files import read_user_file

MAX_BYTES = 256 * 1024 * 1024  # as large as a report `merge` accepts


class BaselineError(ValueError):
    """A baseline file that cannot be used (one line, names the file)."""


class BaselineState(StrEnum):
    NEW = "new"
    UNCHANGED = "unchanged"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True)
class BaselineFailure:
    target: str
    check_id: str
    title: str
    severity: str
    message: str


@dataclass(slots=True)
class Baseline:
    source: str
    generated_at: str | None = None
    failing: dict[str, dict[str, BaselineFailure]] = field(default_factory=dict)  # target → check → failure
    targets: set[str] = field(default_factory=set)  # targets audited completely in the baseline
    sha256: str | None = None  # of the file's bytes, set by load_baseline: runs are compared by content (merge)

    def has_target(self, target: str) -> bool:
        return target in self.targets

    def failed(self, target: str, check_id: str) -> bool:
        return check_id in self.failing.get(target, {})

    def failures(self, target: str) -> list[BaselineFailure]:
        return list(self.failing.get(target, {}).values())


def load_baseline(path: Path) -> Baseline:
    blob = read_user_file(path, "baseline", BaselineError, max_bytes=MAX_BYTES)
    try:
        data = json_input.loads(blob)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: the baseline is not a JSON report: {exc}") from None
    baseline = parse_baseline(data, str(path))
    baseline.sha256 = hashlib.sha256(blob).hexdigest()  # the bytes parsed above
    return baseline


def parse_baseline(data: Any, source: str) -> Baseline:
    def bad(why: str) -> BaselineError:
        return BaselineError(f"{source}: not a jitsi-audit JSON report ({why}); use one from --format json")

    if not isinstance(data, dict) or "schema_version" not in data:
        raise bad("no schema_version")
    targets = data.get("targets")
    if not isinstance(targets, list):
        raise bad("no targets list")
    generated = data.get("generated_at")
    baseline = Baseline(source, str(generated) if generated else None)
    for t in targets:
        ok = isinstance(t, dict) and isinstance(t.get("target"), str)
        if not ok or not isinstance(t.get("findings"), list):
            raise bad("a target without a name or findings")
        name = t["target"]  # a report may list a name twice (the same --root given twice): read together
        if t.get("complete") is False:
            continue  # nothing is known about an incomplete target: everything failing now is new
        baseline.targets.add(name)
        failing = baseline.failing.setdefault(name, {})
        for f in t["findings"]:
            if not isinstance(f, dict) or not isinstance(f.get("check_id"), str):
                raise bad(f"a finding of {name!r} without check_id")
            if f.get("status") == "fail":
                failing[f["check_id"]] = BaselineFailure(
                    name,
                    f["check_id"],
                    str(f.get("title", "")),
                    str(f.get("severity", "")),
                    str(f.get("message", "")),
                )
    return baseline
