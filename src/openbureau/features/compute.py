"""Running the feature query: in batch on DuckDB or Spark, and online for one consumer.

Batch: the inputs are the snapshot's lake partitions and the payments lake table's monthly
partitions of the 12 months up to the cut-off, handed to the engine as Parquet file lists
(``deltalake`` resolves them). The result is written to the ``features`` lake table, one
partition per as-of date, tagged with the hash of the feature definitions.

Online: :func:`features_for_consumer` reads one consumer's rows from the credit-file
database, applies the same point-in-time selection as the snapshot, takes their payment
transactions from the lake, and runs the *same* query in an in-memory DuckDB.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from openbureau.context import Context
from openbureau.engine.sql import DuckDBRunner, SQLRunner, open_runner
from openbureau.errors import FeatureError, SnapshotMissingError
from openbureau.features import lake
from openbureau.features.asof import AsOf, month_start
from openbureau.features.pipeline import feature_sql
from openbureau.features.snapshot import (
    extract,
    has_snapshot,
    point_in_time,
    take_snapshot,
)
from openbureau.features.spec import FEATURES, feature_names, feature_set_hash
from openbureau.store import lake as store_lake

logger = logging.getLogger(__name__)

PAYMENT_WINDOW_MONTHS = 12

# Input name (as the feature SQL reads it) -> snapshot lake table.
SNAPSHOT_INPUTS = {
    "accounts": lake.SNAPSHOT_ACCOUNTS,
    "account_months": lake.SNAPSHOT_ACCOUNT_MONTHS,
    "customer_links": lake.SNAPSHOT_LINKS,
    "inquiries": lake.SNAPSHOT_INQUIRIES,
}


def features_schema() -> pa.Schema:
    return pa.schema([("consumer_id", pa.string()), *((f.name, pa.float64()) for f in FEATURES)])


@dataclass
class FeatureResult:
    as_of: AsOf
    engine: str
    table: pa.Table
    feature_set: str
    version: int | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def consumers(self) -> int:
        return int(self.table.num_rows)


def payment_months(as_of: AsOf) -> list[str]:
    """The ``YYYY-MM`` partitions of the payments table that the features read."""
    last = as_of.cutoff_index
    return [f"{month_start(i):%Y-%m}" for i in range(last - PAYMENT_WINDOW_MONTHS + 1, last + 1)]


def payment_files(ctx: Context, as_of: AsOf) -> list[str]:
    files: list[str] = []
    for month in payment_months(as_of):
        files.extend(store_lake.month_files(ctx.lake, month))
    return files


def _conform(table: pa.Table) -> pa.Table:
    schema = features_schema()
    return pa.Table.from_arrays([table.column(f.name).cast(f.type) for f in schema], schema=schema)


def register_lake_inputs(runner: SQLRunner, ctx: Context, as_of: AsOf) -> None:
    """Register the snapshot partitions and the payment files of ``as_of`` with ``runner``."""
    if not has_snapshot(ctx, as_of):
        raise SnapshotMissingError(
            f"no snapshot as of {as_of}: run 'openbureau snapshot --as-of {as_of}'"
        )
    for name, table in SNAPSHOT_INPUTS.items():
        runner.register_parquet(
            name, lake.partition_files(ctx.lake, table, as_of.key), lake.SCHEMAS[table]
        )
    runner.register_parquet("payments", payment_files(ctx, as_of), lake.PAYMENTS_COLUMNS)


def run_features(runner: SQLRunner, as_of: AsOf) -> pa.Table:
    """The feature query for ``as_of`` on inputs already registered with ``runner``."""
    return _conform(runner.query(feature_sql(as_of)))


def _runner(ctx: Context, engine: str) -> SQLRunner:
    return open_runner(
        engine,
        memory_mb=ctx.settings.features_memory_mb,
        threads=ctx.settings.features_threads,
        tmp=ctx.settings.home / "tmp" / "features",
    )


def compute_features(
    ctx: Context,
    as_of: AsOf,
    *,
    engine: str = "duckdb",
    write: bool = True,
    runner: SQLRunner | None = None,
) -> FeatureResult:
    """Compute every consumer's features as of ``as_of`` (snapshotting first if needed)."""
    ctx.require_initialised()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if not has_snapshot(ctx, as_of):
        logger.info("no snapshot as of %s yet: taking it", as_of)
        take_snapshot(ctx, as_of)
        timings["snapshot_s"] = round(time.perf_counter() - t0, 3)
    t1 = time.perf_counter()
    own = runner is None
    run = runner or _runner(ctx, engine)
    try:
        register_lake_inputs(run, ctx, as_of)
        table = run_features(run, as_of)
    finally:
        if own:
            run.close()
    timings["compute_s"] = round(time.perf_counter() - t1, 3)
    result = FeatureResult(
        as_of=as_of, engine=run.dialect, table=table, feature_set=feature_set_hash()
    )
    if write:
        t2 = time.perf_counter()
        meta = {
            "openbureau.kind": "features",
            "openbureau.feature_set": result.feature_set,
            "openbureau.engine": run.dialect,
            "openbureau.snapshot_version": str(lake.version(ctx.lake, lake.SNAPSHOT_ACCOUNTS)),
            "openbureau.payments_version": str(
                lake.version(ctx.lake, store_lake.PAYMENTS) if payment_files(ctx, as_of) else ""
            ),
        }
        result.version = lake.write_partition(
            ctx.lake, lake.FEATURES, table, as_of.key, metadata=meta, replace_on_new_schema=True
        )
        timings["write_s"] = round(time.perf_counter() - t2, 3)
    result.timings = timings
    return result


