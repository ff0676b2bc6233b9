"""bot.mrkdwn: user text made inert for Slack mrkdwn, and cut to Slack's limits."""
import re

import pytest

from bot.mrkdwn import escape, split_text, truncate

BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


@pytest.mark.parametrize("typed, shown", [
    ("<!channel>", "&lt;!channel&gt;"),
    ("<@U123>", "&lt;@U123&gt;"),
    ("<https://evil.example|canada.ca>", "&lt;https://evil.example|canada.ca&gt;"),
    ("&lt;b&gt;", "&amp;lt;b&amp;gt;"),  # already-escaped text is shown as typed
    ("R&D <team>", "R&amp;D &lt;team&gt;"),
])
def test_control_characters_become_entities(typed, shown):
    assert escape(typed) == shown
    assert "<" not in escape(typed) and ">" not in escape(typed)


def test_bidi_zero_width_and_control_characters_are_removed():
    text = "pay\u202eusd\u202c \u2066x\u2069 a\u200bb\x00c\x1bd\x07"
    assert escape(text) == "payusd x abcd"


def test_line_breaks_and_tabs_survive_and_crlf_becomes_lf():
    assert escape("a\r\nb\tc\u2028d") == "a\nb\tc\nd"


def test_formatting_survives_and_none_is_empty():
    assert escape("*bold* _it_ ~s~") == "*bold* _it_ ~s~"
    assert escape(None) == ""
    assert escape(12) == "12"


def test_truncate_leaves_short_text_and_cuts_long_text_with_an_ellipsis():
    assert truncate("short", 10) == "short"
    assert truncate("x" * 10, 10) == "x" * 10
    cut = truncate("abcdefghijkl", 10)
    assert cut == "abcdefghi…" and len(cut) == 10


def test_truncate_never_cuts_an_entity_in_two():
    text = escape("a" * 7 + "&" + "b" * 10)  # "aaaaaaa&amp;bbbb..."
    for limit in range(8, 14):
        cut = truncate(text, limit)
        assert len(cut) <= limit
        assert not BROKEN_ENTITY.search(cut), cut


def test_truncate_refuses_a_limit_below_one():
    with pytest.raises(ValueError):
        truncate("abc", 0)


def test_split_text_cuts_at_line_breaks_within_the_limit():
    lines = [f"line {i:03d} " + "y" * 40 for i in range(200)]
    pieces = split_text("\n".join(lines), 1000)
    assert len(pieces) > 1
    assert all(len(piece) <= 1000 for piece in pieces)
    # Cut only between lines: every piece is whole lines, and nothing is lost.
    assert "\n".join(pieces).split("\n") == lines


def test_split_text_cuts_one_long_line_at_spaces_or_hard_without_breaking_entities():
    words = split_text("word " * 1000, 300)
    assert all(len(piece) <= 300 for piece in words)
    assert " ".join(words).split() == ["word"] * 1000
    entities = split_text(escape("&" * 1000), 301)
    assert all(len(piece) <= 301 for piece in entities)
    assert "".join(entities) == "&amp;" * 1000
