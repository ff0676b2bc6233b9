"""Engine configuration: the settings concurrency and durability rely on."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import database_url, make_engine, make_session_factory

REPO = Path(__file__).resolve().parents[2]


def test_database_url_default_and_env():
    assert database_url({}) == "sqlite:///microbuy.db"
    assert database_url({"DATABASE_URL": ""}) == "sqlite:///microbuy.db"
    assert database_url({"DATABASE_URL": "postgresql://u@h/db"}) == "postgresql://u@h/db"
    assert database_url({"DATABASE_URL": "postgres://u@h/db"}) == "postgresql://u@h/db"


def test_sqlite_pragmas(sqlite_url):
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_sqlite_transactions_take_the_write_lock_at_begin(sqlite_url):
    engine = make_engine(sqlite_url)
    path = sqlite_url[len("sqlite:///"):]
    try:
        with make_session_factory(engine)() as session:
            session.execute(text("SELECT 1"))  # a read only; the lock is already held
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
    finally:
        engine.dispose()


def test_sqlite_deferred_opt_out(sqlite_url):
    engine = make_engine(sqlite_url).execution_options(sqlite_begin="DEFERRED")
    path = sqlite_url[len("sqlite:///"):]
    try:
        with engine.connect() as c:
            c.exec_driver_sql("SELECT 1")
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # not blocked by a deferred reader
            other.execute("ROLLBACK")
            other.close()
    finally:
        engine.dispose()


def test_foreign_keys_enforced(session_factory):
    from sqlalchemy.exc import IntegrityError

    from storage import Decision

    with session_factory() as s:
        s.add(Decision(request_id=424242, revision=1, step=0, level="s32", approver="U", outcome="approved"))
        with pytest.raises(IntegrityError):
            s.flush()


@pytest.mark.postgres
def test_postgres_engine_pre_pings(postgres_url):
    engine = make_engine(postgres_url)
    try:
        assert engine.pool._pre_ping is True
    finally:
        engine.dispose()


def test_storage_does_not_import_other_layers():
    code = (
        "import sys, storage, storage.migrate; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'policies', 'bot', 'dialogues'}); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
