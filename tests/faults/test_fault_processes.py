"""The action server, then Rasa, killed (SIGKILL, no goodbye) in the middle of a requester's
conversation in Slack: the requester is told in their DM that nothing was done, nothing is
stored, and once it is back the conversation resumes at the question that was open.
(tests/dialogues/test_rasa_integration.py covers both at the Rasa webhook, Rasa restarted on
PostgreSQL with Redis locks.)"""
from __future__ import annotations

import os
import signal

import pytest

from faults_kit import new_requester, requests_of, user_turns
from slack_kit import text_of

pytestmark = pytest.mark.postgres


def kill(process) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_action_server_killed_mid_form(product):
    user = new_requester(product)
    product.say(user, "I need to buy a box of pens from Staples for $25")
    product.say(user, "100200")
    assert "Where will it be delivered" in text_of(product.say(user, "2"))
    kill(product.stack.actions)
    try:
        told = text_of(product.say(user, "Ontario"))
        assert "can't check answers against the policy" in told and "nothing was submitted" in told
        told = text_of(product.say(user, "/affirm"))
        assert "can't check answers against the policy" in told
        assert requests_of(product.database_url, user) == []
    finally:
        product.stack.start_actions()
    # The messages sent while it was down were not taken as answers; the same answer now is.
    asked = text_of(product.say(user, "Ontario"))
    assert "By what date" in asked
    assert user_turns(product.database_url, product.workspace.team_id, user)[-2:] == ["2", "Ontario"]


def test_rasa_killed_mid_conversation_resumes_after_its_restart(product):
    user = new_requester(product)
    product.say(user, "I need to buy 3 boxes of pens from Indigo for $9 each")
    assert "Where will it be delivered" in text_of(product.say(user, "100300"))
    kill(product.stack.rasa)
    try:
        told = text_of(product.say(user, "Manitoba"))
        assert "can't reach the purchase assistant" in told and "nothing was done with your message" in told
    finally:
        product.stack.start_rasa()  # the same port: the bot finds it where it was
    # The conversation is in PostgreSQL, not in the process: the next question, as if nothing happened.
    assert "By what date" in text_of(product.say(user, "Manitoba"))
    assert user_turns(product.database_url, product.workspace.team_id, user)[-2:] == ["100300", "Manitoba"]
    assert requests_of(product.database_url, user) == []
