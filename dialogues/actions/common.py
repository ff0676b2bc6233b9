"""Helpers the actions share: the requester's draft from the tracker, and telling a finding."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from policies import Finding, LoadedPolicy

from .. import services
from ..draft import ANSWER_SLOTS, CONFIRM, Draft, draft_from_slots, requester_of, slot_of
from ..wording import say

log = logging.getLogger(__name__)


def language_of(tracker: Tracker, policy: LoadedPolicy) -> str:
    language = tracker.get_slot("language")
    return language if language in policy.rules.pack.languages else policy.rules.pack.default_language


def draft_of(tracker: Tracker, overrides: Optional[Dict[str, Any]] = None,
             skip: Tuple[str, ...] = ()) -> Tuple[Draft, Dict[str, str]]:
    """The requester's draft from the slots (each answer read again), and answers that don't read."""
    policy = services.POLICY.get()
    slots = {slot: tracker.get_slot(slot) for slot in ANSWER_SLOTS if slot not in skip}
    slots.update(overrides or {})
    revising = tracker.get_slot("revising")
    return draft_from_slots(policy, requester_of(tracker.sender_id), services.today(policy),
                            language_of(tracker, policy), slots,
                            exclude_request_id=revising.get("id") if isinstance(revising, dict) else None)


def block_record(finding: Finding, policy: LoadedPolicy, language: str) -> Dict[str, Any]:
    """What "why was that blocked?" answers from: the rule's name, the message and its source."""
    label = getattr(policy.rules.labels, finding.rule.replace(".", "__"), None)
    return {
        "rule": finding.rule,
        "label": label.get_text(language, policy.rules.pack.default_language) if label else finding.rule,
        "message": finding.message,
        "source": finding.source,
        "field": finding.field,
    }


def tell_blocks(dispatcher: CollectingDispatcher, findings: List[Finding], policy: LoadedPolicy,
                language: str, response: str = "utter_blocked_ask_again") -> List[Dict[str, Any]]:
    """Explain each blocking finding once; returns what was told, for `last_block`."""
    told, seen = [], set()
    for finding in findings:
        if finding.message in seen:
            continue
        seen.add(finding.message)
        dispatcher.utter_message(response=response, message=finding.message)
        told.append(block_record(finding, policy, language))
    return told


def clear_answers() -> List[Dict[str, Any]]:
    """Events that forget every answer of the request in progress."""
    events = [SlotSet(slot, None) for slot in ANSWER_SLOTS]
    events += [SlotSet(CONFIRM, None), SlotSet("requested_slot", None), SlotSet("last_block", None),
               SlotSet("revising", None)]
    return events


def field_label(slot: str, policy: LoadedPolicy, language: str) -> str:
    """How an answer is named to the requester: fields.yml, else the policy's requirement label."""
    entry = services.fields().get(slot)
    if entry is not None:
        return services.in_language(entry["label"], language)
    default = policy.rules.pack.default_language
    for requirement in policy.rules.requirements.values():
        if slot_of(requirement.field) == slot:
            return (requirement.label or requirement.question).get_text(language, default)
    return slot.replace("_", " ")


def approver_names(policy: LoadedPolicy, people: List[str], language: str = "en") -> str:
    """"Amina Haddad or Jordan Blake": the policy's names for Slack user ids."""
    known = policy.rules.people
    names = [known[p].name if p in known else p for p in people]
    shown = names[0] if names else ""
    for name in names[1:]:
        shown = say("names_or", language, first=shown, second=name)
    return shown


def has_answers(tracker: Tracker) -> bool:
    return any(tracker.get_slot(slot) is not None for slot in ANSWER_SLOTS)


def latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message or {}).get("intent", {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def entity_values(tracker: Tracker, entity: str) -> List[Any]:
    return [e.get("value") for e in (tracker.latest_message or {}).get("entities", []) if e.get("entity") == entity]


def value_before_latest_message(tracker: Tracker, slot: str) -> Any:
    """A slot's value as it was before the requester's latest message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
            continue
        if seen_user and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
        if seen_user and event.get("event") in ("restart", "session_started") :
            return None
    return None
