"""How the page draws what the app sends (mrkdwn, Block Kit, modals, edits, ephemerals) and
that text from people or the app never runs as code. A stand-in with the policy's people and no
app, or an app that is not there; what "the app" posts goes through the Web API with its token."""
from __future__ import annotations

import socket

import pytest
from playwright.sync_api import expect
from slack_sdk import WebClient

from standin import StandIn
from standin.seed import workspace_from_policy

from browser_kit import APPROVALS, MANAGER, REQUESTER

HOSTILE = ("<img src=x onerror=\"window.__pwned='img'\"><script>window.__pwned='script'</script>"
           "<a href=\"javascript:window.__pwned='link'\">click</a>")


@pytest.fixture
def standin():
    with StandIn(workspace_from_policy()) as running:
        yield running


@pytest.fixture
def app(standin):
    """The app's Web API client: what it posts is what the page must draw."""
    return WebClient(token=standin.workspace.bot_token, base_url=standin.url, timeout=5)


def not_pwned(page):
    assert page.evaluate("window.__pwned") is None
    expect(page.locator("#messages script, #messages img, #messages iframe")).to_have_count(0)
    expect(page.locator("a[href^='javascript']")).to_have_count(0)


def test_hostile_text_stays_text_and_mrkdwn_renders(standin, app, open_page, shots):
    channel = standin.workspace.channel(APPROVALS).id
    page = open_page(standin, REQUESTER, channel)
    # A person types HTML (the app is not mentioned, so only the channel gets it).
    page.get_by_test_id("composer").fill(HOSTILE)
    page.get_by_test_id("composer").press("Enter")
    typed = page.get_by_test_id("message").filter(has_text="window.__pwned='script'")
    expect(typed).to_have_attribute("data-author", REQUESTER)
    expect(typed).to_contain_text(HOSTILE)  # shown exactly as typed
    # The app posts mrkdwn, with the same HTML both escaped (as Slack wants) and raw.
    app.chat_postMessage(channel=channel, text="fallback", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            "*bold* _italic_ ~struck~ `a <b>code</b>` <https://example.org/a?b=1&amp;c=2|a link> "
            "<javascript:window.__pwned='href'|bad link> <@U01AMINA> <#" + channel + "|" + APPROVALS + "> "
            "<!here> &amp; &lt;tag&gt; " + HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            + "\n&gt; a quoted line\n```pre *not bold*```")}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "raw: " + HOSTILE}},
    ])
    shown = page.get_by_test_id("message").filter(has_text="a quoted line")
    expect(shown).to_be_visible()
    expect(shown.locator("b").first).to_have_text("bold")
    expect(shown.locator("i")).to_have_text("italic")
    expect(shown.locator("s")).to_have_text("struck")
    expect(shown.locator("code")).to_have_text("a <b>code</b>")
    expect(shown.locator("a")).to_have_count(1)
    expect(shown.get_by_role("link", name="a link")).to_have_attribute("href", "https://example.org/a?b=1&c=2")
    expect(shown).to_contain_text("bad link")  # a javascript: link is left as its label
    expect(shown.locator(".mention")).to_have_text(["@Amina Haddad", f"#{APPROVALS}", "@here"])
    expect(shown).to_contain_text("& <tag> " + HOSTILE)
    expect(shown.locator("blockquote")).to_have_text("a quoted line")
    expect(shown.locator("pre")).to_have_text("pre *not bold*")
    expect(shown).to_contain_text("raw: ")
    not_pwned(page)
    shots.take(page, "hostile-text-inert-and-mrkdwn")

    # The app edits it: the page follows without a reload, marked "(edited)".
    ts = shown.get_attribute("data-ts")
    app.chat_update(channel=channel, ts=ts, text="now edited", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "now *edited* &lt;script&gt;x&lt;/script&gt;"}}])
    edited = page.locator(f'[data-testid=message][data-ts="{ts}"]')
    expect(edited).to_contain_text("now edited <script>x</script>")
    expect(edited).not_to_contain_text("a quoted line")
    expect(edited.locator(".edited")).to_have_text("(edited)")
    not_pwned(page)


