"""The stand-in's Web API, driven by the real slack_sdk WebClient."""
import json

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler


def refusal(call, *args, **kwargs):
    with pytest.raises(SlackApiError) as caught:
        call(*args, **kwargs)
    return caught.value.response


def section(text):
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text="Approve", value="1", action_id="approve"):
    return {"type": "actions", "elements": [
        {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, "value": value}]}


def modal(title="Purchase", **extra):
    return {"type": "modal", "title": {"type": "plain_text", "text": title},
            "blocks": [section("Details")], **extra}


def test_auth_test_names_the_bot(client, workspace):
    answer = client.auth_test()

    assert (answer["user_id"], answer["bot_id"], answer["team_id"]) == ("U0BOT", "B0BOT", workspace.team_id)


def test_post_by_id_by_name_and_to_a_person(client, workspace):
    by_id = client.chat_postMessage(channel="C0APPROVALS", text="one", blocks=[section("*one*")])
    by_name = client.chat_postMessage(channel="#microbuy-approvals", text="two")
    to_person = client.chat_postMessage(channel="U01AMINA", text="three")

    assert by_id["channel"] == by_name["channel"] == "C0APPROVALS"
    assert to_person["channel"] == workspace.dm("U01AMINA").id and to_person["channel"].startswith("D")
    assert by_id["message"]["bot_id"] == "B0BOT" and by_id["message"]["blocks"][0]["block_id"]
    assert float(by_id["ts"]) < float(by_name["ts"])
    assert [m.text for m in workspace.messages("C0APPROVALS")] == ["one", "two"]
    assert [m.text for m in workspace.messages("U01AMINA")] == ["three"]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_refusals(client):
    assert refusal(client.chat_postMessage, channel="C0NOPE", text="x")["error"] == "channel_not_found"
    assert refusal(client.chat_postMessage, channel="C0APPROVALS", text="")["error"] == "no_text"


def test_form_encoded_blocks_as_a_json_string(client, workspace):
    answer = client.api_call("chat.postMessage", params={
        "channel": "C0APPROVALS", "text": "form", "blocks": json.dumps([section("from a form")])})

    assert answer["message"]["blocks"][0]["text"]["text"] == "from a form"
    assert workspace.calls("chat.postMessage")[0].args["blocks"] == json.dumps([section("from a form")])


def test_thread_reply(client, workspace):
    parent = client.chat_postMessage(channel="C0APPROVALS", text="parent")
    client.chat_postMessage(channel="C0APPROVALS", text="reply", thread_ts=parent["ts"])

    replies = client.conversations_replies(channel="C0APPROVALS", ts=parent["ts"])["messages"]
    assert [m["text"] for m in replies] == ["parent", "reply"] and replies[0]["reply_count"] == 1


@pytest.mark.parametrize("blocks, pointer", [
    ([section("x")] * 51, "/blocks"),
    ([section("x" * 3001)], "/blocks/0/text/text"),
    ([button(text="x" * 76)], "/blocks/0/elements/0/text/text"),
    ([button(value="x" * 2001)], "/blocks/0/elements/0/value"),
], ids=["51 blocks", "section text 3001", "button text 76", "button value 2001"])
def test_oversized_blocks_are_invalid(client, blocks, pointer):
    answer = refusal(client.chat_postMessage, channel="C0APPROVALS", text="x", blocks=blocks)

    assert answer["error"] == "invalid_blocks"
    assert any(f"[json-pointer:{pointer}]" in m for m in answer["response_metadata"]["messages"])


def test_blocks_at_the_limits_pass(client):
    blocks = [section("x" * 3000)] * 48 + [button(text="x" * 75, value="v" * 2000)]

    assert client.chat_postMessage(channel="C0APPROVALS", text="x", blocks=blocks)["ok"]


