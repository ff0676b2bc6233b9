"""Wording an admin writes in the policy: one text per language, some of them templates."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Mapping, Type, TypeVar

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

LANGUAGE = re.compile(r"^[a-z]{2}$")
# A plain string in the policy is the text in the pack's default language.
DEFAULT = "*"

# Admin-written templates run sandboxed: an admin can place values, not run code. Values are
# plain text; escaping for Slack mrkdwn or HTML happens where the text is shown.
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


_Text = TypeVar("_Text", bound="LocalText")


class LocalText(dict):
    """A text in one or more languages, e.g. {"en": "Travel", "fr": "Voyages"}."""

    @classmethod
    def __get_validators__(cls):
        yield cls.validate

    @classmethod
    def validate(cls: Type[_Text], value: object) -> _Text:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("the text is empty")
            return cls({DEFAULT: value})
        if isinstance(value, Mapping):
            if not value:
                raise ValueError("give the text for at least one language, e.g. {en: ..., fr: ...}")
            texts = {}
            for language, text in value.items():
                if not isinstance(language, str) or not LANGUAGE.match(language):
                    raise ValueError(f"'{language}' is not a two-letter language code such as en or fr")
                if not isinstance(text, str) or not text.strip():
                    raise ValueError(f"the '{language}' text must be non-empty text")
                texts[language] = text
            return cls(texts)
        raise ValueError("must be text, or one text per language such as {en: ..., fr: ...}")

    def missing(self, languages: Iterable[str], default_language: str) -> list[str]:
        have = {default_language if key == DEFAULT else key for key in self}
        return [language for language in languages if language not in have]

    def get_text(self, language: str, default_language: str) -> str:
        for key in (language, DEFAULT if language == default_language else None, default_language, DEFAULT):
            if key in self:
                return self[key]
        return next(iter(self.values()))


@lru_cache(maxsize=4096)
def _compiled(source: str):
    return _ENV.from_string(source)


def template_problems(source: str, allowed: set[str]) -> list[str]:
    """What is wrong with an admin's template: bad syntax or a value it cannot have."""
    try:
        parsed = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return [f"template error on its line {exc.lineno}: {exc.message}"]
    unknown = sorted(meta.find_undeclared_variables(parsed) - allowed)
    if unknown:
        names = ", ".join("{{ %s }}" % name for name in unknown)
        return [f"uses {names}, which this text cannot show; it can use: {', '.join(sorted(allowed))}"]
    return []


def render(source: str, values: Mapping[str, object]) -> str:
    return _compiled(source).render(**values).strip()
