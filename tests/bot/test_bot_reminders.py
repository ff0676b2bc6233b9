"""Reminders and escalation (bot/reminders.py) against the stand-in Slack: requests stored
directly on a migrated SQLite database, their clocks set back in the database, and
Reminders.run_once run at chosen times. No Rasa, no HTTP server for the bot."""
from __future__ import annotations

import shutil
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from reminders_kit import audit_rows, bot_dms
from slack_sdk import WebClient
from sqlalchemy import func, select, update

import storage
from bot.approvals import Approvals
from bot.reminders import Reminders, interval_from_env, start_reminder_thread
from policies import load_policy
from standin import StandIn, Workspace

from slack_kit import APPROVALS, DIRECTOR, MANAGER, REQUESTER, store_request

DG = "U03SOPHIE"  # director general of cost centre 100200
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def policy():
    return load_policy()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    path = tmp_path_factory.mktemp("reminders") / "template.db"
    storage.upgrade(f"sqlite:///{path}")
    return path


class Kit:
    def __init__(self, sessions, policy, workspace, standin, client):
        self.sessions, self.policy, self.workspace, self.standin = sessions, policy, workspace, standin
        self.reminders = Reminders(sessions, lambda: policy, client)
        hours = policy.rules.approval.reminders
        self.remind, self.escalate = hours.remind_after_hours * HOUR, hours.escalate_after_hours * HOUR

    def store(self, supplier="Staples", total="25.00", title=None, requester=REQUESTER, started=T0):
        request_id = store_request(self.sessions, self.policy, requester=requester, supplier=supplier, total=total,
                                   title=title)
        self.set_submitted(request_id, started)
        return request_id

    def set_submitted(self, request_id, when):
        with self.sessions.begin() as session:
            session.execute(update(storage.PurchaseRequest).where(storage.PurchaseRequest.id == request_id)
                            .values(submitted_at=when))

    def decide(self, request_id, approver, outcome="approved", step=0, at=None):
        with self.sessions.begin() as session:
            result = storage.record_decision(session, request_id, revision=1, step=step, approver=approver,
                                             outcome=outcome, reason=None if outcome == "approved" else "no")
            if at is not None:
                session.execute(update(storage.Decision).where(storage.Decision.id == result.decision.id)
                                .values(decided_at=at))
        return result

    def dms(self, user):
        return bot_dms(self.workspace, user)

    def audit(self, request_id):
        return audit_rows(self.sessions, request_id, "reminder.")

    def claims(self, prefix):
        with self.sessions() as session:
            return session.execute(select(func.count()).select_from(storage.ProcessedEvent)
                                   .where(storage.ProcessedEvent.event_id.like(prefix + "%"))).scalar_one()


@pytest.fixture
def kit(tmp_path, migrated, policy):
    path = tmp_path / "microbuy.db"
    shutil.copy(migrated, path)
    sessions = storage.make_session_factory(storage.make_engine(f"sqlite:///{path}"))
    people = {uid: (p.name, p.language or "en") for uid, p in policy.rules.people.items()}
    workspace = Workspace.from_people(people, channels={APPROVALS: "microbuy-approvals"})
    with StandIn(workspace) as standin:
        # No retry handler for 429s: a rate-limited call fails, as after the app client's retries.
        client = WebClient(token=workspace.bot_token, base_url=standin.url)
        yield Kit(sessions, policy, workspace, standin, client)


def test_nothing_before_the_reminder_interval(kit):
    request_id = kit.store()
    assert kit.reminders.run_once(T0 + kit.remind - timedelta(seconds=1)) == []
    assert kit.dms(MANAGER) == [] and kit.dms(REQUESTER) == [] and kit.dms(DIRECTOR) == []
    assert kit.audit(request_id) == [] and kit.claims("remind:") == 0


def test_the_approver_is_reminded_once(kit):
    request_id = kit.store(title="<!channel> pens & <@U123> markers")
    ref = f"MB-{request_id:06d}"
    done = kit.reminders.run_once(T0 + kit.remind)
    assert done == [f"reminded {ref} (revision 1, step 0): {MANAGER}"]
    [text] = kit.dms(MANAGER)
    assert text.startswith(f"Reminder: {ref} (&lt;!channel&gt; pens &amp; &lt;@U123&gt; markers, $26.25) "
                           f"has waited 24 hours for your decision in #microbuy-approvals")
    assert "<!channel>" not in text and "<@U123>" not in text
    assert kit.dms(REQUESTER) == [] and kit.dms(DIRECTOR) == []  # nobody else yet

    assert kit.reminders.run_once(T0 + kit.remind + 5 * HOUR) == []  # before escalation: nothing more
    assert len(kit.dms(MANAGER)) == 1
    [(action, actor, data)] = kit.audit(request_id)
    assert (action, actor) == ("reminder.sent", "microbuy")
    assert data == {"reference": ref, "revision": 1, "step": 0, "level": "manager", "waited_hours": 24,
                    "to": [MANAGER]}
    assert kit.claims(f"remind:{request_id}:1:0") == 1


