"""The Bolt middleware of bot/listeners/ (middleware.py): the duplicate-delivery claim (`once`,
around a listener), the services in the context (`Share`) and the acting person's language
(`Language`), after `MembersOnly`.

Through the product as it runs: bot.app.build, served over HTTP (bot/server.py), Slack's
deliveries signed by the stand-in's Deliverer, on a database of the test's own. Rasa is a
recording stand-in of its own (no one needs a real turn here), put in place of the RasaClient."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_bolt.util.utils import get_arg_names_of_callable
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import storage
from bot.app import build
from bot.approvals import button_value
from bot.listeners import messages
from bot.listeners.middleware import Language, LazyLanguage, Share, event_id, once
from bot.membership import MembersOnly
from bot.server import serve_in_background
from bot.texts import FALLBACK, plain, t
from policies import DEFAULT_POLICY, load_policy
from standin import Deliverer, StandIn

from slack_kit import (
    APPROVALS,
    FRENCH_REQUESTER,
    MANAGER,
    REQUESTER,
    SECRET,
    settings_for,
    store_request,
    text_of,
    workspace_of,
)

QUIET_S = 0.8  # how long a duplicate is given to do something it should not


class RecordingRasa:
    def __init__(self):
        self.sent = []
        self._lock = threading.Lock()

    def send(self, team_id, user_id, text, language=None):
        with self._lock:
            self.sent.append((user_id, text, language))
        return [{"recipient_id": f"{team_id}:{user_id}", "text": f"heard: {text}"}]


def eventually(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("never happened")
        time.sleep(0.05)


class Product:
    def __init__(self, app, services, workspace, deliver, rasa, policy):
        self.app, self.services, self.workspace, self.deliver = app, services, workspace, deliver
        self.rasa, self.policy = rasa, policy

    def claimed(self, key):
        with self.services.sessions() as session:
            return session.execute(select(func.count()).select_from(storage.ProcessedEvent)
                                   .where(storage.ProcessedEvent.event_id == key)).scalar_one()

    def claims(self):
        with self.services.sessions() as session:
            return session.execute(select(func.count()).select_from(storage.ProcessedEvent)).scalar_one()

    def turns(self, user):
        return [text for who, text, _ in list(self.rasa.sent) if who == user]

    def languages(self, user):
        """The language each of `user`'s turns went to Rasa in."""
        return [language for who, _, language in list(self.rasa.sent) if who == user]

    def guest(self):
        user = f"U0GST{uuid.uuid4().hex[:6].upper()}"
        self.workspace.add_user(user, user.lower(), real_name=f"Guest {user[-4:]}", is_restricted=True)
        return user

    def event(self, event):
        """An Events API delivery of `event` as Slack sends it (the Deliverer's envelope)."""
        return self.deliver._event(event)


@pytest.fixture(scope="module")
def policy():
    return load_policy(DEFAULT_POLICY)


@pytest.fixture
def product(tmp_path, policy):
    url = f"sqlite:///{tmp_path / 'microbuy.db'}"
    storage.upgrade(url)
    workspace = workspace_of(policy, channels={APPROVALS: "microbuy-approvals"})
    engine = storage.make_engine(url)
    try:
        with StandIn(workspace) as standin:
            settings = settings_for(workspace, standin.url, "listener-tests-rasa-secret")
            app, services = build(settings, sessions=storage.make_session_factory(engine), policy=lambda: policy)
            rasa = RecordingRasa()
            services.conversation.rasa = rasa
            server, events_url = serve_in_background(app)
            try:
                yield Product(app, services, workspace, Deliverer(events_url, SECRET, workspace), rasa, policy)
                time.sleep(0.3)  # what the last listener still posts, before the stand-in stops
            finally:
                server.shutdown()
                server.server_close()
    finally:
        engine.dispose()


# -- events ---------------------------------------------------------------------------------------

def test_a_retried_message_event_is_one_turn(product):
    dm = product.workspace.dm(REQUESTER).id
    first = product.deliver.message(REQUESTER, dm, "I need a box of pens")
    assert first.status == 200
    eventually(lambda: product.turns(REQUESTER) == ["I need a box of pens"])
    for num in (1, 2):  # Slack's retries: the same event_id, X-Slack-Retry-Num 1 and 2
        assert product.deliver.retry(first, num=num).status == 200
    time.sleep(QUIET_S)
    assert product.turns(REQUESTER) == ["I need a box of pens"]
    assert product.claimed(first.event_id) == 1


