"""Two bots both run the reminder thread (bot/__main__.py starts it in every bot process): on one
PostgreSQL database, two reminder runs at the same moment remind and escalate each waiting request
exactly once, because each action is claimed in the database in the transaction that audits it."""
from __future__ import annotations

import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import select, update

import storage
from bot.reminders import Reminders
from policies import load_policy
from standin import StandIn, Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bot"))
from bench.conversation import KNOWN_SUPPLIERS

from slack_kit import APPROVALS, store_request

WAITING = 6
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


@pytest.mark.postgres
def test_two_reminder_runs_at_once_remind_and_escalate_each_request_once(postgres_url):
    policy = load_policy()
    people = {uid: (p.name, p.language or "en") for uid, p in policy.rules.people.items()}
    workspace = Workspace.from_people(people, channels={APPROVALS: "microbuy-approvals"})
    engines = [storage.make_engine(postgres_url) for _ in range(2)]  # one pool per bot process
    sessions = [storage.make_session_factory(engine) for engine in engines]
    ids = [store_request(sessions[0], policy, supplier=supplier, total="25.00")
           for supplier in KNOWN_SUPPLIERS[:WAITING]]
    with sessions[0].begin() as session:  # all waiting since T0
        session.execute(update(storage.PurchaseRequest).where(storage.PurchaseRequest.id.in_(ids))
                        .values(submitted_at=T0))
    after = policy.rules.approval.reminders.escalate_after_hours + 1
    barrier = threading.Barrier(2)
    try:
        with StandIn(workspace) as standin:
            bots = [Reminders(s, lambda: policy, WebClient(token=workspace.bot_token, base_url=standin.url))
                    for s in sessions]

            def run(reminders):
                barrier.wait()
                return reminders.run_once(now=T0 + timedelta(hours=after))

            with ThreadPoolExecutor(max_workers=2) as pool:
                done = [line for lines in pool.map(run, bots) for line in lines]
        with sessions[0]() as session:
            claims = Counter(key.split(":")[0] for key in session.execute(
                select(storage.ProcessedEvent.event_id)).scalars())
            audited = Counter(session.execute(
                select(storage.AuditEntry.action).where(storage.AuditEntry.action.like("reminder.%"))).scalars())
    finally:
        for engine in engines:
            engine.dispose()

    assert not [line for line in done if line.startswith("failed")], done
    assert sum(line.startswith("reminded") for line in done) == WAITING  # between the two runs, once each
    assert sum(line.startswith(("escalated", "not escalated")) for line in done) == WAITING
    assert claims["remind"] == WAITING and claims["escalate"] == WAITING
    assert audited["reminder.sent"] == WAITING
    assert audited["reminder.escalated"] + audited["reminder.not_escalated"] == WAITING
    # No one got the same DM twice.
    for channel in workspace.channels.values():
        if channel.is_im:
            texts = [m.text for m in channel.messages if m.bot_id]
            assert len(texts) == len(set(texts)), (channel.user, texts)
