"""`microbuy policy diff`'s table and summary line (workflow.policy_diff does the re-judging)."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from rich.markup import escape
from rich.table import Table

from policies import LoadedPolicy, format_money
from workflow.policy_diff import REFUSED, Change, PolicyDiff, Route

OUTCOME_NAMES = {"approval_required": "to approval", "blocked": "BLOCKED", REFUSED: "cannot be judged"}


def table(diff: PolicyDiff, policy: LoadedPolicy) -> Table:
    """The changes as a rich Table (every text from a request or the policy escaped)."""
    pack = policy.rules.pack
    people = policy.rules.people

    def person(user: str) -> str:
        return escape(people[user].name if user in people else user)

    def route(steps: Route) -> str:
        if not steps:
            return "—"
        return ", then ".join(f"{escape(level)} ({', '.join(person(a) for a in approvers)})"
                              for level, approvers in steps)

    def money(amount: Optional[Decimal]) -> str:
        return "—" if amount is None else format_money(amount, currency=pack.currency,
                                                        locale=pack.locales[pack.default_language])

    def outcome(name: str) -> str:
        return escape(OUTCOME_NAMES.get(name, name))

    def cell(change: Change, what: str, show) -> str:
        old, new = show(getattr(change.before, what)), show(getattr(change.after, what))
        return f"{old}\n→ [bold]{new}[/]" if what in change.changed else f"[dim]{new}[/]"

    grid = Table(title=f"{len(diff.changes)} request(s) would change", show_lines=True, title_justify="left")
    for name in ("Request", "Requester", "Supplier", "Outcome", "Route", "Total", "Why"):
        grid.add_column(name, overflow="fold")
    for change in diff.changes:
        grid.add_row(
            f"{change.reference}\n[dim]{escape(change.status)}, {change.judged_on.isoformat()}[/]",
            person(change.requester),
            escape(change.supplier),
            cell(change, "outcome", outcome),
            cell(change, "route", route),
            cell(change, "total", money),
            "\n".join(escape(reason) for reason in change.why),
        )
    return grid


def summary(diff: PolicyDiff) -> str:
    line = (f"{diff.rejudged} request(s) submitted {diff.since.isoformat()} to {diff.until.isoformat()} re-judged; "
            f"{len(diff.changes)} would change ({diff.count('outcome')} outcome, {diff.count('route')} route, "
            f"{diff.count('total')} total)")
    if diff.re_judged_baselines:
        line += (f"; {diff.re_judged_baselines} were judged by an older policy version, "
                 "so 'before' is what the policy in force says today")
    return line
