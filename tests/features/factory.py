"""A small credit file written straight into a real database and lake, for feature tests.

Accounts, their monthly history (with late payments, delinquencies, charge-offs), identity
records, one accepted batch per furnisher and reporting month, and payment transactions in the
payments Delta table — the same tables the ingest writes, filled without parsing files so that
tests stay fast. Helpers emulate what a later furnisher file does: a correction of an earlier
month (the old value moves to the revisions table), a new month, a new account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert, select, update

from openbureau.context import Context
from openbureau.features.asof import month_index, month_start
from openbureau.store import lake as store_lake
from openbureau.store.models import (
    Account,
    AccountMonth,
    AccountMonthRevision,
    Batch,
    Consumer,
    Furnisher,
    IdentityRecord,
)

FURNISHERS = ("bankcard", "payplat", "microloan")
STATUS = ("current", "current", "dpd30", "dpd60", "dpd90", "dpd120", "charged_off")
MCCS = ("5411", "5812", "6011", "6051", "7995", "6012", "5732")


def _utc(day: dt.date, seconds: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)


@dataclass
class Built:
    start: dt.date
    months: int
    consumers: list[str]
    account_ids: list[int]
    payplat_refs: dict[str, str] = field(default_factory=dict)  # consumer -> customer_ref
    batches: set[str] = field(default_factory=set)  # batch ids already written
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def month(self, i: int) -> dt.date:
        return month_start(month_index(self.start) + i)


def _batch(conn: Any, built: Built, furnisher: str, month: dt.date, kind: str = "accounts") -> str:
    batch_id = (
        f"{furnisher}-{kind}-{month:%Y-%m}-{hashlib.md5(str(month).encode()).hexdigest()[:6]}"
    )
    if batch_id in built.batches:
        return batch_id
    built.batches.add(batch_id)
    exists = conn.execute(select(Batch.id).where(Batch.id == batch_id)).first()
    if exists is None:
        conn.execute(
            insert(Batch).values(
                id=batch_id,
                furnisher_id=furnisher,
                kind=kind,
                file_name=f"{month:%Y-%m}.{kind}",
                file_sha256=hashlib.sha256(batch_id.encode()).hexdigest(),
                status="accepted",
                received_at=_utc(dt.date.today()),
                receipt={"reporting_month": f"{month:%Y-%m}"},
            )
        )
    return batch_id


def _month_row(
    rng: np.random.Generator, state: int, limit: int | None, product: str
) -> dict[str, Any]:
    status = STATUS[min(state, 6)]
    dpd = 0
    if state == 1:
        dpd = int(rng.integers(1, 30))
    elif 2 <= state <= 5:
        dpd = 30 * (state - 1) + int(rng.integers(0, 30))
    elif state >= 6:
        dpd = 150 + int(rng.integers(0, 30))
    cap = limit or 500_000
    balance = int(rng.integers(0, cap)) if product != "instalment_loan" else int(cap * 0.5)
    if product != "instalment_loan" and balance < cap // 6:
        balance = 0  # a line left unused or cleared this month (no extra draw)
    due = max(1000, balance // 10) if state < 6 else balance
    paid = 0 if state >= 2 else int(due + rng.random() ** 2 * max(balance - due, 0))
    return {
        "credit_limit_minor": limit,
        "balance_minor": balance,
        "amount_due_minor": due,
        "amount_paid_minor": paid,
        "days_past_due": dpd,
        "status": status,
    }


def build(
    ctx: Context, *, consumers: int = 30, months: int = 18, start: str = "2023-01", seed: int = 0
) -> Built:
    """Write a credit file of ``consumers`` people over ``months`` reporting months."""
    rng = np.random.default_rng(seed)
    first = dt.date.fromisoformat(start + "-01")
    built = Built(start=first, months=months, consumers=[], account_ids=[], rng=rng)
    with ctx.engine.begin() as conn:
        for f in FURNISHERS:
            conn.execute(insert(Furnisher).values(id=f, name=f, created_at=_utc(first)))
        ids = [f"C{seed:02d}{i:06d}" for i in range(consumers)]
        conn.execute(
            insert(Consumer),
            [{"id": c, "status": "active", "created_at": _utc(first)} for c in ids],
        )
        built.consumers = ids
        risk = rng.normal(size=consumers)
        for ci, c in enumerate(ids):
            plans = [("bankcard", "credit_card", int(-rng.integers(1, 60)))]
            if rng.random() < 0.7:
                plans.append(("payplat", "pay_later", int(-rng.integers(0, 24))))
            if rng.random() < 0.4:
                plans.append(("microloan", "instalment_loan", int(rng.integers(0, months - 2))))
            for ai, (furnisher, product, open_i) in enumerate(plans):
                ref = None
                if furnisher == "payplat":
                    ref = f"U{seed:02d}{ci:06d}"
                    built.payplat_refs[c] = ref
                elif furnisher == "bankcard":
                    ref = f"B{seed:02d}{ci:06d}"
                _add_account(
                    conn,
                    built,
                    c,
                    furnisher,
                    product,
                    f"{furnisher[:2].upper()}{ci:05d}{ai}",
                    ref,
                    open_i,
                    float(risk[ci]),
                )
    _payments(ctx, built, range(months))
    return built


def _add_account(
    conn: Any,
    built: Built,
    consumer: str,
    furnisher: str,
    product: str,
    account_no: str,
    ref: str | None,
    open_i: int,
    risk: float,
    *,
    until: int | None = None,
) -> int:
    rng = built.rng
    opened = built.month(open_i) + dt.timedelta(days=int(rng.integers(0, 27)))
    limit = int(rng.integers(2, 40)) * 100_000 if product != "instalment_loan" else None
    last = (until if until is not None else built.months) - 1
    first_i = max(open_i, 0)
    account_id = conn.execute(
        insert(Account)
        .values(
            furnisher_id=furnisher,
            furnisher_account_id=account_no,
            consumer_id=consumer,
            product=product,
            opened=opened,
            closed=None,
            currency="CNY",
            credit_limit_minor=limit,
            original_amount_minor=3_000_000 if product == "instalment_loan" else None,
            term_months=12 if product == "instalment_loan" else None,
            last_month=built.month(last),
            balance_minor=0,
            amount_due_minor=0,
            amount_paid_minor=0,
            days_past_due=0,
            status="current",
        )
        .returning(Account.id)
    ).scalar_one()
    built.account_ids.append(int(account_id))
    rows = []
    state = 0
    p_late = 1 / (1 + np.exp(-(-3.0 + 1.2 * risk)))
    for i in range(first_i, last + 1):
        if state >= 6:
            state = 6
        elif state >= 2:
            state = state + 1 if rng.random() < 0.5 else 0
        else:
            draw = rng.random()
            state = 2 if draw < p_late / 2 else (1 if draw < p_late else 0)
        row = _month_row(rng, state, limit, product)
        row.update(
            account_id=account_id,
            month=built.month(i),
            batch_id=_batch(conn, built, furnisher, built.month(i)),
        )
        rows.append(row)
    if rows:
        conn.execute(insert(AccountMonth), rows)
    conn.execute(
        insert(IdentityRecord).values(
            furnisher_id=furnisher,
            furnisher_account_id=account_no,
            customer_ref=ref,
            name="test person",
            name_key="person test",
            nid_state="valid",
            consumer_id=consumer,
            needs_resolution=False,
            last_month=built.month(last),
            batch_id=rows[-1]["batch_id"]
            if rows
            else _batch(conn, built, furnisher, built.month(0)),
        )
    )
    return int(account_id)


def _payments(ctx: Context, built: Built, months: Any) -> None:
    rng = built.rng
    refs = list(built.payplat_refs.values())
    for i in months:
        month = built.month(i)
        days = (month_start(month_index(month) + 1) - month).days
        rows: dict[str, list[Any]] = {f.name: [] for f in store_lake.PAYMENTS_SCHEMA}
        for r in refs:
            n = int(rng.integers(0, 7))
            for k in range(n):
                out = rng.random() < 0.8
                secs = int(rng.integers(0, days * 86_400))
                rows["furnisher_id"].append("payplat")
                rows["transaction_id"].append(f"T{month:%Y%m}{r}{k:03d}")
                rows["customer_ref"].append(r)
                rows["ts"].append(_utc(month, secs))
                rows["direction"].append("out" if out else "in")
                rows["amount_minor"].append(int(rng.integers(100, 500_000)))
                rows["merchant_category"].append(str(rng.choice(MCCS)) if out else None)
                rows["channel"].append("app")
                rows["inflow_kind"].append(
                    None if out else str(rng.choice(["salary", "transfer", "refund"]))
                )
                rows["batch_id"].append(f"pay-{month:%Y-%m}")
                rows["month"].append(f"{month:%Y-%m}")
        table = pa.table(rows, schema=store_lake.PAYMENTS_SCHEMA)
        store_lake.append_batch(
            ctx.lake,
            pa.RecordBatchReader.from_batches(table.schema, table.to_batches()),
            batch_id=f"pay-{month:%Y-%m}-{rng.integers(1 << 30)}",
            metadata={},
        )


# --- what later furnisher files do -------------------------------------------------------


def correct(
    ctx: Context, built: Built, account_id: int, month_i: int, in_month_i: int, **values: Any
) -> None:
    """A file for reporting month ``in_month_i`` corrects the account's month ``month_i``."""
    month = built.month(month_i)
    with ctx.engine.begin() as conn:
        furnisher = conn.execute(
            select(Account.furnisher_id).where(Account.id == account_id)
        ).scalar_one()
        new_batch = _batch(conn, built, furnisher, built.month(in_month_i))
        old = conn.execute(
            select(AccountMonth.__table__).where(
                AccountMonth.account_id == account_id, AccountMonth.month == month
            )
        ).one()
        conn.execute(
            insert(AccountMonthRevision).values(
                account_id=account_id,
                month=month,
                credit_limit_minor=old.credit_limit_minor,
                balance_minor=old.balance_minor,
                amount_due_minor=old.amount_due_minor,
                amount_paid_minor=old.amount_paid_minor,
                days_past_due=old.days_past_due,
                status=old.status,
                batch_id=old.batch_id,
                superseded_by=new_batch,
                superseded_at=_utc(dt.date.today()),
            )
        )
        conn.execute(
            update(AccountMonth)
            .where(AccountMonth.account_id == account_id, AccountMonth.month == month)
            .values(batch_id=new_batch, **values)
        )


