"""Database fixtures shared by every test folder.

`db_url` runs a test on a migrated SQLite file and on a fresh PostgreSQL
database; `session_factory` gives sessions on it. PostgreSQL tests FAIL
(never skip) when the server cannot be reached: a silently skipped backend
is how concurrency bugs ship.
"""

import os
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "MICROBUY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _render(url) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture
def empty_sqlite_url(tmp_path) -> str:
    """A SQLite file that does not exist yet (no schema)."""
    return f"sqlite:///{tmp_path / 'microbuy.db'}"


@pytest.fixture
def sqlite_url(empty_sqlite_url) -> str:
    upgrade(empty_sqlite_url)
    return empty_sqlite_url


@pytest.fixture(scope="session")
def postgres_admin_engine():
    engine = create_engine(POSTGRES_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    problem = None
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        problem = str(exc.orig).strip()
    if problem is not None:  # outside the except block, so the report is just this message
        engine.dispose()
        pytest.fail(
            f"PostgreSQL is not reachable at {make_url(POSTGRES_ADMIN_URL)} "
            f"(start it, or point MICROBUY_TEST_POSTGRES_URL at a server): {problem}",
            pytrace=False,
        )
    yield engine
    engine.dispose()


@pytest.fixture
def empty_postgres_url(postgres_admin_engine):
    """A new, empty PostgreSQL database, dropped after the test."""
    name = f"microbuy_test_{uuid.uuid4().hex[:16]}"
    with postgres_admin_engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield _render(make_url(POSTGRES_ADMIN_URL).set(database=name))
    finally:
        with postgres_admin_engine.connect() as connection:
            # FORCE: a test that failed mid-way may leave connections open.
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(empty_postgres_url) -> str:
    upgrade(empty_postgres_url)
    return empty_postgres_url


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def db_url(request) -> str:
    """A migrated database URL, once per backend."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=BACKENDS)
def empty_db_url(request) -> str:
    """An empty (unmigrated) database URL, once per backend."""
    return request.getfixturevalue(f"empty_{request.param}_url")


@pytest.fixture
def db_engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(db_engine):
    return make_session_factory(db_engine)
