"""Point-in-time snapshots of the credit file, as it was known on an as-of date.

*Known on D* is bitemporal. Every account-month value in the credit file came in one
furnisher batch; a batch's **reporting month** is the later of the month its file is named
for and the latest month it carries (cached in ``batch_months``). A value is known from the
end of its batch's reporting month — so a history loaded in bulk today is still seen month by
month, and a correction of an earlier month sent in a later file is known only from that later
file's month. The value of an account-month as of ``D`` is the version (the current row, or
one of the superseded values in ``account_month_revisions``) whose batch's reporting month is
the latest one not after the cut-off month of ``D``; later corrections are excluded.

Identity is taken *as of now*: each account belongs to the consumer the identity step links
it to today (``accounts.consumer_id``, else its identity record's, following merge
redirects), because a better link is a fix of the past too, not news. A payments customer
(``furnisher_id``, ``customer_ref``) belongs to the consumer holding most of that customer's
accounts (ties: the smaller id). Account attributes that the ingest keeps only in their latest
state (product, opening date, amount lent, term) are static; the closing date is masked when
it falls after the cut-off month.

Items a dispute took out of the score (``disputes.effect`` ``removed`` or ``unverified``:
a whole account, or one account-month) are left out of every snapshot taken after the
dispute closed, whatever its as-of date — like a better identity link, a deletion is a fix
of the past. Snapshots already in the lake are not rewritten.

The same extraction and the same point-in-time SQL serve the batch snapshot (all consumers,
written to the lake) and the online path (one consumer's rows, in memory).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, inspect, select, text

from openbureau.context import Context
from openbureau.engine.sql import DuckDBRunner
from openbureau.features import lake
from openbureau.features.asof import AsOf
from openbureau.store.models import Batch

logger = logging.getLogger(__name__)

VERSIONS_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("month", pa.date32()),
        ("credit_limit_minor", pa.int64()),
        ("balance_minor", pa.int64()),
        ("amount_due_minor", pa.int64()),
        ("amount_paid_minor", pa.int64()),
        ("days_past_due", pa.int64()),
        ("status", pa.string()),
        ("batch_id", pa.string()),
        ("is_current", pa.int64()),
        ("seq", pa.int64()),
    ]
)
RAW_ACCOUNTS_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("furnisher_id", pa.string()),
        ("furnisher_account_id", pa.string()),
        ("customer_ref", pa.string()),
        ("product", pa.string()),
        ("opened", pa.date32()),
        ("closed", pa.date32()),
        ("original_amount_minor", pa.int64()),
        ("term_months", pa.int64()),
        ("consumer_raw", pa.string()),
    ]
)
BATCH_MONTHS_SCHEMA = pa.schema([("batch_id", pa.string()), ("reporting_month", pa.date32())])
# Account-months out of the score; a null month: the whole account.
SUPPRESSED_SCHEMA = pa.schema([("account_id", pa.int64()), ("month", pa.date32())])
_SUPPRESSED_SQL = "SELECT account_id, month FROM disputes WHERE effect IN ('removed', 'unverified')"
REDIRECTS_SCHEMA = pa.schema([("from_id", pa.string()), ("to_id", pa.string())])

_VERSION_COLUMNS = (
    "account_id, month, credit_limit_minor, balance_minor, amount_due_minor, "
    "amount_paid_minor, days_past_due, status, batch_id"
)
# Above this many uncached batches one grouped scan beats one indexed look-up per batch.
_BATCH_SCAN_THRESHOLD = 8


@dataclass
class RawCreditFile:
    """What the database holds, before the point-in-time selection."""

    versions: pa.Table
    batch_months: pa.Table
    accounts: pa.Table
    redirects: pa.Table
    inquiries: pa.Table
    suppressed: pa.Table = field(default_factory=SUPPRESSED_SCHEMA.empty_table)


@dataclass
class Snapshot:
    """The credit file as known on ``as_of``: four Arrow tables (see :mod:`.lake`)."""

    as_of: AsOf
    accounts: pa.Table
    account_months: pa.Table
    links: pa.Table
    inquiries: pa.Table

    def tables(self) -> dict[str, pa.Table]:
        return {
            lake.SNAPSHOT_ACCOUNTS: self.accounts,
            lake.SNAPSHOT_ACCOUNT_MONTHS: self.account_months,
            lake.SNAPSHOT_LINKS: self.links,
            lake.SNAPSHOT_INQUIRIES: self.inquiries,
        }


@dataclass
class SnapshotResult:
    as_of: AsOf
    rows: dict[str, int]
    versions: dict[str, int]
    consumers: int
    timings: dict[str, float] = field(default_factory=dict)


# --- reading the database fast ------------------------------------------------------------


def _pg_params(sql: str) -> str:
    return re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)


def fetch_arrow(conn: Connection, sql: str, params: dict[str, Any], schema: pa.Schema) -> pa.Table:
    """Rows of ``sql`` as Arrow in ``schema``: COPY on PostgreSQL, the raw cursor on SQLite.

    Dates come back as ``YYYY-MM-DD`` text from both and are cast in Arrow, so nothing is
    converted row by row in Python. ``sql`` uses ``:name`` parameters.
    """
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        values = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in params.items()}
        buf = io.BytesIO()
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY ({_pg_params(sql)}) TO STDOUT (FORMAT csv)", values) as copy,
        ):
            for chunk in copy:
                buf.write(chunk)
        if buf.tell() == 0:
            return schema.empty_table()
        buf.seek(0)
        read = pacsv.ReadOptions(column_names=schema.names)
        convert = pacsv.ConvertOptions(
            column_types={f.name: f.type for f in schema},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,  # "" is an empty string, a bare empty is NULL
        )
        return pacsv.read_csv(buf, read_options=read, convert_options=convert)
    values = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in params.items()}
    cur = raw.cursor()
    try:
        cur.execute(sql, values)
        rows = cur.fetchall()
    finally:
        cur.close()
    if not rows:
        return schema.empty_table()
    columns = list(zip(*rows, strict=True))
    arrays = []
    for f, col in zip(schema, columns, strict=True):
        if pa.types.is_date(f.type):
            arrays.append(pa.array(col, pa.string()).cast(f.type))
        else:
            arrays.append(pa.array(col, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    names = [f"{prefix}{i}" for i in range(len(values))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))


# --- batch reporting months ---------------------------------------------------------------


def _receipt_month(receipt: Any) -> dt.date | None:
    month = (receipt or {}).get("reporting_month") if isinstance(receipt, dict) else None
    if not month:
        return None
    try:
        return dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        return None


def _max_months(conn: Connection, batch_ids: Sequence[str]) -> dict[str, dt.date]:
    """The latest month each batch carries (current rows and superseded ones)."""
    found: dict[str, dt.date] = {}

    def keep(rows: Iterable[Any]) -> None:
        for batch_id, month in rows:
            if month is None:
                continue
            value = month if isinstance(month, dt.date) else dt.date.fromisoformat(str(month))
            if batch_id not in found or value > found[batch_id]:
                found[batch_id] = value

    if len(batch_ids) > _BATCH_SCAN_THRESHOLD:
        for table in ("account_months", "account_month_revisions"):
            keep(conn.execute(text(f"SELECT batch_id, max(month) FROM {table} GROUP BY batch_id")))  # noqa: S608
        return {b: m for b, m in found.items() if b in set(batch_ids)}
    for b in batch_ids:
        for table in ("account_months", "account_month_revisions"):
            keep(
                conn.execute(
                    text(
                        f"SELECT batch_id, max(month) FROM {table} WHERE batch_id = :b "  # noqa: S608
                        "GROUP BY batch_id"
                    ),
                    {"b": b},
                )
            )
    return found


def batch_months(ctx: Context, batch_ids: Sequence[str] | None = None) -> pa.Table:
    """Reporting month of account batches (all, or ``batch_ids``), computing uncached ones.

    A batch's reporting month never changes once it is accepted (the months it carries are
    fixed; superseded values move to the revisions table with their batch id), so it is
    computed once and kept in ``batch_months``.
    """
    now = dt.datetime.now(dt.UTC)
    with ctx.engine.begin() as conn:
        cached = {
            str(b): (m if isinstance(m, dt.date) else dt.date.fromisoformat(str(m)))
            for b, m in conn.execute(text("SELECT batch_id, reporting_month FROM batch_months"))
        }
        q = select(Batch.id, Batch.receipt).where(
            Batch.kind == "accounts", Batch.status == "accepted"
        )
        if batch_ids is not None:
            q = q.where(Batch.id.in_(list(batch_ids)))
        receipts = {str(b): r for b, r in conn.execute(q)}
        missing = sorted(b for b in receipts if b not in cached)
        if missing:
            carried = _max_months(conn, missing)
            for b in missing:
                candidates = [m for m in (_receipt_month(receipts[b]), carried.get(b)) if m]
                if not candidates:
                    continue  # a batch that carries no account-month (nothing to date)
                cached[b] = max(candidates)
                conn.execute(
                    text(
                        "INSERT INTO batch_months (batch_id, reporting_month, computed_at) "
                        "VALUES (:b, :m, :t) ON CONFLICT (batch_id) DO NOTHING"
                    ),
                    {"b": b, "m": cached[b].isoformat(), "t": now},
                )
            logger.info("reporting months computed for %d batches", len(missing))
    wanted = cached if batch_ids is None else {b: cached[b] for b in batch_ids if b in cached}
    return pa.table(
        {
            "batch_id": pa.array(list(wanted), pa.string()),
            "reporting_month": pa.array(list(wanted.values()), pa.date32()),
        },
        schema=BATCH_MONTHS_SCHEMA,
    )


# --- extraction -----------------------------------------------------------------------------


def _redirects(conn: Connection) -> dict[str, str]:
    if not inspect(conn).has_table("consumer_redirects"):
        return {}
    pairs = {
        str(a): str(b)
        for a, b in conn.execute(text("SELECT from_id, to_id FROM consumer_redirects"))
    }
    resolved: dict[str, str] = {}
    for start in pairs:
        seen = {start}
        target = pairs[start]
        while target in pairs and target not in seen:  # follow chains; a cycle stops
            seen.add(target)
            target = pairs[target]
        resolved[start] = target
    return resolved


_ACCOUNTS_SQL = (
    "SELECT a.id, a.furnisher_id, a.furnisher_account_id, r.customer_ref, a.product, a.opened,"
    " a.closed, a.original_amount_minor, a.term_months, coalesce(a.consumer_id, r.consumer_id)"
    " FROM accounts a LEFT JOIN identity_records r ON r.furnisher_id = a.furnisher_id"
    " AND r.furnisher_account_id = a.furnisher_account_id"
)


def extract(ctx: Context, as_of: AsOf, *, consumer_id: str | None = None) -> RawCreditFile:
    """Read what the point-in-time selection needs, for everyone or for one consumer."""
    cut = as_of.cutoff_month
    with ctx.engine.connect() as conn:
        redirects = _redirects(conn)
        has_inquiries = inspect(conn).has_table("inquiries")
        has_disputes = inspect(conn).has_table("disputes")
        suppressed = SUPPRESSED_SCHEMA.empty_table()
        if consumer_id is None:
            accounts = fetch_arrow(conn, _ACCOUNTS_SQL, {}, RAW_ACCOUNTS_SCHEMA)
            versions = fetch_arrow(
                conn,
                f"SELECT {_VERSION_COLUMNS}, 1, 0 FROM account_months WHERE month <= :cut "  # noqa: S608
                f"UNION ALL SELECT {_VERSION_COLUMNS}, 0, id FROM account_month_revisions "
                "WHERE month <= :cut",
                {"cut": cut},
                VERSIONS_SCHEMA,
            )
            inq_filter, inq_params = "", {}
            if has_disputes:
                suppressed = fetch_arrow(conn, _SUPPRESSED_SQL, {}, SUPPRESSED_SCHEMA)
        else:
            ids = sorted({consumer_id, *(f for f, t in redirects.items() if t == consumer_id)})
            marks, params = _in_list("c", ids)
            own = fetch_arrow(
                conn,
                f"{_ACCOUNTS_SQL} WHERE a.consumer_id IN ({marks}) OR (a.consumer_id IS NULL "
                f"AND r.consumer_id IN ({marks}))",
                params,
                RAW_ACCOUNTS_SCHEMA,
            )
            # Every account sharing one of this consumer's payment customer numbers: which
            # consumer a customer number belongs to is decided among all of them.
            pairs = sorted(
                {
                    (f, c)
                    for f, c in zip(
                        own.column("furnisher_id").to_pylist(),
                        own.column("customer_ref").to_pylist(),
                        strict=True,
                    )
                    if c is not None
                }
            )
            others = [own]
            for f, c in pairs:
                others.append(
                    fetch_arrow(
                        conn,
                        f"{_ACCOUNTS_SQL} WHERE r.furnisher_id = :f AND r.customer_ref = :c",
                        {"f": f, "c": c},
                        RAW_ACCOUNTS_SCHEMA,
                    )
                )
            accounts = pa.concat_tables(others)
            own_ids = sorted(set(own.column("account_id").to_pylist()))
            if own_ids:
                amarks, aparams = _in_list("a", own_ids)
                versions = fetch_arrow(
                    conn,
                    f"SELECT {_VERSION_COLUMNS}, 1, 0 FROM account_months WHERE month <= :cut "  # noqa: S608
                    f"AND account_id IN ({amarks}) UNION ALL SELECT {_VERSION_COLUMNS}, 0, id "
                    f"FROM account_month_revisions WHERE month <= :cut AND account_id IN "
                    f"({amarks})",
                    {"cut": cut, **aparams},
                    VERSIONS_SCHEMA,
                )
                if has_disputes:
                    suppressed = fetch_arrow(
                        conn,
                        f"{_SUPPRESSED_SQL} AND account_id IN ({amarks})",
                        aparams,
                        SUPPRESSED_SCHEMA,
                    )
            else:
                versions = VERSIONS_SCHEMA.empty_table()
            inq_filter, inq_params = f" WHERE consumer_id IN ({marks})", params
        if has_inquiries:
            rows = conn.execute(
                text(
                    "SELECT consumer_id, lender, purpose, created_at, kind FROM inquiries"  # noqa: S608
                    + inq_filter
                ),
                inq_params,
            ).all()
            inquiries = _inquiries_table(rows)
        else:
            inquiries = lake.INQUIRIES_SCHEMA.empty_table()
    batches = sorted(set(versions.column("batch_id").to_pylist()))
    months = batch_months(ctx, None if consumer_id is None else batches)
    return RawCreditFile(
        versions=versions,
        batch_months=months,
        accounts=accounts,
        redirects=pa.table(
            {
                "from_id": pa.array(list(redirects), pa.string()),
                "to_id": pa.array(list(redirects.values()), pa.string()),
            },
            schema=REDIRECTS_SCHEMA,
        ),
        inquiries=inquiries,
        suppressed=suppressed,
    )


def _inquiries_table(rows: Sequence[Any]) -> pa.Table:
    created = []
    for r in rows:
        value = r[3]
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)  # stored in UTC
        created.append(value)
    return pa.table(
        {
            "consumer_id": pa.array([r[0] for r in rows], pa.string()),
            "lender": pa.array([r[1] for r in rows], pa.string()),
            "purpose": pa.array([r[2] for r in rows], pa.string()),
            "created_at": pa.array(created, pa.timestamp("us", tz="UTC")),
            "kind": pa.array([r[4] for r in rows], pa.string()),
        },
        schema=lake.INQUIRIES_SCHEMA,
    )


# --- the point-in-time selection ----------------------------------------------------------


def point_in_time_sql(as_of: AsOf) -> dict[str, str]:
    """The SQL (DuckDB) that turns a :class:`RawCreditFile` into the four snapshot tables."""
    cut = f"DATE '{as_of.cutoff_month.isoformat()}'"
    cut_end = f"DATE '{as_of.cutoff_end.isoformat()}'"
    day = f"DATE '{as_of.date.isoformat()}'"
    account_months = (
        "WITH acct AS (SELECT a.account_id, coalesce(r.to_id, a.consumer_raw) AS consumer_id "  # noqa: S608
        "FROM (SELECT DISTINCT account_id, consumer_raw FROM raw_accounts) a "
        "LEFT JOIN redirects r ON r.from_id = a.consumer_raw), "
        "known AS (SELECT v.*, b.reporting_month AS known_month, row_number() OVER ("
        "PARTITION BY v.account_id, v.month ORDER BY b.reporting_month DESC, "
        "v.is_current DESC, v.seq DESC) AS rn FROM versions v JOIN batch_months b "
        f"ON b.batch_id = v.batch_id WHERE b.reporting_month <= {cut} AND v.month <= {cut}) "
        "SELECT k.account_id, a.consumer_id, k.month, k.credit_limit_minor, k.balance_minor, "
        "k.amount_due_minor, k.amount_paid_minor, k.days_past_due, k.status, k.known_month "
        "FROM known k JOIN acct a ON a.account_id = k.account_id WHERE k.rn = 1 "
        # Two equality anti-joins (whole accounts, single months): hash joins at any size.
        "AND k.account_id NOT IN (SELECT account_id FROM suppressed WHERE month IS NULL) "
        "AND NOT EXISTS (SELECT 1 FROM suppressed s WHERE s.account_id = k.account_id "
        "AND s.month = k.month)"
    )
    accounts = (
        "WITH acct AS (SELECT a.*, coalesce(r.to_id, a.consumer_raw) AS consumer_id "  # noqa: S608
        "FROM (SELECT DISTINCT * FROM raw_accounts) a "
        "LEFT JOIN redirects r ON r.from_id = a.consumer_raw), "
        "span AS (SELECT account_id, min(month) AS first_month, max(month) AS last_month "
        "FROM snap_account_months GROUP BY account_id) "
        "SELECT a.account_id, a.consumer_id, a.furnisher_id, a.furnisher_account_id, "
        f"a.product, a.opened, CASE WHEN a.closed <= {cut_end} THEN a.closed END AS closed, "
        "a.original_amount_minor, a.term_months, s.first_month, s.last_month "
        "FROM acct a JOIN span s ON s.account_id = a.account_id"
    )
    links = (
        "WITH acct AS (SELECT a.furnisher_id, a.customer_ref, "
        "coalesce(r.to_id, a.consumer_raw) AS consumer_id FROM (SELECT DISTINCT * FROM "
        "raw_accounts) a LEFT JOIN redirects r ON r.from_id = a.consumer_raw), "
        "counted AS (SELECT furnisher_id, customer_ref, consumer_id, count(*) AS n FROM acct "
        "WHERE customer_ref IS NOT NULL AND consumer_id IS NOT NULL "
        "GROUP BY furnisher_id, customer_ref, consumer_id), "
        "ranked AS (SELECT *, row_number() OVER (PARTITION BY furnisher_id, customer_ref "
        "ORDER BY n DESC, consumer_id) AS rn FROM counted) "
        "SELECT furnisher_id, customer_ref, consumer_id FROM ranked WHERE rn = 1"
    )
    inquiries = (
        "SELECT coalesce(r.to_id, i.consumer_id) AS consumer_id, i.lender, i.purpose, "  # noqa: S608
        "i.created_at, i.kind FROM raw_inquiries i LEFT JOIN redirects r "
        f"ON r.from_id = i.consumer_id WHERE CAST(i.created_at AS DATE) <= {day}"
    )
    return {
        lake.SNAPSHOT_ACCOUNT_MONTHS: account_months,
        lake.SNAPSHOT_ACCOUNTS: accounts,
        lake.SNAPSHOT_LINKS: links,
        lake.SNAPSHOT_INQUIRIES: inquiries,
    }


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_arrays([table.column(f.name).cast(f.type) for f in schema], schema=schema)


def point_in_time(
    raw: RawCreditFile,
    as_of: AsOf,
    *,
    runner: DuckDBRunner | None = None,
    consumer_id: str | None = None,
) -> Snapshot:
    """Select what was known on ``as_of``; restricted to one consumer when given."""
    own = runner is None
    run = runner or DuckDBRunner()
    try:
        run.register_arrow("versions", raw.versions)
        run.register_arrow("batch_months", raw.batch_months)
        run.register_arrow("raw_accounts", raw.accounts)
        run.register_arrow("redirects", raw.redirects)
        run.register_arrow("raw_inquiries", raw.inquiries)
        run.register_arrow("suppressed", raw.suppressed)
        sql = point_in_time_sql(as_of)
        months = run.query(sql[lake.SNAPSHOT_ACCOUNT_MONTHS])
        run.register_arrow("snap_account_months", months)
        out = {
            lake.SNAPSHOT_ACCOUNT_MONTHS: months,
            lake.SNAPSHOT_ACCOUNTS: run.query(sql[lake.SNAPSHOT_ACCOUNTS]),
            lake.SNAPSHOT_LINKS: run.query(sql[lake.SNAPSHOT_LINKS]),
            lake.SNAPSHOT_INQUIRIES: run.query(sql[lake.SNAPSHOT_INQUIRIES]),
        }
    finally:
        if own:
            run.close()
    tables = {name: _conform(t, lake.SCHEMAS[name]) for name, t in out.items()}
    if consumer_id is not None:
        import pyarrow.compute as pc

        tables = {
            name: t.filter(pc.equal(t.column("consumer_id"), consumer_id))
            for name, t in tables.items()
        }
    return Snapshot(
        as_of=as_of,
        accounts=tables[lake.SNAPSHOT_ACCOUNTS],
        account_months=tables[lake.SNAPSHOT_ACCOUNT_MONTHS],
        links=tables[lake.SNAPSHOT_LINKS],
        inquiries=tables[lake.SNAPSHOT_INQUIRIES],
    )


def take_snapshot(ctx: Context, as_of: AsOf) -> SnapshotResult:
    """Snapshot the credit file as known on ``as_of`` into the lake (one partition per table).

    The accounts table is written last: its partition marks a complete snapshot.
    """
    return take_snapshots(ctx, [as_of])[0]


def take_snapshots(ctx: Context, dates: Sequence[AsOf]) -> list[SnapshotResult]:
    """Several snapshots from one read of the database (the latest date's cut-off)."""
    ctx.require_initialised()
    if not dates:
        return []
    clock = time.perf_counter()
    raw = extract(ctx, max(dates, key=lambda d: d.cutoff_index))
    read_s = round(time.perf_counter() - clock, 3)
    results = []
    for as_of in sorted(set(dates)):
        result = _write_snapshot(ctx, raw, as_of)
        result.timings = {"extract_s": read_s, **result.timings}
        results.append(result)
    return results


def _write_snapshot(ctx: Context, raw: RawCreditFile, as_of: AsOf) -> SnapshotResult:
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(step: str) -> None:
        nonlocal clock
        t = time.perf_counter()
        timings[step] = round(t - clock, 3)
        clock = t

    runner = DuckDBRunner(
        memory_mb=ctx.settings.features_memory_mb,
        threads=ctx.settings.features_threads,
        tmp=ctx.settings.home / "tmp" / "features",
    )
    try:
        snap = point_in_time(raw, as_of, runner=runner)
    finally:
        runner.close()
    lap("select_s")
    versions: dict[str, int] = {}
    meta = {"openbureau.kind": "snapshot", "openbureau.cutoff_month": f"{as_of.cutoff_month:%Y-%m}"}
    order = (
        lake.SNAPSHOT_ACCOUNT_MONTHS,
        lake.SNAPSHOT_LINKS,
        lake.SNAPSHOT_INQUIRIES,
        lake.SNAPSHOT_ACCOUNTS,
    )
    tables = snap.tables()
    for name in order:
        versions[name] = lake.write_partition(
            ctx.lake, name, tables[name], as_of.key, metadata=meta
        )
    lap("write_s")
    consumers = len({c for c in snap.accounts.column("consumer_id").to_pylist() if c is not None})
    return SnapshotResult(
        as_of=as_of,
        rows={name: t.num_rows for name, t in tables.items()},
        versions=versions,
        consumers=consumers,
        timings=timings,
    )


def has_snapshot(ctx: Context, as_of: AsOf) -> bool:
    return bool(lake.partition_files(ctx.lake, lake.SNAPSHOT_ACCOUNTS, as_of.key))


def latest_known_month(ctx: Context) -> dt.date | None:
    """The latest reporting month of any accepted account batch (None if there is none)."""
    months = batch_months(ctx).column("reporting_month").to_pylist()
    return max(months) if months else None


__all__ = [
    "SUPPRESSED_SCHEMA",
    "RawCreditFile",
    "Snapshot",
    "SnapshotResult",
    "batch_months",
    "extract",
    "fetch_arrow",
    "has_snapshot",
    "latest_known_month",
    "point_in_time",
    "point_in_time_sql",
    "take_snapshot",
    "take_snapshots",
]
