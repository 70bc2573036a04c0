"""Identity fixtures: a small synthetic population (read once), a trained model, a factory.

Records reach the store through :func:`openbureau.identity.feeds.load_records` (the same
sealing as ingest), plus one account row per record so that tests see accounts move.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import insert, text

from openbureau.context import Context
from openbureau.engine import open_engine
from openbureau.identity.features import bureau_model, feature_sql
from openbureau.identity.feeds import load_records, read_feeds, seal
from openbureau.identity.model import TrainedModel, train
from openbureau.identity.national_id import check_char
from openbureau.identity.resolve import deterministic_components
from openbureau.store.models import IdentityRun
from openbureau.synth import SynthConfig, generate

POPULATION = SynthConfig(consumers=500, months=2, seed=11, lookalike_share=0.03)


@pytest.fixture(scope="session")
def population(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pa.Table]:
    """A small synthetic population: its folder and its identity records (clear ids)."""
    out = tmp_path_factory.mktemp("identity_population")
    generate(POPULATION, out)
    return out, read_feeds(out / "feeds")


def features_for(records: pa.Table) -> pa.Table:
    import duckdb

    n = records.num_rows
    t = records.append_column("unique_id", pa.array(range(1, n + 1), pa.int64()))
    t = t.append_column("nid_clear", t.column("national_id"))
    t = t.append_column("national_id_hmac", t.column("national_id"))
    t = t.append_column("det", pa.array(deterministic_components(t), pa.int64()))
    con = duckdb.connect()
    con.register("records", t)
    out = con.sql(feature_sql("records")).arrow()
    con.close()
    return out.read_all() if hasattr(out, "read_all") else out


@pytest.fixture(scope="session")
def trained(population: tuple[Path, pa.Table]) -> TrainedModel:
    """The bureau model trained once on the population (DuckDB)."""
    with open_engine("duckdb") as eng:
        return train(eng, features_for(population[1]), bureau_model())


def seed_model(ctx: Context, model: TrainedModel) -> None:
    """Store ``model`` as a finished run's, so that ``link`` reuses it instead of training."""
    now = dt.datetime.now(dt.UTC)
    with ctx.engine.begin() as conn:
        conn.execute(
            insert(IdentityRun).values(
                id=str(uuid.uuid4()),
                engine="duckdb",
                status="finished",
                started_at=now,
                finished_at=now,
                model=model.settings,
                summary={},
            )
        )


def valid_nid(seed: int, birth: str = "19850315") -> str:
    first = f"110101{birth}{seed % 1000:03d}"
    return first + check_char(first)


def person(**over: Any) -> dict[str, Any]:
    """One identity record in feed form (clear national id), with overrides."""
    row: dict[str, Any] = {
        "furnisher_id": "bank",
        "account_id": f"T{uuid.uuid4().hex[:10]}",
        "customer_ref": None,
        "name": "zhang wei",
        "name_key": "wei zhang",
        "birth_date": dt.date(1985, 3, 15),
        "phone": "13800000001",
        "address": "No. 1 Renmin Road, Haidian District, Beijing",
        "postcode": "100080",
        "nid_state": "missing",
        "national_id": None,
        "reporting_month": dt.date(2025, 1, 1),
    }
    row.update(over)
    if row["national_id"] and "nid_state" not in over:
        row["nid_state"] = "valid"
    row["name_key"] = " ".join(sorted(str(row["name"]).split()))
    return row


Loader = Callable[[list[dict[str, Any]] | pa.Table], dict[str, int]]


@pytest.fixture
def load(context: Context) -> Loader:
    """Load records into the store (with an account each); returns account id -> record id."""

    def _load(rows: list[dict[str, Any]] | pa.Table) -> dict[str, int]:
        table = (
            rows
            if isinstance(rows, pa.Table)
            else pa.Table.from_pylist(
                rows,
                schema=pa.schema(
                    [
                        ("furnisher_id", pa.string()),
                        ("account_id", pa.string()),
                        ("customer_ref", pa.string()),
                        ("name", pa.string()),
                        ("name_key", pa.string()),
                        ("birth_date", pa.date32()),
                        ("phone", pa.string()),
                        ("address", pa.string()),
                        ("postcode", pa.string()),
                        ("nid_state", pa.string()),
                        ("national_id", pa.string()),
                        ("reporting_month", pa.date32()),
                    ]
                ),
            )
        )
        load_records(context, seal(table, context.keys))
        with context.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (furnisher_id, furnisher_account_id, consumer_id, product,"
                    " opened, currency, last_month, balance_minor, amount_due_minor,"
                    " amount_paid_minor, days_past_due, status, updated_at) "
                    "SELECT r.furnisher_id, r.furnisher_account_id, r.consumer_id, 'credit_card',"
                    " r.last_month, 'CNY', r.last_month, 0, 0, 0, 0, 'current', r.updated_at "
                    "FROM identity_records r WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE "
                    "a.furnisher_id = r.furnisher_id AND a.furnisher_account_id = "
                    "r.furnisher_account_id)"
                )
            )
            return {
                a: int(i)
                for i, a in conn.execute(
                    text("SELECT id, furnisher_account_id FROM identity_records")
                ).all()
            }

    return _load


def consumer_of(ctx: Context, record_id: int) -> str:
    with ctx.engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT consumer_id FROM identity_records WHERE id = :i"), {"i": record_id}
            ).scalar_one()
        )


def account_consumer(ctx: Context, account: str) -> str | None:
    with ctx.engine.connect() as conn:
        value = conn.execute(
            text("SELECT consumer_id FROM accounts WHERE furnisher_account_id = :a"), {"a": account}
        ).scalar_one()
        return None if value is None else str(value)
