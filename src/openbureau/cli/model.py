"""``openbureau model …``: score models (fit-table now; train/list/show/approve/report later).

A Typer sub-app: each command is a thin function over :mod:`openbureau.scoring`; heavy
libraries load inside the command, so ``openbureau --help`` stays fast. New commands are
added with ``@app.command(name=...)`` in this module.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from openbureau.cli._common import console, handle_errors, print_json

app = typer.Typer(
    name="model",
    help="Score models: train on the credit file, approve, retire, report; fit any table.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Kind(StrEnum):
    scorecard = "scorecard"
    gbm = "gbm"


@app.command(name="fit-table")
def fit_table(
    data: Annotated[Path, typer.Option("--data", help="CSV (any separator) or Parquet file.")],
    target: Annotated[str, typer.Option("--target", help="Outcome column (bad/good).")],
    kind: Annotated[Kind, typer.Option("--kind", help="Model kind.")] = Kind.scorecard,
    folds: Annotated[int, typer.Option("--folds", min=2, help="Stratified CV folds.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the folds and the model.")] = 0,
    bad_value: Annotated[
        str | None,
        typer.Option(
            "--bad-value",
            help="Target value meaning bad (others are good). Default: 1 of 0/1, a label "
            "such as 'bad'/'yes'/'default', else the minority class.",
        ),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option("--group", help="Column for the fairness section (never a model input)."),
    ] = None,
    cutoff: Annotated[
        float | None, typer.Option("--cutoff", help="Approval cut-off score for the group table.")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Column never used (repeatable).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the HTML model report here.")
    ] = None,
    sep: Annotated[
        str | None, typer.Option("--sep", help="CSV separator (default: sniffed).")
    ] = None,
    no_header: Annotated[
        bool, typer.Option("--no-header", help="The CSV has no header: columns col1…colN.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Cross-validate a scorecard or GBM on any credit table; print AUC, KS, Gini."""
    with handle_errors():
        from openbureau.scoring.table import fit_table as run

        result = run(
            data,
            target,
            kind=kind.value,
            folds=folds,
            seed=seed,
            bad_value=bad_value,
            group=group,
            cutoff=cutoff,
            exclude=exclude or (),
            report=report,
            sep=sep,
            header=not no_header,
        )
    summary = result.summary()
    if as_json:
        print_json(summary)
        return
    from rich.table import Table

    cv = result.cv
    console.print(
        f"{kind.value} on {data.name}: {summary['rows']:,} rows, bad rate "
        f"{summary['bad_rate']:.3f} (bad = {summary['bad_value']!r}: {summary['bad_value_rule']})"
    )
    table = Table("fold", "AUC", "KS", "Gini")
    for i, (a, k, g) in enumerate(
        zip(cv.auc_per_fold, cv.ks_per_fold, cv.gini_per_fold, strict=True), start=1
    ):
        table.add_row(str(i), f"{a:.4f}", f"{k:.4f}", f"{g:.4f}")
    table.add_row("mean", f"{cv.auc:.4f}", f"{cv.ks:.4f}", f"{cv.gini:.4f}", style="bold")
    console.print(table)
    if result.report:
        console.print(f"report    {result.report}")


__all__ = ["app"]
