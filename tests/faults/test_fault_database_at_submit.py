"""The database failing exactly when a requester presses Submit, through the whole product: the
requester is told in their DM, nothing is half-written (no request row, no audit row, no post in
the approval channel), and once the database is back the same Submit works, once.

PostgreSQL, as in production. Two faults, both deterministic:
- the connection is cut in the middle of the submission's transaction: a trigger terminates the
  action server's own database session right after the request row and its first audit entries
  were written (what a server restart or a network cut does at the worst moment);
- the database refuses every connection while Submit is pressed (ALLOW_CONNECTIONS false and the
  open sessions terminated): Rasa cannot read the conversation either.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import storage

from faults_kit import audit_of, new_requester, requests_of, sql
from slack_kit import APPROVALS, buttons_of, text_of

pytestmark = pytest.mark.postgres

ANSWERS = ["100200", "2", "Ontario", "2026-12-15", "for the team's sprint planning", "no", "not sure"]


def summary_with_submit(product, user: str, supplier: str):
    """The requester's conversation up to the summary; the message holding its Submit button."""
    product.say(user, f"I need to buy a box of pens from {supplier} for about $25")
    replies = []
    for answer in ANSWERS:
        replies = product.say(user, answer)
    return latest_submit(replies)


def latest_submit(replies):
    return next(m for m in reversed(replies) if any(b.get("value") == "/affirm" for b in buttons_of(m)))


def press_submit(product, user: str, summary):
    dm = product.workspace.dm(user).id
    before = len(product.bot_messages(dm))
    submit = next(b for b in buttons_of(summary) if b["value"] == "/affirm")
    delivery = product.deliver.block_action(user, summary, submit["action_id"], submit["value"])
    assert delivery.status == 200, delivery.response_body
    return product.settle(dm, before)


def logs_of(product, process: str) -> str:
    return "\n".join(p.read_text(errors="replace") for p in product.stack.logs.glob(f"{process}-*.log"))


def verified(url: str) -> storage.AuditVerification:
    engine = storage.make_engine(url)
    try:
        with storage.make_session_factory(engine)() as session:
            return storage.verify_audit(session)
    finally:
        engine.dispose()


CUT_AT_SUBMIT = """
CREATE FUNCTION fault_cut_connection() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_terminate_backend(pg_backend_pid());
    RETURN NEW;
END $$;
CREATE TRIGGER fault_cut_at_submit AFTER INSERT ON audit_log FOR EACH ROW
    WHEN (NEW.action = 'request.submitted') EXECUTE FUNCTION fault_cut_connection();
"""
RESTORED = "DROP TRIGGER fault_cut_at_submit ON audit_log; DROP FUNCTION fault_cut_connection();"


def test_connection_cut_mid_submission_writes_nothing_and_submit_works_again(product):
    url = product.database_url
    user = new_requester(product)
    summary = summary_with_submit(product, user, "Staples")
    audit_before = audit_of(url)
    posts_before = len(product.bot_messages(APPROVALS))

    sql(url, CUT_AT_SUBMIT)
    try:
        replies = press_submit(product, user, summary)
    finally:
        sql(url, RESTORED)

    told = text_of(replies)
    assert "NOT submitted" in told and "answers are kept" in told
    assert "Submitted MB-" not in told
    assert "server closed the connection unexpectedly" in logs_of(product, "actions")  # the cut happened
    # Nothing half-written: the request row and its request.created entry were in the same
    # transaction as the entry that cut the connection.
    assert requests_of(url, user) == []
    assert audit_of(url) == audit_before
    assert verified(url).ok
    assert len(product.bot_messages(APPROVALS)) == posts_before
    # The summary comes back with a Submit button that works now the database is whole again.
    done = press_submit(product, user, latest_submit(replies))
    assert "Submitted MB-" in text_of(done)
    post = product.workspace.wait_for(lambda: product.bot_messages(APPROVALS)[posts_before:], timeout=20)
    [(request_id, reference, supplier, status)] = requests_of(url, user)
    assert (supplier, status) == ("Staples", "submitted") and reference in text_of(done)
    assert len(post) == 1 and reference in text_of(post)
    assert json.loads(next(b["value"] for b in buttons_of(post[0]) if b["action_id"] == "approve"))["r"] == request_id
    assert [a for _, a, _ in audit_of(url, request_id)] == ["request.created", "request.submitted"]
    assert verified(url).ok


def test_database_refusing_connections_at_submit_is_told_and_typing_submit_later_works(product):
    url = product.database_url
    name = make_url(url).database
    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    user = new_requester(product)
    summary = summary_with_submit(product, user, "Best Buy")
    audit_before = audit_of(url)
    posts_before = len(product.bot_messages(APPROVALS))

    sql(admin, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()",
        name=name)
    try:
        with pytest.raises(OperationalError, match="not currently accepting connections"):
            requests_of(url, user)
        replies = press_submit(product, user, summary)
    finally:
        sql(admin, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    told = text_of(replies)
    assert "nothing was submitted" in told and "try again" in told
    assert "Submitted MB-" not in told
    assert requests_of(url, user) == []
    assert audit_of(url) == audit_before
    assert len(product.bot_messages(APPROVALS)) == posts_before
    # The database is back: the conversation is still at the summary; saying so submits it once.
    done = product.say(user, "submit")
    assert "Submitted MB-" in text_of(done)
    [(request_id, reference, supplier, status)] = requests_of(url, user)
    assert (supplier, status) == ("Best Buy", "submitted") and reference in text_of(done)
    post = product.workspace.wait_for(lambda: product.bot_messages(APPROVALS)[posts_before:], timeout=20)
    assert len(post) == 1 and reference in text_of(post)
    assert [a for _, a, _ in audit_of(url, request_id)] == ["request.created", "request.submitted"]
