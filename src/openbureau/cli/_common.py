"""What every command shares: the console, the context, the error handler."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from sqlalchemy.exc import InterfaceError, OperationalError

from openbureau.context import Context
from openbureau.errors import OpenBureauError

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


class State:
    debug: bool = False


state = State()


@contextmanager
def handle_errors() -> Iterator[None]:
    """Known errors become one red ``Error:`` line and exit code 1 (a traceback with --debug)."""
    try:
        yield
    except OpenBureauError as e:
        if state.debug:
            raise
        err_console.print(f"[bold red]Error:[/] {e}", soft_wrap=True)
        raise typer.Exit(1) from None
    except (OperationalError, InterfaceError) as e:
        if state.debug:
            raise
        # The driver's message names the server or file, never row data.
        err_console.print(f"[bold red]Error:[/] cannot use the database: {e.orig}", soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err_console.print("[bold red]Error:[/] interrupted")
        raise typer.Exit(130) from None


def make_context() -> Context:
    return Context()


def print_json(obj: Any) -> None:
    """One JSON object per line on stdout, for machines."""
    sys.stdout.write(json.dumps(obj, default=str, sort_keys=False) + "\n")
    sys.stdout.flush()


# Libraries that narrate their training at WARNING level (EM levels not observed, ...):
# useful when debugging a model, noise in a command's output.
_CHATTY = ("splink", "py4j", "lightgbm", "optbinning")


def configure_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not debug:
        # A filter on the handlers, not a logger level: some libraries reset their own
        # loggers' levels when they are imported, after this runs.
        for handler in logging.getLogger().handlers:
            handler.addFilter(_quiet_libraries)


def _quiet_libraries(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR or not record.name.startswith(_CHATTY)
