"""The listeners of bot/listeners/, one named function each, called directly: a recording Slack
client, a recording Rasa, and the real Services of bot/app.py over a migrated SQLite database of
the test's own (tests/conftest.py, sqlite_url). No Bolt, no HTTP, no stand-in: what a listener
does with what Bolt hands it. The claims and the order of the middleware, through Bolt, are in
test_bot_listener_middleware.py."""
from __future__ import annotations

import json
from datetime import date

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy import func, select

import storage
from bot.app import Services
from bot.approvals import Approvals, button_value
from bot.conversation import Conversation
from bot.delivery import AfterApproval
from bot.language import Languages
from bot.listeners import actions, after_approval, commands, events, messages, views
from bot.listeners.middleware import LazyLanguage
from bot.texts import plain, t
from policies import DEFAULT_POLICY, load_policy

from slack_kit import APPROVALS, MANAGER, REQUESTER, store_request

TEAM = "T0LISTEN"
DM = "D0REQUESTER"


class FakeSlack:
    """The WebClient methods the listeners and what they call use, each call recorded as
    (method, arguments); `refuse` makes a method raise SlackApiError as Slack would."""

    def __init__(self, locales=None):
        self.calls = []
        self.locales = locales or {}
        self.refuse = {}
        self._ts = 1000

    def _call(self, method, **arguments):
        self.calls.append((method, arguments))
        if method in self.refuse:
            raise SlackApiError("refused", SlackResponse(
                client=self, http_verb="POST", api_url=method, req_args={}, data={"ok": False,
                                                                                   "error": self.refuse[method]},
                headers={}, status_code=200))

    def _next_ts(self):
        self._ts += 1
        return f"{self._ts}.000100"

    def chat_postMessage(self, **arguments):
        self._call("chat_postMessage", **arguments)
        return {"ok": True, "channel": arguments.get("channel"), "ts": self._next_ts()}

    def chat_update(self, **arguments):
        self._call("chat_update", **arguments)
        return {"ok": True, "channel": arguments.get("channel"), "ts": arguments.get("ts")}

    def chat_postEphemeral(self, **arguments):
        self._call("chat_postEphemeral", **arguments)
        return {"ok": True, "message_ts": self._next_ts()}

    def conversations_open(self, **arguments):
        self._call("conversations_open", **arguments)
        return {"ok": True, "channel": {"id": f"D0{arguments['users']}"}}

    def views_open(self, **arguments):
        self._call("views_open", **arguments)
        return {"ok": True, "view": {"id": "V0MODAL"}}

    def views_publish(self, **arguments):
        self._call("views_publish", **arguments)
        return {"ok": True, "view": {"id": "V0HOME"}}

    def users_info(self, **arguments):
        self._call("users_info", **arguments)
        user = arguments["user"]
        return {"ok": True, "user": {"id": user, "team_id": TEAM, "locale": self.locales.get(user, "en-US")}}

    def called(self, method):
        return [arguments for name, arguments in self.calls if name == method]


class FakeRasa:
    """Rasa's REST webhook: records each message and answers with an echo."""

    def __init__(self):
        self.sent = []

    def send(self, team_id, user_id, text, language=None):
        self.sent.append((team_id, user_id, text, language))
        return [{"recipient_id": f"{team_id}:{user_id}", "text": f"heard: {text}"}]


class Ack:
    def __init__(self):
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))


@pytest.fixture(scope="module")
def policy():
    return load_policy(DEFAULT_POLICY)


@pytest.fixture
def services(sqlite_url, policy):
    engine = storage.make_engine(sqlite_url)
    sessions = storage.make_session_factory(engine)
    today = lambda: date(2026, 11, 25)  # noqa: E731 - the day store_request judges on
    languages = Languages(sessions, lambda: policy)
    after = AfterApproval(sessions, lambda: policy, today=today, languages=languages)
    approvals = Approvals(sessions, lambda: policy, approved_message=after.approved_message, languages=languages,
                          today=today)
    conversation = Conversation(FakeRasa(), approvals.post_for_approval, languages)
    yield Services(sessions, conversation, approvals, after, lambda: policy, languages)
    engine.dispose()


def spoken(services, user, client):
    """What the Language middleware hands a listener as `language` (bot/listeners/middleware.py)."""
    return LazyLanguage(services, user, client)


