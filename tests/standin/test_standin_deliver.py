"""The deliverer: a person's actions posted to an app, signed and shaped as Slack sends them.

First against a recorder that keeps what it receives, then against an unmodified slack_bolt App
served by its WSGI adapter, whose WebClient talks to the stand-in.
"""
import json
import socketserver
import threading
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from standin import Deliverer

SECRET = "standin-test-signing-secret"


@pytest.fixture
def deliver(recorder, workspace, standin):
    return Deliverer(recorder.url, SECRET, workspace)


def valid(headers, body):
    return SignatureVerifier(SECRET).is_valid_request(body, headers)


def test_signatures_verify_and_bad_or_old_ones_do_not(deliver, recorder):
    deliver.message("U01AMINA", "U01AMINA", "good")
    deliver.message("U01AMINA", "U01AMINA", "forged", bad_signature=True)
    deliver.message("U01AMINA", "U01AMINA", "stale", age=301)
    deliver.message("U01AMINA", "U01AMINA", "almost stale", age=290)

    assert [valid(h, b) for h, b in recorder.requests] == [True, False, False, True]
    headers, body = recorder.requests[0]
    assert headers["X-Slack-Signature"].startswith("v0=") and headers["X-Slack-Request-Timestamp"].isdigit()


def test_a_dm_is_an_event_callback_and_lands_in_the_dm(deliver, recorder, workspace):
    first = deliver.message("U01AMINA", "U01AMINA", "I need pens")
    second = deliver.message("U01AMINA", workspace.dm("U01AMINA").id, "from Staples")

    envelope = json.loads(recorder.requests[0][1])
    event = envelope["event"]
    assert recorder.requests[0][0]["Content-Type"] == "application/json"
    assert (envelope["type"], envelope["team_id"], envelope["api_app_id"]) == (
        "event_callback", workspace.team_id, workspace.app_id)
    assert envelope["event_id"].startswith("Ev") and isinstance(envelope["event_time"], int)
    assert first.event_id != second.event_id
    assert (event["type"], event["channel_type"], event["user"], event["text"]) == (
        "message", "im", "U01AMINA", "I need pens")
    dm = workspace.messages("U01AMINA")
    assert [(m.user, m.text) for m in dm] == [("U01AMINA", "I need pens"), ("U01AMINA", "from Staples")]
    assert event["ts"] == dm[0].ts and event["channel"] == dm[0].channel


