"""``openbureau model train|list|show|approve|retire|report``: the model registry.

:func:`register` adds the commands to the ``model`` sub-app of :mod:`openbureau.cli.model`.
Each command is a thin function over :mod:`openbureau.scores`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from openbureau.cli._common import console, handle_errors, make_context, print_json
from openbureau.cli.features import AS_OF_HELP, EngineName
from openbureau.cli.model import Kind


def _metric(metrics: dict[str, Any], sample: str, name: str) -> str:
    value = (metrics.get(sample) or {}).get(name)
    return "" if value is None else f"{value:.4f}"


def train(
    as_of: Annotated[str, typer.Option("--as-of", help=AS_OF_HELP)],
    kind: Annotated[Kind, typer.Option("--kind", help="Model kind.")] = Kind.scorecard,
    validate_as_of: Annotated[
        str | None,
        typer.Option("--validate-as-of", help="Later as-of date for out-of-time validation."),
    ] = None,
    engine: Annotated[EngineName, typer.Option("--engine", help="Feature engine.")] = (
        EngineName.duckdb
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train a scorecard or GBM on the credit file as of a date; register it as a candidate."""
    with handle_errors():
        from openbureau.features.asof import AsOf
        from openbureau.scores.train import train as run

        ctx = make_context()
        try:
            info = run(
                ctx,
                AsOf.parse(as_of),
                kind.value,
                validate_as_of=AsOf.parse(validate_as_of) if validate_as_of else None,
                engine=engine.value,
            )
        finally:
            ctx.close()
    if as_json:
        print_json(info.as_dict())
        return
    console.print(
        f"model {info.id} ({info.kind}) registered as a candidate: {len(info.features)} "
        f"characteristics, development AUC {_metric(info.metrics, 'development', 'auc')}"
        + (
            f", out-of-time AUC {_metric(info.metrics, 'out_of_time', 'auc')} "
            f"KS {_metric(info.metrics, 'out_of_time', 'ks')} as of {info.validate_as_of}"
            if "out_of_time" in info.metrics
            else ""
        )
    )
    console.print(f"artifact  {info.artifact}")


def list_(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per model.")] = False,
) -> None:
    """List registered models with their state and metrics."""
    with handle_errors():
        from openbureau.scores.registry import list_models

        ctx = make_context()
        try:
            models = list_models(ctx)
        finally:
            ctx.close()
    if as_json:
        for m in models:
            print_json(m.as_dict())
        return
    from rich.table import Table

    table = Table(
        "id",
        "kind",
        "state",
        "trained as of",
        "validated as of",
        "dev AUC",
        "OOT AUC",
        "OOT KS",
        "features",
    )
    for m in models:
        table.add_row(
            str(m.id),
            m.kind,
            m.state,
            str(m.train_as_of),
            str(m.validate_as_of or ""),
            _metric(m.metrics, "development", "auc"),
            _metric(m.metrics, "out_of_time", "auc"),
            _metric(m.metrics, "out_of_time", "ks"),
            str(len(m.features)),
        )
    console.print(table)


def show(
    model_id: Annotated[int, typer.Argument(metavar="ID", help="Registry id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Everything the registry holds on one model."""
    with handle_errors():
        from openbureau.scores.registry import get

        ctx = make_context()
        try:
            info = get(ctx, model_id)
        finally:
            ctx.close()
    if as_json:
        print_json(info.as_dict())
        return
    for key, value in info.as_dict().items():
        console.print(f"[bold]{key:<17}[/] {value}", soft_wrap=True)


def approve(
    model_id: Annotated[int, typer.Argument(metavar="ID", help="Registry id.")],
    by: Annotated[str | None, typer.Option("--by", help="Who approves (recorded).")] = None,
) -> None:
    """Approve a model: it alone serves scores; the previously approved one is retired."""
    with handle_errors():
        from openbureau.scores.registry import approve as run

        ctx = make_context()
        try:
            info = run(ctx, model_id, by=by)
        finally:
            ctx.close()
    console.print(f"model {info.id} ({info.kind}) approved: it serves scores from now on")


def retire(model_id: Annotated[int, typer.Argument(metavar="ID", help="Registry id.")]) -> None:
    """Retire a model (if it was approved, no model serves until another is approved)."""
    with handle_errors():
        from openbureau.scores.registry import retire as run

        ctx = make_context()
        try:
            info = run(ctx, model_id)
        finally:
            ctx.close()
    console.print(f"model {info.id} retired")


def report(
    model_id: Annotated[int, typer.Argument(metavar="ID", help="Registry id.")],
    out: Annotated[Path | None, typer.Option("--out", help="HTML file to write.")] = None,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="Synthetic population folder: adds the group section."),
    ] = None,
    cutoff: Annotated[
        float | None, typer.Option("--cutoff", help="Approval cut-off score for the group table.")
    ] = None,
) -> None:
    """Write a model's HTML report: ROC/KS, distributions, calibration, bins, PSI, groups."""
    with handle_errors():
        from openbureau.scores.report import model_report

        ctx = make_context()
        try:
            path = model_report(ctx, model_id, out=out, truth=truth, cutoff=cutoff)
        finally:
            ctx.close()
    console.print(f"report    {path}")


def register(app: typer.Typer) -> None:
    """Add the registry commands to the ``model`` sub-app."""
    app.command(name="train")(train)
    app.command(name="list")(list_)
    app.command(name="show")(show)
    app.command(name="approve")(approve)
    app.command(name="retire")(retire)
    app.command(name="report")(report)


__all__ = ["approve", "list_", "register", "report", "retire", "show", "train"]
