"""A request changed after it was posted, as the approval channel shows it: a change to the
purchase retires the old post's buttons and posts the new revision with what changed; a lower
total after approval keeps the approval, redraws the post and tells the approvers."""
from __future__ import annotations

from datetime import date

from test_bot_flows import click

import storage
import workflow
from bot.approvals import Approvals
from bot.texts import plain
from policies import load_policy

from slack_kit import APPROVALS, MANAGER, REQUESTER, buttons_of, store_request, text_of


def _revise(sessions, policy, request_id, **changes):
    with sessions.begin() as session:
        req = storage.get_request(session, request_id)
        data = {**req.answers, "requester": req.requester, **changes}
        request, evaluation = workflow.judge(session, policy, data, date(2026, 11, 25), exclude_request_id=request_id)
        revised = workflow.revise(session, policy, request_id, req.revision, request, evaluation)
    # What the action server hands the bot: {field: [old, new]} as text.
    return {field: [None if v is None else str(v) for v in pair] for field, pair in revised.changes.items()}


def _says(shown, key, **values):
    """`shown` holds the text `key`, in English or French (other tests change people's languages;
    these are about what is said, not in which language)."""
    return any(plain(key, language, **values) in shown for language in ("en", "fr"))


def _posted(slack, supplier):
    policy = load_policy()
    sessions = storage.make_session_factory(storage.make_engine(slack.database_url))
    approvals = Approvals(sessions, lambda: policy)
    request_id = store_request(sessions, policy, supplier=supplier, total="40.00")
    before = len(slack.bot_messages(APPROVALS))
    approvals.post_for_approval(slack.app.client, request_id)
    post = slack.bot_messages(APPROVALS)[before:][-1]
    return policy, sessions, approvals, request_id, post


def _approve(slack, post):
    click(slack, MANAGER, post, "approve")
    # Decided: the post is redrawn without its buttons (in the manager's language, whichever it is).
    return slack.workspace.wait_for(
        lambda: [m for m in slack.bot_messages(APPROVALS) if m.ts == post.ts and m.edited and not buttons_of(m)],
        timeout=10)[0]


def test_a_changed_purchase_goes_back_with_a_new_post_and_the_old_one_retired(slack):
    policy, sessions, approvals, request_id, post = _posted(slack, "Revision Supplies A")
    _approve(slack, post)
    changes = _revise(sessions, policy, request_id, supplier="Revision Supplies Other")
    before = len(slack.bot_messages(APPROVALS))
    approvals.post_for_approval(slack.app.client, request_id, changes=changes)
    new = slack.bot_messages(APPROVALS)[before:][-1]
    shown = text_of([new])
    assert _says(shown, "approvals.revised", revision=2) and "Revision Supplies A → Revision Supplies Other" in shown
    assert {b["action_id"] for b in buttons_of(new)} == {"approve", "reject", "request_changes"}
    old = slack.workspace.message(APPROVALS, post.ts)
    assert not buttons_of(old) and any(
        phrase in text_of([old]) for phrase in ("revision 2 is posted anew", "la version 2 est publiée de nouveau"))
    with sessions() as session:
        req = storage.get_request(session, request_id)
        assert (req.status, req.revision, req.approval_ts) == ("submitted", 2, new.ts)
    # The new revision needs a new decision: the manager approves it from the new post.
    _approve(slack, new)


def test_a_lower_total_after_approval_keeps_it_and_the_approvers_are_told(slack):
    policy, sessions, approvals, request_id, post = _posted(slack, "Revision Supplies B")
    _approve(slack, post)
    manager_dm = slack.workspace.dm(MANAGER).id
    requester_dm = slack.workspace.dm(REQUESTER).id
    told_before, requester_before = len(slack.bot_messages(manager_dm)), len(slack.bot_messages(requester_dm))
    posts_before = len(slack.bot_messages(APPROVALS))
    changes = _revise(sessions, policy, request_id, unit_price="35.00")
    approvals.post_for_approval(slack.app.client, request_id, changes=changes)
    told = slack.workspace.wait_for(lambda: slack.bot_messages(manager_dm)[told_before:], timeout=10)
    said = text_of(told)
    assert ("lowered the total" in said and "$36.75" in said) or ("a réduit à 36,75" in said)  # $35.00 + 5% GST (AB)
    redrawn = slack.workspace.message(APPROVALS, post.ts)
    assert _says(text_of([redrawn]), "approvals.lowered", revision=2) and not buttons_of(redrawn)
    assert len(slack.bot_messages(APPROVALS)) == posts_before  # nothing new to decide
    reference = f"MB-{request_id:06d}"
    assert _says(text_of(slack.bot_messages(requester_dm)[requester_before:]), "approvals.still_approved",
                 reference=reference)
    with sessions() as session:
        req = storage.get_request(session, request_id)
        assert (req.status, req.revision, str(req.approved_max_amount)) == ("approved", 2, "42.00")
