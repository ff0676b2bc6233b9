"""Names shared by the NLU component that reads the requester's language (nlu_language.py) and
the action that switches it (actions/language.py); no Rasa import, so the action server stays light.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Optional

ENTITY = "language"
SWITCH_INTENT = "switch_language"
# The extractor name of a language taken from metadata (action_switch_language tells it apart
# from a language the requester named).
FROM_METADATA = "MessageLanguageFromMetadata"
NAMED = "MessageLanguage"
CODE = re.compile(r"^[a-z]{2}$")
# Words that name a language, when the CRF did not mark one ("parle-moi en francais").
LANGUAGE_WORDS = {
    "fr": ("francais", "french", "francophone"),
    "en": ("anglais", "english", "anglophone"),
}


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def language_code(value: Any, codes: bool = True) -> Optional[str]:
    """"fr", "French", "français" -> "fr"; None for anything that names no language. With codes
    False, a two-letter word ("en", "de") is not taken for a code."""
    said = _folded(str(value or "")).strip()
    if codes and CODE.match(said):
        return said
    found = [(match.start(), code) for code, words in LANGUAGE_WORDS.items() for word in words
             for match in re.finditer(rf"\b{word}", said)]
    return min(found)[1] if found else None  # the first named
