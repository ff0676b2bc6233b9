"""A catalogue of texts people read: a YAML file, one entry per message id, one text per language.

    approvals.rejected:
      en: "{reference} was rejected by {who}."
      fr: "{reference} a été refusée par {who}."

Every catalogue microbuy owns has this one shape: the Slack app's texts (bot/texts.yml) and the
texts the dialogue's actions build messages from (dialogues/project/texts.yml). Placeholders are
named (`{reference}`, filled by `str.format`) and, unless the catalogue allows a language to leave
one out, the same in every language. Comments are the file's own: admins reword these files.

`load_catalogue` reads a file and returns it as plain dicts, or raises CatalogueError naming the
file, the line, the message id and each problem; nothing of a broken file is returned.
(The policy pack's `messages:` are Jinja templates checked by policies/schema.py; Rasa's
responses in domain.yml are Rasa's own format.)
"""
from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .text import LANGUAGE

Catalogue = Dict[str, Dict[str, str]]
SHAPE = "{en: ..., fr: ...}"


class CatalogueError(ValueError):
    """A catalogue that does not read: each problem is (line or None, message id or None, what)."""

    def __init__(self, file: str, problems: List[Tuple[Optional[int], Optional[str], str]]):
        self.file = file
        self.problems = problems
        super().__init__("\n".join((f"{file}:{line}: " if line else f"{file}: ") + (f"{key}: " if key else "") + what
                                   for line, key, what in problems))


def placeholders(template: str) -> set:
    """The names of a template's {placeholders} (those of a format spec, {total:>{width}}, too);
    ValueError if its braces do not read."""
    names = set()
    for _, name, spec, _ in string.Formatter().parse(template):
        if name is not None:
            names.add(name)
            names |= placeholders(spec or "")
    return names


def template_problems(template: str) -> List[str]:
    """What keeps a text from being a template of named placeholders."""
    try:
        names = placeholders(template)
    except ValueError as exc:
        return [f"its braces do not read ({exc}); a placeholder is {{name}}, a brace shown as is {{{{ or }}}}"]
    unnamed = sorted(name for name in names if not name.isidentifier())
    if unnamed:
        shown = ", ".join("{%s}" % name for name in unnamed)
        return [f"{shown}: a placeholder is a plain name, such as {{reference}}"]
    return []


def placeholder_problems(texts: Mapping[str, str], fallback: str, may_leave_out: bool = False) -> List[str]:
    """Whether each language uses the placeholders of the `fallback` language's text: the same
    ones, or with `may_leave_out` some of them (never one it does not have)."""
    if fallback not in texts:
        return []
    expected = placeholders(texts[fallback])
    problems = []
    for language, text in texts.items():
        used = placeholders(text)
        if language == fallback or used == expected or (may_leave_out and used <= expected):
            continue
        if may_leave_out:
            extra = ", ".join("{%s}" % name for name in sorted(used - expected))
            problems.append(f"the {language} text uses {extra}, which the {fallback} text does not have; "
                            "a language may leave a placeholder out, never add one")
        else:
            problems.append(f"the {language} text has {_names(used)}, the {fallback} text {_names(expected)}: "
                            "use the same {placeholders} in every language")
    return problems


def _names(names: Iterable[str]) -> str:
    return ", ".join("{%s}" % name for name in sorted(names)) or "none"


def entry_problems(entry: Any, languages: Iterable[str] = (), fallback: str = "en",
                   may_leave_out: bool = False) -> List[str]:
    """What is wrong with one entry: not one text per language, a text missing, empty or not a
    template, placeholders that differ between the languages."""
    if not isinstance(entry, Mapping) or not entry:
        return [f"must be one text per language, such as {SHAPE}, not {_kind(entry)}"]
    problems = []
    texts = {}
    for language, text in entry.items():
        if not isinstance(language, str) or not LANGUAGE.match(language):
            problems.append(f"'{language}' is not a two-letter language code such as en or fr")
        elif not isinstance(text, str):
            problems.append(f"the {language} text is empty" if text is None
                            else f"the {language} text is {_kind(text)}, not text; put it in double quotes")
        elif not text.strip():
            problems.append(f"the {language} text is empty")
        else:
            found = template_problems(text)
            problems.extend(f"the {language} text: {problem}" for problem in found)
            if not found:
                texts[language] = text
    for language in dict.fromkeys([fallback, *languages]):
        if language not in entry:
            problems.append(f"missing the {language} text")
    if not problems:
        problems = placeholder_problems(texts, fallback, may_leave_out)
    return problems


