"""Both official languages (issue 8), the Slack app's half: the catalogue of the bot's own texts,
the language each person is served in (bot/language.py), the language payload from the
conversation, and whole flows through the stand-in Slack with Rasa running for real, in which
each person reads their own language and the requester's typed answers stay as typed."""
from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from slack_sdk import WebClient
from sqlalchemy import update

import storage
from bot.approvals import Approvals
from bot.conversation import Conversation
from bot.delivery import AfterApproval
from bot.language import Languages, from_locale
from bot.rasa import RasaClient
from bot.reminders import Reminders
from bot.texts import LANGUAGES, TEXTS, Raw, placeholders, plain, t
from policies import AmountError, load_policy, parse_amount
from policies.money import REASONS
from standin import StandIn

from slack_kit import (
    APPROVALS,
    FRENCH_REQUESTER,
    MANAGER,
    REQUESTER,
    buttons_of,
    store_request,
    submit_a_purchase,
    text_of,
    workspace_of,
)

US_POLICY = "policies/us-far.yml"


# -- the catalogue ----------------------------------------------------------------------------------

def test_every_message_is_in_english_and_french_with_the_same_placeholders():
    assert len(TEXTS) > 100
    for key, texts in TEXTS.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key
        assert placeholders(texts["en"]) == placeholders(texts["fr"]), key
        # Each fills without error from its own placeholders.
        values = {name: "x" for name in placeholders(texts["en"])}
        assert plain(key, "fr", **values) and plain(key, "en", **values)


def test_french_is_not_english_left_in_place():
    # Words that name the same thing in both languages are allowed to be equal; nothing else is.
    same = {"word.or", "language.en", "language.fr", "home.total", "home.unavailable_header",
            "reminders.what", "policy.total", "refused.other"}
    untranslated = [key for key, texts in TEXTS.items() if texts["en"] == texts["fr"] and key not in same]
    assert untranslated == []


def test_every_refusal_of_the_amount_reader_is_worded_with_the_values_it_gives():
    for code, english in REASONS.items():
        key = f"amount.{code}"
        assert key in TEXTS, f"bot/texts.yml does not word the amount reader's refusal '{code}'"
        assert placeholders(TEXTS[key]["en"]) <= placeholders(english), key


@pytest.mark.parametrize("typed, language, told", [
    ("-5", "fr", "Le montant doit être supérieur à zéro, pas négatif."),
    ("-5", "en", "The amount must be more than zero, not negative."),
    ("1.234,50", "fr", "Ce montant est illisible. Tapez-le comme 1 234,50."),  # typed the English way
    ("1.234,50", "en", "Not an amount I can read. Type it like 1,234.50."),
    ("2e3", "fr", "Écrivez le montant au long (par exemple 1 500,00), pas en notation scientifique."),
    ("", "fr", "Tapez le montant payé, par exemple 24,99."),
])
def test_a_refused_amount_paid_is_explained_in_the_readers_language(typed, language, told):
    after = AfterApproval(None, load_policy)
    with pytest.raises(AmountError) as refused:
        parse_amount(typed, locale=after._locale(language))  # as the purchase form reads it
    said = after._amount_error(refused.value, language)
    assert said.replace("\u00a0", " ").replace("\u202f", " ") == told


def test_values_are_escaped_and_raw_pieces_kept():
    text = t("approvals.rejected_because", "fr", reference="MB-000001", who=Raw("<@U01AMINA>"),
             reason="<!channel> & co")
    assert text == "❌ MB-000001 a été refusée par <@U01AMINA> : &lt;!channel&gt; &amp; co"
    assert plain("approvals.button.request_changes", "fr") == "Demander des changements"
    assert t("home.header", "es") == "Your purchase requests"  # a language without texts: English


# -- the language of a person -------------------------------------------------------------------------

@pytest.fixture
def people(tmp_path):
    """A migrated database, the default pack, and a stand-in Slack where Nadia's locale is fr-CA."""
    url = f"sqlite:///{tmp_path / 'microbuy.db'}"
    storage.upgrade(url)
    sessions = storage.make_session_factory(storage.make_engine(url))
    policy = load_policy()
    workspace = workspace_of(policy)
    with StandIn(workspace) as standin:
        client = WebClient(token=workspace.bot_token, base_url=standin.url)
        yield sessions, policy, workspace, standin, client


def preference(sessions, user):
    with sessions() as session:
        row = session.get(storage.UserPreference, user)
        return (row.language, row.source) if row else None


