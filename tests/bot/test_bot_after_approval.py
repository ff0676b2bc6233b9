"""After approval, through the Slack protocol: the purchase report (modal), the receipt report,
the section 34 certification by the approver, and the refusals along the way (bot/delivery.py).
The real stack of conftest.py: stand-in Slack, Rasa, the bot over HTTP, one SQLite database."""
from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

import storage
from bot.approvals import Approvals
from policies import load_policy

from slack_kit import APPROVALS, DIRECTOR, MANAGER, REQUESTER, buttons_of, store_request, submit_a_purchase, text_of

# The bot's "today" is the real date in the pack's time zone; a purchase two days ago is always valid.
BOUGHT_ON = (datetime.now(ZoneInfo("America/Toronto")).date() - timedelta(days=2)).isoformat()


# -- helpers (small copies of test_bot_flows.py's, plus the after-approval steps) -------------------

def sessions_of(slack):
    return storage.make_session_factory(storage.make_engine(slack.database_url))


def approved_request(slack, supplier: str):
    """A request stored as the dialogue stores it, posted, and approved by its manager in Slack;
    returns its id and the requester's "approved" DM."""
    policy = load_policy()
    sessions = sessions_of(slack)
    request_id = store_request(sessions, policy, supplier=supplier, needed_by="2026-12-20")
    before = len(slack.bot_messages(APPROVALS))
    Approvals(sessions, lambda: policy).post_for_approval(slack.app.client, request_id)
    post = slack.bot_messages(APPROVALS)[before:][-1]
    approve = next(b for b in buttons_of(post) if b["action_id"] == "approve")
    assert slack.deliver.block_action(MANAGER, post, "approve", approve["value"]).status == 200
    return request_id, with_button(slack, REQUESTER, "report_purchase", request_id)


def with_button(slack, user: str, action_id: str, request_id: int):
    """The bot's message in `user`'s DM with the `action_id` button for this request."""
    dm = slack.workspace.dm(user).id

    def find():
        for message in slack.bot_messages(dm):
            for button in buttons_of(message):
                if button["action_id"] == action_id and json.loads(button["value"])["r"] == request_id:
                    return message
        return None

    return slack.workspace.wait_for(find, timeout=10)


def click(slack, user: str, message, action_id: str, value=None):
    if value is None:
        value = next(b for b in buttons_of(message) if b["action_id"] == action_id)["value"]
    delivery = slack.deliver.block_action(user, message, action_id, value)
    assert delivery.status == 200
    return value


def open_purchase_form(slack, request_id: int, approved_dm):
    opened = len(slack.workspace.calls("views.open"))
    click(slack, REQUESTER, approved_dm, "report_purchase")
    slack.workspace.wait_for(lambda: len(slack.workspace.calls("views.open")) > opened, timeout=10)
    modal = slack.workspace.open_modals(REQUESTER)[-1]
    assert modal.definition["callback_id"] == "purchase_report"
    return modal


def submit_purchase(slack, modal, amount: str, day: str = BOUGHT_ON):
    delivery = slack.deliver.view_submission(REQUESTER, modal, {"amount": {"amount": amount}, "date": {"date": day}})
    assert delivery.status == 200
    return delivery.json()


def stored(slack, request_id: int):
    with sessions_of(slack)() as session:
        return storage.get_request(session, request_id)


def audit_actions(slack, request_id: int):
    with sessions_of(slack)() as session:
        rows = session.execute(select(storage.AuditEntry).where(storage.AuditEntry.request_id == request_id)
                               .order_by(storage.AuditEntry.id)).scalars()
        return [row.action for row in rows]


def purchased_and_received(slack, supplier: str, amount: str = "$24.99"):
    """Approve, report the purchase and the receipt; returns the id and the manager's certify message."""
    request_id, approved_dm = approved_request(slack, supplier)
    assert submit_purchase(slack, open_purchase_form(slack, request_id, approved_dm), amount) is None  # closed
    received_dm = with_button(slack, REQUESTER, "report_receipt", request_id)
    click(slack, REQUESTER, received_dm, "report_receipt")
    return request_id, approved_dm, received_dm, with_button(slack, MANAGER, "certify_receipt", request_id)


# -- the tests ----------------------------------------------------------------------------------------

