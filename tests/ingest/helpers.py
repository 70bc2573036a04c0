"""Helpers shared by the ingest tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from openbureau.context import Context
from openbureau.ingest import Receipt, ingest_file

from . import factories as fac


def run(ctx: Context, path: Path, furnisher: str = "bank", **kw: Any) -> Receipt:
    kw.setdefault("today", fac.TODAY)
    kw.setdefault("now", fac.NOW)
    return ingest_file(ctx, path, furnisher, **kw)


def count(ctx: Context, table: str, where: str = "") -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table} {where}")).scalar_one())


def rows(ctx: Context, sql: str, **params: Any) -> list[Any]:
    with ctx.engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def nothing_written(ctx: Context) -> None:
    """The stores hold no trace of any batch, and no work files are left."""
    for table in (
        "batches",
        "accounts",
        "account_months",
        "identity_records",
        "consumers",
        "account_month_revisions",
    ):
        assert count(ctx, table) == 0, table
    assert not (ctx.lake / "payments").exists()
    tmp = ctx.settings.home / "tmp"
    assert not tmp.exists() or not any(tmp.iterdir())
