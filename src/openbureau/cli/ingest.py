"""``openbureau furnishers ...`` and ``openbureau ingest PATH --furnisher ID``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer
from rich import box
from rich.table import Table

from openbureau.cli._common import console, err_console, handle_errors, make_context, print_json
from openbureau.errors import BatchRefusedError, IngestError
from openbureau.ingest import Receipt, add_furnisher, ingest_path, list_furnishers
from openbureau.ingest.formats import Format, Kind

furnishers_app = typer.Typer(help="Register and list data furnishers.", no_args_is_help=True)


@furnishers_app.command("add")
def furnishers_add(
    furnisher_id: Annotated[str, typer.Argument(metavar="ID", help="Short id, e.g. 'bankcard'.")],
    name: Annotated[str, typer.Option("--name", help="The furnisher's name.")],
) -> None:
    """Register a furnisher (safe to re-run)."""
    with handle_errors():
        ctx = make_context()
        created = add_furnisher(ctx, furnisher_id, name)
        ctx.close()
    console.print(f"furnisher {furnisher_id} {'registered' if created else 'already registered'}")


@furnishers_app.command("list")
def furnishers_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List registered furnishers."""
    with handle_errors():
        ctx = make_context()
        rows = list_furnishers(ctx)
        ctx.close()
    for row in rows:
        if as_json:
            print_json(row)
        else:
            console.print(f"{row['id']:<20} {row['name']:<40} {row['batches']} batches")


def _summary(r: Receipt) -> str:
    line = (
        f"{r.status:<9} {r.file}  received {r.received}  accepted {r.accepted}  "
        f"rejected {r.rejected}  corrected {r.corrected}  duplicates {r.duplicates}"
    )
    if r.reject_file:
        line += f"\n          rejects: {r.reject_file}"
    return line


def receipts_table(results: list[Receipt | IngestError]) -> Table:
    """A summary of many receipts: one row per furnisher and kind."""
    rows: dict[tuple[str, str], list[int]] = {}
    problems = 0
    for r in results:
        if not isinstance(r, Receipt):
            problems += 1
            continue
        agg = rows.setdefault((r.furnisher, r.kind), [0, 0, 0, 0, 0, 0, 0])
        counts = (
            int(r.status != "refused"),
            1,
            r.received,
            r.accepted,
            r.rejected,
            r.corrected,
            r.duplicates,
        )
        for i, n in enumerate(counts):
            agg[i] += n
    table = Table(title="Receipts", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col in (
        "furnisher",
        "kind",
        "files",
        "records",
        "accepted",
        "rejected",
        "corrected",
        "dupl.",
    ):
        # no_wrap: an 80-column terminal must not cut a count short.
        table.add_column(
            col, justify="left" if col in ("furnisher", "kind") else "right", no_wrap=True
        )
    for (furnisher, kind), agg in sorted(rows.items()):
        ok, total, *rest = agg
        table.add_row(furnisher, kind, f"{ok}/{total}", *(f"{n:,}" for n in rest))
    if problems:
        table.caption = f"{problems} file(s) could not be ingested"
    return table


def ingest(
    path: Annotated[Path, typer.Argument(help="A batch file, or a folder of batch files.")],
    furnisher: Annotated[str, typer.Option("--furnisher", help="The registered furnisher id.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, jsonl or parquet (default: extension).")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="accounts or payments (default: from the file name)."),
    ] = None,
    ref: Annotated[
        str | None, typer.Option("--ref", help="Your own batch reference (idempotency key).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one receipt per line.")] = False,
) -> None:
    """Ingest furnisher files: validate, then write each batch whole or not at all."""
    failed = False
    with handle_errors():
        if fmt not in (None, "csv", "jsonl", "parquet"):
            raise IngestError(f"unknown format {fmt!r}: use csv, jsonl or parquet")
        if kind not in (None, "accounts", "payments"):
            raise IngestError(f"unknown kind {kind!r}: use accounts or payments")
        ctx = make_context()
        try:
            results = ingest_path(
                ctx,
                path,
                furnisher,
                kind=cast("Kind | None", kind),
                fmt=cast("Format | None", fmt),
                batch_ref=ref,
            )
            single = not path.is_dir()
            for result in results:
                if isinstance(result, Receipt):
                    if as_json:
                        print_json(result.to_dict())
                    else:
                        console.print(_summary(result), soft_wrap=True)
                    continue
                failed = True
                refused = isinstance(result, BatchRefusedError)
                if as_json and refused and isinstance(result.receipt, Receipt):  # type: ignore[attr-defined]
                    print_json(result.receipt.to_dict())  # type: ignore[attr-defined]
                if single:
                    raise result
                err_console.print(f"[bold red]Error:[/] {result}", soft_wrap=True)
        finally:
            ctx.close()
    if failed:
        raise typer.Exit(1)


__all__ = ["furnishers_app", "ingest", "receipts_table"]
