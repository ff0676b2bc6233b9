"""A message that carries purchase facts is about the purchase: "here are facts" never ties itself.

Two intents mean "here are facts about a purchase": `start_purchase` ("I need to order 3 webcams
from Best Buy") and `inform` (an answer: "3 webcams from Best Buy"). A first message that says
everything at once is both, so the classifier split it about evenly between them (0.50 / 0.50),
and the FallbackClassifier's ambiguity check turned the tie into `nlu_fallback`: "Sorry, I didn't
get that" to the requester who said the most.

This component, after the intent classifier and the entity extractors and before the
FallbackClassifier in config.yml, folds the fact intents into one: the stronger of them, with
their confidences added, so that they can never be ambiguous with each other. When the message
also carries a purchase fact (an item, supplier, amount, quantity, cost centre, category or
province entity), the small talk around it ("Good morning", "thanks!") is folded in too: a
greeting with an order in it is an order. Detours (help, cancel, "can I buy", ...) are left to
win on their own confidence; the rules treat both fact intents alike (data/rules.yml: either one
starts the purchase form, or answers the question it asks).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_TYPE, INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

log = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FactIntents(GraphComponent):
    """Folds the fact intents (and, with a purchase fact said, the small talk) into one intent."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "fact_intents": ["start_purchase", "inform"],
            "fact_entities": ["item", "supplier", "amount", "quantity", "cost_centre", "category", "province"],
            "small_talk": ["greet", "out_of_scope"],
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.config = {**self.get_default_config(), **config}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "FactIntents":
        return cls(config)

    def process_training_data(self, training_data: Any) -> Any:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._fold(message)
        return messages

    def _fold(self, message: Message) -> None:
        ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if isinstance(r, dict) and r.get("name")]
        if not ranking:
            return
        facts = [r for r in ranking if r["name"] in self.config["fact_intents"]]
        if not facts:
            return
        folded = set(self.config["fact_intents"])
        if self.carries_facts(message):
            folded |= set(self.config["small_talk"])
        top = ranking[0]
        if top["name"] not in folded:
            return  # a detour (or anything else) stronger than every fact intent keeps its place
        strongest = max(facts, key=lambda r: r.get("confidence") or 0.0)
        confidence = min(1.0, sum(r.get("confidence") or 0.0 for r in ranking if r["name"] in folded))
        intent = {"name": strongest["name"], "confidence": confidence}
        rest = [r for r in ranking if r["name"] not in folded]
        log.debug("facts folded into %s (%.2f) from %s", intent["name"], confidence,
                  [(r["name"], r.get("confidence")) for r in ranking if r["name"] in folded])
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent, *rest], add_to_output=True)

    def carries_facts(self, message: Message) -> bool:
        wanted = set(self.config["fact_entities"])
        return any(isinstance(e, dict) and e.get(ENTITY_ATTRIBUTE_TYPE) in wanted for e in message.get(ENTITIES) or [])
