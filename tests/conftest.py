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
from sqlalchemy.pool import NullPool

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


def _create_database(admin_engine, template: Optional[str] = None) -> str:
    """A new PostgreSQL database (a copy of `template`, else empty); its name."""
    name = f"microbuy_test_{uuid.uuid4().hex[:16]}"
    with admin_engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def _drop_database(admin_engine, name: str) -> None:
    with admin_engine.connect() as connection:
        # FORCE: a test that failed mid-way may leave connections open.
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def _postgres_database(admin_engine, template: Optional[str] = None) -> Iterator[str]:
    """A new PostgreSQL database (a copy of `template`, else empty), dropped afterwards."""
    name = _create_database(admin_engine, template)
    try:
        yield name
    finally:
        _drop_database(admin_engine, name)


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


# What a test could change in a database besides its rows: tables, columns, indexes, constraints,
# triggers, functions and privileges. A database whose fingerprint is the template's is emptied
# and used again; any other is dropped.
_FINGERPRINT = """
SELECT md5(string_agg(part, '|' ORDER BY part)) FROM (
  SELECT 'c:' || c.relname || ':' || c.relkind::text || ':' || coalesce(c.relacl::text, '') AS part
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL SELECT 'a:' || a.attrelid::regclass::text || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod)
                   || ':' || a.attnotnull || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL SELECT 'k:' || conrelid::regclass::text || ':' || pg_get_constraintdef(oid) FROM pg_constraint
   WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT 't:' || tgrelid::regclass::text || ':' || tgname || ':' || tgenabled::text FROM pg_trigger
   WHERE NOT tgisinternal
  UNION ALL SELECT 'f:' || proname || ':' || md5(prosrc) || ':' || coalesce(proacl::text, '') FROM pg_proc
   WHERE pronamespace = 'public'::regnamespace
  UNION ALL SELECT 'n:' || nspname || ':' || coalesce(nspacl::text, '') FROM pg_namespace
  UNION ALL SELECT 'd:' || coalesce(defaclacl::text, '') FROM pg_default_acl
  UNION ALL SELECT 'db:' || coalesce(datacl::text, '') || ':' || coalesce(array_to_string(setconfig, ','), '')
    FROM pg_database LEFT JOIN pg_db_role_setting ON setdatabase = pg_database.oid
   WHERE datname = current_database()
  UNION ALL SELECT 'v:' || version_num FROM alembic_version
) parts
"""


