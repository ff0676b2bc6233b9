"""Things a requester may ask at any point; the form, if one is open, resumes after each."""
from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

import storage
from policies import format_money
from policies.facts import in_force

from .. import answers, services
from ..draft import requester_of, slot_of
from ..opening import read_opening
from ..wording import say
from .common import (
    approver_names,
    clear_answers,
    entity_values,
    field_label,
    has_answers,
    language_of,
    latest_intent,
    latest_text,
)

log = logging.getLogger(__name__)

BLOCK_WORDS = ("block", "not allowed", "refus", "can't", "cannot", "can not", "stopped", "wrong", "bloqu", "interdit",
               "pourquoi pas")


class ActionExplain(Action):
    """"Why are you asking this?" from fields.yml or the policy; "why was that blocked?" from the
    rule's own message and source."""

    def name(self) -> Text:
        return "action_explain"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List:
        policy = services.POLICY.get()
        language = language_of(tracker, policy)
        said = answers.folded(latest_text(tracker))
        block = tracker.get_slot("last_block")
        requested = tracker.get_slot("requested_slot") if tracker.active_loop_name else None
        about_block = block and (not requested or any(word in said for word in BLOCK_WORDS))
        if about_block:
            dispatcher.utter_message(response="utter_explain_block", rule_label=block.get("label", ""),
                                     message=block.get("message", ""), source=block.get("source", ""))
            return []
        if requested:
            entry = services.fields().get(requested)
            requirement = next((r for r in policy.rules.requirements.values() if slot_of(r.field) == requested), None)
            if requirement is not None:
                reason = requirement.message.get_text(language, policy.rules.pack.default_language)
                source = requirement.source.get_text(language, policy.rules.pack.default_language)
                dispatcher.utter_message(response="utter_explain_requirement", reason=reason, source=source)
                return []
            if entry is not None:
                dispatcher.utter_message(response="utter_explain_question",
                                         field_label=field_label(requested, policy, language),
                                         reason=services.in_language(entry["why"], language))
                return []
            if requested == "confirm_submit":
                dispatcher.utter_message(response="utter_explain_confirm")
                return []
        dispatcher.utter_message(response="utter_explain_nothing")
        return []


class ActionCheckStatus(Action):
    """The requester's requests, newest first, with what each is waiting for."""

    def name(self) -> Text:
        return "action_check_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List:
        policy = services.POLICY.get()
        language = language_of(tracker, policy)
        locale = policy.rules.pack.locale_for(language)
        try:
            with services.sessions()() as session:
                requests = storage.list_requests(session, requester=requester_of(tracker.sender_id), limit=10)
                rows = []
                for req in requests:
                    waiting = ""
                    if req.status == storage.Status.SUBMITTED.value and req.route \
                            and req.approval_step < len(req.route):
                        step = req.route[req.approval_step]
                        waiting = say("status_waiting_for", language,
                                      names=approver_names(policy, step.get("approvers", []), language))
                    total = format_money(Decimal(req.total), currency=policy.rules.pack.currency, locale=locale)
                    title = req.title or req.description[:60]
                    rows.append(say("status_line", language, reference=req.reference, title=title, total=total,
                                    status=status_name(req.status, language), waiting=waiting))
        except SQLAlchemyError:
            log.exception("status unavailable")
            dispatcher.utter_message(response="utter_status_unavailable")
            return []
        if not rows:
            dispatcher.utter_message(response="utter_status_none")
        else:
            dispatcher.utter_message(response="utter_status", requests="\n".join(rows))
        return []


def status_name(status: str, language: str) -> str:
    """A request's status as the requester reads it ("changes requested", "modifications demandées")."""
    try:
        return say(f"status_{status}", language)
    except KeyError:  # a status added to storage but not yet worded
        return status.replace("_", " ")


class ActionCanIBuy(Action):
    """"Can I buy X on my card?", answered from the category rules without starting a request."""

    def name(self) -> Text:
        return "action_can_i_buy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List:
        policy = services.POLICY.get()
        rules = policy.rules
        language = language_of(tracker, policy)
        default = rules.pack.default_language
        on = services.today(policy)
        locale = rules.pack.locale_for(language)
        limit = in_force(rules.limits.per_transaction.amounts, on)
        monthly = in_force(rules.limits.monthly.amounts, on)
        limit_text = format_money(limit.amount, currency=rules.pack.currency, locale=locale) if limit else "—"
        monthly_text = format_money(monthly.amount, currency=rules.pack.currency, locale=locale) if monthly else "—"
        items = entity_values(tracker, "item")
        category_id = next(iter(entity_values(tracker, "category")), None)
        thing = items[0] if items else latest_text(tracker)
        category_id = category_id if category_id in rules.categories else answers.guess_category(thing, policy)
        if category_id is None:
            if not items:
                dispatcher.utter_message(response="utter_can_i_buy_limits", limit=limit_text, monthly=monthly_text)
                return []
            allowed = ", ".join(c.name.get_text(language, default) for c in rules.categories.values()
                                if c.status == "allowed")
            dispatcher.utter_message(response="utter_can_i_buy_unknown", item=answers.clean(thing)[:80],
                                     allowed=allowed)
            return []
        category = rules.categories[category_id]
        name = category.name.get_text(language, default)
        if category.status == "banned":
            assert category.reason and category.alternative  # the schema requires both of a banned category
            message = (f"{category.reason.get_text(language, default)} "
                       f"{category.alternative.get_text(language, default)}")
            dispatcher.utter_message(response="utter_can_i_buy_no", category=name, message=message,
                                     source=category.source.get_text(language, default))
        elif category.status == "standing_offer":
            assert category.standing_offer  # the schema requires it of the status standing_offer
            offer = rules.standing_offers[category.standing_offer]
            message = f"{offer.name.get_text(language, default)}. {offer.how_to_order.get_text(language, default)}"
            dispatcher.utter_message(response="utter_can_i_buy_standing_offer", category=name, message=message,
                                     source=offer.source.get_text(language, default))
        else:
            cap = category.max_total if category.max_total is not None \
                and (limit is None or category.max_total < limit.amount) else None
            cap_text = format_money(cap, currency=rules.pack.currency, locale=locale) if cap is not None else limit_text
            if tracker.active_loop_name is None and _purchase_facts(latest_text(tracker), policy, language):
                # "Can I put the AWS exam on my card? It's $150": yes, and the request is started
                # with what the message says (the form reads it as a first message).
                dispatcher.utter_message(response="utter_can_i_buy_yes_started", category=name, limit=cap_text,
                                         monthly=monthly_text)
                return [FollowupAction("purchase_form")]
            dispatcher.utter_message(response="utter_can_i_buy_yes", category=name, limit=cap_text,
                                     monthly=monthly_text)
        return []


