"""dialogues.answers: reading a requester's answers (amounts, quantities, dates, yes/no, choices).

Every reader returns the value a request takes or raises AnswerError with what to type instead;
nothing else may escape, whatever is typed. Dates are read against a fixed today.
"""
import unicodedata
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import policies
from dialogues import answers
from dialogues.answers import (
    UNKNOWN,
    AnswerError,
    choose,
    clean,
    guess_category,
    guess_category_in_message,
    read_amount,
    read_date,
    read_quantity,
    read_yes_no,
)

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.fixture(scope="module")
def policy():
    return policies.load_policy(policies.DEFAULT_POLICY)


# --- amounts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("89.99", "89.99"),
    ("89", "89.00"),
    ("$1,299.99", "1299.99"),
    ("about $90 each", "90.00"),
    ("1.5k", "1500.00"),
    ("250$", "250.00"),
    ("  $12.50  ", "12.50"),
    ("it costs 45 dollars", "45.00"),
    ("0.005", "0.01"),  # cents, half-up
])
def test_read_amount_english(text, expected):
    value = read_amount(text)
    assert isinstance(value, Decimal)
    assert value == Decimal(expected)
    assert value.as_tuple().exponent == -2


@pytest.mark.parametrize("text", ["1 234,50 $", "1\u00a0234,50\u00a0$", "1\u202f234,50 $", "1234,50"])
def test_read_amount_french_canadian(text):
    assert read_amount(text, locale="fr_CA") == Decimal("1234.50")


def test_a_french_amount_is_not_read_as_english():
    """In en_CA the comma groups thousands: "1 234,50 $" is refused rather than misread."""
    with pytest.raises(AnswerError):
        read_amount("1 234,50 $", locale="en_CA")


@pytest.mark.parametrize("text, says", [
    ("NaN", ["price"]),
    ("-5", ["negative"]),
    ("(500)", ["negative"]),
    ("1e9", ["scientific notation"]),
    ("Dec 15", ["price"]),
    ("twelve", ["price"]),
    ("0", ["more than zero"]),
    ("1,000,000,000", ["too large"]),
])
def test_read_amount_refuses_with_a_useful_message(text, says):
    with pytest.raises(AnswerError) as refused:
        read_amount(text)
    message = str(refused.value)
    assert "89.99" in message  # says how to write it
    assert text in message  # quotes what was typed
    for words in says:
        assert words in message


@pytest.mark.parametrize("text", ["", "   ", None, "\u202e\x00"])
def test_read_amount_empty_asks_for_a_price(text):
    with pytest.raises(AnswerError, match="Please give a price"):
        read_amount(text)


@pytest.mark.parametrize("digits", [27, 30, 40])
def test_read_amount_refuses_absurdly_long_numbers(digits):
    """26 nines are refused as "far too large"; 27 or more must be refused the same way, not crash."""
    with pytest.raises(AnswerError, match="too large"):
        read_amount("9" * digits)


def test_read_amount_takes_the_price_not_a_date_in_a_sentence():
    with pytest.raises(AnswerError):
        read_amount("by Dec 15 please")


# --- quantities ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("3", 3),
    ("  12 ", 12),
    ("5 of them", 5),
    ("three", 3),
    ("Two", 2),
    ("a dozen", 12),
    ("douze", 12),
    ("une", 1),
    ("100000", 100_000),
    (7, 7),
])
def test_read_quantity(text, expected):
    value = read_quantity(text)
    assert type(value) is int
    assert value == expected


@pytest.mark.parametrize("text, says", [
    ("2.5", "whole number"),
    ("2,5", "whole number"),
    ("0", "at least 1"),
    ("zero", "number of units"),
    ("100001", "at most 100,000"),
    ("lots", "How many exactly"),
    ("", "number of units"),
])
def test_read_quantity_refuses(text, says):
    with pytest.raises(AnswerError, match=says):
        read_quantity(text)


def test_read_quantity_maximum_is_the_callers():
    assert read_quantity("5", maximum=5) == 5
    with pytest.raises(AnswerError, match="at most 5"):
        read_quantity("6", maximum=5)


@pytest.mark.parametrize("text, meant", [
    ("-3", None),  # a negative count is not 3
    ("two dozen", 24),
    ("3 dozen", 36),
    ("half a dozen", 6),
    ("10 000", 10_000),  # ten thousand, grouped with a space as en_CA and fr_CA write it
    ("one hundred", 100),
])
def test_read_quantity_reads_right_or_refuses(text, meant):
    """Never a different number from the one meant: the right count, or a question again."""
    try:
        value = read_quantity(text)
    except AnswerError:
        return
    assert meant is not None and value == meant, f"{text!r} read as {value}"


