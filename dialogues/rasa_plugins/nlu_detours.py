"""Detours the NLU only guessed: an answer such as "Ganner" or "Mexpulti" is not "cancel" or "help".

While the form asks a question, the whole message is the answer to it unless its intent is a
detour (help, why, cancel, ...: the slots' `not_intent` in domain.yml). The intent classifier
works on character n-grams, so a made-up word it has never seen still gets some intent, and
now and then a detour one: "Ganner" came out as cancel (0.40), "Kilpuxmi" as help (0.45), and the
person could never get past "Who will you buy it from?".

This component, after the FallbackClassifier in config.yml, learns the words of each detour
intent's training examples and does not believe a detour intent for a message that
- has no word of that intent's examples (a typo of one still counts: "hlep", "anuler"), or
- is below `low_confidence` and has none of the intent's own words, the ones that are not also
  words of answers (`answer_intents`): "from Pefi" is not a change of language because "from"
  appears in "English from now on".
Such a message becomes `nlu_fallback`: during the form it is the answer to the question
asked (the slot mappings do not exclude nlu_fallback); with no question open it gets "Sorry, I
didn't get that" (data/rules.yml). See docs/dialogue.md.
"""
from __future__ import annotations

import json
import logging
import re
import unicodedata
from typing import Any, Dict, Iterable, List, Optional, Set, Text

from rapidfuzz.distance import OSA
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

log = logging.getLogger(__name__)

FALLBACK = "nlu_fallback"
VOCABULARY_FILE = "detour_words.json"
# A word of at least this many letters matches a word of the examples one edit away.
TYPO_LENGTH = 4


def words(text: str) -> List[str]:
    """Lower-case words without accents: "Pourquoi?" -> ["pourquoi"]."""
    text = unicodedata.normalize("NFKD", str(text or "").casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.findall(r"[^\W_]+", text)


def mentions(said: Iterable[str], vocabulary: Set[str]) -> bool:
    """Whether a word said is one of `vocabulary`, or a typo of one (one edit, long words only)."""
    for word in said:
        if word in vocabulary:
            return True
        if len(word) >= TYPO_LENGTH and any(
                len(known) >= TYPO_LENGTH and abs(len(known) - len(word)) <= 1 and OSA.distance(word, known) <= 1
                for known in vocabulary):
            return True
    return False


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class DetourCheck(GraphComponent):
    """Turns a detour intent the message's words do not support into nlu_fallback."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intents": ["help", "explain", "cancel", "check_status", "can_i_buy", "change_answer",
                        "switch_language", "goodbye"],
            "answer_intents": ["inform", "start_purchase"],
            "low_confidence": 0.5,
            # Intents that are the whole message: a change of language is said in few words
            # ("English please"), and "language" is also in what staff buy ("plain language
            # editing", "language training"). Believed only when every word is one of the
            # intent's, or a language is named and the few other words are no answer's words.
            "whole_message": {"switch_language": ["english", "anglais", "french", "francais", "francaise"]},
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 vocabulary: Optional[Dict[str, List[str]]] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary: Dict[str, Set[str]] = {k: set(v) for k, v in (vocabulary or {}).items()}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "DetourCheck":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "DetourCheck":
        try:
            with model_storage.read_from(resource) as folder:
                vocabulary = json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            log.warning("DetourCheck has no trained vocabulary; every detour intent is kept")
            vocabulary = None
        return cls(config, model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        wanted = set(self.config["intents"]) | set(self.config["answer_intents"])
        vocabulary: Dict[str, Set[str]] = {intent: set() for intent in wanted}
        for example in training_data.intent_examples:
            intent = example.get(INTENT)
            if intent in wanted:
                vocabulary[intent].update(words(example.get(TEXT)))
        self.vocabulary = vocabulary
        with self._model_storage.write_to(self._resource) as folder:
            (folder / VOCABULARY_FILE).write_text(
                json.dumps({k: sorted(v) for k, v in vocabulary.items()}, ensure_ascii=False), encoding="utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name, confidence = intent.get("name"), intent.get("confidence") or 0.0
            if not isinstance(name, str) or name not in self.config["intents"] or not self.vocabulary.get(name):
                continue
            if self.supported(name, confidence, words(message.get(TEXT) or "")):
                continue
            log.debug("detour %s (%.2f) not supported by the words of %r", name, confidence, message.get(TEXT))
            fallback = {"name": FALLBACK, "confidence": confidence}
            message.set(INTENT, fallback, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [fallback, *(message.get(INTENT_RANKING_KEY) or [])], add_to_output=True)
        return messages

    def supported(self, intent: str, confidence: float, said: List[str]) -> bool:
        own = self.vocabulary.get(intent, set())
        if not mentions(said, own):
            return False
        if intent in self.config["whole_message"]:
            others = [word for word in said if not mentions([word], own)]
            named = mentions(said, set(self.config["whole_message"][intent]))
            return not others or (named and len(others) <= 2 and not mentions(others, self._answer_words()))
        if confidence >= self.config["low_confidence"]:
            return True
        return mentions(said, own - self._answer_words())

    def _answer_words(self) -> Set[str]:
        return set().union(*(self.vocabulary.get(i, set()) for i in self.config["answer_intents"]))
