"""The shape of a policy pack, checked by pydantic: types, ranges, unknown keys, references.

Every model forbids unknown keys so a misspelt key is an error, not a silently ignored rule.
Cross-references (a tier naming a level, a category naming a standing offer) are checked in
root validators that raise `Broken`, which carries the path of the offending value so the
loader can point at its line.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Dict, Iterator, List, Literal, Optional, Sequence, Tuple, Type

from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, Extra, Field, HttpUrl, conint, constr, create_model, root_validator, validator

from .messages import MESSAGES, REQUIREMENT_VALUES, allowed_values
from .money import AmountError, parse_amount
from .text import DEFAULT, LocalText, template_problems

# The constrained values of a pack. pydantic 1's constr() and conint() make a class at run time,
# which a type checker cannot read as a type: to it, each is the plain str or int it holds.
if TYPE_CHECKING:
    Id = str
    PersonId = str
    Code = str
    Channel = str
    Language = str
    Languages = List[str]
    Currency = str
    Name = str
    CardId = str
    Synonym = str
    IgnoredWord = str
    WindowDays = int
    Similarity = int
    AtLeastOne = int
    NoticeDays = int
else:
    Id = constr(regex=r"^[a-z][a-z0-9_]*$", max_length=64)
    PersonId = constr(regex=r"^[UW][A-Z0-9]{2,}$", max_length=32)
    Code = constr(regex=r"^[A-Z]{2,3}$")
    # A Slack channel: '#name' or a channel id.
    Channel = constr(regex=r"^(#[a-z0-9][a-z0-9_-]{0,79}|C[A-Z0-9]{2,})$")
    Language = constr(regex=r"^[a-z]{2}$")
    Languages = List[Language]
    Currency = constr(regex=r"^[A-Z]{3}$")
    Name = constr(min_length=1, max_length=100)
    CardId = constr(min_length=1, max_length=64)
    Synonym = constr(min_length=2)
    IgnoredWord = constr(min_length=1, max_length=40)
    WindowDays = conint(ge=1, le=3660)
    Similarity = conint(ge=50, le=100)
    AtLeastOne = conint(ge=1)
    NoticeDays = conint(ge=0, le=365)
Path = Tuple[object, ...]

# The checks the engine runs, by rule id; the policy gives each a label (`labels:`).
RULE_IDS = (
    "limits.per_transaction",
    "limits.monthly",
    "category.allowed",
    "category.max_total",
    "category.requirements",
    "payment.method",
    "data.classification",
    "splitting.same_supplier",
    "splitting.same_requirement",
    "splitting.attestation",
    "sole_sourcing",
    "supplier.former_public_servant",
    "needed_by",
    "disclosure.proactive",
    "indigenous_business",
    "routing",
)


class Broken(ValueError):
    """One or more problems found by a cross-check, each at a path inside the model."""

    def __init__(self, problems: Sequence[Tuple[Path, str]]):
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


class Source(LocalText):
    """The document a rule rests on, cited to the requester with its findings: one wording per
    language of the pack ({en: ..., fr: ...}), or plain text in a one-language pack. Like every
    text people read, `policy check` refuses it without a wording in each of the pack's languages."""

    MIN, MAX = 3, 500

    @classmethod
    def validate(cls, value: object) -> "Source":
        text = super().validate(value)
        for language, wording in text.items():
            wording = wording.strip()
            if not cls.MIN <= len(wording) <= cls.MAX:
                problem = f"must be {cls.MIN} to {cls.MAX} characters, not {len(wording)}"
                # Point at the wording that is wrong, not only at `source:`.
                raise Broken([((), problem)] if language == DEFAULT else [((language,), problem)])
            text[language] = wording
        return text


class Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        allow_mutation = False  # a loaded policy is shared (loader.parse_policy): nobody edits it
        allow_population_by_field_name = True
        anystr_strip_whitespace = True


class Amount(Decimal):
    """A positive amount of money in the policy, rounded to cents."""

    @classmethod
    def __get_validators__(cls):
        yield cls.validate

    @classmethod
    def validate(cls, value: object) -> Decimal:
        try:
            return parse_amount(value)
        except AmountError as exc:
            raise ValueError(str(exc)) from None


class CostCentreCode(str):
    @classmethod
    def __get_validators__(cls):
        yield cls.validate

    @classmethod
    def validate(cls, value: object) -> str:
        # YAML reads unquoted 010200 as the number 10200: refuse rather than lose the zero.
        if not isinstance(value, str):
            raise ValueError(
                f"write the cost centre code in quotes exactly as it is written, leading zeros included "
                f"(e.g. '010200'): unquoted, YAML reads it as {value}, not as text"
            )
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}", value):
            raise ValueError(f"'{value}' is not a cost centre code (letters, digits, - and _)")
        return value