def test_a_retried_mention_is_one_turn(product):
    first = product.deliver.mention(REQUESTER, APPROVALS, "I need pens")
    eventually(lambda: len(product.turns(REQUESTER)) == 1)
    assert product.deliver.retry(first).status == 200
    time.sleep(QUIET_S)
    assert len(product.turns(REQUESTER)) == 1 and product.claimed(first.event_id) == 1


@pytest.mark.parametrize("extra", [
    {"subtype": "message_changed"}, {"subtype": "channel_join"}, {"bot_id": "B0OTHERAPP"},
    {"channel_type": "channel"},
], ids=["an edit", "a join", "another app's post", "a channel message"])
def test_what_is_not_a_turn_is_acknowledged_and_neither_claimed_nor_relayed(product, extra):
    dm = product.workspace.dm(REQUESTER).id
    event = {"type": "message", "channel": dm, "channel_type": "im", "user": REQUESTER, "text": "hello",
             "ts": "1764000000.000100", **extra}
    delivery = product.event(event)
    assert delivery.status == 200
    time.sleep(QUIET_S)
    assert product.turns(REQUESTER) == []
    assert product.claimed(delivery.event_id) == 0 and product.claims() == 0


def test_a_retried_buy_command_starts_one_conversation(product):
    first = product.deliver.slash_command(REQUESTER, "/buy")
    assert first.status == 200
    eventually(lambda: product.turns(REQUESTER) == ["/start_purchase"])
    assert product.deliver.retry(first).status == 200
    time.sleep(QUIET_S)
    assert product.turns(REQUESTER) == ["/start_purchase"] and product.claimed(first.trigger_id) == 1


# -- clicks ---------------------------------------------------------------------------------------

def bot_question(product, user=REQUESTER):
    dm = product.workspace.dm(user).id
    button = {"type": "button", "action_id": "rasa_button_0", "value": "/affirm",
              "text": {"type": "plain_text", "text": "Yes"}}
    return dm, product.workspace.post_as_bot(dm, text="Submit it?", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "Submit it?"}},
        {"type": "actions", "block_id": "q", "elements": [button]}])


def test_a_second_click_on_the_same_question_is_acknowledged_and_ignored(product):
    dm, question = bot_question(product)
    first = product.deliver.block_action(REQUESTER, question, "rasa_button_0", "/affirm")
    assert first.status == 200
    eventually(lambda: product.turns(REQUESTER) == ["/affirm"])
    again = product.deliver.block_action(REQUESTER, question, "rasa_button_0", "/affirm")
    redelivered = product.deliver.retry(first)
    assert again.status == 200 and redelivered.status == 200  # acknowledged: Slack shows no error
    time.sleep(QUIET_S)
    assert product.turns(REQUESTER) == ["/affirm"]
    assert product.claimed(f"answer:{dm}:{question.ts}") == 1


def test_a_redelivered_approve_click_decides_once_and_is_acknowledged(product):
    request_id = store_request(product.services.sessions, product.policy, supplier="Redelivered Supplies")
    with product.services.sessions() as session:
        request = storage.get_request(session, request_id)
        value = button_value(request_id, request.revision, request.approval_step)
    button = {"type": "button", "action_id": "approve", "text": {"type": "plain_text", "text": "Approve"},
              "value": value}
    post = product.workspace.post_as_bot(APPROVALS, text=f"MB-{request_id:06d}",
                                         blocks=[{"type": "actions", "block_id": "decide", "elements": [button]}])
    first = product.deliver.block_action(MANAGER, post, "approve")
    assert first.status == 200

    def audited(action):
        with product.services.sessions() as session:
            return session.execute(select(func.count()).select_from(storage.AuditEntry).where(
                storage.AuditEntry.request_id == request_id, storage.AuditEntry.action == action)).scalar_one()

    eventually(lambda: audited("decision.approved") == 1)
    assert product.deliver.retry(first).status == 200
    time.sleep(QUIET_S)
    # Handled twice, the second would be refused by storage and audited decision.refused.
    assert audited("decision.approved") == 1 and audited("decision.refused") == 0
    assert product.claimed(f"decision:{first.payload['actions'][0]['action_ts']}:{MANAGER}") == 1


