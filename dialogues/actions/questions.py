"""Questions whose wording or choices come from the policy file, and the summary before submitting.

Adding a category, a province, a cost centre or a category requirement in the policy changes
these questions with no change to the dialogue.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import date
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from babel.dates import format_date
from rasa_sdk import Action
from rasa_sdk.events import SlotSet
from sqlalchemy.exc import SQLAlchemyError

from policies import Evaluation, format_money

from .. import answers, services
from ..draft import BOOLEAN_SLOTS, Draft, slot_of
from ..wording import say
from .changes import asked_which_this_turn
from .common import approver_names, draft_of, field_label

log = logging.getLogger(__name__)


def yes_no_buttons(language: str) -> List[Dict[str, str]]:
    """Yes / No in the requester's language; the payloads are read the same in every language."""
    return [{"title": say("button_yes", language), "payload": "yes"},
            {"title": say("button_no", language), "payload": "no"}]


def _text(local, draft: Draft) -> str:
    return local.get_text(draft.language, draft.policy.rules.pack.default_language)


def _buttons(options: Dict[str, str]) -> List[Dict[str, str]]:
    return [{"title": title[:75], "payload": key} for key, title in options.items()]


class AskChoice(Action, ABC):
    """A question answered with one of the policy's choices, as buttons (response utter_choose_<slot>)."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The answer this action asks for."""

    @abstractmethod
    def options(self, draft: Draft) -> Dict[str, str]:
        """Each choice's id (the button's payload) and its name in the requester's language."""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher, tracker, domain):
        draft, _ = draft_of(tracker)
        dispatcher.utter_message(response=f"utter_choose_{self.slot}", buttons=_buttons(self.options(draft)))
        return []


class AskCategory(AskChoice):
    slot = "category"

    def options(self, draft: Draft) -> Dict[str, str]:
        return {k: _text(c.name, draft) for k, c in draft.policy.rules.categories.items()}


class AskCostCentre(AskChoice):
    slot = "cost_centre"

    def options(self, draft: Draft) -> Dict[str, str]:
        return {k: f"{k} {_text(c.name, draft)}" for k, c in draft.policy.rules.approval.cost_centres.items()}


class AskProvince(AskChoice):
    slot = "province"

    def options(self, draft: Draft) -> Dict[str, str]:
        return {k: _text(j.name, draft) for k, j in draft.policy.rules.tax.jurisdictions.items()}


class AskDataClassification(AskChoice):
    slot = "data_classification"

    def options(self, draft: Draft) -> Dict[str, str]:
        return {k: _text(name, draft) for k, name in draft.policy.rules.data_classification.levels.items()}


class AskPaymentMethod(AskChoice):
    slot = "payment_method"

    def options(self, draft: Draft) -> Dict[str, str]:
        methods = draft.policy.rules.payment.methods
        return {k: _text(methods[k].name, draft) for k in draft.payment_methods()}


class AskPaymentReason(Action):
    def name(self) -> Text:
        return "action_ask_payment_reason"

    async def run(self, dispatcher, tracker, domain):
        draft, _ = draft_of(tracker)
        method = draft.policy.rules.payment.methods.get(draft.values.get("payment_method") or "")
        name = _text(method.name, draft) if method else ""
        dispatcher.utter_message(response="utter_ask_payment_reason_for", method=name)
        return []


class AskStandalone(Action):
    """The splitting attestation, worded by the policy with the recent purchases it is about."""

    def name(self) -> Text:
        return "action_ask_attest_standalone"

    async def run(self, dispatcher, tracker, domain):
        draft, _ = draft_of(tracker)
        message = None
        try:
            with services.sessions()() as session:
                evaluation = draft.evaluate(session)
            message = next((f.message for f in evaluation.findings if f.rule == "splitting.attestation"), None)
        except SQLAlchemyError:
            log.exception("spending history unavailable for the stand-alone question")
        dispatcher.utter_message(response="utter_ask_standalone", message=message or "",
                                 buttons=yes_no_buttons(draft.language))
        return []


class AskRequirement(Action, ABC):
    """A category requirement's question, as the policy words it (`requirements:`)."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The answer this action asks for."""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher, tracker, domain):
        draft, _ = draft_of(tracker)
        requirement = next((r for r in draft.policy.rules.requirements.values() if slot_of(r.field) == self.slot), None)
        if requirement is None:  # the policy no longer asks it: any answer will do
            dispatcher.utter_message(response="utter_ask_generic",
                                     field=field_label(self.slot, draft.policy, draft.language))
            return []
        yes_no = requirement.kind == "attestation" or self.slot in BOOLEAN_SLOTS
        buttons = yes_no_buttons(draft.language) if yes_no else None
        dispatcher.utter_message(response="utter_ask_requirement", question=_text(requirement.question, draft),
                                 buttons=buttons or [])
        return []


