"""What a check receives: the parsed deployment, its facts and probe results. Never a socket."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.deployment import Deployment
from auditor.facts import Fact, Facts, View
from auditor.model import CheckResult, Evidence


@dataclass(slots=True)
class AuditContext:
    deployment: Deployment
    facts: Facts
    view: View
    probes: dict[str, Any] = field(default_factory=dict)  # filled by live probes (a later stage)

    def fact(self, key: str) -> Fact:
        return self.facts[key]

    def from_fact(
        self,
        key: str,
        *,
        good: Any,
        pass_msg: str,
        fail_msg: str,
        unclear_msg: str | None = None,
    ) -> CheckResult:
        """Judge a fact: `good` is the value (or a predicate) that passes; None is always unclear."""
        fact = self.facts[key]
        evidence: tuple[Evidence, ...] = tuple(fact.evidence)
        if fact.value is None:
            return CheckResult.unclear(unclear_msg or f"cannot tell: {fact.note or 'no evidence'}", *evidence)
        ok = good(fact.value) if callable(good) else fact.value == good
        message = pass_msg if ok else fail_msg
        if fact.note and not ok:
            message = f"{message} ({fact.note})"
        return CheckResult.passed(message, *evidence) if ok else CheckResult.failed(message, *evidence)
