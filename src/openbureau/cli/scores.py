"""``openbureau score --as-of DATE`` and ``openbureau evaluate scores --truth DIR --as-of DATE``.

``evaluate scores`` goes on the ``evaluate`` sub-app that the identity commands own
(:mod:`openbureau.cli.identity`): :func:`register` adds it.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from openbureau.cli._common import console, handle_errors, make_context, print_json
from openbureau.cli.features import AS_OF_HELP, EngineName


def distribution_table(scores: np.ndarray[Any, Any], title: str = "Score distribution") -> Any:
    """Counts of scores in 50-point bands (300–850)."""
    from rich.table import Table

    table = Table("band", "consumers", "share", title=title, title_justify="left")
    edges = [300, 450, 500, 550, 600, 650, 700, 750, 800, 851]
    total = max(len(scores), 1)
    for lo, hi in pairwise(edges):
        n = int(((scores >= lo) & (scores < hi)).sum())
        label = f"{lo}–{min(hi, 850) - (0 if hi == 851 else 1)}"
        table.add_row(label, f"{n:,}", f"{n / total:6.1%}  " + "█" * round(40 * n / total))
    return table


def score(
    as_of: Annotated[str, typer.Option("--as-of", help=AS_OF_HELP)],
    engine: Annotated[EngineName, typer.Option("--engine", help="Feature engine.")] = (
        EngineName.duckdb
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score every consumer with the approved model; scores and reasons to lake and database."""
    with handle_errors():
        from openbureau.features.asof import AsOf
        from openbureau.scores.batch import score as run

        ctx = make_context()
        try:
            result = run(ctx, AsOf.parse(as_of), engine=engine.value)
        finally:
            ctx.close()
    s = result.scores
    summary = {
        "as_of": result.as_of.key,
        "model_id": result.model_id,
        "consumers": len(s),
        "mean_score": float(s.mean()) if len(s) else None,
        "lake_version": result.version,
        "timings": result.timings,
    }
    if as_json:
        print_json(summary)
        return
    console.print(
        f"scored {len(s):,} consumers as of {result.as_of} with model {result.model_id} "
        f"(mean {summary['mean_score'] or 0:.0f})"
    )
    console.print(distribution_table(s))


def evaluate_scores(
    truth: Annotated[
        Path, typer.Option("--truth", help="A synthetic population's folder (or its truth/).")
    ],
    as_of: Annotated[str, typer.Option("--as-of", help=AS_OF_HELP)],
    model: Annotated[
        int | None, typer.Option("--model", help="Registry id (default: the approved model).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """The approved model's AUC against the true PD's AUC on the same consumers."""
    with handle_errors():
        from openbureau.features.asof import AsOf
        from openbureau.scores.evaluate import evaluate_scores as run

        ctx = make_context()
        try:
            result = run(ctx, truth, AsOf.parse(as_of), model_id=model).as_dict()
        finally:
            ctx.close()
    if as_json:
        print_json(result)
        return
    console.print(
        f"model {result['model_id']} as of {result['as_of']} on {result['consumers']:,} "
        f"consumers ({result['bads']:,} bad): AUC {result['auc']:.4f}, true-PD AUC "
        f"{result['oracle_auc']:.4f}, ratio {result['ratio']:.3f}; mixed files "
        f"{result['mixed_consumers']}, unmatched {result['unmatched_consumers']}"
    )


def register(evaluate_app: typer.Typer) -> None:
    """Add ``evaluate scores`` to the ``evaluate`` sub-app."""
    evaluate_app.command("scores")(evaluate_scores)


__all__ = ["distribution_table", "evaluate_scores", "register", "score"]
