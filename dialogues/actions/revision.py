"""Revising a request an approver sent back ("request changes"): the stored answers come back
into the form, the ones the approver named are asked again, and submitting replaces them."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

import storage

from .. import answers, services
from ..draft import ANSWER_SLOTS, CONFIRM, requester_of, slot_of
from ..wording import say
from .common import approver_names, clear_answers, entity_values, field_label, language_of
from .detours import status_name

log = logging.getLogger(__name__)


def slots_from_answers(stored: Dict[str, Any]) -> Dict[str, Any]:
    """A stored request's answers as the form's slots (description is the slot `item`)."""
    slots = {slot_of(field): value for field, value in stored.items() if slot_of(field) in ANSWER_SLOTS}
    if "supplier_indigenous" not in slots:  # stored as null when the requester was not sure
        slots["supplier_indigenous"] = answers.UNKNOWN
    return slots


class ActionStartRevision(Action):
    def name(self) -> Text:
        return "action_start_revision"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List[Dict[str, Any]]:
        policy = services.POLICY.get()
        language = language_of(tracker, policy)
        ids = [i for i in entity_values(tracker, "request_id") if isinstance(i, int) and not isinstance(i, bool)]
        if not ids:
            return []
        try:
            with services.sessions()() as session:
                req = storage.get_request(session, ids[0])
                reference, revision, status = req.reference, req.revision, req.status
                requester, stored = req.requester, dict(req.answers or {})
                decision = session.execute(
                    select(storage.Decision).where(storage.Decision.request_id == req.id,
                                                   storage.Decision.outcome == "changes_requested")
                    .order_by(storage.Decision.id.desc()).limit(1)).scalar_one_or_none()
                reason = decision.reason if decision else ""
                approver = decision.approver if decision else ""
                asked = list(decision.fields_to_revisit or []) if decision else []
        except storage.NotFound:
            return []
        except SQLAlchemyError:
            log.exception("request %s not loaded for revision", ids[0])
            dispatcher.utter_message(response="utter_status_unavailable")
            return []
        if requester != requester_of(tracker.sender_id):
            return []  # not this requester's request: say nothing about it
        if status not in (storage.Status.CHANGES_REQUESTED.value, storage.Status.APPROVED.value):
            dispatcher.utter_message(response="utter_revision_not_possible", reference=reference,
                                     why=say("revision_status", language, status=status_name(status, language)))
            return []
        named = [v for value in entity_values(tracker, "fields")
                 for v in (value if isinstance(value, list) else [value])]
        revisit = [slot_of(f) for f in (named or asked) if slot_of(f) in ANSWER_SLOTS]
        slots = slots_from_answers(stored)
        for slot in revisit:
            slots[slot] = None
        labels = (", ".join(field_label(slot, policy, language) for slot in revisit)
                  or say("revision_whole_summary", language))
        if status == storage.Status.APPROVED.value:
            dispatcher.utter_message(response="utter_revision_of_approved", reference=reference)
        else:
            dispatcher.utter_message(response="utter_revision_started", reference=reference,
                                     approver=(approver_names(policy, [approver], language) if approver
                                               else say("revision_your_approver", language)),
                                     reason=answers.clean(reason)[:500] or say("revision_no_reason", language),
                                     fields=labels)
        events = clear_answers()
        events += [SlotSet(slot, value) for slot, value in slots.items()]
        events += [SlotSet("revising", {"id": ids[0], "revision": revision, "reference": reference}),
                   SlotSet(CONFIRM, None), FollowupAction("purchase_form")]
        return events
