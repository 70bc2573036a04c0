"""Feature computation at national scale: OpenBureau's pipeline on DuckDB, a hand-tuned single
query on DuckDB, and the pipeline on Spark (local mode), on the same generated lake.

    python bench/features.py [--consumers 1000000] [--transactions 50000000] [--months 24]
                             [--out bench/out/features] [--no-spark] [--threads 2]

The input is generated here, vectorised (numpy → Arrow → Parquet), in the lake tables'
schemas: a snapshot (accounts, ``months`` of account history, customer links, inquiries) and
12 months of payment transactions. Every run's output is checked to be identical to the
pipeline's on DuckDB. CPU seconds include every thread of the process (and, for Spark, the
JVM's); the machine is shared, so CPU seconds are the figure to compare.

The hand-tuned query is the same features, written for speed on DuckDB: timestamps are
turned into naive UTC once (DuckDB's calendar functions on TIMESTAMPTZ go through ICU), the
status rank and the account history are folded into one pass, and payments are aggregated
per customer and month on integer keys before anything is joined.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from openbureau.engine.sql import DuckDBRunner, SparkRunner, SQLRunner
from openbureau.features import lake
from openbureau.features.asof import AsOf, month_index, month_start
from openbureau.features.compute import run_features
from openbureau.features.pipeline import feature_sql
from openbureau.features.spec import STEPS, Step

START = "2023-01"
STATUSES = np.array(["current", "dpd30", "dpd60", "dpd90", "dpd120", "charged_off", "paid"])
MCCS = np.array(["5411", "5812", "4111", "5732", "6011", "6051", "7995", "6012"])
MCC_P = np.array([0.3, 0.25, 0.15, 0.1, 0.08, 0.04, 0.03, 0.05])


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    import pyarrow.compute as pc

    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(n), pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def generate(out: Path, consumers: int, transactions: int, months: int, seed: int = 0) -> AsOf:
    """Write the bench lake under ``out``; returns the as-of date (end of the last month)."""
    rng = np.random.default_rng(seed)
    first = month_index(dt.date.fromisoformat(START + "-01"))
    as_of = AsOf.end_of_month(first + months - 1)
    out.mkdir(parents=True, exist_ok=True)
    consumer_ids = _ids("C", consumers, 9)
    # Accounts: one per consumer plus 20 % more; products 70/20/10.
    n_acc = int(consumers * 1.2)
    owner = np.concatenate([np.arange(consumers), rng.integers(0, consumers, n_acc - consumers)])
    product = rng.choice(
        np.array(["credit_card", "pay_later", "instalment_loan"]), n_acc, p=[0.7, 0.2, 0.1]
    )
    open_i = np.where(
        rng.random(n_acc) < 0.8, -rng.integers(1, 120, n_acc), rng.integers(0, months, n_acc)
    )
    calendar = np.array(
        [month_start(first + i) for i in range(-130, months + 1)], dtype="datetime64[D]"
    )
    opened_days = calendar[open_i + 130]
    limit = np.where(product == "instalment_loan", 0, rng.integers(5, 300, n_acc) * 10_000)
    accounts = pa.table(
        {
            "account_id": pa.array(np.arange(n_acc, dtype=np.int64)),
            "consumer_id": consumer_ids.take(pa.array(owner)),
            "furnisher_id": pa.array(
                np.where(
                    product == "credit_card",
                    "bankcard",
                    np.where(product == "pay_later", "payplat", "microloan"),
                )
            ),
            "furnisher_account_id": _ids("A", n_acc, 10),
            "product": pa.array(product),
            "opened": pa.array(opened_days, pa.date32()),
            "closed": pa.nulls(n_acc, pa.date32()),
            "original_amount_minor": pa.array(
                np.where(product == "instalment_loan", rng.integers(1, 50, n_acc) * 100_000, 0)
            ),
            "term_months": pa.array(np.where(product == "instalment_loan", 12, 0)),
            "first_month": pa.array(calendar[np.maximum(open_i, 0) + 130], pa.date32()),
            "last_month": pa.array(
                np.full(
                    n_acc, np.datetime64(month_start(first + months - 1)), dtype="datetime64[D]"
                ),
                pa.date32(),
            ),
        },
        schema=lake.ACCOUNTS_SCHEMA,
    )
    pq.write_table(accounts, out / "accounts.parquet")
    # Account history: every month from opening (or the first month) to the last.
    start = np.maximum(open_i, 0)
    count = months - start
    acc = np.repeat(np.arange(n_acc), count)
    offset = np.arange(len(acc)) - np.repeat(np.cumsum(count) - count, count)
    month_i = np.repeat(start, count) + offset
    n = len(acc)
    state = rng.choice(7, n, p=[0.93, 0.03, 0.015, 0.008, 0.005, 0.007, 0.005])
    month_days = np.array([month_start(first + i) for i in range(months)], dtype="datetime64[D]")
    bal = (rng.random(n) * np.maximum(limit[acc], 1_000_000)).astype(np.int64)
    due = np.maximum(bal // 10, 10_000)
    history = pa.table(
        {
            "account_id": pa.array(acc.astype(np.int64)),
            "consumer_id": consumer_ids.take(pa.array(owner[acc])),
            "month": pa.array(month_days[month_i], pa.date32()),
            "credit_limit_minor": pa.array(limit[acc], mask=limit[acc] == 0),
            "balance_minor": pa.array(bal),
            "amount_due_minor": pa.array(due),
            "amount_paid_minor": pa.array(
                np.where(state == 0, due + rng.integers(0, 9, n) * due, 0)
            ),
            "days_past_due": pa.array(
                np.where(state == 0, (rng.random(n) < 0.03) * 10, 30 * state + 5).astype(np.int64)
            ),
            "status": pa.array(STATUSES[state]),
            "known_month": pa.array(month_days[month_i], pa.date32()),
        },
        schema=lake.ACCOUNT_MONTHS_SCHEMA,
    )
    pq.write_table(history, out / "account_months.parquet", row_group_size=1 << 20)
    del history
    # Payment customers: the pay-later holders and 40 % of the others.
    users = np.unique(
        np.concatenate([owner[product == "pay_later"], np.nonzero(rng.random(consumers) < 0.4)[0]])
    )
    refs = _ids("U", len(users), 9)
    links = pa.table(
        {
            "furnisher_id": pa.array(np.full(len(users), "payplat")),
            "customer_ref": refs,
            "consumer_id": consumer_ids.take(pa.array(users)),
        },
        schema=lake.LINKS_SCHEMA,
    )
    pq.write_table(links, out / "links.parquet")
    # Inquiries: 1.5 a consumer, 70 % hard, spread over the months and one month past the
    # as-of date (which the features must leave out).
    n_inq = int(consumers * 1.5)
    begin = np.datetime64(month_start(first), "us").astype(np.int64)
    end = np.datetime64(month_start(first + months + 1), "us").astype(np.int64)
    hard = rng.random(n_inq) < 0.7
    inquiries = pa.table(
        {
            "consumer_id": consumer_ids.take(pa.array(rng.integers(0, consumers, n_inq))),
            "lender": pa.array(np.char.add("L", rng.integers(0, 200, n_inq).astype(str))),
            "purpose": pa.array(np.where(hard, "credit_application", "account_review")),
            "created_at": pa.array(rng.integers(begin, end, n_inq), pa.timestamp("us", tz="UTC")),
            "kind": pa.array(np.where(hard, "hard", "soft")),
        },
        schema=lake.INQUIRIES_SCHEMA,
    )
    pq.write_table(inquiries, out / "inquiries.parquet")
    pay_dir = out / "payments"
    pay_dir.mkdir(exist_ok=True)
    per_month = transactions // 12
    for k in range(12):
        m = first + months - 12 + k
        begin = np.datetime64(month_start(m), "us").astype(np.int64)
        end = np.datetime64(month_start(m + 1), "us").astype(np.int64)
        who = rng.integers(0, len(users), per_month)
        out_dir = rng.random(per_month) < 0.85
        ts = rng.integers(begin, end, per_month)
        table = pa.table(
            {
                "furnisher_id": pa.array(np.full(per_month, "payplat")).dictionary_encode(),
                "customer_ref": refs.take(pa.array(who)),
                "ts": pa.array(np.sort(ts), pa.timestamp("us", tz="UTC")),
                "direction": pa.array(np.where(out_dir, "out", "in")).dictionary_encode(),
                "amount_minor": pa.array(rng.integers(100, 200_000, per_month)),
                "merchant_category": pa.array(
                    rng.choice(MCCS, per_month, p=MCC_P), mask=~out_dir
                ).dictionary_encode(),
                "inflow_kind": pa.array(
                    rng.choice(
                        np.array(["salary", "transfer", "refund"]), per_month, p=[0.5, 0.4, 0.1]
                    ),
                    mask=out_dir,
                ).dictionary_encode(),
            }
        )
        pq.write_table(table, pay_dir / f"{month_start(m):%Y-%m}.parquet", row_group_size=1 << 20)
    return as_of


def files(out: Path) -> dict[str, tuple[list[str], pa.Schema]]:
    pay = sorted(str(p) for p in (out / "payments").glob("*.parquet"))
    return {
        "accounts": ([str(out / "accounts.parquet")], lake.ACCOUNTS_SCHEMA),
        "account_months": ([str(out / "account_months.parquet")], lake.ACCOUNT_MONTHS_SCHEMA),
        "customer_links": ([str(out / "links.parquet")], lake.LINKS_SCHEMA),
        "inquiries": ([str(out / "inquiries.parquet")], lake.INQUIRIES_SCHEMA),
        "payments": (pay, lake.PAYMENTS_COLUMNS),
    }


def _register(runner: SQLRunner, out: Path) -> None:
    for name, (paths, schema) in files(out).items():
        runner.register_parquet(name, paths, schema)


# --- the hand-tuned query ----------------------------------------------------------------

_TUNED: dict[str, str] = {
    # One pass over the history straight into the per-account aggregates: no step in between.
    "am": (
        "SELECT account_id, consumer_id, {C} - (year(month) * 12 + month(month) - 1) AS age, "
        "coalesce(credit_limit_minor, 0) AS lim, balance_minor AS bal, "
        "amount_due_minor AS due, amount_paid_minor AS paid, days_past_due AS dpd, "
        "(status = 'closed' OR status = 'paid')::INTEGER AS ended, "
        "CASE status WHEN 'charged_off' THEN 6 WHEN 'collection' THEN 6 WHEN 'dpd120' THEN 5 "
        "WHEN 'dpd90' THEN 4 WHEN 'dpd60' THEN 3 WHEN 'dpd30' THEN 2 "
        "ELSE (days_past_due > 0)::INTEGER END AS sr, "
        "lag(balance_minor) OVER (PARTITION BY account_id ORDER BY month) AS prev_bal, "
        "CASE WHEN credit_limit_minor > 0 THEN greatest(least(CAST(floor("
        "CAST(balance_minor AS DOUBLE) * 10000 / CAST(credit_limit_minor AS DOUBLE)) AS BIGINT), "
        "10000), 0) END AS util_bp "
        "FROM account_months "
        "WHERE consumer_id IS NOT NULL AND month <= DATE '{CUT}'"
    ),
    # Payments: naive UTC timestamps (no ICU calendar), integer month keys, then aggregate.
    "pm": (
        "SELECT furnisher_id, customer_ref, age, "
        "count(*) FILTER (WHERE direction = 'out') AS n_out, "
        "coalesce(sum(amount_minor) FILTER (WHERE direction = 'out'), 0) AS amt_out, "
        "count(*) FILTER (WHERE direction = 'out' AND merchant_category IN ('6011', '6051')) "
        "AS n_cash, count(*) FILTER (WHERE direction = 'out' AND merchant_category = '7995') "
        "AS n_gamble, count(*) FILTER (WHERE direction = 'out' AND merchant_category = '6012') "
        "AS n_loan, count(*) FILTER (WHERE direction = 'out' AND merchant_category IN "
        "('5812', '5651', '5732', '5311')) AS n_discr, "
        "count(*) FILTER (WHERE direction = 'out' AND hr < 6) AS n_night, "
        "count(*) FILTER (WHERE direction = 'in' AND inflow_kind = 'salary') AS n_salary, "
        "count(*) FILTER (WHERE direction = 'in' AND inflow_kind IN ('salary', 'transfer')) "
        "AS n_income, coalesce(sum(amount_minor) FILTER (WHERE direction = 'in' AND "
        "inflow_kind IN ('salary', 'transfer')), 0) AS amt_income, max(day) AS last_day "
        "FROM (SELECT furnisher_id, customer_ref, direction, amount_minor, merchant_category, "
        "inflow_kind, {C} - (year(t) * 12 + month(t) - 1) AS age, hour(t) AS hr, "
        "CAST(t AS DATE) AS day FROM (SELECT *, CAST(ts AT TIME ZONE 'UTC' AS TIMESTAMP) AS t "
        "FROM payments)) p WHERE age BETWEEN 0 AND 11 GROUP BY furnisher_id, customer_ref, age"
    ),
}


def tuned_sql(as_of: AsOf) -> str:
    steps = tuple(Step(s.name, _TUNED.get(s.name, s.sql), s.doc) for s in STEPS)
    return feature_sql(as_of, steps=steps)


# --- measuring ------------------------------------------------------------------------------


def _cpu(include_children: bool = False) -> float:
    t = time.process_time()
    if include_children:
        import psutil

        for child in psutil.Process().children(recursive=True):
            try:
                c = child.cpu_times()
                t += c.user + c.system
            except psutil.NoSuchProcess:
                pass
    return t


def measure(
    run: Callable[[], pa.Table], *, children: bool = False
) -> tuple[pa.Table, float, float]:
    wall, cpu = time.perf_counter(), _cpu(children)
    table = run()
    return table, time.perf_counter() - wall, _cpu(children) - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--consumers", type=int, default=1_000_000)
    ap.add_argument("--transactions", type=int, default=50_000_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--out", type=Path, default=Path("bench/out/features"))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--memory-mb", type=int, default=8192)
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--keep", action="store_true", help="Reuse generated input if present.")
    args = ap.parse_args()

    if not (args.keep and (args.out / "accounts.parquet").exists()):
        shutil.rmtree(args.out, ignore_errors=True)
        t = time.perf_counter()
        as_of = generate(args.out, args.consumers, args.transactions, args.months)
        print(f"generated input in {time.perf_counter() - t:.1f} s: {args.out}")
    else:
        as_of = AsOf.end_of_month(
            month_index(dt.date.fromisoformat(START + "-01")) + args.months - 1
        )
    sizes = {
        k: sum(pq.ParquetFile(p).metadata.num_rows for p in v[0])
        for k, v in files(args.out).items()
    }
    print("rows: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))

    rows: list[tuple[str, float, float, Any]] = []

    def duck(sql: Callable[[AsOf], str]) -> pa.Table:
        with DuckDBRunner(
            memory_mb=args.memory_mb, threads=args.threads, tmp=args.out / "spill"
        ) as runner:
            _register(runner, args.out)
            if sql is feature_sql:
                return run_features(runner, as_of)
            return runner.query(sql(as_of))

    reference, wall, cpu = measure(lambda: duck(feature_sql))
    rows.append(("OpenBureau pipeline, DuckDB", wall, cpu, True))
    tuned, wall, cpu = measure(lambda: duck(tuned_sql))
    rows.append(
        (
            "hand-tuned single query, DuckDB",
            wall,
            cpu,
            tuned.cast(reference.schema).equals(reference),
        )
    )
    if not args.no_spark:
        from pyspark.sql import SparkSession

        spark = (
            SparkSession.builder.master(f"local[{args.threads}]")
            .config("spark.driver.memory", "8g")
            .config("spark.sql.shuffle.partitions", str(4 * args.threads))
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        runner = SparkRunner(spark)

        def on_spark() -> pa.Table:
            _register(runner, args.out)
            return run_features(runner, as_of)

        result, wall, cpu = measure(on_spark, children=True)
        rows.append(("OpenBureau pipeline, Spark local", wall, cpu, result.equals(reference)))
        spark.stop()

    base = rows[1][2]
    print(
        f"\nfeatures as of {as_of}: {reference.num_rows:,} consumers × "
        f"{reference.num_columns - 1} features; {args.threads} threads; "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    print(f"{'run':<34} {'wall s':>8} {'CPU s':>8} {'CPU vs tuned':>13}  same numbers")
    for name, wall, cpu, same in rows:
        print(f"{name:<34} {wall:8.1f} {cpu:8.1f} {cpu / base:12.2f}×  {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
