"""What the engine returns: the outcome, the amounts, what each rule found, and who approves."""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from decimal import Decimal
from typing import Any, Dict, Optional, Tuple

BLOCK, WARN, INFO = "block", "warn", "info"
BLOCKED, APPROVAL_REQUIRED = "blocked", "approval_required"


@dataclass(frozen=True)
class Finding:
    rule: str  # the check it comes from, e.g. "limits.per_transaction"
    severity: str  # block, warn or info
    message: str  # for the requester, in their language
    source: str  # the policy document the rule rests on, in the same language as the message
    field: Optional[str] = None  # the request field to ask again, when one answer is at fault
    data: Dict[str, Any] = dataclass_field(default_factory=dict)  # the figures behind the message

    def to_dict(self) -> dict:
        out: Dict[str, Any] = {"rule": self.rule, "severity": self.severity, "message": self.message,
                               "source": self.source}
        if self.field:
            out["field"] = self.field
        if self.data:
            out["data"] = {key: _plain(value) for key, value in self.data.items()}
        return out


@dataclass(frozen=True)
class RouteStep:
    level: str
    name: str
    approvers: Tuple[str, ...]
    delegates: Tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"level": self.level, "name": self.name, "approvers": list(self.approvers),
                "delegates": list(self.delegates)}


@dataclass(frozen=True)
class Evaluation:
    outcome: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    tax_label: str
    tax_percent: Decimal
    currency: str
    findings: Tuple[Finding, ...]
    passed: Tuple[str, ...]
    approval_route: Tuple[RouteStep, ...]
    policy_version: str
    evaluated_on: date
    language: str

    @property
    def blocked(self) -> bool:
        return self.outcome == BLOCKED

    def by_severity(self, severity: str) -> Tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.severity == severity)

    def to_dict(self) -> dict:
        """JSON-ready: amounts as strings with two decimals, never floats."""
        return {
            "outcome": self.outcome,
            "subtotal": f"{self.subtotal:.2f}",
            "tax": f"{self.tax:.2f}",
            "total": f"{self.total:.2f}",
            "tax_label": self.tax_label,
            "tax_percent": str(self.tax_percent),
            "currency": self.currency,
            "findings": [finding.to_dict() for finding in self.findings],
            "passed": list(self.passed),
            "approval_route": [step.to_dict() for step in self.approval_route],
            "policy_version": self.policy_version,
            "evaluated_on": self.evaluated_on.isoformat(),
            "language": self.language,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