def claims(services):
    with services.sessions() as session:
        return session.execute(select(func.count()).select_from(storage.ProcessedEvent)).scalar_one()


def dm_event(text="I need pens", **extra):
    event = {"type": "message", "channel": DM, "channel_type": "im", "user": REQUESTER, "text": text,
             "ts": "1764000000.000100"}
    event.update(extra)
    return event, {"type": "event_callback", "team_id": TEAM, "event_id": "Ev0DM0001", "event": event}


# -- messages.py ----------------------------------------------------------------------------------

def test_a_dm_is_a_turn_relayed_to_rasa_and_its_replies_posted_in_the_dm(services):
    slack = FakeSlack()
    event, body = dm_event("I need a box of pens")
    messages.direct_message(event=event, body=body, client=slack, services=services,
                            language=spoken(services, REQUESTER, slack))
    assert services.conversation.rasa.sent == [(TEAM, REQUESTER, "I need a box of pens", "en")]
    assert [(m["channel"], m["text"]) for m in slack.called("chat_postMessage")] == \
        [(DM, "heard: I need a box of pens")]
    assert claims(services) == 0  # the listener claims nothing itself: middleware.once around it does


@pytest.mark.parametrize("extra", [
    {"subtype": "message_changed"},
    {"subtype": "channel_join"},
    {"bot_id": "B0OTHER"},
    {"channel_type": "channel"},
], ids=["an edit", "a join", "a bot", "not the DM"])
def test_what_is_not_a_person_writing_in_the_dm_is_ignored_and_never_claimed(services, extra):
    slack = FakeSlack()
    event, body = dm_event("hello", **extra)
    messages.direct_message(event=event, body=body, client=slack, services=services,
                            language=spoken(services, REQUESTER, slack))
    assert services.conversation.rasa.sent == [] and slack.calls == []
    assert messages.turn_event_id(body) is None  # so once claims nothing for it
    assert messages.turn_event_id(dm_event("hello")[1]) == "Ev0DM0001"


def test_a_mention_is_answered_in_the_persons_dm_without_the_mention(services):
    slack = FakeSlack()
    event = {"type": "app_mention", "channel": "C0GENERAL", "user": REQUESTER, "text": "<@U0BOT> I need pens"}
    messages.mention(event=event, body={"team_id": TEAM, "event_id": "Ev0M1", "event": event}, client=slack,
                     services=services, language=spoken(services, REQUESTER, slack))
    assert slack.called("conversations_open") == [{"users": REQUESTER}]
    assert services.conversation.rasa.sent == [(TEAM, REQUESTER, "I need pens", "en")]
    assert slack.called("chat_postMessage")[0]["channel"] == f"D0{REQUESTER}"
    # A bare mention asks for help.
    bare = {**event, "text": "<@U0BOT>"}
    messages.mention(event=bare, body={"team_id": TEAM, "event": bare}, client=slack, services=services,
                     language=spoken(services, REQUESTER, slack))
    assert services.conversation.rasa.sent[-1][2] == "help"


# -- commands.py ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, relayed", [("", "/start_purchase"),
                                           ("  pens from Staples ", "I need to buy pens from Staples")])
def test_buy_acknowledges_first_and_starts_the_conversation_in_the_dm(services, text, relayed):
    slack, ack = FakeSlack(), Ack()
    command = {"command": "/buy", "text": text, "user_id": REQUESTER, "team_id": TEAM, "trigger_id": "T.1"}
    commands.buy(ack=ack, command=command, client=slack, services=services, language=spoken(services, REQUESTER, slack))
    assert ack.calls == [((), {})]
    assert slack.called("conversations_open") == [{"users": REQUESTER}]
    assert services.conversation.rasa.sent == [(TEAM, REQUESTER, relayed, "en")]
    assert slack.called("chat_postMessage")[0]["channel"] == f"D0{REQUESTER}"
    assert commands.trigger_id(command) == "T.1"


# -- actions.py: the answer buttons ---------------------------------------------------------------

def question(ts="1764000000.000200"):
    return {"ts": ts, "text": "Which cost centre?", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Which cost centre?"}},
        {"type": "actions", "elements": [{"type": "button", "action_id": "rasa_button_0", "value": "/affirm",
                                          "text": {"type": "plain_text", "text": "Yes"}}]}]}


