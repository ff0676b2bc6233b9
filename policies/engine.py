"""The rules engine: a request, the facts about past spending and a date in; the outcome out.

Pure: it reads only its arguments (the loaded policy among them) and changes nothing.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable, Optional

from .evaluation import APPROVAL_REQUIRED, BLOCK, BLOCKED, WARN, Evaluation
from .facts import Facts, Purchase
from .loader import LoadedPolicy
from .request import PurchaseRequest
from .routing import route
from .rules import CHECKS


def evaluate(
    policy: LoadedPolicy,
    request: PurchaseRequest,
    history: Iterable[Purchase],
    on: date,
    language: Optional[str] = None,
) -> Evaluation:
    """Judge a request (parsed by `parse_request` against the same policy) as of date `on`."""
    pack = policy.rules.pack
    language = language if language in pack.languages else pack.default_language
    facts = Facts(policy, request, list(history), on, language)
    findings, passed = [], []
    for rule_id, check in CHECKS.items():
        found = check(facts)
        if found is None:
            continue
        findings.extend(found)
        if not any(f.severity in (BLOCK, WARN) for f in found):
            passed.append(rule_id)
    steps, routing_findings = route(facts)
    findings.extend(routing_findings)
    if not any(f.severity == BLOCK for f in routing_findings):
        passed.append("routing")
    outcome = BLOCKED if any(f.severity == BLOCK for f in findings) else APPROVAL_REQUIRED
    return Evaluation(
        outcome=outcome,
        subtotal=facts.subtotal,
        tax=facts.tax,
        total=facts.total,
        tax_label=facts.tax_label,
        tax_percent=facts.tax_percent,
        currency=pack.currency,
        findings=tuple(findings),
        passed=tuple(passed),
        approval_route=steps,
        policy_version=policy.version,
        evaluated_on=on,
        language=language,
    )
