"""Whole flows through the Slack protocol: signed events and clicks from the stand-in, the bot
served over HTTP, Rasa and the action server running for real."""
from __future__ import annotations

import json
import threading
import time

from sqlalchemy import func, select

import storage
from bot.approvals import Approvals, button_value
from policies import load_policy

from slack_kit import APPROVALS, DIRECTOR, MANAGER, REQUESTER, buttons_of, store_request, submit_a_purchase, text_of


def stored_request(slack, supplier: str):
    """A request stored directly (as the dialogue would), then posted by the bot for approval."""
    policy = load_policy()
    sessions = storage.make_session_factory(storage.make_engine(slack.database_url))
    request_id = store_request(sessions, policy, supplier=supplier, needed_by="2026-12-20")
    before = len(slack.bot_messages(APPROVALS))
    # Posted with the bot's own client, as after a submission in the DM.
    Approvals(sessions, lambda: policy).post_for_approval(slack.app.client, request_id)
    post = slack.bot_messages(APPROVALS)[before:][-1]
    return request_id, post


def decisions_for(slack, request_id: int) -> int:
    sessions = storage.make_session_factory(storage.make_engine(slack.database_url))
    with sessions() as session:
        return session.execute(select(func.count()).select_from(storage.Decision)
                               .where(storage.Decision.request_id == request_id)).scalar_one()


def audit_actions(slack, request_id):
    sessions = storage.make_session_factory(storage.make_engine(slack.database_url))
    with sessions() as session:
        rows = session.execute(select(storage.AuditEntry).where(storage.AuditEntry.request_id == request_id)).scalars()
        return [row.action for row in rows]


def click_for_modal(slack, user, post, action_id):
    """Click a button that opens a modal; the modal it opened, not one an earlier test of the same
    running product left open on this person's screen."""
    before = {view.id for view in slack.workspace.open_modals(user)}
    click(slack, user, post, action_id)
    return slack.workspace.wait_for(
        lambda: [view for view in slack.workspace.open_modals(user) if view.id not in before], timeout=10)[-1]


def click(slack, user, post, action_id, value=None):
    """Click a button of the post; `value` replays a button the post no longer shows."""
    if value is None:
        value = next(b for b in buttons_of(post) if b["action_id"] == action_id)["value"]
    delivery = slack.deliver.block_action(user, post, action_id, value)
    assert delivery.status == 200
    return value


def test_purchase_from_first_message_to_approval(slack):
    done, post = submit_a_purchase(slack, "Staples")
    assert "Submitted MB-" in text_of(done)
    posted = text_of([post])
    assert "$56.50" in posted and f"<@{MANAGER}>" in posted  # the routed approver is mentioned
    assert {b["action_id"] for b in buttons_of(post)} == {"approve", "reject", "request_changes"}
    approve_value = next(b["value"] for b in buttons_of(post) if b["action_id"] == "approve")
    request_id = json.loads(approve_value)["r"]

    # The requester may not approve their own purchase.
    click(slack, REQUESTER, post, "approve")
    refusal = slack.workspace.wait_for(lambda: slack.workspace.ephemerals_for(REQUESTER, APPROVALS), timeout=10)
    assert "not recorded" in refusal[-1].text and "cannot decide" in refusal[-1].text

    dm = slack.workspace.dm(REQUESTER).id
    before = len(slack.bot_messages(dm))
    click(slack, MANAGER, post, "approve")
    updated = slack.workspace.wait_for(
        lambda: [m for m in slack.bot_messages(APPROVALS) if m.ts == post.ts and not buttons_of(m)], timeout=10)[0]
    assert f"Approved by <@{MANAGER}>" in text_of([updated])
    told = slack.settle(dm, before)
    assert "was approved" in text_of(told)

    # A late click by someone else is refused, only they see why (in their language: the director
    # reads French), and nothing changes.
    click(slack, DIRECTOR, post, "approve", value=approve_value)
    late = slack.workspace.wait_for(lambda: slack.workspace.ephemerals_for(DIRECTOR, APPROVALS), timeout=10)
    assert "Votre clic n'a pas été enregistré" in late[-1].text and "déjà fait l'objet d'une décision" in late[-1].text
    assert decisions_for(slack, request_id) == 1
    actions = audit_actions(slack, request_id)
    assert actions.count("decision.approved") == 1 and actions.count("decision.refused") == 2