def click(user, action, message=None, channel=DM, **extra):
    body = {"type": "block_actions", "user": {"id": user, "team_id": TEAM}, "team": {"id": TEAM},
            "channel": {"id": channel}, "trigger_id": "trig.1", "actions": [action]}
    if message is not None:
        body["message"] = message
    body.update(extra)
    return body


def test_an_answer_button_is_acknowledged_its_buttons_removed_and_its_value_relayed(services):
    slack, ack = FakeSlack(), Ack()
    action = {"action_id": "rasa_button_0", "value": "/affirm", "text": {"type": "plain_text", "text": "Yes"},
              "action_ts": "1764000001.1"}
    body = click(REQUESTER, action, question())
    actions.answer_button(ack=ack, body=body, action=action, client=slack, services=services,
                          language=spoken(services, REQUESTER, slack))
    assert ack.calls == [((), {})]
    (update,) = slack.called("chat_update")
    assert update["channel"] == DM and update["ts"] == "1764000000.000200"
    assert [b["type"] for b in update["blocks"]] == ["section", "context"]
    assert "Yes" in update["blocks"][-1]["elements"][0]["text"]
    assert services.conversation.rasa.sent == [(TEAM, REQUESTER, "/affirm", "en")]
    assert actions.answer_key(body) == f"answer:{DM}:1764000000.000200"


def test_an_answer_still_goes_through_when_the_buttons_cannot_be_removed(services):
    slack = FakeSlack()
    slack.refuse["chat_update"] = "message_not_found"
    action = {"action_id": "rasa_button_0", "value": "/deny", "text": {"type": "plain_text", "text": "No"}}
    actions.answer_button(ack=Ack(), body=click(REQUESTER, action, question()), action=action, client=slack,
                          services=services, language=spoken(services, REQUESTER, slack))
    assert services.conversation.rasa.sent == [(TEAM, REQUESTER, "/deny", "en")]


# -- actions.py: the decisions --------------------------------------------------------------------

def pending(services, policy, supplier="Listener Supplies"):
    request_id = store_request(services.sessions, policy, supplier=supplier)
    with services.sessions() as session:
        request = storage.get_request(session, request_id)
        return request_id, button_value(request_id, request.revision, request.approval_step)


def status(services, request_id):
    with services.sessions() as session:
        return storage.get_request(session, request_id).status


def test_approve_acknowledges_then_records_the_decision_and_updates_the_post(services, policy):
    request_id, value = pending(services, policy)
    slack, ack = FakeSlack(), Ack()
    action = {"action_id": "approve", "value": value, "action_ts": "1764000002.5"}
    body = click(MANAGER, action, {"ts": "1764000000.000300", "text": "MB"}, channel=APPROVALS)
    actions.approve(ack=ack, body=body, action=action, client=slack, services=services)
    assert ack.calls == [((), {})]
    assert status(services, request_id) == "approved"  # $25: the manager is the only step
    with services.sessions() as session:
        decisions = session.execute(select(storage.Decision).where(storage.Decision.request_id == request_id)
                                    ).scalars().all()
    assert [(d.approver, d.outcome) for d in decisions] == [(MANAGER, "approved")]
    assert any(u["channel"] == APPROVALS and u["ts"] == "1764000000.000300" for u in slack.called("chat_update"))
    assert actions.decision_key(body) == f"decision:1764000002.5:{MANAGER}"


@pytest.mark.parametrize("action_id, outcome", [("reject", "rejected"), ("request_changes", "changes_requested")])
def test_reject_and_request_changes_open_the_reason_modal_in_the_clickers_language(services, action_id, outcome):
    slack, ack = FakeSlack(locales={MANAGER: "fr-CA"}), Ack()
    action = {"action_id": action_id, "value": "{}", "action_ts": "1764000003.1"}
    body = click(MANAGER, action, {"ts": "1764000000.000400"}, channel=APPROVALS)
    actions.ask_reason(ack=ack, body=body, action=action, client=slack, language=spoken(services, MANAGER, slack))
    assert ack.calls == [((), {})]
    (opened,) = slack.called("views_open")
    assert opened["trigger_id"] == "trig.1"
    meta = json.loads(opened["view"]["private_metadata"])
    assert meta["outcome"] == outcome and meta["channel"] == APPROVALS and meta["ts"] == "1764000000.000400"
    assert opened["view"] == Approvals.reason_modal(outcome, "{}", APPROVALS, "1764000000.000400", language="fr")


