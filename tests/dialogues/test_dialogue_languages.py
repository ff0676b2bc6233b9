"""Both official languages, piece by piece: French answers read, texts said in the requester's
language, the language taken from the message (named or from the Slack app's metadata), every
text of the dialogue present in both languages, and the NLU scores split by language."""
from __future__ import annotations

import json
import os
import shutil
import string
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import policies
from dialogues import consistency, policy_nlu, wording
from dialogues.actions.submit import request_problem
from dialogues.answers import UNKNOWN, AnswerError, read_amount, read_date, read_quantity, read_yes_no
from dialogues.draft import Draft
from dialogues.languages import FROM_METADATA, language_code
from policies.money import REASONS

from nlu_languages import entity_f1_by_language, example_languages, intent_f1_by_language, plain, tokens

REPO = Path(__file__).resolve().parents[2]
DIALOGUES = REPO / "dialogues"
PROJECT = DIALOGUES / "project"  # the Rasa project
TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.fixture(scope="module")
def policy():
    return policies.load_policy(policies.DEFAULT_POLICY)


# --- French answers -----------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("1 234,50 $", "1234.50"),
    ("80 $", "80.00"),
    ("80,50 $", "80.50"),
    ("80$", "80.00"),
    ("environ 90 $ chacun", "90.00"),
    ("à peu près 90 $", "90.00"),
    ("ça coûte 45 dollars", "45.00"),
    ("2 000 $ avant taxes", "2000.00"),
])
def test_french_amounts(text, expected):
    assert read_amount(text, locale="fr_CA") == Decimal(expected)


@pytest.mark.parametrize("text, expected", [
    ("15 décembre", date(2026, 12, 15)),
    ("le 3 janvier", date(2027, 1, 3)),
    ("d'ici le 20 décembre", date(2026, 12, 20)),
    ("fin du mois", date(2026, 11, 30)),
    ("d'ici la fin du mois", date(2026, 11, 30)),
    ("fin décembre", date(2026, 12, 31)),
    ("mi-janvier", date(2027, 1, 15)),
    ("end of the month", date(2026, 11, 30)),  # the English phrase the NLU examples use, read too
])
def test_french_dates(text, expected):
    assert read_date(text, TODAY, language="fr" if text != "end of the month" else "en") == expected


def test_vendredi_prochain_is_a_coming_friday():
    day = read_date("vendredi prochain", TODAY, language="fr")
    assert day.weekday() == 4 and TODAY < day <= TODAY + timedelta(days=9)


@pytest.mark.parametrize("text, expected", [
    ("oui", True), ("Oui, elle est signée", True), ("absolument", True), ("tout à fait", True), ("d'accord", True),
    ("non", False), ("non merci", False), ("pas encore", False), ("jamais", False),
    ("je ne sais pas", UNKNOWN), ("aucune idée", UNKNOWN), ("je ne suis pas certaine", UNKNOWN),
])
def test_french_yes_no(text, expected):
    assert read_yes_no(text, allow_unknown=True) == expected


@pytest.mark.parametrize("text, expected",
                         [("trois", 3), ("une douzaine", 12), ("deux douzaines", 24), ("5 unités", 5)])
def test_french_quantities(text, expected):
    assert read_quantity(text) == expected


def test_an_answer_that_does_not_read_is_explained_in_each_language():
    with pytest.raises(AnswerError) as refused:
        read_quantity("100001")
    assert str(refused.value) == "The quantity must be at most 100,000; check the number."
    assert refused.value.text("fr").replace("\u00a0", " ") == \
        "La quantité doit être d'au plus 100 000; vérifiez le nombre."


def test_the_amount_readers_reason_is_said_in_french():
    with pytest.raises(AnswerError) as refused:
        read_amount("-5", locale="fr_CA")
    assert "not negative" in str(refused.value)
    french = refused.value.text("fr")
    assert french == "Je ne peux pas lire « -5 » comme un prix : le montant doit être supérieur à zéro, pas négatif. " \
                     "Écrivez-le comme 89,99."


