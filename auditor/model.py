"""Result types shared by checks, the criteria model and the reporters."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from auditor.parsers.base import Location


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


# Reasons of checks a run did not judge (not applicable to this run, not found fine): a baseline's failure
# is not "fixed" by them (auditor.gating.gate.resolved).
OFFLINE = "no live probes in an offline audit"  # every live check without probes (offline, --no-probes)
NOT_INTRUSIVE = "intrusive probes not enabled (--intrusive)"
NO_JS_TO_COMPARE = "no config.js was read over SSH to compare with"
NO_CONFIG_TO_COMPARE = "no configuration was collected to compare with"
# absent evidence, which may be absent from the host or only from this run's collection
NO_DOCKER_ENV = "no docker-jitsi-meet .env in the evidence: not a docker deployment (or not collected)"
NO_TURN_CONF = "no turnserver.conf in the evidence: coturn is not part of this deployment (or not collected)"
NO_SECRET = "no secret in the evidence"
NO_SECRET_FILE = "no file with a secret or private key in the evidence"
NOT_JUDGED = frozenset({OFFLINE, NOT_INTRUSIVE, NO_JS_TO_COMPARE, NO_CONFIG_TO_COMPARE, NO_DOCKER_ENV, NO_TURN_CONF,
                        NO_SECRET, NO_SECRET_FILE})


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNCLEAR = "unclear"
    NOT_APPLICABLE = "not_applicable"


class Rating(StrEnum):
    FULLY = "Fully"
    PARTIALLY = "Partially"
    NO = "No"
    UNCLEAR = "Unclear"
    NA = "N/A"


class Basis(StrEnum):
    VERIFIED = "verified"  # derived from evidence collected from the deployment
    DECLARED = "declared"  # taken from the operator's declarations file


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a result comes from: a file and line, or a probe/command, with a short safe excerpt."""

    location: Location
    excerpt: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.location.path, "line": self.location.line, "excerpt": self.excerpt}


@dataclass(frozen=True, slots=True)
class CheckResult:
    status: Status
    message: str
    evidence: tuple[Evidence, ...] = ()

    @staticmethod
    def passed(message: str, *evidence: Evidence) -> CheckResult:
        return CheckResult(Status.PASS, message, evidence)

    @staticmethod
    def failed(message: str, *evidence: Evidence) -> CheckResult:
        return CheckResult(Status.FAIL, message, evidence)

    @staticmethod
    def unclear(reason: str, *evidence: Evidence) -> CheckResult:
        return CheckResult(Status.UNCLEAR, reason, evidence)

    @staticmethod
    def not_applicable(reason: str, *evidence: Evidence) -> CheckResult:
        return CheckResult(Status.NOT_APPLICABLE, reason, evidence)


@dataclass(frozen=True, slots=True)
class Finding:
    """A check's result for one target, together with the check's metadata."""

    check_id: str
    title: str
    severity: Severity
    status: Status
    message: str
    criteria: tuple[str, ...]
    remediation: str
    evidence: tuple[Evidence, ...] = ()
    references: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CriterionRating:
    id: str
    category: str
    title: str
    rating: Rating
    basis: Basis
    reasons: tuple[str, ...]
    check_ids: tuple[str, ...]
    review_2020: dict[str, str] = field(default_factory=dict)
