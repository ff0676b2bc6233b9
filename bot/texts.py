"""Every text the Slack app writes itself, in English and French, by message id (bot/texts.yml).

    t("approvals.rejected", "fr", reference="MB-000042", who=mention("U01AMINA"), reason=typed)

`t` gives Slack mrkdwn: every value is escaped (`bot.mrkdwn.escape`) unless it is `Raw`, text
already safe for mrkdwn (a `<@U...>` mention from `mention`, or a piece `t` made). `plain` gives
the same text with values as they are, for plain_text fields (buttons, modal titles) and for
the audit log. Placeholders are named (`{reference}`); the same ones in every language.

The texts are in bot/texts.yml, in the format of every catalogue people read (policies/catalogue.py):
`message.id: {en: "...", fr: "..."}`. Admins may reword them there; the app reads the file once,
when it starts, and does not start with a file that does not read (the error names the file, the
line, the message id and the problem). tests/bot/test_bot_languages.py holds it to the same rules.

The requester's own answers are passed in as values and so are never translated, only escaped.
Texts a policy admin writes (level names, findings) come from the policy in the reader's
language; the conversation's texts come from the dialogue (dialogues/project/domain.yml).
French follows Government of Canada usage (see the head of bot/texts.yml).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterable, Optional

from policies.catalogue import load_catalogue
from policies.catalogue import placeholders as placeholders  # the names a text uses, for the tests

from .mrkdwn import escape

LANGUAGES = ("en", "fr")
FALLBACK = "en"
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


class Raw(str):
    """Text already safe for mrkdwn: printed by `t` as it is."""


def mention(user_id: Optional[str]) -> Raw:
    """A live mention for a Slack user id; anything else becomes inert text."""
    user_id = user_id or ""
    return Raw(f"<@{user_id}>" if USER_ID.match(user_id) else escape(user_id))


def mentions(user_ids: Iterable[str], language: str) -> Raw:
    """"<@A> or <@B>" in `language`, each person once."""
    people = list(dict.fromkeys(u for u in user_ids if u))
    return Raw(plain("word.or", language).join(mention(u) for u in people))


def language_of(language: Optional[str]) -> str:
    return language if language in LANGUAGES else FALLBACK


def t(key: str, language: Optional[str], **values: object) -> Raw:
    """The message `key` in `language` as mrkdwn, its values escaped (Raw values as they are)."""
    safe = {name: value if isinstance(value, Raw) else escape(value) for name, value in values.items()}
    return Raw(_template(key, language).format_map(safe))


def plain(key: str, language: Optional[str], **values: object) -> str:
    """The message `key` in `language` with its values as given (plain_text, the audit log)."""
    return _template(key, language).format_map({name: str(value) for name, value in values.items()})


def template(key: str, language: Optional[str]) -> str:
    """The message `key` in `language` unfilled, for a caller that fills it with safe values."""
    return _template(key, language)


def _template(key: str, language: Optional[str]) -> str:
    texts = TEXTS[key]
    return texts.get(language_of(language)) or texts[FALLBACK]


# The catalogue (bot/texts.yml), read once when the app starts: every message in every language,
# with the same placeholders (policies/catalogue.py refuses anything else, naming the file and id).
TEXTS_FILE = Path(__file__).resolve().with_name("texts.yml")
TEXTS: Dict[str, Dict[str, str]] = load_catalogue(TEXTS_FILE, LANGUAGES, FALLBACK)


def status_word(status: Optional[str], language: Optional[str]) -> str:
    """A request's status in words; an unknown one as stored."""
    key = f"status.{status}"
    return plain(key, language) if key in TEXTS else str(status or "")
