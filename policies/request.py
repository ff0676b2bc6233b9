"""A purchase request as the engine reads it, and the errors that say which field is wrong.

The fields are documented for people in docs/request-fields.md; keep the two in step.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple

from dateutil import parser as dateparser
from pydantic import BaseModel, Extra, ValidationError, constr, validator
from pydantic.error_wrappers import ErrorWrapper

from .money import AmountError, parse_amount

if TYPE_CHECKING:
    from .loader import LoadedPolicy

# pydantic 1's constr() makes a class at run time, which a type checker cannot read as a type.
if TYPE_CHECKING:
    ShortText = str
    LongText = str
    Code = str
else:
    ShortText = constr(strip_whitespace=True, min_length=1, max_length=200)
    LongText = constr(strip_whitespace=True, min_length=1, max_length=4000)
    Code = constr(strip_whitespace=True, min_length=1, max_length=64)
MAX_QUANTITY = 100_000


class RequestError(ValueError):
    """A request that cannot be evaluated, with one (field, reason) per problem.

    Reasons quote what was sent; each stays on one line, with line breaks, control and
    invisible formatting characters shown as escapes (\\n, \\x1b, \\u202e).
    """

    def __init__(self, problems: List[Tuple[str, str]], amounts: Optional[Mapping[str, AmountError]] = None):
        self.problems = [(_visible(field), _visible(reason)) for field, reason in problems]
        # The amounts refused, by field: their codes let a caller tell a requester in their language.
        self.amounts: Dict[str, AmountError] = dict(amounts or {})
        super().__init__("\n".join(f"{field}: {reason}" for field, reason in self.problems))


_INVISIBLE = ("Cc", "Cf", "Zl", "Zp", "Cs")


def _visible(text: str) -> str:
    return "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in _INVISIBLE else ch
                   for ch in str(text))


class PurchaseRequest(BaseModel):
    requester: Code
    cost_centre: Code
    category: Code
    description: LongText
    supplier: ShortText
    quantity: int
    unit_price: Decimal
    province: Code
    needed_by: date
    data_classification: Code
    payment_method: Code
    title: Optional[ShortText] = None
    justification: Optional[LongText] = None
    supplier_url: Optional[ShortText] = None
    supplier_former_public_servant: bool = False
    supplier_indigenous: Optional[bool] = None
    supplier_small_business: Optional[bool] = None
    payment_reason: Optional[LongText] = None
    card_id: Optional[Code] = None
    recurring: bool = False
    attest_standalone: Optional[bool] = None
    attest_no_internal_capacity: Optional[bool] = None
    ip_agreement: Optional[bool] = None
    fixed_price: Optional[bool] = None
    remote_only: Optional[bool] = None
    licence: Optional[ShortText] = None
    repository: Optional[ShortText] = None
    acceptance_criteria: Optional[LongText] = None

    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True
        allow_mutation = False

    @validator("quantity", pre=True)
    def _whole_number(cls, value):
        if isinstance(value, bool):
            raise ValueError("must be a whole number such as 1 or 3")
        if isinstance(value, str):
            value = value.strip()
            if not value.isdigit():
                raise ValueError(f"'{value}' is not a whole number such as 1 or 3")
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, (int, Decimal)) or value != int(value):
            raise ValueError("must be a whole number such as 1 or 3")
        value = int(value)
        if value < 1:
            raise ValueError("must be at least 1")
        if value > MAX_QUANTITY:
            raise ValueError(f"must be at most {MAX_QUANTITY:,}")
        return value

    @validator("unit_price", pre=True)
    def _amount(cls, value):
        return parse_amount(value)  # an AmountError is a ValueError: pydantic reports it, parse_request keeps its code

    @validator("needed_by", pre=True)
    def _date(cls, value):
        if isinstance(value, date):
            return value
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be a date such as 2026-12-15")
        try:
            return dateparser.isoparse(value.strip()).date()
        except (ValueError, OverflowError):
            raise ValueError(f"'{value}' is not a date; write it as YYYY-MM-DD, such as 2026-12-15") from None

    @validator("province", "data_classification", "payment_method", "category", pre=True)
    def _code(cls, value):
        return value.strip() if isinstance(value, str) else value

    @validator("province")
    def _upper(cls, value):
        return value.upper()

    @validator("data_classification", "payment_method", "category")
    def _lower(cls, value):
        return value.lower()


REQUEST_FIELDS = frozenset(PurchaseRequest.__fields__)

# Currency marks in a typed price (parse_amount drops "$", "USD", "€" as decoration).
_CURRENCY_MARKS = re.compile(r"\b(USD|CAD|EUR|GBP|JPY|CHF|AUD|MXN|INR|CNY)\b|US\$|C\$|CA\$|[€£¥₹]", re.IGNORECASE)
_SIGN_CODES = {"€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "US$": "USD", "C$": "CAD", "CA$": "CAD"}


def _other_currency(text: str, currency: str) -> Optional[str]:
    """The first currency named in `text` that is not the pack's, if any."""
    for mark in _CURRENCY_MARKS.finditer(text):
        code = _SIGN_CODES.get(mark.group(0).upper(), mark.group(0).upper())
        if code != currency:
            return code
    return None


