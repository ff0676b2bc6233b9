"""The requester's language on every message, for the `language` slot (see docs/dialogue.md).

The Slack app sends the language it knows for the user with each message, as metadata:
{"sender": ..., "message": ..., "metadata": {"language": "fr"}}. This component, the last of the
NLU pipeline (config.yml), turns it into a `language` entity, which the slot's from_entity
mapping copies after every message: the first one, in or out of the form, with no extra call to
the action server. A message asking for another language ("en français svp", intent
switch_language) keeps the language it names instead, so the metadata sent with that very message
does not undo the switch; elsewhere a language word the CRF took for an entity ("a French
dictionary") is dropped. Without metadata nothing is added and the slot keeps its value.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from ..languages import CODE, ENTITY, FROM_METADATA, NAMED, SWITCH_INTENT, language_code


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class MessageLanguage(GraphComponent):
    """Adds the `language` entity: the one asked for, else the one in the message metadata."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "MessageLanguage":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = list(message.get(ENTITIES) or [])
            others = [e for e in entities if e.get("entity") != ENTITY]
            added = self._asked(message, entities) if _intent(message) == SWITCH_INTENT else None
            if added is None:
                added = self._from_metadata(message)
            message.set(ENTITIES, others + ([added] if added else []), add_to_output=True)
        return messages

    @staticmethod
    def _asked(message: Message, entities: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        for entity in reversed(entities):
            code = language_code(entity.get("value"))
            if entity.get("entity") == ENTITY and code:
                return {**entity, "value": code}
        text = message.get(TEXT) or ""
        code = language_code(text, codes=False)
        if code is None:
            return None
        return {"entity": ENTITY, "value": code, "start": 0, "end": len(text), "extractor": NAMED}

    @staticmethod
    def _from_metadata(message: Message) -> Optional[Dict[str, Any]]:
        metadata = message.get("metadata")
        said = metadata.get("language") if isinstance(metadata, dict) else None
        code = said.strip().lower() if isinstance(said, str) else ""
        if not CODE.match(code):
            return None
        return {"entity": ENTITY, "value": code, "start": 0, "end": 0, "extractor": FROM_METADATA}


def _intent(message: Message) -> Optional[str]:
    intent = message.get(INTENT)
    return intent.get("name") if isinstance(intent, dict) else None
