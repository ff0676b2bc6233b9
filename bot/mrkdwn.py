"""Text made safe for Slack mrkdwn, and cut to Slack's limits.

In mrkdwn `&`, `<` and `>` are control characters: `<!channel>`, `<@U123>` and
`<https://evil.example|canada.ca>` are a live channel ping, a live mention and a disguised link.
`escape` turns them into the entities Slack shows as the characters themselves, so text a
requester typed can only ever be shown, never act. `*bold*` and `_italic_` survive: they are
formatting, not control characters.
"""
from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"
# An entity escape() produces; cutting text inside one would show half of it.
_ENTITY_AT_END = re.compile(r"&[a-z]{0,3}$")


def clean(text: object) -> str:
    """Text without control or invisible formatting characters (bidi overrides, zero-width), nor
    lone surrogates (half an emoji, which Slack cannot show).

    Keeps line breaks and tabs; turns \\r\\n and the Unicode line/paragraph separators into \\n.
    """
    if text is None:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
    )


def escape(text: object) -> str:
    """User text made inert for mrkdwn: `&` `<` `>` as entities, control/bidi characters gone.

    None gives "". Already-escaped text is escaped again (`&lt;` shows as `&lt;`, as typed).
    """
    return clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _safe_cut(text: str, at: int) -> int:
    """`at`, moved back so that it does not fall inside an &amp; / &lt; / &gt; entity."""
    match = _ENTITY_AT_END.search(text[:at])
    if match and text.startswith(("&amp;", "&lt;", "&gt;"), match.start()):
        return match.start()
    return at


def truncate(text: object, limit: int) -> str:
    """`text` in at most `limit` characters, ending with an ellipsis when it was cut.

    Safe on escaped text: it never cuts an entity in two.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    cut = _safe_cut(text, limit - len(ELLIPSIS))
    return text[:cut].rstrip() + ELLIPSIS


def split_text(text: str, limit: int) -> list[str]:
    """Cut `text` into pieces of at most `limit` characters, at line breaks where it can.

    A single line longer than `limit` is cut at its last space before the limit, or at the
    limit itself when it has none (never inside an entity). Blank pieces are left out.
    """
    if limit < 10:
        raise ValueError("limit must be at least 10")
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit + 1)
            if cut <= 0:
                cut = _safe_cut(line, limit)
            head, line = line[:cut], line[cut:].lstrip(" ")
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = line
    pieces.append(current)
    return [piece.strip("\n") for piece in pieces if piece.strip()]
