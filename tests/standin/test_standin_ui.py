"""The browser API (/ui/api/): what a person sees, the long poll that keeps the page live, and
what they do delivered to an app (a recorder here) signed and shaped as Slack delivers it."""
import json
import socket
import threading
import time

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from standin.ui import REQUIRED

SECRET = "ui-test-signing-secret"
AMINA, MARC, BOT = "U01AMINA", "U02MARC", "U0BOT"
CHANNEL = "C0APPROVALS"


@pytest.fixture
def app(standin, recorder):
    return standin.connect(recorder.url, SECRET)


@pytest.fixture
def http(standin):
    with httpx.Client(base_url=standin.origin, timeout=15) as client:
        yield client


def post(http, path, **body):
    return http.post(f"/ui/api/{path}", json=body)


def state(http, user=AMINA, **query):
    answer = http.get("/ui/api/state", params={"user": user, **query})
    assert answer.status_code == 200, answer.text
    return answer.json()


def conversation(shown, kind="channel"):
    return next(c for c in shown["conversations"] if c["kind"] == kind)


def signed(recorder) -> bool:
    headers, body = recorder.last()
    return SignatureVerifier(SECRET).is_valid_request(body, headers)


def buttons_message(client, channel=CHANNEL):
    return client.chat_postMessage(channel=channel, text="decide", blocks=[
        {"type": "section", "block_id": "what", "text": {"type": "mrkdwn", "text": "MB-1"}},
        {"type": "actions", "block_id": "decide", "elements": [
            {"type": "button", "action_id": "approve", "value": "r=1", "style": "primary",
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "static_select", "action_id": "province", "options": [
                {"text": {"type": "plain_text", "text": "Ontario"}, "value": "ON"}]}]},
    ])["ts"]


# -- reading -------------------------------------------------------------------------------------

def test_state_is_what_one_person_sees(http, client, workspace):
    client.chat_postMessage(channel=CHANNEL, text="for everyone")
    client.chat_postEphemeral(channel=CHANNEL, user=AMINA, text="for Amina")
    client.chat_postEphemeral(channel=CHANNEL, user=MARC, text="for Marc")
    shown = state(http, AMINA)
    assert shown["user"]["id"] == AMINA and shown["bot"] == {"id": BOT, "name": "microbuy"}
    assert [p["id"] for p in shown["people"]] == [AMINA, MARC]  # the bot is not a person
    assert [c["kind"] for c in shown["conversations"]] == ["dm", "channel"]
    assert conversation(shown, "dm")["id"] == workspace.dm(AMINA).id
    items = conversation(shown)["items"]
    assert [(i["kind"], i["text"], i["user"]) for i in items] == [
        ("message", "for everyone", BOT), ("ephemeral", "for Amina", BOT)]
    assert shown["app"] == {"connected": False, "url": None}
    assert isinstance(shown["version"], int) and shown["modal"] is None and shown["home"] is None
    assert state(http, "")["user"]["id"] == AMINA  # nobody named: the first person
    assert http.get("/ui/api/state", params={"user": "U404"}).status_code == 404
    assert http.get("/ui/api/state", params={"user": BOT}).status_code == 404


def test_long_poll_waits_for_a_change_and_wakes_on_a_post(http, client):
    version = state(http)["version"]
    started = time.monotonic()
    quiet = state(http, since=version, wait=0.4)
    assert quiet["version"] == version and 0.35 <= time.monotonic() - started < 3

    answers = []
    poller = threading.Thread(target=lambda: answers.append(
        (state(http, since=version, wait=20), time.monotonic())))
    poller.start()
    time.sleep(0.5)
    posted_at = time.monotonic()
    client.chat_postMessage(channel=CHANNEL, text="wake up")
    poller.join(timeout=10)
    shown, returned_at = answers[0]
    assert shown["version"] > version
    assert returned_at - posted_at < 2  # woken by the post, not by the 20 s timeout
    assert conversation(shown)["items"][-1]["text"] == "wake up"


