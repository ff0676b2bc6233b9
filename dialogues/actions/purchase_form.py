"""The purchase form: reading and checking each answer as it is given, and which question is next."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from .. import answers, services
from ..answers import AnswerError
from ..draft import ANSWER_SLOTS, CONFIRM, slot_of
from ..opening import read_opening, said_as_one, weak_item, weak_supplier
from .changes import ask_which, field_named
from .common import draft_of, field_label, latest_intent, latest_text, tell_blocks, value_before_latest_message

log = logging.getLogger(__name__)

# The intent whose entities may replace any answer, not only the one asked.
CHANGE_INTENT = "change_answer"
# The intents that start the form with facts in them (data/rules.yml; a "change" with no request
# open, dialogues/actions/changes.py; "can I buy ..." with a price, dialogues/actions/detours.py):
# their message is read for what the entities missed (dialogues/opening.py).
OPENING_INTENTS = ("start_purchase", "inform", CHANGE_INTENT, "can_i_buy")
# Answers the opening's reading of the amounts decides over the entities: the entity `amount` is
# any amount said ("$40 total"), the opening knows whether it is the price of one.
OPENING_DECIDES = ("unit_price", "quantity")


class ValidatePurchaseForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_purchase_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        draft, _ = draft_of(tracker)
        evaluation = None
        if draft.values.get("supplier") and draft.values.get("cost_centre"):
            try:
                with services.sessions()() as session:
                    evaluation = draft.evaluate(session)
            except SQLAlchemyError:
                log.exception("spending history unavailable; the stand-alone question waits for submission")
        return draft.required_slots(evaluation)

    async def get_extraction_events(self, dispatcher, tracker, domain) -> List[EventType]:
        return []  # every answer comes from the domain's slot mappings

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> List[EventType]:
        new = dict(tracker.slots_to_validate())
        requested = tracker.get_slot("requested_slot")
        intent = latest_intent(tracker)
        message = answers.clean(latest_text(tracker))
        events: Dict[str, Any] = {}
        changed: List[str] = []

        # An entity noticed in passing fills an empty answer, but never overwrites one, and a
        # message that is wholly the answer to the question asked answers only that question.
        for slot in list(new):
            if slot not in ANSWER_SLOTS or slot == requested or requested is None:
                continue
            previous = value_before_latest_message(tracker, slot)
            if intent == CHANGE_INTENT and previous is not None:
                changed.append(slot)
                continue
            if previous is not None or answers.clean(new[slot]) == message:
                events[slot] = previous
                del new[slot]

        # The draft holds the answers as they now stand: kept ones, restored ones, then new ones.
        draft, stale = draft_of(tracker, overrides={slot: value for slot, value in events.items()}, skip=tuple(new))
        for slot in stale:  # stored unread while the checks were down; ask again
            events[slot] = None
        already_read = self._opening_or_nothing(new, intent, message, draft) if requested is None else {}
        for slot in ANSWER_SLOTS:
            if slot not in new:
                continue
            raw = new[slot]
            if slot in already_read:
                draft.values[slot] = events[slot] = already_read[slot]
                continue
            if raw is None:
                draft.values.pop(slot, None)
                events[slot] = None
                continue
            try:
                draft.values[slot] = events[slot] = draft.read(slot, raw, intent)
                if slot in changed:
                    dispatcher.utter_message(response="utter_changing_to",
                                             field_label=field_label(slot, draft.policy, draft.language),
                                             value=answers.clean(raw)[:200])
            except AnswerError as problem:
                events[slot] = None
                draft.values.pop(slot, None)
                dispatcher.utter_message(response="utter_not_understood_answer",
                                         problem=problem.text(draft.language, draft.locale))

        if "item" in new and draft.values.get("item") and not draft.values.get("category"):
            guess = answers.guess_category_in_message(draft.values["item"], message, draft.policy, draft.language)
            if guess:
                draft.values["category"] = events["category"] = guess
                name = draft.policy.rules.categories[guess].name.get_text(draft.language,
                                                                          draft.policy.rules.pack.default_language)
                dispatcher.utter_message(response="utter_category_guessed", category_name=name)

        if CONFIRM in new:
            events.update(self._confirmation(new[CONFIRM], intent, draft, dispatcher))

        answered_now = [slot for slot in ANSWER_SLOTS if events.get(slot) is not None]
        if answered_now:
            events.update(self._check(draft, answered_now, dispatcher))
        return [SlotSet(slot, value) for slot, value in events.items()]

    @classmethod
    def _opening_or_nothing(cls, new: Dict[str, Any], intent: Optional[str], message: str, draft) -> Dict[str, Any]:
        """The opening's reading, or none: a reading that fails leaves the entities' answers and
        the questions, never a requester with no reply."""
        given = dict(new)
        try:
            return cls._opening(new, intent, message, draft)
        except Exception:  # heuristics over free text: the form must still answer
            log.exception("could not read the opening message; its facts will be asked")
            new.clear()
            new.update(given)
            return {}

    @staticmethod
    def _opening(new: Dict[str, Any], intent: Optional[str], message: str, draft) -> Dict[str, Any]:
        """The message that starts the form, read for what its entities missed (dialogues/opening.py):
        each fact it reads fills an answer no entity gave (a longer supplier name replaces a piece
        of it, a plainly named one replaces the entity's; an item the NLU took from "10 hours" is
        dropped), and decides the price and the count; an amount it cannot tell the meaning of is
        left to the question; a thing said as one ("a $50 gift card") is one. Returns the answers
        it read, already in the form the slots keep."""
        if intent not in OPENING_INTENTS or not message:
            return {}
        opening = read_opening(message, draft.policy, draft.language, draft.locale)
        read: Dict[str, Any] = {}
        if weak_supplier(new.get("supplier"), draft.policy):
            new["supplier"] = None  # "Saturday", "Service" of "Digital Service": the opening's, or the question
        supplier = new.get("supplier") or opening.values.get("supplier") or opening.fallback.get("supplier")
        if weak_item(new.get("item"), message, supplier):
            new["item"] = None  # "hours", "couple of", the supplier: the opening's item, or the question
        for slot, value in opening.values.items():
            if slot not in ANSWER_SLOTS:
                continue
            given = new.get(slot)
            longer = (slot == "supplier" and isinstance(given, str)
                      and given.casefold() in str(value).casefold() and len(str(value)) > len(given))
            if given is None or slot in OPENING_DECIDES or slot in opening.sure or longer:
                new[slot] = read[slot] = value
        for slot, value in opening.fallback.items():
            if slot in ANSWER_SLOTS and new.get(slot) is None:
                new[slot] = value  # as typed ("Thursday"): read below like an entity's value
        for slot in opening.unsure:
            if slot in OPENING_DECIDES and slot in new and slot not in read:
                new[slot] = None  # "5 keyboards, $650": each or in all? The question asks.
        if new.get("quantity") is None and "quantity" not in opening.unsure and said_as_one(message, new.get("item")):
            new["quantity"] = read["quantity"] = 1  # "a $50 gift card": one
        return read

    @staticmethod
    def _confirmation(raw: Any, intent: Optional[str], draft, dispatcher) -> Dict[str, Any]:
        """The summary's answer: submit, or which answer to change."""
        try:
            if answers.read_yes_no(raw, intent) is True:
                return {CONFIRM: True}
        except AnswerError:
            slot = field_named(raw)
            if slot:
                dispatcher.utter_message(response="utter_changing",
                                         field_label=field_label(slot, draft.policy, draft.language))
                return {CONFIRM: None, slot: None}
        ask_which(dispatcher, draft)
        return {CONFIRM: None}

    @staticmethod
    def _check(draft, answered_now: List[str], dispatcher) -> Dict[str, Any]:
        """Judge the answers so far; a blocking rule is explained and its answer asked again."""
        try:
            with services.sessions()() as session:
                evaluation = draft.evaluate(session)
        except SQLAlchemyError:
            log.exception("could not read past spending; the answers will be checked at submission")
            return {}
        findings = draft.findings_to_tell(evaluation)
        if not findings:
            return {}
        # One problem at a time, the first in the policy's order (limits before splitting): the
        # others often follow from the same answer and are judged again once it changes.
        first = findings[0]
        slot = slot_of(first.field) if first.field and slot_of(first.field) in ANSWER_SLOTS else answered_now[-1]
        told = tell_blocks(dispatcher, [first], draft.policy, draft.language)
        events: Dict[str, Any] = {slot: None, "last_block": told[-1]}
        events[CONFIRM] = None
        return events

