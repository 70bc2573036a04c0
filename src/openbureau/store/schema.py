"""Schema management through Alembic, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from openbureau.errors import StoreError

_MIGRATIONS = Path(__file__).with_name("migrations")


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the database to ``revision``; returns the revision it ends at."""
    try:
        command.upgrade(_alembic_config(engine), revision)
    except OperationalError as e:
        raise StoreError(f"could not migrate {engine.url.render_as_string()}: {e.orig}") from e
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(_MIGRATIONS)).get_current_head()


__all__ = ["current_revision", "head_revision", "upgrade"]
