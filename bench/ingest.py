"""Ingest throughput and peak memory against the raw speed of the same storage.

    python bench/ingest.py --rows 1000000 10000000 [--only sqlite,postgres,lake]

Per row count it writes one accounts CSV and one payments Parquet file (a small vectorised
generator below), then runs each case in a fresh subprocess so that peak RSS is the case's
own (``VmHWM``, see Memory below):

* ``raw``    — a bare pyarrow read of the file plus a bare bulk write of the same rows:
  SQLite ``executemany`` into a plain table, PostgreSQL ``COPY`` into a plain table, lake
  ``write_deltalake`` partitioned by month.
* ``floor``  — (accounts only) the same rows bulk-written straight into the credit file's own
  tables (consumers, accounts, account_months, identity_records, with their indexes and
  foreign keys): no validation, no lookups, no merge, ids given. No correct ingest of new
  accounts can write less, so ``ingest ÷ floor`` says how close the ingest is to the storage.
* ``bare``   — (accounts only) the floor's rows into copies of those four tables with no
  index, key or constraint: what writing the rows alone costs. ``raw ÷ bare`` is the most an
  ingest that keeps accounts, their months and their identity can reach against ``raw``.
* ``ingest`` — ``openbureau.ingest.ingest_file`` end to end, validation on, on a fresh
  database / lake.

Memory: ``MiB`` is the peak resident set of the case's own process (``VmHWM`` in
``/proc/self/status``, the high-water mark of the address space made at ``exec``; not
``ru_maxrss``, which Linux carries across ``fork`` + ``exec`` from the parent, so every case
showed at least the parent's size after writing the files): Python,
DuckDB, Arrow and, for SQLite, its page cache. The PostgreSQL server's memory is not in it.
For the ingest, ``peak in`` says whether the peak came in phase A (read + validate in DuckDB)
or phase B (the write), from an RSS sample every 50 ms. Each row also shows the 1-minute
load average when its cases ran: the machine is shared, and seconds depend on it.

PostgreSQL: ``OPENBUREAU_BENCH_POSTGRES_URL`` (default: the local server, database
``test``); each case gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

POSTGRES = os.environ.get(
    "OPENBUREAU_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CHUNK = 500_000
MONTH = "2024-03"
_SURNAMES = np.array(["WANG", "LI", "ZHANG", "LIU", "CHEN", "YANG", "HUANG", "ZHAO", "WU", "ZHOU"])
_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)


# --- generator ----------------------------------------------------------------------------


def _national_ids(person: np.ndarray) -> np.ndarray:
    birth = np.datetime64("1950-01-01") + (person % 18_000).astype("timedelta64[D]")
    ymd = np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "")
    seq = np.char.zfill(((person // 18_000) % 1000).astype(str), 3)
    area = np.char.add("11", np.char.zfill((101 + person // 18_000_000).astype(str), 4))
    first17 = np.char.add(np.char.add(area, ymd), seq)
    digits = np.frombuffer(first17.astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17) - 48
    check = np.array(list("10X98765432"))[(digits.astype(np.int64) @ _WEIGHTS) % 11]
    return np.char.add(first17, check)


def _accounts_chunk(start: int, n: int, rng: np.random.Generator) -> pa.Table:
    i = np.arange(start, start + n)
    person = i // 2
    revolving = i % 3 != 0
    limit = rng.integers(10, 500, n) * 100
    balance = np.round(rng.random(n) * limit * 0.8, 2)
    due = np.round(balance * 0.1, 2)
    paid = np.where(rng.random(n) < 0.9, due, 0.0)
    dpd = np.where(paid < due, 35, 0)
    status = np.where(dpd >= 30, "dpd30", "current")
    nid = _national_ids(person)
    nid = np.where(rng.random(n) < 0.05, "", nid)  # some records carry no national id
    money = lambda a: pa.array(a).cast(pa.string())  # noqa: E731
    return pa.table(
        {
            "reporting_month": pa.array(np.full(n, MONTH)),
            "account_id": pa.array(np.char.add("A", i.astype(str))),
            "customer_ref": pa.array(np.char.add("C", person.astype(str))),
            "national_id": pa.array(nid),
            "name": pa.array(
                np.char.add(
                    np.char.add(_SURNAMES[person % 10], " Given"), (person % 9973).astype(str)
                )
            ),
            "birth_date": pa.array(
                np.datetime_as_string(
                    np.datetime64("1950-01-01") + (person % 18_000).astype("timedelta64[D]"),
                    unit="D",
                )
            ),
            "phone": pa.array(np.char.add("138", np.char.zfill((person % 10**8).astype(str), 8))),
            "address": pa.array(np.char.add("Road ", (person % 5000).astype(str))),
            "postcode": pa.array(np.char.zfill((100000 + person % 800000).astype(str), 6)),
            "product": pa.array(np.where(revolving, "credit_card", "instalment_loan")),
            "opened": pa.array(np.full(n, "2020-05-17")),
            "closed": pa.array(np.full(n, "")),
            "credit_limit": pc.if_else(pa.array(revolving), money(limit.astype(float)), ""),
            "original_amount": pc.if_else(pa.array(revolving), "", money(limit.astype(float))),
            "term_months": pa.array(np.where(revolving, "", "24")),
            "balance": money(balance),
            "amount_due": money(due),
            "amount_paid": money(paid),
            "days_past_due": pa.array(dpd),
            "status": pa.array(status),
        }
    )


def _payments_chunk(start: int, n: int, rng: np.random.Generator) -> pa.Table:
    i = np.arange(start, start + n)
    out = rng.random(n) < 0.8
    base = np.datetime64("2024-03-01T00:00:00", "us")
    ts = base + rng.integers(0, 31 * 86_400 * 10**6 - 1, n).astype("timedelta64[us]")
    amount = np.round(rng.random(n) * 500 + 1, 2)
    return pa.table(
        {
            "transaction_id": pa.array(np.char.add("T", i.astype(str))),
            "customer_ref": pa.array(np.char.add("C", (i // 40).astype(str))),
            "timestamp": pa.array(ts).cast(pa.timestamp("us", tz="UTC")),
            "direction": pa.array(np.where(out, "out", "in")),
            "amount": pa.array(amount).cast(pa.decimal128(18, 2)),
            "merchant_category": pa.array(np.where(out, "5411", None), pa.string()),
            "channel": pa.array(np.where(out, "app", "transfer")),
            "inflow_kind": pa.array(np.where(out, None, "salary"), pa.string()),
        }
    )


def generate(folder: Path, rows: int) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    acc = folder / f"{MONTH}.accounts.csv"
    pay = folder / f"{MONTH}.payments.parquet"
    rng = np.random.default_rng(rows)
    if not acc.exists():
        part = acc.with_suffix(".part")
        with pacsv.CSVWriter(part, _accounts_chunk(0, 1, rng).schema) as w:
            for start in range(0, rows, CHUNK):
                w.write_table(_accounts_chunk(start, min(CHUNK, rows - start), rng))
        part.rename(acc)
    if not pay.exists():
        part = pay.with_suffix(".part")
        with pq.ParquetWriter(part, _payments_chunk(0, 1, rng).schema) as w:
            for start in range(0, rows, CHUNK):
                w.write_table(_payments_chunk(start, min(CHUNK, rows - start), rng))
        part.rename(pay)
    return acc, pay


# --- cases (each runs in its own process) ---------------------------------------------------


def _fresh_postgres() -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"ob_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _read_csv(path: Path) -> pa.RecordBatchReader:
    return pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=4 << 20))


def case_raw_sqlite(path: Path, work: Path) -> tuple[int, float]:
    import sqlite3

    t = time.perf_counter()
    reader = _read_csv(path)
    con = sqlite3.connect(work / "raw.db")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    names = reader.schema.names
    con.execute(f"CREATE TABLE raw ({', '.join(names)})")
    sql = f"INSERT INTO raw VALUES ({', '.join('?' for _ in names)})"
    n = 0
    with con:
        for batch in reader:
            con.executemany(sql, zip(*(c.to_pylist() for c in batch.columns), strict=True))
            n += batch.num_rows
    con.close()
    return n, time.perf_counter() - t


def case_raw_postgres(path: Path, work: Path) -> tuple[int, float]:
    import psycopg
    from sqlalchemy.engine import make_url

    name, url = _fresh_postgres()
    try:
        u = make_url(url)
        t = time.perf_counter()
        reader = _read_csv(path)
        cols = ", ".join(f"{c} text" for c in reader.schema.names)
        n = 0
        with psycopg.connect(host=u.host, port=u.port, user=u.username, dbname=u.database) as con:
            con.execute(f"CREATE TABLE raw ({cols})")
            with con.cursor() as cur, cur.copy("COPY raw FROM STDIN WITH (FORMAT csv)") as copy:
                for batch in reader:
                    buf = io.BytesIO()
                    pacsv.write_csv(batch, buf, pacsv.WriteOptions(include_header=False))
                    copy.write(buf.getbuffer())
                    n += batch.num_rows
        return n, time.perf_counter() - t
    finally:
        _drop_postgres(name)


def case_raw_lake(path: Path, work: Path) -> tuple[int, float]:
    from deltalake import write_deltalake

    t = time.perf_counter()
    # pre_buffer=False: pyarrow's read-ahead cache otherwise keeps every row group read
    # until the file is closed (the ingest reads the same way).
    pf = pq.ParquetFile(path, pre_buffer=False)
    counter = {"n": 0}

    def batches() -> Any:
        for b in pf.iter_batches(batch_size=131_072):
            counter["n"] += b.num_rows
            month = pc.strftime(b.column("timestamp"), "%Y-%m")
            yield pa.RecordBatch.from_arrays([*b.columns, month], [*b.schema.names, "month"])

    schema = pf.schema_arrow.append(pa.field("month", pa.string()))
    write_deltalake(
        str(work / "lake" / "payments"),
        pa.RecordBatchReader.from_batches(schema, batches()),
        mode="append",
        partition_by=["month"],
    )
    return counter["n"], time.perf_counter() - t


# --- the floor: the same rows bulk-loaded straight into the credit file's own tables ---------


def _floor_tables(
    batch: pa.RecordBatch, first_id: int, batch_id: str, seen: set[str]
) -> dict[str, pa.Table]:
    """One batch as rows of consumers, accounts, account_months and identity_records.

    What any ingest must at least write for new accounts, with no validation, no lookups and
    no merge: ids are given here, national ids are stood in for by a plain SHA-256 (the real
    path uses a keyed HMAC and AES-GCM).
    """
    import hashlib

    n = batch.num_rows
    col = {name: batch.column(name) for name in batch.schema.names}
    ids = pa.array(np.arange(first_id, first_id + n, dtype=np.int64))
    digests = [hashlib.sha256(v.encode()).hexdigest() for v in col["national_id"].to_pylist()]
    hmac = pa.array(digests)
    consumer = pa.array(["C" + d[:16] for d in digests])
    cipher = pa.array([d.encode()[:46] for d in digests], pa.binary())

    def minor(name: str) -> pa.Array:
        return pc.cast(pc.round(pc.multiply(pc.cast(col[name], pa.float64()), 100.0)), pa.int64())

    month = pc.cast(
        pc.strptime(
            pc.binary_join_element_wise(col["reporting_month"], "-01", ""),
            format="%Y-%m-%d",
            unit="s",
        ),
        pa.date32(),
    )
    const = {
        "furnisher_id": pa.array(["bank"] * n),
        "batch_id": pa.array([batch_id] * n),
        "now": pa.array([dt.datetime(2026, 1, 1)] * n, pa.timestamp("us")),
    }
    opened = pc.cast(col["opened"], pa.date32())
    closed = pc.cast(col["closed"], pa.date32())
    birth = pc.cast(col["birth_date"], pa.date32())
    money = {
        k: minor(k)
        for k in ("credit_limit", "original_amount", "balance", "amount_due", "amount_paid")
    }
    status = pc.cast(col["status"], pa.string())
    dpd = pc.cast(col["days_past_due"], pa.int32())
    fresh = []  # one consumer per national id not seen before
    for k, d in enumerate(digests):
        if d not in seen:
            seen.add(d)
            fresh.append(k)
    pick = pa.array(fresh, pa.int64())
    return {
        "consumers": pa.table(
            {
                "id": consumer.take(pick),
                "national_id_hmac": hmac.take(pick),
                "national_id_cipher": cipher.take(pick),
                "status": pa.array(["active"] * len(fresh)),
                "created_at": const["now"].take(pick),
            }
        ),
        "accounts": pa.table(
            {
                "id": ids,
                "furnisher_id": const["furnisher_id"],
                "furnisher_account_id": pc.cast(col["account_id"], pa.string()),
                "consumer_id": consumer,
                "product": pc.cast(col["product"], pa.string()),
                "opened": opened,
                "closed": closed,
                "currency": pa.array(["CNY"] * n),
                "credit_limit_minor": money["credit_limit"],
                "original_amount_minor": money["original_amount"],
                "term_months": pc.cast(col["term_months"], pa.int32()),
                "last_month": month,
                "balance_minor": money["balance"],
                "amount_due_minor": money["amount_due"],
                "amount_paid_minor": money["amount_paid"],
                "days_past_due": dpd,
                "status": status,
                "updated_at": const["now"],
            }
        ),
        "account_months": pa.table(
            {
                "account_id": ids,
                "month": month,
                "credit_limit_minor": money["credit_limit"],
                "balance_minor": money["balance"],
                "amount_due_minor": money["amount_due"],
                "amount_paid_minor": money["amount_paid"],
                "days_past_due": dpd,
                "status": status,
                "batch_id": const["batch_id"],
            }
        ),
        "identity_records": pa.table(
            {
                "id": ids,
                "furnisher_id": const["furnisher_id"],
                "furnisher_account_id": pc.cast(col["account_id"], pa.string()),
                "customer_ref": pc.cast(col["customer_ref"], pa.string()),
                "name": pc.cast(col["name"], pa.string()),
                "name_key": pc.cast(col["name"], pa.string()),
                "birth_date": birth,
                "phone": pc.cast(col["phone"], pa.string()),
                "address": pc.cast(col["address"], pa.string()),
                "postcode": pc.cast(col["postcode"], pa.string()),
                "national_id_hmac": hmac,
                "national_id_cipher": cipher,
                "nid_state": pa.array(["valid"] * n),
                "consumer_id": consumer,
                "needs_resolution": pa.array([False] * n),
                "last_month": month,
                "batch_id": const["batch_id"],
                "updated_at": const["now"],
            }
        ),
    }


def _floor(path: Path, work: Path, database_url: str, *, bare: bool = False) -> tuple[int, float]:
    """The floor; ``bare`` writes into column-for-column copies of the four tables that have
    no index, key or constraint at all: what the rows alone cost the storage."""
    from sqlalchemy import insert, text

    from openbureau.config import Settings
    from openbureau.context import Context
    from openbureau.ingest import add_furnisher
    from openbureau.store.models import Batch

    ctx = Context(Settings(home=work / "home", database_url=database_url))
    ctx.init()
    add_furnisher(ctx, "bank", "bank")
    batch_id = str(uuid.uuid4())
    with ctx.engine.begin() as conn:
        conn.execute(
            insert(Batch).values(
                id=batch_id,
                furnisher_id="bank",
                kind="accounts",
                file_name=path.name,
                file_sha256="0" * 64,
                status="accepted",
            )
        )
    postgres = ctx.engine.dialect.name == "postgresql"
    suffix = "_bare" if bare else ""
    if bare:
        with ctx.engine.begin() as conn:
            for name in ("consumers", "accounts", "account_months", "identity_records"):
                copy = (
                    f"CREATE TABLE {name}_bare (LIKE {name})"  # columns and NOT NULL only
                    if postgres
                    else f"CREATE TABLE {name}_bare AS SELECT * FROM {name} WHERE 0"
                )
                conn.execute(text(copy))
    t = time.perf_counter()
    reader = _read_csv(path)
    n = 0
    seen: set[str] = set()
    with ctx.engine.begin() as conn:
        raw: Any = conn.connection.driver_connection
        cur = raw.cursor()
        for batch in reader:
            for base, table in _floor_tables(batch, n + 1, batch_id, seen).items():
                name = base + suffix
                cols = ", ".join(table.column_names)
                if postgres:
                    if "national_id_cipher" in table.column_names:  # COPY csv carries hex
                        i = table.column_names.index("national_id_cipher")
                        hexed = pa.array(["\\x" + b.hex() for b in table.column(i).to_pylist()])
                        table = table.set_column(i, "national_id_cipher", hexed)
                    buf = io.BytesIO()
                    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
                    with cur.copy(f"COPY {name} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
                        copy.write(buf.getbuffer())
                else:
                    lists = [
                        c.cast(pa.string()).to_pylist()
                        if pa.types.is_date(c.type) or pa.types.is_timestamp(c.type)
                        else c.to_pylist()
                        for c in table.columns
                    ]
                    marks = ", ".join("?" for _ in table.column_names)
                    cur.executemany(
                        f"INSERT INTO {name} ({cols}) VALUES ({marks})", zip(*lists, strict=True)
                    )
            n += batch.num_rows
        cur.close()
    seconds = time.perf_counter() - t
    ctx.close()
    return n, seconds


def case_floor_sqlite(path: Path, work: Path) -> tuple[int, float]:
    return _floor(path, work, f"sqlite:///{work / 'openbureau.db'}")


def case_floor_postgres(path: Path, work: Path) -> tuple[int, float]:
    name, url = _fresh_postgres()
    try:
        return _floor(path, work, url)
    finally:
        _drop_postgres(name)


def case_bare_sqlite(path: Path, work: Path) -> tuple[int, float]:
    return _floor(path, work, f"sqlite:///{work / 'openbureau.db'}", bare=True)


def case_bare_postgres(path: Path, work: Path) -> tuple[int, float]:
    name, url = _fresh_postgres()
    try:
        return _floor(path, work, url, bare=True)
    finally:
        _drop_postgres(name)


def _ingest(path: Path, work: Path, database_url: str, furnisher: str) -> tuple[int, float]:
    from openbureau.config import Settings
    from openbureau.context import Context
    from openbureau.ingest import add_furnisher, ingest_file

    ctx = Context(
        Settings(home=work / "home", database_url=database_url, ingest_max_reject_share=1.0)
    )
    ctx.init()
    add_furnisher(ctx, furnisher, furnisher)
    t = time.perf_counter()
    r = ingest_file(ctx, path, furnisher)
    seconds = time.perf_counter() - t
    ctx.close()
    assert r.status == "accepted", r.message
    _PEAK["phase_a_s"] = r.timings.get("scan_s", 0.0) + r.timings.get("validate_s", 0.0)
    _PEAK["start"] = t
    print(json.dumps({"timings": r.timings, "rejected": r.rejected}), file=sys.stderr)
    return r.accepted, seconds


def case_ingest_sqlite(path: Path, work: Path) -> tuple[int, float]:
    return _ingest(path, work, f"sqlite:///{work / 'openbureau.db'}", "bank")


def case_ingest_postgres(path: Path, work: Path) -> tuple[int, float]:
    name, url = _fresh_postgres()
    try:
        return _ingest(path, work, url, "bank")
    finally:
        _drop_postgres(name)


def case_ingest_lake(path: Path, work: Path) -> tuple[int, float]:
    return _ingest(path, work, f"sqlite:///{work / 'openbureau.db'}", "pay")


CASES = {
    "raw_sqlite": case_raw_sqlite,
    "floor_sqlite": case_floor_sqlite,
    "bare_sqlite": case_bare_sqlite,
    "ingest_sqlite": case_ingest_sqlite,
    "raw_postgres": case_raw_postgres,
    "floor_postgres": case_floor_postgres,
    "bare_postgres": case_bare_postgres,
    "ingest_postgres": case_ingest_postgres,
    "raw_lake": case_raw_lake,
    "ingest_lake": case_ingest_lake,
}


def run_case(name: str, path: Path) -> dict[str, Any]:
    """Run one case in a subprocess; returns seconds, rows and peak RSS (MiB)."""
    work = Path(tempfile.mkdtemp(prefix=f"obbench-{name}-", dir=path.parent))
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "_case", name, str(path), str(work)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{name} failed:\n{proc.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        extra = [line for line in proc.stderr.splitlines() if line.startswith("{")]
        if extra:
            result["detail"] = json.loads(extra[-1])
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


_PEAK: dict[str, float] = {"rss": 0.0, "at": 0.0}


def _sample_rss(stop: Any) -> None:
    """Keep the largest resident set seen (from /proc, every 50 ms) and when it was seen."""
    page = os.sysconf("SC_PAGE_SIZE")
    statm = Path("/proc/self/statm")
    while not stop.wait(0.05):
        try:
            rss = int(statm.read_text().split()[1]) * page
        except OSError:
            return
        if rss > _PEAK["rss"]:
            _PEAK["rss"], _PEAK["at"] = rss, time.perf_counter()


def _high_water_mib() -> float:
    """This process's peak resident set since its ``exec``, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: an upper bound


