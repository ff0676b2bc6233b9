"""Changing the conversation's language: "en français svp", "English please", "anglais"."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .. import services
from ..languages import ENTITY, FROM_METADATA
from .common import language_of


class ActionSwitchLanguage(Action):
    """The language named was already put in the `language` slot by its mapping (see
    dialogues/rasa_plugins/nlu_language.py); with none named ("change the language") the other language of the
    pack is taken. The Slack app is told, so that it remembers the choice and sends it with the
    next messages; the confirmation (utter_language_switched) and the open question follow."""

    def name(self) -> Text:
        return "action_switch_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List[Dict[str, Any]]:
        policy = services.POLICY.get()
        languages = list(policy.rules.pack.languages)
        current = language_of(tracker, policy)
        named = [e.get("value") for e in (tracker.latest_message or {}).get("entities", [])
                 if e.get("entity") == ENTITY and e.get("extractor") != FROM_METADATA and e.get("value") in languages]
        if named:
            target = named[-1]
        else:
            others = [language for language in languages if language != current]
            target = others[0] if len(others) == 1 else current
        dispatcher.utter_message(json_message={"type": "language", "language": target})
        return [SlotSet("language", target)] if tracker.get_slot("language") != target else []
