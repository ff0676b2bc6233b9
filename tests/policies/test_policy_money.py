"""policies.money: amounts as people type them, cents half-up, tax, and the largest pre-tax price."""
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from babel.numbers import format_currency, get_group_symbol
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policies.money import REASONS, AmountError, cents, format_money, max_pretax, parse_amount, tax_on

from policy_kit import tax_exact, total_exact

SETTINGS = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2,
                      allow_nan=False, allow_infinity=False)
# Rates as packs write them: whole, or with up to three decimals (14.975).
rates = st.decimals(min_value=Decimal(0), max_value=Decimal(20), places=3, allow_nan=False, allow_infinity=False)
limits = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000.00"), places=2,
                     allow_nan=False, allow_infinity=False)


def half_up(value: Fraction) -> Decimal:
    """Round an exact value to cents, half-up, without Decimal's quantize."""
    sign = -1 if value < 0 else 1
    return sign * Decimal(math.floor(abs(value) * 100 + Fraction(1, 2))) / 100


# --- round trips ----------------------------------------------------------------------------------
@SETTINGS
@given(amounts)
@example(Decimal("0.01"))
@example(Decimal("1234.50"))
@example(Decimal("99999999.99"))
def test_english_dollars_round_trip(amount):
    text = format_money(amount)
    assert text == format_currency(amount, "CAD", locale="en_CA")
    assert text.startswith("$")
    assert parse_amount(text) == amount


@SETTINGS
@given(amounts)
def test_plain_numbers_round_trip(amount):
    assert parse_amount(f"{amount:.2f}") == amount
    assert parse_amount(f"{amount:,.2f}") == amount


@SETTINGS
@given(amounts)
@example(Decimal("1234.50"))
def test_french_canadian_dollars_round_trip(amount):
    text = format_money(amount, locale="fr_CA")
    assert text == format_currency(amount, "CAD", locale="fr_CA")
    assert text.endswith("$")
    assert parse_amount(text, locale="fr_CA") == amount
    # People type an ordinary space where French groups digits with a no-break one.
    typed = text.replace(get_group_symbol("fr_CA"), " ").replace("\u00a0", " ").replace("\u202f", " ")
    assert parse_amount(typed, locale="fr_CA") == amount


def test_french_group_symbol_is_a_no_break_space():
    text = format_money(Decimal("1234.50"), locale="fr_CA")
    group = get_group_symbol("fr_CA")
    assert group in ("\u00a0", "\u202f")
    assert text == f"1{group}234,50{text[-2]}$"


@SETTINGS
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2))
def test_k_suffix_multiplies_by_a_thousand(number):
    assert parse_amount(f"{number}k") == number * 1000
    assert parse_amount(f"${number}K") == number * 1000


@pytest.mark.parametrize("text, expected", [
    ("1.5k", Decimal("1500")), ("2k", Decimal("2000")), ("10 k", Decimal("10000")), ("$2.5K", Decimal("2500")),
    ("0.5m", Decimal("500000")),
])
def test_suffix_examples(text, expected):
    assert parse_amount(text) == expected


@SETTINGS
@given(st.decimals(min_value=Decimal("0.005"), max_value=Decimal("9999999.999"), places=3))
def test_amounts_round_half_up_to_cents(number):
    expected = half_up(Fraction(number))
    assert parse_amount(str(number)) == expected
    assert parse_amount(number) == expected
    assert cents(number) == expected


@pytest.mark.parametrize("text, expected", [
    ("0.005", "0.01"), ("1.005", "1.01"), ("2.675", "2.68"), ("0.125", "0.13"), ("0.0149", "0.01"), ("10.994", "10.99"),
])
def test_half_up_examples(text, expected):
    assert parse_amount(text) == Decimal(expected)


def test_floats_are_read_by_their_shortest_repr():
    assert parse_amount(2.675) == Decimal("2.68")
    assert parse_amount(0.1) == Decimal("0.10")


def test_results_have_two_places():
    for value in ("5", "5.1", 7, Decimal("3")):
        assert parse_amount(value).as_tuple().exponent == -2


# --- refusals ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    "NaN", "nan", "sNaN", "inf", "-inf", "Infinity", Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"),
    float("nan"), float("inf"),
    "0", "0.00", "$0", 0, Decimal("0"), "0.004", "-0",
    "-5", "-$5", "$-5", "−5", -5, Decimal("-0.01"), "(500)", "($500.00)",
    "1e9", "1E3", "2.5e-3", "1.234,50", "12,34.50",
    "", "   ", None, True, False, "abc", "five dollars", "12abc", "1.2.3", "$", "k", [], {"amount": 5},
    "1,000,000,000", Decimal("1000000000"), "1" * 41, "²", "①0", "5²",
])
def test_bad_amounts_are_refused_with_a_reason(value):
    with pytest.raises(AmountError) as info:
        parse_amount(value)
    assert str(info.value).strip()


