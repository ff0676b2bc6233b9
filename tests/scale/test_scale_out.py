"""Scale-out, for real: two bots, each with its own `rasa run` and action server, on one PostgreSQL
database with the conversation locks in Redis (REDIS_URL), behind the Slack stand-in.

Six requesters buy at once. Each person's consecutive messages and clicks go to bot 1 and bot 2 in
turn (so to Rasa 1 and Rasa 2 in turn), and one answer is typed twice at once, one copy to each bot,
so two Rasa processes hold the same conversation at the same moment: only the shared lock keeps
them apart. Then the cost centre's approver approves each request, again through either bot.

Afterwards, from the stand-in and from the database: every message answered, nothing duplicated
(one reply per turn, one approval post and one decision per request), each person has exactly one
stored request with their own supplier, cost centre and amount, and each Rasa conversation holds
exactly the messages that person sent, in order. With in-memory locks (no REDIS_URL) the doubled
answer is handled by both processes at once and one of the two is lost from the conversation.
"""
from __future__ import annotations

import secrets
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.conversation import purchases  # noqa: E402
from bench.fullstack import FullStack, SlackRequester, database_problems, driver_findings, slack_findings  # noqa: E402
from dialogues import policy_nlu  # noqa: E402
from dialogues.training import train  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/12"
REQUESTERS = 6
DOUBLE_SEND = "Is the supplier a former public servant"  # typed "No" twice at once, one copy to each bot


@pytest.fixture(scope="module")
def model():
    assert policy_nlu.main(["--check"]) == 0, "run: python -m dialogues.policy_nlu"
    return train().model


@pytest.mark.postgres
def test_two_bots_and_two_rasas_lose_nothing_and_mix_no_conversations(model, postgres_url, tmp_path):
    stack = FullStack(postgres_url, model, tmp_path, bots=2, rasas=2, actions=2, redis_url=REDIS_URL)
    run = secrets.token_hex(2).upper()  # fresh ids: no lock or conversation of an earlier run applies
    people = []
    for i, purchase in enumerate(purchases(REQUESTERS)):
        user = f"U{run}SC{i:02d}"
        stack.add_requester(user, f"Scale {i}")
        people.append((user, purchase, i))
    try:
        stack.start()
        api_from = len(stack.workspace.api_log)

        def buy(person):
            user, purchase, i = person
            return SlackRequester(stack, user, purchase, first_bot=i, double_send=DOUBLE_SEND,
                                  think=lambda: 0.2).run()

        with ThreadPoolExecutor(max_workers=REQUESTERS) as pool:
            outcomes = list(pool.map(buy, people))
        stack.check_alive()
        found = driver_findings(outcomes).add(slack_findings(outcomes, stack, api_from))
        found = found.add(database_problems(postgres_url, outcomes))
    finally:
        stack.stop()

    assert found.problems == [], "\n".join(found.problems)
    assert (found.errors, found.lost, found.duplicated, found.extra) == (0, 0, 0, 0)
    assert [o.approved for o in outcomes] == [True] * REQUESTERS
    for out in outcomes:
        # Every conversation really went through both bots, and had its doubled answer.
        assert {t.via for t in out.turns} == {0, 1}, out.user
        assert [t.expected for t in out.turns].count(2) == 1, (out.user, out.asked)
    logs = "\n".join(p.read_text() for p in tmp_path.glob("rasa*.log"))
    assert logs.count("conversation locks kept in Redis") == 2