def test_an_edit_shows_as_edited(http, client):
    ts = client.chat_postMessage(channel=CHANNEL, text="first")["ts"]
    assert conversation(state(http))["items"][-1]["edited"] is False
    client.chat_update(channel=CHANNEL, ts=ts, text="second")
    item = conversation(state(http))["items"][-1]
    assert (item["text"], item["edited"]) == ("second", True)


# -- messages ------------------------------------------------------------------------------------

def test_a_dm_is_a_signed_message_event_escaped_as_slack_escapes_it(http, app, recorder, workspace):
    dm = workspace.dm(MARC).id
    answer = post(http, "message", user=MARC, channel=dm, text="Pens <b>now</b> & ask @amina.haddad. @here")
    assert answer.status_code == 200 and answer.json()["delivered"] == "message"
    assert signed(recorder)
    event = recorder.last_event()
    assert (event["type"], event["channel"], event["channel_type"], event["user"]) == ("message", dm, "im", MARC)
    assert event["text"] == "Pens &lt;b&gt;now&lt;/b&gt; &amp; ask <@U01AMINA>. <!here>"
    assert workspace.messages(dm)[-1].text == event["text"]


def test_in_a_channel_only_a_mention_reaches_the_app(http, app, recorder, workspace):
    answer = post(http, "message", user=AMINA, channel=CHANNEL, text="lunch?")
    assert answer.json()["delivered"] is None and recorder.requests == []
    assert workspace.messages(CHANNEL)[-1].text == "lunch?"
    answer = post(http, "message", user=AMINA, channel=CHANNEL, text="@microbuy can I buy pens?")
    assert answer.json()["delivered"] == "app_mention" and signed(recorder)
    event = recorder.last_event()
    assert (event["type"], event["text"], event["channel"]) == ("app_mention", "<@U0BOT> can I buy pens?", CHANNEL)


def test_buy_is_the_slash_command_and_unknown_commands_are_refused(http, app, recorder, workspace):
    answer = post(http, "message", user=AMINA, channel=CHANNEL, text="/buy a box of <pens>")
    assert answer.json()["delivered"] == "command" and signed(recorder)
    form = recorder.last_form()
    assert (form["command"], form["text"], form["channel_id"], form["user_id"]) == (
        "/buy", "a box of &lt;pens&gt;", CHANNEL, AMINA)
    assert form["trigger_id"] and form["response_url"].startswith(workspace.origin + "/actions/")
    assert all("/buy" not in m.text for m in workspace.messages(CHANNEL))  # a command is not a message
    refused = post(http, "message", user=AMINA, channel=CHANNEL, text="/giphy cats")
    assert refused.status_code == 400 and "/giphy is not a valid command" in refused.json()["error"]
    assert len(recorder.requests) == 1


def test_a_command_answered_with_text_shows_it_only_to_that_person(http, app, recorder, workspace):
    recorder.reply = b"Starting in your DM"
    post(http, "message", user=AMINA, channel=CHANNEL, text="/buy")
    assert [e.text for e in workspace.ephemerals_for(AMINA, CHANNEL)] == ["Starting in your DM"]


def test_messages_are_refused_outside_ones_own_conversations(http, app, workspace):
    marcs_dm = workspace.dm(MARC).id
    assert post(http, "message", user=AMINA, channel=marcs_dm, text="hi").status_code == 403
    assert post(http, "message", user=AMINA, channel="C404", text="hi").status_code == 404
    assert post(http, "message", user=AMINA, channel=CHANNEL, text="   ").status_code == 400


# -- clicks --------------------------------------------------------------------------------------