# --- dates --------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("2026-12-15", date(2026, 12, 15)),
    ("needed by 2027-01-04 at the latest", date(2027, 1, 4)),
    ("Dec 15", date(2026, 12, 15)),
    ("December 15th", date(2026, 12, 15)),
    ("tomorrow", TODAY + timedelta(days=1)),
    ("in two weeks", TODAY + timedelta(days=14)),
    ("in 3 days", TODAY + timedelta(days=3)),
])
def test_read_date_english(text, expected):
    assert read_date(text, TODAY) == expected


def test_read_date_next_friday_is_a_coming_friday():
    day = read_date("next Friday", TODAY)
    assert day.weekday() == 4
    assert TODAY < day <= TODAY + timedelta(days=9)


def test_read_date_dec_15_is_this_year_while_it_is_still_ahead():
    assert read_date("Dec 15", date(2026, 12, 1)) == date(2026, 12, 15)


@pytest.mark.parametrize("text, expected", [
    ("15 décembre", date(2026, 12, 15)),
    ("le 15 décembre 2026", date(2026, 12, 15)),
    ("dans deux semaines", TODAY + timedelta(days=14)),
    ("demain", TODAY + timedelta(days=1)),
])
def test_read_date_french(text, expected):
    assert read_date(text, TODAY, language="fr") == expected


@pytest.mark.parametrize("text", ["2027-02-31", "2026-13-01", "2027-02-29"])
def test_read_date_refuses_impossible_iso_dates(text):
    with pytest.raises(AnswerError) as refused:
        read_date(text, TODAY)
    assert text in str(refused.value)
    assert "not a real date" in str(refused.value)


@pytest.mark.parametrize("text, language", [("Feb 31 2027", "en"), ("February 30", "en"), ("31 février", "fr")])
def test_read_date_refuses_impossible_written_dates(text, language):
    """An impossible day written out is refused like an ISO one, never moved to another day."""
    with pytest.raises(AnswerError):
        read_date(text, TODAY, language=language)


@pytest.mark.parametrize("text", ["asap", "whenever", "soon please"])
def test_read_date_refuses_non_dates_with_examples(text):
    with pytest.raises(AnswerError) as refused:
        read_date(text, TODAY)
    assert text in str(refused.value)
    assert "Dec 15" in str(refused.value)


def test_read_date_empty():
    with pytest.raises(AnswerError, match="Please give a date"):
        read_date(" ", TODAY)


# --- yes / no -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["yes", "Yes!", "YES.", "y", "yep", "yeah", "sure", "ok", "oui", "Oui.", "of course",
                                  "yes, signed last week", "it is", "/affirm", True])
def test_read_yes(text):
    assert read_yes_no(text) is True


@pytest.mark.parametrize("text", ["no", "No.", "n", "nope", "nah", "non", "no way", "No, not yet", "not signed",
                                  "/deny", False])
def test_read_no(text):
    assert read_yes_no(text) is False


def test_read_yes_no_falls_back_to_the_intent():
    assert read_yes_no("that's right", intent="affirm") is True
    assert read_yes_no("absolutely not the case", intent="deny") is False
    with pytest.raises(AnswerError):
        read_yes_no("that's right", intent="greet")


def test_read_yes_no_words_win_over_the_intent():
    assert read_yes_no("no", intent="affirm") is False
    assert read_yes_no("yes", intent="deny") is True


@pytest.mark.parametrize("text", ["not sure", "I don't know", "no idea", "je ne sais pas", "maybe", "?"])
def test_read_unsure_only_when_allowed(text):
    assert read_yes_no(text, allow_unknown=True) == UNKNOWN
    with pytest.raises(AnswerError) as refused:
        read_yes_no(text)
    assert "not sure" not in str(refused.value)  # not offered when it would not be taken


def test_read_yes_no_refusal_offers_not_sure_when_allowed():
    with pytest.raises(AnswerError, match="not sure"):
        read_yes_no("hmm", allow_unknown=True)
    assert read_yes_no("yes", allow_unknown=True) is True
    assert read_yes_no("no", allow_unknown=True) is False


# --- choices ------------------------------------------------------------------------------------
METHODS = {"acquisition_card": ["Acquisition card", "Carte d'achat"], "paypal": ["PayPal"],
           "invoice": ["Invoice through procurement", "Facture par l'approvisionnement"]}


@pytest.mark.parametrize("text, expected", [
    ("paypal", "paypal"),  # the id
    ("acquisition_card", "acquisition_card"),
    ("PayPal", "paypal"),  # a name
    ("  carte d'achat ", "acquisition_card"),  # another language, any case
    ("facture par l approvisionnement", "invoice"),
    ("Acquisiton crad", "acquisition_card"),  # a close spelling
    ("Pay Pall", "paypal"),
])
def test_choose(text, expected):
    assert choose(text, METHODS) == expected