def test_delegates_are_reminded_too(kit):
    with kit.sessions.begin() as session:
        route = [{"level": "manager", "approvers": [MANAGER], "delegates": ["U08JORDAN"]}]
        request_id = storage.create_request(
            session, requester=REQUESTER, cost_centre="100200", category="office_supplies", supplier="S",
            description="d", subtotal="10.00", tax="0.00", total="10.00", answers={}, evaluation={},
            route=route, policy_version="v1").id
    kit.set_submitted(request_id, T0)
    kit.reminders.run_once(T0 + kit.remind)
    assert len(kit.dms(MANAGER)) == 1 and len(kit.dms("U08JORDAN")) == 1
    assert kit.audit(request_id)[0][2]["to"] == [MANAGER, "U08JORDAN"]


def test_past_the_escalation_interval_the_next_level_and_the_requester_are_told_once(kit):
    request_id = kit.store()
    ref = f"MB-{request_id:06d}"
    kit.reminders.run_once(T0 + kit.remind)
    done = kit.reminders.run_once(T0 + kit.escalate)
    assert done == [f"escalated {ref} (revision 1, step 0) to director: {DIRECTOR}; told {REQUESTER}"]
    [to_director] = kit.dms(DIRECTOR)  # the director reads French (Slack locale fr-CA)
    assert to_director.startswith(
        f"Escalade : {ref} (whiteboard markers, 26,25\u00a0$) attend depuis 72 heures la décision de <@{MANAGER}> "
        "(Gestionnaire du centre financier (article 32)) dans #microbuy-approvals.")
    assert "en décider à sa place" in to_director
    [to_requester] = kit.dms(REQUESTER)  # the requester reads English
    assert f"escalated it to <@{DIRECTOR}> (Director), who can now decide it too" in to_requester
    assert f"<@{MANAGER}>" in to_requester
    assert len(kit.dms(MANAGER)) == 1  # the reminder only
    assert kit.dms(DG) == []

    assert kit.reminders.run_once(T0 + kit.escalate + 48 * HOUR) == []
    assert (len(kit.dms(DIRECTOR)), len(kit.dms(REQUESTER)), len(kit.dms(MANAGER))) == (1, 1, 1)
    actions = [a for a, _, _ in kit.audit(request_id)]
    assert actions == ["reminder.sent", "reminder.escalated"]
    data = kit.audit(request_id)[1][2]
    assert data["to_level"] == "director" and data["to"] == [DIRECTOR] and data["waited_hours"] == 72
    # The director may now decide in the manager's place; the manager still may too.
    with kit.sessions() as session:
        req = storage.get_request(session, request_id)
        assert req.route[0]["approvers"] == [MANAGER]
        assert req.route[0]["escalated_to"] == {"level": "director", "people": [DIRECTOR]}
        assert session.execute(select(func.count()).select_from(storage.AuditEntry).where(
            storage.AuditEntry.action == "decision.escalated")).scalar_one() == 1
    decided = kit.decide(request_id, DIRECTOR)
    assert (decided.decision.approver, decided.decision.on_behalf_of) == (DIRECTOR, MANAGER)


def test_an_escalation_redraws_the_approval_post_with_who_may_now_decide(kit):
    approvals = Approvals(kit.sessions, lambda: kit.policy)
    kit.reminders.refresh_post = approvals.refresh_post
    request_id = kit.store()
    approvals.post_for_approval(kit.reminders.client, request_id)
    [post] = kit.workspace.channel(APPROVALS).messages
    assert f"<@{DIRECTOR}>" not in str(post.blocks) and post.edited is None
    with kit.sessions() as session:
        req = storage.get_request(session, request_id)
        assert (req.approval_channel, req.approval_ts) == (APPROVALS, post.ts)

    kit.reminders.run_once(T0 + kit.escalate)
    [post] = kit.workspace.channel(APPROVALS).messages
    waiting = next(b["text"]["text"] for b in post.blocks if "Waiting for" in str(b))
    assert f"<@{MANAGER}>" in waiting and f"<@{DIRECTOR}>" in waiting and post.edited is not None
    assert any(b.get("block_id") == "decision" for b in post.blocks)  # the buttons stay


