"""Money as people type it, and as the rules need it: Decimal, rounded to cents half-up."""
from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import NumberFormatError, format_currency, get_group_symbol, parse_decimal

CENT = Decimal("0.01")
# Anything above this is a typo, not a micro-purchase; refusing it keeps amounts in range
# for storage (integer cents) and keeps "1e9"-style input from slipping through.
MAX_AMOUNT = Decimal("1000000000")
EXAMPLE = Decimal("1234.50")  # how an amount is typed, written in the reader's locale

# Words and symbols people put around an amount that carry no value.
_CURRENCY = re.compile(
    r"(?i)\b(?:approx(?:imately)?|about|around|roughly|~|cad|usd|us|ca|can|dollars?|bucks)\b|[$€£¢~≈]"
)
_SUFFIX = re.compile(r"(?i)^(?P<number>.*?)\s*(?P<suffix>k|m)$")
_MULTIPLIERS = {"k": Decimal(1000), "m": Decimal(1000000)}
_NOT_NUMBERS = {"nan", "snan", "inf", "infinity", "-inf", "+inf"}


# Why an amount is refused, by code, in English: what str(AmountError) says (logs, the command line,
# policy check). Whoever tells a requester words the code in the requester's language from its own
# catalogue (dialogues/project/texts.yml `amount_<code>`, bot/texts.yml `amount.<code>`) with the same values:
# `text` is what was typed, `example` a Decimal to write in the reader's locale.
REASONS = {
    "missing": "an amount is needed, such as 1234.50",
    "not_text": "an amount must be a number or text, not {kind}",
    "not_digits": "'{text}' has characters that are not digits; type a number such as 1234.50",
    "too_long": "that is too long to be an amount; type just the number, such as 1234.50",
    "not_a_number": "'{text}' is not a number",
    "negative": "the amount must be more than zero, not negative",
    "scientific": "write the amount in full (such as {example}), not in scientific notation",
    "not_an_amount": "'{text}' is not an amount; type a number such as 1234.50",
    "unreadable": "'{text}' is not an amount I can read; type it like {example}",
    "not_real": "the amount must be a real number",
    "too_large": "that amount is far too large for a micro-purchase; check the number",
    "zero": "the amount must be more than zero",
    "other_currency": "is in {currency}; give the price in {expected}, the currency of the limits and taxes",
}


class AmountError(ValueError):
    """An amount that cannot be taken: `code` (one of REASONS) says why and `values` holds what
    the wording may show, so each reader is told in their own language; str() is the English."""

    def __init__(self, code: str, *, locale: str = "en_CA", **values: object) -> None:
        self.code, self.values = code, values
        shown = {name: format_money(value, locale=locale, symbol=False) if isinstance(value, Decimal) else value
                 for name, value in values.items()}
        super().__init__(REASONS[code].format(**shown))


def cents(value: Decimal) -> Decimal:
    """Round to cents, half-up (0.005 -> 0.01), the rule for every amount we keep."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _ascii_digits(text: str) -> str:
    # Arabic-Indic and other Unicode decimal digits mean the same number; read them as 0-9.
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdigit() and not ch.isascii() else ch for ch in text
    )


def parse_amount(value: object, *, locale: str = "en_CA") -> Decimal:
    """Read an amount a person typed ("$1,234.50", "1234", "1.5k", "1 234,50 $").

    Returns a positive Decimal rounded to cents. Raises AmountError for NaN, infinity,
    zero, negatives, scientific notation and anything that is not an amount.
    """
    if isinstance(value, bool) or value is None:
        raise AmountError("missing")
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        number = _parse_text(value, locale)
    else:
        raise AmountError("not_text", kind=type(value).__name__)
    return _checked(number)


def _parse_text(raw: str, locale: str) -> Decimal:
    if any(ch.isdigit() and not ch.isdecimal() for ch in raw):
        # Superscripts and circled digits (², ①) are not amounts anyone means to type.
        raise AmountError("not_digits", text=raw.strip())
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise AmountError("missing")
    if len(text) > 40:
        raise AmountError("too_long")
    text = _ascii_digits(text)
    lowered = text.lower().replace(" ", "")
    if lowered.strip("+-") in _NOT_NUMBERS:
        raise AmountError("not_a_number", text=raw.strip())
    if text.startswith("(") and text.endswith(")"):
        raise AmountError("negative")
    text = _CURRENCY.sub(" ", text).strip()
    if text.startswith(("-", "−")):
        raise AmountError("negative")
    text = text.lstrip("+").strip()
    if re.search(r"\d[eE][+-]?\d", text):
        raise AmountError("scientific", locale=locale, example=Decimal("1500.00"))
    multiplier = Decimal(1)
    match = _SUFFIX.match(text)
    if match and match.group("number"):
        multiplier = _MULTIPLIERS[match.group("suffix").lower()]
        text = match.group("number").strip()
    if not re.fullmatch(r"[\d\s.,\u00a0\u202f']+", text) or not re.search(r"\d", text):
        raise AmountError("not_an_amount", text=raw.strip())
    # People type an ordinary space where the locale groups digits with a no-break one.
    text = re.sub(r"(?<=\d)[\s\u00a0\u202f]+(?=\d)", get_group_symbol(locale), text)
    try:
        number = parse_decimal(text, locale=locale, strict=True)
    except NumberFormatError:
        # The example shows how to type an amount in the locale it was read in (1,234.50 / 1 234,50).
        raise AmountError("unreadable", locale=locale, text=raw.strip(), example=EXAMPLE) from None
    return number * multiplier


def _checked(number: Decimal) -> Decimal:
    try:
        if not number.is_finite():
            raise AmountError("not_real")
    except InvalidOperation:
        raise AmountError("not_real") from None
    if number < 0:
        raise AmountError("negative")
    # Before rounding: quantizing a number of 27 digits or more to cents overflows the context.
    if number >= MAX_AMOUNT:
        raise AmountError("too_large")
    rounded = cents(number)
    if rounded == 0:
        raise AmountError("zero")
    if rounded >= MAX_AMOUNT:
        raise AmountError("too_large")
    return rounded


def tax_on(subtotal: Decimal, percent: Decimal) -> Decimal:
    """Tax on a subtotal at a percentage rate, rounded to cents half-up."""
    return cents(subtotal * percent / 100)


def max_pretax(limit: Decimal, percent: Decimal) -> Decimal:
    """The largest pre-tax amount whose total with tax stays within the limit."""
    guess = (limit / (1 + percent / 100)).quantize(CENT, rounding=ROUND_DOWN)
    # Half-up rounding of the tax can push the guess a cent either way; settle it exactly.
    while guess + tax_on(guess, percent) > limit:
        guess -= CENT
    while guess + CENT + tax_on(guess + CENT, percent) <= limit:
        guess += CENT
    return guess


def format_money(amount: Decimal, *, currency: str = "CAD", locale: str = "en_CA", symbol: bool = True) -> str:
    """Amounts as a reader of that language expects them: $1,234.50 or 1 234,50 $."""
    if not symbol:
        return format_currency(amount, currency, locale=locale, format="#,##0.00", currency_digits=True)
    return format_currency(amount, currency, locale=locale)
