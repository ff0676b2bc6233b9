"""dialogues/rasa_plugins/nlu_detours.py: a detour intent the message's words do not support becomes
nlu_fallback (the answer to the question asked, in the form), trained on the project's own
examples. The classifier's guesses below are the ones the model made before this component
("Ganner" cancel 0.40, "Kilpuxmi" help 0.45, "from Pefi" switch_language 0.39)."""
from __future__ import annotations

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from dialogues import PROJECT

# dialogues.rasa_plugins.nlu_detours brings TensorFlow (8 s): imported by the tests that use it,
# not when pytest collects this file in every test process.

DATA = PROJECT / "data"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The component trained on the project's examples, saved, and loaded back as Rasa does."""
    data = TrainingData().merge(*[load_data(str(path)) for path in sorted(DATA.glob("nlu*.yml"))])
    from dialogues.rasa_plugins.nlu_detours import DetourCheck

    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    resource = Resource("detour_check")
    DetourCheck.create({}, storage, resource, None).train(data)
    return DetourCheck.load({}, storage, resource, None)


def classified(component, text: str, intent: str, confidence: float) -> dict:
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": confidence},
                            "intent_ranking": [{"name": intent, "confidence": confidence}]})
    component.process([message])
    return message.get("intent")


@pytest.mark.parametrize("text, intent, confidence", [
    ("Ganner", "cancel", 0.40), ("Mexpulti", "help", 0.32), ("Kilpuxmi", "help", 0.45),
    ("Rengan", "switch_language", 0.40), ("from Pefi", "switch_language", 0.39), ("Demas", "check_status", 0.33),
    ("Ganner", "cancel", 0.95),  # however sure the classifier is, no word of a cancel was said
])
def test_a_made_up_name_is_no_detour(trained, text, intent, confidence):
    assert classified(trained, text, intent, confidence) == {"name": "nlu_fallback", "confidence": confidence}


@pytest.mark.parametrize("text, intent, confidence", [
    ("help", "help", 0.71), ("aide", "help", 0.77), ("why?", "explain", 0.78), ("pourquoi", "explain", 0.88),
    ("cancel", "cancel", 0.82), ("annuler", "cancel", 0.90), ("anuler", "cancel", 0.45),  # a typo of a word
    ("bye", "goodbye", 0.79), ("au revoir", "goodbye", 0.86), ("en français svp", "switch_language", 0.96),
    ("what's the status of my requests?", "check_status", 0.98),
    ("change the supplier to Best Buy", "change_answer", 1.0),
    ("why are you asking this?", "explain", 0.42),  # unsure, but "why" is the explain intent's own word
])
def test_real_detours_are_kept(trained, text, intent, confidence):
    assert classified(trained, text, intent, confidence)["name"] == intent


@pytest.mark.parametrize("text, believed", [
    # what staff buy: the model said switch_language (0.95) to the first, and the form asked
    # for the item again each time it was typed
    ("Plain language editing", False), ("language training", False), ("sign language interpreter", False),
    ("French language course for two analysts", False),
    # changes of language, some with words of their own
    ("English please", True), ("switch language", True), ("langue", True),
    ("English from now on, thanks", True), ("en français svp merci", True),
])
def test_a_change_of_language_is_the_whole_message(trained, text, believed):
    assert (classified(trained, text, "switch_language", 0.95)["name"] == "switch_language") is believed


def test_answers_are_left_alone(trained):
    # Not a detour: inform, affirm, deny... are the answer whatever their words.
    assert classified(trained, "Zorvane", "inform", 0.62)["name"] == "inform"
    assert classified(trained, "Nankusmas", "deny", 0.75)["name"] == "deny"


def test_the_fallback_heads_the_ranking(trained):
    message = Message(data={"text": "Ganner", "intent": {"name": "cancel", "confidence": 0.4},
                            "intent_ranking": [{"name": "cancel", "confidence": 0.4}]})
    trained.process([message])
    assert [i["name"] for i in message.get("intent_ranking")] == ["nlu_fallback", "cancel"]


def test_words_and_typos():
    from dialogues.rasa_plugins.nlu_detours import mentions, words

    assert words("Pourquoi cette QUESTION?") == ["pourquoi", "cette", "question"]
    assert mentions(["hlep"], {"help"}) and mentions(["cancle"], {"cancel"})
    assert not mentions(["ganner"], {"cancel", "annuler", "never"})
    assert not mentions(["hep"], {"help"})  # short words must be exact


def test_the_check_knows_the_detours_of_the_slots(tmp_path):
    from dialogues.consistency import check_detours

    project = PROJECT
    assert check_detours(project) == []
    for name in ("config.yml", "domain.yml"):
        (tmp_path / name).write_text((project / name).read_text(encoding="utf-8"), encoding="utf-8")
    config = (tmp_path / "config.yml").read_text(encoding="utf-8")
    (tmp_path / "config.yml").write_text(config.replace("switch_language, goodbye]", "switch_language, greet]"),
                                         encoding="utf-8")
    problems = [str(p) for p in check_detours(tmp_path)]
    assert len(problems) == 1
    assert "add goodbye" in problems[0] and "remove greet" in problems[0] and problems[0].startswith(
        f"{tmp_path / 'config.yml'}:")