def _child(name: str, path: Path, work: Path) -> None:
    import threading

    stop = threading.Event()
    sampler = threading.Thread(target=_sample_rss, args=(stop,), daemon=True)
    sampler.start()
    rows, seconds = CASES[name](path, work)
    stop.set()
    sampler.join()
    peak = _high_water_mib()
    out: dict[str, Any] = {"case": name, "rows": rows, "seconds": seconds, "peak_mib": peak}
    if "start" in _PEAK:  # an ingest: which phase the peak came in
        at = _PEAK["at"] - _PEAK["start"]
        out["peak_phase"] = "A" if at <= _PEAK["phase_a_s"] else "B"
    print(json.dumps(out))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_case":
        _child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--only", default="sqlite,postgres,lake")
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "openbureau-bench")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    stores = args.only.split(",")
    results: list[dict[str, Any]] = []
    for rows in args.rows:
        t = time.perf_counter()
        acc, pay = generate(args.data / str(rows), rows)
        print(
            f"# {rows:,} rows: files ready in {time.perf_counter() - t:.0f}s "
            f"(accounts CSV {acc.stat().st_size / 2**20:.0f} MiB, "
            f"payments Parquet {pay.stat().st_size / 2**20:.0f} MiB)",
            flush=True,
        )
        for store in stores:
            path = pay if store == "lake" else acc
            load_before = os.getloadavg()[0]
            raw = run_case(f"raw_{store}", path)
            # The floor once, at the smallest size: its rate does not depend on the size.
            with_floor = f"floor_{store}" in CASES and rows == min(args.rows)
            floor = run_case(f"floor_{store}", path) if with_floor else None
            bare = run_case(f"bare_{store}", path) if with_floor else None
            ing = run_case(f"ingest_{store}", path)
            load = f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"
            results.append(
                {
                    "store": store,
                    "rows": rows,
                    "raw": raw,
                    "floor": floor,
                    "bare": bare,
                    "ingest": ing,
                    "load": load,
                }
            )
            print(_row(results[-1]), flush=True)
    print()
    print(_table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))