def test_update_the_bots_message(client, workspace):
    posted = client.chat_postMessage(channel="C0APPROVALS", text="pending", blocks=[button()])

    updated = client.chat_update(channel=posted["channel"], ts=posted["ts"], text="approved",
                                 blocks=[section("Approved")])

    assert updated["ts"] == posted["ts"] and updated["message"]["edited"]["user"] == "U0BOT"
    stored = workspace.message("C0APPROVALS", posted["ts"])
    assert (stored.text, stored.blocks[0]["text"]["text"]) == ("approved", "Approved")


def test_update_refusals(client, workspace):
    theirs = workspace.post("C0APPROVALS", text="mine", user="U01AMINA")

    assert refusal(client.chat_update, channel="C0APPROVALS", ts="1.000001", text="x")["error"] == "message_not_found"
    assert refusal(client.chat_update, channel="C0APPROVALS", ts=theirs.ts, text="x")["error"] == "cant_update_message"


def test_ephemeral(client, workspace):
    answer = client.chat_postEphemeral(channel="C0APPROVALS", user="U02MARC", text="only you")

    [seen] = workspace.ephemerals_for("U02MARC", "C0APPROVALS")
    assert (seen.ts, seen.text) == (answer["message_ts"], "only you")
    assert workspace.ephemerals_for("U01AMINA") == [] and workspace.messages("C0APPROVALS") == []
    assert refusal(client.chat_postEphemeral, channel="C0APPROVALS", user="U0NOBODY",
                   text="x")["error"] == "user_not_found"


def test_open_a_dm_then_post_to_it(client, workspace):
    opened = client.conversations_open(users="U02MARC")
    again = client.conversations_open(users="U02MARC")
    client.chat_postMessage(channel=opened["channel"]["id"], text="bonjour")

    assert opened["channel"]["id"] == again["channel"]["id"] == workspace.dm("U02MARC").id
    assert (opened["already_open"], again["already_open"]) == (False, True)
    info = client.conversations_info(channel=opened["channel"]["id"])["channel"]
    assert (info["is_im"], info["user"]) == (True, "U02MARC")
    assert [m.text for m in workspace.messages("U02MARC")] == ["bonjour"]
    assert refusal(client.conversations_open, users="U0NOBODY")["error"] == "user_not_found"


def test_users_info_with_locale(client):
    marc = client.users_info(user="U02MARC", include_locale=True)["user"]
    amina = client.users_info(user="U01AMINA", include_locale=True)["user"]

    assert (marc["name"], marc["real_name"], marc["tz"], marc["locale"]) == (
        "marc.tremblay", "Marc Tremblay", "America/Toronto", "fr-CA")
    assert amina["locale"] == "en-US"
    assert "locale" not in client.users_info(user="U02MARC")["user"]
    assert refusal(client.users_info, user="U0NOBODY")["error"] == "user_not_found"


def test_views_open_with_a_minted_trigger(client, workspace):
    trigger = workspace.mint_trigger("U01AMINA")

    view = client.views_open(trigger_id=trigger, view=modal(callback_id="buy"))["view"]

    assert view["id"].startswith("V") and view["hash"] and view["callback_id"] == "buy"
    assert [v.id for v in workspace.open_modals("U01AMINA")] == [view["id"]]
    assert refusal(client.views_open, trigger_id=trigger, view=modal())["error"] == "exchanged_trigger_id"


def test_views_open_refuses_unknown_and_expired_triggers(client, workspace, clock):
    assert refusal(client.views_open, trigger_id="123.456.abc", view=modal())["error"] == "invalid_trigger_id"

    trigger = workspace.mint_trigger("U01AMINA")
    clock.advance(3.01)

    assert refusal(client.views_open, trigger_id=trigger, view=modal())["error"] == "expired_trigger_id"
    assert workspace.open_modals("U01AMINA") == []


def test_views_open_checks_the_view(client, workspace):
    answer = refusal(client.views_open, trigger_id=workspace.mint_trigger("U01AMINA"),
                     view=modal(title="x" * 25))

    assert answer["error"] == "invalid_arguments"
    assert "[json-pointer:/view/title/text]" in answer["response_metadata"]["messages"][0]


