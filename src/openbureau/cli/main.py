"""Entry point: ``openbureau [--debug] COMMAND``."""

from __future__ import annotations

from typing import Annotated

import typer

from openbureau import __version__
from openbureau.cli import demo as demo_cmd
from openbureau.cli import features as features_cmd
from openbureau.cli import identity as identity_cmd
from openbureau.cli import ingest as ingest_cmd
from openbureau.cli import model_registry as model_registry_cmd
from openbureau.cli import scores as scores_cmd
from openbureau.cli import service as service_cmd
from openbureau.cli import synth as synth_cmd
from openbureau.cli._common import configure_logging, console, handle_errors, make_context, state
from openbureau.cli.model import app as model_app

app = typer.Typer(
    name="openbureau",
    help="OpenBureau: an open-source consumer credit information system.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"openbureau {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks and debug logs.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    state.debug = debug
    configure_logging(debug)


@app.command()
def init() -> None:
    """Create the home folder, the keys and the credit-file database schema (safe to re-run)."""
    with handle_errors():
        ctx = make_context()
        result = ctx.init()
        ctx.close()
    console.print(f"home      {result.home}")
    console.print(f"database  {result.database} (schema {result.revision})")
    console.print(f"lake      {result.lake}")
    for path in result.keys_created:
        console.print(f"key       {path} created (mode 0600)")


app.command(name="synth")(synth_cmd.synth)
app.command(name="demo")(demo_cmd.demo)
app.add_typer(model_app, name="model")
app.add_typer(ingest_cmd.furnishers_app, name="furnishers")
app.command(name="ingest")(ingest_cmd.ingest)
app.command(name="link")(identity_cmd.link)
app.add_typer(identity_cmd.review_app, name="review")
app.add_typer(identity_cmd.evaluate_app, name="evaluate")
app.command(name="snapshot")(features_cmd.snapshot)
app.command(name="features")(features_cmd.features)
app.command(name="score")(scores_cmd.score)
model_registry_cmd.register(model_app)
scores_cmd.register(identity_cmd.evaluate_app)
service_cmd.register(app)


def main() -> None:
    app()


__all__ = ["app", "main"]
