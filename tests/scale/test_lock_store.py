"""The conversation lock shared by several `rasa run` processes (dialogues.rasa_plugins.stores, REDIS_URL):
tickets taken at the same moment by different processes are all different, and only one holder
at a time works on a conversation. Each store below has its own Redis connection, as each process
would; Rasa's own RedisLockStore fails both (RasaHQ/rasa#9213)."""
from __future__ import annotations

import asyncio
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from dialogues.rasa_plugins.stores import AtomicRedisLockStore, MicrobuyLockStore

REDIS_URL = "redis://127.0.0.1:6379/12"
HOLDERS = 8


def stores(count):
    return [AtomicRedisLockStore(host="127.0.0.1", port=6379, db=12, key_prefix="microbuytest") for _ in range(count)]


@pytest.fixture
def conversation():
    return f"T0:U{secrets.token_hex(4).upper()}"


def test_the_lock_store_is_ours_when_redis_is_set(monkeypatch):
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    assert isinstance(MicrobuyLockStore(), AtomicRedisLockStore)


def test_tickets_taken_at_once_are_all_different(conversation):
    barrier = threading.Barrier(HOLDERS)

    def take(store):
        barrier.wait()
        return store.issue_ticket(conversation)

    mine = stores(HOLDERS)
    with ThreadPoolExecutor(max_workers=HOLDERS) as pool:
        tickets = list(pool.map(take, mine))
    assert sorted(tickets) == list(range(HOLDERS))
    assert [t.number for t in mine[0].get_lock(conversation).tickets] == list(range(HOLDERS))
    for store, ticket in zip(mine, tickets, strict=True):
        store.cleanup(conversation, ticket)
    assert mine[0].get_lock(conversation) is None  # the last one out deletes it


def test_one_holder_at_a_time(conversation):
    """Each holder reads a count, waits, writes it plus one: with two holders at once, one write is lost."""
    count = {"n": 0}
    barrier = threading.Barrier(HOLDERS)

    async def hold(store):
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            seen = count["n"]
            await asyncio.sleep(0.02)
            count["n"] = seen + 1

    def work(store):
        barrier.wait()
        asyncio.run(hold(store))

    mine = stores(HOLDERS)
    with ThreadPoolExecutor(max_workers=HOLDERS) as pool:
        list(pool.map(work, mine))
    assert count["n"] == HOLDERS
    assert mine[0].get_lock(conversation) is None