def test_reject_asks_for_a_reason_in_a_modal(slack):
    request_id, post = stored_request(slack, "Grand & Toy")
    modal = click_for_modal(slack, MANAGER, post, "reject")
    empty = slack.deliver.view_submission(MANAGER, modal, {"reason": {"reason": "  "}})
    assert "errors" in empty.json()  # a reason is required
    dm = slack.workspace.dm(REQUESTER).id
    before = len(slack.bot_messages(dm))
    slack.deliver.view_submission(MANAGER, modal, {"reason": {"reason": "Use the <!channel> standing offer"}})
    updated = slack.workspace.wait_for(
        lambda: [m for m in slack.bot_messages(APPROVALS) if m.ts == post.ts and not buttons_of(m)], timeout=10)[0]
    shown = text_of([updated])
    assert "Rejected by" in shown and "&lt;!channel&gt;" in shown and "<!channel>" not in shown
    assert "was rejected" in text_of(slack.settle(dm, before))
    assert decisions_for(slack, request_id) == 1


def test_reject_whose_trigger_expired_tells_the_approver_and_records_nothing(slack):
    request_id, post = stored_request(slack, "Canadian Tire")
    lifetime = slack.workspace.trigger_lifetime
    slack.workspace.trigger_lifetime = -1.0  # expired before the bot can use it, as after a slow click
    open_before = [view.id for view in slack.workspace.open_modals(MANAGER)]
    try:
        before = len(slack.workspace.ephemerals_for(MANAGER, APPROVALS))
        click(slack, MANAGER, post, "reject")
        told = slack.workspace.wait_for(
            lambda: slack.workspace.ephemerals_for(MANAGER, APPROVALS)[before:], timeout=10)
    finally:
        slack.workspace.trigger_lifetime = lifetime
    assert "did not open in time" in told[-1].text and "nothing was recorded" in told[-1].text
    assert [view.id for view in slack.workspace.open_modals(MANAGER)] == open_before  # no modal opened
    assert decisions_for(slack, request_id) == 0
    # The next click opens the form as usual.
    assert click_for_modal(slack, MANAGER, post, "reject").definition["callback_id"]


