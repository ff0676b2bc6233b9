"""The engine and the answer readers with the hostile corpus: only their documented errors
(policies.RequestError naming the field; dialogues.answers.AnswerError saying what to type), and
every reason fits on one line with nothing invisible in it (an admin's terminal, a Slack message)."""
from __future__ import annotations

import json
import unicodedata
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dialogues.answers import (
    AnswerError,
    choose,
    guess_category,
    province_options,
    read_amount,
    read_date,
    read_quantity,
    read_yes_no,
)
from policies import RequestError, load_policy
from policies.request import REQUEST_FIELDS, parse_request

from corpus import ALL, AMOUNT_READS, AMOUNTS, DATES, VALUES, ids

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "policies/examples/whiteboard_markers.json").read_text())
TODAY = date(2026, 11, 25)
INVISIBLE = ("Cc", "Cf", "Zl", "Zp", "Cs")


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def printable_line(text: str) -> bool:
    return not any(unicodedata.category(ch) in INVISIBLE for ch in text)


@pytest.mark.parametrize("field", sorted(REQUEST_FIELDS))
def test_parse_request_raises_only_request_errors_naming_the_field(policy, field):
    accepted = []
    for hostile in ALL + VALUES:
        data = {**EXAMPLE, field: hostile.value}
        try:
            parse_request(data, policy)
        except RequestError as exc:
            assert exc.problems, hostile.id
            assert [f for f, _ in exc.problems] == [field], (hostile.id, exc.problems)
            assert all(reason and printable_line(reason) for _, reason in exc.problems), (hostile.id, exc.problems)
        else:
            accepted.append(hostile.id)
    # Whatever a field accepts, it never accepts text longer than a request field holds.
    assert not {"long-40000", "long-10001"} & set(accepted), accepted


def test_a_request_that_is_not_an_object_is_a_request_error(policy):
    for hostile in ALL + VALUES:
        if isinstance(hostile.value, dict):
            continue
        with pytest.raises(RequestError, match="must be a JSON object"):
            parse_request(hostile.value, policy)


@pytest.mark.parametrize("hostile", AMOUNTS, ids=ids(AMOUNTS))
def test_prices_are_read_or_refused_as_the_corpus_says(hostile):
    expected = AMOUNT_READS.get(hostile.id)
    if expected is None:
        with pytest.raises(AnswerError) as refused:
            read_amount(hostile.value)
        assert printable_line(str(refused.value))
    else:
        assert read_amount(hostile.value) == expected


@pytest.mark.parametrize("hostile", DATES, ids=ids(DATES))
def test_impossible_dates_are_refused_or_read_as_the_past(hostile):
    """None of them can be a needed-by date: refused, or read as a day already gone (which the
    policy's needed_by rule blocks)."""
    try:
        when = read_date(hostile.value, TODAY)
    except AnswerError as refused:
        assert printable_line(str(refused))
    else:
        assert when < TODAY, when


@pytest.mark.parametrize("hostile", ALL, ids=ids(ALL))
def test_every_reader_takes_the_whole_corpus(policy, hostile):
    for read in (read_amount, read_quantity, lambda t: read_date(t, TODAY),
                 lambda t: read_yes_no(t, allow_unknown=True)):
        try:
            value = read(hostile.value)
        except AnswerError as refused:
            assert str(refused) and printable_line(str(refused))
        else:
            assert value is not None
    assert choose(hostile.value, province_options(policy)) in (None, *policy.rules.tax.jurisdictions)
    assert guess_category(hostile.value, policy) in (None, *policy.rules.categories)


def test_the_readable_amounts_are_worth_what_they_say():
    assert all(isinstance(v, Decimal) and v == Decimal("300.00") for v in AMOUNT_READS.values())
