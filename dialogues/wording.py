"""The short texts the actions build messages from, in every language (dialogues/project/texts.yml).

    say("quantity_too_large", "fr", maximum=100000)  ->  "La quantité doit être d'au plus 100 000; ..."

A Phrase is a text not yet put in a language: an answer that cannot be read raises one, and the
action that tells it knows the requester's language. Whole messages are responses in domain.yml.
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, Optional

from babel.numbers import format_decimal

from . import PROJECT
from .edited_yaml import EditedCatalogue

log = logging.getLogger(__name__)

TEXTS_FILE = PROJECT / "texts.yml"
FALLBACK_LANGUAGE = "en"
# Numbers in a text are written as a reader of the language expects (100,000 / 100 000) when the
# caller does not give the pack's locale.
DEFAULT_LOCALES = {"en": "en_CA", "fr": "fr_CA"}


class Phrase:
    """A text of texts.yml with its values; values may be Phrases themselves."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key = key
        self.values = values

    def text(self, language: str, locale: Optional[str] = None) -> str:
        return say(self.key, language, locale, **self.values)

    def __repr__(self) -> str:
        return f"Phrase({self.key!r}, {self.values!r})"


def say(key: str, language: str, locale: Optional[str] = None, **values: Any) -> str:
    """The text `key` in `language` (else English), its {placeholders} filled in."""
    entry = texts().get(key)
    if not isinstance(entry, dict) or not entry:
        raise KeyError(f"{TEXTS_FILE.name} has no text '{key}'")
    template = entry.get(language) or entry.get(FALLBACK_LANGUAGE) or next(iter(entry.values()))
    locale = locale or DEFAULT_LOCALES.get(language, f"{language}_CA")
    shown = {name: _shown(value, language, locale) for name, value in values.items()}
    return str(template).format(**shown)


def _shown(value: Any, language: str, locale: str) -> str:
    if isinstance(value, Phrase):
        return value.text(language, locale)
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value, locale=locale)
    if isinstance(value, Decimal):  # an amount: 1,234.50 / 1 234,50
        return format_decimal(value, format="#,##0.00", locale=locale)
    return str(value)


# texts.yml: every sentence the dialogue says, reworded by admins without a restart; a catalogue
# like bot/texts.yml (policies/catalogue.py). A language may leave out a {placeholder} the English
# text uses, never add one: answer_refused and revision_changed_meanwhile give the engine's and
# storage's English reason, which the French texts do not show.
texts = EditedCatalogue(TEXTS_FILE, FALLBACK_LANGUAGE, may_leave_out=True)
