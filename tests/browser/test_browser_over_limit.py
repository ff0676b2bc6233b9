"""An over-limit request in a browser: the bot explains the limit in the DM, in the policy's
words and numbers, asks again, and nothing ever reaches the approval channel."""
from __future__ import annotations

from playwright.sync_api import expect

from browser_kit import APPROVALS, bot_messages, click, say

REQUESTER = "U08JORDAN"  # someone with no conversation in the other tests


def test_over_limit_request_is_explained_and_never_reaches_the_channel(stack, open_page, shots):
    posts_before = len(stack.bot_posts(APPROVALS))
    page = open_page(stack.standin, REQUESTER)
    asked = say(page, "I want to order 3 whiteboards from Bureau en Gros at $3,500 each",
                "Which cost centre pays for it?")
    asked = click(page, asked, "100200 Digital Service", "Where will it be delivered?")
    told = click(page, asked, "Ontario", "over the")
    # 3 x $3,500 + 13 % HST = $11,865.00: $1,865.00 over the $10,000.00 limit; at most $8,849.56 before tax.
    for figure in ("$11,865.00", "$1,865.00 over", "$10,000.00", "$8,849.56"):
        expect(told).to_contain_text(figure)
    expect(bot_messages(page, "How much does one cost").last).to_be_visible()  # the price is asked again
    shots.take(page, "limit-explained")
    say(page, "cancel", "Cancelled")
    shots.take(page, "cancelled")

    page.get_by_test_id(f"nav-channel-{APPROVALS}").click()
    expect(page.get_by_test_id("composer")).to_have_attribute("placeholder", f"Message #{APPROVALS}")
    expect(page.get_by_test_id("message").filter(has_text="Bureau en Gros")).to_have_count(0)
    expect(page.get_by_test_id("message").filter(has_text="whiteboards")).to_have_count(0)
    shots.take(page, "approval-channel-without-it")
    assert len(stack.bot_posts(APPROVALS)) == posts_before
