"""dialogues/rasa_speedups.py: Rasa's check of the action server's answers, built once, judges
every answer as Rasa's own check does (same verdict, same error message)."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from dialogues import rasa_speedups

ORIGINAL = RemoteAction.__dict__["_validate_action_result"]
if ORIGINAL is rasa_speedups.validate_action_result:  # dialogues.channel was imported first
    pytest.fail("RemoteAction was patched before this test could keep Rasa's own check", pytrace=False)

GOOD = {"events": [{"event": "slot", "timestamp": None, "name": "supplier", "value": "Staples"}],
        "responses": [{"text": "Which cost centre pays for it?", "buttons": [{"title": "100200", "payload": "100200"}]}]}
BAD = [
    {"events": "not a list", "responses": []},
    {"events": [{"event": "slot", "name": "supplier"}], "responses": []},  # a slot event needs a value
    {"events": [{"event": "no_such_event"}], "responses": []},
]


def verdict(check, result):
    try:
        return check(RemoteAction("action_x", None), result), None
    except ValidationError as exc:
        return False, exc.message


def test_installed_and_same_verdicts_as_rasa():
    assert rasa_speedups.install() is True
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
    assert verdict(rasa_speedups.validate_action_result, GOOD) == (True, None)
    for result in BAD:
        ours, rasas = verdict(rasa_speedups.validate_action_result, result), verdict(ORIGINAL, result)
        assert rasas[0] is False, result  # the examples are bad by Rasa's own check
        assert ours == rasas, result
