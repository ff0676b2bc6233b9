"""The audit key (storage/audit_key.py): where every process finds it, what is refused, and the
chain it seals: a row hashed with it checks out only with it."""

import hashlib
import hmac
import os
import stat

import pytest
from sqlalchemy import func, select

from storage import AuditEntry, append_audit, make_engine, make_session_factory, upgrade, verify_audit
from storage.audit import hashed_text
from storage.audit_key import AuditKeyError, audit_key

KEY = "k" * 40
SQLITE = "sqlite:////srv/data/microbuy.db"
POSTGRES = "postgresql://app@db.example/microbuy"


def _key_file(tmp_path, mode, content=KEY + "\n", name="audit.key"):
    path = tmp_path / name
    path.write_text(content)
    path.chmod(mode)
    return str(path)


# (database, environment given the test's tmp_path, the key it yields or the refusal it says)
LOOKUPS = {
    "the variable": (POSTGRES, lambda p: {"MICROBUY_AUDIT_KEY": KEY}, KEY.encode()),
    "an owner-only file": (POSTGRES, lambda p: {"MICROBUY_AUDIT_KEY_FILE": _key_file(p, 0o600)}, KEY.encode()),
    "a read-only owner-only file": (POSTGRES, lambda p: {"MICROBUY_AUDIT_KEY_FILE": _key_file(p, 0o400)}, KEY.encode()),
    "a group-readable file": (POSTGRES, lambda p: {"MICROBUY_AUDIT_KEY_FILE": _key_file(p, 0o640)},
                              "can be read or changed by others (mode 0640); make it owner-only: chmod 600"),
    "a world-readable file": (POSTGRES, lambda p: {"MICROBUY_AUDIT_KEY_FILE": _key_file(p, 0o604)},
                              "(mode 0604)"),
    "a missing file": (POSTGRES, lambda p: {"MICROBUY_AUDIT_KEY_FILE": str(p / "nowhere")}, "does not exist"),
    "a folder": (POSTGRES, lambda p: {"MICROBUY_AUDIT_KEY_FILE": str(p)}, "is not a regular file"),
    "a short key": (POSTGRES, lambda p: {"MICROBUY_AUDIT_KEY": "secret"}, "is 6 characters; it needs at least 32"),
    "both": (POSTGRES, lambda p: {"MICROBUY_AUDIT_KEY": KEY, "MICROBUY_AUDIT_KEY_FILE": _key_file(p, 0o600)},
             "both MICROBUY_AUDIT_KEY and MICROBUY_AUDIT_KEY_FILE are set"),
    "nothing, on PostgreSQL": (POSTGRES, lambda p: {}, "a PostgreSQL database has no default key"),
    "nothing, on SQLite in memory": ("sqlite://", lambda p: {}, "no audit key: set MICROBUY_AUDIT_KEY"),
    "nothing, on SQLite before the key file exists": (
        SQLITE, lambda p: {}, "the default key file /srv/data/microbuy.db.audit-key does not exist"),
}


@pytest.mark.parametrize("case", LOOKUPS)
def test_every_process_finds_the_key_the_same_way(tmp_path, case):
    url, env, expected = LOOKUPS[case]
    if isinstance(expected, bytes):
        assert audit_key(url, env(tmp_path)) == expected
    else:
        with pytest.raises(AuditKeyError) as refused:
            audit_key(url, env(tmp_path))
        assert expected in str(refused.value)
        assert KEY not in str(refused.value)  # a refusal never shows the key


def test_a_new_sqlite_database_gets_an_owner_only_key_beside_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MICROBUY_AUDIT_KEY")
    url = f"sqlite:///{tmp_path / 'microbuy.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as s:  # the first audit row makes the key
            append_audit(s, actor="U_A", action="test.event", data={"n": 1})
        key_file = tmp_path / "microbuy.db.audit-key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text().strip()
        assert len(key) == 64
        assert audit_key(url, {}) == key.encode()
        with sessions.begin() as s:  # and later rows use the same one
            append_audit(s, actor="U_A", action="test.event", data={"n": 2})
        with sessions() as s:
            assert verify_audit(s).rows_checked == 2
            row = s.execute(select(AuditEntry).where(AuditEntry.id == 1)).scalar_one()
        assert key_file.read_text().strip() == key
        # the row's hash is the HMAC under that file's key
        text = hashed_text(row.prev_hash, id=row.id, at=row.at, actor=row.actor, action=row.action,
                           request_id=row.request_id, data=row.payload)
        assert row.hash == hmac.new(key.encode(), text, hashlib.sha256).hexdigest()
    finally:
        engine.dispose()


def test_verify_needs_the_key_and_a_wrong_one_fails_at_the_first_row(session_factory, monkeypatch):
    with session_factory.begin() as s:
        for n in range(3):
            append_audit(s, actor="U_A", action="test.event", data={"n": n})
    right = os.environ["MICROBUY_AUDIT_KEY"]
    with session_factory() as s:
        assert verify_audit(s).ok
        assert verify_audit(s, key=right.encode()).ok
        wrong = verify_audit(s, key=("w" * 64).encode())
    assert (wrong.ok, wrong.bad_row_id, wrong.rows_checked) == (False, 1, 0)
    assert "the audit key is not the one this log was sealed with" in wrong.problem

    monkeypatch.delenv("MICROBUY_AUDIT_KEY")
    with session_factory() as s:
        with pytest.raises(AuditKeyError):
            verify_audit(s)


def test_without_a_key_nothing_is_appended(postgres_url, monkeypatch):
    monkeypatch.delenv("MICROBUY_AUDIT_KEY")
    engine = make_engine(postgres_url)
    sessions = make_session_factory(engine)
    try:
        with pytest.raises(AuditKeyError, match="PostgreSQL database has no default key"):
            with sessions.begin() as s:
                append_audit(s, actor="U_A", action="test.event")
        with sessions() as s:
            assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0
    finally:
        engine.dispose()