@pytest.mark.parametrize("typed, reason", [
    ("1,5e3 $", "écrivez le montant au long (par exemple 1 500,00), pas en notation scientifique"),
    ("1 234.50 $", "ses chiffres ne sont pas groupés de la façon habituelle (par exemple 1 234,50)"),
    ("0 $", "le montant doit être supérieur à zéro"),
    ("999 999 999 999 $", "ce montant est beaucoup trop élevé pour un micro-achat; vérifiez le nombre"),
])
def test_each_refused_amount_is_told_in_french_with_french_figures(typed, reason):
    with pytest.raises(AnswerError) as refused:
        read_amount(typed, locale="fr_CA")
    french = refused.value.text("fr", "fr_CA").replace("\u00a0", " ").replace("\u202f", " ")
    assert french == f"Je ne peux pas lire « {typed} » comme un prix : {reason}. Écrivez-le comme 89,99."


def test_every_refusal_of_the_amount_reader_has_a_text_in_each_language():
    for code, english in REASONS.items():
        entry = wording.texts().get(f"amount_{code}")
        assert entry and set(entry) >= {"en", "fr"}, f"texts.yml does not word the amount reader's refusal '{code}'"
        for language, text in entry.items():  # only values the refusal gives
            assert _placeholders(text) <= _placeholders(english), (code, language)


def test_a_request_the_engine_refuses_for_its_amount_is_told_in_french(policy):
    example = json.loads((REPO / "policies" / "examples" / "whiteboard_markers.json").read_text())
    with pytest.raises(policies.RequestError) as refused:
        policies.parse_request({**example, "unit_price": "-5"}, policy)
    [(field, reason)] = refused.value.problems
    draft = Draft(policy, "U09NADIA", TODAY, "fr")
    assert request_problem(draft, refused.value, field, reason) == \
        "prix : le montant doit être supérieur à zéro, pas négatif."
    assert request_problem(Draft(policy, "U09NADIA", TODAY, "en"), refused.value, field, reason) == \
        "price: the amount must be more than zero, not negative."


def _placeholders(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_a_draft_says_its_problems_in_its_language(policy):
    draft = Draft(policy, "U09NADIA", TODAY, "fr")
    with pytest.raises(AnswerError) as refused:
        draft.read("province", "Paris")
    assert refused.value.text(draft.language, draft.locale) == \
        "« Paris » ne fait pas partie des choix; choisissez l'un des boutons."
    assert draft.read("unit_price", "1 234,50 $") == "1234.50"  # read in fr_CA
    assert Draft(policy, "U09NADIA", TODAY, "en").locale == "en_CA"


# --- texts.yml ----------------------------------------------------------------------------------
def test_say_fills_in_and_writes_numbers_the_languages_way():
    assert wording.say("answer_too_long", "en", length=4500, limit=4000) == \
        "That answer is too long (4,500 characters); keep it under 4,000."
    french = wording.say("answer_too_long", "fr", length=4500, limit=4000)
    assert french.replace("\u202f", " ").replace("\u00a0", " ") == \
        "Cette réponse est trop longue (4 500 caractères); limitez-la à 4 000."
    assert wording.say("word_yes", "de") == "yes"  # a language without texts falls back to English
    with pytest.raises(KeyError):
        wording.say("no_such_text", "fr")


def test_texts_are_read_again_and_an_edit_the_catalogue_check_refuses_keeps_the_old(tmp_path, monkeypatch,
                                                                                     caplog):
    """texts.yml is read by policies/catalogue.py, like bot/texts.yml: a reword is used at the next
    turn; an edit giving French a placeholder English lacks is logged with the file and the id, and
    the last good wording stays."""
    copy = tmp_path / "texts.yml"
    shutil.copy(wording.TEXTS_FILE, copy)
    monkeypatch.setattr(wording.texts, "path", copy)
    edit(copy, '  en: "yes"\n', '  en: "yes indeed"\n')
    os.utime(copy, ns=(10**9, 10**9))
    assert wording.say("word_yes", "en") == "yes indeed"

    edit(copy, "  fr: Indiquez un prix, par exemple 89,99.\n", "  fr: Indiquez un prix en {currency}.\n")
    os.utime(copy, ns=(2 * 10**9, 2 * 10**9))
    assert wording.say("price_missing", "fr") == "Indiquez un prix, par exemple 89,99."
    assert wording.say("word_yes", "en") == "yes indeed"
    wording.texts()
    assert caplog.text.count("not reloaded") == 1
    assert f"{copy}:" in caplog.text and "price_missing: the fr text uses {currency}" in caplog.text


# --- the language of a message --------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    ("fr", "fr"), ("French", "fr"), ("en français svp", "fr"), ("English please", "en"), ("anglais", "en"),
    ("in English, not French", "en"), ("allemand", None), ("", None),
])
def test_language_code(value, expected):
    assert language_code(value) == expected


