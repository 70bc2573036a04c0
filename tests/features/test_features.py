"""Snapshots are point in time; features are the same on DuckDB, Spark and online."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from openbureau.context import Context
from openbureau.engine.sql import translate
from openbureau.features import lake
from openbureau.features.asof import AsOf, month_index
from openbureau.features.compute import compute_features, features_for_consumer
from openbureau.features.pipeline import feature_sql
from openbureau.features.snapshot import take_snapshot
from openbureau.features.spec import FEATURES, feature_names
from tests.features import factory


def _as_of(built: factory.Built, i: int) -> AsOf:
    return AsOf.end_of_month(month_index(built.month(i)))


def _features(ctx: Context, as_of: AsOf) -> pa.Table:
    take_snapshot(ctx, as_of)
    return compute_features(ctx, as_of, write=False).table


def _month_value(ctx: Context, as_of: AsOf, account_id: int, month: dt.date) -> dict[str, object]:
    import pyarrow.parquet as pq

    files = lake.partition_files(ctx.lake, lake.SNAPSHOT_ACCOUNT_MONTHS, as_of.key)
    table = pa.concat_tables([pq.read_table(f) for f in files])
    rows = table.filter(
        pc.and_(
            pc.equal(table.column("account_id"), account_id),
            pc.equal(table.column("month"), pa.scalar(month, pa.date32())),
        )
    ).to_pylist()
    assert len(rows) == 1
    return rows[0]


def test_as_of_cutoff() -> None:
    assert AsOf.parse("2024-03").date == dt.date(2024, 3, 31)
    assert AsOf.parse("2024-03-31").cutoff_month == dt.date(2024, 3, 1)
    # A mid-month date knows only the months that have ended.
    assert AsOf.parse("2024-03-15").cutoff_month == dt.date(2024, 2, 1)
    assert AsOf.parse("2024-02").months_later(12).date == dt.date(2025, 2, 28)


def test_snapshot_excludes_later_corrections(context: Context) -> None:
    built = factory.build(context, consumers=8, months=16)
    account = built.account_ids[0]
    month = built.month(3)
    t11, t13, t14 = (_as_of(built, i) for i in (11, 13, 14))
    take_snapshot(context, t11)
    original = _month_value(context, t11, account, month)
    # The file for reporting month 14 corrects month 3.
    factory.correct(
        context, built, account, 3, 14, balance_minor=987_654_321, status="dpd30", days_past_due=35
    )
    for as_of in (t11, t13, t14):
        take_snapshot(context, as_of)
    assert _month_value(context, t11, account, month) == original
    assert _month_value(context, t13, account, month)["balance_minor"] == original["balance_minor"]
    corrected = _month_value(context, t14, account, month)
    assert corrected["balance_minor"] == 987_654_321
    assert corrected["status"] == "dpd30"
    assert corrected["known_month"] == built.month(14)
    # Nothing after the cut-off month is in a snapshot.
    files = lake.partition_files(context.lake, lake.SNAPSHOT_ACCOUNT_MONTHS, t11.key)
    import pyarrow.parquet as pq

    months = pa.concat_tables([pq.read_table(f) for f in files]).column("month")
    assert pc.max(months).as_py() == built.month(11)


def test_records_after_the_as_of_date_change_nothing(context: Context) -> None:
    built = factory.build(context, consumers=25, months=12, seed=1)
    as_of = _as_of(built, 11)
    c0, c1 = built.consumers[:2]
    day = as_of.date
    factory.add_inquiries(
        context,
        [
            (c0, dt.datetime(day.year, day.month, 2, 10, tzinfo=dt.UTC), "hard"),
            (c1, dt.datetime(day.year, day.month, 1, 9, tzinfo=dt.UTC), "soft"),
        ],
    )
    before = _features(context, as_of)
    assert before.column("nc_hard_inquiries_6m").to_pylist()[0] == 1.0
    # Later files: four more months (accounts and payments), a correction of month 2 sent in
    # month 13, a new loan opened in month 13, inquiries after the date.
    factory.extend(context, built, 4)
    factory.correct(
        context,
        built,
        built.account_ids[1],
        2,
        13,
        balance_minor=1,
        status="dpd90",
        days_past_due=95,
    )
    factory.new_account(context, built, c0, 13)
    factory.add_inquiries(
        context,
        [
            (c0, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), dt.UTC), "hard"),
            (c1, dt.datetime(2030, 1, 1, tzinfo=dt.UTC), "hard"),
        ],
    )
    after = _features(context, as_of)
    assert after.equals(before)
    # ... while a later as-of date does see them.
    later = _features(context, _as_of(built, 14))
    assert not later.equals(before)


@pytest.mark.slow
def test_online_features_equal_the_batch(context: Context) -> None:
    built = factory.build(context, consumers=12, months=14, seed=2)
    as_of = _as_of(built, 12)
    factory.correct(
        context,
        built,
        built.account_ids[2],
        5,
        13,
        balance_minor=5,
        status="dpd60",
        days_past_due=61,
    )
    factory.add_inquiries(
        context,
        [(built.consumers[3], dt.datetime(2023, 11, 5, tzinfo=dt.UTC), "hard")],
    )
    batch = _features(context, as_of)
    rows = {r["consumer_id"]: r for r in batch.to_pylist()}
    assert set(rows) == set(built.consumers)
    for consumer in built.consumers:
        online = features_for_consumer(context, consumer, as_of)
        assert online is not None
        expected = {k: v for k, v in rows[consumer].items() if k != "consumer_id"}
        assert online == expected, consumer
    assert features_for_consumer(context, "C-nobody", as_of) is None


def test_feature_table_is_written_per_as_of(sqlite_context: Context) -> None:
    built = factory.build(sqlite_context, consumers=10, months=13, seed=3)
    a, b = _as_of(built, 10), _as_of(built, 12)
    for as_of in (a, b, a):
        compute_features(sqlite_context, as_of)
    assert lake.partitions(sqlite_context.lake, lake.FEATURES) == [a.key, b.key]
    assert lake.partitions(sqlite_context.lake, lake.SNAPSHOT_ACCOUNTS) == [a.key, b.key]
    meta = lake.commit_metadata(sqlite_context.lake, lake.FEATURES, a.key)
    assert meta["openbureau.kind"] == "features"


def test_every_feature_is_documented_and_translates() -> None:
    names = feature_names()
    assert len(names) == len(set(names)) >= 40
    codes = [f.code for f in FEATURES]
    assert len(codes) == len(set(codes))
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "features.md").read_text()
    from openbureau.features.docs import render

    assert docs == render(), "docs/features.md is stale: python -m openbureau.features.docs"
    spark_sql = translate(feature_sql(AsOf.parse("2024-06")), "spark")
    assert "DATEDIFF" in spark_sql.upper()


@pytest.mark.spark
@pytest.mark.slow
def test_spark_equals_duckdb(sqlite_context: Context, spark: object) -> None:
    built = factory.build(sqlite_context, consumers=15, months=13, seed=4)
    factory.add_inquiries(
        sqlite_context, [(built.consumers[0], dt.datetime(2023, 10, 1, tzinfo=dt.UTC), "hard")]
    )
    as_of = _as_of(built, 12)
    duck = _features(sqlite_context, as_of)
    # The fixture's session is active: the spark engine runs on it.
    result = compute_features(sqlite_context, as_of, write=False, engine="spark")
    assert result.engine == "spark"
    on_spark = result.table
    assert on_spark.schema == duck.schema
    assert on_spark.equals(duck)
