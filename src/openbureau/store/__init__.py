"""The credit-file database (SQLAlchemy models, sessions, Alembic migrations) and the lake."""

from openbureau.store.db import make_engine, session_factory
from openbureau.store.schema import current_revision, upgrade

__all__ = ["current_revision", "make_engine", "session_factory", "upgrade"]
