"""Cancel without losing work to a misreading: a cancel typed plainly clears the answers at once;
anything else the NLU took for cancel, and the Cancel button, asks "Cancel this request?" first, the form paused and
every answer kept; Yes then cancels, No or "continue" goes back to the question.

The trackers are the saved "cancel_during_form" (at the price question, most answers given, the
requester said "cancel") with the message changed, and with the confirmation appended as Rasa
records it (the bot's message, then the requester's reply).
"""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker

from dialogues.actions.detours import ActionCancelPurchase, ActionResume, plainly_cancels
from dialogues.draft import ANSWER_SLOTS

from actions_kit import (
    followups,
    loop_changes,
    point_actions_at,
    release_action_engines,
    render,
    responses,
    run,
    slot_sets,
    tracker_state,
)

BUTTONS = ["/cancel", "/deny"]


@pytest.fixture
def no_database(monkeypatch):
    """These actions must not need the database: any use of it fails."""
    point_actions_at(monkeypatch, "sqlite:////nonexistent-microbuy-folder/actions.db")
    yield
    release_action_engines()


def user_event(text: str, intent: str) -> dict:
    parse = {"intent": {"name": intent, "confidence": 0.4}, "entities": [], "text": text, "metadata": {}}
    return {"event": "user", "timestamp": 1795613001.0, "text": text, "parse_data": parse, "input_channel": "rest"}


def said_at_the_price_question(text: str, intent: str = "cancel", language: str = "en") -> Tracker:
    """The requester's message at the price question, most answers given, the form open."""
    state = tracker_state("cancel_during_form")
    user = next(i for i in range(len(state["events"]) - 1, -1, -1) if state["events"][i]["event"] == "user")
    state["events"][user] = user_event(text, intent)
    state["latest_message"] = state["events"][user]["parse_data"]
    state["slots"]["language"] = language
    return Tracker.from_dict(state)


def replied_to_the_confirmation(text: str, intent: str, asked: str = "utter_confirm_cancel") -> Tracker:
    """The requester's reply after the bot asked `asked` (and paused the form)."""
    state = tracker_state("cancel_during_form")
    state["events"] += [
        {"event": "action", "timestamp": 1795613000.8, "name": "action_cancel_purchase"},
        {"event": "bot", "timestamp": 1795613000.9, "metadata": {"utter_action": asked},
         "text": "Cancel this request?", "data": {"buttons": []}},
        {"event": "active_loop", "timestamp": 1795613000.9, "name": None},
        {"event": "slot", "timestamp": 1795613000.9, "name": "requested_slot", "value": None},
        {"event": "action", "timestamp": 1795613000.95, "name": "action_listen"},
        user_event(text, intent),
    ]
    state["latest_message"] = state["events"][-1]["parse_data"]
    state["active_loop"] = {}
    state["slots"]["requested_slot"] = None
    return Tracker.from_dict(state)


def assert_cleared(events, said):
    assert responses(said) == ["utter_cancelled"]
    assert loop_changes(events) == [None]
    slots = slot_sets(events)
    assert set(ANSWER_SLOTS) <= set(slots) and all(value is None for value in slots.values())


@pytest.mark.parametrize("text", ["cancel", "Cancel.", "cancel the request please", "annuler",
                                  "annule la demande", "je veux annuler", "stop"])
def test_a_plain_cancel_clears_the_answers_at_once(no_database, text):
    assert plainly_cancels(text)
    assert_cleared(*run(ActionCancelPurchase(), said_at_the_price_question(text)))


# "Ganner" typed as the supplier was classified as cancel and the answers were cleared. The
# summary's Cancel button (/cancel, also what the channel sends for a typed /restart) asks too.
@pytest.mark.parametrize("text", ["Ganner", "never mind", "drop it", "start over", "don't cancel", "recommencer",
                                  "/cancel"])
def test_a_cancel_the_nlu_only_read_into_the_message_asks_first_and_keeps_every_answer(no_database, text):
    tracker = said_at_the_price_question(text)
    assert tracker.get_slot("supplier") and tracker.get_slot("last_block")

    events, said = run(ActionCancelPurchase(), tracker)

    assert responses(said) == ["utter_confirm_cancel"]
    assert loop_changes(events) == [None]  # the form is paused: a typed "yes" or "no" is not an answer
    assert slot_sets(events) == {"requested_slot": None}  # nothing else is touched


def test_the_confirmation_reads_in_both_languages_with_the_same_buttons(no_database):
    from actions_kit import domain

    variations = domain()["responses"]["utter_confirm_cancel"]
    assert [[b["payload"] for b in v["buttons"]] for v in variations] == [BUTTONS, BUTTONS]
    _, said = run(ActionCancelPurchase(), said_at_the_price_question("laisse tomber", language="fr"))
    assert render(said.messages[0], language="fr").startswith("Annuler cette demande?")
    assert render(said.messages[0]).startswith("Cancel this request?")


@pytest.mark.parametrize("text, intent", [("yes", "affirm"), ("oui", "affirm"), ("/cancel", "cancel"),
                                          ("never mind", "cancel")])
def test_yes_to_the_confirmation_cancels(no_database, text, intent):
    action = ActionCancelPurchase() if intent == "cancel" else ActionResume()
    assert_cleared(*run(action, replied_to_the_confirmation(text, intent)))


@pytest.mark.parametrize("text, intent", [("no", "deny"), ("/deny", "deny"), ("non", "deny"),
                                          ("continue", "resume"), ("on continue", "resume")])
def test_no_to_the_confirmation_goes_back_to_the_question_with_the_answers(no_database, text, intent):
    events, said = run(ActionResume(), replied_to_the_confirmation(text, intent))

    assert responses(said) == ["utter_resume"]
    assert followups(events) == ["purchase_form"]
    assert slot_sets(events) == {}


def test_yes_long_after_the_confirmation_finishes_the_request(no_database):
    # Another message came between: "yes" is no longer an answer to "Cancel this request?".
    events, said = run(ActionResume(), replied_to_the_confirmation("yes", "affirm", asked="utter_status"))

    assert responses(said) == []
    assert followups(events) == ["purchase_form"]


def test_continue_after_bye_goes_back_to_the_request(no_database):
    events, said = run(ActionResume(), replied_to_the_confirmation("continue", "resume", asked="utter_goodbye_kept"))

    assert responses(said) == ["utter_resume"]
    assert followups(events) == ["purchase_form"]


def test_no_with_a_request_kept_but_no_confirmation_asks_what_to_buy(no_database):
    events, said = run(ActionResume(), replied_to_the_confirmation("no", "deny", asked="utter_goodbye_kept"))

    assert responses(said) == ["utter_how_can_i_help"]
    assert events == []