# The code is kept as the str it was given, so to a type checker the keys it validates are str.
if TYPE_CHECKING:
    CostCentreKey = str
else:
    CostCentreKey = CostCentreCode


class Percent(Decimal):
    @classmethod
    def __get_validators__(cls):
        yield cls.validate

    @classmethod
    def validate(cls, value: object) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            raise ValueError("must be a percentage such as 13 or 14.975")
        try:
            number = Decimal(str(value).strip().rstrip("%"))
        except ArithmeticError:
            raise ValueError(f"'{value}' is not a percentage such as 13 or 14.975") from None
        if not number.is_finite() or number < 0 or number > 100:
            raise ValueError("must be a percentage between 0 and 100")
        return number


def _dated_in_order(entries: list, what: str) -> list:
    starts = [entry.from_ for entry in entries]
    if len(set(starts)) != len(starts):
        raise ValueError(f"two {what} start on the same date; each 'from' date must be different")
    return sorted(entries, key=lambda entry: entry.from_)


def _non_empty(field: str):
    def check(cls, value):
        if not value:
            raise ValueError("must list at least one entry")
        return value

    return validator(field, allow_reuse=True)(check)


def _by_date(field: str, what: str):
    """Entries that take effect on dates: no two on one date, kept in date order."""
    return validator(field, allow_reuse=True)(lambda cls, entries: _dated_in_order(entries, what))


class DatedAmount(Strict):
    from_: date = Field(alias="from")
    amount: Amount


class TransactionLimit(Strict):
    amounts: List[DatedAmount] = Field(..., min_items=1)
    source: Source

    _ordered = _by_date("amounts", "limits")


class MonthlyLimit(Strict):
    per: Literal["card", "cost_centre"]
    amounts: List[DatedAmount] = Field(..., min_items=1)
    source: Source

    _ordered = _by_date("amounts", "limits")


class Limits(Strict):
    per_transaction: TransactionLimit
    monthly: MonthlyLimit


class TaxRate(Strict):
    from_: date = Field(alias="from")
    percent: Percent
    kind: Id  # one of tax.kinds, which names it in each language (HST / TVH)


class Jurisdiction(Strict):
    name: LocalText
    rates: List[TaxRate] = Field(..., min_items=1)

    _ordered = _by_date("rates", "rates")


class Tax(Strict):
    source: Source
    note: Optional[LocalText]
    kinds: Dict[Id, LocalText]
    jurisdictions: Dict[Code, Jurisdiction]
    _jurisdictions_given = _non_empty('jurisdictions')


class StandingOffer(Strict):
    name: LocalText
    how_to_order: LocalText
    url: Optional[HttpUrl]
    source: Source


class Requirement(Strict):
    """An extra answer some categories need: an attestation that must be yes, or a text."""

    field: Id
    kind: Literal["attestation", "text"]
    label: Optional[LocalText]  # a short name for summaries; the question stands in without one
    question: LocalText
    message: LocalText
    source: Source


class Category(Strict):
    name: LocalText
    synonyms: Dict[Language, List[Synonym]] = {}
    # Things staff buy in this category, as they write them ("Udemy course", "boîte de stylos"): the
    # dialogue guesses the category of an item from the words of these, the synonyms and the name.
    examples: Dict[Language, List[Synonym]] = {}
    kind: Literal["goods", "services"]
    status: Literal["allowed", "banned", "standing_offer"]
    reason: Optional[LocalText]
    alternative: Optional[LocalText]
    standing_offer: Optional[Id]
    requires: List[Id] = []
    data_classifications: Optional[List[Id]]
    payment_methods: Optional[List[Id]]
    extra_approval: List[Id] = []
    max_total: Optional[Amount]
    source: Source

    @root_validator(skip_on_failure=True)
    def _status_needs(cls, values):
        status = values["status"]
        if status == "banned" and not (values.get("reason") and values.get("alternative")):
            raise Broken([((), "a banned category needs a 'reason' and an 'alternative' to offer instead")])
        if status == "standing_offer" and not values.get("standing_offer"):
            raise Broken([((), "status standing_offer needs 'standing_offer:' naming one of standing_offers")])
        if status != "standing_offer" and values.get("standing_offer"):
            raise Broken([(("standing_offer",), "only a category with status standing_offer names a standing offer")])
        return values


