"""End to end: every feed of a synthetic population goes in, and what went in is right."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from openbureau.context import Context
from openbureau.ingest import Receipt, ingest_feeds
from openbureau.store import lake
from openbureau.synth import SynthConfig, generate

from .helpers import count, rows


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population")
    generate(SynthConfig(consumers=400, months=6, seed=1), out)
    return out


def test_synthetic_feeds_are_ingested(context: Context, population: Path) -> None:
    results = ingest_feeds(context, population / "feeds", population / "furnishers.json")
    feed_files = [f for f in (population / "feeds").rglob("*") if f.is_file()]
    assert len(results) == len(feed_files)
    receipts = [r for r in results if isinstance(r, Receipt)]
    assert len(receipts) == len(results), [str(r) for r in results if not isinstance(r, Receipt)]
    assert all(r.status == "accepted" for r in receipts)
    received = sum(r.received for r in receipts)
    rejected = sum(r.rejected for r in receipts)
    assert rejected / received < 0.02  # the synthetic furnishers' typing mistakes
    # Every reject names a field the furnisher can fix.
    assert all(x["field"] and x["reason"] for r in receipts for x in r.rejects)

    truth = pq.read_table(population / "truth" / "accounts.parquet").to_pandas()
    accepted_accounts = sum(r.accepted for r in receipts if r.kind == "accounts")
    assert count(context, "account_months") == accepted_accounts
    assert count(context, "accounts") <= len(truth)
    assert count(context, "accounts") >= 0.97 * len(truth)
    payments = sum(r.accepted for r in receipts if r.kind == "payments")
    con = duckdb.connect()
    in_lake = con.execute(
        "SELECT count(*) FROM read_parquet(?)", [lake.payments_files(context.lake)]
    ).fetchall()[0][0]
    assert in_lake == payments > 0

    # Deterministic linking never puts two true people into one credit file.
    linked = rows(
        context,
        "SELECT furnisher_id, furnisher_account_id, consumer_id "
        "FROM accounts WHERE consumer_id IS NOT NULL",
    )
    person = {(t.furnisher_id, t.account_id): t.person_id for t in truth.itertuples()}
    people_per_consumer: dict[str, set[object]] = {}
    for furnisher, account, consumer in linked:
        people_per_consumer.setdefault(consumer, set()).add(person[(furnisher, account)])
    assert people_per_consumer
    assert all(len(p) == 1 for p in people_per_consumer.values())
    # Records without a usable national id are kept and flagged, never dropped.
    flagged = count(context, "identity_records", "WHERE needs_resolution")
    assert flagged > 0
    assert flagged == count(context, "identity_records", "WHERE consumer_id IS NULL")

    # Ingesting everything again writes nothing.
    again = ingest_feeds(context, population / "feeds")
    assert all(isinstance(r, Receipt) and r.status == "duplicate" for r in again)