def users_info_calls(workspace, user):
    return [c for c in workspace.calls("users.info") if c.args.get("user") == user]


def test_slack_locale_is_asked_once_and_recorded(people):
    sessions, policy, workspace, _, client = people
    languages = Languages(sessions, lambda: policy)
    assert languages.of(FRENCH_REQUESTER, client) == "fr"
    assert preference(sessions, FRENCH_REQUESTER) == ("fr", "slack_locale")
    call = users_info_calls(workspace, FRENCH_REQUESTER)[0]
    assert call.args.get("include_locale") in (True, "true", "1", 1)
    # Again, and from another process (a new Languages): the stored locale, Slack not asked.
    assert languages.of(FRENCH_REQUESTER, client) == "fr"
    assert Languages(sessions, lambda: policy).of(FRENCH_REQUESTER, client) == "fr"
    assert len(users_info_calls(workspace, FRENCH_REQUESTER)) == 1
    assert languages.of(MANAGER, client) == "en" and preference(sessions, MANAGER) == ("en", "slack_locale")


def test_a_persons_choice_beats_the_locale_and_takes_effect_at_once_everywhere(people):
    sessions, policy, workspace, _, client = people
    languages, other_process = Languages(sessions, lambda: policy), Languages(sessions, lambda: policy)
    assert languages.of(FRENCH_REQUESTER, client) == "fr"
    assert other_process.choose(FRENCH_REQUESTER, "en", "app_home")
    assert languages.of(FRENCH_REQUESTER, client) == "en"  # no stale cache
    assert preference(sessions, FRENCH_REQUESTER) == ("en", "app_home")
    # Slack's locale never overrides a choice, even after a day.
    with sessions.begin() as session:
        session.execute(update(storage.UserPreference)
                        .values(updated_at=datetime.now(timezone.utc) - timedelta(days=3)))
    assert Languages(sessions, lambda: policy).of(FRENCH_REQUESTER, client) == "en"
    assert preference(sessions, FRENCH_REQUESTER) == ("en", "app_home")
    assert languages.choose(FRENCH_REQUESTER, "fr", "conversation") and languages.of(FRENCH_REQUESTER, client) == "fr"
    assert not languages.choose(FRENCH_REQUESTER, "de", "conversation")  # not a language of the pack
    assert preference(sessions, FRENCH_REQUESTER) == ("fr", "conversation")


def test_a_locale_without_a_language_and_a_failing_slack_fall_back_to_the_policy(people):
    sessions, policy, workspace, standin, client = people
    workspace.users["U02MARC"].locale = "es-ES"  # the policy says Marc reads French
    workspace.users["U05ELENA"].locale = "es-ES"  # and Elena English
    languages = Languages(sessions, lambda: policy)
    assert languages.of("U02MARC", client) == "fr" and languages.of("U05ELENA", client) == "en"
    assert preference(sessions, "U02MARC") is None  # not what Slack said: nothing recorded
    workspace.users["U07PIERRE"].locale = "en-US"  # the policy says French
    standin.rate_limit("users.info", times=1, retry_after=1)
    assert languages.of("U07PIERRE", client) == "fr"  # Slack failed: the policy's language
    assert preference(sessions, "U07PIERRE") is None
    assert languages.of(None, client) == "en" and languages.of("U0STRANGER", None) == "en"  # the pack's default


def test_a_changed_locale_is_followed_daily_while_no_choice_was_made(people):
    sessions, policy, workspace, _, client = people
    now = [0.0]
    languages = Languages(sessions, lambda: policy, clock=lambda: now[0])
    assert languages.of(MANAGER, client) == "en"
    workspace.users[MANAGER].locale = "fr-CA"
    assert languages.of(MANAGER, client) == "en"  # within the day: Slack is not asked again
    assert len(users_info_calls(workspace, MANAGER)) == 1
    now[0] += 24 * 3600 + 1
    with sessions.begin() as session:  # recorded a day ago
        session.execute(update(storage.UserPreference)
                        .values(updated_at=datetime.now(timezone.utc) - timedelta(days=1, seconds=1)))
    assert languages.of(MANAGER, client) == "fr"
    assert preference(sessions, MANAGER) == ("fr", "slack_locale")


def test_a_single_language_pack_serves_everyone_in_it(people):
    sessions, _, workspace, _, client = people
    us = load_policy(US_POLICY)
    assert Languages(sessions, lambda: us).of(FRENCH_REQUESTER, client) == "en"
    assert preference(sessions, FRENCH_REQUESTER) is None


