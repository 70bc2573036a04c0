"""The lake: Delta tables (``deltalake``, no JVM) under ``<home>/lake``.

``payments`` holds furnishers' payment transactions, partitioned by month. Every ingest
batch is one Delta commit that carries the batch id as an *application transaction*
(``openbureau-batch`` + id, version 1) and in its commit metadata, so whether a batch reached
the lake can be asked of the Delta log itself — that is how an interrupted ingest is completed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from openbureau.errors import StoreError

logger = logging.getLogger(__name__)

PAYMENTS = "payments"
TARGET_FILE_ROWS = 2_000_000  # rows per Parquet file (one open file per partition)
PAYMENTS_SCHEMA = pa.schema(
    [
        ("furnisher_id", pa.string()),
        ("transaction_id", pa.string()),
        ("customer_ref", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("direction", pa.string()),
        ("amount_minor", pa.int64()),
        ("merchant_category", pa.string()),
        ("channel", pa.string()),
        ("inflow_kind", pa.string()),
        ("batch_id", pa.string()),
        ("month", pa.string()),  # YYYY-MM, the partition column
    ]
)


def table_uri(lake: Path, name: str) -> str:
    return str(lake / name)


def batch_app_id(batch_id: str) -> str:
    return f"openbureau-batch-{batch_id}"


def _table(lake: Path, name: str) -> Any | None:
    from deltalake import DeltaTable

    uri = table_uri(lake, name)
    if not DeltaTable.is_deltatable(uri):
        return None
    return DeltaTable(uri)


def batch_committed(lake: Path, batch_id: str, name: str = PAYMENTS) -> bool:
    """Whether the Delta log holds the commit of ``batch_id``."""
    table = _table(lake, name)
    if table is None:
        return False
    return table.transaction_version(batch_app_id(batch_id)) is not None


def append_batch(
    lake: Path,
    data: pa.RecordBatchReader,
    *,
    batch_id: str,
    metadata: dict[str, str],
    name: str = PAYMENTS,
) -> int:
    """Append a stream of rows as exactly one Delta commit tagged with ``batch_id``.

    The Parquet files are written here, one at a time and rolled over every
    ``TARGET_FILE_ROWS`` rows, so memory does not grow with the batch; they become visible
    only through the single commit at the end. Returns the rows written.
    """
    from deltalake import CommitProperties, DeltaTable, Transaction
    from deltalake.transaction import AddAction, RemoveAction

    schema = data.schema
    uri = table_uri(lake, name)
    try:
        if not DeltaTable.is_deltatable(uri):
            Path(uri).mkdir(parents=True, exist_ok=True)
            DeltaTable.create(uri, schema, mode="ignore", partition_by=["month"])
        table = DeltaTable(uri)
        actions: list[AddAction | RemoveAction] = []
        writers: dict[str, _PartFile] = {}
        rows = 0
        for batch in data:
            if batch.num_rows == 0:
                continue
            rows += batch.num_rows
            months = pc.unique(batch.column("month")).to_pylist()
            for month in months:
                part = (
                    batch
                    if len(months) == 1
                    else batch.filter(pc.equal(batch.column("month"), month))
                )
                w = writers.get(month)
                if w is None:
                    w = writers[month] = _PartFile(Path(uri), month, batch_id, schema)
                w.write(part.drop_columns(["month"]))
                if w.rows >= TARGET_FILE_ROWS:
                    actions.append(w.close())
                    del writers[month]
        actions.extend(w.close() for w in writers.values())
        if not actions:
            return 0
        props = CommitProperties(
            custom_metadata={"openbureau.batch_id": batch_id, **metadata},
            app_transactions=[Transaction(app_id=batch_app_id(batch_id), version=1)],
        )
        table.create_write_transaction(
            actions, mode="append", schema=schema, partition_by=["month"], commit_properties=props
        )
    except Exception as e:  # deltalake raises its own and Arrow errors alike
        raise StoreError(f"could not append batch {batch_id} to the lake table {name}: {e}") from e
    return rows


class _PartFile:
    """One Parquet data file of one partition, written incrementally."""

    def __init__(self, root: Path, month: str, batch_id: str, schema: pa.Schema) -> None:
        import uuid

        import pyarrow.parquet as pq

        self.relative = f"month={month}/part-{batch_id}-{uuid.uuid4().hex}.parquet"
        self.path = root / self.relative
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.month = month
        self.rows = 0
        self.writer = pq.ParquetWriter(
            self.path, schema.remove(schema.get_field_index("month")), compression="snappy"
        )

    def write(self, batch: pa.RecordBatch) -> None:
        self.writer.write_batch(batch)
        self.rows += batch.num_rows

    def close(self) -> Any:
        import json
        import time

        from deltalake.transaction import AddAction

        self.writer.close()
        stats = json.dumps({"numRecords": self.rows})
        return AddAction(
            self.relative,
            self.path.stat().st_size,
            {"month": self.month},
            int(time.time() * 1000),
            True,
            stats,
        )


def month_files(lake: Path, month: str, name: str = PAYMENTS) -> list[str]:
    """The Parquet files of one month's partition, as the Delta log lists them now."""
    table = _table(lake, name)
    if table is None:
        return []
    pruning = [("month", "=", month)]
    try:
        files: list[str] = table.file_uris(file_pruning_predicate=pruning)
    except TypeError:  # deltalake < 1.6 names it partition_filters
        files = table.file_uris(partition_filters=pruning)
    return files


def payments_files(lake: Path) -> list[str]:
    """Every Parquet file of the payments table (for DuckDB: ``read_parquet(files)``)."""
    table = _table(lake, PAYMENTS)
    if table is None:
        return []
    files: list[str] = table.file_uris()
    return files


__all__ = [
    "PAYMENTS",
    "PAYMENTS_SCHEMA",
    "append_batch",
    "batch_app_id",
    "batch_committed",
    "month_files",
    "payments_files",
    "table_uri",
]