# -- the order: members only, before any claim or listener ----------------------------------------

def test_a_guests_retried_message_is_refused_and_never_claimed_nor_relayed(product):
    guest = product.guest()
    dm = product.workspace.dm(guest).id
    first = product.deliver.message(guest, dm, "I need pens")
    assert first.status == 200 and product.deliver.retry(first).status == 200
    product.workspace.wait_for(lambda: [m for m in product.workspace.messages(dm) if m.bot_id], timeout=10)
    time.sleep(QUIET_S)
    assert product.turns(guest) == []
    assert product.claimed(first.event_id) == 0 and product.claims() == 0


def test_a_guests_click_on_a_question_is_refused_and_leaves_the_button_to_its_owner(product):
    guest = product.guest()
    dm, question = bot_question(product, REQUESTER)
    with product.workspace.lock:
        product.workspace.channels[dm].members.append(guest)
    assert product.deliver.block_action(guest, question, "rasa_button_0", "/affirm").status == 200
    time.sleep(QUIET_S)
    assert product.turns(guest) == [] and product.claims() == 0
    # The claim was not taken by the refused click: the person the question is for can still answer.
    assert product.deliver.block_action(REQUESTER, question, "rasa_button_0", "/affirm").status == 200
    eventually(lambda: product.turns(REQUESTER) == ["/affirm"])


def test_members_only_is_the_first_global_middleware_of_ours_and_the_claims_wrap_their_listeners(product):
    ours = [m for m in product.app._middleware_list if isinstance(m, (MembersOnly, Share, Language))]
    assert [type(m) for m in ours] == [MembersOnly, Share, Language]
    claimed = {listener.ack_function.__name__: getattr(listener.ack_function, "claim", (None, None))[1]
               for listener in product.app._listeners}
    assert claimed["direct_message"] == claimed["mention"] == "event"
    assert claimed["buy"] == "command"
    assert claimed["answer_button"] == claimed["approve"] == claimed["change_approved"] == "click"
    # Claimed in bot/delivery.py with their effect, or nothing to claim:
    for name in ("ask_reason", "reason_given", "report_purchase", "purchase_reported", "report_receipt",
                 "certify_receipt", "home_opened", "language_chosen"):
        assert claimed[name] is None, name


# -- once itself ----------------------------------------------------------------------------------

class Claims:
    def __init__(self, first=True, fails=False, ack=None):
        self.asked, self.first, self.fails, self.ack = [], first, fails, ack
        self.acked_before = []

    def first_time(self, key, kind):
        self.asked.append((key, kind))
        self.acked_before.append(self.ack.calls if self.ack else None)
        if self.fails:
            raise ValueError("claim_event needs a non-empty event_id")
        return self.first


class Ack:
    def __init__(self):
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1


def run_once(key_of, kind, body, claims):
    """The wrapped listener called as Bolt calls it: (acks, what reached the listener)."""
    handled = []

    def listener(body, services):
        handled.append(body)

    ack = Ack()
    claims.ack = ack
    once(key_of, kind)(listener)(ack=ack, body=body, services=claims)
    return ack.calls, handled


def test_once_acknowledges_then_claims_and_goes_on_only_the_first_time():
    body = {"type": "event_callback", "event_id": "Ev0ONCE", "event": {"type": "app_mention"}}
    claims = Claims(first=True)
    acks, handled = run_once(event_id, "event", body, claims)
    assert (acks, handled, claims.acked_before) == (1, [body], [1])  # Slack answered before the claim
    acks, handled = run_once(event_id, "event", body, Claims(first=False))
    assert (acks, handled) == (1, [])


def test_once_claims_nothing_for_a_key_of_none_and_lets_the_listener_decide():
    claims = Claims()
    body = {"type": "event_callback", "event_id": "Ev0EDIT", "event": {"type": "message", "subtype": "message_changed"}}
    acks, handled = run_once(messages.turn_event_id, "event", body, claims)
    assert claims.asked == [(None, "event")] and handled == [body]