# -- the conversation: the language sent to Rasa, and its language payload ---------------------------

class FakeRasa:
    """A stand-in for Rasa's REST webhook (for this unit test only): answers each turn from a
    script and keeps what it was sent."""

    def __init__(self, turns):
        self.turns, self.received = list(turns), []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.received.append(body)
                status, answer = fake.turns.pop(0)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_language_payload_is_recorded_before_the_rest_of_the_turn(people):
    sessions, policy, workspace, _, client = people
    languages = Languages(sessions, lambda: policy)
    seen_by_submission = []
    rasa = FakeRasa([
        (200, [{"recipient_id": "T1:U04KWAME", "custom": {"type": "language", "language": "fr"}},
               {"recipient_id": "T1:U04KWAME", "text": "D'accord, je continue en français."},
               {"recipient_id": "T1:U04KWAME", "custom": {"type": "submitted", "request_id": 7}}]),
        (500, {"error": "down"}),
    ])
    try:
        conversation = Conversation(RasaClient(rasa.url, "a-fake-rasa-checks-nothing", timeout=5),
                                    lambda _c, request_id, changes=None: seen_by_submission.append(
                                        (request_id, languages.of(REQUESTER, client))), languages)
        dm = conversation.dm_channel(client, REQUESTER)
        conversation.relay(client, "T1", REQUESTER, dm, "en français svp")
        conversation.relay(client, "T1", REQUESTER, dm, "des stylos")
    finally:
        rasa.close()
    # Sent in English (Kwame's locale), then in the language he chose.
    assert [body["metadata"] for body in rasa.received] == [{"language": "en"}, {"language": "fr"}]
    assert rasa.received[0]["sender"] == f"T1:{REQUESTER}"
    assert preference(sessions, REQUESTER) == ("fr", "conversation")
    # The rest of the turn (the submission) already saw French; the payload is not a message.
    assert seen_by_submission == [(7, "fr")]
    said = [m.text for m in workspace.messages(dm) if m.bot_id]
    assert said == ["D'accord, je continue en français.", plain("conversation.rasa_down", "fr")]


def test_rasa_down_is_told_in_the_persons_language(people):
    sessions, policy, workspace, _, client = people
    rasa = FakeRasa([(503, {})])
    try:
        conversation = Conversation(RasaClient(rasa.url, "a-fake-rasa-checks-nothing", timeout=5), lambda *a, **k: None,
                                    Languages(sessions, lambda: policy))
        dm = conversation.dm_channel(client, FRENCH_REQUESTER)
        conversation.relay(client, "T1", FRENCH_REQUESTER, dm, "J'ai besoin de stylos")
    finally:
        rasa.close()
    [said] = [m.text for m in workspace.messages(dm) if m.bot_id]
    assert said.startswith("Désolé, je ne peux pas joindre l'assistant d'achat")
    assert preference(sessions, FRENCH_REQUESTER) == ("fr", "slack_locale")


# -- reminders, each in its reader's language ----------------------------------------------------------

def test_reminders_follow_each_recipients_language(people):
    sessions, policy, workspace, _, client = people
    request_id = store_request(sessions, policy, supplier="Staples", requester=FRENCH_REQUESTER,
                               title="<!channel> stylos & surligneurs")
    start = datetime(2026, 11, 25, 9, tzinfo=timezone.utc)
    with sessions.begin() as session:
        session.execute(update(storage.PurchaseRequest).values(submitted_at=start))
    # The manager's Slack locale is en-US, but she chose French on her Home tab.
    Languages(sessions, lambda: policy).choose(MANAGER, "fr", "app_home")
    reminders = Reminders(sessions, lambda: policy, client)
    reminders.run_once(start + timedelta(hours=24))
    reminders.run_once(start + timedelta(hours=72))
    to_manager = [m.text for m in workspace.dm(MANAGER).messages if m.bot_id]
    to_director = [m.text for m in workspace.dm("U02MARC").messages if m.bot_id]
    to_requester = [m.text for m in workspace.dm(FRENCH_REQUESTER).messages if m.bot_id]
    reference = f"MB-{request_id:06d}"
    assert to_manager == [f"Rappel : {reference} (&lt;!channel&gt; stylos &amp; surligneurs, 26,25\u00a0$) attend "
                          "votre décision depuis 24 heures dans #microbuy-approvals (Gestionnaire du centre "
                          "financier (article 32), étape 1 de 1)."]
    assert to_director[0].startswith("Escalade : ") and to_requester[0].startswith(f"{reference} (")
    assert "Je l'ai transmise à <@U02MARC> (Directeur ou directrice)" in to_requester[0]