def test_a_two_letter_word_is_no_language_code_in_a_sentence():
    assert language_code("en", codes=False) is None


@pytest.fixture(scope="module")
def message_language():
    from dialogues.rasa_plugins.nlu_language import MessageLanguage

    return MessageLanguage()


def parsed(text, intent, entities=(), metadata=None):
    from rasa.shared.nlu.training_data.message import Message

    return Message(data={"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": list(entities),
                         "metadata": metadata})


def languages_of(message):
    return [(e["value"], e["extractor"]) for e in message.get("entities") if e["entity"] == "language"]


def test_the_metadata_language_becomes_an_entity(message_language):
    [message] = message_language.process([parsed("Staples", "inform", metadata={"language": "fr"})])
    assert languages_of(message) == [("fr", FROM_METADATA)]


def test_without_metadata_no_language_is_added(message_language):
    [message] = message_language.process([parsed("Staples", "inform", metadata={})])
    assert languages_of(message) == []


def test_a_language_asked_for_wins_over_the_metadata_of_the_same_message(message_language):
    named = {"entity": "language", "value": "fr", "start": 3, "end": 11, "extractor": "CRFEntityExtractor"}
    [message] = message_language.process([parsed("en français svp", "switch_language", [named], {"language": "en"})])
    assert languages_of(message) == [("fr", "CRFEntityExtractor")]


def test_a_language_word_the_crf_missed_is_still_read(message_language):
    [message] = message_language.process([parsed("parle-moi en francais", "switch_language", [], {"language": "en"})])
    assert [value for value, _ in languages_of(message)] == ["fr"]


def test_a_language_word_in_another_intent_is_not_a_switch(message_language):
    french = {"entity": "language", "value": "fr", "start": 9, "end": 15, "extractor": "CRFEntityExtractor"}
    item = {"entity": "item", "value": "French dictionary", "start": 9, "end": 26}
    [message] = message_language.process([parsed("I need a French dictionary", "start_purchase", [french, item],
                                                 {"language": "en"})])
    assert languages_of(message) == [("en", FROM_METADATA)]
    assert item in message.get("entities")


# --- every text in every language ---------------------------------------------------------------
@pytest.fixture
def project(tmp_path) -> Path:
    copy = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, copy, ignore=shutil.ignore_patterns("models", ".rasa", "__pycache__"))
    return copy / "project"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_shipped_dialogue_has_every_text_in_both_languages(policy):
    assert [str(p) for p in consistency.check_languages(PROJECT, policy)] == []


def test_a_response_without_its_french_text_is_found(project, policy):
    edit(project / "domain.yml", '''    - condition: *fr
      text: "Comment paierez-vous?"
''', "")
    [problem] = consistency.check_languages(project, policy)
    assert "responses.utter_choose_payment_method has no fr text" in str(problem)


def test_a_french_text_with_other_placeholders_or_buttons_is_found(project, policy):
    edit(project / "domain.yml", "Soumise {reference} : {title}", "Soumise {référence} : {title}")
    edit(project / "domain.yml", '{title: "Soumettre", payload: "/affirm"}', '{title: "Soumettre", payload: "/oui"}')
    found = [str(p) for p in consistency.check_languages(project, policy)]
    assert len(found) == 2
    assert any("utter_submitted" in line and "same {placeholders}" in line for line in found)
    assert any("utter_summary" in line and "keep the payloads" in line for line in found)