def test_once_acknowledges_a_payload_it_cannot_claim_and_goes_no_further(caplog):
    caplog.set_level(logging.ERROR, logger="bot.listeners.middleware")
    acks, handled = run_once(lambda body: body["missing"], "click", {"type": "block_actions"}, Claims())
    assert (acks, handled) == (1, [])
    acks, handled = run_once(event_id, "event", {"event_id": "Ev0X"}, Claims(fails=True))
    assert (acks, handled) == (1, [])
    assert len([r for r in caplog.records if "no claim" in r.getMessage()]) == 2


def test_bolt_hands_the_wrapped_listener_its_own_arguments_and_what_the_claim_needs():
    from bot.listeners.commands import buy

    assert get_arg_names_of_callable(once(event_id, "command")(buy)) == ["ack", "command", "client", "services",
                                                                         "language", "body"]


# -- the person's language, in the context (Language) ---------------------------------------------

def test_a_message_a_command_and_a_click_come_with_the_actors_stored_language(product):
    # Kwame's Slack locale is en-US; his own choice, stored, is French.
    assert product.services.languages.choose(REQUESTER, "fr", "conversation")
    dm = product.workspace.dm(REQUESTER).id
    assert product.deliver.message(REQUESTER, dm, "des stylos").status == 200
    eventually(lambda: len(product.turns(REQUESTER)) == 1)
    assert product.deliver.slash_command(REQUESTER, "/buy", "des stylos").status == 200
    eventually(lambda: len(product.turns(REQUESTER)) == 2)
    _, question = bot_question(product)
    assert product.deliver.block_action(REQUESTER, question, "rasa_button_0", "/affirm").status == 200
    eventually(lambda: len(product.turns(REQUESTER)) == 3)
    assert product.languages(REQUESTER) == ["fr", "fr", "fr"]
    assert product.turns(REQUESTER)[1] == plain("command.buy", "fr", text="des stylos")
    # The clicked question says what was chosen, in French.
    assert t("conversation.you_chose", "fr", title="Yes") in text_of([product.workspace.message(dm, question.ts)])


def test_a_modal_submission_is_answered_in_the_submitters_stored_language(product):
    assert product.services.languages.choose(MANAGER, "fr", "app_home")  # Amina's Slack says en-US
    view = {"id": "V0REASON", "type": "modal", "callback_id": "decision_reason", "private_metadata": "{}",
            "blocks": [], "state": {"values": {"reason": {"reason": {"type": "plain_text_input", "value": " "}}}}}
    answer = product.deliver.view_submission(MANAGER, view)
    assert answer.status == 200
    assert answer.json() == {"response_action": "errors", "errors": {"reason": plain("reason.missing", "fr")}}


def test_the_language_comes_from_the_users_info_members_only_asked(product):
    # Nadia, never seen: her Slack locale (fr-CA) is asked once, by the membership check, and serves both.
    dm = product.workspace.dm(FRENCH_REQUESTER).id
    assert product.deliver.message(FRENCH_REQUESTER, dm, "J'ai besoin de stylos").status == 200
    eventually(lambda: len(product.turns(FRENCH_REQUESTER)) == 1)
    assert product.languages(FRENCH_REQUESTER) == ["fr"]
    asked = [c for c in product.workspace.calls("users.info") if c.args.get("user") == FRENCH_REQUESTER]
    assert len(asked) == 1


def test_when_the_language_cannot_be_found_the_listener_still_runs_in_the_packs_default(product, monkeypatch,
                                                                                          caplog):
    caplog.set_level(logging.ERROR, logger="bot.listeners.middleware")

    def database_down(*args, **kwargs):
        raise OperationalError("SELECT user_preferences", {}, Exception("could not connect to server"))

    monkeypatch.setattr(product.services.languages, "of", database_down)
    dm = product.workspace.dm(FRENCH_REQUESTER).id  # French by her Slack locale and by the policy
    assert product.deliver.message(FRENCH_REQUESTER, dm, "J'ai besoin de stylos").status == 200
    eventually(lambda: product.turns(FRENCH_REQUESTER) == ["J'ai besoin de stylos"])
    assert product.languages(FRENCH_REQUESTER) == [product.policy.rules.pack.default_language] == ["en"]
    eventually(lambda: any("could not be found" in r.getMessage() for r in caplog.records))


