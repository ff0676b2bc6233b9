"""The one format of every catalogue people read (policies/catalogue.py): bot/texts.yml and
dialogues/project/texts.yml load through it, and a file that does not read is refused with the
file, the line, the message id and the problem."""
from __future__ import annotations

from pathlib import Path

import pytest

from policies.catalogue import CatalogueError, entry_problems, load_catalogue

REPO = Path(__file__).resolve().parents[2]

GOOD = '''\
# A comment is the file's own.
approvals.rejected:
  en: "{reference} was rejected by {who}."
  fr: "{reference} a été refusée par {who}."

word.or:  # spaces kept
  en: " or "
  fr: " ou "
home.header:
  en: Your purchase requests
  fr: Vos demandes d'achat
'''


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "texts.yml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path, **options) -> CatalogueError:
    with pytest.raises(CatalogueError) as error:
        load_catalogue(path, **options)
    return error.value


def line_of(path: Path, start: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(start))


def test_a_good_file_loads_as_plain_dicts_in_its_order(tmp_path):
    catalogue = load_catalogue(write(tmp_path, GOOD), languages=("en", "fr"))
    assert catalogue == {
        "approvals.rejected": {"en": "{reference} was rejected by {who}.",
                               "fr": "{reference} a été refusée par {who}."},
        "word.or": {"en": " or ", "fr": " ou "},
        "home.header": {"en": "Your purchase requests", "fr": "Vos demandes d'achat"},
    }
    assert list(catalogue) == ["approvals.rejected", "word.or", "home.header"]
    assert all(type(text) is str for entry in catalogue.values() for text in entry.values())


def test_a_missing_language_text_is_named_with_the_file_line_and_id(tmp_path):
    path = write(tmp_path, GOOD.replace('  fr: " ou "\n', ""))
    error = refused(path, languages=("en", "fr"))
    assert str(error) == f"{path}:{line_of(path, 'word.or')}: word.or: missing the fr text"
    # Without the languages asked for, only the fallback (English) is needed.
    assert load_catalogue(path)["word.or"] == {"en": " or "}
    assert "home.header: missing the en text" in str(refused(write(tmp_path, GOOD.replace(
        "  en: Your purchase requests\n", ""))))


def test_an_empty_language_text_is_refused(tmp_path):
    path = write(tmp_path, GOOD.replace("  fr: Vos demandes d'achat\n", "  fr:\n"))
    assert str(refused(path)) == f"{path}:{line_of(path, 'home.header')}: home.header: the fr text is empty"
    path = write(tmp_path, GOOD.replace("  fr: Vos demandes d'achat\n", '  fr: "  "\n'))
    assert "home.header: the fr text is empty" in str(refused(path))


def test_an_extra_placeholder_in_one_language_is_refused(tmp_path):
    path = write(tmp_path, GOOD.replace("a été refusée par {who}.", "a été refusée par {who} le {day}."))
    error = refused(path)
    assert str(error) == (f"{path}:{line_of(path, 'approvals.rejected')}: approvals.rejected: the fr text has "
                          "{day}, {reference}, {who}, the en text {reference}, {who}: use the same {placeholders} "
                          "in every language")
    assert error.file == str(path) and [key for _, key, _ in error.problems] == ["approvals.rejected"]


def test_a_placeholder_left_out_is_refused_unless_the_catalogue_allows_it(tmp_path):
    path = write(tmp_path, GOOD.replace("a été refusée par {who}.", "a été refusée."))
    assert "approvals.rejected: the fr text has {reference}, the en text {reference}, {who}" in str(refused(path))
    assert load_catalogue(path, may_leave_out=True)["approvals.rejected"]["fr"] == "{reference} a été refusée."
    # Left out, yes; added, never.
    path = write(tmp_path, GOOD.replace("a été refusée par {who}.", "a été refusée le {day}."))
    assert "approvals.rejected: the fr text uses {day}, which the en text does not have" in str(
        refused(path, may_leave_out=True))


