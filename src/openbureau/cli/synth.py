"""``openbureau synth``: write a synthetic population (furnisher feeds and ground truth)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openbureau.cli._common import console, handle_errors, print_json
from openbureau.cli._progress import progress_display
from openbureau.synth import SynthConfig, SynthSummary, generate


def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder to write feeds/ and truth/ into.")],
    consumers: Annotated[int, typer.Option(help="Number of true persons.")] = 20_000,
    months: Annotated[int, typer.Option(help="Reporting months to write.")] = 36,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 0,
    start: Annotated[str, typer.Option(help="First reporting month, YYYY-MM.")] = "2023-01",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Write a synthetic national credit population: furnisher feeds plus the ground truth."""
    with handle_errors():
        config = SynthConfig(consumers=consumers, months=months, seed=seed, start_month=start)
        started = time.perf_counter()
        with progress_display(enabled=not as_json) as progress:
            summary = generate(config, out, progress)
        elapsed = time.perf_counter() - started
    if as_json:
        print_json({**summary.as_dict(), "seconds": round(elapsed, 2)})
    else:
        console.print(summary_table(summary, elapsed))


def summary_table(summary: SynthSummary, elapsed: float | None = None) -> Table:
    table = Table(title="Synthetic population", show_header=False, title_justify="left")
    table.add_row("people", f"{summary.people:,}")
    table.add_row(
        "furnishers", f"{summary.furnishers} (bankcard CSV, microloan JSONL, payplat Parquet)"
    )
    table.add_row("months", f"{summary.months}")
    table.add_row("files", f"{summary.files:,} in {summary.out / 'feeds'}")
    table.add_row("account records", f"{summary.account_records:,}")
    table.add_row("payment transactions", f"{summary.payment_records:,}")
    table.add_row(
        "12-month bad rate", f"{summary.bad_rate:.2%} (90+ days past due within 12 months)"
    )
    table.add_row("truth-PD AUC", f"{summary.truth_auc:.3f} (the ceiling for any model)")
    if elapsed is not None:
        table.add_row("time", f"{elapsed:.1f} s")
    return table
