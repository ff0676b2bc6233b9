"""A policy edited while a conversation is in progress, with the action server running for real:
a valid edit judges the next answer by the new rules, a broken edit changes nothing, and the
request is stored with the version that judged it."""
from __future__ import annotations

import os
import shutil

import pytest

import storage
from policies import DEFAULT_POLICY, load_policy
from storage.migrate import upgrade

from rasa_stack import RasaStack, sender, texts

LIMIT = "- {from: 2019-04-01, amount: 10000}"


@pytest.fixture(scope="module")
def edited_stack(dialogue_model, tmp_path_factory, stack_logs):
    folder = tmp_path_factory.mktemp("policy-reload")
    pack = folder / "pack.yml"
    shutil.copy(DEFAULT_POLICY, pack)
    url = f"sqlite:///{folder / 'microbuy.db'}"
    upgrade(url)
    stack = RasaStack(url, dialogue_model, stack_logs, {"MICROBUY_POLICY": str(pack)}).start()
    yield stack, pack
    stack.stop()


def edit(pack, old: str, new: str, stamp: int) -> None:
    pack.write_text(pack.read_text().replace(old, new))
    os.utime(pack, ns=(stamp * 10**9, stamp * 10**9))  # a new stamp whatever the clock's resolution


def test_valid_and_broken_edits_while_a_conversation_is_in_progress(edited_stack):
    stack, pack = edited_stack
    who = sender()
    first = texts(stack.say(who, "I want to order 3 whiteboards from Staples at $900 each"))
    assert "cost centre" in first.lower()
    stack.say(who, "100200")

    # Lower the limit to $2,000 mid-form: the next answer is judged by the new rule.
    edit(pack, LIMIT, "- {from: 2019-04-01, amount: 2000}", 1)
    said = texts(stack.say(who, "Ontario"))
    assert "over the $2,000.00 limit" in said and "How much does one cost" in said

    # A broken edit: the action server keeps the rules in force ($2,000) and the conversation goes on.
    edit(pack, "remind_after_hours: 24", "remind_after_hours: soon", 2)
    said = texts(stack.say(who, "$700"))
    assert "$373.00 over the $2,000.00 limit" in said and "How much does one cost" in said

    # Fixed and raised again: the draft goes through and is stored with the version that judged it.
    edit(pack, "remind_after_hours: soon", "remind_after_hours: 24", 3)
    edit(pack, "- {from: 2019-04-01, amount: 2000}", LIMIT, 4)
    in_force = load_policy(pack)
    for answer in ["$900", "2026-12-15", "for the workshop rooms", "no", "not sure"]:
        said = texts(stack.say(who, answer))
    assert "Here is your request" in said and "$3,051.00" in said
    stack.say(who, "/affirm")
    factory = storage.make_session_factory(storage.make_engine(stack.database_url))
    with factory() as session:
        [stored] = storage.list_requests(session, requester="U09NADIA", limit=10)
        assert stored.policy_version == in_force.version and stored.supplier == "Staples"