def test_twenty_simultaneous_approve_clicks_make_one_decision(slack):
    request_id, post = stored_request(slack, "Costco")
    button = next(b for b in buttons_of(post) if b["action_id"] == "approve")
    statuses = []

    def press():
        statuses.append(slack.deliver.block_action(MANAGER, post, "approve", button["value"]).status)

    threads = [threading.Thread(target=press) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 20
    slack.workspace.wait_for(lambda: len(slack.workspace.ephemerals_for(MANAGER, APPROVALS)) >= 19, timeout=20)
    assert decisions_for(slack, request_id) == 1


def test_forged_and_stale_buttons_are_refused_and_audited(slack):
    request_id, post = stored_request(slack, "Indigo")
    # A button for another revision (the request changed since), and one that is not ours at all.
    for value in [button_value(request_id, 7, 0), "{\"r\": \"drop table\"}", "not json"]:
        before = len(slack.workspace.ephemerals_for(MANAGER, APPROVALS))
        slack.deliver.block_action(MANAGER, post, "approve", value)
        slack.workspace.wait_for(lambda: len(slack.workspace.ephemerals_for(MANAGER, APPROVALS)) > before,  # noqa: B023 - waited for now
                                 timeout=10)
    assert decisions_for(slack, request_id) == 0
    assert audit_actions(slack, request_id).count("decision.refused") == 1  # the two forged ones name no request


def test_injection_in_answers_is_inert_in_the_approval_post(slack):
    _, post = stored_request(slack, "<!channel> <@U123> <https://evil.example|canada.ca>")
    shown = json.dumps(post.blocks)
    assert "<!channel>" not in shown and "<@U123>" not in shown and "<https://evil.example" not in shown
    assert "&lt;!channel&gt;" in shown


def test_signature_checks_and_retries(slack):
    dm = slack.workspace.dm(REQUESTER).id
    assert slack.deliver.message(REQUESTER, dm, "hello", bad_signature=True).status == 401
    assert slack.deliver.message(REQUESTER, dm, "hello", age=600).status == 401
    before = len(slack.bot_messages(dm))
    first = slack.deliver.message(REQUESTER, dm, "what's the status of my requests?")
    replies = slack.settle(dm, before)
    again = slack.deliver.retry(first, num=1)
    assert again.status == 200
    time.sleep(1.5)
    assert len(slack.bot_messages(dm)) == before + len(replies)  # the retry caused nothing
    assert "Your requests" in text_of(replies)


def test_slash_command_and_mention_start_the_conversation_in_a_dm(slack):
    user = "U05ELENA"
    dm = slack.workspace.dm(user).id
    before = len(slack.bot_messages(dm))
    answer = slack.deliver.slash_command(user, "/buy", "", channel=APPROVALS)
    assert answer.status == 200
    assert "What do you need to buy" in text_of(slack.settle(dm, before))
    slack.say(user, "cancel")
    before = len(slack.bot_messages(dm))
    slack.deliver.mention(user, APPROVALS, "<@U0BOT> can I buy a webcam on my card?")
    assert "N70" in text_of(slack.settle(dm, before))


def test_request_changes_asks_only_the_named_answers_and_reposts_what_changed(slack):
    _, post = submit_a_purchase(slack, "Best Buy")
    request_id = json.loads(next(b["value"] for b in buttons_of(post) if b["action_id"] == "approve"))["r"]
    modal = click_for_modal(slack, MANAGER, post, "request_changes")
    dm = slack.workspace.dm(REQUESTER).id
    before = len(slack.bot_messages(dm))
    posts_before = len(slack.bot_messages(APPROVALS))
    slack.deliver.view_submission(MANAGER, modal, {"reason": {"reason": "Chapters has it cheaper"},
                                                   "fields": {"fields": ["supplier"]}})
    asked = text_of(slack.settle(dm, before))
    assert "asked for changes" in asked and "Chapters has it cheaper" in asked
    assert "Who will you buy it from" in asked  # only the supplier is asked again
    replies = slack.say(REQUESTER, "Chapters")
    summary = text_of(replies)
    assert "Here is your request" in summary and "Chapters" in summary and "$56.50" in summary
    done = slack.say(REQUESTER, "yes")
    assert "Sent MB-" in text_of(done) and "back for approval" in text_of(done)
    repost = slack.workspace.wait_for(lambda: slack.bot_messages(APPROVALS)[posts_before:], timeout=20)[-1]
    shown = text_of([repost])
    assert "what changed" in shown and "Best Buy → Chapters" in shown
    value = json.loads(next(b["value"] for b in buttons_of(repost) if b["action_id"] == "approve"))
    assert value == {"r": request_id, "v": 2, "s": 0}  # the new revision, from the first step
    # The old post's buttons were for revision 1: a click there is refused.
    click(slack, MANAGER, post, "approve", value=button_value(request_id, 1, 0))
    click(slack, MANAGER, repost, "approve")
    slack.workspace.wait_for(
        lambda: [m for m in slack.bot_messages(APPROVALS) if m.ts == repost.ts and not buttons_of(m)], timeout=10)
    sessions = storage.make_session_factory(storage.make_engine(slack.database_url))
    with sessions() as session:
        stored = storage.get_request(session, request_id)
        assert (stored.status, stored.revision, stored.supplier) == ("approved", 2, "Chapters")