class _PostgresPool:
    """Migrated databases of this test process, each emptied and used again by the next test
    rather than dropped: DROP DATABASE makes PostgreSQL checkpoint, and creating and dropping one
    per test cost about 0.2 s of each test and a minute and a half of the server's CPU per run."""

    def __init__(self, admin_engine, template: str):
        self.admin_engine, self.template, self.free = admin_engine, template, []
        engine = create_engine(_postgres_url(template), future=True, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                self.fingerprint = connection.exec_driver_sql(_FINGERPRINT).scalar()
                tables = [row[0] for row in connection.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
                # Rows the migrations put there (the audit chain's head), put back after emptying.
                self.seed = {table: connection.exec_driver_sql(f'SELECT * FROM "{table}"').mappings().all()
                             for table in tables}
        finally:
            engine.dispose()
        self.tables = tables

    def take(self) -> str:
        return self.free.pop() if self.free else _create_database(self.admin_engine, self.template)

    def give_back(self, name: str) -> None:
        try:
            if self._emptied(name):
                self.free.append(name)
                return
        except Exception:  # anything odd: the database is dropped, never reused
            pass
        _drop_database(self.admin_engine, name)

    def _emptied(self, name: str) -> bool:
        with self.admin_engine.connect() as connection:  # a test that failed may leave connections open
            connection.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
                "AND pid <> pg_backend_pid()")
        engine = create_engine(_postgres_url(name), future=True, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                if connection.exec_driver_sql(_FINGERPRINT).scalar() != self.fingerprint:
                    return False
                # The audit log refuses TRUNCATE by trigger; as replication, triggers do not fire.
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
                listed = ", ".join(f'"{table}"' for table in self.tables)
                connection.exec_driver_sql(f"TRUNCATE {listed} RESTART IDENTITY CASCADE")
                for table, rows in self.seed.items():
                    for row in rows:
                        columns = ", ".join(f'"{column}"' for column in row)
                        values = ", ".join(f"%({column})s" for column in row)
                        connection.exec_driver_sql(f'INSERT INTO "{table}" ({columns}) VALUES ({values})', dict(row))
            return True
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def postgres_pool(postgres_admin_engine, migrated_postgres_template):
    pool = _PostgresPool(postgres_admin_engine, migrated_postgres_template)
    yield pool
    while pool.free:
        _drop_database(postgres_admin_engine, pool.free.pop())


@pytest.fixture
def postgres_url(postgres_pool) -> str:
    """A migrated PostgreSQL database of the test's own: empty, as the template is."""
    name = postgres_pool.take()
    try:
        yield _postgres_url(name)
    finally:
        postgres_pool.give_back(name)


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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups (xdist/remote.py)
def pytest_collection_modifyitems(config, items) -> None:
    root = Path(str(config.rootpath))
    groups = {}
    for item in items:
        where = Path(str(item.path)).relative_to(root).as_posix()
        if where.startswith(CLOCK_SENSITIVE):
            item.add_marker(pytest.mark.clock)
        groups[item.nodeid] = _group_of(item, where)
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))
    _longest_groups_first(items, groups)


# pytest-xdist hands each test process whole groups (--dist loadgroup, the Makefile). A group is
# a test file, except that every test using one of these session fixtures, which start Rasa, the
# action server and the bot (10 to 20 s of CPU each), goes to one process: each starts once per
# run instead of once in each process. The same for the files that import Rasa's NLU components
# in the test process (TensorFlow: 8 s).
RUNNING_PRODUCTS = {"slack", "stack", "sqlite_stack", "product"}
RASA_IN_PROCESS = {"tests/dialogues/test_dialogue_nlu_detours.py", "tests/dialogues/test_dialogue_nlu_facts.py",
                   "tests/dialogues/test_rasa_speedups.py"}


def _group_of(item, where: str) -> str:
    definitions = item._fixtureinfo.name2fixturedefs
    for name in sorted(RUNNING_PRODUCTS.intersection(item.fixturenames)):
        fixture = definitions[name][-1]
        if fixture.scope == "session":
            return f"{fixture.baseid or 'tests'}:{name}"
    return "rasa-in-process" if where in RASA_IN_PROCESS else where


# The longest groups first, in collection order otherwise (--no-loadscope-reorder: xdist would
# reorder them by their number of tests): with the slow ones (those that start Rasa, the bot,
# `microbuy up`) first and the quick ones filling in at the end, the processes finish together
# instead of two waiting on one long group at the end. tests/file_seconds.json holds each file's
# seconds from a recent run (`make test-seconds`); a file not in it counts as quick.
FILE_SECONDS = Path(__file__).with_name("file_seconds.json")


def _file_of(item) -> str:
    return item.nodeid.split("::", 1)[0]


def _longest_groups_first(items, groups) -> None:
    """`groups`: each item's group, by node id (read before xdist adds the group to the id)."""
    try:
        seconds = json.loads(FILE_SECONDS.read_text())
    except (OSError, ValueError):
        return
    first, files = {}, {}
    for index, item in enumerate(items):
        first.setdefault(groups[item.nodeid], index)
        files.setdefault(groups[item.nodeid], set()).add(_file_of(item))
    spent = {group: sum(float(seconds.get(file, 0)) for file in names) for group, names in files.items()}
    items[:] = sorted(items, key=lambda item: (-spent[groups[item.nodeid]], first[groups[item.nodeid]]))


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
