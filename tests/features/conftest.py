"""Fixtures of the feature tests: a small credit file, and one local Spark session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openbureau.config import Settings
from openbureau.context import Context


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local Spark session (2 cores, few shuffle partitions) shared by the Spark tests."""
    pyspark_sql = pytest.importorskip("pyspark.sql")
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("openbureau-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session


@pytest.fixture
def sqlite_context(tmp_path: Path) -> Iterator[Context]:
    """An initialised context on SQLite only (for tests whose subject is not the database)."""
    ctx = Context(Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'ob.db'}"))
    ctx.init()
    try:
        yield ctx
    finally:
        ctx.close()