@pytest.mark.parametrize("text", ["bitcoin", "", None, "zzzz", "\u202e"])
def test_choose_no_match(text):
    assert choose(text, METHODS) is None


@pytest.mark.parametrize("text, expected", [
    ("ON", "ON"), ("on", "ON"), ("Ontario", "ON"), ("Ontarion", "ON"), ("quebec", "QC"), ("Québec", "QC"),
    ("nouvelle ecosse", "NS"), ("British Colombia", "BC"), ("Île-du-Prince-Édouard", "PE"),
])
def test_choose_a_province_from_the_policy(policy, text, expected):
    assert choose(text, answers.province_options(policy)) == expected


@pytest.mark.parametrize("text, expected", [
    ("Ontaroi", "ON"), ("ont", "ON"), ("nunavut", "NU"), ("NT", "NT"), ("nt", "NT"), ("N.S.", "NS"),
    ("newfoundland", "NL"), ("Terre-Neuve", "NL"), ("Nova", "NS"), ("Edward Island", "PE"), ("PEI", "PE"),
    ("T.-N.-L.", "NL"), ("Colombie-Britannique", "BC"), ("delivered in Ontario", "ON"), ("albreta", "AB"),
])
def test_choose_a_province_by_a_typo_its_start_or_its_initials(policy, text, expected):
    assert choose(text, answers.province_options(policy)) == expected


# Each of these was taken for a province: a code inside a made-up word ("Atlantide" holds "nt"),
# a city with "on" or "nt" in it, a start shared by two provinces ("new").
@pytest.mark.parametrize("text", ["Mars", "Atlantide", "Toronto", "Montreal", "Ottawa", "new", "Amazon", "Gintel",
                                  "Nullinves", "Pedol"])
def test_choose_a_province_that_is_not_one(policy, text):
    assert choose(text, answers.province_options(policy)) is None


def test_choose_a_cost_centre_by_code_or_name(policy):
    options = answers.cost_centre_options(policy)
    assert choose("100300", options) == "100300"
    assert choose("digital service", options) == "100200"
    assert choose("100200 Digital Service", options) == "100200"  # the button's title, typed
    assert choose("cc 100300", options) == "100300"
    assert choose("1002", options) == "100200"  # the start of one code
    assert choose("BDM", options) == "100300"  # Benefits Delivery Modernization


@pytest.mark.parametrize("text", ["1", "3", "100", "200", "100201", "0"])
def test_a_number_names_a_cost_centre_only_if_it_begins_one_code(policy, text):
    assert choose(text, answers.cost_centre_options(policy)) is None


def test_an_answer_as_close_to_two_choices_names_neither(policy):
    levels = answers.classification_options(policy)
    assert choose("protected", levels) is None  # A, B or C
    assert choose("protégé B", levels) == "protected_b"


# --- guessing the category ---------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("a USB-C dock", "it_hardware"),
    ("Figma licence for the designers", "software_licence"),
    ("two whiteboards", "office_supplies"),  # a plural
    ("A box of pens.", "office_supplies"),
    ("flight to Toronto", "travel"),
    ("hotels for the offsite", "travel"),
    ("Open-source bug fix in a book publishing tool", "open_source_code_work"),  # longest name wins
    ("Fournitures de bureau", "office_supplies"),
    ("un billet d'avion pour Ottawa", "travel"),  # a French synonym with an apostrophe
    # "subscription" and "abonnement" are used by several categories: a named newspaper wins
    ("Abonnement numérique au Devoir", "publications"),
    ("Hill Times subscription renewal", "publications"),
    ("Miro subscription for the team", "software_licence"),
    ("abonnement annuel", "software_licence"),
])
def test_guess_category(policy, text, expected):
    assert guess_category(text, policy) == expected


@pytest.mark.parametrize("text", ["something else entirely", "carpet cleaning", "penstock valve", ""])
def test_guess_category_needs_a_whole_name(policy, text):
    assert guess_category(text, policy) is None


@pytest.mark.parametrize("text, language, expected", [
    ("clés USB de 64 Go", "fr", "it_hardware"),  # the pack's example "clé USB", in the plural
    ("freelance accessibility auditor", "en", "professional_services"),
    ("team's Miro Business licence", "en", "software_licence"),
    ("un cours Udemy sur la conception accessible", "fr", "training"),
    ("cookies for the open house", "en", "hospitality"),
    ("boxes of printer paper", "en", "office_supplies"),  # what the boxes hold, not the printer
    ("ensembles clavier-souris Logitech", "fr", "it_hardware"),
])
def test_guess_category_by_the_words_of_the_packs_examples(policy, text, language, expected):
    assert guess_category(text, policy, language) == expected