def test_ephemerals_only_for_their_person(standin, app, open_page):
    channel = standin.workspace.channel(APPROVALS).id
    page = open_page(standin, MANAGER, channel)
    app.chat_postEphemeral(channel=channel, user=MANAGER, text="only *you* see this")
    app.chat_postMessage(channel=channel, text="everyone sees this")
    expect(page.get_by_test_id("message").filter(has_text="everyone sees this")).to_be_visible()
    mine = page.get_by_test_id("ephemeral")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Only visible to you")
    expect(mine).to_contain_text("only you see this")
    page.get_by_test_id("user-switcher").select_option(REQUESTER)
    expect(page.get_by_test_id("message").filter(has_text="everyone sees this")).to_be_visible()
    expect(page.get_by_test_id("ephemeral")).to_have_count(0)
    page.reload()  # the person is kept in the URL
    expect(page.get_by_test_id("user-switcher")).to_have_value(REQUESTER)


def test_block_kit_elements_render(standin, app, open_page, shots):
    page = open_page(standin, REQUESTER)
    dm = standin.workspace.dm(REQUESTER).id
    app.chat_postMessage(channel=dm, text="blocks", blocks=[
        {"type": "header", "text": {"type": "plain_text", "text": "A <header> & more"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Pick one"},
         "fields": [{"type": "mrkdwn", "text": "*Total*\n$56.50"},
                    {"type": "plain_text", "text": "Cost centre 100200"}],
         "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Details"}, "action_id": "details"}},
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "judged on _2026-11-25_"}]},
        {"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Approve"}, "style": "primary", "action_id": "a"},
            {"type": "button", "text": {"type": "plain_text", "text": "Reject"}, "style": "danger", "action_id": "r"},
            {"type": "static_select", "action_id": "s", "placeholder": {"type": "plain_text", "text": "Province"},
             "options": [{"text": {"type": "plain_text", "text": "Ontario"}, "value": "ON"},
                         {"text": {"type": "plain_text", "text": "Quebec"}, "value": "QC"}]},
            {"type": "checkboxes", "action_id": "c",
             "options": [{"text": {"type": "plain_text", "text": "Supplier"}, "value": "supplier"}]},
            {"type": "datepicker", "action_id": "d", "initial_date": "2026-12-15"},
        ]},
        {"type": "image", "image_url": "javascript:window.__pwned='image'", "alt_text": "not an image"},
    ])
    shown = page.get_by_test_id("message").filter(has_text="Pick one")
    expect(shown.get_by_role("heading")).to_have_text("A <header> & more")
    expect(shown.locator(".fields > *")).to_have_count(2)
    expect(shown.locator(".fields b")).to_have_text("Total")
    expect(shown.get_by_role("button", name="Details")).to_be_visible()
    expect(shown.locator("hr")).to_have_count(1)
    expect(shown.locator(".block-context i")).to_have_text("2026-11-25")
    expect(shown.get_by_role("button", name="Approve")).to_have_class("btn primary")
    expect(shown.get_by_role("button", name="Reject")).to_have_class("btn danger")
    expect(shown.get_by_role("combobox")).to_have_value("")
    expect(shown.get_by_role("combobox").locator("option")).to_have_text(["Province", "Ontario", "Quebec"])
    expect(shown.get_by_role("checkbox", name="Supplier")).not_to_be_checked()
    expect(shown.locator("input[type=date]")).to_have_value("2026-12-15")
    expect(shown).to_contain_text("[image: not an image]")
    not_pwned(page)
    shots.take(page, "block-kit")