def test_a_reason_modal_that_cannot_open_is_explained_to_the_clicker(services):
    slack = FakeSlack()
    slack.refuse["views_open"] = "expired_trigger_id"
    action = {"action_id": "reject", "value": "{}"}
    actions.ask_reason(ack=Ack(), body=click(MANAGER, action, {"ts": "1.2"}, channel=APPROVALS), action=action,
                       client=slack, language=spoken(services, MANAGER, slack))
    (told,) = slack.called("chat_postEphemeral")
    assert told["channel"] == APPROVALS and told["user"] == MANAGER


# -- views.py -------------------------------------------------------------------------------------

def test_a_reason_modal_without_a_reason_stays_open_with_the_error(services):
    ack = Ack()
    view = {"state": {"values": {"reason": {"reason": {"value": "   "}}}}, "private_metadata": "{}"}
    views.reason_given(ack=ack, body={"user": {"id": MANAGER}}, view=view, client=FakeSlack(), services=services,
                       language=spoken(services, MANAGER, None))
    ((args, kwargs),) = ack.calls
    assert kwargs["response_action"] == "errors" and "reason" in kwargs["errors"]


def test_a_reason_given_rejects_the_request(services, policy):
    request_id, value = pending(services, policy, "Rejected Listener Supplies")
    ack, slack = Ack(), FakeSlack()
    meta = {"value": value, "outcome": "rejected", "channel": APPROVALS, "ts": "1764000000.000500"}
    view = {"state": {"values": {"reason": {"reason": {"value": "not in the budget"}}}},
            "private_metadata": json.dumps(meta)}
    views.reason_given(ack=ack, body={"user": {"id": MANAGER}}, view=view, client=slack, services=services,
                       language=spoken(services, MANAGER, slack))
    assert ack.calls == [((), {})]
    assert status(services, request_id) == "rejected"


# -- after_approval.py ----------------------------------------------------------------------------

def test_a_change_button_that_is_not_ours_claims_nothing_and_does_nothing(services):
    slack, ack = FakeSlack(), Ack()
    action = {"action_id": "change_approved", "value": "not json"}
    body = click(REQUESTER, action, {"ts": "1.3"})
    assert after_approval.change_key(body) is None
    after_approval.change_approved(ack=ack, body=body, action=action, client=slack, services=services,
                                   language=spoken(services, REQUESTER, slack))
    assert ack.calls == [((), {})] and slack.calls == [] and services.conversation.rasa.sent == []


def test_a_change_button_reopens_the_conversation_on_the_request(services):
    slack = FakeSlack()
    action = {"action_id": "change_approved", "value": json.dumps({"r": 42, "v": 1})}
    body = click(REQUESTER, action, {"ts": "1.4"})
    assert after_approval.change_key(body) == f"change:{DM}:1.4:42"
    after_approval.change_approved(ack=Ack(), body=body, action=action, client=slack, services=services,
                                   language=spoken(services, REQUESTER, slack))
    ((team, user, text, _),) = services.conversation.rasa.sent
    assert (team, user) == (TEAM, REQUESTER)
    assert text.startswith("/revise_request") and json.loads(text[len("/revise_request"):])["request_id"] == 42


# -- events.py: App Home --------------------------------------------------------------------------

def test_the_home_tab_is_published_for_the_home_tab_only(services):
    slack = FakeSlack()
    events.home_opened(event={"type": "app_home_opened", "user": REQUESTER, "tab": "messages"}, client=slack,
                       services=services, language=spoken(services, REQUESTER, slack))
    assert slack.called("views_publish") == []
    events.home_opened(event={"type": "app_home_opened", "user": REQUESTER, "tab": "home"}, client=slack,
                       services=services, language=spoken(services, REQUESTER, slack))
    (published,) = slack.called("views_publish")
    assert published["user_id"] == REQUESTER and published["view"]["type"] == "home"


