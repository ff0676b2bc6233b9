"""Slack answering 429 Too Many Requests with Retry-After to the bot's chat.postMessage: the bot
waits as long as Slack asked, tries again, and the requester gets the reply once."""
from __future__ import annotations

import time

import pytest

from slack_kit import REQUESTER, text_of

pytestmark = pytest.mark.postgres


def test_a_rate_limited_reply_is_sent_once_after_the_wait(product):
    dm = product.workspace.dm(REQUESTER).id
    before = len(product.bot_messages(dm))
    calls_before = len(product.workspace.calls("chat.postMessage"))
    product.standin.rate_limit("chat.postMessage", times=2, retry_after=1)

    delivery = product.deliver.message(REQUESTER, dm, "what's the status of my requests?")
    assert delivery.status == 200 and delivery.acked_in_time
    product.workspace.wait_for(
        lambda: any(c.status == 429 for c in product.workspace.calls("chat.postMessage")[calls_before:]), timeout=30)
    refused_at = time.monotonic()
    replies = product.settle(dm, before, timeout=30)
    waited = time.monotonic() - refused_at

    assert len(replies) == 1 and "requests" in text_of(replies).lower()
    # Two refusals of one second each: the reply came only after both waits.
    assert waited >= 2.0
    attempts = product.workspace.calls("chat.postMessage")[calls_before:]
    assert [c.status for c in attempts] == [429, 429, 200]
    assert attempts[0].args == attempts[1].args == attempts[2].args and attempts[2].args["channel"] == dm