def test_a_click_is_block_actions_from_that_message(http, app, recorder, client, workspace):
    ts = buttons_message(client)
    # The value comes from the message as stored, whatever the page says it showed.
    answer = post(http, "action", user=MARC, channel=CHANNEL, ts=ts, block_id="decide", action_id="approve",
                  element={"type": "button", "value": "forged"})
    assert answer.status_code == 200 and signed(recorder)
    payload = recorder.last_payload()
    assert payload["type"] == "block_actions" and payload["user"]["id"] == MARC
    assert payload["container"] == {"type": "message", "message_ts": ts, "channel_id": CHANNEL,
                                    "is_ephemeral": False}
    assert payload["message"]["ts"] == ts and payload["channel"]["id"] == CHANNEL
    action = payload["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"], action["text"]["text"]) == (
        "approve", "decide", "r=1", "Approve")
    assert payload["response_url"].startswith(workspace.origin + "/actions/") and payload["trigger_id"]


def test_a_pick_in_a_message_sends_the_selected_option(http, app, recorder, client):
    ts = buttons_message(client)
    post(http, "action", user=MARC, channel=CHANNEL, ts=ts, block_id="decide", action_id="province", value="ON")
    action = recorder.last_payload()["actions"][0]
    assert action["type"] == "static_select"
    assert action["selected_option"] == {"text": {"type": "plain_text", "text": "Ontario"}, "value": "ON"}


def test_a_late_click_on_a_button_gone_sends_what_the_screen_showed(http, app, recorder, client):
    ts = buttons_message(client)
    client.chat_update(channel=CHANNEL, ts=ts, text="decided", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "Approved"}}])
    post(http, "action", user=MARC, channel=CHANNEL, ts=ts, block_id="decide", action_id="approve",
         element={"type": "button", "value": "r=1", "text": {"type": "plain_text", "text": "Approve"}})
    payload = recorder.last_payload()
    assert payload["actions"][0]["value"] == "r=1" and payload["actions"][0]["action_id"] == "approve"
    assert payload["message"]["text"] == "decided"  # the message as it is now


def test_a_click_on_an_ephemeral_says_so(http, app, recorder, client):
    client.chat_postEphemeral(channel=CHANNEL, user=AMINA, text="undo?", blocks=[
        {"type": "actions", "block_id": "b", "elements": [
            {"type": "button", "action_id": "undo", "value": "1", "text": {"type": "plain_text", "text": "Undo"}}]}])
    ts = conversation(state(http))["items"][-1]["ts"]
    post(http, "action", user=AMINA, channel=CHANNEL, ts=ts, block_id="b", action_id="undo")
    payload = recorder.last_payload()
    assert payload["container"]["is_ephemeral"] is True and "message" not in payload
    assert post(http, "action", user=MARC, channel=CHANNEL, ts=ts, block_id="b",
                action_id="undo").status_code == 404  # not Marc's to click


# -- modals and App Home -------------------------------------------------------------------------