def _row(r: dict[str, Any]) -> str:
    raw, floor, bare, ing = r["raw"], r.get("floor"), r.get("bare"), r["ingest"]
    what = {
        "sqlite": "accounts -> SQLite",
        "postgres": "accounts -> PostgreSQL",
        "lake": "payments -> lake (Delta)",
    }[r["store"]]
    raw_rate = raw["rows"] / raw["seconds"]
    ing_rate = ing["rows"] / ing["seconds"]
    floor_s = f"{floor['seconds']:>7.1f}" if floor else f"{'-':>7}"
    bare_s = f"{bare['seconds']:>6.1f}" if bare else f"{'-':>6}"
    bare_ratio = f"{raw['seconds'] / bare['seconds']:>6.2f}" if bare else f"{'-':>6}"
    floor_ratio = f"{floor['seconds'] / ing['seconds']:>6.2f}" if floor else f"{'-':>6}"
    return (
        f"| {what:<25} | {r['rows']:>10,} | {raw['seconds']:>7.1f} | {raw_rate:>10,.0f} | "
        f"{raw['peak_mib']:>8.0f} | {bare_s} | {bare_ratio} | {floor_s} | {ing['seconds']:>7.1f} | "
        f"{ing_rate:>10,.0f} | "
        f"{ing['peak_mib']:>8.0f} | {ing.get('peak_phase', '?'):^7} | "
        f"{ing_rate / raw_rate:>6.2f} | {floor_ratio} | {r.get('load', ''):>9} |"
    )