def _kind(value: Any) -> str:
    if not value and not isinstance(value, (bool, int, float)):
        return "nothing"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, (bool, int, float)):
        return "a number" if not isinstance(value, bool) else "true or false"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


def check_catalogue(loaded: Any, file: str, languages: Iterable[str] = (), fallback: str = "en",
                    may_leave_out: bool = False) -> Catalogue:
    """The catalogue read from `file` as plain dicts, or CatalogueError with every problem.

    Each entry needs a text in `fallback` (what a reader of another language gets when their
    text is missing) and in each of `languages`."""
    if not isinstance(loaded, Mapping) or not loaded:
        raise CatalogueError(file, [(None, None, "must be a mapping of message ids to one text per language, "
                                                 f"such as 'some.id: {SHAPE}'")])
    languages = tuple(languages)
    problems: List[Tuple[Optional[int], Optional[str], str]] = []
    catalogue: Catalogue = {}
    for key, entry in loaded.items():
        line = _line(loaded, key)
        if not isinstance(key, str):
            problems.append((line, str(key), "a message id is text, such as approvals.rejected"))
            continue
        found = entry_problems(entry, languages, fallback, may_leave_out)
        problems.extend((line, key, problem) for problem in found)
        if not found:
            catalogue[key] = {str(language): str(text) for language, text in entry.items()}
    if problems:
        raise CatalogueError(file, problems)
    return catalogue


def load_catalogue(path: Path | str, languages: Iterable[str] = (), fallback: str = "en",
                   may_leave_out: bool = False) -> Catalogue:
    """Read and check a catalogue file (see check_catalogue)."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(file, [(None, None, f"cannot read the file: {getattr(exc, 'strerror', None) or exc}")]
                             ) from None
    try:
        return check_catalogue(_parsed(text, file, "safe"), file, languages, fallback, may_leave_out)
    except CatalogueError as problems:
        # Read again, slower, to say the line of each entry.
        try:
            check_catalogue(_parsed(text, file, "rt"), file, languages, fallback, may_leave_out)
        except CatalogueError as located:
            raise located from None
        raise problems from None


def _parsed(text: str, file: str, kind: str) -> Any:
    try:
        return YAML(typ=kind).load(text)
    except MarkedYAMLError as exc:
        # Where it went wrong; for a quoted text never closed, where it began (not the file's end).
        scanning = exc.context_mark and "scanning" in str(exc.context or "")
        mark = (exc.context_mark if scanning else exc.problem_mark) or exc.context_mark
        what = ", ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise CatalogueError(file, [(mark.line + 1 if mark else None, _id_at(text, mark.line) if mark else None,
                                     f"not valid YAML ({what}); a text that starts with {{ or a quote, or has "
                                     "': ' or ' #' in it, goes in double quotes")]) from None
    except YAMLError as exc:
        raise CatalogueError(file, [(None, None, f"not valid YAML: {exc}")]) from None


_ID = re.compile(r"""^(?:"([^"]+)"|'([^']+)'|([^\s#'"][^:#]*?))\s*:(?:\s|$)""")


def _id_at(text: str, index: int) -> Optional[str]:
    """The message id whose entry holds line `index` (0-based): the last one that starts at or above it."""
    for line in reversed(text.splitlines()[:index + 1]):
        found = _ID.match(line)
        if found:
            return next(group for group in found.groups() if group)
    return None


def _line(loaded: Mapping, key: Any) -> Optional[int]:
    try:
        return loaded.lc.key(key)[0] + 1  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError):
        return None