class DataClassification(Strict):
    levels: Dict[Id, LocalText]
    _levels_given = _non_empty('levels')
    allowed: List[Id] = Field(..., min_items=1)
    source: Source


class PaymentMethod(Strict):
    name: LocalText
    reason_required: bool = False


class Payment(Strict):
    methods: Dict[Id, PaymentMethod]
    _methods_given = _non_empty('methods')
    allowed: List[Id] = Field(..., min_items=1)
    source: Source


class SameNeed(Strict):
    """Two bands of policies/same_need.py's score (percent): a block at or above `block`, a
    warning for the approver from `warn`; the words it ignores and the wordings of one thing."""
    block: Similarity = 85
    warn: Similarity = 70
    ignore_words: Dict[Language, List[IgnoredWord]] = {}
    # Wordings that say how a thing is bought ("licence", "abonnement"): the other words name it.
    generic_words: List[Synonym] = []
    synonyms: List[List[Synonym]] = []
    # Add policies/vocabulary/same_need.yml, the vocabulary every pack shares, after these synonyms.
    shared_vocabulary: bool = True

    @root_validator(skip_on_failure=True)
    def _bands_in_order(cls, values):
        if values["warn"] > values["block"]:
            raise Broken([(("warn",), f"warn ({values['warn']}) must not be above block ({values['block']})")])
        return values


class Splitting(Strict):
    window_days: WindowDays
    supplier_similarity: Similarity = 90
    # Words that do not tell two suppliers apart: legal forms, the country.
    supplier_ignore_words: List[IgnoredWord] = []
    same_need: SameNeed = SameNeed()
    source: Source
    # Replaced by same_need; named so that an older pack is told what to write instead.
    requirement_similarity: Optional[int] = None

    @validator("requirement_similarity")
    def _replaced(cls, value):
        if value is not None:
            raise ValueError("requirement_similarity was replaced by same_need: {block: 85, warn: 55} "
                             "(a score of what is bought, not of the characters; docs/policy-packs.md)")
        return value


class SoleSourcing(Strict):
    window_days: WindowDays
    warn_after_count: AtLeastOne
    max_total: Dict[Literal["goods", "services"], Amount]
    kind_names: Dict[Literal["goods", "services"], LocalText]
    source: Source


class FormerPublicServant(Strict):
    extra_approval: List[Id] = []
    source: Source


class NeededBy(Strict):
    short_notice_days: NoticeDays
    source: Source


class ProactiveDisclosure(Strict):
    threshold: Amount
    source: Source


class IndigenousBusiness(Strict):
    target_percent: Percent
    directory_url: Optional[HttpUrl]
    source: Source


class Person(Strict):
    name: Name
    language: Optional[Language]


class Level(Strict):
    name: LocalText
    # Who takes over when nobody at this level may decide (the requester is the approver) or a
    # decision waits past the escalation interval.
    escalates_to: Optional[Id]


class Tier(Strict):
    up_to: Optional[Amount]
    levels: List[Id] = Field(..., min_items=1)



class CostCentre(Strict):
    name: LocalText
    channel: Channel
    card: Optional[CardId]
    approvers: Dict[Id, List[PersonId]] = {}


class Delegation(Strict):
    person: PersonId
    delegate: PersonId
    from_: date = Field(alias="from")
    to: date

    @root_validator(skip_on_failure=True)
    def _ordered(cls, values):
        if values["to"] < values["from_"]:
            raise Broken([(("to",), "'to' is before 'from'")])
        if values["person"] == values["delegate"]:
            raise Broken([(("delegate",), "a person cannot be their own delegate")])
        return values


class Reminders(Strict):
    remind_after_hours: AtLeastOne
    escalate_after_hours: AtLeastOne

    @root_validator(skip_on_failure=True)
    def _escalate_later(cls, values):
        if values["escalate_after_hours"] <= values["remind_after_hours"]:
            raise Broken([(("escalate_after_hours",), "must be later than remind_after_hours")])
        return values


class Approval(Strict):
    # Listed from the lowest authority to the highest: a requester who would approve their own
    # request is passed to the next level up.
    levels: Dict[Id, Level]
    _levels_given = _non_empty('levels')
    tiers: List[Tier] = Field(..., min_items=1)
    approvers: Dict[Id, List[PersonId]] = {}
    delegates: List[Delegation] = []
    cost_centres: Dict[CostCentreKey, CostCentre]
    _cost_centres_given = _non_empty('cost_centres')
    reminders: Reminders
    source: Source

    @validator("tiers")
    def _tiers_ascending(cls, tiers):
        caps = [tier.up_to for tier in tiers]
        if any(cap is None for cap in caps[:-1]):
            raise ValueError("only the last tier may leave out 'up_to' (no upper bound)")
        bounded = [cap for cap in caps if cap is not None]
        if bounded != sorted(bounded) or len(set(bounded)) != len(bounded):
            raise ValueError("tiers must be listed with 'up_to' rising")
        return tiers



