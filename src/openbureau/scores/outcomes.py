"""The outcome a score predicts, computed by the bureau from its own credit file.

*Bad* = an account newly reaching 90+ days past due, charged off or sent to collection in
the 12 reporting months after the as-of cut-off month ``C`` (months ``C+1 … C+12``), read
from the snapshot as known at the end of month ``C+12`` (so late corrections of the window
count, and nothing after it does). Accounts already charged off or in collection at ``C``
are old news, not new events.

*Already bad at the as-of date* (excluded from training and validation): an account 90 or
120+ days past due in month ``C``, or charged off for the first time in month ``C``.
"""

from __future__ import annotations

import pyarrow as pa

from openbureau.context import Context
from openbureau.engine.sql import DuckDBRunner
from openbureau.errors import OutcomeNotMatureError
from openbureau.features import lake
from openbureau.features.asof import AsOf
from openbureau.features.snapshot import has_snapshot, latest_known_month, take_snapshot

HORIZON_MONTHS = 12

OUTCOMES_SCHEMA = pa.schema(
    [("consumer_id", pa.string()), ("bad_now", pa.int64()), ("bad_12m", pa.int64())]
)


def outcome_sql(as_of: AsOf) -> str:
    c = as_of.cutoff_index
    return (
        "WITH am AS (SELECT account_id, consumer_id, "  # noqa: S608
        f"{c} - (year(month) * 12 + month(month) - 1) AS age, "
        "CASE WHEN status IN ('charged_off', 'collection') THEN 6 WHEN status = 'dpd120' "
        "THEN 5 WHEN status = 'dpd90' THEN 4 ELSE 0 END AS sr "
        "FROM account_months WHERE consumer_id IS NOT NULL), "
        "acc AS (SELECT account_id, consumer_id, "
        "max(CASE WHEN age = 0 AND sr IN (4, 5) THEN 1 ELSE 0 END) AS delinquent_now, "
        "max(CASE WHEN sr = 6 THEN age END) AS first_derog_age, "
        "max(CASE WHEN age >= 0 AND sr = 6 THEN 1 ELSE 0 END) AS derog_before, "
        f"max(CASE WHEN age BETWEEN -{HORIZON_MONTHS} AND -1 AND sr >= 4 THEN 1 ELSE 0 END) "
        "AS bad_after FROM am GROUP BY account_id, consumer_id) "
        "SELECT consumer_id, "
        "max(CASE WHEN delinquent_now = 1 OR first_derog_age = 0 THEN 1 ELSE 0 END) AS bad_now, "
        "max(CASE WHEN bad_after = 1 AND derog_before = 0 THEN 1 ELSE 0 END) AS bad_12m "
        "FROM acc GROUP BY consumer_id ORDER BY consumer_id"
    )


def outcomes(ctx: Context, as_of: AsOf) -> pa.Table:
    """``consumer_id, bad_now, bad_12m`` for everyone on file at the outcome date."""
    end = as_of.months_later(HORIZON_MONTHS)
    latest = latest_known_month(ctx)
    if latest is None or latest < end.cutoff_month:
        raise OutcomeNotMatureError(
            f"outcomes as of {as_of} need the credit file through {end.cutoff_month:%Y-%m}; "
            f"it is known through {latest:%Y-%m}"
            if latest
            else "the credit file is empty"
        )
    if not has_snapshot(ctx, end):
        take_snapshot(ctx, end)
    with DuckDBRunner() as runner:
        runner.register_parquet(
            "account_months",
            lake.partition_files(ctx.lake, lake.SNAPSHOT_ACCOUNT_MONTHS, end.key),
            lake.ACCOUNT_MONTHS_SCHEMA,
        )
        table = runner.query(outcome_sql(as_of))
    return pa.Table.from_arrays(
        [table.column(f.name).cast(f.type) for f in OUTCOMES_SCHEMA], schema=OUTCOMES_SCHEMA
    )


__all__ = ["HORIZON_MONTHS", "OUTCOMES_SCHEMA", "outcome_sql", "outcomes"]