def test_a_request_without_a_recorded_post_is_escalated_all_the_same(kit):
    approvals = Approvals(kit.sessions, lambda: kit.policy)
    kit.reminders.refresh_post = approvals.refresh_post
    kit.store()
    done = kit.reminders.run_once(T0 + kit.escalate)
    assert any(line.startswith("escalated") for line in done)
    assert kit.workspace.channel(APPROVALS).messages == []


def test_a_late_first_run_reminds_and_escalates_together(kit):
    request_id = kit.store()
    done = kit.reminders.run_once(T0 + 100 * HOUR)
    assert [line.split(" ")[0] for line in done] == ["reminded", "escalated"]
    assert len(kit.dms(MANAGER)) == 1 and len(kit.dms(DIRECTOR)) == 1 and len(kit.dms(REQUESTER)) == 1
    assert "100 heures" in kit.dms(DIRECTOR)[0]
    assert [a for a, _, _ in kit.audit(request_id)] == ["reminder.sent", "reminder.escalated"]


def test_the_next_step_starts_a_new_clock(kit):
    request_id = kit.store(total="6000.00")  # manager, then director
    kit.reminders.run_once(T0 + kit.remind)
    assert len(kit.dms(MANAGER)) == 1
    decided = T0 + 60 * HOUR
    kit.decide(request_id, MANAGER, at=decided)

    # 72 hours after submission, but only 12 into the director's step: nothing.
    assert kit.reminders.run_once(T0 + kit.escalate) == []
    assert kit.reminders.run_once(decided + kit.remind - timedelta(seconds=1)) == []
    assert kit.dms(DIRECTOR) == [] and kit.dms(DG) == []

    kit.reminders.run_once(decided + kit.remind)
    [reminder] = kit.dms(DIRECTOR)
    assert reminder.startswith(f"Rappel : MB-{request_id:06d} (whiteboard markers, 6\u00a0300,00\u00a0$) attend votre "
                               "décision depuis 24 heures")
    assert kit.dms(DG) == [] and len(kit.dms(MANAGER)) == 1

    kit.reminders.run_once(decided + kit.escalate)
    [escalation] = kit.dms(DG)  # director escalates to director general (who reads French)
    assert f"la décision de <@{DIRECTOR}> (Directeur ou directrice)" in escalation
    assert f"to <@{DG}> (Director General)" in kit.dms(REQUESTER)[-1]
    assert kit.claims(f"remind:{request_id}:1:1") == 1 and kit.claims(f"escalate:{request_id}:1:1") == 1
    assert kit.claims(f"escalate:{request_id}:1:0") == 0


def test_decided_or_closed_requests_are_never_reminded(kit):
    ids = {}
    for outcome, supplier in [("approved", "Costco"), ("rejected", "Indigo"), ("changes_requested", "Best Buy")]:
        ids[outcome] = kit.store(supplier=supplier)
        kit.decide(ids[outcome], MANAGER, outcome, at=T0)
    ids["cancelled"] = kit.store(supplier="Home Depot")
    with kit.sessions.begin() as session:
        storage.cancel_request(session, ids["cancelled"], actor=REQUESTER, reason="not needed")
    ids["draft"] = kit.store(supplier="Walmart")
    with kit.sessions.begin() as session:
        session.execute(update(storage.PurchaseRequest).where(storage.PurchaseRequest.id == ids["draft"])
                        .values(status="draft"))
    waiting = kit.store(supplier="Staples")  # the control: this one is reminded

    done = kit.reminders.run_once(T0 + 500 * HOUR)
    assert all(f"MB-{waiting:06d}" in line for line in done) and len(done) == 2
    for request_id in ids.values():
        assert kit.audit(request_id) == []
    assert len(kit.dms(MANAGER)) == 1


def test_a_rate_limited_dm_is_retried_next_run(kit):
    request_id = kit.store()
    kit.standin.rate_limit("chat.postMessage", times=1, retry_after=1)
    done = kit.reminders.run_once(T0 + kit.remind)
    assert len(done) == 1 and done[0].startswith("failed: remind") and "ratelimited" in done[0]
    # The claim committed before Slack was called; the failure released it and was audited.
    assert kit.dms(MANAGER) == [] and kit.claims("remind:") == 0
    assert [(a, d.get("error"), d.get("to")) for a, _, d in kit.audit(request_id)] == [
        ("reminder.sent", None, [MANAGER]), ("reminder.failed", "ratelimited", [MANAGER])]

    assert kit.reminders.run_once(T0 + kit.remind + HOUR)[0].startswith("reminded")
    [text] = kit.dms(MANAGER)
    assert "25 hours" in text
    assert [a for a, _, _ in kit.audit(request_id)] == ["reminder.sent", "reminder.failed", "reminder.sent"]
    assert kit.reminders.run_once(T0 + kit.remind + 2 * HOUR) == []


