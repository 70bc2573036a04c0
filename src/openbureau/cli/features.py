"""``openbureau snapshot --as-of DATE`` and ``openbureau features --as-of DATE``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from openbureau.cli._common import console, handle_errors, make_context, print_json

AS_OF_HELP = "As-of date, YYYY-MM-DD (or YYYY-MM: the end of that month)."


class EngineName(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def snapshot(
    as_of: Annotated[list[str], typer.Option("--as-of", help=AS_OF_HELP + " Repeatable.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per date.")
    ] = False,
) -> None:
    """Copy the credit file as known on a date into the lake (later corrections excluded)."""
    with handle_errors():
        from openbureau.features.asof import AsOf
        from openbureau.features.snapshot import take_snapshots

        ctx = make_context()
        try:
            results = take_snapshots(ctx, [AsOf.parse(a) for a in as_of])
        finally:
            ctx.close()
    for r in results:
        if as_json:
            print_json(
                {
                    "as_of": r.as_of.key,
                    "cutoff_month": f"{r.as_of.cutoff_month:%Y-%m}",
                    "consumers": r.consumers,
                    "rows": r.rows,
                    "versions": r.versions,
                    "timings": r.timings,
                }
            )
        else:
            console.print(
                f"snapshot as of {r.as_of} (reporting months through "
                f"{r.as_of.cutoff_month:%Y-%m}): {r.consumers:,} consumers, "
                f"{r.rows['snapshot_accounts']:,} accounts, "
                f"{r.rows['snapshot_account_months']:,} account-months, "
                f"{r.rows['snapshot_inquiries']:,} inquiries"
            )


def features(
    as_of: Annotated[str, typer.Option("--as-of", help=AS_OF_HELP)],
    engine: Annotated[EngineName, typer.Option("--engine", help="Compute engine.")] = (
        EngineName.duckdb
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Compute every consumer's features as of a date into the lake (snapshots if needed)."""
    with handle_errors():
        from openbureau.features.asof import AsOf
        from openbureau.features.compute import compute_features

        ctx = make_context()
        try:
            result = compute_features(ctx, AsOf.parse(as_of), engine=engine.value)
        finally:
            ctx.close()
    summary = {
        "as_of": result.as_of.key,
        "engine": result.engine,
        "consumers": result.consumers,
        "features": result.table.num_columns - 1,
        "feature_set": result.feature_set,
        "version": result.version,
        "timings": result.timings,
    }
    if as_json:
        print_json(summary)
        return
    console.print(
        f"features as of {result.as_of} on {result.engine}: {result.consumers:,} consumers × "
        f"{summary['features']} features (set {result.feature_set}), lake version "
        f"{result.version}, {sum(result.timings.values()):.1f} s"
    )


__all__ = ["EngineName", "features", "snapshot"]
