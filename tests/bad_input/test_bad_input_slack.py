"""The hostile corpus through Slack (the stand-in), to the bot served over signed HTTP with Rasa
and the action server running for real: every string as a DM, forged button values, payloads
with fields missing or not JSON at all. Every delivery is acknowledged (never a 5xx), every DM
is answered, nothing the requester typed is live in Slack, every forged click is refused (and
audited where microbuy audits refusals), and the bot still answers a normal message after all
of it."""
from __future__ import annotations

import json
import re
import unicodedata
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from corpus import FORGED_BUTTONS, STRINGS, ids
from faults_kit import new_requester, requests_of, sql
from slack_kit import APPROVALS, MANAGER, buttons_of, text_of

pytestmark = pytest.mark.postgres

FORM = "application/x-www-form-urlencoded"
# What would be live in Slack if it were not escaped: a mention, a channel ping, a link.
LIVE = re.compile(r"<[!@#]|<(?:https?|mailto):")


def shown(messages) -> str:
    return "\n".join([text_of(messages)] + [json.dumps(m.blocks or []) for m in messages])


def assert_inert(messages, context) -> None:
    said = shown(messages)
    assert not LIVE.search(said), (context, LIVE.search(said))
    assert not [ch for ch in text_of(messages)
                if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf")], context


def signed_post(product, body: str, content_type: str = FORM):
    headers = product.deliver.signed_headers(body, content_type)
    request = urllib.request.Request(product.deliver.interactivity_url, data=body.encode("utf-8"), headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def interaction(product, payload) -> tuple:
    return signed_post(product, urlencode({"payload": json.dumps(payload)}))


def click_payload(product, user: str, channel: str, action_id: str, value, ts=None, message=None) -> dict:
    """A block_actions payload as Slack sends it for a click on a message in `channel` (by default
    a message of its own: each click is on a new message, at a new time)."""
    ts = ts or product.workspace.next_ts()
    action = {"type": "button", "action_id": action_id, "block_id": "b1", "action_ts": product.workspace.next_ts(),
              "text": {"type": "plain_text", "text": "Approve"}}
    if value is not None:
        action["value"] = value
    team = product.workspace.team_id
    return {"type": "block_actions", "team": {"id": team, "domain": "standin"},
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "api_app_id": product.workspace.app_id, "token": "standin-verification-token",
            "trigger_id": product.workspace.mint_trigger(user),
            "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel, "name": "microbuy-approvals"},
            "message": message or {"type": "message", "ts": ts, "text": "a post", "blocks": []},
            "state": {"values": {}}, "actions": [action]}


def audit_by(product, user: str):
    return sql(product.database_url, "SELECT action, request_id, data FROM audit_log WHERE actor = :u ORDER BY id",
               u=user)


def still_answers(product) -> None:
    user = new_requester(product)
    replies = product.say(user, "what's the status of my requests?")
    assert "no purchase requests" in text_of(replies)


# -- messages ------------------------------------------------------------------------------------

def test_every_hostile_text_as_a_dm_is_answered_and_inert(product):
    people = {hostile.id: new_requester(product) for hostile in STRINGS}
    dms = {key: product.workspace.dm(user).id for key, user in people.items()}

    def send(hostile):
        return product.deliver.message(people[hostile.id], dms[hostile.id], hostile.value)

    with ThreadPoolExecutor(max_workers=4) as pool:
        deliveries = dict(zip(ids(STRINGS), pool.map(send, STRINGS), strict=True))
    assert {key: d.status for key, d in deliveries.items() if d.status != 200} == {}
    assert all(d.acked_in_time for d in deliveries.values())
    for hostile in STRINGS:
        replies = product.settle(dms[hostile.id], 0, timeout=60, quiet=0.2)
        assert replies, hostile.id
        assert_inert(replies, hostile.id)
        if len(hostile.value) > 10_000:
            assert "too long" in text_of(replies)
        if not hostile.value.strip():
            assert "no words" in text_of(replies)
    # Nothing a first message says can submit anything.
    assert [r for user in people.values() for r in requests_of(product.database_url, user)] == []
    # Every post of the bot passed Slack's checks (the stand-in refuses invalid blocks).
    refused = [c for c in product.workspace.calls("chat.postMessage")
               if c.args.get("channel") in dms.values() and not c.ok]
    assert refused == []


# -- answer buttons: the value is relayed to the conversation as the requester's answer -------------

@pytest.mark.parametrize("value, says", [
    (None, "no words"),  # no value at all: an empty answer
    ("x" * 40_000, "too long"),
    ("<!channel> <https://evil.example|canada.ca>", "cost centre"),  # not a cost centre: asked again
])
def test_a_forged_answer_button_is_an_answer_like_any_other(product, value, says):
    user = new_requester(product)
    question = product.say(user, "I need a whiteboard")
    message = next(m for m in question if buttons_of(m))
    dm = product.workspace.dm(user).id
    before = len(product.bot_messages(dm))
    payload = click_payload(product, user, dm, "rasa_button_0", value, ts=message.ts,
                            message=message.to_slack(product.workspace.team_id, product.workspace.app_id))
    status, _ = interaction(product, payload)
    assert status == 200
    replies = product.settle(dm, before, timeout=30)
    assert says in text_of(replies).lower()
    assert_inert(replies, value)
    # The question's buttons are gone: one answer per question.
    assert not buttons_of(product.workspace.message(dm, message.ts))


# -- decision buttons in the approval channel ------------------------------------------------------

@pytest.mark.parametrize("forged", FORGED_BUTTONS, ids=ids(FORGED_BUTTONS))
def test_a_forged_decision_button_is_refused_and_audited(product, forged):
    before = len(product.workspace.ephemerals_for(MANAGER, APPROVALS))
    audited = len(audit_by(product, MANAGER))
    status, _ = interaction(product, click_payload(product, MANAGER, APPROVALS, "approve", forged.value))
    assert status == 200
    told = product.workspace.wait_for(lambda: product.workspace.ephemerals_for(MANAGER, APPROVALS)[before:], timeout=10)
    assert len(told) == 1 and "not recorded" in told[0].text
    assert not LIVE.search(told[0].text)
    [(action, request_id, data)] = product.workspace.wait_for(lambda: audit_by(product, MANAGER)[audited:], timeout=10)
    assert action == "decision.refused"
    assert json.loads(data)["button"] == str(forged.value)[:500]
    assert request_id in (None, 987654)


@pytest.mark.parametrize("action_id, audited_as", [("report_purchase", "purchase.refused"),
                                                   ("report_receipt", "receipt.refused"),
                                                   ("certify_receipt", "certification.refused")])
def test_forged_after_approval_buttons_are_refused_and_audited(product, action_id, audited_as):
    user = new_requester(product)
    dm = product.workspace.dm(user).id
    for forged in FORGED_BUTTONS:
        audited = len(audit_by(product, user))
        status, _ = interaction(product, click_payload(product, user, dm, action_id, forged.value))
        assert status == 200, forged.id
        [(action, _, data)] = product.workspace.wait_for(lambda: audit_by(product, user)[audited:],  # noqa: B023 - waited for now
                                                         timeout=10)
        assert action == audited_as and json.loads(data)["button"] == str(forged.value)[:500], forged.id
    # Each refusal is told to the clicker only (audited first, then told).
    told = product.workspace.wait_for(lambda: [*product.workspace.ephemerals_for(user, dm), *product.bot_messages(dm)]
                                      if len(product.workspace.ephemerals_for(user, dm)) >= len(FORGED_BUTTONS)
                                      else None, timeout=10)
    assert len(told) == len(FORGED_BUTTONS) and all("not made by microbuy" in t.text or "987654" in t.text or
                                                    "not found" in t.text.lower() for t in told), [t.text for t in told]
    assert not any(LIVE.search(t.text) for t in told)


def test_a_forged_change_button_changes_nothing(product):
    """A value that is not microbuy's is ignored; one naming a request that does not exist (or is
    someone else's) reopens nothing, and the dialogue says nothing about that request."""
    user = new_requester(product)
    dm = product.workspace.dm(user).id
    for forged in FORGED_BUTTONS:
        status, _ = interaction(product, click_payload(product, user, dm, "change_approved", forged.value))
        assert status == 200
    still_answers(product)
    said = [m.text for m in product.bot_messages(dm)]
    assert all("nothing was submitted" in text and "987654" not in text for text in said), said
    assert audit_by(product, user) == []


# -- payloads that are broken ----------------------------------------------------------------------

def broken_payloads(product, user: str):
    """Interactions with a field every Slack interaction has left out, or of the wrong kind."""
    dm = product.workspace.dm(user).id
    good = click_payload(product, user, dm, "approve", '{"r": 987654, "v": 1, "s": 0}')

    def without(*keys):  # each on a click of its own
        return {k: v for k, v in click_payload(product, user, dm, "approve", '{"r": 987654, "v": 1, "s": 0}').items()
                if k not in keys}

    base = {"user": good["user"], "team": good["team"]}
    return {
        # Never from Slack: refused before Bolt sees them.
        "no-user": (without("user"), 400),
        "user-not-an-object": ({**good, "user": "U0F00"}, 400),
        "no-actions": (without("actions"), 400),
        "empty-actions": ({**good, "actions": []}, 400),
        "actions-not-a-list": ({**good, "actions": "approve"}, 400),
        "action-without-id": ({**good, "actions": [{"type": "button", "value": "x"}]}, 400),
        "no-type": (without("type"), 400),
        "view-submission-without-view": ({"type": "view_submission", **base}, 400),
        "view-submission-empty-view": ({"type": "view_submission", **base, "view": {}}, 400),
        # Odd but possible: acknowledged; the click is refused (request 987654 does not exist).
        "no-container-channel-message": (without("container", "channel", "message"), 200),
        "no-team": (without("team"), 200),
        "unknown-type": ({**good, "type": "nonsense"}, 404),  # Bolt: no listener for it
    }


def test_payloads_with_fields_missing_are_refused_or_acknowledged(product):
    user = new_requester(product)
    expected = {name: status for name, (_, status) in broken_payloads(product, user).items()}
    statuses = {name: interaction(product, payload)[0] for name, (payload, _) in broken_payloads(product, user).items()}
    assert statuses == expected
    # The two clicks on request 987654 that reached the approvals are refused and audited.
    product.workspace.wait_for(lambda: len(audit_by(product, user)) >= 2, timeout=10)
    assert [(action, request) for action, request, _ in audit_by(product, user)] == [("decision.refused", 987654)] * 2
    still_answers(product)


def test_modals_submitted_without_their_state_or_metadata(product):
    user = new_requester(product)
    base = {"type": "view_submission", "user": {"id": user, "team_id": product.workspace.team_id},
            "team": {"id": product.workspace.team_id}}
    modal = {"id": "V0F", "type": "modal"}
    status, answer = interaction(product, {**base, "view": {**modal, "callback_id": "decision_reason"}})
    assert status == 200 and json.loads(answer)["response_action"] == "errors"
    status, answer = interaction(product, {**base, "view": {**modal, "callback_id": "purchase_report"}})
    assert status == 200 and set(json.loads(answer)["errors"]) == {"amount", "date"}
    # A reason given, but not the decision button it was for: refused and audited, nothing decided.
    with_reason = {"values": {"reason": {"reason": {"type": "plain_text_input", "value": "forged"}}}}
    status, _ = interaction(product,
                            {**base, "view": {**modal, "callback_id": "decision_reason", "state": with_reason}})
    assert status == 200
    rows = product.workspace.wait_for(lambda: audit_by(product, user), timeout=10)
    assert [(action, request) for action, request, _ in rows] == [("decision.refused", None)]
    still_answers(product)


@pytest.mark.parametrize("body", [
    "payload=not%20json", "payload=%7B%22type%22%3A", "payload=", "nothing=here", "", "payload=null", "payload=%5B%5D",
    "payload=" + "%5B" * 100_000, "payload=%22block_actions%22",
], ids=["not-json", "half-json", "empty-payload", "no-payload", "empty-body", "null", "list", "nested-too-deep",
        "string"])
def test_a_payload_that_is_not_json_is_refused_without_a_crash(product, body):
    status, answer = signed_post(product, body)
    assert 400 <= status < 500 or status == 200, (status, answer[:300])
    still_answers(product)


def test_events_with_fields_missing(product):
    user = new_requester(product)
    dm = product.workspace.dm(user).id
    base = {"type": "message", "channel": dm, "user": user, "text": "hello", "ts": "1700000000.000300",
            "channel_type": "im"}
    events = [{k: v for k, v in base.items() if k != "text"},  # only blocks, say
              {**base, "text": None}, {**base, "text": 5}, {**base, "text": ["x"]},
              {k: v for k, v in base.items() if k != "user"}, {k: v for k, v in base.items() if k != "channel"}]
    for number, event in enumerate(events):
        envelope = {"token": "t", "team_id": product.workspace.team_id, "api_app_id": product.workspace.app_id,
                    "type": "event_callback", "event_id": f"Ev0FAULT{number:04d}{user}", "event_time": 1700000000,
                    "event": event}
        status, answer = signed_post(product, json.dumps(envelope), "application/json")
        assert status == 200, (event, status, answer[:300])
    # The four from a person in their DM have no text to read: each is answered so; the two that
    # name no person or no channel are left; none of them stopped the bot.
    replies = product.settle(dm, 0, timeout=30)
    assert [("no words" in (m.text or "")) for m in replies] == [True] * 4
    still_answers(product)