def _purchase_facts(text: str, policy, language: str) -> bool:
    """Whether a question carries the facts of a purchase beyond the thing: a price, a supplier, a
    cost centre or a count ("a French course" is one, but says no more than the thing)."""
    values = read_opening(answers.clean(text), policy, language).values
    count = values.get("quantity")
    return any(slot in values for slot in ("unit_price", "supplier", "cost_centre")) \
        or isinstance(count, int) and count > 1


# A cancel typed in so many words clears the answers at once: a cancel word ("cancel", "annuler",
# "stop"), with nothing else but these filler words. Anything else the NLU took for cancel ("never
# mind", "drop it", a supplier's name it misread) is asked first, and so is the summary's Cancel
# button (/cancel, which the channel also sends for a typed /restart, /session_start or /back).
CANCEL_WORDS = {"cancel", "abort", "stop", "quit", "annuler", "annule", "annulez", "arrete", "arreter", "arretez"}
CANCEL_FILLER = {"please", "pls", "plz", "just", "now", "the", "this", "that", "my", "it", "whole", "request",
                 "purchase", "order", "all", "everything", "yes", "ok", "okay", "i", "want", "to",
                 "oui", "je", "veux", "voudrais", "la", "le", "l", "ma", "mon", "cette", "ce", "ca", "demande",
                 "achat", "commande", "tout", "svp", "s", "il", "vous", "plait", "te"}
CONFIRM_CANCEL = "utter_confirm_cancel"


def plainly_cancels(text: Any) -> bool:
    """"cancel", "cancel the request please", "annule ça": unmistakably a cancel, typed."""
    if str(text or "").strip().startswith("/"):
        return False  # a button or a command (dialogues/rasa_plugins/channel.py), not the requester's words
    said = re.findall(r"[^\W\d_]+", answers.folded(str(text or "")))
    return (any(word in CANCEL_WORDS for word in said)
            and all(word in CANCEL_WORDS or word in CANCEL_FILLER for word in said))


def asked_to_confirm_cancel(tracker: Tracker) -> bool:
    """Whether the bot's last message before the requester's latest one was "Cancel this request?"."""
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return False
            seen_user = True
        elif kind == "bot" and seen_user:
            return (event.get("metadata") or {}).get("utter_action") == CONFIRM_CANCEL
    return False


def cancelled(dispatcher: CollectingDispatcher) -> List[Dict[str, Any]]:
    dispatcher.utter_message(response="utter_cancelled")
    return [ActiveLoop(None), *clear_answers()]


class ActionCancelPurchase(Action):
    """Cancel: the answers are cleared when the requester said so plainly or confirmed it; a cancel
    the NLU only read into the message asks "Cancel this request?" first, with the form paused
    and every answer kept (Yes, No: ActionResume)."""

    def name(self) -> Text:
        return "action_cancel_purchase"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List:
        if not has_answers(tracker):
            if tracker.active_loop_name is None:
                dispatcher.utter_message(response="utter_nothing_to_cancel")
                return []
            return cancelled(dispatcher)  # nothing to lose
        if plainly_cancels(latest_text(tracker)) or asked_to_confirm_cancel(tracker):
            return cancelled(dispatcher)
        dispatcher.utter_message(response=CONFIRM_CANCEL)
        return [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionResume(Action):
    """Yes, No or "continue" with no question open.

    Just after "Cancel this request?": Yes cancels, No or "continue" goes back to the request.
    Otherwise Yes ("submit") or "continue" finishes the request in progress (kept after "bye"),
    if there is one, and No asks what to buy.
    """

    def name(self) -> Text:
        return "action_resume"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List:
        intent = latest_intent(tracker)
        kept = has_answers(tracker)
        if kept and asked_to_confirm_cancel(tracker):
            if intent == "affirm":
                return cancelled(dispatcher)
            dispatcher.utter_message(response="utter_resume")
            return [FollowupAction("purchase_form")]
        if kept and intent != "deny":
            if intent == "resume":
                dispatcher.utter_message(response="utter_resume")
            return [FollowupAction("purchase_form")]
        dispatcher.utter_message(response="utter_how_can_i_help")
        return []