def test_a_language_chosen_on_the_home_tab_is_recorded_and_the_tab_redrawn_in_it(services):
    slack = FakeSlack()
    ack = Ack()
    action = {"action_id": "set_language_fr", "value": "fr"}
    events.language_chosen(ack=ack, body={"user": {"id": REQUESTER}}, action=action, client=slack,
                           services=services, language=spoken(services, REQUESTER, slack))
    assert ack.calls == [((), {})]
    assert services.languages.of(REQUESTER) == "fr"
    (published,) = slack.called("views_publish")
    english = FakeSlack()
    services.languages.choose(REQUESTER, "en", "app_home")
    events.publish(services, english, REQUESTER)
    assert published["view"] != english.called("views_publish")[0]["view"]  # drawn in French, not English


# -- the language each listener is handed (middleware.Language), never asked again ---------------

def french_without_asking(services, monkeypatch):
    """An English-speaking person handed "fr" by the middleware; asking languages.of fails the test."""
    def asked(*args, **kwargs):
        raise AssertionError("the listener asked for the language it was handed")

    monkeypatch.setattr(services.languages, "of", asked)
    return lambda: "fr"


def test_a_dm_a_mention_and_buy_go_to_rasa_in_the_language_handed_in(services, monkeypatch):
    language, slack = french_without_asking(services, monkeypatch), FakeSlack()
    event, body = dm_event("des stylos")
    messages.direct_message(event=event, body=body, client=slack, services=services, language=language)
    mention = {"type": "app_mention", "channel": "C0GENERAL", "user": REQUESTER, "text": "<@U0BOT> stylos"}
    messages.mention(event=mention, body={"team_id": TEAM, "event": mention}, client=slack, services=services,
                     language=language)
    command = {"command": "/buy", "text": "stylos", "user_id": REQUESTER, "team_id": TEAM, "trigger_id": "T.2"}
    commands.buy(ack=Ack(), command=command, client=slack, services=services, language=language)
    assert services.conversation.rasa.sent == [(TEAM, REQUESTER, "des stylos", "fr"), (TEAM, REQUESTER, "stylos", "fr"),
                                               (TEAM, REQUESTER, plain("command.buy", "fr", text="stylos"), "fr")]


def test_a_click_and_a_modal_are_worded_in_the_language_handed_in(services, monkeypatch):
    language, slack = french_without_asking(services, monkeypatch), FakeSlack()
    action = {"action_id": "rasa_button_0", "value": "/affirm", "text": {"type": "plain_text", "text": "Oui"}}
    actions.answer_button(ack=Ack(), body=click(REQUESTER, action, question()), action=action, client=slack,
                          services=services, language=language)
    (update,) = slack.called("chat_update")
    assert update["blocks"][-1]["elements"][0]["text"] == t("conversation.you_chose", "fr", title="Oui")
    assert services.conversation.rasa.sent == [(TEAM, REQUESTER, "/affirm", "fr")]
    reject = {"action_id": "reject", "value": "{}"}
    actions.ask_reason(ack=Ack(), body=click(MANAGER, reject, {"ts": "1.5"}, channel=APPROVALS), action=reject,
                       client=slack, language=language)
    assert slack.called("views_open")[0]["view"] == Approvals.reason_modal("rejected", "{}", APPROVALS, "1.5",
                                                                          language="fr")
    ack = Ack()
    blank = {"state": {"values": {"reason": {"reason": {"value": ""}}}}, "private_metadata": "{}"}
    views.reason_given(ack=ack, body={"user": {"id": MANAGER}}, view=blank, client=slack, services=services,
                       language=language)
    assert ack.calls == [((), {"response_action": "errors", "errors": {"reason": plain("reason.missing", "fr")}})]


def test_the_home_tab_is_drawn_in_the_language_handed_in(services, monkeypatch):
    slack, english = FakeSlack(), FakeSlack()
    events.publish(services, english, REQUESTER)  # Kwame's Slack locale: English
    events.home_opened(event={"type": "app_home_opened", "user": REQUESTER, "tab": "home"}, client=slack,
                       services=services, language=french_without_asking(services, monkeypatch))
    (published,) = slack.called("views_publish")
    assert published["view"] != english.called("views_publish")[0]["view"]
