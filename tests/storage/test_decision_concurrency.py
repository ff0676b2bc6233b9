"""Concurrent clicks and concurrent audit appends, with real threads and sessions."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func, select

from storage import (
    AuditEntry,
    Decision,
    StaleDecision,
    append_audit,
    create_request,
    make_engine,
    make_session_factory,
    record_decision,
    verify_audit,
)

from storage_factories import request_fields

THREADS = 20


def _factory(db_url):
    # Enough pooled connections that all twenty threads really race (PostgreSQL).
    options = {} if db_url.startswith("sqlite") else {"pool_size": THREADS + 5}
    engine = make_engine(db_url, **options)
    return engine, make_session_factory(engine)


def test_twenty_concurrent_approvals_exactly_one_wins(db_url, new_request):
    request_id = new_request()
    engine, factory = _factory(db_url)
    barrier = threading.Barrier(THREADS, timeout=30)

    def click(i):
        approver = "U_MGR" if i % 2 else "U_DELEGATE"  # both may decide step 0
        with factory() as session:
            barrier.wait()
            try:
                record_decision(session, request_id, revision=1, step=0, approver=approver, outcome="approved")
                session.commit()
                return "won"
            except StaleDecision:
                session.rollback()
                return "stale"

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            outcomes = [f.result(timeout=60) for f in [pool.submit(click, i) for i in range(THREADS)]]
        assert sorted(outcomes).count("won") == 1
        assert outcomes.count("stale") == THREADS - 1

        with factory() as session:
            assert session.execute(select(func.count()).select_from(Decision)).scalar_one() == 1
            approved = session.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "decision.approved")
            ).scalar_one()
            assert approved == 1
            verification = verify_audit(session)
            assert verification.ok, verification
    finally:
        engine.dispose()


def test_concurrent_audit_appends_keep_one_chain(db_url):
    engine, factory = _factory(db_url)
    workers, per_worker = 10, 5
    barrier = threading.Barrier(workers, timeout=30)

    def append(i):
        barrier.wait()
        for j in range(per_worker):
            with factory.begin() as session:
                append_audit(session, actor=f"U_{i}", action="test.append", data={"worker": i, "n": j})

    try:
        with ThreadPoolExecutor(workers) as pool:
            for future in [pool.submit(append, i) for i in range(workers)]:
                future.result(timeout=60)
        with factory() as session:
            ids = [i for (i,) in session.execute(select(AuditEntry.id).order_by(AuditEntry.id))]
            assert ids == list(range(1, workers * per_worker + 1))
            verification = verify_audit(session)
            assert verification.ok and verification.rows_checked == workers * per_worker, verification
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_guard_catches_a_decision_committed_between_check_and_update(postgres_url):
    """Deterministic version of the race: another approver commits after our
    checks passed but before our UPDATE ran; the conditional UPDATE matches
    nothing and we get StaleDecision naming the winner."""
    engine, session_factory = _factory(postgres_url)
    other_engine, other_factory = _factory(postgres_url)
    with session_factory.begin() as s:
        request_id = create_request(s, **request_fields()).id
    fired = []

    def interleave(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE PURCHASE_REQUESTS") and not fired:
            fired.append(True)
            with other_factory.begin() as other:
                record_decision(other, request_id, revision=1, step=0, approver="U_DELEGATE", outcome="approved")

    event.listen(engine, "before_cursor_execute", interleave)
    try:
        with session_factory() as s:
            with pytest.raises(StaleDecision, match="already decided: approved by U_DELEGATE"):
                record_decision(s, request_id, revision=1, step=0, approver="U_MGR", outcome="rejected")
            s.commit()
        assert fired
        with session_factory() as s:
            assert s.execute(select(func.count()).select_from(Decision)).scalar_one() == 1
            assert verify_audit(s).ok
    finally:
        event.remove(engine, "before_cursor_execute", interleave)
        engine.dispose()
        other_engine.dispose()
