"""Alembic environment: the engine comes from OpenBureau's settings, never from alembic.ini."""

from __future__ import annotations

from alembic import context

from openbureau.store.models import Base

target_metadata = Base.metadata
engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite can't ALTER most things
        compare_type=True,
    )
    context.run_migrations()