def test_approve_purchase_receive_certify_closes_the_request(slack):
    request_id, approved_dm = approved_request(slack, "Best Buy")
    assert "was approved" in text_of([approved_dm])

    modal = open_purchase_form(slack, request_id, approved_dm)
    date_input = next(b for b in modal.definition["blocks"] if b.get("block_id") == "date")["element"]
    assert date_input["type"] == "datepicker" and date_input["initial_date"]  # defaults to today
    assert submit_purchase(slack, modal, "$24.99") is None  # accepted: the modal closes
    assert not slack.workspace.open_modals(REQUESTER)

    received_dm = with_button(slack, REQUESTER, "report_receipt", request_id)
    assert "$24.99" in text_of([received_dm]) and BOUGHT_ON in text_of([received_dm])
    # The approval DM lost its button and shows the purchase.
    approved_now = slack.workspace.message(approved_dm.channel, approved_dm.ts)
    assert not buttons_of(approved_now) and "Purchase reported" in text_of([approved_now])
    after_purchase = stored(slack, request_id)
    assert after_purchase.status == "purchased" and after_purchase.amount_paid == Decimal("24.99")
    assert after_purchase.purchased_at.date().isoformat() == BOUGHT_ON

    click(slack, REQUESTER, received_dm, "report_receipt")
    certify_dm = with_button(slack, MANAGER, "certify_receipt", request_id)  # to the approver who approved
    assert "Certify receipt (section 34)" in json.dumps(certify_dm.blocks)
    assert f"<@{REQUESTER}>" in text_of([certify_dm]) and "$24.99" in text_of([certify_dm])
    assert stored(slack, request_id).status == "received"

    requester_dm = slack.workspace.dm(REQUESTER).id
    before = len(slack.bot_messages(requester_dm))
    certify_value = click(slack, MANAGER, certify_dm, "certify_receipt")
    certified = slack.workspace.wait_for(
        lambda: [m for m in slack.bot_messages(certify_dm.channel) if m.ts == certify_dm.ts and not buttons_of(m)],
        timeout=10)[0]
    assert f"Certified by <@{MANAGER}> on" in text_of([certified])
    assert "is closed" in text_of(slack.settle(requester_dm, before))

    final = stored(slack, request_id)
    assert final.status == "certified" and final.certified_by == MANAGER and final.certified_at is not None
    actions = audit_actions(slack, request_id)
    for step in ("decision.approved", "request.purchased", "request.received", "request.certified"):
        assert actions.count(step) == 1, actions
    assert actions.index("request.purchased") < actions.index("request.received") < actions.index("request.certified")

    # A second click on the certify button (replayed: it is gone) does nothing at all.
    counts = len(slack.bot_messages(requester_dm)), len(slack.workspace.ephemerals_for(MANAGER)), len(actions)
    click(slack, MANAGER, certify_dm, "certify_receipt", value=certify_value)
    time.sleep(1.0)
    assert (len(slack.bot_messages(requester_dm)), len(slack.workspace.ephemerals_for(MANAGER)),
            len(audit_actions(slack, request_id))) == counts


def test_the_requester_cannot_certify_their_own_receipt(slack):
    request_id, _, _, certify_dm = purchased_and_received(slack, "Canadian Tire")
    requester_dm = slack.workspace.dm(REQUESTER).id
    before = len(slack.bot_messages(requester_dm))
    click(slack, REQUESTER, certify_dm, "certify_receipt")
    told = slack.settle(requester_dm, before)
    assert "Not done" in text_of(told) and "cannot certify" in text_of(told)
    assert stored(slack, request_id).status == "received"
    assert audit_actions(slack, request_id).count("certification.refused") == 1
    # The certify button still works for the approver: the refused click did not use it up.
    assert buttons_of(slack.workspace.message(certify_dm.channel, certify_dm.ts))
    click(slack, MANAGER, certify_dm, "certify_receipt")
    slack.workspace.wait_for(lambda: stored(slack, request_id).status == "certified", timeout=10)


def test_a_bad_amount_keeps_the_modal_open_with_an_error(slack):
    request_id, approved_dm = approved_request(slack, "Staples")
    modal = open_purchase_form(slack, request_id, approved_dm)
    for bad in ["abc", "-5", "NaN"]:
        answer = submit_purchase(slack, modal, bad)
        assert answer["response_action"] == "errors" and answer["errors"].get("amount"), (bad, answer)
        assert slack.workspace.open_modals(REQUESTER), bad
    tomorrow = (date.fromisoformat(BOUGHT_ON) + timedelta(days=4)).isoformat()
    answer = submit_purchase(slack, modal, "20", day=tomorrow)
    assert answer["response_action"] == "errors" and "after today" in answer["errors"]["date"]
    assert stored(slack, request_id).status == "approved"
    assert "request.purchased" not in audit_actions(slack, request_id)


