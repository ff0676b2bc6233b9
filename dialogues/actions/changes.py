"""Changing an earlier answer: "change the supplier to Best Buy", "actually it's 3 of them"."""
from __future__ import annotations

import json
import re
from typing import Any, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .. import answers, services
from ..draft import ANSWER_SLOTS, CONFIRM
from .common import draft_of, entity_values, field_label, has_answers, language_of, value_before_latest_message

# Entities that carry a new value, and the answer each one changes.
VALUE_ENTITIES = {"item": "item", "supplier": "supplier", "amount": "unit_price", "quantity": "quantity",
                  "date": "needed_by", "province": "province", "category": "category", "cost_centre": "cost_centre"}


def field_named(text: Any) -> Optional[str]:
    """The answer a phrase names ("the vendor", "date", "how many"), from fields.yml's words."""
    said = f" {answers.folded(str(text or ''))} "
    best: Tuple[int, Optional[str]] = (0, None)
    for slot, entry in services.fields().items():
        if slot not in ANSWER_SLOTS:
            continue
        for words in entry.get("words", {}).values():
            for word in [*words, slot.replace("_", " ")]:
                word = answers.folded(word)
                if f" {word} " in said and len(word) > best[0]:
                    best = (len(word), slot)
    return best[1]


class ActionChangeAnswer(Action):
    """Runs before the form resumes: the new values the message carried were already put in
    their slots by the domain's mappings (the form checks them next); an answer named without a
    new value is cleared so the form asks it again."""

    def name(self) -> Text:
        return "action_change_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List:
        if tracker.active_loop_name is None and not _answered_before(tracker):
            if has_answers(tracker):
                # "Oil change + inspection for the fleet car, Jiffy Lube, $119.95" with no request
                # open changes nothing: its facts open one (the form reads the message as a first one).
                return [FollowupAction("purchase_form")]
            dispatcher.utter_message(response="utter_nothing_to_change")
            return []
        policy = services.POLICY.get()
        language = language_of(tracker, policy)
        changed = [slot for entity, slot in VALUE_ENTITIES.items() if entity_values(tracker, entity)]
        named = [value for value in entity_values(tracker, "slot_name") if value in ANSWER_SLOTS]
        if not named and not changed:
            guess = field_named(tracker.latest_message.get("text"))
            named = [guess] if guess else []
        repeated = _the_answer_said_again(tracker) if not named and not changed else None
        if repeated:
            return [repeated]
        events = [SlotSet(CONFIRM, None)]
        for slot in changed:
            value = tracker.get_slot(slot)
            if value is not None:
                dispatcher.utter_message(response="utter_changing_to", field_label=field_label(slot, policy, language),
                                         value=answers.clean(value)[:200])
        for slot in named:
            if slot in changed:
                continue
            events.append(SlotSet(slot, None))
            dispatcher.utter_message(response="utter_changing", field_label=field_label(slot, policy, language))
        if not named and not changed:
            draft, _ = draft_of(tracker)
            ask_which(dispatcher, draft)
        return events


# A request to change with nothing named: never itself an answer, however often it is said.
_ONLY_CHANGE = re.compile(r"(?i)^(?:(?:i (?:want|need|would like) to|i'd like to|can i|could i|let me|je veux|"
                          r"je voudrais|puis-je)\s+)?(?:change|modify|edit|update|fix|correct|changer|modifier|"
                          r"corriger|modifie|corrige)\b(?:\s+(?:it|that|this|something|an answer|my answer|a answer|"
                          r"ça|cela|quelque chose|une réponse|ma réponse))?\s*[.!?]*$")


def _the_answer_said_again(tracker: Tracker) -> Optional[SlotSet]:
    """The open question's answer when the requester types the same words again after "which
    answer would you like to change?": "Oil change + inspection" is an item, however much the
    NLU hears "change" in it. Not a bare "change it", and not a button's payload."""
    requested = tracker.get_slot("requested_slot")
    text = answers.clean((tracker.latest_message or {}).get("text") or "")
    if tracker.active_loop_name is None or requested not in ANSWER_SLOTS or not text or text.startswith("/") \
            or _ONLY_CHANGE.match(text):
        return None
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2 or answers.clean(users[-2].get("text") or "").casefold() != text.casefold():
        return None
    return SlotSet(requested, text)


def _answered_before(tracker: Tracker) -> bool:
    """Whether any answer was given before the latest message (its own entities fill slots too)."""
    return any(value_before_latest_message(tracker, slot) is not None for slot in ANSWER_SLOTS)


def ask_which(dispatcher: CollectingDispatcher, draft) -> None:
    """Which answer to change, one button per answer given."""
    buttons = []
    for slot in draft.required_slots():
        if draft.values.get(slot) is None or slot not in ANSWER_SLOTS:
            continue
        payload = "/change_answer" + json.dumps({"slot_name": slot})
        buttons.append({"title": field_label(slot, draft.policy, draft.language)[:75], "payload": payload})
    dispatcher.utter_message(response="utter_change_which", buttons=buttons[:25])


def asked_which_this_turn(tracker: Tracker) -> bool:
    """Whether this turn already asked which answer to change (the summary then waits)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == "utter_change_which":
            return True
    return False
