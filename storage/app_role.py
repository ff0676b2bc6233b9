"""The PostgreSQL role microbuy's processes run as: it adds to the audit log but cannot change
it, and owns nothing (`microbuy db grant-app-role ROLE`, run as the owner after each upgrade).

The owner role creates and migrates the tables, and so owns them and their triggers. The app
role gets, on each table of the schema, only what the application does there: SELECT and INSERT
on audit_log (no UPDATE, DELETE, TRUNCATE or TRIGGER), SELECT and UPDATE on audit_head (each
append moves the chain's tip), SELECT on alembic_version, and SELECT, INSERT, UPDATE elsewhere
(DELETE only where a claim is released). Not being the owner, it cannot drop or disable the
append-only trigger, nor alter or drop a table.
"""

from typing import Dict, List, Tuple

from sqlalchemy import text
from sqlalchemy.engine import Connection

from .errors import StorageError

# What the application does to these tables; every other table of the schema gets DEFAULT.
PRIVILEGES: Dict[str, Tuple[str, ...]] = {
    "audit_log": ("SELECT", "INSERT"),
    "audit_head": ("SELECT", "UPDATE"),
    "alembic_version": ("SELECT",),
    "processed_events": ("SELECT", "INSERT", "UPDATE", "DELETE"),  # storage.release_event
}
DEFAULT = ("SELECT", "INSERT", "UPDATE")


class AppRoleError(StorageError):
    """The role cannot be the app role: it does not exist, is a superuser, or owns the tables."""


def _refuse_unsafe(connection: Connection, role: str) -> List[str]:
    """The schema's tables; AppRoleError if `role` could change the audit log's rules."""
    found = connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
    if found is None:
        raise AppRoleError(f"there is no role {role!r}; create it first (CREATE ROLE ... LOGIN)")
    if found.rolsuper:
        raise AppRoleError(f"{role} is a superuser: it could drop the audit log's trigger; use an ordinary role")
    if connection.execute(text("SELECT current_user")).scalar_one() == role:
        raise AppRoleError(f"{role} is the role running this command, the owner; the app role must be another")
    tables = connection.execute(text(
        "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")).all()
    if "audit_log" not in {t.tablename for t in tables}:
        raise AppRoleError("the database has no audit_log table yet; run microbuy db upgrade first")
    for owner in sorted({t.tableowner for t in tables}):
        if owner == role:
            raise AppRoleError(f"{role} owns tables of this database; the app role must own none")
        member = connection.execute(text("SELECT pg_has_role(:role, :owner, 'MEMBER')"),
                                    {"role": role, "owner": owner}).scalar_one()
        if member:
            raise AppRoleError(f"{role} is a member of {owner}, which owns the tables, and so has its rights")
    return [t.tablename for t in tables]


def grant_app_role(connection: Connection, role: str) -> List[Tuple[str, Tuple[str, ...]]]:
    """Give `role` exactly the app's privileges on every table of the current schema, taking back
    any others this owner gave it; returns (table, privileges) for each. Safe to run again, and
    to be run again after each upgrade (a new table has no grant until then)."""
    if connection.dialect.name != "postgresql":
        raise AppRoleError("only PostgreSQL has roles; a SQLite database is protected by its file's permissions")
    tables = _refuse_unsafe(connection, role)
    quote = connection.dialect.identifier_preparer.quote
    who = quote(role)
    schema = quote(connection.execute(text("SELECT current_schema()")).scalar_one())
    database = quote(connection.execute(text("SELECT current_database()")).scalar_one())
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {who}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM {who}",
        f"GRANT CONNECT ON DATABASE {database} TO {who}",
        f"GRANT USAGE ON SCHEMA {schema} TO {who}",
        # ids of requests, decisions and conversation events come from sequences
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
    ]
    granted = []
    for table in tables:
        privileges = PRIVILEGES.get(table, DEFAULT)
        statements.append(f"GRANT {', '.join(privileges)} ON TABLE {schema}.{quote(table)} TO {who}")
        granted.append((table, privileges))
    for statement in statements:
        connection.execute(text(statement))
    return granted
