"""PostgreSQL: the app runs as a role that may add to the audit log but not change it, and owns
nothing (`microbuy db grant-app-role`, docs/deployment.md). The owner migrates; the app role does
the app's whole work, and every way to rewrite history is refused to it by the database."""

import uuid
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy.exc import DBAPIError

from microbuy.cli import main
from storage import (
    append_audit,
    claim_event,
    create_request,
    make_engine,
    make_session_factory,
    mark_purchased,
    record_decision,
    record_policy_version,
    release_event,
    set_language,
    update_request,
    upgrade,
    verify_audit,
)
from storage.audit_replay import check_requests

from storage_factories import request_fields

pytestmark = pytest.mark.postgres


@pytest.fixture
def roles(postgres_admin_engine):
    """A database owned and migrated by an ordinary owner role, an app role with no rights yet,
    and a third role that is a member of the owner."""
    suffix = uuid.uuid4().hex[:10]
    names = {"owner": f"mb_owner_{suffix}", "app": f"mb_app_{suffix}", "member": f"mb_member_{suffix}"}
    database = f"microbuy_test_roles_{suffix}"
    with postgres_admin_engine.connect() as connection:
        for name in names.values():
            connection.exec_driver_sql(f'CREATE ROLE "{name}" LOGIN')
        connection.exec_driver_sql(f'GRANT "{names["owner"]}" TO "{names["member"]}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{database}" OWNER "{names["owner"]}"')
    base = postgres_admin_engine.url.set(database=database)
    urls = {role: base.set(username=name).render_as_string(hide_password=False) for role, name in names.items()}
    try:
        upgrade(urls["owner"])
        yield names, urls
    finally:
        with postgres_admin_engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for name in names.values():
                connection.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}"')


def _grant(url, role):
    return CliRunner().invoke(main, ["db", "grant-app-role", role], env={"DATABASE_URL": url},
                              catch_exceptions=False)


def _the_apps_work(sessions) -> None:
    """What the bot, Rasa's actions and the CLI do: requests, decisions, claims, audit rows."""
    with sessions.begin() as s:
        first = create_request(s, **request_fields()).id
        second = create_request(s, **request_fields(supplier="Costco")).id
    with sessions.begin() as s:
        record_decision(s, first, revision=1, step=0, approver="U_MGR", outcome="approved")
        fields = request_fields(supplier="Staples")
        update_request(s, second, expected_revision=1, actor="U_REQ", answers=fields["answers"],
                       subtotal=fields["subtotal"], tax=fields["tax"], total=fields["total"],
                       evaluation=fields["evaluation"], route=fields["route"], policy_version="v2",
                       supplier="Staples")
    with sessions.begin() as s:
        mark_purchased(s, first, actor="U_REQ", amount_paid="100.00", purchased_on=date(2026, 11, 20))
        assert claim_event(s, "Ev1", "event") and release_event(s, "Ev1")
        record_policy_version(s, version="v2", name="esdc.yml", content="pack: {}\n")
        set_language(s, "U_REQ", "fr", source="conversation")
        append_audit(s, actor="system", action="test.event", request_id=first, data={"n": 1})


# Every way an insider holding the app's DATABASE_URL would rewrite history, and the database's answer.
REFUSED = {
    "UPDATE a row": ("UPDATE audit_log SET actor = 'U_EVIL' WHERE id = 1", "permission denied for table audit_log"),
    "DELETE a row": ("DELETE FROM audit_log WHERE id = 1", "permission denied for table audit_log"),
    "TRUNCATE": ("TRUNCATE audit_log", "permission denied for table audit_log"),
    "DROP TRIGGER": ("DROP TRIGGER audit_log_no_update_delete ON audit_log", "must be owner of"),
    "DISABLE TRIGGER": ("ALTER TABLE audit_log DISABLE TRIGGER USER", "must be owner of"),
    "DROP the trigger's function": ("DROP FUNCTION audit_log_append_only()", "must be owner of"),
    "ALTER TABLE": ("ALTER TABLE audit_log ADD COLUMN note text", "must be owner of"),
    "DROP TABLE": ("DROP TABLE audit_log", "must be owner of"),
    "CREATE a table": ("CREATE TABLE audit_log_copy (id int)", "permission denied for schema"),
}


def test_the_app_role_does_the_apps_work_but_cannot_change_the_audit_log(roles):
    names, urls = roles
    granted = _grant(urls["owner"], names["app"])
    assert granted.exit_code == 0, granted.output
    assert "audit_log: SELECT, INSERT\n" in granted.output and "audit_head: SELECT, UPDATE\n" in granted.output

    engine = make_engine(urls["app"])
    sessions = make_session_factory(engine)
    try:
        _the_apps_work(sessions)
        with sessions() as s:
            assert verify_audit(s).ok and check_requests(s).ok
        for statement, refusal in REFUSED.values():
            with pytest.raises(DBAPIError, match=refusal):
                with engine.begin() as connection:
                    connection.exec_driver_sql(statement)
        with sessions() as s:
            assert verify_audit(s).ok  # and the log is whole
    finally:
        engine.dispose()


def test_before_the_grant_the_app_role_can_do_nothing(roles):
    names, urls = roles
    engine = make_engine(urls["app"])
    try:
        with pytest.raises(DBAPIError, match="permission denied"):
            _the_apps_work(make_session_factory(engine))
    finally:
        engine.dispose()


@pytest.mark.parametrize("who, refusal", [
    ("owner", "is the role running this command, the owner"),
    ("member", "is a member of mb_owner_"),
    ("superuser", "postgres is a superuser"),
    ("nobody", "there is no role 'mb_nobody'"),
])
def test_a_role_that_could_change_the_audit_log_is_refused(roles, who, refusal):
    names, urls = roles
    role = {"superuser": "postgres", "nobody": "mb_nobody"}.get(who) or names[who]
    refused = _grant(urls["owner"], role)
    assert refused.exit_code == 1 and refusal in refused.stderr and "Traceback" not in refused.output
