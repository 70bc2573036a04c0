"""Compiles the feature definitions into one ``WITH`` query for an as-of date (Splink-style).

The steps become common table expressions in order; the final ``SELECT`` joins the
per-consumer steps to the population and casts every feature to DOUBLE, ordered by consumer
id. The query is DuckDB SQL; :func:`openbureau.engine.sql.translate` turns it into Spark SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from openbureau.features.asof import AsOf
from openbureau.features.spec import FEATURES, JOINS, STEPS, Feature, Step


def _bind(sql: str, as_of: AsOf) -> str:
    return (
        sql.replace("{C}", str(as_of.cutoff_index))
        .replace("{CUT}", as_of.cutoff_month.isoformat())
        .replace("{D}", as_of.date.isoformat())
    )


def feature_sql(
    as_of: AsOf,
    *,
    steps: Sequence[Step] = STEPS,
    features: Sequence[Feature] = FEATURES,
    joins: Sequence[str] = JOINS,
) -> str:
    """The whole feature query for ``as_of``: one row per consumer, ordered by id."""
    ctes = ",\n".join(f"{s.name} AS (\n  {s.sql}\n)" for s in steps)
    columns = ",\n  ".join(f"CAST({f.expr} AS DOUBLE) AS {f.name}" for f in features)
    joined = "\n".join(
        f"LEFT JOIN {name} ON {name}.consumer_id = pop.consumer_id" for name in joins
    )
    sql = (
        f"WITH {ctes}\nSELECT pop.consumer_id,\n  {columns}\nFROM pop\n{joined}\n"
        "ORDER BY pop.consumer_id"
    )
    return _bind(sql, as_of)


__all__ = ["feature_sql"]
