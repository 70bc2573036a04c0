"""Factories for furnisher records and files in the furnishing format (docs/furnishing.md)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from openbureau.identity.national_id import check_char
from openbureau.ingest.spec import FIELDS

ACCOUNT_COLUMNS = [f.name for f in FIELDS["accounts"]]
PAYMENT_COLUMNS = [f.name for f in FIELDS["payments"]]


def national_id(n: int, birth: str = "19850312", area: str = "110101") -> str:
    """A valid 18-character id for person number ``n``."""
    first17 = f"{area}{birth}{n % 1000:03d}"
    return first17 + check_char(first17)


def account(n: int = 1, month: str = "2024-03", **over: Any) -> dict[str, Any]:
    """A valid credit-card account record for person/account number ``n``."""
    rec: dict[str, Any] = {
        "reporting_month": month,
        "account_id": f"ACC{n:07d}",
        "customer_ref": f"CUST{n:07d}",
        "national_id": national_id(n),
        "name": f"WANG Xiaoming{n}",
        "birth_date": "1985-03-12",
        "phone": "138-1234-5678",
        "address": "1 Chang'an Avenue, Beijing",
        "postcode": "100000",
        "product": "credit_card",
        "opened": "2020-01-15",
        "closed": "",
        "credit_limit": "20000.00",
        "original_amount": "",
        "term_months": "",
        "balance": "1500.50",
        "amount_due": "300.00",
        "amount_paid": "300.00",
        "days_past_due": "0",
        "status": "current",
    }
    rec.update(over)
    return rec


def loan(n: int = 1, month: str = "2024-03", **over: Any) -> dict[str, Any]:
    rec = account(
        n,
        month,
        product="instalment_loan",
        credit_limit="",
        original_amount="5000",
        term_months="12",
        balance="2500",
        amount_due="450",
        amount_paid="450",
        account_id=f"LN{n:07d}",
    )
    rec.update(over)
    return rec


def payment(n: int = 1, month: str = "2024-03", **over: Any) -> dict[str, Any]:
    day = 1 + n % 28
    rec: dict[str, Any] = {
        "transaction_id": f"T{n:09d}",
        "customer_ref": f"CUST{n % 50:07d}",
        "timestamp": f"{month}-{day:02d}T12:{n % 60:02d}:00Z",
        "direction": "out",
        "amount": f"{10 + n % 500}.25",
        "merchant_category": "5411",
        "channel": "app",
        "inflow_kind": "",
    }
    rec.update(over)
    return rec


def write_csv(
    path: Path,
    records: Iterable[dict[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    bom: bool = False,
    newline: str = "\n",
) -> Path:
    records = list(records)
    cols = list(columns or (records[0].keys() if records else ACCOUNT_COLUMNS))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore", lineterminator=newline)
        w.writeheader()
        for r in records:
            w.writerow(r)
    return path


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({k: (None if v == "" else v) for k, v in r.items()}) + "\n")
    return path


def write_parquet(path: Path, records: Sequence[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = list(records[0].keys())
    table = pa.table({c: [None if r.get(c) == "" else r.get(c) for r in records] for c in cols})
    pq.write_table(table, path)
    return path


def gzip_file(path: Path) -> Path:
    out = path.with_name(path.name + ".gz")
    out.write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    return out


def accounts(n: int, month: str = "2024-03", start: int = 0) -> list[dict[str, Any]]:
    return [account(i, month) if i % 3 else loan(i, month) for i in range(start, start + n)]


def payments(n: int, month: str = "2024-03", start: int = 0) -> list[dict[str, Any]]:
    out = []
    for i in range(start, start + n):
        if i % 4 == 0:
            out.append(
                payment(i, month, direction="in", merchant_category="", inflow_kind="salary")
            )
        else:
            out.append(payment(i, month))
    return out


TODAY = dt.date(2024, 4, 15)
NOW = dt.datetime(2024, 4, 15, 12, 0, tzinfo=dt.UTC)
