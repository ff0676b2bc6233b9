"""`microbuy evaluate` with the hostile corpus in each field of a request, and with input that is
not a request at all: exit 1 with the reason on one line naming the field, or exit 0 when the
value is plain data the request may hold; never a traceback, never another exit code.

The command runs in-process (click's CliRunner) on a real SQLite database. The policy file is
read once for the module (load_policy memoised on its path): parsing the YAML takes ~0.3 s a
run and is the same every time; everything else runs as the admin runs it.
"""
from __future__ import annotations

import functools
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import microbuy.cli
import storage
from policies import DEFAULT_POLICY, load_policy
from policies.request import REQUEST_FIELDS

from corpus import AMOUNT_READS, AMOUNTS, DATES, TEXTS, VALUES, ids

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "policies/examples/whiteboard_markers.json").read_text())
CODES = ["cost_centre", "category", "province", "data_classification", "payment_method"]
# Free text a request holds as data, with its size (policies/request.py).
TEXT_FIELDS = {"supplier": 200, "description": 4000}


@pytest.fixture(scope="module")
def evaluate(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'microbuy.db'}"
    storage.upgrade(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(microbuy.cli, "load_policy", functools.lru_cache(maxsize=None)(load_policy))

        def run(body):
            if not isinstance(body, bytes):
                body = json.dumps(body).encode("utf-8")
            result = CliRunner().invoke(microbuy.cli.main, ["evaluate", "-", "--date", "2026-11-25"], input=body,
                                        env={"DATABASE_URL": url, "MICROBUY_POLICY": str(DEFAULT_POLICY)})
            assert not (result.exception and not isinstance(result.exception, SystemExit)), result.exc_info
            assert result.exit_code in (0, 1), (result.exit_code, result.stderr)
            assert "Traceback" not in result.stderr
            return result

        yield run


def refused_naming(result, field: str) -> str:
    """The one problem line of a refused request, which names `field`."""
    assert result.exit_code == 1, result.stdout[:300]
    head, *problems = result.stderr.splitlines()
    assert head == "error: <stdin>: the request cannot be evaluated:"
    assert len(problems) == 1 and problems[0].startswith(f"  {field}: "), problems
    return problems[0]


def with_value(field, value):
    return {**EXAMPLE, field: value}


@pytest.mark.parametrize("field", sorted(REQUEST_FIELDS))
def test_every_field_refuses_what_it_cannot_hold(evaluate, field):
    for value in ["x" * 40_000, ["pens"], {"$gt": ""}]:
        refused_naming(evaluate(with_value(field, value)), field)


@pytest.mark.parametrize("hostile", AMOUNTS + VALUES, ids=ids(AMOUNTS + VALUES))
def test_prices_and_quantities(evaluate, hostile):
    for field, _whole in (("unit_price", False), ("quantity", True)):
        result = evaluate(with_value(field, hostile.value))
        reads = AMOUNT_READS.get(hostile.id)
        if reads is not None:
            out = json.loads(result.stdout)
            unit, quantity = (reads, EXAMPLE["quantity"]) if field == "unit_price" \
                else (Decimal(EXAMPLE["unit_price"]), int(reads))
            assert Decimal(out["subtotal"]) == unit * quantity
        else:
            refused_naming(result, field)


# The engine takes needed_by as YYYY-MM-DD. An impossible or unreadable one is refused; a real
# date in the past is read and the policy blocks it; a real date far ahead is a date.
DATE_OUTCOMES = {"date-1900": "blocked", "date-far-future": "approval_required"}


@pytest.mark.parametrize("hostile", DATES, ids=ids(DATES))
def test_needed_by_dates(evaluate, hostile):
    result = evaluate(with_value("needed_by", hostile.value))
    outcome = DATE_OUTCOMES.get(hostile.id)
    if outcome is None:
        refused_naming(result, "needed_by")
    else:
        out = json.loads(result.stdout)
        assert out["outcome"] == outcome
        if outcome == "blocked":
            assert any(f["field"] == "needed_by" for f in out["findings"] if f["severity"] == "block")


@pytest.mark.parametrize("field", CODES)
def test_names_the_policy_knows_refuse_every_hostile_text(evaluate, field):
    for hostile in TEXTS:
        line = refused_naming(evaluate(with_value(field, hostile.value)), field)
        assert "\x1b" not in line and "\u202e" not in line


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_free_text_is_data_unless_it_does_not_fit(evaluate, field):
    for hostile in TEXTS:
        result = evaluate(with_value(field, hostile.value))
        if not hostile.value.strip() or len(hostile.value.strip()) > TEXT_FIELDS[field]:
            refused_naming(result, field)
        else:
            assert result.exit_code == 0, (hostile.id, result.stderr)
            assert json.loads(result.stdout)["outcome"] in ("approval_required", "approved", "blocked")


BODIES = {
    "empty": (b"", "not valid JSON"),
    "not-json": (b"pens please", "not valid JSON"),
    "half-json": (b'{"a":', "not valid JSON"),
    "trailing-garbage": (json.dumps(EXAMPLE).encode() + b"garbage", "not valid JSON"),
    "bom": (b"\xef\xbb\xbf" + json.dumps(EXAMPLE).encode(), "not valid JSON"),
    "latin-1": (json.dumps({**EXAMPLE, "supplier": "Bureau en Gros"}).encode().replace(b"en Gros", b"\xe9"),
                "not UTF-8"),
    "utf-16": (json.dumps(EXAMPLE).encode("utf-16"), "not UTF-8"),
    "nested-too-deep": (b"[" * 100_000, "nested too deeply"),
    "number-too-long": (b'{"quantity": ' + b"9" * 5_000 + b"}", "too long"),
    "list": (b"[]", "must be a JSON object"),
    "null": (b"null", "must be a JSON object"),
    "nan-literal": (json.dumps(EXAMPLE).replace('"14.50"', "NaN").encode(), "unit_price: "),
    "infinity-literal": (json.dumps(EXAMPLE).replace('"14.50"', "-Infinity").encode(), "unit_price: "),
}


@pytest.mark.parametrize("name", BODIES)
def test_input_that_is_not_a_request(evaluate, name):
    body, says = BODIES[name]
    result = evaluate(body)
    assert result.exit_code == 1 and result.stdout == ""
    assert says in result.stderr and result.stderr.startswith("error: <stdin>")
    assert len(result.stderr.splitlines()) <= 2