def test_an_unknown_escalation_person_leaves_the_escalation_dms_to_retry(kit):
    request_id = kit.store()
    kit.reminders.run_once(T0 + kit.remind)
    del kit.workspace.users[DIRECTOR]  # not (yet) in the workspace: conversations.open fails
    done = kit.reminders.run_once(T0 + kit.escalate)
    assert len(done) == 1 and "user_not_found" in done[0]
    assert kit.dms(REQUESTER) == []  # nothing posted when one DM cannot even be opened
    assert [a for a, _, _ in kit.audit(request_id)] == ["reminder.sent", "reminder.escalated", "reminder.failed"]
    assert kit.claims("escalate:") == 0
    # The escalation is a state change: it stays, whatever Slack said.
    with kit.sessions() as session:
        assert storage.get_request(session, request_id).route[0]["escalated_to"] == {
            "level": "director", "people": [DIRECTOR]}

    kit.workspace.add_user(DIRECTOR, "marc")
    assert kit.reminders.run_once(T0 + kit.escalate + HOUR)[0].startswith(f"escalated MB-{request_id:06d} "
                                                                          "(revision 1, step 0) to director")
    assert len(kit.dms(DIRECTOR)) == 1 and len(kit.dms(REQUESTER)) == 1 and kit.dms(DG) == []
    assert [a for a, _, _ in kit.audit(request_id)] == [
        "reminder.sent", "reminder.escalated", "reminder.failed", "reminder.escalated"]


def test_the_requester_is_never_the_escalation_target(kit):
    # The director asks for $25: the manager decides, and escalation passes the director by.
    request_id = kit.store(requester=DIRECTOR)
    kit.reminders.run_once(T0 + kit.escalate)
    assert kit.dms(DG) and all("Escalade" not in text for text in kit.dms(DIRECTOR))
    assert f"Je l'ai transmise à <@{DG}> (Directeur général ou directrice générale)" in kit.dms(DIRECTOR)[-1]
    assert kit.audit(request_id)[-1][2]["to"] == [DG]


def test_nobody_higher_tells_the_requester(kit):
    with kit.sessions.begin() as session:
        route = [{"level": "deputy_head", "approvers": ["U07PIERRE"], "delegates": []}]
        request_id = storage.create_request(
            session, requester=REQUESTER, cost_centre="100200", category="office_supplies", supplier="S",
            description="d", subtotal="10.00", tax="0.00", total="10.00", answers={}, evaluation={},
            route=route, policy_version="v1").id
    kit.set_submitted(request_id, T0)
    kit.reminders.run_once(T0 + kit.escalate)
    assert "no higher level" in kit.dms(REQUESTER)[-1]
    assert [a for a, _, _ in kit.audit(request_id)] == ["reminder.sent", "reminder.not_escalated"]
    assert kit.reminders.run_once(T0 + kit.escalate * 2) == []


def test_the_thread_runs_and_survives_a_failing_run(kit):
    calls = []

    class Flaky:
        def run_once(self, now):
            calls.append(now)
            if len(calls) == 1:
                raise RuntimeError("database away")
            return []

    stop = threading.Event()
    thread = start_reminder_thread(Flaky(), 0.05, stop)
    try:
        deadline = time.monotonic() + 5
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(calls) >= 3 and thread.is_alive() and thread.daemon
        assert all(now.tzinfo is not None for now in calls)
    finally:
        stop.set()
        thread.join(2)
    assert not thread.is_alive()


def test_interval_from_the_environment():
    assert interval_from_env({}) == 300
    assert interval_from_env({"MICROBUY_REMINDER_INTERVAL_S": "0"}) == 0
    assert interval_from_env({"MICROBUY_REMINDER_INTERVAL_S": "60"}) == 60
    for bad in ("-1", "soon", "nan"):
        with pytest.raises(ValueError, match="MICROBUY_REMINDER_INTERVAL_S"):
            interval_from_env({"MICROBUY_REMINDER_INTERVAL_S": bad})
