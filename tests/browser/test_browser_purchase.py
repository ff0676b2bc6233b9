"""A purchase from the first DM to the decision, clicked through in a browser: the requester
answers the bot in the DM, the manager approves in the approval channel, the requester sees the
outcome, and the director's late click on the old button is refused, only he sees why."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

from playwright.sync_api import expect

from browser_kit import APPROVALS, DIRECTOR, MANAGER, REQUESTER, HeldUpdates, bot_messages, by_ts, click, say, switch_to


def test_purchase_approved_in_the_channel_and_a_late_click_refused(stack, open_page, shots):
    channel = stack.channel_id(APPROVALS)
    page = open_page(stack.standin, REQUESTER)
    expect(page.get_by_test_id("nav-dm")).to_be_visible()
    expect(page.get_by_test_id("composer")).to_be_visible()
    shots.take(page, "requester-opens-the-dm")

    asked = say(page, "I need to buy a box of pens from Staples for about $25", "Which cost centre pays for it?")
    shots.take(page, "asked-the-cost-centre")
    question = by_ts(page, asked)
    asked = click(page, asked, "100200 Digital Service", "How many do you need?")
    # The answered question loses its buttons and says what was chosen, in place.
    expect(question.get_by_role("button")).to_have_count(0)
    expect(question).to_contain_text("You chose: 100200 Digital Service")
    asked = say(page, "2", "Where will it be delivered?")
    asked = click(page, asked, "Ontario", "By what date do you need it?")
    asked = say(page, "2026-12-15", "Why is it needed?")
    asked = say(page, "for the team's sprint planning", "former public servant")
    asked = click(page, asked, "No", "Indigenous Business Directory")
    summary = click(page, asked, "Not sure", "Here is your request")
    expect(summary).to_contain_text("$56.50")  # 2 x $25 + 13 % HST
    expect(summary.get_by_role("button", name="Submit")).to_have_class("btn primary")
    shots.take(page, "summary-with-submit")
    submitted = click(page, summary, "Submit", "Submitted MB-")
    reference = re.search(r"MB-\d+", submitted.inner_text()).group(0)
    shots.take(page, "submitted")

    # Marc, the cost centre's director, has the channel open in his own browser, and his screen
    # stops catching up (its live updates are held back): it keeps showing the buttons.
    held = HeldUpdates()
    director = open_page(stack.standin, DIRECTOR, channel, held=held)
    stale_post = bot_messages(director, "Staples").last
    expect(stale_post.get_by_role("button", name="Approve")).to_be_visible()

    switch_to(page, MANAGER)
    page.get_by_test_id(f"nav-channel-{APPROVALS}").click()
    post = by_ts(page, bot_messages(page, "Staples").last)
    post_ts = post.get_attribute("data-ts")
    expect(post).to_contain_text("$56.50")
    expect(post).to_contain_text("@Amina Haddad")  # the routed approver, mentioned
    expect(post.get_by_role("button", name="Approve")).to_be_visible()
    shots.take(page, "manager-sees-the-post")
    post.get_by_role("button", name="Approve").click()
    expect(post).to_contain_text("Approved by @Amina Haddad")  # the post is edited live
    expect(post.get_by_role("button", name="Approve")).to_have_count(0)
    expect(post.locator(".edited")).to_have_text("(edited)")
    shots.take(page, "manager-approved")

    switch_to(page, REQUESTER)
    page.get_by_test_id("nav-dm").click()
    expect(bot_messages(page, "was approved").last).to_be_visible()
    shots.take(page, "requester-told-approved")
    page.get_by_test_id("nav-home").click()  # App Home lists the request (app_home_opened, views.publish)
    expect(page.locator("#home")).to_contain_text(reference)
    expect(page.locator("#home")).to_contain_text("box of pens")
    shots.take(page, "requester-home-tab")

    # The director clicks the button his screen still shows: Slack sends the click from that old
    # message, and the bot refuses it with a message only he sees.
    shots.take(director, "director-screen-not-caught-up")
    stale_post.get_by_role("button", name="Approve").click()
    held.release()
    refusal = director.get_by_test_id("ephemeral").filter(has_text="n'a pas été enregistré")  # his language
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("Only visible to you")  # the stand-in's own English
    expect(bot_messages(director, "Staples").last).to_contain_text("Approved by @Amina Haddad")
    shots.take(director, "director-late-click-refused")

    # What reached the bot was the click as Slack builds it, from the post as it was before.
    late = [d for d in stack.standin.app.deliver.deliveries
            if d.kind == "interaction" and d.payload["user"]["id"] == DIRECTOR][-1]
    assert late.payload["type"] == "block_actions" and late.payload["actions"][0]["action_id"] == "approve"
    assert late.payload["container"]["message_ts"] == post_ts
    assert json.loads(late.payload["actions"][0]["value"])["r"] > 0  # the old button's value
    assert parse_qs(late.body)["payload"]  # a signed form post, as Slack sends interactions

    # Nobody else sees the refusal.
    page.get_by_test_id(f"nav-channel-{APPROVALS}").click()
    expect(bot_messages(page, "Approved by @Amina Haddad")).to_have_count(1)
    expect(page.get_by_test_id("ephemeral")).to_have_count(0)