def extend(ctx: Context, built: Built, extra_months: int) -> None:
    """Later reporting months for every account (and payments), as later files bring."""
    rng = built.rng
    first_new = built.months
    with ctx.engine.begin() as conn:
        accounts = conn.execute(
            select(Account.id, Account.furnisher_id, Account.product, Account.credit_limit_minor)
        ).all()
        rows = []
        for account_id, furnisher, product, limit in accounts:
            for i in range(first_new, first_new + extra_months):
                row = _month_row(rng, int(rng.integers(0, 5)), limit, product)
                row.update(
                    account_id=account_id,
                    month=built.month(i),
                    batch_id=_batch(conn, built, furnisher, built.month(i)),
                )
                rows.append(row)
        conn.execute(insert(AccountMonth), rows)
    _payments(ctx, built, range(first_new, first_new + extra_months))
    built.months += extra_months


def new_account(ctx: Context, built: Built, consumer: str, open_i: int) -> int:
    """An account opened in month ``open_i`` (reported from then on)."""
    with ctx.engine.begin() as conn:
        return _add_account(
            conn,
            built,
            consumer,
            "microloan",
            "instalment_loan",
            f"NEW{open_i:03d}{consumer[-4:]}",
            None,
            open_i,
            2.0,
        )


INQUIRIES = MetaData()
inquiries_table = Table(
    "inquiries",
    INQUIRIES,
    Column("consumer_id", String(32)),
    Column("lender", String(100)),
    Column("purpose", String(50)),
    Column("created_at", DateTime(timezone=True)),
    Column("kind", String(10)),
)


def add_inquiries(ctx: Context, rows: list[tuple[str, dt.datetime, str]]) -> None:
    """Hard or soft inquiries, in the table a later issue brings (created here if missing)."""
    INQUIRIES.create_all(ctx.engine)
    with ctx.engine.begin() as conn:
        conn.execute(
            insert(inquiries_table),
            [
                {
                    "consumer_id": c,
                    "lender": "lender-1",
                    "purpose": "credit",
                    "created_at": t,
                    "kind": k,
                }
                for c, t, k in rows
            ],
        )
