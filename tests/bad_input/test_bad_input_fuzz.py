"""Property-based fuzz of the message path.

Fast (no servers): any text and buttons Rasa could send back (Rasa texts quote the requester's
own words) become Slack messages that pass Slack's Block Kit checks (standin.blocks, as the Web
API checks them), with every character the requester could type shown, never live.

Real stack (bounded): any text a person could type, sent as a DM through the stand-in to the bot
over signed HTTP with Rasa and the action server running: acknowledged, answered, one turn.
"""
from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import mrkdwn
from bot.render import render_replies
from standin.blocks import MESSAGE_TEXT, check_blocks

from corpus import STRINGS
from faults_kit import new_requester, user_turns
from slack_kit import text_of

# Text a requester could type: anything, with the characters that matter to Slack and to
# readers (mrkdwn's <>&, mentions, formatting, line breaks, bidi and zero-width) made common.
SLACKISH = st.sampled_from(list("<>&!@#|*_~`:\n\t\r ") + ["<!channel>", "<@U123>", "<https://evil.example|x>",
                                                            "&amp;", "\u202e", "\u200b", "\x00", "\u2028", "é", "🖊️"])
TYPED = st.one_of(st.text(max_size=300), st.lists(st.one_of(SLACKISH, st.text(max_size=5)), max_size=60).map("".join))
BUTTON = st.fixed_dictionaries({"title": TYPED, "payload": st.one_of(TYPED, st.sampled_from(["/affirm", "/cancel"]))})
REPLY = st.fixed_dictionaries({}, optional={"text": st.one_of(TYPED, st.text(min_size=2900, max_size=3200)),
                                            "buttons": st.lists(BUTTON, max_size=30),
                                            "custom": st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)})
FAST = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ENTITY = re.compile(r"&(?:amp|lt|gt);")


def shown_texts(message):
    yield message["text"]
    for block in message["blocks"]:
        if block["type"] == "section":
            yield block["text"]["text"]
        for element in block.get("elements", []):
            yield element["text"]["text"]


@FAST
@given(st.lists(REPLY, max_size=8))
@example([{"text": hostile.value} for hostile in STRINGS])
@example([{"text": "<!channel>", "buttons": [{"title": "<@U123>" * 40, "payload": "x" * 2001}]} for _ in range(60)])
def test_any_reply_renders_to_valid_inert_slack_messages(replies):
    rendered = render_replies(replies)
    assert rendered.customs == [r["custom"] for r in replies if r.get("custom") is not None]
    for message in rendered.messages:
        assert check_blocks(message["blocks"]) == []
        assert 0 < len(message["text"]) <= MESSAGE_TEXT
        for text in shown_texts(message):
            assert "<" not in text and ">" not in text  # no mention, channel ping or link can be live
            assert "&" not in ENTITY.sub("", text)  # every & is an entity escape() made
            assert not [ch for ch in text if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf", "Cs")]
    # Nothing the requester said is lost in the sections (only cut at spaces and line breaks).
    said = "".join(mrkdwn.escape(r["text"]) for r in replies if r.get("text"))
    sections = "".join(b["text"]["text"] for m in rendered.messages for b in m["blocks"] if b["type"] == "section")
    assert re.sub(r"\s", "", sections) == re.sub(r"\s", "", said)


@FAST
@given(TYPED)
@example("\ud800 lone surrogate")
def test_escaped_text_is_inert_and_keeps_every_visible_character(text):
    escaped = mrkdwn.escape(text)
    assert "<" not in escaped and ">" not in escaped and "&" not in ENTITY.sub("", escaped)
    unescaped = escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    visible = [ch for ch in text.replace("\r\n", "\n")
               if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")]

    def lines(s):
        return s.replace("\u2028", "\n").replace("\u2029", "\n")

    assert lines(unescaped) == lines("".join(visible))


REAL = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.mark.postgres
@REAL
@given(TYPED)
def test_any_dm_through_the_whole_product_is_acknowledged_and_answered_once(product, text):
    user = new_requester(product)
    dm = product.workspace.dm(user).id
    delivery = product.deliver.message(user, dm, text)
    assert delivery.status == 200 and delivery.acked_in_time
    replies = product.settle(dm, 0, timeout=30, quiet=0.3)
    assert replies and all(m.text for m in replies)
    assert not re.search(r"<[!@#]|<https?:", text_of(replies))
    # One turn in the conversation for the one message (none for a message without words).
    stripped = text.strip()
    assert user_turns(product.database_url, product.workspace.team_id, user) == ([stripped] if stripped else [])
    # Every post the bot made to the DM went through, once.
    posts = [c for c in product.workspace.calls("chat.postMessage") if c.args.get("channel") == dm]
    assert len(posts) == len(replies) and all(c.ok for c in posts)