def test_a_retry_repeats_the_event_with_retry_headers(deliver, recorder):
    original = deliver.message("U01AMINA", "U01AMINA", "hello")

    retried = deliver.retry(original, num=2, reason="http_timeout")

    (first_headers, first_body), (headers, body) = recorder.requests
    assert body == first_body and retried.event_id == original.event_id
    assert (headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"]) == ("2", "http_timeout")
    assert "X-Slack-Retry-Num" not in first_headers and valid(headers, body)


def test_a_mention_in_a_channel(deliver, recorder):
    deliver.mention("U02MARC", "#microbuy-approvals", "status?")

    event = json.loads(recorder.last()[1])["event"]
    assert (event["type"], event["channel"], event["text"]) == ("app_mention", "C0APPROVALS", "<@U0BOT> status?")


def test_a_slash_command_is_form_encoded_with_a_usable_trigger(deliver, recorder, client, workspace):
    delivery = deliver.slash_command("U02MARC", "/achat", "stylos")

    headers, body = recorder.last()
    form = {k: v[0] for k, v in parse_qs(body).items()}
    assert headers["Content-Type"] == "application/x-www-form-urlencoded" and valid(headers, body)
    assert (form["command"], form["text"], form["user_id"], form["channel_id"]) == (
        "/achat", "stylos", "U02MARC", workspace.dm("U02MARC").id)
    assert form["response_url"].startswith(workspace.origin + "/actions/")
    assert client.views_open(trigger_id=form["trigger_id"], view={
        "type": "modal", "title": {"type": "plain_text", "text": "Achat"}, "blocks": []})["ok"]
    assert delivery.trigger_id == form["trigger_id"]


def test_a_button_click_is_a_block_actions_payload(deliver, recorder, client, workspace):
    posted = client.chat_postMessage(channel="C0APPROVALS", text="Approve?", blocks=[
        {"type": "actions", "block_id": "decide", "elements": [
            {"type": "button", "action_id": "approve", "value": "req-7",
             "text": {"type": "plain_text", "text": "Approve"}}]}])

    deliver.block_action("U02MARC", workspace.message("C0APPROVALS", posted["ts"]), "approve")

    headers, body = recorder.last()
    payload = recorder.last_payload()
    assert headers["Content-Type"] == "application/x-www-form-urlencoded" and valid(headers, body)
    assert (payload["type"], payload["user"]["id"], payload["team"]["id"]) == (
        "block_actions", "U02MARC", workspace.team_id)
    assert payload["container"] == {"type": "message", "message_ts": posted["ts"],
                                    "channel_id": "C0APPROVALS", "is_ephemeral": False}
    assert payload["message"]["ts"] == posted["ts"] and payload["trigger_id"]
    [action] = payload["actions"]
    assert {k: action[k] for k in ("type", "action_id", "block_id", "value")} == {
        "type": "button", "action_id": "approve", "block_id": "decide", "value": "req-7"}
    assert action["action_ts"]


def test_a_modal_submission_carries_state_and_closes(deliver, recorder, client, workspace):
    view = client.views_open(trigger_id=workspace.mint_trigger("U01AMINA"), view={
        "type": "modal", "callback_id": "buy", "title": {"type": "plain_text", "text": "Buy"},
        "submit": {"type": "plain_text", "text": "Send"}, "blocks": [
            {"type": "input", "block_id": "what", "label": {"type": "plain_text", "text": "What"},
             "element": {"type": "plain_text_input", "action_id": "text"}},
            {"type": "input", "block_id": "kind", "label": {"type": "plain_text", "text": "Kind"},
             "element": {"type": "static_select", "action_id": "pick", "options": [
                 {"text": {"type": "plain_text", "text": "Goods"}, "value": "goods"}]}}]})["view"]

    deliver.view_submission("U01AMINA", view["id"], {"what": {"text": "pens"}, "kind": {"pick": "goods"}})

    values = recorder.last_payload()["view"]["state"]["values"]
    assert values["what"]["text"] == {"type": "plain_text_input", "value": "pens"}
    assert values["kind"]["pick"]["selected_option"]["value"] == "goods"
    assert workspace.open_modals("U01AMINA") == []


def test_errors_keep_a_submitted_modal_open(deliver, recorder, client, workspace):
    recorder.reply = json.dumps({"response_action": "errors", "errors": {"what": "Say more"}}).encode()
    view = client.views_open(trigger_id=workspace.mint_trigger("U01AMINA"), view={
        "type": "modal", "title": {"type": "plain_text", "text": "Buy"}, "blocks": []})["view"]

    delivery = deliver.view_submission("U01AMINA", view["id"], {})

    assert delivery.json()["errors"] == {"what": "Say more"}
    assert [v.id for v in workspace.open_modals("U01AMINA")] == [view["id"]]


# -- an unmodified Bolt app -------------------------------------------------------------------------

class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def bolt(standin, workspace):
    """A Bolt app whose WebClient is the stand-in's, served on a local port; (app, deliverer)."""
    app = App(signing_secret=SECRET, client=WebClient(token=workspace.bot_token, base_url=standin.url))
    server = make_server("127.0.0.1", 0, SlackRequestHandler(app), server_class=_ThreadingWSGIServer,
                         handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    yield app, Deliverer(url, SECRET, workspace)
    server.shutdown()
    server.server_close()


def test_bolt_answers_a_dm_with_say(bolt, workspace):
    app, deliver = bolt

    @app.event("message")
    def echo(event, say):
        say(f"you said: {event['text']}")

    delivery = deliver.message("U01AMINA", "U01AMINA", "I need pens")

    assert delivery.status == 200 and delivery.acked_in_time
    reply = workspace.wait_for(lambda: [m for m in workspace.messages("U01AMINA") if m.bot_id], timeout=5)
    assert [m.text for m in reply] == ["you said: I need pens"]
    assert workspace.calls("auth.test") and workspace.calls("chat.postMessage")[0].args["channel"] == workspace.dm(
        "U01AMINA").id


def test_bolt_refuses_bad_and_old_signatures(bolt, workspace):
    app, deliver = bolt
    heard = []
    app.event("message")(lambda event: heard.append(event))

    assert deliver.message("U01AMINA", "U01AMINA", "forged", bad_signature=True).status == 401
    assert deliver.message("U01AMINA", "U01AMINA", "stale", age=600).status == 401
    assert heard == []


def test_bolt_opens_a_modal_from_a_click_and_takes_the_submission(bolt, workspace):
    app, deliver = bolt
    submitted = []

    @app.action("start")
    def start(ack, body, client):
        ack()
        client.views_open(trigger_id=body["trigger_id"], view={
            "type": "modal", "callback_id": "buy", "title": {"type": "plain_text", "text": "Buy"},
            "submit": {"type": "plain_text", "text": "Send"}, "blocks": [
                {"type": "input", "block_id": "what", "label": {"type": "plain_text", "text": "What"},
                 "element": {"type": "plain_text_input", "action_id": "text"}}]})

    @app.view("buy")
    def on_submit(ack, view):
        ack()
        submitted.append(view["state"]["values"]["what"]["text"]["value"])

    message = workspace.post_as_bot("U01AMINA", text="Start?", blocks=[{"type": "actions", "elements": [
        {"type": "button", "action_id": "start", "text": {"type": "plain_text", "text": "Start"}}]}])
    assert deliver.block_action("U01AMINA", message, "start").status == 200
    [modal] = workspace.wait_for(lambda: workspace.open_modals("U01AMINA"), timeout=5)

    assert deliver.view_submission("U01AMINA", modal, {"what": {"text": "pens"}}).status == 200
    assert submitted == ["pens"] and workspace.open_modals("U01AMINA") == []


def test_bolt_responds_to_a_slash_command_through_the_response_url(bolt, workspace):
    app, deliver = bolt

    @app.command("/buy")
    def buy(ack, respond, command):
        ack()
        respond(f"Looking for {command['text']}")

    assert deliver.slash_command("U02MARC", "/buy", "pens", channel="C0APPROVALS").status == 200

    [ephemeral] = workspace.wait_for(lambda: workspace.ephemerals_for("U02MARC", "C0APPROVALS"), timeout=5)
    assert ephemeral.text == "Looking for pens"


def test_bolt_publishes_home_when_it_is_opened(bolt, workspace):
    app, deliver = bolt

    @app.event("app_home_opened")
    def home(event, client):
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Your requests"}}]})

    deliver.app_home_opened("U02MARC")

    home_view = workspace.wait_for(lambda: workspace.home_view("U02MARC"), timeout=5)
    assert home_view.definition["blocks"][0]["text"]["text"] == "Your requests"
