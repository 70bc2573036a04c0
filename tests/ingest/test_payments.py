"""Payment transactions go to the lake only: one Delta commit per batch, partitioned by month."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from deltalake import DeltaTable

from openbureau.context import Context
from openbureau.ingest import recover
from openbureau.store import lake

from . import factories as fac
from .helpers import count, rows, run


def lake_rows(ctx: Context) -> list[tuple[object, ...]]:
    files = lake.payments_files(ctx.lake)
    if not files:
        return []
    con = duckdb.connect()
    return con.execute(
        "SELECT furnisher_id, transaction_id, amount_minor, batch_id "
        "FROM read_parquet(?) ORDER BY transaction_id",
        [files],
    ).fetchall()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_payments_go_to_the_lake(ctx: Context, tmp_path: Path, fmt: str) -> None:
    writer = {"csv": fac.write_csv, "jsonl": fac.write_jsonl, "parquet": fac.write_parquet}[fmt]
    r = run(ctx, writer(tmp_path / f"2024-03.payments.{fmt}", fac.payments(200)), "pay")
    assert (r.status, r.received, r.accepted, r.rejected) == ("accepted", 200, 200, 0)
    got = lake_rows(ctx)
    assert len(got) == 200 and {g[3] for g in got} == {r.batch_id}
    assert got[1][:3] == ("pay", "T000000001", 1125)
    table = DeltaTable(lake.table_uri(ctx.lake, "payments"))
    assert table.metadata().partition_columns == ["month"]
    assert table.version() == 1  # the table's creation, then the batch: one commit
    assert table.transaction_version(lake.batch_app_id(r.batch_id)) == 1
    # never in the database
    assert count(ctx, "accounts") == 0 and count(ctx, "account_months") == 0
    assert rows(ctx, "SELECT status, kind FROM batches") == [("accepted", "payments")]


def test_payment_rules(ctx: Context, tmp_path: Path) -> None:
    recs = fac.payments(100)
    recs[0]["timestamp"] = "2024-02-28T23:59:59Z"  # outside the file's month
    recs[1]["amount"] = "0"
    recs[2].update(direction="out", merchant_category="")
    recs[3]["timestamp"] = "yesterday"
    r = run(ctx, fac.write_csv(tmp_path / "2024-03.payments.csv", recs), "pay")
    got = {(x["line"], x["field"]) for x in r.rejects}
    assert got == {(2, "timestamp"), (3, "amount"), (4, "merchant_category"), (5, "timestamp")}
    assert r.accepted == 96 and len(lake_rows(ctx)) == 96


def test_known_transactions_are_duplicates(ctx: Context, tmp_path: Path) -> None:
    run(ctx, fac.write_parquet(tmp_path / "a/2024-03.payments.parquet", fac.payments(100)), "pay")
    r = run(
        ctx, fac.write_parquet(tmp_path / "b/2024-03.payments.parquet", fac.payments(150)), "pay"
    )
    assert (r.accepted, r.duplicates) == (150, 100)
    assert len(lake_rows(ctx)) == 150
    again = run(
        ctx, fac.write_parquet(tmp_path / "c/2024-03.payments.parquet", fac.payments(150)), "pay"
    )
    assert again.status == "duplicate"


def test_repeated_transaction_in_one_file(ctx: Context, tmp_path: Path) -> None:
    recs = fac.payments(100)
    recs.append(dict(recs[10]))
    r = run(ctx, fac.write_csv(tmp_path / "2024-03.payments.csv", recs), "pay")
    assert r.rejects == [
        {"line": 102, "field": "transaction_id", "reason": "transaction_id repeat line 12"}
    ]
    assert len(lake_rows(ctx)) == 100


def test_recover_completes_a_batch_whose_delta_commit_happened(
    ctx: Context, tmp_path: Path
) -> None:
    r = run(ctx, fac.write_parquet(tmp_path / "2024-03.payments.parquet", fac.payments(50)), "pay")
    dead = {"owner": f"{os.uname().nodename}:999999999"}
    with ctx.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE batches SET status = 'pending'"))
    with ctx.engine.begin() as conn:
        from sqlalchemy import update

        from openbureau.store.models import Batch

        conn.execute(update(Batch).values(receipt=r.to_dict() | dead))
    assert recover(ctx) == [(r.batch_id, "completed")]
    assert rows(ctx, "SELECT status FROM batches") == [("accepted",)]


def test_recover_removes_a_batch_that_never_reached_the_lake(ctx: Context, tmp_path: Path) -> None:
    from sqlalchemy import insert

    from openbureau.ingest.receipts import utcnow
    from openbureau.store.models import Batch

    with ctx.engine.begin() as conn:
        conn.execute(
            insert(Batch).values(
                id="b1",
                furnisher_id="pay",
                kind="payments",
                file_name="x",
                file_sha256="0" * 64,
                status="pending",
                received_at=utcnow(),
                receipt={"owner": f"{os.uname().nodename}:999999999"},
            )
        )
    assert recover(ctx) == [("b1", "removed")]
    assert count(ctx, "batches") == 0


def test_live_pending_batches_are_left_alone(ctx: Context) -> None:
    from sqlalchemy import insert

    from openbureau.ingest.receipts import utcnow
    from openbureau.store.models import Batch

    with ctx.engine.begin() as conn:
        conn.execute(
            insert(Batch).values(
                id="b2",
                furnisher_id="pay",
                kind="payments",
                file_name="x",
                file_sha256="1" * 64,
                status="pending",
                received_at=utcnow(),
                receipt={"owner": f"{os.uname().nodename}:{os.getppid()}"},
            )
        )
    assert recover(ctx) == []


def test_each_batch_is_one_commit_and_files_roll_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa

    monkeypatch.setattr(lake, "TARGET_FILE_ROWS", 50)
    schema = lake.PAYMENTS_SCHEMA

    def batch(start: int, n: int) -> pa.RecordBatch:
        rows = [
            {
                "furnisher_id": "pay",
                "transaction_id": f"T{i}",
                "customer_ref": "C",
                "ts": None,
                "direction": "out",
                "amount_minor": 100,
                "merchant_category": None,
                "channel": "app",
                "inflow_kind": None,
                "batch_id": "b",
                "month": "2024-03",
            }
            for i in range(start, start + n)
        ]
        return pa.RecordBatch.from_pylist(rows, schema=schema)

    reader = pa.RecordBatchReader.from_batches(schema, (batch(i * 30, 30) for i in range(5)))
    assert lake.append_batch(tmp_path, reader, batch_id="b1", metadata={}) == 150
    table = DeltaTable(lake.table_uri(tmp_path, "payments"))
    assert table.version() == 1  # creation, then one commit for the whole batch
    assert len(lake.month_files(tmp_path, "2024-03")) == 3  # 60 + 60 + 30 rows
    assert lake.batch_committed(tmp_path, "b1") and not lake.batch_committed(tmp_path, "b2")
