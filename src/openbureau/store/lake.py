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

from openbureau.errors import StoreError

logger = logging.getLogger(__name__)

PAYMENTS = "payments"
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
) -> None:
    """Append a stream of rows as exactly one Delta commit tagged with ``batch_id``."""
    from deltalake import CommitProperties, Transaction, write_deltalake

    lake.mkdir(parents=True, exist_ok=True)
    props = CommitProperties(
        custom_metadata={"openbureau.batch_id": batch_id, **metadata},
        app_transactions=[Transaction(app_id=batch_app_id(batch_id), version=1)],
    )
    try:
        write_deltalake(
            table_uri(lake, name),
            data,
            mode="append",
            partition_by=["month"],
            commit_properties=props,
        )
    except Exception as e:  # deltalake raises its own and Arrow errors alike
        raise StoreError(f"could not append batch {batch_id} to the lake table {name}: {e}") from e


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
