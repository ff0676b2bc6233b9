"""Migrations build exactly the models' schema, and come down cleanly, on both backends."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from storage import Base, current_revision, downgrade, make_engine, upgrade


def _schema_diff(url):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _tables(url):
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_matches_models_and_downgrade_removes_everything(empty_db_url):
    assert current_revision(empty_db_url) is None

    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == "0003"
    assert _tables(empty_db_url) == set(Base.metadata.tables) | {"alembic_version"}
    assert _schema_diff(empty_db_url) == []

    downgrade(empty_db_url, "base")
    assert current_revision(empty_db_url) is None
    assert _tables(empty_db_url) <= {"alembic_version"}

    upgrade(empty_db_url)
    assert _schema_diff(empty_db_url) == []


def test_a_database_at_0001_keeps_its_requests_through_0002(empty_db_url):
    url = empty_db_url
    upgrade(url, "0001")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO purchase_requests (id, requester, cost_centre, category, supplier, description, "
                "subtotal, tax, total, answers, evaluation, route, approval_step, policy_version, status, revision, "
                "created_at, updated_at) VALUES (7, 'U1', '100200', 'office_supplies', 'Old Supplier', 'pens', "
                "2500, 325, 2825, '{}', '{}', '[]', 0, 'v1', 'submitted', 1, "
                "'2026-11-01 10:00:00+00:00', '2026-11-01 10:00:00+00:00')")
    finally:
        engine.dispose()
    request_id = 7
    upgrade(url)
    assert current_revision(url) == "0003" and _schema_diff(url) == []
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.exec_driver_sql(
                f"SELECT supplier, approval_channel, approval_ts FROM purchase_requests WHERE id = {request_id}").one()
    finally:
        engine.dispose()
    assert tuple(row) == ("Old Supplier", None, None)


def test_upgrade_seeds_the_audit_head(db_url):
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT id, last_id, last_hash FROM audit_head").all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(1, 0, "0" * 64)]


def test_sqlite_path_with_percent_sign(tmp_path):
    # ConfigParser would read "%" as interpolation if the URL went through the ini options.
    url = f"sqlite:///{tmp_path / 'micro%buy%(x)s.db'}"
    upgrade(url)
    assert current_revision(url) == "0003"
    assert (tmp_path / "micro%buy%(x)s.db").exists()


@pytest.mark.postgres
def test_postgres_url_with_percent_encoded_password(empty_postgres_url):
    # Trust auth ignores the password; what matters is that "%25" survives to the driver.
    url = make_url(empty_postgres_url)
    rendered = f"postgresql://{url.username}:p%25ss%3Aw%40rd@{url.host}:{url.port}/{url.database}"
    assert make_url(rendered).password == "p%ss:w@rd"
    upgrade(rendered)
    assert current_revision(rendered) == "0003"


def test_migrations_emit_sql_offline(tmp_path, capsys):
    # --sql mode (for DBAs who apply scripts by hand) must not need a live connection.
    from alembic import command

    from storage.migrate import alembic_config

    command.upgrade(alembic_config(f"sqlite:///{tmp_path / 'never-created.db'}"), "head", sql=True)
    out = capsys.readouterr().out
    assert "CREATE TABLE purchase_requests" in out
    assert "CREATE TRIGGER audit_log_no_update" in out
    assert not (tmp_path / "never-created.db").exists()
