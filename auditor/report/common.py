"""What the SARIF, JUnit, HTML, Markdown and CSV reporters share: the gate, ordering, locations, text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.gating.gate import FindingGate, GateConfig, GateReport, evaluate
from auditor.model import Evidence, Finding, Rating, Severity, Status
from auditor.snapshot import COMMAND_PREFIX, Snapshot

if TYPE_CHECKING:
    from auditor.engine import TargetResult
    from auditor.report.formats import RenderContext

# C0/C1 controls (escape sequences), and bidi overrides that could disguise text; tab and newline stay.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.INFO,
)
STATUS_ORDER = {Status.FAIL: 0, Status.UNCLEAR: 1, Status.PASS: 2, Status.NOT_APPLICABLE: 3}
RATING_ORDER: tuple[Rating, ...] = (Rating.FULLY, Rating.PARTIALLY, Rating.NO, Rating.UNCLEAR, Rating.NA)


def clean(value: object) -> str:
    """Text from a target with control characters and bidi overrides replaced by U+FFFD."""
    return _CONTROL_RE.sub("\ufffd", str(value))


def one_line(value: object, limit: int | None = None) -> str:
    text = " ".join(clean(value).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def gate_of(results: list[TargetResult], ctx: RenderContext) -> GateReport:
    """The run's gate: the one the CLI computed, or (library use, tests) --fail-on alone."""
    gate = getattr(ctx, "gate", None)
    if isinstance(gate, GateReport) and len(gate.targets) == len(results):
        return gate
    return evaluate(results, GateConfig(fail_on=ctx.fail_on))


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Failed first, then unclear, pass, N/A; within a status most severe first, then by id."""
    return sorted(findings, key=lambda f: (STATUS_ORDER[f.status], -f.severity.rank, f.check_id))


def is_directory_audit(snapshot: Snapshot | None) -> bool:
    return snapshot is not None and snapshot.root is not None


def is_file_path(path: str) -> bool:
    """Evidence that points into a file (an absolute path), not a command or probe."""
    return path.startswith("/") and not path.startswith(COMMAND_PREFIX)


def relative_path(snapshot: Snapshot | None, path: str) -> str | None:
    """For a directory audit: the evidence file relative to the audited root (`etc/nginx/x.conf`).

    Directory snapshots key files as `/` + the path below the root; None for anything else.
    """
    if not is_directory_audit(snapshot) or not is_file_path(path):
        return None
    rel = path.lstrip("/")
    parts = rel.split("/")
    if not rel or any(p in ("", ".", "..") for p in parts):
        return None
    return rel


def location_text(ev: Evidence) -> str:
    return clean(str(ev.location))


def gate_state(fg: FindingGate, finding: Finding) -> list[str]:
    """Badges for a finding in every human format: gates / waived / new / unchanged / below --fail-on."""
    if finding.status is not Status.FAIL:
        return []
    badges: list[str] = []
    if fg.gates:
        badges.append("gates")
    if fg.waived:
        badges.append("waived")
    if fg.baseline is not None:
        badges.append(fg.baseline.value)
    if not fg.severity_gates:
        badges.append("below --fail-on")
    return badges


def verdict(exit_code: int) -> str:
    return {
        0: "passed",
        1: "failed: findings or scores gate the run",
        2: "usage or configuration error",
        3: "incomplete: at least one target could not be fully audited",
    }.get(exit_code, f"exit code {exit_code}")


@dataclass(frozen=True, slots=True)
class FleetRow:
    """A target in the fleet summary every format carries (terminal and Markdown tables, the HTML
    report's head, JSON `fleet`, SARIF run properties)."""

    target: str
    complete: bool
    roles: tuple[str, ...]  # empty: unknown
    score: float | None
    failed: dict[Severity, int]  # failed findings by severity
    error: str | None  # "stage: reason" of an incomplete target

    @property
    def roles_label(self) -> str:
        return ", ".join(self.roles) if self.roles else ("—" if self.error else "unknown")

    def to_json(self) -> dict[str, object]:
        return {"target": self.target, "complete": self.complete, "roles": list(self.roles), "score": self.score,
                "failed": {s.value: n for s, n in self.failed.items()}, "error": self.error}


def fleet_rows(results: list[TargetResult]) -> list[FleetRow]:
    rows = []
    for r in results:
        failed = dict.fromkeys(SEVERITY_ORDER, 0)
        for f in r.findings:
            if f.status is Status.FAIL:
                failed[f.severity] += 1
        roles = r.roles.roles if r.roles is not None and r.roles.known else ()
        error = f"{r.error_stage}: {r.error}" if r.error else None
        rows.append(FleetRow(r.target, r.complete, roles, r.scores.overall if r.scores else None, failed, error))
    return rows