def test_views_update_by_id_and_external_id_with_hash(client, workspace):
    opened = client.views_open(trigger_id=workspace.mint_trigger("U01AMINA"),
                               view=modal(external_id="req-1"))["view"]

    by_id = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2"))["view"]
    by_external = client.views_update(external_id="req-1", view=modal("Step 3", external_id="req-1"))["view"]

    assert by_id["id"] == by_external["id"] == opened["id"]
    assert len({opened["hash"], by_id["hash"], by_external["hash"]}) == 3
    assert workspace.views[opened["id"]].definition["title"]["text"] == "Step 3"
    stale = refusal(client.views_update, view_id=opened["id"], hash=opened["hash"], view=modal("Late"))
    assert stale["error"] == "hash_conflict"
    assert refusal(client.views_update, view_id="V0NOPE", view=modal())["error"] == "not_found"


def test_views_publish_home(client, workspace):
    first = client.views_publish(user_id="U02MARC", view={"type": "home", "blocks": [section("Accueil")]})["view"]
    second = client.views_publish(user_id="U02MARC", hash=first["hash"],
                                  view={"type": "home", "blocks": [section("Demandes")]})["view"]

    assert first["id"] == second["id"] and first["hash"] != second["hash"] and second["type"] == "home"
    assert workspace.home_view("U02MARC").definition["blocks"][0]["text"]["text"] == "Demandes"
    stale = refusal(client.views_publish, user_id="U02MARC", hash=first["hash"],
                    view={"type": "home", "blocks": []})
    assert stale["error"] == "hash_conflict"
    assert refusal(client.views_publish, user_id="U02MARC", view=modal())["error"] == "invalid_arguments"


def test_invalid_and_missing_tokens(standin, workspace):
    wrong = WebClient(token="xoxb-not-ours", base_url=standin.url)
    none = WebClient(base_url=standin.url)

    assert refusal(wrong.auth_test)["error"] == "invalid_auth"
    assert refusal(wrong.chat_postMessage, channel="C0APPROVALS", text="x")["error"] == "invalid_auth"
    assert refusal(none.auth_test)["error"] == "not_authed"
    assert workspace.messages("C0APPROVALS") == []


def test_unknown_method(client):
    answer = refusal(client.api_call, "chat.scheduleEverything")

    assert (answer["error"], answer["req_method"]) == ("unknown_method", "chat.scheduleEverything")


def test_permalink(client):
    posted = client.chat_postMessage(channel="C0APPROVALS", text="x")

    link = client.chat_getPermalink(channel="C0APPROVALS", message_ts=posted["ts"])["permalink"]

    assert link.endswith("/archives/C0APPROVALS/p" + posted["ts"].replace(".", ""))


class FakeTime:
    def __init__(self):
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(seconds)


class NoJitter:
    @staticmethod
    def random():
        return 0.0


def test_rate_limit_is_retried_by_the_sdk_handler(standin, workspace, monkeypatch):
    fake_time = FakeTime()
    monkeypatch.setattr(builtin_handlers, "time", fake_time)
    monkeypatch.setattr(builtin_handlers, "random", NoJitter)
    client = WebClient(token=workspace.bot_token, base_url=standin.url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    standin.rate_limit("chat.postMessage", times=1, retry_after=2)

    answer = client.chat_postMessage(channel="C0APPROVALS", text="after a wait")

    assert answer["ok"] and fake_time.slept == [2]
    attempts = workspace.calls("chat.postMessage")
    assert [(c.status, c.ok) for c in attempts] == [(429, False), (200, True)]
    assert [m.text for m in workspace.messages("C0APPROVALS")] == ["after a wait"]


def test_rate_limit_without_a_handler_raises_429(client, standin, workspace):
    standin.rate_limit("chat.postMessage", times=1, retry_after=7)

    answer = refusal(client.chat_postMessage, channel="C0APPROVALS", text="x")

    assert (answer.status_code, answer["error"], answer.headers["Retry-After"]) == (429, "ratelimited", "7")
    assert workspace.messages("C0APPROVALS") == []
    assert client.chat_postMessage(channel="C0APPROVALS", text="x")["ok"]
