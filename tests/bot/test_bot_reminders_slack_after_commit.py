"""Reminders never hold a database lock while Slack answers (bot/reminders.py): the claim, its
audit row and the escalation commit first, the DMs go after. On SQLite and PostgreSQL, against the
stand-in Slack answering 429 with Retry-After and the bot's own client (bot.app.slack_client,
which waits and retries as slack_sdk does); requests stored directly, clocks set in the database."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from reminders_kit import audit_rows, bot_dms
from sqlalchemy import create_engine, event, func, select, text, update

import storage
from bot.app import slack_client
from bot.reminders import Reminders
from policies import load_policy
from standin import StandIn, Workspace

from slack_kit import APPROVALS, DIRECTOR, MANAGER, REQUESTER

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
SLOW_S = 3  # Slack's Retry-After while the run waits


@pytest.fixture(scope="module")
def policy():
    return load_policy()


class Kit:
    def __init__(self, url, policy, workspace, standin):
        self.url, self.policy, self.workspace, self.standin = url, policy, workspace, standin
        # Two pools, as in two processes: the bot's reminder thread and an approver's click.
        self.engines = [storage.make_engine(url), storage.make_engine(url)]
        self.sessions, self.deciding = (storage.make_session_factory(e) for e in self.engines)
        # The bot's own Web API client: it waits Retry-After and tries again, as in production.
        client = slack_client(SimpleNamespace(bot_token=workspace.bot_token, slack_api_url=standin.url))
        self.reminders = Reminders(self.sessions, lambda: policy, client)
        hours = policy.rules.approval.reminders
        self.remind, self.escalate = hours.remind_after_hours * HOUR, hours.escalate_after_hours * HOUR

    def store(self, supplier):
        """A request waiting since T0 for the manager (one step), in cost centre 100200."""
        with self.sessions.begin() as session:
            request_id = storage.create_request(
                session, requester=REQUESTER, cost_centre="100200", category="office_supplies", supplier=supplier,
                description="whiteboard markers", subtotal="25.00", tax="0.00", total="25.00", answers={},
                evaluation={}, route=[{"level": "manager", "approvers": [MANAGER], "delegates": []}],
                policy_version="v1").id
            session.execute(update(storage.PurchaseRequest).where(storage.PurchaseRequest.id == request_id)
                            .values(submitted_at=T0))
        return request_id

    def decide(self, request_id, approver):
        with self.deciding.begin() as session:
            return storage.record_decision(session, request_id, revision=1, step=0, approver=approver,
                                           outcome="approved")

    def run_in_background(self, now):
        result = {}
        runner = threading.Thread(target=lambda: result.setdefault("done", self.reminders.run_once(now)))
        runner.start()
        return runner, result

    def dms(self, user):
        return bot_dms(self.workspace, user)

    def audit(self, request_id):
        return [(action, payload) for action, _, payload in audit_rows(self.sessions, request_id, "reminder.",
                                                                       "decision.")]

    def claims(self, key):
        with self.sessions() as session:
            return session.execute(select(func.count()).select_from(storage.ProcessedEvent)
                                   .where(storage.ProcessedEvent.event_id == key)).scalar_one()

    def chain_ok(self):
        with self.sessions() as session:
            return storage.verify_audit(session).ok


@pytest.fixture
def kit(db_url, policy):
    people = {uid: (p.name, p.language or "en") for uid, p in policy.rules.people.items()}
    workspace = Workspace.from_people(people, channels={APPROVALS: "microbuy-approvals"})
    with StandIn(workspace) as standin:
        kit = Kit(db_url, policy, workspace, standin)
        try:
            yield kit
        finally:
            for engine in kit.engines:
                engine.dispose()


@pytest.mark.parametrize("what, decided, decider", [
    pytest.param("remind", "another request", MANAGER, id="remind-another-request"),
    pytest.param("remind", "the same request", MANAGER, id="remind-same-request"),
    # The escalation is committed before its DMs: the director may decide already.
    pytest.param("escalate", "the same request", DIRECTOR, id="escalate-same-request"),
])
def test_a_decision_is_not_blocked_while_a_reminder_run_waits_on_a_slow_slack(kit, what, decided, decider):
    slow = kit.store("Staples")  # acted on first (lowest id)
    other = kit.store("Costco")
    if what == "escalate":
        kit.reminders.run_once(T0 + kit.remind)  # the reminders are out of the way
    kit.standin.rate_limit("chat.postMessage", times=1, retry_after=SLOW_S)
    runner, result = kit.run_in_background(T0 + (kit.escalate if what == "escalate" else kit.remind))
    try:
        kit.workspace.wait_for(lambda: any(c.status == 429 for c in kit.workspace.calls("chat.postMessage")),
                               timeout=30)
        started = time.monotonic()
        outcome = kit.decide(slow if decided == "the same request" else other, decider)
        took = time.monotonic() - started
        still_waiting = runner.is_alive()
    finally:
        runner.join(60)
    assert took < SLOW_S / 2, f"the decision waited {took:.1f} s for the reminder run's Slack call"
    assert still_waiting  # it was decided while the run waited on Slack
    assert outcome.decision.approver == decider and outcome.request.status == "approved"

    # The run finished its action after the wait, once.
    ref = f"MB-{slow:06d}"
    assert result["done"][0].startswith(f"{'reminded' if what == 'remind' else 'escalated'} {ref} "), result["done"]
    told = kit.dms(MANAGER if what == "remind" else DIRECTOR)
    assert len([dm for dm in told if ref in dm]) == 1, told
    if what == "escalate":
        assert outcome.decision.on_behalf_of == MANAGER
    assert kit.chain_ok()


def test_a_slack_failure_is_audited_and_retried_by_the_next_run(kit):
    request_id = kit.store("Staples")
    ref = f"MB-{request_id:06d}"
    # Slack still refuses after the client's own retries (one per refusal, after Retry-After).
    kit.standin.rate_limit("chat.postMessage", times=5, retry_after=0)
    done = kit.reminders.run_once(T0 + kit.remind)
    assert done == [f"failed: remind {ref} (revision 1, step 0): ratelimited; retried next run"]
    assert kit.dms(MANAGER) == [] and kit.claims(f"remind:{request_id}:1:0") == 0
    [(sent, _), (failed, data)] = kit.audit(request_id)
    assert (sent, failed) == ("reminder.sent", "reminder.failed")
    assert data["what"] == "reminder" and data["error"] == "ratelimited" and data["to"] == [MANAGER]

    kit.standin.rate_limit("chat.postMessage", times=0)
    assert kit.reminders.run_once(T0 + kit.remind + HOUR) == [f"reminded {ref} (revision 1, step 0): {MANAGER}"]
    assert len(kit.dms(MANAGER)) == 1 and kit.claims(f"remind:{request_id}:1:0") == 1
    assert kit.reminders.run_once(T0 + kit.remind + 2 * HOUR) == []  # once claimed, never again

    # An escalation whose DMs fail stays escalated; the next run tells the same people, once.
    kit.standin.rate_limit("conversations.open", times=5, retry_after=0)
    [line] = kit.reminders.run_once(T0 + kit.escalate)
    assert line.startswith(f"failed: escalate {ref}") and line.endswith("retried next run")
    assert kit.dms(DIRECTOR) == [] and kit.claims(f"escalate:{request_id}:1:0") == 0
    with kit.sessions() as session:
        assert storage.get_request(session, request_id).route[0]["escalated_to"]["people"] == [DIRECTOR]
    kit.standin.rate_limit("conversations.open", times=0)
    assert kit.reminders.run_once(T0 + kit.escalate + HOUR)[0].startswith(f"escalated {ref} (revision 1, step 0) "
                                                                          f"to director: {DIRECTOR}")
    assert len(kit.dms(DIRECTOR)) == 1 and len(kit.dms(REQUESTER)) == 1
    actions = [action for action, _ in kit.audit(request_id)]
    assert actions == ["reminder.sent", "reminder.failed", "reminder.sent",
                       "reminder.escalated", "decision.escalated", "reminder.failed", "reminder.escalated"]
    assert kit.reminders.run_once(T0 + kit.escalate + 2 * HOUR) == []
    assert kit.chain_ok()


@pytest.mark.postgres
def test_a_decision_and_an_escalation_of_the_same_request_never_deadlock(postgres_url, policy):
    """The escalation is held just after it took its first lock while the manager decides the same
    request; both must then finish. Taken in opposite orders (audit head then request row, against
    record_decision's request row then audit head), PostgreSQL aborts one as a deadlock."""
    people = {uid: (p.name, p.language or "en") for uid, p in policy.rules.people.items()}
    workspace = Workspace.from_people(people, channels={APPROVALS: "microbuy-approvals"})
    watcher = create_engine(postgres_url, future=True, isolation_level="AUTOCOMMIT")
    with StandIn(workspace) as standin:
        kit = Kit(postgres_url, policy, workspace, standin)
        try:
            request_id = kit.store("Staples")
            kit.reminders.run_once(T0 + kit.remind)
            holding, go = threading.Event(), threading.Event()

            @event.listens_for(kit.engines[0], "after_cursor_execute")
            def hold_after_first_lock(conn, cursor, statement, parameters, context, executemany):
                if "FOR UPDATE" in statement and not holding.is_set():
                    holding.set()
                    go.wait(30)

            runner, result = kit.run_in_background(T0 + kit.escalate)
            assert holding.wait(30)
            decision = {}

            def decide():
                try:
                    decision["result"] = kit.decide(request_id, MANAGER)
                except Exception as exc:  # reported below
                    decision["error"] = exc

            decider = threading.Thread(target=decide)
            decider.start()
            deadline = time.monotonic() + 30
            with watcher.connect() as connection:  # until the decision waits on a lock (or is done)
                while decider.is_alive() and time.monotonic() < deadline and not connection.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'")).scalar_one():
                    time.sleep(0.02)
            go.set()
            decider.join(60)
            runner.join(60)
        finally:
            go.set()
            kit.engines[0].dispose()
            kit.engines[1].dispose()
            watcher.dispose()

    assert "error" not in decision, f"the decision failed: {decision.get('error')!r}"
    assert decision["result"].request.status == "approved"
    assert [line.split(" ")[0] for line in result["done"]] == ["escalated"], result["done"]
    assert kit.chain_ok()