def test_an_entry_that_is_not_one_text_per_language_is_refused(tmp_path):
    path = write(tmp_path, GOOD + "home.none: You have no purchase requests yet.\n")
    assert str(refused(path)) == (f"{path}:{line_of(path, 'home.none')}: home.none: must be one text per language, "
                                  "such as {en: ..., fr: ...}, not a text")
    path = write(tmp_path, GOOD + "home.none:\n  - en: a list\n")
    assert "home.none: must be one text per language, such as {en: ..., fr: ...}, not a list" in str(refused(path))
    path = write(tmp_path, GOOD + "home.none:\n  english: No requests\n")
    assert "home.none: 'english' is not a two-letter language code such as en or fr" in str(refused(path))


def test_a_yaml_syntax_error_names_the_file_the_line_and_the_id(tmp_path):
    # A text that starts with a placeholder and is not quoted.
    path = write(tmp_path, GOOD.replace('fr: "{reference} a été refusée par {who}."',
                                        "fr: {reference} a été refusée par {who}."))
    error = str(refused(path))
    assert error.startswith(f"{path}:{line_of(path, '  fr: {reference}')}: approvals.rejected: not valid YAML (")
    assert "goes in double quotes" in error
    # A quote never closed: the line it opens on, not the end of the file.
    path = write(tmp_path, GOOD.replace("fr: Vos demandes d'achat", "fr: \"Vos demandes d'achat"))
    opened = line_of(path, '  fr: "Vos')
    assert str(refused(path)).startswith(f"{path}:{opened}: home.header: not valid YAML (")
    # The same id twice would silently keep one of them.
    path = write(tmp_path, GOOD + "word.or:\n  en: or\n  fr: ou\n")
    assert f"{path}:" in str(refused(path)) and "duplicate key" in str(refused(path))


def test_a_text_that_is_not_a_template_of_named_placeholders_is_refused(tmp_path):
    for text, problem in [("{reference was rejected", "its braces do not read"),
                          ("{} was rejected", "{}: a placeholder is a plain name"),
                          ("{who.__class__} was rejected", "{who.__class__}: a placeholder is a plain name")]:
        path = write(tmp_path, GOOD.replace('en: "{reference} was rejected by {who}."', f'en: "{text}"'))
        assert f"approvals.rejected: the en text: {problem}" in str(refused(path)), text
    path = write(tmp_path, GOOD.replace("Vos demandes d'achat", '"{{braces}} shown as they are"'))
    assert load_catalogue(path)["home.header"]["fr"] == "{{braces}} shown as they are"


def test_every_problem_is_told_at_once_and_nothing_of_the_file_is_returned(tmp_path):
    path = write(tmp_path, GOOD.replace('  fr: " ou "\n', "").replace("par {who}.", "par {qui}."))
    error = refused(path, languages=("en", "fr"))
    assert [key for _, key, _ in error.problems] == ["approvals.rejected", "word.or"]
    assert len(str(error).splitlines()) == 2


def test_a_file_that_is_not_a_catalogue_or_cannot_be_read(tmp_path):
    assert "must be a mapping of message ids" in str(refused(write(tmp_path, "- en: a list\n")))
    assert "must be a mapping of message ids" in str(refused(write(tmp_path, "# nothing but a comment\n")))
    missing = tmp_path / "nowhere.yml"
    assert str(refused(missing)) == f"{missing}: cannot read the file: No such file or directory"


def test_entry_problems_is_the_check_of_one_entry():
    assert entry_problems({"en": "{a} b", "fr": "{a} c"}, ("en", "fr")) == []
    assert entry_problems({"en": "{a} b"}, ("en", "fr")) == ["missing the fr text"]
    assert entry_problems({"fr": "c"}, ("fr",)) == ["missing the en text"]  # the fallback is always needed
    assert entry_problems({"en": "{total:>{width}}", "fr": "{total}"}) == [  # a format spec's own placeholder
        "the fr text has {total}, the en text {total}, {width}: use the same {placeholders} in every language"]
    assert entry_problems({"en": 12, "fr": "x"}) == [
        "the en text is a number, not text; put it in double quotes"]


def test_the_shipped_catalogues_load():
    bot = load_catalogue(REPO / "bot" / "texts.yml", languages=("en", "fr"))
    assert len(bot) > 100
    dialogue = load_catalogue(REPO / "dialogues" / "project" / "texts.yml", languages=("en", "fr"), may_leave_out=True)
    assert "answer_too_long" in dialogue
