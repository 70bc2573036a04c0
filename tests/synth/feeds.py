"""Reading a generated population back with DuckDB, the way an analyst would check it."""

from __future__ import annotations

from pathlib import Path

import duckdb

COLUMNS = """
    '{f}' AS furnisher, reporting_month, account_id, CAST(national_id AS VARCHAR) AS national_id,
    CAST(status AS VARCHAR) AS status, CAST(balance AS DOUBLE) AS balance,
    CAST(credit_limit AS DOUBLE) AS credit_limit, CAST(days_past_due AS INTEGER) AS dpd,
    CAST(amount_due AS DOUBLE) AS amount_due, CAST(amount_paid AS DOUBLE) AS amount_paid,
    CAST(product AS VARCHAR) AS product
"""


def load_accounts(root: Path) -> duckdb.DuckDBPyConnection:
    """A connection with table ``acc`` (all account records) and ``truth_*`` tables."""
    con = duckdb.connect()
    feeds = root / "feeds"
    sources = {
        "bankcard": f"read_csv('{feeds}/bankcard/*.accounts.csv', all_varchar=true)",
        "microloan": f"read_json('{feeds}/microloan/*.accounts.jsonl', format='newline_delimited', "
        "columns={reporting_month:'VARCHAR', account_id:'VARCHAR', national_id:'VARCHAR', "
        "status:'VARCHAR', balance:'DOUBLE', credit_limit:'DOUBLE', days_past_due:'INTEGER', "
        "amount_due:'DOUBLE', amount_paid:'DOUBLE', product:'VARCHAR'})",
        "payplat": f"read_parquet('{feeds}/payplat/*.accounts.parquet')",
    }
    union = " UNION ALL ".join(
        f"SELECT {COLUMNS.format(f=f)} FROM {src}" for f, src in sources.items()
    )
    con.execute(f"CREATE TABLE acc AS {union}")
    for name in ("people", "accounts", "person_months"):
        con.execute(
            f"CREATE TABLE truth_{name} AS SELECT * FROM read_parquet('{root}/truth/{name}.parquet')"
        )
    return con