def test_from_locale():
    assert [from_locale(x) for x in ("fr-CA", "en_US", "FR", "", None, "x-1", 42)] == ["fr", "en", "fr", None, None,
                                                                                         None, None]


# -- whole flows through the stand-in, Rasa running for real (tests/bot/conftest.py) ---------------

PIERRE = "U07PIERRE"  # reads French (Slack locale fr-CA); requests nothing elsewhere
ELENA, OLIVIA = "U05ELENA", "U06OLIVIA"  # read English (en-US)
ENGLISH_WORDS = re.compile(r"\b(you|your|the|what|which|please|is|are)\b", re.IGNORECASE)
FRENCH_WORDS = re.compile(r"\b(vous|votre|vos|le|la|les|des|du|est|quel|quelle|pour)\b", re.IGNORECASE)


def database(slack):
    return storage.make_session_factory(storage.make_engine(slack.database_url))


def looks_french(text: str) -> bool:
    """More French function words than English ones (the dialogue's wording is its own)."""
    return len(FRENCH_WORDS.findall(text)) > len(ENGLISH_WORDS.findall(text))


def publishes(slack, user):
    return [c for c in slack.workspace.calls("views.publish") if c.args.get("user_id") == user]


def open_home(slack, user):
    before = len(publishes(slack, user))
    assert slack.deliver.app_home_opened(user).status == 200
    slack.workspace.wait_for(lambda: len(publishes(slack, user)) > before, timeout=10)
    return slack.workspace.home_view(user)


def choose_on_home(slack, user, language):
    """The person clicks English / Français on their Home tab; the tab is drawn again."""
    view = open_home(slack, user)
    before = len(publishes(slack, user))
    delivery = slack.deliver.block_action(user, view=view, action_id=f"set_language_{language}", value=language)
    assert delivery.status == 200
    slack.workspace.wait_for(lambda: len(publishes(slack, user)) > before, timeout=10)
    assert preference(database(slack), user) == (language, "app_home")
    return slack.workspace.home_view(user).definition["blocks"]


@pytest.fixture
def manager_reads_french(slack):
    """Amina (whose Slack is in English) chooses French on her Home tab, and English again after
    the test: the Slack product is shared by every bot test, whatever order they run in."""
    choose_on_home(slack, MANAGER, "fr")
    yield
    choose_on_home(slack, MANAGER, "en")


def post_and_approve(slack, requester):
    """A request stored as the dialogue stores it, posted, and approved by the manager; the
    requester's approval DM."""
    policy = load_policy()
    sessions = database(slack)
    request_id = store_request(sessions, policy, supplier="Bureau en gros", requester=requester,
                               needed_by="2026-12-20")
    before = len(slack.bot_messages(APPROVALS))
    Approvals(sessions, lambda: policy).post_for_approval(slack.app.client, request_id)
    post = slack.bot_messages(APPROVALS)[before:][-1]
    approve = next(b for b in buttons_of(post) if b["action_id"] == "approve")
    dm = slack.workspace.dm(requester).id
    told_before = len(slack.bot_messages(dm))
    assert slack.deliver.block_action(MANAGER, post, "approve", approve["value"]).status == 200
    return request_id, slack.settle(dm, told_before)[-1]


def submit(slack, user, summary):
    """Click the summary's Submit button: the requester's replies and the new approval post."""
    button = next(b for b in buttons_of(summary) if b["value"] == "/affirm")
    dm = slack.workspace.dm(user).id
    before, posts_before = len(slack.bot_messages(dm)), len(slack.bot_messages(APPROVALS))
    assert slack.deliver.block_action(user, summary, button["action_id"], button["value"]).status == 200
    done = slack.settle(dm, before)
    post = slack.workspace.wait_for(lambda: slack.bot_messages(APPROVALS)[posts_before:], timeout=20)[-1]
    return done, post


def approve(slack, post, requester):
    """The manager approves the post: the updated post and the requester's DM."""
    dm = slack.workspace.dm(requester).id
    before = len(slack.bot_messages(dm))
    value = next(b["value"] for b in buttons_of(post) if b["action_id"] == "approve")
    assert slack.deliver.block_action(MANAGER, post, "approve", value).status == 200
    updated = slack.workspace.wait_for(
        lambda: [m for m in slack.bot_messages(APPROVALS) if m.ts == post.ts and not buttons_of(m)], timeout=10)[0]
    return updated, slack.settle(dm, before)