def _table(results: list[dict[str, Any]]) -> str:
    head = (
        "| case                      |       rows |  raw s  |  raw rows/s | raw MiB  "
        "| bare s | b÷raw  | floor s | ingest s| ingest r/s | ing. MiB | peak in | ÷ raw  "
        "| ÷ floor|   load    |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|"
    )
    lines = [head, *(_row(r) for r in results)]
    lines.append(
        "\n(÷ raw = ingest rows/s ÷ raw rows/s; ÷ floor = ingest rows/s ÷ floor rows/s: the floor "
        "writes the same rows straight into the credit file's four tables with their indexes "
        "and keys, no validation, no merge;\n"
        " bare = the floor's rows into copies of the four tables with no index, key or "
        "constraint; b÷raw = bare rows/s ÷ raw rows/s, the most any ingest that writes those "
        "rows can reach;\n"
        " MiB = peak RSS of the case's own process (Python, DuckDB, Arrow, SQLite's page "
        "cache; not the PostgreSQL server); peak in = the ingest phase of that peak: A = read + "
        "validate (DuckDB), B = write;\n"
        " load = 1-minute load average before the row's first case - after its last; "
        f"{dt.date.today()}, {os.cpu_count()} cores)"
    )
    details = [
        f"  {r['store']:<9}{r['rows']:>11,}: {r['ingest'].get('detail', {}).get('timings')}"
        for r in results
    ]
    return "\n".join([*lines, "", "ingest phase timings (s):", *details])


if __name__ == "__main__":
    main()
