"""Alembic environment for microbuy's storage.

The URL comes from config.attributes["url"] (storage.migrate), else from
sqlalchemy.url in the ini file, else DATABASE_URL / the default.
"""

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import make_url

from storage.db import database_url, make_engine
from storage.models import Base
from storage.types import Money, UTCDateTime

config = context.config
if config.config_file_name:  # run by the alembic command with storage/alembic.ini
    fileConfig(config.config_file_name)
target_metadata = Base.metadata


def _url() -> str:
    return (
        config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
        or database_url()
    )


def _render_item(type_, obj, autogen_context):
    # Autogenerate writes our column types as their database types, so
    # migrations never import application code that may change later.
    if type_ == "type" and isinstance(obj, Money):
        return "sa.BigInteger()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure_args(dialect_name: str) -> dict:
    return {
        "target_metadata": target_metadata,
        "render_item": _render_item,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        "render_as_batch": dialect_name == "sqlite",
        # SQLite does roll back DDL (Alembic assumes not): a failed migration
        # then leaves the database as it was.
        "transactional_ddl": True,
    }


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url, literal_binds=True, dialect_opts={"paramstyle": "named"},
        **_configure_args(make_url(url).get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # The same engine set-up as the application (WAL, BEGIN IMMEDIATE on SQLite).
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, **_configure_args(connection.dialect.name))
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