# -- Language itself --------------------------------------------------------------------------------

class KnownLanguages:
    """services.languages: `of` answers from `known` and counts its calls, or raises `fails`."""

    def __init__(self, known, fails=None):
        self.known, self.fails, self.asked = known, fails, []

    def of(self, user, client=None):
        self.asked.append((user, client))
        if self.fails is not None:
            raise self.fails
        return self.known[user]


def services_of(languages, default="fr", policy_fails=False):
    def policy():
        if policy_fails:
            raise OSError("no policy file")
        return SimpleNamespace(rules=SimpleNamespace(pack=SimpleNamespace(default_language=default)))

    return SimpleNamespace(languages=languages, policy=policy)


def through_language(services, body):
    """Language.process on a request of `body`, as Bolt runs it: (the context's language, whether the
    rest of the chain ran)."""
    request = BoltRequest(body=body, mode="socket_mode")
    request.context["client"] = "the app's client"
    went_on = []

    def next_():
        went_on.append(True)
        return BoltResponse(status=200)

    response = Language(services).process(req=request, resp=BoltResponse(status=200), next=next_)
    assert response.status == 200
    return request.context["language"], went_on == [True]


CLICK = {"type": "block_actions", "user": {"id": MANAGER, "team_id": "T0"}, "team": {"id": "T0"},
         "actions": [{"action_id": "approve", "value": "{}"}]}
COMMAND = {"command": "/buy", "text": "", "user_id": REQUESTER, "team_id": "T0", "trigger_id": "1.2"}
MESSAGE = {"type": "event_callback", "team_id": "T0", "event_id": "Ev0LANG",
           "event": {"type": "message", "channel_type": "im", "user": FRENCH_REQUESTER, "text": "bonjour"}}
SUBMISSION = {"type": "view_submission", "user": {"id": MANAGER, "team_id": "T0"}, "team": {"id": "T0"},
              "view": {"callback_id": "decision_reason", "state": {"values": {}}}}


@pytest.mark.parametrize("body, actor", [(CLICK, MANAGER), (COMMAND, REQUESTER), (MESSAGE, FRENCH_REQUESTER),
                                         (SUBMISSION, MANAGER)],
                         ids=["block_actions", "command", "message event", "view_submission"])
def test_the_context_holds_the_actors_language_looked_up_once_on_first_use(body, actor):
    languages = KnownLanguages({MANAGER: "fr", REQUESTER: "en", FRENCH_REQUESTER: "fr"})
    language, went_on = through_language(services_of(languages, default="xx"), body)
    assert went_on and isinstance(language, LazyLanguage)
    assert languages.asked == []  # nothing before Slack is answered: the lookup waits for the listener
    assert language() == languages.known[actor] and language() == languages.known[actor]
    assert languages.asked == [(actor, "the app's client")]


def test_without_a_person_the_language_is_the_packs_default():
    languages = KnownLanguages({})
    body = {"type": "event_callback", "team_id": "T0", "event_id": "Ev0NOONE",
            "event": {"type": "tokens_revoked", "tokens": {"bot": ["B0"]}}}
    language, went_on = through_language(services_of(languages, default="fr"), body)
    assert went_on and language() == "fr" and languages.asked == []


def test_a_lookup_that_raises_is_logged_and_the_packs_default_used(caplog):
    caplog.set_level(logging.ERROR, logger="bot.listeners.middleware")
    down = OperationalError("SELECT user_preferences", {}, Exception("database is down"))
    language, went_on = through_language(services_of(KnownLanguages({}, fails=down), default="fr"), CLICK)
    assert went_on and language() == "fr"
    assert [r.getMessage() for r in caplog.records] == [
        f"the language of {MANAGER} could not be found; the pack's default instead"]
    # With no policy to ask either: the bot's own fallback.
    language, _ = through_language(services_of(KnownLanguages({}, fails=down), policy_fails=True), CLICK)
    assert language() == FALLBACK
