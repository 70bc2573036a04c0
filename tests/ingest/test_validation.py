"""Validation: reasons a furnisher can act on, exact line numbers, the reject threshold."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from openbureau.config import Settings
from openbureau.context import Context
from openbureau.errors import BatchRefusedError
from openbureau.ingest import add_furnisher

from . import factories as fac
from .helpers import count, rows, run

CASES: list[tuple[dict[str, Any], str, str]] = [
    ({"reporting_month": "2024-13"}, "reporting_month", "reporting_month is not a month"),
    ({"reporting_month": "2024-05"}, "reporting_month", "reporting_month is in the future"),
    ({"account_id": ""}, "account_id", "account_id is required"),
    ({"account_id": "A" * 65}, "account_id", "account_id is longer than 64 characters"),
    ({"name": ""}, "name", "name is required"),
    ({"birth_date": "1985/03/12"}, "birth_date", "birth_date is not a date"),
    ({"birth_date": "31/02/1985"}, "birth_date", "birth_date is not a date"),
    ({"birth_date": "2021-01-01"}, "birth_date", "birth_date is after the account was opened"),
    ({"product": "mortgage"}, "product", "product must be one of"),
    ({"opened": "2024-04-30"}, "opened", "opened is in the future"),
    (
        {"opened": "2024-04-01", "reporting_month": "2024-03"},
        "reporting_month",
        "reporting_month is before the account was opened",
    ),
    ({"closed": "2019-01-01"}, "closed", "closed is before opened"),
    ({"closed": "2024-04-02"}, "closed", "closed is after the end of reporting_month"),
    ({"credit_limit": ""}, "credit_limit", "credit_limit is required for credit_card"),
    ({"balance": "-5"}, "balance", "balance is not an amount >= 0"),
    ({"balance": "1.234"}, "balance", "balance is not an amount >= 0 with at most 2 decimals"),
    ({"balance": "abc"}, "balance", "balance is not an amount"),
    ({"days_past_due": "x"}, "days_past_due", "days_past_due is not a whole number"),
    ({"days_past_due": "45"}, "days_past_due", "days_past_due must be 0-29 when status is current"),
    (
        {"status": "dpd60", "days_past_due": "20"},
        "days_past_due",
        "days_past_due must be 60-89 when status is dpd60",
    ),
    (
        {"status": "closed", "balance": "10.00", "amount_due": "0", "amount_paid": "0"},
        "balance",
        "balance must be 0 when status is closed or paid",
    ),
    ({"status": "paid", "balance": "0"}, "status", "status paid is only for instalment_loan"),
    ({"amount_paid": "900000"}, "amount_paid", "amount_paid is far above"),
    ({"status": "gone"}, "status", "status must be one of"),
]


@pytest.mark.parametrize(("over", "field", "reason"), CASES)
def test_reject_reasons(
    ctx: Context, tmp_path: Path, over: dict[str, Any], field: str, reason: str
) -> None:
    recs = fac.accounts(30)
    recs[10].update(over)
    r = run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", recs))
    assert r.status == "accepted" and r.rejected == 1 and r.accepted == 29
    assert any(
        x["line"] == 12 and x["field"] == field and x["reason"].startswith(reason)
        for x in r.rejects
    ), r.rejects
    assert count(ctx, "account_months") == 29


def test_instalment_rules(ctx: Context, tmp_path: Path) -> None:
    recs = [fac.loan(i) for i in range(40)]
    recs[0]["original_amount"] = ""
    recs[1]["term_months"] = "0"
    recs[2]["original_amount"] = "0"
    recs[3].update(status="paid", balance="0", amount_due="0", days_past_due="0")  # fine
    with pytest.raises(BatchRefusedError) as e:  # 3 of 40 is above 5%
        run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", recs))
    got = {(x["line"], x["field"]) for x in e.value.receipt.rejects}
    assert got == {(2, "original_amount"), (3, "term_months"), (4, "original_amount")}


def test_line_numbers_follow_the_editor(ctx: Context, tmp_path: Path) -> None:
    """Quoted line ends inside values and short rows do not shift later line numbers."""
    recs = fac.accounts(60)
    recs[2]["address"] = "Room 1\nBuilding 2\nStreet 3"  # lines 4-6
    recs[5]["status"] = "bogus"  # record 6 -> line 9
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", recs)
    text = path.read_text().splitlines(keepends=True)
    text.insert(12, "ACC,short,row\n")  # becomes line 13
    path.write_text("".join(text))
    r = run(ctx, path)
    lines = {(x["line"], x["field"]) for x in r.rejects}
    assert (9, "status") in lines
    assert (13, "") in lines
    assert r.received == 61 and r.rejected == 2
    # every editor line of the bad records really is that record
    assert "bogus" in path.read_text().splitlines()[8]
    assert path.read_text().splitlines()[12] == "ACC,short,row"


def test_parquet_rejects_carry_row_numbers(ctx: Context, tmp_path: Path) -> None:
    recs = fac.accounts(50)
    recs[41]["status"] = "bogus"
    r = run(ctx, fac.write_parquet(tmp_path / "2024-03.accounts.parquet", recs))
    assert [(x["line"], x["field"]) for x in r.rejects] == [(42, "status")]


def test_typed_parquet_columns(ctx: Context, tmp_path: Path) -> None:
    import datetime as dt
    import decimal

    table = pa.table(
        {
            "reporting_month": ["2024-03"] * 2,
            "account_id": ["A1", "A2"],
            "name": ["li lei", "han meimei"],
            "birth_date": pa.array([dt.date(1990, 1, 2)] * 2, pa.date32()),
            "product": ["credit_card", "credit_card"],
            "opened": pa.array([dt.date(2020, 1, 1)] * 2, pa.date32()),
            "credit_limit": pa.array([decimal.Decimal("100.00")] * 2, pa.decimal128(18, 2)),
            "balance": pa.array([10.5, 0.0], pa.float64()),
            "amount_due": pa.array([1, 0], pa.int64()),
            "amount_paid": pa.array([1, 0], pa.int32()),
            "days_past_due": pa.array([0, 0], pa.int16()),
            "status": ["current", "current"],
        }
    )
    path = tmp_path / "2024-03.accounts.parquet"
    pq.write_table(table, path)
    r = run(ctx, path)
    assert r.accepted == 2, r.rejects
    assert rows(
        ctx,
        "SELECT balance_minor, credit_limit_minor, amount_due_minor FROM accounts "
        "ORDER BY furnisher_account_id",
    ) == [(1050, 10000, 100), (0, 10000, 0)]


def test_repeated_record_in_one_file_is_rejected(ctx: Context, tmp_path: Path) -> None:
    recs = fac.accounts(40)
    recs.append(dict(recs[4], balance="1.00"))
    r = run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", recs))
    assert r.rejects == [
        {
            "line": 42,
            "field": "account_id",
            "reason": "account_id and reporting_month repeat line 6",
        }
    ]
    assert count(ctx, "account_months") == 40


def test_reject_threshold_refuses_the_whole_batch(ctx: Context, tmp_path: Path) -> None:
    recs = fac.accounts(20)
    for r_ in recs[:2]:
        r_["status"] = "bogus"
    with pytest.raises(BatchRefusedError) as e:
        run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", recs))
    receipt = e.value.receipt
    assert receipt.status == "refused" and receipt.rejected == 2 and receipt.accepted == 0
    for table in ("accounts", "account_months", "identity_records", "consumers"):
        assert count(ctx, table) == 0
    assert rows(ctx, "SELECT status, rejected FROM batches") == [("refused", 2)]


def test_threshold_is_configurable(tmp_path: Path, database_url: str) -> None:
    ctx = Context(
        Settings(home=tmp_path / "h", database_url=database_url, ingest_max_reject_share=0.5)
    )
    ctx.init()
    try:
        add_furnisher(ctx, "bank", "Bank")
        recs = fac.accounts(10)
        for r_ in recs[:4]:
            r_["status"] = "bogus"
        r = run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", recs))
        assert r.status == "accepted" and r.accepted == 6
    finally:
        ctx.close()


def test_reject_file_is_formula_neutralised(ctx: Context, tmp_path: Path) -> None:
    recs = fac.accounts(40)
    recs[0]["status"] = "bogus"
    r = run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", recs))
    assert r.reject_file is not None
    path = Path(r.reject_file)
    assert path.parent.parent == ctx.settings.home / "receipts"
    with path.open() as f:
        got = list(csv.DictReader(f))
    assert got == [{"line": "2", "field": "status", "reason": got[0]["reason"]}]
    import duckdb

    from openbureau.ingest.receipts import neutralise, neutralise_sql

    cells = ["=SUM(A1)", "+1", "-1", "@x", "\tx", "\rx", "ok", "a=b"]
    con = duckdb.connect()
    sql = f"SELECT {neutralise_sql('c')} FROM (SELECT unnest(?) AS c)"
    assert [r[0] for r in con.execute(sql, [cells]).fetchall()] == [neutralise(c) for c in cells]
    assert neutralise("=SUM(A1)") == "'=SUM(A1)"
    assert neutralise("-1") == "'-1" and neutralise("@x") == "'@x" and neutralise("ok") == "ok"
    assert neutralise("\tx") == "'\tx"


def test_rejects_never_carry_values(ctx: Context, tmp_path: Path) -> None:
    recs = fac.accounts(40)
    recs[3]["name"] = "SECRETNAME" * 30
    recs[4]["birth_date"] = "SECRETDOB"
    r = run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", recs))
    assert r.rejected == 2
    assert "SECRET" not in repr(r.to_dict())
    assert "SECRET" not in Path(str(r.reject_file)).read_text()


def test_nothing_written_when_refused_early(ctx: Context, tmp_path: Path) -> None:
    recs = fac.accounts(3)
    for r_ in recs:
        r_["status"] = "bogus"
    with pytest.raises(BatchRefusedError):
        run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", recs))
    assert count(ctx, "accounts") == 0