class Pack(Strict):
    id: Id
    name: LocalText
    currency: Currency
    languages: Languages = Field(..., min_items=1)
    default_language: Language
    locales: Dict[Language, str]
    timezone: str
    # Where the bot tells admins that a policy edit was refused or a new version is in force.
    admin_channel: Optional[Channel] = None

    @validator("locales", each_item=True)
    def _known_locale(cls, value):
        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError):
            raise ValueError(f"'{value}' is not a locale such as en_CA or fr_CA") from None
        return value

    @validator("timezone")
    def _known_zone(cls, value):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone such as America/Toronto") from None
        return value

    @root_validator(skip_on_failure=True)
    def _languages_agree(cls, values):
        problems = []
        if values["default_language"] not in values["languages"]:
            problems.append((("default_language",), "must be one of 'languages'"))
        for language in values["languages"]:
            if language not in values["locales"]:
                problems.append((("locales",), f"no locale for language '{language}' (e.g. {language}: {language}_CA)"))
        if problems:
            raise Broken(problems)
        return values

    def locale_for(self, language: Optional[str] = None) -> str:
        """The locale money and dates are written in for a language; the default language's if
        the pack does not have it (or none is given)."""
        return self.locales.get(language or "") or self.locales[self.default_language]


# Models made from the message keys and the rule ids. Their fields are read with getattr, so a type
# checker need only know that they are models.
if TYPE_CHECKING:
    Messages = BaseModel
    Labels = BaseModel
else:
    Messages = create_model(
        "Messages", __config__=Strict.Config, **{key: (LocalText, ...) for key in MESSAGES}
    )
    Labels = create_model(
        "Labels", __config__=Strict.Config,
        **{rule.replace(".", "__"): (LocalText, Field(..., alias=rule)) for rule in RULE_IDS}
    )


class Policy(Strict):
    pack: Pack
    people: Dict[PersonId, Person]
    _people_given = _non_empty('people')
    limits: Limits
    tax: Tax
    categories: Dict[Id, Category]
    _categories_given = _non_empty('categories')
    standing_offers: Dict[Id, StandingOffer] = {}
    requirements: Dict[Id, Requirement] = {}
    data_classification: DataClassification
    payment: Payment
    splitting: Splitting
    sole_sourcing: SoleSourcing
    former_public_servant: FormerPublicServant
    needed_by: NeededBy
    proactive_disclosure: ProactiveDisclosure
    indigenous_business: IndigenousBusiness
    approval: Approval
    labels: Labels
    messages: Messages

    @root_validator(skip_on_failure=True)
    def _cross_check(cls, values):
        problems = list(_references(values)) + list(_wording(values))
        if problems:
            raise Broken(problems)
        return values

    def locale_for(self, language: Optional[str] = None) -> str:
        """The locale money and dates are written in for a language: the pack's (`Pack.locale_for`)."""
        return self.pack.locale_for(language)


def _ref(path: Path, name, known, what: str) -> Iterator[Tuple[Path, str]]:
    if name not in known:
        choices = ", ".join(sorted(known)) or "none defined"
        yield path, f"'{name}' is not one of the {what} ({choices})"


def _refs(path: Path, names, known, what: str) -> Iterator[Tuple[Path, str]]:
    for index, name in enumerate(names):
        yield from _ref(path + (index,), name, known, what)


