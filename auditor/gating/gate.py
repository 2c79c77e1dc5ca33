"""The gate: which findings fail the run, once severities, waivers, a baseline and minimum scores apply.

A failed finding gates the run when all of these hold:
  - its severity is at or above --fail-on;
  - no active waiver covers it (an expired waiver covers nothing);
  - with --baseline, it is new (it did not already fail in the baseline).
A minimum score (--min-score, or the profile's thresholds) that a target does not meet also gates.
Unclear findings never gate here: an incomplete audit has its own exit code (3).

Every reporter reads the same GateReport, so a finding is shown as waived / new / unchanged / fixed
identically in every format.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from auditor.gating.baseline import Baseline, BaselineState
from auditor.gating.thresholds import MinScores, ThresholdResult, evaluate_thresholds
from auditor.gating.waivers import Waiver, WaiverSet, utc_today
from auditor.model import NOT_JUDGED, Finding, Severity, Status

if TYPE_CHECKING:
    from auditor.engine import TargetResult


@dataclass(frozen=True, slots=True)
class GateConfig:
    fail_on: Severity = Severity.HIGH
    waivers: WaiverSet | None = None
    baseline: Baseline | None = None
    min_scores: MinScores = field(default_factory=MinScores)
    today: date | None = None  # the UTC date waivers are judged on; None = today


@dataclass(frozen=True, slots=True)
class FindingGate:
    """How one finding stands for the gate."""

    failed: bool  # the check failed (status fail)
    gates: bool  # this finding fails the run
    severity_gates: bool  # failed at or above --fail-on (before waivers and baseline)
    waiver: Waiver | None = None
    baseline: BaselineState | None = None  # new / unchanged for failures when a baseline is given

    @property
    def waived(self) -> bool:
        return self.waiver is not None

    def label(self) -> str:
        """A short state for tables: gates, waived, unchanged (baseline), below threshold, or ''."""
        if not self.failed:
            return ""
        if self.gates:
            return "gates"
        if self.waived:
            return "waived"
        if not self.severity_gates:
            return "below --fail-on"
        return "unchanged (baseline)"

    def to_json(self) -> dict[str, Any]:
        return {
            "gates": self.gates,
            "waived": self.waived,
            "waiver": self.waiver.to_json() if self.waiver else None,
            "baseline": self.baseline.value if self.baseline else None,
        }


_NEUTRAL = FindingGate(failed=False, gates=False, severity_gates=False)


@dataclass(frozen=True, slots=True)
class FixedFinding:
    """A failure of the baseline that no longer fails (the check passes, is N/A, unclear, or gone)."""

    target: str
    check_id: str
    title: str
    severity: str
    status_now: str | None  # the check's status in this run, None when it did not run

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "check_id": self.check_id,
            "title": self.title,
            "severity": self.severity,
            "status_now": self.status_now,
        }


@dataclass(slots=True)
class TargetGate:
    target: str
    findings: dict[str, FindingGate] = field(default_factory=dict)  # check id → gate
    fixed: list[FixedFinding] = field(default_factory=list)
    thresholds: list[ThresholdResult] = field(default_factory=list)
    in_baseline: bool | None = None  # None without a baseline

    def get(self, check_id: str) -> FindingGate:
        return self.findings.get(check_id, _NEUTRAL)

    @property
    def gating(self) -> list[str]:
        return [cid for cid, g in self.findings.items() if g.gates]

    @property
    def waived(self) -> list[str]:
        return [cid for cid, g in self.findings.items() if g.waived]

    @property
    def thresholds_failed(self) -> list[ThresholdResult]:
        return [t for t in self.thresholds if not t.met]

    def count(self, state: BaselineState) -> int:
        if state is BaselineState.FIXED:
            return len(self.fixed)
        return sum(1 for g in self.findings.values() if g.baseline is state)

    def to_json(self) -> dict[str, Any]:
        return {
            "in_baseline": self.in_baseline,
            "gating": self.gating,
            "waived": self.waived,
            "fixed": [f.to_json() for f in self.fixed],
            "thresholds": [t.to_json() for t in self.thresholds],
        }


@dataclass(slots=True)
class GateReport:
    fail_on: Severity
    today: date
    targets: list[TargetGate]  # aligned with the results list
    expired: list[Waiver] = field(default_factory=list)
    waivers_source: str | None = None
    baseline_source: str | None = None
    waivers_sha256: str | None = None  # of the files' bytes as read: what `merge` compares runs by
    baseline_sha256: str | None = None
    min_scores: MinScores = field(default_factory=MinScores)

    @property
    def has_baseline(self) -> bool:
        return self.baseline_source is not None

    @property
    def failed(self) -> bool:
        return any(t.gating or t.thresholds_failed for t in self.targets)

    def target(self, index: int) -> TargetGate:
        return self.targets[index] if 0 <= index < len(self.targets) else TargetGate("")

    def reasons(self) -> list[str]:
        """One line per reason the run fails the gate."""
        out: list[str] = []
        for t in self.targets:
            if t.gating:
                out.append(f"{t.target}: {len(t.gating)} failed check(s) gate the run: {', '.join(t.gating)}")
            for th in t.thresholds_failed:
                out.append(f"{t.target}: {th.describe()}")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "fail_on": self.fail_on.value,
            "date_utc": self.today.isoformat(),
            "waivers": self.waivers_source,
            "waivers_sha256": self.waivers_sha256,
            "baseline": self.baseline_source,
            "baseline_sha256": self.baseline_sha256,
            "min_scores": self.min_scores.to_json(),
            "expired_waivers": [w.to_json() for w in self.expired],
            "failed": self.failed,
        }


def finding_gate(
    target: str, finding: Finding, config: GateConfig, today: date, baseline_known: bool
) -> FindingGate:
    if finding.status is not Status.FAIL:
        return _NEUTRAL
    severity_gates = finding.severity.rank >= config.fail_on.rank
    waiver = config.waivers.find(target, finding.check_id, today) if config.waivers else None
    state: BaselineState | None = None
    if config.baseline is not None:
        old = baseline_known and config.baseline.failed(target, finding.check_id)
        state = BaselineState.UNCHANGED if old else BaselineState.NEW
    gates = severity_gates and waiver is None and state is not BaselineState.UNCHANGED
    return FindingGate(True, gates, severity_gates, waiver, state)


_ROLE_SKIP = re.compile(r"role [^:]{1,80}: no .{1,200} expected \(")


def resolved(finding: Finding | None) -> bool:
    """Whether a baseline failure is fixed by this finding: it passes, or does not apply for a reason found
    in this run. Unclear, not run (no check of that id: disabled by the profile, or gone), skipped with the
    probes (an offline or --no-probes run, no --intrusive) or left out for the host's roles is not judged:
    the failure is not fixed, only not seen again."""
    if finding is None:
        return False
    if finding.status is Status.PASS:
        return True
    if finding.status is not Status.NOT_APPLICABLE:
        return False
    return finding.message not in NOT_JUDGED and _ROLE_SKIP.match(finding.message) is None


def evaluate(results: Sequence[TargetResult], config: GateConfig) -> GateReport:
    today = config.today or utc_today()
    report = GateReport(
        fail_on=config.fail_on,
        today=today,
        targets=[],
        expired=config.waivers.expired(today) if config.waivers else [],
        waivers_source=config.waivers.source if config.waivers else None,
        baseline_source=config.baseline.source if config.baseline else None,
        waivers_sha256=config.waivers.sha256 if config.waivers else None,
        baseline_sha256=config.baseline.sha256 if config.baseline else None,
        min_scores=config.min_scores,
    )
    for result in results:
        tg = TargetGate(result.target)
        known = False
        if config.baseline is not None:
            known = config.baseline.has_target(result.target)
            tg.in_baseline = known
        for f in result.findings:
            tg.findings[f.check_id] = finding_gate(result.target, f, config, today, known)
        if config.baseline is not None and known and result.complete:
            now = {f.check_id: f for f in result.findings}
            for old in config.baseline.failures(result.target):
                current = now.get(old.check_id)
                if resolved(current):
                    tg.fixed.append(
                        FixedFinding(result.target, old.check_id, current.title if current else old.title,
                                     current.severity.value if current else old.severity,
                                     current.status.value if current else None)
                    )
        if config.min_scores and result.complete:
            tg.thresholds = evaluate_thresholds(result.target, result.scores, config.min_scores)
        report.targets.append(tg)
    return report
