"""Fixtures of the feature tests: a small credit file, and one local Spark session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openbureau.config import Settings
from openbureau.context import Context


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The project's own local Spark session (2 cores), shared by every Spark test.

    It is made by the engine module, so it carries what every Spark user in the project
    needs (Splink's similarity jar, a checkpoint folder): one JVM serves the whole run.
    """
    pytest.importorskip("pyspark.sql")
    from openbureau.engine.spark import SparkEngine

    engine = SparkEngine(memory_mb=1024, tmp=tmp_path_factory.mktemp("spark"), threads=2)
    yield engine.spark


@pytest.fixture
def sqlite_context(tmp_path: Path) -> Iterator[Context]:
    """An initialised context on SQLite only (for tests whose subject is not the database)."""
    ctx = Context(Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'ob.db'}"))
    ctx.init()
    try:
        yield ctx
    finally:
        ctx.close()