def button_texts(message):
    return [b["text"]["text"] for b in buttons_of(message)]


def summary_of(replies):
    return next(m for m in reversed(replies) if any(b.get("value") == "/affirm" for b in buttons_of(m)))


def test_a_french_locale_gets_french_and_a_choice_on_the_home_tab_beats_it(slack):
    _, approved_dm = post_and_approve(slack, PIERRE)
    # Nobody chose anything: Slack's locale (fr-CA) gives French, recorded once.
    assert "a été approuvée par" in text_of([approved_dm]) and f"<@{MANAGER}>" in text_of([approved_dm])
    assert button_texts(approved_dm) == ["J'ai fait l'achat", "Modifier la demande"]
    assert preference(database(slack), PIERRE) == ("fr", "slack_locale")
    blocks = open_home(slack, PIERRE).definition["blocks"]
    assert blocks[0]["text"]["text"] == "Vos demandes d'achat"
    language = next(b for b in blocks if b.get("block_id") == "language")
    assert [(e["text"]["text"], e.get("style")) for e in language["elements"]] == [("English", None),
                                                                                ("Français", "primary")]

    # He picks English on the Home tab: recorded as his choice, the tab redrawn in English...
    blocks = choose_on_home(slack, PIERRE, "en")
    assert blocks[0]["text"]["text"] == "Your purchase requests"
    # ... and the bot writes to him in English from then on: "I bought it" opens an English form.
    opened = len(slack.workspace.calls("views.open"))
    value = next(b["value"] for b in buttons_of(approved_dm) if b["action_id"] == "report_purchase")
    assert slack.deliver.block_action(PIERRE, approved_dm, "report_purchase", value).status == 200
    slack.workspace.wait_for(lambda: len(slack.workspace.calls("views.open")) > opened, timeout=10)
    modal = slack.workspace.open_modals(PIERRE)[-1].definition
    assert modal["title"]["text"] == "Report the purchase" and modal["submit"]["text"] == "Report"
    assert len(users_info_calls(slack.workspace, PIERRE)) == 1  # Slack asked once


def test_the_approval_post_is_in_the_approvers_language_with_the_answers_as_typed(slack, manager_reads_french):
    done, post = submit_a_purchase(slack, "Staples")  # Kwame writes in English
    assert "Submitted MB-" in text_of(done)  # he is answered in English
    shown = text_of([post])
    for french in ("Justification d'achat", "Besoin opérationnel", "Fournisseur", "Circuit d'approbation",
                   "*En attente de :*", "(Gestionnaire du centre financier (article 32)), étape 1 de 1"):
        assert french in shown, french
    assert button_texts(post) == ["Approuver", "Refuser", "Demander des changements"]
    # What he typed is shown as typed (escaped, never translated).
    assert "*Besoin opérationnel:* for the team's sprint planning" in shown and "*box of pens*" in shown
    request_id = json.loads(next(b["value"] for b in buttons_of(post) if b["action_id"] == "approve"))["r"]
    with database(slack)() as session:
        stored = storage.get_request(session, request_id)
        findings = stored.evaluation["findings"]
    assert stored.evaluation["language"] == "en" and findings
    # Each rule finding in the approver's language: none of the English wording is left, the
    # source it cites included.
    for finding in findings:
        assert finding["message"] not in shown, finding
        assert finding["source"] not in shown, finding
    policy = load_policy()
    for finding in findings:
        label = getattr(policy.rules.labels, finding["rule"].replace(".", "__"))
        assert f"*{label['fr']}*" in shown
    assert "indigenous_business" in [f["rule"] for f in findings]  # "not sure" whether the supplier is Indigenous
    assert policy.rules.indigenous_business.source["fr"] in shown

    updated, told = approve(slack, post, REQUESTER)
    assert f"✅ Approuvée par <@{MANAGER}> le" in text_of([updated])
    assert f"was approved by <@{MANAGER}>" in text_of(told) and button_texts(told[-1]) == ["I bought it",
                                                                                          "Change the request"]


