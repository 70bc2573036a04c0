"""The same model on Spark gives the same links as on DuckDB (a small population).

DuckDB trains the model; Spark scores and clusters with it (``link --engine spark`` reusing
the stored model). Spark training is the same SQL; it is not repeated here because a local
JVM needs minutes for the hundreds of small jobs EM runs on a tiny population.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from openbureau.config import Settings
from openbureau.context import Context
from openbureau.identity.feeds import load_records, seal
from openbureau.identity.link import latest_model, link
from openbureau.identity.model import TrainedModel
from tests.identity.conftest import seed_model

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
    model = None
    for engine in ("duckdb", "spark"):
        ctx = Context(Settings(home=tmp_path / engine))
        ctx.init()
        load_records(ctx, seal(records, ctx.keys))
        if model is not None:
            seed_model(ctx, model)  # the model DuckDB trained, scored on Spark
        summary = link(ctx, engine=engine)
        assert summary.engine == engine
        assert summary.model_reused == (engine == "spark")
        if model is None:
            model = latest_model_of(ctx)
        results[engine] = (_partition(ctx), summary)
        ctx.close()
    (duck, sd), (spark, ss) = results["duckdb"], results["spark"]
    assert duck == spark
    assert sd.pairs_scored == ss.pairs_scored
    assert sd.probabilistic_links == ss.probabilistic_links
    assert sd.reviews_pending == ss.reviews_pending


def latest_model_of(ctx: Context) -> TrainedModel:
    with ctx.engine.connect() as conn:
        model = latest_model(conn)
    assert model is not None
    return model
