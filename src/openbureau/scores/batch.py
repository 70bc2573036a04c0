"""Batch scoring: every consumer on file, with the approved model, into the lake and the DB.

The lake's ``scores`` table keeps one partition per as-of date (score, probability of bad and
up to four reason codes per consumer, with the model id); the database's ``scores`` table
keeps the latest score of each consumer — a later as-of date replaces an earlier one, an
earlier one never replaces a later one.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Table

from openbureau.context import Context
from openbureau.errors import ModelRegistryError
from openbureau.features import lake
from openbureau.features.asof import AsOf
from openbureau.features.compute import load_features
from openbureau.features.spec import feature_set_hash
from openbureau.scores import registry
from openbureau.scores.reasons import feature_reasons
from openbureau.scores.train import _frame
from openbureau.store.models import Score

logger = logging.getLogger(__name__)

MAX_REASONS = 4
_DB_CHUNK = 5_000


def scores_schema() -> pa.Schema:
    fields: list[tuple[str, pa.DataType]] = [
        ("consumer_id", pa.string()),
        ("model_id", pa.int64()),
        ("score", pa.float64()),
        ("pd_bad", pa.float64()),
    ]
    for i in range(1, MAX_REASONS + 1):
        fields += [
            (f"reason_code_{i}", pa.string()),
            (f"reason_feature_{i}", pa.string()),
            (f"reason_points_{i}", pa.float64()),
        ]
    return pa.schema(fields)


@dataclass
class ScoreRun:
    as_of: AsOf
    model_id: int
    table: pa.Table
    version: int | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def scores(self) -> np.ndarray[Any, Any]:
        return np.asarray(self.table.column("score").to_numpy(), dtype=np.float64)


def score_table(model: Any, model_id: int, features: pa.Table) -> pa.Table:
    """Scores, probabilities of bad and reasons for a feature table (one row per consumer)."""
    from openbureau.scoring.reasons import reason_codes

    frame = _frame(features)
    score = np.asarray(model.predict_score(frame), dtype=np.float64)
    pd_bad = np.asarray(model.predict_proba(frame)[:, 1], dtype=np.float64)
    reasons = reason_codes(model, frame, max_reasons=MAX_REASONS, registry=feature_reasons())
    columns: dict[str, Any] = {
        "consumer_id": features.column("consumer_id"),
        "model_id": pa.array(np.full(len(score), model_id, dtype=np.int64)),
        "score": pa.array(score),
        "pd_bad": pa.array(pd_bad),
    }
    for i in range(MAX_REASONS):
        columns[f"reason_code_{i + 1}"] = pa.array(
            [r[i].code if len(r) > i else None for r in reasons], pa.string()
        )
        columns[f"reason_feature_{i + 1}"] = pa.array(
            [r[i].feature if len(r) > i else None for r in reasons], pa.string()
        )
        columns[f"reason_points_{i + 1}"] = pa.array(
            [r[i].points_lost if len(r) > i else None for r in reasons], pa.float64()
        )
    return pa.table(columns, schema=scores_schema())


def _reason_lists(table: pa.Table) -> list[list[dict[str, Any]]]:
    texts = feature_reasons()
    out: list[list[dict[str, Any]]] = [[] for _ in range(table.num_rows)]
    for i in range(1, MAX_REASONS + 1):
        codes = table.column(f"reason_code_{i}").to_pylist()
        feats = table.column(f"reason_feature_{i}").to_pylist()
        points = table.column(f"reason_points_{i}").to_pylist()
        for row, (c, f, p) in enumerate(zip(codes, feats, points, strict=True)):
            if c is not None:
                out[row].append(
                    {
                        "code": c,
                        "feature": f,
                        "text": texts.text(f, missing=False),
                        "points_lost": round(float(p), 4),
                    }
                )
    return out


def _chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(n, start + size)


def _upsert(ctx: Context, table: pa.Table, as_of: AsOf, model_id: int) -> int:
    """Keep each consumer's latest score in the database (a later as-of date wins)."""
    now = dt.datetime.now(dt.UTC)
    ids: Sequence[str] = table.column("consumer_id").to_pylist()
    scores = table.column("score").to_pylist()
    pds = table.column("pd_bad").to_pylist()
    reasons = _reason_lists(table)
    with ctx.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
        table = Score.__table__
        assert isinstance(table, Table)
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["consumer_id"],
            set_={
                "model_id": stmt.excluded.model_id,
                "as_of": stmt.excluded.as_of,
                "score": stmt.excluded.score,
                "pd_bad": stmt.excluded.pd_bad,
                "reasons": stmt.excluded.reasons,
                "scored_at": stmt.excluded.scored_at,
            },
            where=stmt.excluded.as_of >= table.c.as_of,
        )
        for a, b in _chunks(len(ids), _DB_CHUNK):
            conn.execute(
                stmt,
                [
                    {
                        "consumer_id": ids[i],
                        "model_id": model_id,
                        "as_of": as_of.date,
                        "score": scores[i],
                        "pd_bad": pds[i],
                        "reasons": reasons[i],
                        "scored_at": now,
                    }
                    for i in range(a, b)
                ],
            )
    return len(ids)


def score(ctx: Context, as_of: AsOf, *, engine: str = "duckdb") -> ScoreRun:
    """Score every consumer on file as of ``as_of`` with the approved model."""
    ctx.require_initialised()
    info = registry.approved(ctx)
    if info.feature_set != feature_set_hash():
        raise ModelRegistryError(
            f"model {info.id} was trained on other feature definitions ({info.feature_set}, "
            f"now {feature_set_hash()}): train and approve a model on the current features"
        )
    t0 = time.perf_counter()
    features = load_features(ctx, as_of, engine=engine)
    t1 = time.perf_counter()
    model = registry.load(ctx, info)
    table = score_table(model, info.id, features)
    t2 = time.perf_counter()
    version = lake.write_partition(
        ctx.lake,
        lake.SCORES,
        table,
        as_of.key,
        metadata={"openbureau.kind": "scores", "openbureau.model_id": str(info.id)},
    )
    _upsert(ctx, table, as_of, info.id)
    t3 = time.perf_counter()
    return ScoreRun(
        as_of=as_of,
        model_id=info.id,
        table=table,
        version=version,
        timings={
            "features_s": round(t1 - t0, 3),
            "score_s": round(t2 - t1, 3),
            "write_s": round(t3 - t2, 3),
        },
    )


def load_scores(ctx: Context, as_of: AsOf, model_id: int | None = None) -> pa.Table:
    """The scores of ``as_of`` from the lake (of one model when given)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    files = lake.partition_files(ctx.lake, lake.SCORES, as_of.key)
    schema = scores_schema()
    if not files:
        return schema.empty_table()
    table = pa.concat_tables([pq.read_table(f, columns=schema.names) for f in files])
    table = table.cast(schema)
    if model_id is not None:
        table = table.filter(pc.equal(table.column("model_id"), model_id))
    return table


__all__ = ["MAX_REASONS", "ScoreRun", "load_scores", "score", "score_table", "scores_schema"]