def _field_errors(exc: ValidationError) -> List[Tuple[str, str]]:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"] if part != "__root__") or "request"
        message = error["msg"]
        if error["type"] == "value_error.extra":
            close = difflib.get_close_matches(field, PurchaseRequest.__fields__, n=1, cutoff=0.7)
            hint = f"did you mean '{close[0]}'?" if close else "see docs/request-fields.md"
            message = f"is not a request field ({hint})"
        elif error["type"] == "value_error.missing":
            message = "is required"
        problems.append((field, message))
    return problems


def _amount_errors(exc: ValidationError) -> Dict[str, AmountError]:
    """The amounts pydantic refused, by field, as the amount reader raised them."""
    found = {}
    for wrapper in exc.raw_errors:
        if isinstance(wrapper, ErrorWrapper) and isinstance(wrapper.exc, AmountError):
            found[".".join(str(part) for part in wrapper.loc_tuple())] = wrapper.exc
    return found


def parse_request(data: Mapping[str, Any], policy: "LoadedPolicy") -> PurchaseRequest:
    """A request checked for shape and against the names the policy knows.

    Amounts given as text are read in the pack's default locale ($1,234.50 for en_CA); a
    dialogue in another language reads the requester's amount itself and passes a Decimal.
    Raises RequestError listing every problem, each with the field it concerns.
    """
    if not isinstance(data, Mapping):
        raise RequestError([("request", "must be a JSON object with the request's fields")])
    pack = policy.rules.pack
    locale = pack.locales[pack.default_language]
    problems, amounts = [], {}
    if isinstance(data.get("unit_price"), str):
        try:
            other = _other_currency(data["unit_price"], pack.currency)
            if other:
                raise AmountError("other_currency", currency=other, expected=pack.currency)
            data = {**data, "unit_price": parse_amount(data["unit_price"], locale=locale)}
        except AmountError as exc:
            problems.append(("unit_price", str(exc)))
            amounts["unit_price"] = exc
            data = {key: value for key, value in data.items() if key != "unit_price"}
    try:
        request = PurchaseRequest.parse_obj(data)
    except ValidationError as exc:
        problems += [p for p in _field_errors(exc) if not (p[0] == "unit_price" and problems)]
        amounts = {**_amount_errors(exc), **amounts}
        raise RequestError(problems, amounts) from None
    if problems:
        raise RequestError(problems, amounts)
    rules = policy.rules
    known: Dict[str, Tuple[str, Mapping[str, Any]]] = {
        "cost_centre": (request.cost_centre, rules.approval.cost_centres),
        "category": (request.category, rules.categories),
        "province": (request.province, rules.tax.jurisdictions),
        "data_classification": (request.data_classification, rules.data_classification.levels),
        "payment_method": (request.payment_method, rules.payment.methods),
    }
    problems = [
        (field, f"'{value}' is not one of: {', '.join(sorted(names))}")
        for field, (value, names) in known.items()
        if value not in names
    ]
    if problems:
        raise RequestError(problems)
    return request