def test_bad_amount_reasons_say_what_is_wrong():
    with pytest.raises(AmountError, match="negative"):
        parse_amount("(500)")
    with pytest.raises(AmountError, match="scientific"):
        parse_amount("1e9")
    with pytest.raises(AmountError, match="more than zero"):
        parse_amount("0")
    with pytest.raises(AmountError, match="1,234.50"):  # the hint shows how to type it in en_CA
        parse_amount("1.234,50")


@pytest.mark.parametrize("value, code, values", [
    ("-5", "negative", {}), ("0", "zero", {}), ("1e9", "scientific", {"example": Decimal("1500.00")}),
    ("abc", "not_an_amount", {"text": "abc"}),
    ("1.234,50", "unreadable", {"text": "1.234,50", "example": Decimal("1234.50")}),
    ("", "missing", {}), ("NaN", "not_a_number", {"text": "NaN"}), ("1" * 41, "too_long", {}),
    (Decimal("NaN"), "not_real", {}), ("1,000,000,000", "too_large", {}), ("5²", "not_digits", {"text": "5²"}),
    ([], "not_text", {"kind": "list"}),
])
def test_a_refusal_names_its_reason_by_code_with_the_values_to_word_it(value, code, values):
    # The reason by code and values, so a reader of any language can be told; the figures are
    # left as Decimals for the reader's locale, and str() is the English wording.
    with pytest.raises(AmountError) as info:
        parse_amount(value)
    assert (info.value.code, info.value.values) == (code, values)
    assert str(info.value) == REASONS[code].format(**{k: format_money(v, symbol=False) if isinstance(v, Decimal) else v
                                                      for k, v in values.items()})


def test_the_english_reason_writes_its_example_the_way_the_amount_was_read():
    with pytest.raises(AmountError) as info:
        parse_amount("1.234,50", locale="fr_CA")
    assert info.value.values["example"] == Decimal("1234.50")
    assert str(info.value).endswith(format_money(Decimal("1234.50"), locale="fr_CA", symbol=False))


@SETTINGS
@given(st.text(alphabet=st.characters(blacklist_categories=("Nd", "Nl", "No")), min_size=0, max_size=20))
def test_text_without_digits_is_never_an_amount(text):
    with pytest.raises(AmountError) as info:
        parse_amount(text)
    assert str(info.value).strip()


# --- tax -------------------------------------------------------------------------------------------------
@SETTINGS
@given(amounts, rates)
def test_tax_is_half_up_on_the_exact_product(subtotal, percent):
    tax = tax_on(subtotal, percent)
    assert tax == tax_exact(subtotal, percent)
    assert tax == half_up(Fraction(subtotal) * Fraction(percent) / 100)
    assert tax.as_tuple().exponent == -2


@SETTINGS
@given(amounts, amounts, rates)
def test_tax_never_falls_as_the_subtotal_rises(a, b, percent):
    low, high = sorted((a, b))
    assert tax_on(low, percent) <= tax_on(high, percent)


@pytest.mark.parametrize("subtotal, percent, expected", [
    (Decimal("0.10"), Decimal(5), "0.01"),  # 0.005 rounds up
    (Decimal("0.09"), Decimal(5), "0.00"),  # 0.0045 rounds down
    (Decimal("100.00"), Decimal("14.975"), "14.98"),  # 14.975 rounds up
    (Decimal("8849.56"), Decimal(13), "1150.44"),
])
def test_tax_examples(subtotal, percent, expected):
    assert tax_on(subtotal, percent) == Decimal(expected)
    assert tax_on(subtotal, percent) == tax_exact(subtotal, percent)


# --- max_pretax ---------------------------------------------------------------------------------------------
@SETTINGS
@given(limits, rates)
@example(Decimal("10000"), Decimal(15))
@example(Decimal("10000"), Decimal(13))
@example(Decimal("10000"), Decimal(5))
@example(Decimal("0.01"), Decimal(20))
def test_max_pretax_is_the_largest_price_that_fits(limit, percent):
    best = max_pretax(limit, percent)
    assert best >= 0
    assert best.as_tuple().exponent == -2
    assert best + tax_on(best, percent) <= limit
    assert total_exact(best, percent) <= limit
    more = best + Decimal("0.01")
    assert more + tax_on(more, percent) > limit
    assert total_exact(more, percent) > limit


def test_max_pretax_at_the_highest_canadian_rate_matches_the_guide():
    # The client user guide rounds it down to $8,690 at 15% HST.
    best = max_pretax(Decimal("10000"), Decimal(15))
    assert Decimal("8690") <= best < Decimal("8700")
