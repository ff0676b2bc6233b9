"""Database fixtures shared by every test folder.

`db_url` runs a test on a migrated SQLite file and on a fresh PostgreSQL
database; `session_factory` gives sessions on it. PostgreSQL tests FAIL
(never skip) when the server cannot be reached: a silently skipped backend
is how concurrency bugs ship.
"""

import contextlib
import json
import os
import secrets
import sqlite3
import uuid
from pathlib import Path
from typing import Iterator, Optional

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade

# The audit key of this test run, found the way production finds it (the environment) by every
# process the tests start: the CLI, the bot, Rasa and the action server. Random: no key in the repo.
os.environ["MICROBUY_AUDIT_KEY"] = secrets.token_hex(32)
os.environ.pop("MICROBUY_AUDIT_KEY_FILE", None)

POSTGRES_ADMIN_URL = os.environ.get(
    "MICROBUY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _render(url) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture
def empty_sqlite_url(tmp_path) -> str:
    """A SQLite file that does not exist yet (no schema)."""
    return f"sqlite:///{tmp_path / 'microbuy.db'}"


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory) -> Path:
    """A SQLite file migrated once per run: each test gets a copy (migrating takes ~40 ms, a copy
    well under 1 ms)."""
    path = tmp_path_factory.mktemp("template") / "microbuy.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(empty_sqlite_url, migrated_sqlite_file) -> str:
    """A migrated SQLite file of the test's own."""
    target = empty_sqlite_url[len("sqlite:///"):]
    # SQLite's own backup copies a consistent database, WAL included; owner-only like storage's.
    with contextlib.closing(sqlite3.connect(migrated_sqlite_file)) as source, \
            contextlib.closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    os.chmod(target, 0o600)
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


@contextlib.contextmanager
def _postgres_database(admin_engine, template: Optional[str] = None) -> Iterator[str]:
    """A new PostgreSQL database (a copy of `template`, else empty), dropped afterwards."""
    name = f"microbuy_test_{uuid.uuid4().hex[:16]}"
    with admin_engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield name
    finally:
        with admin_engine.connect() as connection:
            # FORCE: a test that failed mid-way may leave connections open.
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_url(name: str) -> str:
    return _render(make_url(POSTGRES_ADMIN_URL).set(database=name))


@pytest.fixture
def empty_postgres_url(postgres_admin_engine):
    """A new, empty PostgreSQL database, dropped after the test."""
    with _postgres_database(postgres_admin_engine) as name:
        yield _postgres_url(name)


@pytest.fixture(scope="session")
def migrated_postgres_template(postgres_admin_engine):
    """A database migrated once per run, copied for each test (CREATE DATABASE ... TEMPLATE takes
    ~0.13 s where creating and migrating took ~0.36 s)."""
    with _postgres_database(postgres_admin_engine) as name:
        upgrade(_postgres_url(name))
        yield name


@pytest.fixture
def postgres_url(postgres_admin_engine, migrated_postgres_template) -> str:
    """A migrated PostgreSQL database of the test's own."""
    with _postgres_database(postgres_admin_engine, template=migrated_postgres_template) as name:
        yield _postgres_url(name)


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


# The in-process tests whose results could depend on the hour they run at: they store requests
# stamped with the machine's clock, compare days, or work out "today" (workflow.clock). `make
# test-clock` runs them again with the clock set to 01:30 UTC and to 23:30 in Toronto (faketime),
# the two hours at which the UTC date and the pack's date differ.
CLOCK_SENSITIVE = (
    "tests/storage/", "tests/workflow/",
    "tests/cli/test_cli.py", "tests/cli/test_policy_diff.py", "tests/cli/test_report.py",
    "tests/dialogues/test_dialogue_actions.py", "tests/dialogues/test_dialogue_answers.py",
    "tests/dialogues/test_dialogue_draft.py", "tests/dialogues/test_dialogue_services.py",
    "tests/bot/test_bot_reminders.py", "tests/bot/test_bot_reminders_slack_after_commit.py",
    "tests/bot/test_bot_home.py", "tests/bot/test_bot_justification.py", "tests/bot/test_bot_policy_watch.py",
    "tests/docs/test_admin_examples.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        where = Path(str(item.path)).relative_to(root).as_posix()
        if where.startswith(CLOCK_SENSITIVE):
            item.add_marker(pytest.mark.clock)
    _longest_files_first(items)


# The longest test files first. pytest-xdist hands each process whole files (--dist loadfile) in
# collection order when told not to reorder them (--no-loadscope-reorder, the Makefile): with the
# slow files (those that start Rasa, the bot, `microbuy up`) first and the quick ones filling in
# at the end, the processes finish together instead of two waiting on one long file at the end.
# tests/file_seconds.json holds each file's seconds from a recent run (`make test-seconds`); a
# file not in it counts as quick.
FILE_SECONDS = Path(__file__).with_name("file_seconds.json")


def _file_of(item) -> str:
    return item.nodeid.split("::", 1)[0]


def _longest_files_first(items) -> None:
    try:
        seconds = json.loads(FILE_SECONDS.read_text())
    except (OSError, ValueError):
        return
    first = {}
    for index, item in enumerate(items):
        first.setdefault(_file_of(item), index)
    items[:] = sorted(items, key=lambda item: (-float(seconds.get(_file_of(item), 0)), first[_file_of(item)]))


def pytest_addoption(parser) -> None:
    parser.addoption("--record-file-seconds", metavar="PATH", default=None,
                     help="write each test file's seconds (setup, call and teardown) to PATH, as JSON")


_SECONDS: dict = {}


def pytest_runtest_logreport(report) -> None:
    name = report.nodeid.split("::", 1)[0]
    _SECONDS[name] = _SECONDS.get(name, 0.0) + report.duration


def pytest_sessionfinish(session) -> None:
    path = session.config.getoption("--record-file-seconds")
    if path and not hasattr(session.config, "workerinput"):  # the controller hears every report
        ordered = sorted(_SECONDS.items(), key=lambda kv: -kv[1])
        Path(path).write_text(json.dumps({name: round(spent, 1) for name, spent in ordered}, indent=1) + "\n")
