"""Readable terminal output of evaluations, for `microbuy examples` (what `make run` shows)."""
from __future__ import annotations

from datetime import date

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from policies import BLOCK, INFO, WARN, LoadedPolicy, RequestError, format_money

SEVERITY = {BLOCK: ("✗ block", "bold red"), WARN: ("! warn", "yellow"), INFO: ("i info", "cyan")}


def show_results(policy: LoadedPolicy, on: date, results: list) -> None:
    console = Console(highlight=False)
    pack = policy.rules.pack
    console.print(
        f"[bold]{escape(pack.name.get_text(pack.default_language, pack.default_language))}[/] — "
        f"policy {policy.short_version} ({escape(policy.file)}), judged as of {on.isoformat()}\n"
    )
    blocked = approvable = broken = 0
    for name, _data, request, outcome in results:
        if isinstance(outcome, RequestError):
            broken += 1
            console.print(Panel("\n".join(f"{escape(f)}: {escape(r)}" for f, r in outcome.problems),
                                title=f"{escape(name)}: cannot be evaluated", border_style="red"))
            continue
        blocked += outcome.blocked
        approvable += not outcome.blocked
        console.print(_panel(policy, name, request, outcome))
    console.print(f"{len(results)} request(s): {approvable} go to approval, {blocked} blocked, {broken} invalid")


def _panel(policy: LoadedPolicy, name: str, request, evaluation) -> Panel:
    locale = policy.rules.pack.locales[evaluation.language]

    def money(amount):
        return format_money(amount, currency=evaluation.currency, locale=locale)

    what = request.title or request.description
    body = Table.grid(padding=(0, 2))
    body.add_column(style="bold", no_wrap=True)
    body.add_column()
    body.add_row("What", escape(f"{request.quantity} × {what} from {request.supplier}"))
    body.add_row("Amount", f"{money(evaluation.subtotal)} + {evaluation.tax_label} {money(evaluation.tax)}"
                           f" = [bold]{money(evaluation.total)}[/]")
    if evaluation.approval_route:
        people = policy.rules.people
        steps = [
            f"{escape(step.name)}: {escape(', '.join(people[a].name if a in people else a for a in step.approvers))}"
            for step in evaluation.approval_route
        ]
        body.add_row("Route", " → ".join(steps))
    labels = policy.rules.labels
    if evaluation.passed:
        passed = [labels_text(labels, rule, evaluation.language, policy) for rule in evaluation.passed]
        body.add_row("Passed", Text(", ".join(passed), style="green"))
    for finding in evaluation.findings:
        tag, style = SEVERITY[finding.severity]
        body.add_row(Text(tag, style=style), Text(finding.message))
    verdict = "[bold red]BLOCKED[/]" if evaluation.blocked else "[bold green]goes to approval[/]"
    return Panel(body, title=f"{escape(name)}: {verdict}", title_align="left",
                 border_style="red" if evaluation.blocked else "green")


def labels_text(labels, rule: str, language: str, policy: LoadedPolicy) -> str:
    text = getattr(labels, rule.replace(".", "__"))
    return text.get_text(language, policy.rules.pack.default_language)
