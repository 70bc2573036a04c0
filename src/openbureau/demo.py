"""The demo's bookkeeping: a home the demo may wipe and rebuild, and nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import inspect

from openbureau.context import Context
from openbureau.errors import ConfigError
from openbureau.store.models import Base

MARKER = ".openbureau-demo"


def population_dir(ctx: Context) -> Path:
    return ctx.settings.home / "population"


def prepare_demo_home(ctx: Context) -> None:
    """Make the home fresh for a demo run, refusing to touch a bureau the demo did not create."""
    home = ctx.settings.home
    marker = home / MARKER
    home.mkdir(parents=True, exist_ok=True)
    tables = set(inspect(ctx.engine).get_table_names())
    if tables and not marker.exists():
        raise ConfigError(
            f"the database at {ctx.engine.url.render_as_string(hide_password=True)} already holds "
            f"data that the demo did not create; point OPENBUREAU_HOME (and "
            f"OPENBUREAU_DATABASE_URL) at a fresh place to run the demo"
        )
    if tables:
        # Only the demo's own tables are dropped: drop_all of our metadata plus Alembic's marker.
        Base.metadata.drop_all(ctx.engine)
        with ctx.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    for folder in (ctx.lake, population_dir(ctx)):
        if folder.exists():
            shutil.rmtree(folder)
    home.mkdir(parents=True, exist_ok=True)
    marker.write_text("This home was created by 'openbureau demo', which may wipe it.\n")


__all__ = ["MARKER", "population_dir", "prepare_demo_home"]