def test_a_whole_purchase_in_french_from_the_first_message_to_approval(slack, manager_reads_french):
    """Nadia's Slack is in French: the whole conversation, the post for a French-reading approver,
    and the outcome, in French (the dialogue's French is dialogues/, issue 8's other half)."""
    user = FRENCH_REQUESTER
    replies = slack.say(user, "J'ai besoin d'acheter une boîte de stylos chez Indigo pour environ 25 $")
    conversation = [replies]
    for answer in ["100200", "2", "Ontario", "2026-12-15", "pour la planification du sprint de l'équipe", "non"]:
        conversation.append(slack.say(user, answer))
    conversation.append(slack.say(user, "je ne sais pas"))
    for turn in conversation:
        assert looks_french(text_of(turn)), text_of(turn)
    summary = summary_of(conversation[-1])
    assert "Indigo" in text_of([summary]) and "56,50\u00a0$" in text_of([summary])
    done, post = submit(slack, user, summary)
    assert looks_french(text_of(done)) and "MB-" in text_of(done)
    shown = text_of([post])
    assert "Justification d'achat" in shown and "pour la planification du sprint de l'équipe" in shown
    updated, told = approve(slack, post, user)
    assert "✅ Approuvée par" in text_of([updated])
    assert f"a été approuvée par <@{MANAGER}>" in text_of(told) and button_texts(told[-1]) == [
        "J'ai fait l'achat", "Modifier la demande"]
    assert preference(database(slack), user) == ("fr", "slack_locale")


def test_switching_language_in_the_middle_of_the_form(slack):
    """"en français svp" in the conversation: the dialogue's language payload is recorded as the
    person's choice, the open question is asked again in French, and the answers are kept."""
    # Each test buys from its own supplier: the same one twice would be a splitting finding.
    replies = slack.say(ELENA, "I need to buy a box of pens from Costco for about $25")
    assert not looks_french(text_of(replies))
    slack.say(ELENA, "100200")
    switched = slack.say(ELENA, "en français svp")
    assert looks_french(text_of(switched)), text_of(switched)
    assert preference(database(slack), ELENA) == ("fr", "conversation")
    for answer in ["2", "Ontario", "2026-12-15", "pour les ateliers", "non"]:
        assert looks_french(text_of(slack.say(ELENA, answer)))
    summary = summary_of(slack.say(ELENA, "je ne sais pas"))
    assert looks_french(text_of([summary])) and "Costco" in text_of([summary]) and "100200" in text_of([summary])
    back = slack.say(ELENA, "English please")
    assert not looks_french(text_of(back)) and preference(database(slack), ELENA) == ("en", "conversation")
    slack.say(ELENA, "cancel")


def test_switching_language_on_the_home_tab_in_the_middle_of_the_form(slack):
    replies = slack.say(OLIVIA, "I need to buy a box of pens from Walmart for about $25")
    assert not looks_french(text_of(replies))
    slack.say(OLIVIA, "100200")
    choose_on_home(slack, OLIVIA, "fr")
    asked = slack.say(OLIVIA, "2")  # the bot now sends {"metadata": {"language": "fr"}}
    assert looks_french(text_of(asked)), text_of(asked)
    for answer in ["Ontario", "2026-12-15", "pour les ateliers", "non"]:
        slack.say(OLIVIA, answer)
    summary = summary_of(slack.say(OLIVIA, "je ne sais pas"))
    assert looks_french(text_of([summary])) and "Walmart" in text_of([summary])
    slack.say(OLIVIA, "annuler")


def test_the_home_tab_offers_the_packs_languages_only(people):
    from bot.home import home_view

    sessions, policy, _, _, _ = people
    with sessions() as session:
        both = home_view(session, policy, MANAGER, "fr")["blocks"]
        english_only = home_view(session, load_policy(US_POLICY), "U20GRACE", "en")["blocks"]
    control = next(b for b in both if b.get("block_id") == "language")
    assert [e["action_id"] for e in control["elements"]] == ["set_language_en", "set_language_fr"]
    assert both[0]["text"]["text"] == "Vos demandes d'achat"
    assert not any(b.get("block_id") == "language" for b in english_only)


def test_the_modals_fit_slacks_limits_in_both_languages():
    from datetime import date
    from decimal import Decimal

    from bot.delivery import AfterApproval
    from standin.blocks import check_view

    policy = load_policy()
    after = AfterApproval(None, lambda: policy, today=lambda: date(2026, 11, 25))
    snap = {"id": 1, "revision": 1, "reference": "MB-000001", "title": "x" * 200, "supplier_name": "y" * 200,
            "approved_max": Decimal("9999.99")}
    for language in LANGUAGES:
        for outcome in ("rejected", "changes_requested"):
            assert check_view(Approvals.reason_modal(outcome, "{}", "C1", "1.2", language)) == [], (language, outcome)
        assert check_view(after.purchase_modal(snap, "C1", "1.2", language)) == [], language
