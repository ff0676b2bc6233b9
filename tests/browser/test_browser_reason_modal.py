"""A modal in a browser: Reject asks the approver for a reason; an empty one is refused by the
page (as Slack's client does), a blank one by the bot, inline under the input; a real reason
closes the modal and the post shows the decision, the reason kept as text."""
from __future__ import annotations

from playwright.sync_api import expect

from browser_kit import APPROVALS, MANAGER, post_a_stored_request


def test_reject_asks_for_a_reason_in_a_modal_with_inline_errors(stack, open_page, shots):
    posted = post_a_stored_request(stack, "Grand & Toy", requester="U05ELENA")
    page = open_page(stack.standin, MANAGER, stack.channel_id(APPROVALS))
    post = page.locator(f'[data-testid=message][data-ts="{posted.ts}"]')
    expect(post).to_contain_text("Grand & Toy")  # the bot's &amp; shown as &
    post.get_by_role("button", name="Reject").click()

    modal = page.get_by_test_id("modal")
    expect(modal).to_be_visible()
    expect(modal.get_by_role("heading")).to_have_text("Reject")
    reason = modal.get_by_label("Why is it rejected?")
    expect(reason).to_be_focused()
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_contain_text("Please complete this required field.")
    shots.take(page, "empty-reason-refused")

    reason.fill("   ")
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_contain_text("Please give a reason")  # the bot's response_action: errors
    expect(modal).not_to_contain_text("Please complete this required field.")
    shots.take(page, "blank-reason-refused-by-the-bot")

    reason.fill("Use the <!channel> standing offer & the <b>catalogue</b>")
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_have_count(0)
    expect(post).to_contain_text("Rejected by @Amina Haddad")
    expect(post).to_contain_text("Use the <!channel> standing offer & the <b>catalogue</b>")
    expect(post.get_by_role("button")).to_have_count(0)
    expect(post.locator("b", has_text="catalogue")).to_have_count(0)
    shots.take(page, "rejected-with-the-reason")
