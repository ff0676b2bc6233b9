"""The request being filled in: reading each answer, and judging what has been answered so far.

The form asks one question at a time, but the policy judges whole requests. A draft fills the
unanswered fields with neutral stand-ins, evaluates, and keeps only the findings of rules whose
every input has been answered (policies.rules.INPUTS), so no answer is judged on a stand-in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from sqlalchemy.orm import Session

from policies import BLOCK, Evaluation, Finding, LoadedPolicy
from policies.rules import INPUTS
from workflow.judging import judge

from . import answers
from .answers import AnswerError

# Slots in the order the form asks them; the form's domain lists the base ones.
BASE_SLOTS = ("item", "category", "cost_centre", "supplier", "quantity", "unit_price", "province",
              "needed_by", "justification")
SUPPLIER_SLOTS = ("supplier_former_public_servant", "supplier_indigenous")
CONFIRM = "confirm_submit"
# Every slot that holds an answer; the slot `item` is the request field `description`.
ANSWER_SLOTS = BASE_SLOTS + ("data_classification", "payment_method", "payment_reason") + SUPPLIER_SLOTS + (
    "attest_standalone", "attest_no_internal_capacity", "ip_agreement", "fixed_price", "remote_only",
    "licence", "repository", "acceptance_criteria")
SLOT_TO_FIELD = {"item": "description"}
FIELD_TO_SLOT = {v: k for k, v in SLOT_TO_FIELD.items()}
BOOLEAN_SLOTS = {"supplier_former_public_servant", "attest_standalone", "attest_no_internal_capacity",
                 "ip_agreement", "fixed_price", "remote_only"}
TITLE_LENGTH = 80


def field_of(slot: str) -> str:
    return SLOT_TO_FIELD.get(slot, slot)


def slot_of(request_field: str) -> str:
    return FIELD_TO_SLOT.get(request_field, request_field)


@dataclass
class Draft:
    """One requester's answers, read into the values a request takes."""

    policy: LoadedPolicy
    requester: str
    today: date
    language: str = "en"
    values: Dict[str, Any] = field(default_factory=dict)  # slot -> value as the request takes it
    # A stored request being revised: not its own past purchase when checking for splitting.
    exclude_request_id: Optional[int] = None

    @property
    def locale(self) -> str:
        return self.policy.rules.pack.locale_for(self.language)

    # -- reading answers ----------------------------------------------------------------------

    def read(self, slot: str, raw: Any, intent: Optional[str] = None) -> Any:
        """The value of an answer, or AnswerError saying what to type instead."""
        if slot in BOOLEAN_SLOTS:
            return answers.read_yes_no(raw, intent)
        if slot == "supplier_indigenous":
            return answers.read_yes_no(raw, intent, allow_unknown=True)
        if slot == "quantity":
            return answers.read_quantity(raw)
        if slot == "unit_price":
            return str(answers.read_amount(raw, self.locale, self.policy.rules.pack.currency))
        if slot == "needed_by":
            return answers.read_date(raw, self.today, self.language).isoformat()
        choices: Dict[str, Callable[[], Dict[str, List[str]]]] = {
            "category": lambda: answers.category_options(self.policy),
            "province": lambda: answers.province_options(self.policy),
            "cost_centre": lambda: answers.cost_centre_options(self.policy),
            "data_classification": lambda: answers.classification_options(self.policy),
            "payment_method": lambda: answers.payment_options(self.policy, self.payment_methods()),
        }
        if slot in choices:
            options = choices[slot]()
            chosen = answers.choose(raw, options)
            if chosen is None and slot == "category":
                chosen = answers.guess_category(raw, self.policy, self.language)
            if chosen is None:
                raise AnswerError("not_a_choice", text=answers.clean(raw)[:60])
            return chosen
        text = answers.clean(raw)
        limit = 200 if slot in ("supplier", "licence", "repository") else answers.MAX_ANSWER
        if not text:
            raise AnswerError("answer_empty")
        if len(text) > limit:
            raise AnswerError("answer_too_long", length=len(text), limit=limit)
        return text

    # -- which questions apply ----------------------------------------------------------------

    def category(self):
        return self.policy.rules.categories.get(self.values.get("category") or "")

    def payment_methods(self) -> List[str]:
        category = self.category()
        allowed = category.payment_methods if category and category.payment_methods \
            else self.policy.rules.payment.allowed
        return [m for m in allowed if m in self.policy.rules.payment.methods]

    def classifications(self) -> List[str]:
        category = self.category()
        return list(category.data_classifications if category and category.data_classifications
                    else self.policy.rules.data_classification.allowed)

    def asks_classification(self) -> bool:
        """Services may touch the department's information; goods do not."""
        category = self.category()
        return bool(category and (category.kind == "services" or category.data_classifications))

    def required_slots(self, evaluation: Optional[Evaluation] = None) -> List[str]:
        """The questions for this request, in order; the summary last."""
        slots = list(BASE_SLOTS)
        category = self.category()
        if self.asks_classification():
            slots.append("data_classification")
        if len(self.payment_methods()) > 1:
            slots.append("payment_method")
        method = self.policy.rules.payment.methods.get(self.values.get("payment_method") or "")
        if method and method.reason_required:
            slots.append("payment_reason")
        slots += SUPPLIER_SLOTS
        if category:
            requirements = self.policy.rules.requirements
            slots += [slot_of(requirements[key].field) for key in category.requires if key in requirements]
        if evaluation is not None and any(f.rule == "splitting.attestation" for f in evaluation.findings):
            slots.append("attest_standalone")
        slots.append(CONFIRM)
        return list(dict.fromkeys(slots))

    # -- judging ------------------------------------------------------------------------------

    def answered_fields(self) -> set:
        return {field_of(slot) for slot, value in self.values.items() if value is not None and slot in ANSWER_SLOTS}

    def request_data(self, stand_ins: bool = False) -> Dict[str, Any]:
        """The request as parse_request takes it. With stand_ins, unanswered fields get neutral
        values (the findings that read them are dropped by `findings_to_tell`)."""
        rules = self.policy.rules
        data: Dict[str, Any] = {"requester": self.requester}
        for slot, value in self.values.items():
            if slot not in ANSWER_SLOTS or value is None:
                continue
            if slot == "supplier_indigenous":
                value = None if value == answers.UNKNOWN else value
            data[field_of(slot)] = value
        # Answers not asked for this request take the policy's only choice.
        if "data_classification" not in data and not self.asks_classification():
            data["data_classification"] = self.classifications()[0]
        if "payment_method" not in data and len(self.payment_methods()) == 1:
            data["payment_method"] = self.payment_methods()[0]
        if "description" in data:
            data["title"] = _title(data["description"])
        if stand_ins:
            first_allowed = next((k for k, c in rules.categories.items() if c.status == "allowed"),
                                 next(iter(rules.categories)))
            defaults = {
                "category": first_allowed,
                "cost_centre": next(iter(rules.approval.cost_centres)),
                "description": "(not given yet)",
                "supplier": "(not given yet)",
                "quantity": 1,
                "unit_price": "0.01",
                "province": next(iter(rules.tax.jurisdictions)),
                "needed_by": (self.today + timedelta(days=365)).isoformat(),
                "data_classification": self.classifications()[0],
                "payment_method": self.payment_methods()[0] if self.payment_methods() else rules.payment.allowed[0],
            }
            for key, value in defaults.items():
                data.setdefault(key, value)
        if isinstance(data.get("unit_price"), str):
            data["unit_price"] = Decimal(data["unit_price"])
        return data

    def evaluate(self, session: Session, stand_ins: bool = True) -> Evaluation:
        _, evaluation = judge(session, self.policy, self.request_data(stand_ins=stand_ins), self.today, self.language,
                              exclude_request_id=self.exclude_request_id)
        return evaluation

    def findings_to_tell(self, evaluation: Evaluation) -> List[Finding]:
        """Blocking findings that rest only on answers given (none on a stand-in)."""
        answered = self.answered_fields()
        told = []
        for finding in evaluation.findings:
            if finding.severity != BLOCK:
                continue
            inputs = INPUTS.get(finding.rule, frozenset())
            askable = {f for f in inputs if slot_of(f) in ANSWER_SLOTS}
            if not askable <= answered:
                continue
            if finding.field and slot_of(finding.field) in ANSWER_SLOTS and finding.field not in answered:
                continue  # a question still to come (a requirement, the stand-alone attestation)
            told.append(finding)
        return told


def _title(description: str) -> str:
    return description if len(description) <= TITLE_LENGTH else description[: TITLE_LENGTH - 1].rstrip() + "…"


def draft_from_slots(policy: LoadedPolicy, requester: str, today: date, language: str, slots: Mapping[str, Any],
                     exclude_request_id: Optional[int] = None) -> Tuple[Draft, Dict[str, str]]:
    """A draft from stored slot values, each read again; the second value maps slot -> problem
    for every answer that no longer reads (it may have been stored while checks were down), said
    in the requester's language."""
    draft = Draft(policy, requester, today, language, exclude_request_id=exclude_request_id)
    problems: Dict[str, str] = {}
    for slot in ANSWER_SLOTS:
        raw = slots.get(slot)
        if raw is None:
            continue
        try:
            # Category first: which payment methods and classifications are valid depends on it.
            draft.values[slot] = draft.read(slot, raw)
        except AnswerError as exc:
            problems[slot] = exc.text(language, draft.locale)
    return draft, problems


def requester_of(sender_id: str) -> str:
    """Slack's `team:user` sender id -> the user id the policy names; other ids unchanged."""
    return sender_id.rsplit(":", 1)[-1] if sender_id else sender_id
