"""Run Alembic migrations from code (the bot and CLI call upgrade() at start-up).

No alembic.ini is needed: the configuration is built here and the database
URL is handed to env.py through Config.attributes, so URLs containing '%'
(percent-encoded passwords) are not mangled by ConfigParser interpolation.
storage/alembic.ini exists only for developers who want the alembic command.
"""

from pathlib import Path
from typing import Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from .db import database_url, make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: Optional[str] = None) -> Config:
    config = Config()
    # '%' in a path would be taken for interpolation by ConfigParser.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["url"] = url or database_url()
    return config


def upgrade(url: Optional[str] = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: Optional[str], revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: Optional[str] = None) -> Optional[str]:
    """The database's migration revision, or None if it was never migrated."""
    engine = make_engine(url or database_url())
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