def test_modal_inputs_labels_and_required_fields(standin, open_page, shots):
    ws = standin.workspace
    text = lambda t: {"type": "plain_text", "text": t}  # noqa: E731
    options = [{"text": text("Supplier"), "value": "supplier"}, {"text": text("Price"), "value": "unit_price"}]
    # As if the app had opened it with views.open after a click (no app runs here).
    view = ws.new_view("modal", MANAGER, {
        "type": "modal", "callback_id": "demo", "title": text("Request changes"), "submit": text("Send"),
        "close": text("Cancel"), "blocks": [
            {"type": "input", "block_id": "reason", "label": text("What should change?"),
             "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True}},
            {"type": "input", "block_id": "amount", "label": text("Amount paid"), "hint": text("e.g. 56.50"),
             "element": {"type": "plain_text_input", "action_id": "amount"}},
            {"type": "input", "block_id": "fields", "optional": True, "label": text("Answers to give again"),
             "element": {"type": "checkboxes", "action_id": "fields", "options": options}},
            {"type": "input", "block_id": "province", "label": text("Province"),
             "element": {"type": "static_select", "action_id": "province", "options": [
                 {"text": text("Ontario"), "value": "ON"}]}},
            {"type": "input", "block_id": "paid_on", "label": text("Paid on"),
             "element": {"type": "datepicker", "action_id": "paid_on", "initial_date": "2026-11-25"}},
            {"type": "input", "block_id": "how", "optional": True, "label": text("How"),
             "element": {"type": "radio_buttons", "action_id": "how", "options": [
                 {"text": text("Card"), "value": "card"}, {"text": text("Cheque"), "value": "cheque"}]}},
        ]})
    with ws.lock:
        ws.modal_stacks[MANAGER] = [view.id]
        ws.changed()
    page = open_page(standin, MANAGER)
    modal = page.get_by_test_id("modal")
    expect(modal.get_by_role("heading")).to_have_text("Request changes")
    expect(modal.get_by_label("What should change?")).to_be_visible()
    expect(modal.get_by_label("Amount paid")).to_have_value("")
    expect(modal.get_by_label("Province")).to_have_value("")
    expect(modal.get_by_label("Paid on")).to_have_value("2026-11-25")
    expect(modal.get_by_role("group", name="Answers to give again (optional)").get_by_role("checkbox")).to_have_count(2)
    expect(modal.get_by_role("radiogroup", name="How (optional)").get_by_role("radio")).to_have_count(2)
    expect(page.get_by_test_id("modal-submit")).to_have_text("Send")
    expect(page.get_by_test_id("modal-close")).to_have_text("Cancel")

    page.get_by_test_id("modal-submit").click()  # nothing filled: the required inputs say so
    expect(modal.locator(".input-error")).to_have_count(3)  # reason, amount, province; not the optional ones
    expect(modal.locator("[data-block-id=reason] .input-error")).to_have_text("Please complete this required field.")
    shots.take(page, "modal-required-fields")

    modal.get_by_label("What should change?").fill("a cheaper supplier")
    modal.get_by_label("Amount paid").fill("56.50")
    modal.get_by_label("Province").select_option("ON")
    modal.get_by_role("checkbox", name="Price").check()
    page.get_by_test_id("modal-submit").click()  # complete, but no app to send it to
    expect(page.get_by_test_id("error-banner")).to_contain_text("not connected to an app")
    expect(modal.locator(".input-error")).to_have_count(0)
    page.get_by_test_id("modal-close").click()
    expect(modal).to_have_count(0)
    assert ws.open_modals(MANAGER) == []


def test_an_app_that_does_not_answer_is_named_in_a_banner(standin, open_page, shots):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/slack/events"
    standin.connect(dead, "test-signing-secret")
    page = open_page(standin, REQUESTER)
    page.get_by_test_id("composer").fill("I need pens")
    page.get_by_test_id("composer").press("Enter")
    banner = page.get_by_test_id("error-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(f"microbuy did not answer at {dead}: connection refused")
    expect(page.get_by_test_id("message").filter(has_text="I need pens")).to_be_visible()  # sent, unanswered
    assert "test-signing-secret" not in banner.inner_text()
    shots.take(page, "app-unreachable-banner")


def test_home_tab_shows_the_published_view_and_its_buttons(standin, app, open_page):
    app.views_publish(user_id=REQUESTER, view={"type": "home", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Your purchase requests"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*MB-000007* whiteboard · _approved_"},
         "accessory": {"type": "button", "action_id": "open", "text": {"type": "plain_text", "text": "Open"}}}]})
    page = open_page(standin, REQUESTER)
    page.get_by_test_id("nav-home").click()
    home = page.locator("#home")
    expect(home.get_by_role("heading")).to_have_text("Your purchase requests")
    expect(home.locator("b")).to_have_text("MB-000007")
    expect(home.get_by_role("button", name="Open")).to_be_visible()
    expect(page.get_by_test_id("composer")).to_be_hidden()  # no composer on Home
    expect(page).to_have_url(f"{standin.origin}/?user={REQUESTER}&view=home")
    page.reload()
    expect(home.get_by_role("heading")).to_have_text("Your purchase requests")
    page.get_by_role("tab", name="Messages").click()
    expect(page.get_by_test_id("composer")).to_be_visible()
