"""The SQLite database holds every request and the audit log: its file and the -wal and -shm files
SQLite makes beside it are owner-only (0600), whatever the umask of the process that creates
them. (PostgreSQL keeps its files itself; this is SQLite's alone.)"""
import contextlib
import os
import stat

import pytest

import storage


@contextlib.contextmanager
def umask(mask: int):
    """The usual umask (022: files world-readable) while the test creates files."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def modes(*paths) -> dict:
    return {os.path.basename(p): oct(stat.S_IMODE(os.stat(p).st_mode)) for p in paths}


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "microbuy.db")


def test_a_new_database_and_its_wal_files_are_owner_only(db_path):
    with umask(0o022):
        storage.upgrade(f"sqlite:///{db_path}")
        engine = storage.make_engine(f"sqlite:///{db_path}")
        try:
            # A reader kept open, so the WAL files stay while they are looked at.
            with engine.connect().execution_options(sqlite_begin="DEFERRED") as reader:
                reader.exec_driver_sql("SELECT count(*) FROM processed_events").scalar()
                with storage.make_session_factory(engine).begin() as session:
                    assert storage.claim_event(session, "Ev-file-modes", "event")
                wal, shm = f"{db_path}-wal", f"{db_path}-shm"
                assert os.path.exists(wal) and os.path.exists(shm)
                assert modes(db_path, wal, shm) == {"microbuy.db": "0o600", "microbuy.db-wal": "0o600",
                                                    "microbuy.db-shm": "0o600"}
        finally:
            engine.dispose()


def test_a_database_made_world_readable_before_is_made_owner_only(db_path):
    with umask(0o022):
        with open(db_path, "wb"):
            pass  # an empty file is a new SQLite database; made as the old code made it
        os.chmod(db_path, 0o644)
        storage.upgrade(f"sqlite:///{db_path}")
        assert modes(db_path) == {"microbuy.db": "0o600"}
