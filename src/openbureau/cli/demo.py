"""``openbureau demo``: the whole bureau on a synthetic population, step by step."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from openbureau.cli._common import console, handle_errors, make_context
from openbureau.cli._progress import progress_display
from openbureau.cli.ingest import receipts_table
from openbureau.cli.synth import summary_table
from openbureau.context import Context
from openbureau.demo import population_dir, prepare_demo_home
from openbureau.ingest import ingest_feeds
from openbureau.synth import SynthConfig, generate


def _link_step(ctx: Context, population: Path) -> None:
    from openbureau.cli.identity import metrics_table, quiet_splink
    from openbureau.cli.identity import summary_table as link_table
    from openbureau.identity.evaluate import evaluate_store
    from openbureau.identity.link import link

    quiet_splink()
    console.print(link_table(link(ctx).as_dict()))
    console.print("   against the population's truth:")
    console.print(metrics_table(evaluate_store(ctx, population).as_dict()))


def _took(since: float) -> float:
    """Print how long a step took; returns the time the next step starts."""
    now = time.perf_counter()
    console.print(f"   [dim]took {now - since:.1f} s[/]")
    return now


def demo(
    consumers: Annotated[int, typer.Option(help="Number of synthetic consumers.")] = 20_000,
    months: Annotated[int, typer.Option(help="Reporting months to synthesise.")] = 36,
    seed: Annotated[int, typer.Option(help="Random seed of the population.")] = 0,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve", help="Then serve the bureau: print demo keys and example curl commands."
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="With --serve: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --serve: port.", min=1, max=65535)] = 8000,
) -> None:
    """Run OpenBureau end to end on a fresh synthetic population in the configured home."""
    started = time.perf_counter()
    with handle_errors():
        ctx = make_context()
        try:
            console.rule("[bold]OpenBureau demo")
            console.print("[bold]1. Initialising[/] a fresh home: keys, credit-file database, lake")
            prepare_demo_home(ctx)
            result = ctx.init()
            console.print(f"   home {result.home}, database schema {result.revision}")

            out = population_dir(ctx)
            console.print(
                f"[bold]2. Synthesising[/] {consumers:,} consumers over {months} months "
                f"(seed {seed}) into {out}"
            )
            config = SynthConfig(consumers=consumers, months=months, seed=seed)
            step = time.perf_counter()
            with progress_display() as progress:
                summary = generate(config, out, progress)
            console.print(summary_table(summary))
            step = _took(step)

            console.print("[bold]3. Ingesting[/] every furnisher feed, month by month")
            receipts = ingest_feeds(ctx, out / "feeds", out / "furnishers.json")
            console.print(receipts_table(receipts))
            step = _took(step)

            console.print("[bold]4. Linking[/] identity records to consumers (Splink, DuckDB)")
            _link_step(ctx, out)
            step = _took(step)

            # Features, models and scores (openbureau.cli.demo_scores).
            from openbureau.cli.demo_scores import score_steps

            score_steps(ctx, out, config, first_step=5)
        finally:
            ctx.close()
    console.print(f"[bold green]Demo finished[/] in {time.perf_counter() - started:.1f} s.")
    if serve:
        from openbureau.cli.service import print_demo_access
        from openbureau.cli.service import serve as serve_cmd

        with handle_errors():
            ctx = make_context()
            try:
                print_demo_access(ctx, host, port)
            finally:
                ctx.close()
        serve_cmd(host=host, port=port, workers=None, access_log=False)
