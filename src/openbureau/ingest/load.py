"""Writing a validated batch of account records into the credit-file database, set-based.

Rows are bulk-loaded into a temporary stage table (PostgreSQL: ``COPY``; SQLite: one
``executemany``), then a handful of ``INSERT ... SELECT ... ON CONFLICT`` statements update
consumers, accounts, the month-by-month history, its revisions and the identity records —
all inside the caller's transaction, so the batch is written whole or not at all.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, text

from openbureau.keys import Keys

logger = logging.getLogger(__name__)

# Stage columns, in load order. ``nid_cipher`` is bytes on SQLite and hex text on PostgreSQL.
STAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("line", "BIGINT"),
    ("account_id", "VARCHAR(64)"),
    ("customer_ref", "VARCHAR(64)"),
    ("month", "DATE"),
    ("product", "VARCHAR(32)"),
    ("opened", "DATE"),
    ("closed", "DATE"),
    ("credit_limit_minor", "BIGINT"),
    ("original_amount_minor", "BIGINT"),
    ("term_months", "INTEGER"),
    ("balance_minor", "BIGINT"),
    ("amount_due_minor", "BIGINT"),
    ("amount_paid_minor", "BIGINT"),
    ("days_past_due", "INTEGER"),
    ("status", "VARCHAR(16)"),
    ("name", "VARCHAR(200)"),
    ("name_key", "VARCHAR(200)"),
    ("birth_date", "DATE"),
    ("phone", "VARCHAR(20)"),
    ("address", "VARCHAR(300)"),
    ("postcode", "VARCHAR(10)"),
    ("nid_state", "VARCHAR(8)"),
    ("nid_hmac", "VARCHAR(64)"),
    ("nid_cipher", "BYTEA"),
)
# SQLite's page cache during a merge. SQLite's sorter (GROUP BY) may hold as much again, so
# the whole SQLite heap is held to a soft limit a little above it: near the limit the cache
# recycles its pages and the sorter spills to disk instead of growing with the batch.
_SQLITE_CACHE_MB = 256
_SQLITE_HEAP_MB = 320
# Rows turned into Python values at a time for SQLite's executemany (see stage()).
_SQLITE_SLICE_ROWS = 8192
# Filled in the database while merging.
_STAGE_EXTRA = "consumer_id VARCHAR(32), account_pk BIGINT"
# The DuckDB SELECT (over the validated table) that feeds the stage; ``national_id`` is the
# normalised clear value, turned into HMAC + ciphertext in Python and then dropped.
STAGE_SELECT = (
    "_line AS line, account_id, customer_ref, reporting_month AS month, product, opened, "
    "closed, credit_limit AS credit_limit_minor, original_amount AS original_amount_minor, "
    "term_months, balance AS balance_minor, amount_due AS amount_due_minor, "
    "amount_paid AS amount_paid_minor, days_past_due, status, name, name_key, birth_date, "
    "phone, address, postcode, nid_state, national_id"
)
_VALUES = (
    "credit_limit_minor",
    "balance_minor",
    "amount_due_minor",
    "amount_paid_minor",
    "days_past_due",
    "status",
)


# Ciphertexts a sealer remembers by HMAC: a feeds tree then seals each person once instead of
# once per monthly file (AES-GCM was 9 % of the demo's ingest). Bounded: ~20 MB when full.
_SEALED_MAX = 100_000


class NationalIdSealer:
    """Keyed HMAC-SHA256 (hex) and AES-256-GCM ciphertext of normalised national ids.

    A ciphertext made once is reused for the same national id (looked up by its HMAC, never
    by the clear value): it tells no more than the HMAC stored beside it already does.
    """

    def __init__(self, keys: Keys) -> None:
        block = 64
        key = (
            keys.hmac_key if len(keys.hmac_key) <= block else hashlib.sha256(keys.hmac_key).digest()
        )
        key = key.ljust(block, b"\0")
        # Precomputed pads: HMAC per value is then two cheap hash copies (RFC 2104).
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
        self._aead = AESGCM(keys.data_key)
        self._sealed: dict[str, bytes] = {}

    def hmac_hex(self, value: str) -> str:
        inner = self._inner.copy()
        inner.update(value.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def seal(self, value: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, value.encode("utf-8"), b"national_id")

    def open(self, sealed: bytes) -> str:
        return self._aead.decrypt(sealed[:12], sealed[12:], b"national_id").decode("utf-8")

    def _sealed_once(self, mac: str, value: str) -> bytes:
        sealed = self._sealed.get(mac)
        if sealed is None:
            sealed = self.seal(value)
            if len(self._sealed) >= _SEALED_MAX:
                self._sealed.clear()
            self._sealed[mac] = sealed
        return sealed

    def column(self, nids: pa.Array) -> tuple[pa.Array, pa.Array]:
        """HMACs and ciphertexts of a column of national ids (once per distinct value)."""
        uniques = pc.unique(nids.drop_null()).to_pylist()
        macs = {v: self.hmac_hex(v) for v in uniques if v}
        seals = {v: self._sealed_once(mac, v) for v, mac in macs.items()}
        values = nids.to_pylist()
        mac_col = pa.array([macs.get(v) if v else None for v in values], pa.string())
        seal_col = pa.array([seals.get(v) if v else None for v in values], pa.binary())
        return mac_col, seal_col


@dataclass
class LoadCounts:
    staged: int = 0
    corrected: int = 0
    duplicates: int = 0
    consumers_created: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _same(a: str, b: str) -> str:
    # IS NOT DISTINCT FROM: NULL equals NULL (SQLite >= 3.39 and PostgreSQL).
    return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in _VALUES)


def _stage_batches(
    reader: pa.RecordBatchReader, sealer: NationalIdSealer, postgres: bool
) -> Iterator[pa.RecordBatch]:
    for batch in reader:
        nid = batch.column("national_id")
        macs, seals = sealer.column(nid)
        if postgres:  # COPY carries text: the ciphertext goes as hex, decoded in SQL
            seals = pa.array(
                [s.hex() if s is not None else None for s in seals.to_pylist()], pa.string()
            )
        cols = [batch.column(i) for i in range(batch.num_columns - 1)]
        names = [c for c, _ in STAGE_COLUMNS]
        yield pa.RecordBatch.from_arrays([*cols, macs, seals], names)


def stage(conn: Connection, reader: pa.RecordBatchReader, sealer: NationalIdSealer) -> int:
    """Create the temporary stage table and bulk-load the validated rows into it."""
    dialect = conn.dialect.name
    postgres = dialect == "postgresql"
    cols = (
        ", ".join(
            f"{c} {('TEXT' if postgres else 'BLOB') if t == 'BYTEA' else t}"
            for c, t in STAGE_COLUMNS
        )
        + ", "
        + _STAGE_EXTRA
    )
    if postgres:
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
        conn.execute(text(f"CREATE TEMP TABLE ob_stage ({cols}) ON COMMIT DROP"))
    else:
        # A bulk merge touches index pages all over: the default 2 MB page cache thrashes.
        conn.execute(text(f"PRAGMA cache_size = -{_SQLITE_CACHE_MB * 1024}"))
        # Process-wide in SQLite: the value it replaces is put back by release().
        conn.info.setdefault(
            "ob_soft_heap_limit", conn.exec_driver_sql("PRAGMA soft_heap_limit").scalar()
        )
        conn.exec_driver_sql(f"PRAGMA soft_heap_limit = {_SQLITE_HEAP_MB * 1024 * 1024}")
        conn.execute(text("DROP TABLE IF EXISTS temp.ob_stage"))
        conn.execute(text(f"CREATE TEMP TABLE ob_stage ({cols})"))
    raw: Any = conn.connection.driver_connection
    n = 0
    names = ", ".join(c for c, _ in STAGE_COLUMNS)
    if postgres:
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY ob_stage ({names}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            for batch in _stage_batches(reader, sealer, postgres=True):
                buf = io.BytesIO()
                pacsv.write_csv(batch, buf, pacsv.WriteOptions(include_header=False))
                copy.write(buf.getbuffer())
                n += batch.num_rows
        conn.execute(text("ANALYZE ob_stage"))
    else:
        marks = ", ".join("?" for _ in STAGE_COLUMNS)
        cur = raw.cursor()
        for batch in _stage_batches(reader, sealer, postgres=False):
            # Python objects cost ~50 bytes a value: a whole 131k-row batch of 24 columns as
            # lists is ~200 MB at once. A slice at a time keeps that to a few MB.
            for start in range(0, batch.num_rows, _SQLITE_SLICE_ROWS):
                part = batch.slice(start, _SQLITE_SLICE_ROWS)
                pylists = [
                    (col.cast(pa.string()) if pa.types.is_date(col.type) else col).to_pylist()
                    for col in part.columns
                ]
                cur.executemany(
                    f"INSERT INTO temp.ob_stage ({names}) VALUES ({marks})",  # noqa: S608
                    zip(*pylists, strict=True),
                )
            n += batch.num_rows
        cur.close()
    return n


_ACCOUNT_SET = (
    "product = s.product, opened = s.opened, closed = s.closed,"
    " credit_limit_minor = s.credit_limit_minor, original_amount_minor = s.original_amount_minor,"
    " term_months = s.term_months, last_month = s.month, balance_minor = s.balance_minor,"
    " amount_due_minor = s.amount_due_minor, amount_paid_minor = s.amount_paid_minor,"
    " days_past_due = s.days_past_due, status = s.status, updated_at = :now"
)
_IDENTITY_FIELDS = (
    "customer_ref",
    "name",
    "name_key",
    "birth_date",
    "phone",
    "address",
    "postcode",
    "nid_state",
)


def apply(
    conn: Connection,
    *,
    furnisher_id: str,
    batch_id: str,
    now: Any,
    one_row_per_account: bool = False,
) -> LoadCounts:
    """Merge the stage into the credit file. Returns what changed.

    Each table gets an ``UPDATE ... FROM`` for the rows it already holds and a plain
    ``INSERT ... SELECT`` for the new ones: cheaper than a per-row upsert on both databases.
    """
    pg = conn.dialect.name == "postgresql"
    p = {"f": furnisher_id, "b": batch_id, "now": now}
    counts = LoadCounts()
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        t = time.perf_counter()
        counts.timings[step] = round(counts.timings.get(step, 0.0) + t - clock, 3)
        clock = t

    def run(sql: str) -> Any:
        t = time.perf_counter()
        result = conn.execute(text(sql), p)
        logger.debug("%.3fs %s", time.perf_counter() - t, " ".join(sql.split())[:90])
        return result

    st = "ob_stage" if pg else "temp.ob_stage"

    def pg_rebuild(consumer: str, account: str, join: str) -> None:
        # PostgreSQL: rewriting the temporary stage in one CREATE TABLE AS is far cheaper than
        # an UPDATE of every row (which leaves a dead copy of each behind).
        base = ", ".join(f"s.{c}" for c, _ in STAGE_COLUMNS)
        run(
            f"CREATE TEMP TABLE ob_stage_next ON COMMIT DROP AS SELECT {base}, "  # noqa: S608
            f"{consumer} AS consumer_id, {account} AS account_pk FROM ob_stage s {join}"
        )
        run("DROP TABLE ob_stage")
        run("ALTER TABLE ob_stage_next RENAME TO ob_stage")
        run("ANALYZE ob_stage")

    def cipher(col: str) -> str:
        return f"decode({col}, 'hex')" if pg else col

    new_id = (
        "'C' || substr(md5(gen_random_uuid()::text), 1, 16)"
        if pg
        else "'C' || lower(hex(randomblob(8)))"
    )
    # 1. consumers: one per new valid national id. A random id can (very rarely) collide:
    #    ON CONFLICT skips that one and the loop gives it another id.
    for _ in range(8):
        r = run(
            "INSERT INTO consumers (id, national_id_hmac, national_id_cipher, status, created_at) "  # noqa: S608
            f"SELECT {new_id}, h, {cipher('c')}, 'active', :now FROM ("
            f"  SELECT nid_hmac AS h, min(nid_cipher) AS c FROM {st} WHERE nid_state = 'valid'"
            "  GROUP BY nid_hmac) s "
            "WHERE NOT EXISTS (SELECT 1 FROM consumers k WHERE k.national_id_hmac = s.h) "
            "ON CONFLICT DO NOTHING"
        )
        counts.consumers_created += max(r.rowcount, 0)
        if pg:
            pg_rebuild(
                "coalesce(s.consumer_id, k.id)",
                "s.account_pk",
                "LEFT JOIN consumers k ON s.nid_state = 'valid'"
                " AND k.national_id_hmac = s.nid_hmac",
            )
        else:  # SQLite: a correlated lookup per row beats its UPDATE ... FROM join
            run(
                f"UPDATE {st} SET consumer_id = (SELECT k.id FROM consumers k WHERE"  # noqa: S608
                f" k.national_id_hmac = {st}.nid_hmac) WHERE consumer_id IS NULL"
                " AND nid_state = 'valid'"
            )
        left = run(
            f"SELECT count(*) FROM {st} WHERE nid_state = 'valid' AND consumer_id IS NULL"  # noqa: S608
        ).scalar_one()
        if not left:
            break
    lap("consumers_s")
    # 2. accounts: the current state, from each account's latest month in this batch.
    src = (
        st
        if one_row_per_account
        else (
            f"(SELECT DISTINCT ON (account_id) * FROM {st} ORDER BY account_id, month DESC)"  # noqa: S608
            if pg
            else f"(SELECT *, max(month) AS _m FROM {st} GROUP BY account_id)"  # noqa: S608
        )
    )
    run(
        f"UPDATE accounts SET {_ACCOUNT_SET}, "  # noqa: S608
        "consumer_id = coalesce(s.consumer_id, accounts.consumer_id) "
        f"FROM {src} s WHERE accounts.furnisher_id = :f "
        "AND accounts.furnisher_account_id = s.account_id AND s.month >= accounts.last_month"
    )
    run(
        "INSERT INTO accounts (furnisher_id, furnisher_account_id, consumer_id, product, opened,"  # noqa: S608
        " closed, currency, credit_limit_minor, original_amount_minor, term_months, last_month,"
        " balance_minor, amount_due_minor, amount_paid_minor, days_past_due, status, updated_at) "
        "SELECT CAST(:f AS VARCHAR(64)), s.account_id, s.consumer_id, s.product, s.opened,"
        " s.closed, 'CNY',"
        " s.credit_limit_minor, s.original_amount_minor, s.term_months, s.month, s.balance_minor,"
        " s.amount_due_minor, s.amount_paid_minor, s.days_past_due, s.status, :now "
        # Accounts held already were updated above: the unique key skips them, in the same
        # index probe that the insert makes anyway (a NOT EXISTS would probe twice).
        f"FROM {src} s WHERE true ON CONFLICT (furnisher_id, furnisher_account_id) DO NOTHING"
    )
    if pg:
        pg_rebuild(
            "s.consumer_id",
            "a.id",
            f"JOIN accounts a ON a.furnisher_id = {_literal(furnisher_id)}"
            " AND a.furnisher_account_id = s.account_id",
        )
    else:
        run(
            f"UPDATE {st} SET account_pk = (SELECT a.id FROM accounts a WHERE"  # noqa: S608
            f" a.furnisher_id = :f AND a.furnisher_account_id = {st}.account_id)"
        )
    lap("accounts_s")
    # 3. months already held: identical (a duplicate) or different (a correction).
    joined = f"{st} s JOIN account_months m ON m.account_id = s.account_pk AND m.month = s.month"
    same = _same("m", "s")
    row = run(
        f"SELECT coalesce(sum(CASE WHEN {same} THEN 1 ELSE 0 END), 0), "  # noqa: S608
        f"coalesce(sum(CASE WHEN {same} THEN 0 ELSE 1 END), 0) FROM {joined}"
    ).one()
    counts.duplicates, counts.corrected = int(row[0]), int(row[1])
    lap("compare_s")
    if counts.corrected:
        run(
            "INSERT INTO account_month_revisions (account_id, month, credit_limit_minor,"  # noqa: S608
            " balance_minor, amount_due_minor, amount_paid_minor, days_past_due, status,"
            " batch_id, superseded_by, superseded_at) "
            "SELECT m.account_id, m.month, m.credit_limit_minor, m.balance_minor,"
            " m.amount_due_minor, m.amount_paid_minor, m.days_past_due, m.status, m.batch_id,"
            f" :b, :now FROM {joined} WHERE NOT ({same})"
        )
        run(
            "UPDATE account_months SET credit_limit_minor = s.credit_limit_minor,"  # noqa: S608
            " balance_minor = s.balance_minor, amount_due_minor = s.amount_due_minor,"
            " amount_paid_minor = s.amount_paid_minor, days_past_due = s.days_past_due,"
            f" status = s.status, batch_id = :b FROM {st} s "
            "WHERE account_months.account_id = s.account_pk AND account_months.month = s.month "
            f"AND NOT ({_same('account_months', 's')})"
        )
        lap("revisions_s")
    # 4. the month-by-month history: new months.
    held = counts.duplicates + counts.corrected
    run(
        "INSERT INTO account_months (account_id, month, credit_limit_minor, balance_minor,"  # noqa: S608
        " amount_due_minor, amount_paid_minor, days_past_due, status, batch_id) "
        "SELECT s.account_pk, s.month, s.credit_limit_minor, s.balance_minor, s.amount_due_minor,"
        f" s.amount_paid_minor, s.days_past_due, s.status, :b FROM {st} s"
        + (" WHERE true ON CONFLICT (account_id, month) DO NOTHING" if held else "")
    )
    lap("account_months_s")
    # 5. identity records: one per furnisher account, as of its latest month.
    changed = " OR ".join(f"r.{c} IS DISTINCT FROM s.{c}" for c in _IDENTITY_FIELDS)
    changed += (
        " OR r.national_id_hmac IS DISTINCT FROM s.nid_hmac"
        " OR (s.consumer_id IS NOT NULL AND r.consumer_id IS NULL)"
    )
    run(
        "UPDATE identity_records SET customer_ref = s.customer_ref, name = s.name,"  # noqa: S608
        " name_key = s.name_key, birth_date = s.birth_date, phone = s.phone,"
        " address = s.address, postcode = s.postcode, nid_state = s.nid_state,"
        " national_id_cipher = CASE WHEN s.nid_hmac IS NOT DISTINCT FROM"
        f" identity_records.national_id_hmac THEN identity_records.national_id_cipher"
        f" ELSE {cipher('s.nid_cipher')} END,"
        " national_id_hmac = s.nid_hmac,"
        " consumer_id = coalesce(s.consumer_id, identity_records.consumer_id),"
        " needs_resolution = (s.consumer_id IS NULL AND identity_records.consumer_id IS NULL),"
        " last_month = s.month, batch_id = :b, updated_at = :now "
        f"FROM {src} s WHERE identity_records.furnisher_id = :f"
        " AND identity_records.furnisher_account_id = s.account_id"
        " AND s.month >= identity_records.last_month AND EXISTS (SELECT 1 FROM identity_records r"
        f" WHERE r.id = identity_records.id AND ({changed}))"
    )
    run(
        "INSERT INTO identity_records (furnisher_id, furnisher_account_id, customer_ref, name,"  # noqa: S608
        " name_key, birth_date, phone, address, postcode, national_id_hmac, national_id_cipher,"
        " nid_state, consumer_id, needs_resolution, last_month, batch_id, updated_at) "
        "SELECT CAST(:f AS VARCHAR(64)), s.account_id, s.customer_ref, s.name, s.name_key,"
        " s.birth_date, s.phone,"
        f" s.address, s.postcode, s.nid_hmac, {cipher('s.nid_cipher')}, s.nid_state,"
        " s.consumer_id, s.consumer_id IS NULL, s.month, :b, :now "
        f"FROM {src} s WHERE true ON CONFLICT (furnisher_id, furnisher_account_id) DO NOTHING"
    )
    lap("identity_s")
    if not pg:
        run("DROP TABLE temp.ob_stage")
    return counts


def release(conn: Connection) -> None:
    """Give back the merge's memory once its transaction is over (SQLite: the page cache and
    the process's soft heap limit).

    The cache size set by :func:`stage` belongs to the connection, which goes back to the pool
    and would keep up to ``_SQLITE_CACHE_MB`` of pages for as long as it lives.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size = -2000")  # SQLite's default, 2 MB
        before = conn.info.pop("ob_soft_heap_limit", None)
        if before is not None:
            conn.exec_driver_sql(f"PRAGMA soft_heap_limit = {int(before)}")


__all__ = ["STAGE_SELECT", "LoadCounts", "NationalIdSealer", "apply", "release", "stage"]