def test_paying_more_than_approved_is_refused_and_explained(slack):
    request_id, approved_dm = approved_request(slack, "Grand & Toy")
    approved_max = stored(slack, request_id).approved_max_amount
    modal = open_purchase_form(slack, request_id, approved_dm)
    requester_dm = slack.workspace.dm(REQUESTER).id
    before = len(slack.bot_messages(requester_dm))
    answer = submit_purchase(slack, modal, str(approved_max + Decimal("10")))
    assert answer["response_action"] == "errors" and "approved first" in answer["errors"]["amount"]
    assert slack.workspace.open_modals(REQUESTER)
    explained = text_of(slack.settle(requester_dm, before))
    assert "Not recorded" in explained and "must be approved" in explained and "back for approval" in explained
    unchanged = stored(slack, request_id)
    assert unchanged.status == "approved" and unchanged.amount_paid is None \
        and unchanged.approved_max_amount == approved_max
    actions = audit_actions(slack, request_id)
    assert actions.count("purchase.refused") == 1 and "request.purchased" not in actions
    assert buttons_of(slack.workspace.message(approved_dm.channel, approved_dm.ts))  # still to do
    # The same form, corrected to the approved maximum, goes through.
    assert submit_purchase(slack, modal, str(approved_max)) is None
    slack.workspace.wait_for(lambda: stored(slack, request_id).status == "purchased", timeout=10)


def test_only_the_requester_reports_the_purchase_and_receipt(slack):
    request_id, approved_dm = approved_request(slack, "Indigo")
    director_dm = slack.workspace.dm(DIRECTOR).id
    before = len(slack.bot_messages(director_dm))
    click(slack, DIRECTOR, approved_dm, "report_purchase")
    # Told in their own language: the director reads French.
    assert "Rien n'a été fait : seule la personne qui a demandé" in text_of(slack.settle(director_dm, before))
    assert not slack.workspace.open_modals(DIRECTOR)
    assert submit_purchase(slack, open_purchase_form(slack, request_id, approved_dm), "26") is None
    received_dm = with_button(slack, REQUESTER, "report_receipt", request_id)
    before = len(slack.bot_messages(director_dm))
    click(slack, DIRECTOR, received_dm, "report_receipt")
    assert "peut en déclarer la réception" in text_of(slack.settle(director_dm, before))
    assert stored(slack, request_id).status == "purchased"
    actions = audit_actions(slack, request_id)
    assert actions.count("purchase.refused") == 1 and actions.count("receipt.refused") == 1


def test_from_the_first_message_to_section_34(slack):
    """The whole life of a purchase through Slack, the dialogue running for real."""
    _, post = submit_a_purchase(slack, "Home Depot")
    request_id = json.loads(next(b["value"] for b in buttons_of(post) if b["action_id"] == "approve"))["r"]
    click(slack, MANAGER, post, "approve")
    approved_dm = with_button(slack, REQUESTER, "report_purchase", request_id)
    assert submit_purchase(slack, open_purchase_form(slack, request_id, approved_dm), "$56.50") is None
    click(slack, REQUESTER, with_button(slack, REQUESTER, "report_receipt", request_id), "report_receipt")
    click(slack, MANAGER, with_button(slack, MANAGER, "certify_receipt", request_id), "certify_receipt")
    slack.workspace.wait_for(lambda: stored(slack, request_id).status == "certified", timeout=10)
    actions = audit_actions(slack, request_id)
    assert [a for a in actions if a.startswith(("request.", "decision."))] == [
        "request.created", "request.submitted", "decision.approved", "request.purchased", "request.received",
        "request.certified"], actions


def test_a_higher_price_after_approval_goes_back_for_approval(slack):
    request_id, approved_dm = approved_request(slack, "Lee Valley")
    posts_before = len(slack.bot_messages(APPROVALS))
    dm = slack.workspace.dm(REQUESTER).id
    before = len(slack.bot_messages(dm))
    click(slack, REQUESTER, approved_dm, "change_approved")
    opened = text_of(slack.settle(dm, before))
    assert "Let's change MB-" in opened and "Here is your request" in opened
    asked = text_of(slack.say(REQUESTER, '/change_answer{"slot_name": "unit_price"}'))
    assert "How much does one cost" in asked
    summary = text_of(slack.say(REQUESTER, "30"))
    assert "$31.50" in summary  # 30.00 + 5% GST, above the $26.25 approved
    done = text_of(slack.say(REQUESTER, "yes"))
    assert "back for approval" in done
    repost = slack.workspace.wait_for(lambda: slack.bot_messages(APPROVALS)[posts_before:], timeout=20)[-1]
    assert "what changed" in text_of([repost]) and "25.00 → 30.00" in text_of([repost])
    after = stored(slack, request_id)
    assert (after.status, after.revision, after.total) == ("submitted", 2, Decimal("31.50"))
    # The old "I bought it" button was for the approved revision 1: refused now.
    click(slack, REQUESTER, approved_dm, "report_purchase",
          value=json.dumps({"r": request_id, "v": 1}, separators=(",", ":")))
    assert stored(slack, request_id).status == "submitted"