@pytest.mark.parametrize("text, language", [
    ("ergonomic chairs", "en"),  # "ergonomic" is in "ergonomic keyboard", but chairs are no IT hardware
    ("chaises", "fr"), ("sharpies", "en"), ("a review", "en"),
])
def test_guess_category_by_words_needs_the_head_word_known(policy, text, language):
    assert guess_category(text, policy, language) is None


@pytest.mark.parametrize("item, message, language, expected", [
    # the item alone says nothing; the message around it does
    ("Team treat", "Team treat for the retirement party: a buffet from Le Cordon, $300", "en", "hospitality"),
    ("billet", "billet aller-retour en train pour la rencontre régionale, 120 $", "fr", "travel"),
    ("papier pour l'imprimante", "papier pour l'imprimante, 4 paquets", "fr", "office_supplies"),  # l' elided
    ("stuff", "some stuff for the office, $40", "en", None),  # nothing telling: the question is asked
])
def test_guess_category_in_the_message_when_the_item_says_nothing(policy, item, message, language, expected):
    assert guess_category_in_message(item, message, policy, language) == expected


def test_a_pack_example_of_two_words_or_more_names_its_category_whole(policy):
    """An example phrase ("monitor stand": office supplies) wins over a shorter name it holds
    ("monitor": IT hardware)."""
    assert guess_category("two monitor stands", policy, "en") == "office_supplies"


def test_guess_category_follows_the_policy(policy):
    """Every category's own name in every language is recognised in a sentence."""
    for key, category in policy.rules.categories.items():
        for name in category.name.values():
            assert guess_category(f"I need {name} for the team", policy) == key, name


# --- clean --------------------------------------------------------------------------------------
def test_clean_collapses_whitespace():
    assert clean("  two   words\t\n here ") == "two words here"
    assert clean(None) == ""
    assert clean(12) == "12"


@pytest.mark.parametrize("char", ["\u202e", "\u202d", "\u2066", "\u2069", "\u200e", "\x00", "\x1b", "\x7f"])
def test_clean_drops_control_and_bidi_characters(char):
    text = clean(f"{char}Staples{char} order {char}")
    assert text == "Staples order"
    assert all(unicodedata.category(ch)[0] != "C" for ch in clean(f"a{char}b"))


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\u2066", "\u00ad"])
def test_clean_drops_invisible_characters_inside_a_word(char):
    """A zero-width or bidi character pasted inside a name must not split it ("Sta ples")."""
    assert clean(f"Sta{char}ples") == "Staples"


def test_clean_keeps_answers_to_the_field_size():
    assert len(clean("x" * 10_000)) == answers.MAX_ANSWER


# --- nothing but AnswerError --------------------------------------------------------------------
PROPERTY = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
typed = st.one_of(
    st.text(max_size=60),
    st.integers(min_value=-(10 ** 45), max_value=10 ** 45).map(str),
    st.text(alphabet=st.sampled_from(list("0123456789$€£,.-+()kKeE /:'\u00a0\u202f\u202e\x00")), max_size=30),
    st.from_regex(r"\$?-?[0-9]{1,40}([.,][0-9]{1,3})?(k| ?\$)?", fullmatch=True),
    st.from_regex(r"(in|dans|next|le)? ?-?[0-9]{1,12} ?(days|weeks|years|Dec|décembre|février)? ?[0-9]{0,6}",
                  fullmatch=True),
)


NASTY = ["9" * 30, "$" + "9" * 40 + ".99", "1e999999", "Infinity", "-0", "0.0000001", "1" * 26 + "k", "(", "$", ",,,",
         "99999-01-01", "0000-00-00", "in 999999999 years", "9" * 200, "\u202e1\u202c2", "١٢٣", "²"]


def nasty(*more):
    """An @example for each nasty text (with the test's other arguments), tried on every run."""
    def decorate(test):
        for text in NASTY:
            test = example(text, *more)(test)
        return test
    return decorate


@PROPERTY
@given(typed, st.sampled_from(["en_CA", "fr_CA"]))
@nasty("en_CA")
def test_read_amount_only_raises_answer_error(text, locale):
    try:
        value = read_amount(text, locale=locale)
    except AnswerError as exc:
        assert str(exc)
        return
    assert isinstance(value, Decimal) and Decimal("0.01") <= value < Decimal("1000000000")
    assert value == value.quantize(Decimal("0.01"))


@PROPERTY
@given(typed)
@nasty()
def test_read_quantity_only_raises_answer_error(text):
    try:
        value = read_quantity(text)
    except AnswerError as exc:
        assert str(exc)
        return
    assert type(value) is int and 1 <= value <= 100_000


@PROPERTY
@given(typed, st.sampled_from(["en", "fr"]))
@nasty("en")
def test_read_date_only_raises_answer_error(text, language):
    try:
        value = read_date(text, TODAY, language=language)
    except AnswerError as exc:
        assert str(exc)
        return
    assert isinstance(value, date)