def test_texts_and_the_starting_language_are_checked(project, policy):
    edit(project / "texts.yml", "  fr: Indiquez un prix, par exemple 89,99.\n", "")
    edit(project / "domain.yml", "    initial_value: en\n", "    initial_value: fr\n")
    found = [str(p) for p in consistency.check_languages(project, policy)]
    assert any("price_missing: missing the fr text" in line for line in found)
    assert any("initial_value is 'fr'" in line for line in found)
    assert len(found) == 2


def test_an_english_only_pack_needs_no_french(project):
    us = policies.load_policy(REPO / "policies" / "us-far.yml")
    edit(project / "domain.yml", '''    - condition: *fr
      text: "Comment paierez-vous?"
''', "")
    assert consistency.check_languages(project, us) == []


# --- training phrases from the policy, in both languages ----------------------------------------
def test_generated_phrases_in_each_language_of_the_pack(policy):
    generated = policy_nlu.build(policy)
    assert "metadata: {language: fr}" in generated
    assert "      - achat de [stylos](item) pour l'équipe\n" in generated
    assert "Colombie-Britannique" in generated and "British Columbia" in generated
    english_only = policy_nlu.build(policies.load_policy(REPO / "policies" / "us-far.yml"))
    assert "metadata: {language: fr}" not in english_only


# --- NLU scores per language ----------------------------------------------------------------------
def test_examples_are_told_apart_by_file_and_block(tmp_path):
    (tmp_path / "nlu.yml").write_text('nlu:\n  - intent: greet\n    examples: |\n      - hello\n      - Ontario\n')
    (tmp_path / "nlu_fr.yml").write_text('nlu:\n  - intent: greet\n    examples: |\n      - bonjour\n      - Ontario\n')
    (tmp_path / "generated.yml").write_text(
        'nlu:\n  - intent: inform\n    metadata: {language: fr}\n    examples: |\n      - un [stylo](item)\n')
    assert example_languages(tmp_path) == {"hello": {"en"}, "bonjour": {"fr"}, "Ontario": {"en", "fr"},
                                           "un stylo": {"fr"}}
    assert plain('[1 234,50](amount) $ chez [Bureau en Gros]{"entity": "supplier"}') == "1 234,50 $ chez Bureau en Gros"


def test_scores_are_split_by_language(tmp_path):
    def result(text, intent, predicted):
        return {"text": text, "intent": intent, "intent_prediction": {"name": predicted, "confidence": 0.9}}

    (tmp_path / "intent_successes.json").write_text(json.dumps([result("hello", "greet", "greet"),
                                                                result("bye", "goodbye", "goodbye")]))
    (tmp_path / "intent_errors.json").write_text(json.dumps([result("bonjour", "greet", "goodbye")]))
    languages = {"hello": {"en"}, "bye": {"en"}, "bonjour": {"fr"}, "au revoir": {"fr"}}
    scores = intent_f1_by_language(tmp_path, languages)
    assert scores["en"] == (1.0, 2) and scores["fr"] == (0.0, 1)

    webcam = {"entity": "item", "start": 9, "end": 15, "value": "webcam"}
    item = {"entity": "item", "start": 9, "end": 16, "value": "clavier"}
    wrong = {**item, "entity": "supplier", "extractor": "CRFEntityExtractor"}
    (tmp_path / "CRFEntityExtractor_successes.json").write_text(json.dumps(
        [{"text": "I need a webcam", "entities": [webcam],
          "predicted_entities": [{**webcam, "extractor": "CRFEntityExtractor"}]}]))
    (tmp_path / "CRFEntityExtractor_errors.json").write_text(json.dumps(
        [{"text": "un achat clavier", "entities": [item], "predicted_entities": [wrong]}]))
    entities = entity_f1_by_language(tmp_path, "CRFEntityExtractor",
                                     {"I need a webcam": {"en"}, "un achat clavier": {"fr"}})
    assert entities == {"en": (1.0, 1), "fr": (0.0, 1)}
    assert tokens("1 234,50 $") == [(0, 1), (2, 8)]  # the dollar sign is dropped, as Rasa's tokenizer does
