"""The hostile corpus through the Rasa REST webhook (dialogues/rasa_plugins/channel.py), with `rasa run` and
`rasa run actions` running for real: as a requester's first message and as the answer to the
price question. Every message gets a reply (text, or the channel's error payload for a message
over 10,000 characters), never an HTTP error; a price is read only when the corpus says it
reads; nothing hostile is ever stored."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from corpus import ALL, AMOUNT_READS, SILENT_INTENTS, STRINGS, WIPING_COMMANDS
from faults_kit import sql
from rasa_stack import customs, sender, texts

pytestmark = pytest.mark.postgres

PRICE = "How much does one cost"
NEXT = "Where will it be delivered"
TOO_LONG = [{"type": "error", "error": "message_too_long"}]
EMPTY = [{"type": "error", "error": "message_empty"}]
SILENT = [{"type": "error", "error": "turn_failed"}]
BY_TEXT = {h.value: h.id for h in STRINGS}


def post(stack, who: str, text: str):
    # As JSON text with \u escapes (json.dumps), so that a lone surrogate arrives as Slack would send it.
    answer = stack.post_raw(json.dumps({"sender": who, "message": text}))
    assert answer.status_code == 200, (text[:80], answer.status_code, answer.text[:300])
    replies = answer.json()
    assert isinstance(replies, list) and replies, text[:80]
    assert texts(replies).strip(), (text[:80], replies)
    errors = [c for c in customs(replies) if c.get("type") == "error"]
    assert not [c for c in customs(replies) if c.get("type") in ("submitted", "resubmitted")], (text[:80], replies)
    if len(text) > 10_000:
        assert errors == TOO_LONG and "too long" in texts(replies)
    elif not text.strip():
        assert errors == EMPTY and "no words" in texts(replies)
    elif BY_TEXT.get(text) in SILENT_INTENTS:
        assert errors in ([], SILENT), (text, replies)
    else:
        assert errors == [], (text[:80], replies)
    return replies


def stored_for(url: str, teams) -> int:
    return sql(url, "SELECT count(*) FROM purchase_requests WHERE team_id = ANY(:teams)", teams=list(teams))[0][0]


def test_every_hostile_text_as_a_first_message_gets_a_reply(product):
    stack = product.stack
    senders = {hostile.id: sender() for hostile in STRINGS}
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda h: post(stack, senders[h.id], h.value), STRINGS))
    assert stored_for(product.database_url, [s.split(":")[0] for s in senders.values()]) == 0


def at_the_price_question(stack) -> str:
    who = sender()
    said = [texts(post(stack, who, line)) for line in ("I need whiteboards", "100200", "Staples", "2")]
    assert PRICE in said[-1], said
    return who


def test_every_hostile_text_as_the_price(product):
    stack = product.stack
    who = at_the_price_question(stack)
    teams = {who.split(":")[0]}
    for hostile in ALL:
        said = texts(post(stack, who, hostile.value))
        if len(hostile.value) > 10_000:
            continue  # not processed: the question stays open
        if hostile.id in WIPING_COMMANDS:  # asks first; No goes back to the same question, answers kept
            assert "Cancel this request?" in said, (hostile.id, said)
            assert PRICE in texts(post(stack, who, "/deny")), hostile.id
        elif hostile.id in AMOUNT_READS:
            assert NEXT in said and PRICE not in said, (hostile.id, said)
            assert PRICE in texts(post(stack, who, '/change_answer{"slot_name": "unit_price"}'))
        elif hostile.kind in ("amount", "date"):
            assert PRICE in said, (hostile.id, said)  # refused, and asked again
        elif PRICE not in said:
            # A detour that ends the form (cancel, restart, another request): start again.
            who = at_the_price_question(stack)
            teams.add(who.split(":")[0])
    assert stored_for(product.database_url, teams) == 0