# One ask action per answer a category can require; the domain lists each. Kept in the module:
# rasa_sdk finds actions through Action.__subclasses__(), which holds classes only weakly, so an
# unreferenced class could be collected before the action server registers it.
REQUIREMENT_ASKS = {
    _slot: type(f"Ask_{_slot}", (AskRequirement,), {"slot": _slot})
    for _slot in ("attest_no_internal_capacity", "ip_agreement", "fixed_price", "remote_only", "licence",
                  "repository", "acceptance_criteria")
}


class AskConfirmSubmit(Action):
    """Every answer, the total with tax and who approves; then Submit, Change or Cancel."""

    def name(self) -> Text:
        return "action_ask_confirm_submit"

    async def run(self, dispatcher, tracker, domain):
        if asked_which_this_turn(tracker):
            return []  # the requester is choosing an answer to change; the summary comes after
        draft, _ = draft_of(tracker)
        try:
            with services.sessions()() as session:
                evaluation = draft.evaluate(session, stand_ins=False)
        except SQLAlchemyError:
            log.exception("summary without the database")
            dispatcher.utter_message(response="utter_checks_unavailable")
            return [SlotSet("requested_slot", None)]
        except Exception:  # an answer that no longer reads is asked again at submission
            log.exception("summary could not be evaluated")
            evaluation = None
        dispatcher.utter_message(response="utter_summary", **summary_values(draft, evaluation))
        return []


def money(amount, draft: Draft) -> str:
    return format_money(amount, currency=draft.policy.rules.pack.currency, locale=draft.locale)


def answer_lines(draft: Draft) -> List[str]:
    """One line per answer, labelled as fields.yml and the policy name them."""
    rules, values, lang = draft.policy.rules, draft.values, draft.language
    lines = []

    def label(slot: str) -> str:
        text = field_label(slot, draft.policy, lang)
        return text[:1].upper() + text[1:]

    def shown(slot: str, value: Any) -> str:
        if isinstance(value, bool):
            return say("word_yes" if value else "word_no", lang)
        if value == answers.UNKNOWN:
            return say("word_not_sure", lang)
        if slot == "category" and value in rules.categories:
            return _text(rules.categories[value].name, draft)
        if slot == "province" and value in rules.tax.jurisdictions:
            return _text(rules.tax.jurisdictions[value].name, draft)
        if slot == "cost_centre" and value in rules.approval.cost_centres:
            return f"{value} {_text(rules.approval.cost_centres[value].name, draft)}"
        if slot == "data_classification" and value in rules.data_classification.levels:
            return _text(rules.data_classification.levels[value], draft)
        if slot == "payment_method" and value in rules.payment.methods:
            return _text(rules.payment.methods[value].name, draft)
        if slot == "unit_price":
            return money(Decimal(value), draft)
        if slot == "needed_by":
            return format_date(date.fromisoformat(value), format=say("date_format", lang), locale=draft.locale)
        return str(value)

    for slot in draft.required_slots():
        if slot in values and values[slot] is not None:
            lines.append(say("summary_line", lang, label=label(slot), value=shown(slot, values[slot])))
    if values.get("attest_standalone") is not None and "attest_standalone" not in draft.required_slots():
        lines.append(say("summary_line", lang, label=label("attest_standalone"),
                         value=shown("attest_standalone", values["attest_standalone"])))
    return lines


def route_text(evaluation: Optional[Evaluation], draft: Draft) -> str:
    if evaluation is None or not evaluation.approval_route:
        return "—"
    return " → ".join(say("route_step", draft.language, names=approver_names(draft.policy, list(step.approvers),
                                                                             draft.language), level=step.name)
                      for step in evaluation.approval_route)


def summary_values(draft: Draft, evaluation: Optional[Evaluation]) -> Dict[str, str]:
    findings = []
    if evaluation is not None:
        for finding in evaluation.findings:
            mark = {"block": "⛔", "warn": "⚠️", "info": "ℹ️"}.get(finding.severity, "•")
            findings.append(f"{mark} {finding.message}")
    return {
        "summary": "\n".join(answer_lines(draft)),
        "total": money(evaluation.total, draft) if evaluation else "—",
        "subtotal": money(evaluation.subtotal, draft) if evaluation else "—",
        "tax": money(evaluation.tax, draft) if evaluation else "—",
        "tax_label": evaluation.tax_label if evaluation else say("tax", draft.language),
        "route": route_text(evaluation, draft),
        "findings": "\n".join(findings),
        "blocked": "yes" if evaluation is not None and evaluation.outcome == "blocked" else "no",
    }