def _read_parquet(files: list[str], schema: pa.Schema) -> pa.Table:
    import pyarrow.parquet as pq

    if not files:
        return schema.empty_table()
    tables = [pq.read_table(f, columns=schema.names) for f in files]
    return pa.concat_tables(tables).cast(schema)


def load_features(
    ctx: Context, as_of: AsOf, *, engine: str = "duckdb", compute: bool = True
) -> pa.Table:
    """The feature table of ``as_of`` from the lake, computed first if it is missing or was
    computed by other feature definitions. Ordered by consumer id."""
    files = lake.partition_files(ctx.lake, lake.FEATURES, as_of.key)
    current = feature_set_hash()
    if files:
        meta = lake.commit_metadata(ctx.lake, lake.FEATURES, as_of.key)
        if meta.get("openbureau.feature_set") == current:
            table = _read_parquet(files, features_schema())
            return table.sort_by("consumer_id")
        logger.info("features as of %s were computed by other definitions: recomputing", as_of)
    if not compute:
        raise SnapshotMissingError(
            f"no features as of {as_of}: run 'openbureau features --as-of {as_of}'"
        )
    return compute_features(ctx, as_of, engine=engine).table


def features_for_consumer(
    ctx: Context, consumer_id: str, as_of: AsOf | str
) -> dict[str, float | None] | None:
    """One consumer's features as of a date, from the credit-file database and the lake.

    The same point-in-time selection and the same feature query as the batch job, run in an
    in-memory DuckDB over this consumer's rows. None when the consumer has no account on file
    on that date.
    """
    when = as_of if isinstance(as_of, AsOf) else AsOf.parse(as_of)
    raw = extract(ctx, when, consumer_id=consumer_id)
    runner = DuckDBRunner()
    try:
        snap = point_in_time(raw, when, runner=runner, consumer_id=consumer_id)
        runner.register_arrow("accounts", snap.accounts)
        runner.register_arrow("account_months", snap.account_months)
        runner.register_arrow("customer_links", snap.links)
        runner.register_arrow("inquiries", snap.inquiries)
        files = payment_files(ctx, when)
        if files and snap.links.num_rows:
            runner.register_arrow("_own_links", snap.links)
            cols = ", ".join(f"p.{f.name}" for f in lake.PAYMENTS_COLUMNS)
            listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            payments = runner.query(
                f"SELECT {cols} FROM read_parquet([{listing}]) p SEMI JOIN _own_links l "  # noqa: S608
                "ON l.furnisher_id = p.furnisher_id AND l.customer_ref = p.customer_ref"
            )
        else:
            payments = lake.PAYMENTS_COLUMNS.empty_table()
        runner.register_arrow("payments", payments.cast(lake.PAYMENTS_COLUMNS))
        table = run_features(runner, when)
    finally:
        runner.close()
    if table.num_rows == 0:
        return None
    if table.num_rows > 1:
        raise FeatureError(f"online features gave {table.num_rows} rows for one consumer")
    row = table.to_pylist()[0]
    out: dict[str, float | None] = {}
    for name in feature_names():
        value: Any = row[name]
        out[name] = None if value is None else float(value)
    return out


__all__ = [
    "PAYMENT_WINDOW_MONTHS",
    "FeatureResult",
    "compute_features",
    "feature_sql",
    "features_for_consumer",
    "features_schema",
    "load_features",
    "payment_files",
    "payment_months",
    "register_lake_inputs",
    "run_features",
]