REASON_MODAL = {
    "type": "modal", "callback_id": "reason", "title": {"type": "plain_text", "text": "Reject"},
    "submit": {"type": "plain_text", "text": "Reject"},
    "blocks": [
        {"type": "input", "block_id": "reason", "label": {"type": "plain_text", "text": "Why?"},
         "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True}},
        {"type": "input", "block_id": "fields", "optional": True, "label": {"type": "plain_text", "text": "Again"},
         "element": {"type": "checkboxes", "action_id": "fields", "options": [
             {"text": {"type": "plain_text", "text": "Supplier"}, "value": "supplier"}]}},
        {"type": "input", "block_id": "where", "optional": True, "label": {"type": "plain_text", "text": "Where"},
         "element": {"type": "static_select", "action_id": "where", "options": [
             {"text": {"type": "plain_text", "text": "Ontario"}, "value": "ON"}]}},
    ],
}


def open_modal(http, client, recorder, view=REASON_MODAL):
    """A click, and the app opening a modal with the click's trigger_id, as a Bolt app does."""
    ts = buttons_message(client)
    post(http, "action", user=AMINA, channel=CHANNEL, ts=ts, block_id="decide", action_id="approve")
    return client.views_open(trigger_id=recorder.last_payload()["trigger_id"], view=view)["view"]["id"]


def test_modal_submission_errors_update_and_close(http, app, recorder, client):
    view_id = open_modal(http, client, recorder)
    assert state(http)["modal"]["id"] == view_id
    sent = len(recorder.requests)
    # A pick in an input waits for Submit: kept in the view's state, nothing sent.
    post(http, "action", user=AMINA, view_id=view_id, block_id="where", action_id="where", value="ON")
    assert len(recorder.requests) == sent
    assert state(http)["modal"]["state"]["values"]["where"]["where"]["selected_option"]["value"] == "ON"
    # A required input left empty: refused on the page, as Slack's client does; the app hears nothing.
    empty = post(http, "submit", user=AMINA, view_id=view_id, values={"reason": {"reason": ""}})
    assert empty.json()["errors"] == {"reason": REQUIRED} and len(recorder.requests) == sent

    recorder.reply = json.dumps({"response_action": "errors", "errors": {"reason": "Say more"}}).encode()
    answer = post(http, "submit", user=AMINA, view_id=view_id,
                  values={"reason": {"reason": " "}, "fields": {"fields": ["supplier"]}, "where": {"where": "ON"}})
    assert answer.json() == {"ok": True, "errors": {"reason": "Say more"}, "closed": False}
    assert signed(recorder)
    submitted = recorder.last_payload()
    assert submitted["type"] == "view_submission" and submitted["view"]["id"] == view_id
    assert submitted["view"]["state"]["values"] == {
        "reason": {"reason": {"type": "plain_text_input", "value": " "}},
        "fields": {"fields": {"type": "checkboxes", "selected_options": [
            {"text": {"type": "plain_text", "text": "Supplier"}, "value": "supplier"}]}},
        "where": {"where": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": "Ontario"}, "value": "ON"}}},
    }
    assert state(http)["modal"]["errors"] == {"reason": "Say more"}  # shown under the input

    recorder.reply = json.dumps({"response_action": "update", "view": {
        "type": "modal", "title": {"type": "plain_text", "text": "Thanks"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Noted"}}]}}).encode()
    post(http, "submit", user=AMINA, view_id=view_id, values={"reason": {"reason": "cheaper elsewhere"}})
    modal = state(http)["modal"]
    assert modal["title"]["text"] == "Thanks" and modal["errors"] == {}

    recorder.reply = b""
    closed = post(http, "submit", user=AMINA, view_id=view_id, values={})
    assert closed.json()["closed"] is True and state(http)["modal"] is None


def test_close_sends_view_closed_only_when_the_app_asked(http, app, recorder, client):
    quiet = open_modal(http, client, recorder)
    sent = len(recorder.requests)
    assert post(http, "close", user=AMINA, view_id=quiet).json()["closed"] is True
    assert len(recorder.requests) == sent and state(http)["modal"] is None

    told = open_modal(http, client, recorder, {**REASON_MODAL, "notify_on_close": True})
    post(http, "close", user=AMINA, view_id=told)
    payload = recorder.last_payload()
    assert payload["type"] == "view_closed" and payload["view"]["id"] == told and signed(recorder)
    assert state(http)["modal"] is None
    assert post(http, "close", user=AMINA, view_id=told).status_code == 404


def test_home_opened_is_app_home_opened_and_the_published_view_shows(http, app, recorder, client):
    answer = post(http, "home", user=AMINA)
    assert answer.json()["delivered"] == "app_home_opened" and signed(recorder)
    event = recorder.last_event()
    assert (event["type"], event["user"], event["tab"]) == ("app_home_opened", AMINA, "home")
    client.views_publish(user_id=AMINA, view={"type": "home", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Your requests"}}]})
    assert state(http)["home"]["blocks"][0]["text"]["text"] == "Your requests"
    assert state(http, MARC)["home"] is None


# -- when the app is not there -------------------------------------------------------------------

def test_an_app_that_cannot_be_reached_is_named(http, standin, workspace):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/slack/events"
    standin.connect(dead, SECRET)
    answer = post(http, "message", user=AMINA, channel=workspace.dm(AMINA).id, text="hello")
    assert answer.status_code == 502
    assert answer.json()["error"] == f"microbuy did not answer at {dead}: connection refused"


def test_an_app_too_slow_or_refusing_is_named(http, standin, recorder, workspace):
    standin.connect(recorder.url, SECRET, ack_timeout=0.5)
    recorder.delay = 1.5
    slow = post(http, "home", user=AMINA)
    assert slow.status_code == 502
    assert slow.json()["error"] == f"microbuy did not answer at {recorder.url}: no acknowledgement within 0.5 s"
    recorder.delay, recorder.status = 0.0, 401
    refused = post(http, "home", user=AMINA)
    assert refused.status_code == 502 and "answered HTTP 401" in refused.json()["error"]
    assert "SLACK_SIGNING_SECRET" in refused.json()["error"] and SECRET not in refused.text


def test_without_an_app_actions_say_how_to_connect_one(http, workspace):
    answer = post(http, "message", user=AMINA, channel=workspace.dm(AMINA).id, text="hello")
    assert answer.status_code == 503 and "--app-url" in answer.json()["error"]
    assert workspace.messages(workspace.dm(AMINA).id)[-1].text == "hello"  # still shown, unanswered


# -- the page and who may use the API ------------------------------------------------------------

def test_the_page_is_served_with_a_strict_content_policy(http):
    page = http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'data-testid="user-switcher"' in page.text
    for path, kind in [("/static/app.js", "text/javascript"), ("/static/app.css", "text/css")]:
        answer = http.get(path)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
    assert http.get("/static/../ui.py").status_code == 404
    assert http.get("/static/ui.py").status_code == 404
    assert http.get("/health").text == "ok"


def test_other_sites_cannot_use_the_api(http, app, recorder, workspace):
    dm = workspace.dm(AMINA).id
    body = json.dumps({"user": AMINA, "channel": dm, "text": "hi"})
    form = http.post("/ui/api/message", content=body, headers={"Content-Type": "text/plain"})
    assert form.status_code == 415  # a cross-site "simple" post
    elsewhere = http.post("/ui/api/message", content=body, headers={
        "Content-Type": "application/json", "Origin": "https://evil.example"})
    assert elsewhere.status_code == 403
    rebound = http.get("/ui/api/state", params={"user": AMINA}, headers={"Host": "evil.example"})
    assert rebound.status_code == 403  # a DNS-rebound name
    assert recorder.requests == []
    same = http.post("/ui/api/message", content=body, headers={
        "Content-Type": "application/json", "Origin": http.base_url.scheme + "://" + http.base_url.netloc.decode()})
    assert same.status_code == 200 and len(recorder.requests) == 1


def test_a_pushed_view_gets_block_ids_and_can_be_submitted(http, app, recorder, client):
    view_id = open_modal(http, client, recorder)
    # The app pushes a view whose blocks name no ids: Slack names them, so the page can use them.
    recorder.reply = json.dumps({"response_action": "push", "view": {
        "type": "modal", "title": {"type": "plain_text", "text": "Amount"},
        "submit": {"type": "plain_text", "text": "OK"},
        "blocks": [{"type": "input", "label": {"type": "plain_text", "text": "Paid"},
                    "element": {"type": "plain_text_input"}}]}}).encode()
    post(http, "submit", user=AMINA, view_id=view_id, values={"reason": {"reason": "why not"}})
    shown = state(http)
    assert shown["modal_depth"] == 2 and shown["modal"]["title"]["text"] == "Amount"
    block = shown["modal"]["blocks"][0]
    assert block["block_id"] and block["element"]["action_id"]
    recorder.reply = b""
    answer = post(http, "submit", user=AMINA, view_id=shown["modal"]["id"],
                  values={block["block_id"]: {block["element"]["action_id"]: "12.50"}})
    assert answer.json()["closed"] is True
    values = recorder.last_payload()["view"]["state"]["values"]
    assert values == {
        block["block_id"]: {block["element"]["action_id"]: {"type": "plain_text_input", "value": "12.50"}}}
    assert state(http)["modal"]["id"] == view_id  # back to the first one, as Slack pops a pushed view
