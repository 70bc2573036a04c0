"""Lake tables of snapshots, features and scores: Delta tables partitioned by ``as_of``.

Each as-of date is one partition, written by one Delta commit that replaces it whole
(``overwrite`` with a predicate on ``as_of``), so re-running a job for a date is idempotent
and older versions stay readable by time travel. Readers never go through ``deltalake``'s
Arrow conversion: they ask it for the Parquet file list of a partition and let DuckDB or
Spark read the files.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyarrow as pa

from openbureau.errors import StoreError

logger = logging.getLogger(__name__)

SNAPSHOT_ACCOUNTS = "snapshot_accounts"
SNAPSHOT_ACCOUNT_MONTHS = "snapshot_account_months"
SNAPSHOT_LINKS = "snapshot_customer_links"
SNAPSHOT_INQUIRIES = "snapshot_inquiries"
FEATURES = "features"
SCORES = "scores"

SNAPSHOT_TABLES = (SNAPSHOT_ACCOUNTS, SNAPSHOT_ACCOUNT_MONTHS, SNAPSHOT_LINKS, SNAPSHOT_INQUIRIES)

ACCOUNTS_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("consumer_id", pa.string()),
        ("furnisher_id", pa.string()),
        ("furnisher_account_id", pa.string()),
        ("product", pa.string()),
        ("opened", pa.date32()),
        ("closed", pa.date32()),
        ("original_amount_minor", pa.int64()),
        ("term_months", pa.int64()),
        ("first_month", pa.date32()),
        ("last_month", pa.date32()),
    ]
)
ACCOUNT_MONTHS_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("consumer_id", pa.string()),
        ("month", pa.date32()),
        ("credit_limit_minor", pa.int64()),
        ("balance_minor", pa.int64()),
        ("amount_due_minor", pa.int64()),
        ("amount_paid_minor", pa.int64()),
        ("days_past_due", pa.int64()),
        ("status", pa.string()),
        ("known_month", pa.date32()),
    ]
)
LINKS_SCHEMA = pa.schema(
    [
        ("furnisher_id", pa.string()),
        ("customer_ref", pa.string()),
        ("consumer_id", pa.string()),
    ]
)
INQUIRIES_SCHEMA = pa.schema(
    [
        ("consumer_id", pa.string()),
        ("lender", pa.string()),
        ("purpose", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("kind", pa.string()),
    ]
)
# The columns of the payments lake table that features read (written by ingest).
PAYMENTS_COLUMNS = pa.schema(
    [
        ("furnisher_id", pa.string()),
        ("customer_ref", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("direction", pa.string()),
        ("amount_minor", pa.int64()),
        ("merchant_category", pa.string()),
        ("inflow_kind", pa.string()),
    ]
)
SCHEMAS: dict[str, pa.Schema] = {
    SNAPSHOT_ACCOUNTS: ACCOUNTS_SCHEMA,
    SNAPSHOT_ACCOUNT_MONTHS: ACCOUNT_MONTHS_SCHEMA,
    SNAPSHOT_LINKS: LINKS_SCHEMA,
    SNAPSHOT_INQUIRIES: INQUIRIES_SCHEMA,
}


def _uri(lake: Path, name: str) -> str:
    return str(lake / name)


def open_table(lake: Path, name: str) -> Any | None:
    """The Delta table ``name`` in the lake, or None if it was never written."""
    from deltalake import DeltaTable

    uri = _uri(lake, name)
    if not DeltaTable.is_deltatable(uri):
        return None
    return DeltaTable(uri)


def _files(table: Any, filters: list[tuple[str, str, str]]) -> list[str]:
    try:
        files: list[str] = table.file_uris(file_pruning_predicate=filters)
    except TypeError:  # deltalake < 1.6 names it partition_filters
        files = table.file_uris(partition_filters=filters)
    return files


def partition_files(lake: Path, name: str, as_of: str) -> list[str]:
    """The Parquet files of one as-of partition (empty if none)."""
    table = open_table(lake, name)
    if table is None:
        return []
    return _files(table, [("as_of", "=", as_of)])


def partitions(lake: Path, name: str) -> list[str]:
    """The as-of dates a table holds, in order."""
    table = open_table(lake, name)
    if table is None:
        return []
    seen: set[str] = set()
    for p in table.partitions():
        value = p.get("as_of")
        if value is not None:
            seen.add(str(value))
    return sorted(seen)


def version(lake: Path, name: str) -> int | None:
    table = open_table(lake, name)
    return None if table is None else int(table.version())


def write_partition(
    lake: Path,
    name: str,
    data: pa.Table,
    as_of: str,
    *,
    metadata: dict[str, str] | None = None,
    replace_on_new_schema: bool = False,
) -> int:
    """Replace the ``as_of`` partition of ``name`` with ``data`` in one commit; its version.

    With ``replace_on_new_schema``, data whose columns differ from the table's replaces the
    whole table (the other partitions were made by other definitions and are stale).
    """
    from deltalake import CommitProperties, write_deltalake

    lake.mkdir(parents=True, exist_ok=True)
    column = pa.array([as_of] * data.num_rows, pa.string())
    if "as_of" in data.column_names:
        data = data.drop_columns(["as_of"])
    data = data.append_column("as_of", column)
    props = CommitProperties(
        custom_metadata={"openbureau.as_of": as_of, "openbureau.table": name, **(metadata or {})}
    )
    existing = open_table(lake, name)
    new_schema = False
    if existing is not None and replace_on_new_schema:
        have = pa.schema(existing.schema().to_arrow())
        new_schema = [(f.name, str(f.type)) for f in have] != [
            (f.name, str(f.type)) for f in data.schema
        ]
    try:
        if new_schema:
            logger.info("lake table %s: new columns, replacing the whole table", name)
            write_deltalake(
                _uri(lake, name),
                data,
                mode="overwrite",
                schema_mode="overwrite",
                partition_by=["as_of"],
                commit_properties=props,
            )
        else:
            write_deltalake(
                _uri(lake, name),
                data,
                mode="overwrite",
                partition_by=["as_of"],
                predicate=f"as_of = '{as_of}'",
                commit_properties=props,
            )
    except Exception as e:  # deltalake raises its own and Arrow errors alike
        raise StoreError(
            f"could not write the {as_of} partition of lake table {name}: {e} (if the table's "
            f"columns changed with a new version, remove {lake / name} and recompute it)"
        ) from e
    written = version(lake, name)
    assert written is not None
    logger.info("lake table %s: partition %s written as version %d", name, as_of, written)
    return written


def commit_metadata(lake: Path, name: str, as_of: str) -> dict[str, str]:
    """The custom metadata of the latest commit that wrote ``as_of`` (empty if none)."""
    table = open_table(lake, name)
    if table is None:
        return {}
    for entry in table.history():
        meta = {str(k): str(v) for k, v in entry.items()}
        if meta.get("openbureau.as_of") == as_of:
            return meta
    return {}


__all__ = [
    "ACCOUNTS_SCHEMA",
    "ACCOUNT_MONTHS_SCHEMA",
    "FEATURES",
    "INQUIRIES_SCHEMA",
    "LINKS_SCHEMA",
    "PAYMENTS_COLUMNS",
    "SCHEMAS",
    "SCORES",
    "SNAPSHOT_ACCOUNTS",
    "SNAPSHOT_ACCOUNT_MONTHS",
    "SNAPSHOT_INQUIRIES",
    "SNAPSHOT_LINKS",
    "SNAPSHOT_TABLES",
    "commit_metadata",
    "open_table",
    "partition_files",
    "partitions",
    "version",
    "write_partition",
]
