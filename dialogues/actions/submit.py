"""Submitting: every answer read and judged again, then stored; success is claimed only once the
request is in the database."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

import storage
from policies import BLOCK, RequestError
from workflow import BlockedRequest, submit

from .. import services
from ..answers import amount_reason
from ..draft import ANSWER_SLOTS, CONFIRM, Draft, slot_of
from ..wording import say
from .common import clear_answers, draft_of, field_label, tell_blocks
from .questions import money, route_text

log = logging.getLogger(__name__)


def request_problem(draft: Draft, exc: RequestError, field: str, reason: str) -> str:
    """One problem of a request the engine refused, in the requester's language: an amount by its
    reason's code; any other reason (the engine words it in English) as texts.yml's answer_refused."""
    label = field_label(slot_of(field), draft.policy, draft.language)
    amount = exc.amounts.get(field)
    if amount is not None:
        return say("answer_amount_refused", draft.language, draft.locale, label=label, reason=amount_reason(amount))
    return say("answer_refused", draft.language, label=label, reason=reason)


class ActionSubmitPurchase(Action):
    def name(self) -> Text:
        return "action_submit_purchase"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List[Dict[str, Any]]:
        draft, unreadable = draft_of(tracker)
        # Answers taken while the checks were down are read again here; one that doesn't read,
        # or a question never answered, sends the requester back to the form.
        missing = [slot for slot in draft.required_slots() if slot != CONFIRM and draft.values.get(slot) is None]
        if unreadable or missing:
            for problem in unreadable.values():
                dispatcher.utter_message(response="utter_not_understood_answer", problem=problem)
            return self._back_to_form([*unreadable, *missing])
        if tracker.get_slot(CONFIRM) is not True:
            return self._back_to_form([CONFIRM])
        revising = tracker.get_slot("revising") or None
        try:
            with services.sessions().begin() as session:
                submitted = submit(session, draft.policy, draft.request_data(), draft.today, draft.language,
                                   requester=draft.requester, team_id=_team_of(tracker.sender_id),
                                   revising=(revising["id"], revising["revision"]) if revising else None,
                                   exclude_request_id=draft.exclude_request_id)
        except RequestError as exc:
            for field, reason in exc.problems:
                dispatcher.utter_message(response="utter_not_understood_answer",
                                         problem=request_problem(draft, exc, field, reason))
            return self._back_to_form([slot_of(field) for field, _ in exc.problems])
        except BlockedRequest as exc:
            blocks = [f for f in exc.evaluation.findings if f.severity == BLOCK]
            told = tell_blocks(dispatcher, blocks, draft.policy, draft.language)
            fields = [slot_of(f.field) for f in blocks if f.field and slot_of(f.field) in ANSWER_SLOTS]
            return self._back_to_form(fields or [CONFIRM], last_block=told[-1] if told else None)
        except storage.NotAuthorized:
            # Not this sender's request (a forged `revising` slot): say nothing about it.
            log.warning("%s tried to revise request %s, which is not theirs", tracker.sender_id,
                        (revising or {}).get("id"))
            dispatcher.utter_message(response="utter_revision_not_possible",
                                     reference=revising["reference"] if revising else "",
                                     why=say("revision_not_yours", draft.language))
            return [ActiveLoop(None), *clear_answers()]
        except (storage.StaleRevision, storage.InvalidTransition) as exc:
            dispatcher.utter_message(response="utter_revision_not_possible",
                                     reference=revising["reference"] if revising else "",
                                     why=say("revision_changed_meanwhile", draft.language, detail=str(exc)))
            return [ActiveLoop(None), *clear_answers()]
        except (SQLAlchemyError, storage.StorageError) as exc:
            log.exception("the request could not be stored")
            dispatcher.utter_message(response="utter_submit_failed", reason=type(exc).__name__)
            return self._back_to_form([CONFIRM])
        request, evaluation, reference, changes = (submitted.request, submitted.evaluation, submitted.reference,
                                                   submitted.changes)
        if revising:
            changed = (", ".join(field_label(slot_of(field), draft.policy, draft.language) for field in changes)
                       or say("changed_nothing", draft.language))
            if submitted.still_approved:
                dispatcher.utter_message(response="utter_revised_still_approved", reference=reference, changed=changed)
            else:
                dispatcher.utter_message(response="utter_resubmitted", reference=reference, changed=changed,
                                         approver=route_text(evaluation, draft))
        else:
            dispatcher.utter_message(
                response="utter_submitted", reference=reference, title=request.title or request.description,
                total=money(evaluation.total, draft), approver=route_text(evaluation, draft),
            )
        payload = {"type": "resubmitted" if revising else "submitted", "request_id": submitted.request_id,
                   "reference": reference, "evaluation": evaluation.to_dict()}
        if revising:
            payload["changes"] = {field: [str(old) if old is not None else None, str(new) if new is not None else None]
                                  for field, (old, new) in changes.items()}
        dispatcher.utter_message(json_message=payload)
        return [ActiveLoop(None), *clear_answers()]

    @staticmethod
    def _back_to_form(slots, last_block=None) -> List[Dict[str, Any]]:
        """Clear the answers to ask again and reopen the form, which asks the first of them."""
        events = [SlotSet(slot, None) for slot in dict.fromkeys(slots) if slot]
        events.append(SlotSet(CONFIRM, None))
        if last_block is not None:
            events.append(SlotSet("last_block", last_block))
        return events + [FollowupAction("purchase_form")]


def _team_of(sender_id: str):
    return sender_id.rsplit(":", 1)[0] if sender_id and ":" in sender_id else None
