"""The demo's score steps: snapshots, features, a scorecard trained early and validated out
of time, approval, batch scores, and — since the demo has the truth — the ratio to the true
PD's AUC. Called by :mod:`openbureau.cli.demo` after the ingest and link steps."""

from __future__ import annotations

import time
from pathlib import Path

from openbureau.cli._common import console
from openbureau.context import Context
from openbureau.synth import SynthConfig


def score_steps(ctx: Context, population: Path, config: SynthConfig, *, first_step: int) -> None:
    """Run and print the score steps on the demo's population."""
    from openbureau.cli.scores import distribution_table
    from openbureau.features.asof import AsOf, month_index
    from openbureau.features.compute import compute_features
    from openbureau.features.snapshot import take_snapshots
    from openbureau.scores import registry
    from openbureau.scores.batch import score
    from openbureau.scores.evaluate import evaluate_scores
    from openbureau.scores.train import train

    step = first_step
    last = month_index(config.month(config.months - 1))
    if config.months < 13:
        console.print(f"[bold]{step}. Scores[/] skipped: 13 months or more are needed")
        return
    latest = AsOf.end_of_month(last)
    validate: AsOf | None = None
    if config.months >= 25:  # outcomes of 12 months after both dates are on file
        train_at, validate = AsOf.end_of_month(last - 24), AsOf.end_of_month(last - 12)
    else:
        train_at = AsOf.end_of_month(last - 12)
    dates = sorted({d for d in (train_at, validate, latest) if d is not None})

    t = time.perf_counter()
    console.print(
        f"[bold]{step}. Snapshotting[/] the credit file as known on "
        + ", ".join(d.key for d in dates)
        + " (bitemporal: later corrections excluded)"
    )
    for r in take_snapshots(ctx, dates):
        console.print(
            f"   {r.as_of}: {r.consumers:,} consumers, "
            f"{r.rows['snapshot_account_months']:,} account-months"
        )
    step += 1
    console.print(f"[bold]{step}. Computing features[/] (DuckDB) for each date")
    for d in dates:
        f = compute_features(ctx, d)
        console.print(f"   {d}: {f.consumers:,} consumers × {f.table.num_columns - 1} features")
    step += 1
    console.print(
        f"[bold]{step}. Training[/] the scorecard as of {train_at}"
        + (f", validating out of time as of {validate}" if validate else "")
    )
    info = train(ctx, train_at, "scorecard", validate_as_of=validate)
    sample = "out_of_time" if "out_of_time" in info.metrics else "development"
    m = info.metrics[sample]
    console.print(
        f"   model {info.id}: {len(info.features)} characteristics; {sample.replace('_', '-')} "
        f"AUC {m['auc']:.3f}, KS {m['ks']:.3f}, Gini {m['gini']:.3f} on {int(m['rows']):,} "
        f"consumers (bad rate {m['bad_rate']:.2%})"
    )
    step += 1
    registry.approve(ctx, info.id, by="demo")
    console.print(f"[bold]{step}. Approved[/] model {info.id}: only an approved model serves")
    step += 1
    console.print(f"[bold]{step}. Scoring[/] everyone with the approved model")
    run = score(ctx, latest)
    console.print(distribution_table(run.scores, f"Scores as of {latest}"))
    step += 1
    # The synthetic truth knows what happens in the 12 months after the last feed month.
    ev = evaluate_scores(ctx, population, latest)
    console.print(
        f"[bold]{step}. Against the truth[/] as of {latest}: AUC {ev.auc:.3f} vs the true PD's "
        f"{ev.oracle_auc:.3f} — ratio {ev.ratio:.3f} ({ev.consumers:,} consumers, "
        f"{ev.mixed_consumers} mixed files left out)"
    )
    console.print(f"   score steps took {time.perf_counter() - t:.1f} s")


__all__ = ["score_steps"]
