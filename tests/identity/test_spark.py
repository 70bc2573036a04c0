"""The same model on Spark gives the same links as on DuckDB (a small population)."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from openbureau.config import Settings
from openbureau.context import Context
from openbureau.identity.feeds import load_records, seal
from openbureau.identity.link import link

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _partition(ctx: Context) -> set[frozenset[str]]:
    from sqlalchemy import text

    groups: dict[str, set[str]] = {}
    with ctx.engine.connect() as conn:
        for f, a, c in conn.execute(
            text("SELECT furnisher_id, furnisher_account_id, consumer_id FROM identity_records")
        ):
            groups.setdefault(str(c), set()).add(f"{f}/{a}")
    return {frozenset(g) for g in groups.values()}


@pytest.mark.spark
@pytest.mark.slow
def test_duckdb_and_spark_agree(tmp_path: Path, population: tuple[Path, pa.Table]) -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if IN_CI:
            raise
        pytest.skip("PySpark is not installed (the spark extra)")
    records = population[1]
    results = {}
    for engine in ("duckdb", "spark"):
        ctx = Context(Settings(home=tmp_path / engine))
        ctx.init()
        load_records(ctx, seal(records, ctx.keys))
        summary = link(ctx, engine=engine)  # each trains its own model on its engine
        assert summary.engine == engine and not summary.model_reused
        results[engine] = (_partition(ctx), summary)
        ctx.close()
    (duck, sd), (spark, ss) = results["duckdb"], results["spark"]
    assert duck == spark
    assert sd.probabilistic_links == ss.probabilistic_links
    assert sd.reviews_pending == ss.reviews_pending
