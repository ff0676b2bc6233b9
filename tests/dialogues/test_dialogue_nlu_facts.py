"""dialogues/rasa_plugins/nlu_facts.py: the two "here are facts" intents never tie each other into
nlu_fallback, and a greeting with an order in it is an order. The rankings below are the kind the
classifier gave the first messages of issue 16 (start_purchase 0.50, inform 0.50)."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

# dialogues.rasa_plugins.nlu_facts and Rasa's FallbackClassifier bring TensorFlow (8 s): imported
# by the tests that use them, not when pytest collects this file in every test process.


def fact_intents():
    from dialogues.rasa_plugins.nlu_facts import FactIntents

    return FactIntents.create({}, None, None, None)


def message(ranking, entities=()):
    ranking = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    return Message(data={"text": "...", "intent": dict(ranking[0]), "intent_ranking": ranking,
                         "entities": [{"entity": e, "value": "x", "start": 0, "end": 1} for e in entities]})


def folded(ranking, entities=()):
    m = message(ranking, entities)
    fact_intents().process([m])
    return m


def after_fallback(m):
    """What Rasa's own FallbackClassifier (threshold 0.3, ambiguity 0.1 as in config.yml) makes of it."""
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

    fallback = FallbackClassifier.create({**FallbackClassifier.get_default_config(), "threshold": 0.3},
                                         None, None, None)
    fallback.process([m])
    return m.get("intent")["name"]


def test_a_tie_between_the_fact_intents_is_one_intent_with_both_confidences():
    m = folded([("start_purchase", 0.50), ("inform", 0.48), ("greet", 0.02)], ["item", "supplier"])
    assert m.get("intent") == {"name": "start_purchase", "confidence": pytest.approx(1.0)}
    assert [r["name"] for r in m.get("intent_ranking")] == ["start_purchase"]
    assert after_fallback(m) == "start_purchase"


def test_the_same_tie_without_the_component_is_a_fallback():
    # What happened before: the ambiguity check made the tie "Sorry, I didn't get that".
    assert after_fallback(message([("start_purchase", 0.50), ("inform", 0.48)])) == "nlu_fallback"


def test_the_stronger_fact_intent_names_the_result():
    m = folded([("inform", 0.45), ("start_purchase", 0.40), ("help", 0.15)])
    assert m.get("intent")["name"] == "inform"
    assert m.get("intent")["confidence"] == pytest.approx(0.85)
    assert [r["name"] for r in m.get("intent_ranking")] == ["inform", "help"]


def test_a_greeting_with_purchase_facts_in_it_is_a_purchase():
    ranking = [("greet", 0.42), ("start_purchase", 0.30), ("inform", 0.20), ("cancel", 0.08)]
    m = folded(ranking, ["item", "amount"])
    assert m.get("intent")["name"] == "start_purchase"
    assert m.get("intent")["confidence"] == pytest.approx(0.92)
    assert after_fallback(m) == "start_purchase"


def test_a_greeting_alone_stays_a_greeting():
    m = folded([("greet", 0.80), ("start_purchase", 0.12), ("inform", 0.08)])
    assert m.get("intent") == {"name": "greet", "confidence": 0.80}


def test_a_detour_stronger_than_the_facts_keeps_its_place():
    # "can I buy a laptop from Best Buy?" is a question, not an order, whatever it names.
    m = folded([("can_i_buy", 0.55), ("start_purchase", 0.25), ("inform", 0.20)], ["item", "supplier"])
    assert m.get("intent") == {"name": "can_i_buy", "confidence": 0.55}
    assert [r["name"] for r in m.get("intent_ranking")] == ["can_i_buy", "start_purchase", "inform"]


def test_entities_that_are_not_purchase_facts_fold_no_small_talk():
    m = folded([("greet", 0.50), ("start_purchase", 0.30), ("inform", 0.20)], ["language"])
    assert m.get("intent")["name"] == "greet"


def test_no_ranking_or_no_fact_intent_changes_nothing():
    empty = Message(data={"text": ""})
    fact_intents().process([empty])
    assert empty.get("intent") is None
    m = folded([("help", 0.60), ("cancel", 0.40)], ["item"])
    assert m.get("intent") == {"name": "help", "confidence": 0.60}
