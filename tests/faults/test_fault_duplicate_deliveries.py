"""Duplicate deliveries while the first is still being handled: Slack retries an event it thinks
was not acknowledged, and people double-click. Each has its effect once.
(tests/bot/test_bot_flows.py covers a retry after the first was handled, a second click after
the first, and twenty simultaneous Approve clicks.)"""
from __future__ import annotations

import threading

import pytest

from faults_kit import new_requester, requests_of, user_turns
from slack_kit import APPROVALS, buttons_of, text_of

pytestmark = pytest.mark.postgres


def at_once(*calls):
    """Run the calls in threads started together; their results in order."""
    results = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i, call):
        start.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_retries_arriving_during_the_first_delivery_make_one_turn(product):
    user = new_requester(product)
    dm = product.workspace.dm(user).id
    first = product.deliver.message(user, dm, "what's the status of my requests?")
    # Slack's retries (X-Slack-Retry-Num 1..3) of the same event, while the first turn is under way.
    again = at_once(*(lambda n=n: product.deliver.retry(first, num=n, reason="http_timeout") for n in (1, 2, 3)))
    assert first.status == 200 and [d.status for d in again] == [200, 200, 200]
    replies = product.settle(dm, 0)
    assert len(replies) == 1 and "no purchase requests" in text_of(replies)
    assert user_turns(product.database_url, product.workspace.team_id, user) == ["what's the status of my requests?"]


def test_submit_double_clicked_stores_and_posts_once(product):
    user = new_requester(product)
    product.say(user, "I need to buy a box of pens from Indigo for about $25")
    replies = []
    for answer in ["100200", "2", "Ontario", "2026-12-15", "for the team's sprint planning", "no", "not sure"]:
        replies = product.say(user, answer)
    summary = next(m for m in reversed(replies) if any(b.get("value") == "/affirm" for b in buttons_of(m)))
    submit = next(b for b in buttons_of(summary) if b["value"] == "/affirm")
    dm = product.workspace.dm(user).id
    before, posts_before = len(product.bot_messages(dm)), len(product.bot_messages(APPROVALS))

    clicks = at_once(*(lambda: product.deliver.block_action(user, summary, submit["action_id"], submit["value"])
                       for _ in range(2)))

    assert [c.status for c in clicks] == [200, 200]
    done = product.settle(dm, before)
    [(_, reference, supplier, status)] = requests_of(product.database_url, user)
    assert (supplier, status) == ("Indigo", "submitted")
    assert [reference in (m.text or "") for m in done if "Submitted MB-" in (m.text or "")] == [True]
    product.workspace.wait_for(lambda: product.bot_messages(APPROVALS)[posts_before:], timeout=20)
    product.settle(APPROVALS, posts_before, timeout=5)
    posts = [m for m in product.bot_messages(APPROVALS)[posts_before:] if reference in text_of([m])]
    assert len(posts) == 1
    assert user_turns(product.database_url, product.workspace.team_id, user).count("/affirm") == 1
