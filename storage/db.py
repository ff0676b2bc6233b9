"""Engine and session set-up for SQLite (development, small deployments) and PostgreSQL."""

import logging
import os
import stat
from typing import Any, Dict, Mapping, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

from settings import Settings

from .canonical import canonical_json

SQLITE_BUSY_TIMEOUT_S = 30
log = logging.getLogger(__name__)


def database_url(env: Optional[Mapping[str, str]] = None) -> str:
    """DATABASE_URL, or a SQLite file `microbuy.db` in the working directory (settings.Settings;
    `env` instead of os.environ)."""
    return Settings.read("DATABASE_URL", env)


def make_engine(url: Optional[str] = None, **engine_options: Any) -> Engine:
    """An Engine for `url` (default: database_url()).

    `engine_options` go to create_engine, e.g. pool_size for a busy
    PostgreSQL deployment.
    """
    url = url or database_url()
    backend = make_url(url).get_backend_name()
    # JSON columns accept Decimals and dates (stored as strings), like the audit log.
    options: Dict[str, Any] = dict(future=True, json_serializer=canonical_json)
    if backend == "sqlite":
        _owner_only(make_url(url).database)
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        options.update(engine_options)
        engine = create_engine(url, **options)
        _configure_sqlite(engine)
        return engine
    # pre_ping: a connection the server closed (restart, idle timeout) is
    # replaced instead of failing the next Slack click.
    options["pool_pre_ping"] = True
    options.update(engine_options)
    return create_engine(url, **options)


def _owner_only(database: Optional[str]) -> None:
    """The SQLite file holds every request and the audit log: made owner-only (0600) before SQLite
    creates it under the umask (0644, world-readable, as a rule), and a file made before loses
    group and others' access. SQLite gives the -wal and -shm files it makes later the database
    file's own mode, so they are owner-only too; any left over are tightened as well."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return  # in memory, or a URI filename SQLite opens itself
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    except OSError:
        return  # no such folder, say: SQLite reports it in its own words
    for path in (database, f"{database}-wal", f"{database}-shm"):
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            continue  # not there
        if mode & 0o077:
            try:
                os.chmod(path, mode & 0o700)
                log.warning("%s was open to others (mode %o); made it owner-only", path, mode)
            except OSError:
                log.warning("%s is open to others (mode %o) and is not ours to change", path, mode)


def _configure_sqlite(engine: Engine) -> None:
    """The SQLAlchemy pysqlite recipe for real transactions plus BEGIN IMMEDIATE.

    pysqlite's own transaction handling issues BEGIN lazily (and not at all for
    SAVEPOINT), so we turn it off and emit BEGIN ourselves. IMMEDIATE takes
    the write lock up front: concurrent writers wait on busy_timeout instead of
    failing with "database is locked" when a read lock cannot be upgraded.
    Read-only work may opt out with the execution option sqlite_begin="DEFERRED".
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
            cursor.execute("PRAGMA foreign_keys = ON")
            # WAL lets readers run alongside the single writer (no-op for :memory:).
            cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        if mode not in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE"):
            raise ValueError(f"sqlite_begin must be IMMEDIATE, DEFERRED or EXCLUSIVE, not {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_session_factory(engine: Engine) -> sessionmaker:
    # expire_on_commit=False: the bot keeps using a request after commit to
    # render messages without a second round trip.
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)