def _references(v: dict) -> Iterator[Tuple[Path, str]]:
    from .request import REQUEST_FIELDS

    approval: Approval = v["approval"]
    levels = approval.levels
    people = v["people"]
    classifications = v["data_classification"].levels
    methods = v["payment"].methods
    for name, defined in levels.items():
        if defined.escalates_to:
            yield from _ref(("approval", "levels", name, "escalates_to"), defined.escalates_to, levels,
                            "approval levels")
        seen, current = [name], defined.escalates_to
        while current in levels and current not in seen:
            seen.append(current)
            current = levels[current].escalates_to
        if current in seen:
            yield ("approval", "levels", name, "escalates_to"), ("escalation goes round in a circle: "
                                                                 f"{' -> '.join(seen + [current])}")
    for index, tier in enumerate(approval.tiers):
        yield from _refs(("approval", "tiers", index, "levels"), tier.levels, levels, "approval levels")
    for level, ids in approval.approvers.items():
        yield from _ref(("approval", "approvers", level), level, levels, "approval levels")
        yield from _refs(("approval", "approvers", level), ids, people, "people")
    for index, delegation in enumerate(approval.delegates):
        for key in ("person", "delegate"):
            yield from _ref(("approval", "delegates", index, key), getattr(delegation, key), people, "people")
    for code, centre in approval.cost_centres.items():
        for level, ids in centre.approvers.items():
            yield from _ref(("approval", "cost_centres", code, "approvers", level), level, levels, "approval levels")
            yield from _refs(("approval", "cost_centres", code, "approvers", level), ids, people, "people")
    # Every level a request can be routed to needs someone to approve it in every cost centre.
    used = {level for tier in approval.tiers for level in tier.levels}
    used |= {level for category in v["categories"].values() for level in category.extra_approval}
    used |= set(v["former_public_servant"].extra_approval)
    for code, centre in approval.cost_centres.items():
        for level in sorted(used & set(levels)):
            if not (centre.approvers.get(level) or approval.approvers.get(level)):
                yield ("approval", "cost_centres", code, "approvers"), (
                    f"no approver for level '{level}': name one here or under approval.approvers"
                )
    yield from _refs(("data_classification", "allowed"), v["data_classification"].allowed, classifications,
                     "data classification levels")
    yield from _refs(("payment", "allowed"), v["payment"].allowed, methods, "payment methods")
    yield from _refs(("former_public_servant", "extra_approval"), v["former_public_servant"].extra_approval, levels,
                     "approval levels")
    for code, jurisdiction in v["tax"].jurisdictions.items():
        for index, rate in enumerate(jurisdiction.rates):
            yield from _ref(("tax", "jurisdictions", code, "rates", index, "kind"), rate.kind, v["tax"].kinds,
                            "tax kinds")
    for key, requirement in v["requirements"].items():
        if requirement.field not in REQUEST_FIELDS:
            yield ("requirements", key, "field"), (
                f"'{requirement.field}' is not a request field ({', '.join(sorted(REQUEST_FIELDS))})"
            )
    for key, category in v["categories"].items():
        at = ("categories", key)
        if category.standing_offer:
            yield from _ref(at + ("standing_offer",), category.standing_offer, v["standing_offers"], "standing offers")
        yield from _refs(at + ("requires",), category.requires, v["requirements"], "requirements")
        yield from _refs(at + ("extra_approval",), category.extra_approval, levels, "approval levels")
        yield from _refs(at + ("data_classifications",), category.data_classifications or [], classifications,
                         "data classification levels")
        yield from _refs(at + ("payment_methods",), category.payment_methods or [], methods, "payment methods")
        for words in ("synonyms", "examples"):
            for language in getattr(category, words):
                if language not in v["pack"].languages:
                    yield at + (words, language), f"'{language}' is not one of the pack's languages"


def _wording(v: dict) -> Iterator[Tuple[Path, str]]:
    """Every text in every language of the pack; every template using only values it has."""
    pack: Pack = v["pack"]
    for path, text in _texts(v, ()):
        missing = text.missing(pack.languages, pack.default_language)
        if missing:
            yield path, f"missing the {' and '.join(missing)} text"
    for key in MESSAGES:
        for language, source in getattr(v["messages"], key).items():
            for problem in template_problems(source, allowed_values(key)):
                yield ("messages", key, language), problem
    for key, requirement in v["requirements"].items():
        for language, source in requirement.message.items():
            for problem in template_problems(source, set(REQUIREMENT_VALUES)):
                yield ("requirements", key, "message", language), problem


def _texts(node: object, path: Path) -> Iterator[Tuple[Path, LocalText]]:
    if isinstance(node, LocalText):
        yield path, node
    elif isinstance(node, BaseModel):
        for name, field in node.__fields__.items():
            yield from _texts(getattr(node, name), path + (field.alias,))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _texts(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _texts(value, path + (index,))


def _all_keys(model: Type[BaseModel], seen: set) -> Iterator[str]:
    if model in seen:
        return
    seen.add(model)
    for field in model.__fields__.values():
        yield field.alias
        for inner in (field.outer_type_, field.type_):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                yield from _all_keys(inner, seen)


# Every key the schema knows, for "did you mean" on a misspelt one.
KNOWN_KEYS = sorted(set(_all_keys(Policy, set())))
