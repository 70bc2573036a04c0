"""``openbureau link``, ``openbureau review ...`` and ``openbureau evaluate identity``."""

from __future__ import annotations

import getpass
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from openbureau.cli._common import console, handle_errors, make_context, print_json, state
from openbureau.errors import IdentityError

review_app = typer.Typer(help="The identity review queue: uncertain matches.", no_args_is_help=True)
evaluate_app = typer.Typer(help="Measure against ground truth.", no_args_is_help=True)


def quiet_splink() -> None:
    """Splink's training notes (levels not seen, sampling) are for --debug, not operators."""
    if not state.debug:
        logging.getLogger("splink").setLevel(logging.ERROR)


def summary_table(s: dict[str, object]) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2))
    rows = [
        ("identity records", f"{s['records']:,}"),
        ("consumers", f"{s['consumers']:,}"),
        ("pairs scored (Splink)", f"{s['pairs_scored']:,}"),
        ("probabilistic links", f"{s['probabilistic_links']:,}"),
        ("kept apart by guards", f"{s['refused_by_guards']:,}"),
        ("new consumer ids", f"{s['consumers_created']:,}"),
        ("merges / splits", f"{s['merges']:,} / {s['splits']:,}"),
        ("records / accounts moved", f"{s['records_moved']:,} / {s['accounts_moved']:,}"),
        ("reviews pending", f"{s['reviews_pending']:,}"),
        ("model", "reused" if s["model_reused"] else "trained on this data (EM)"),
    ]
    timings = s.get("timings")
    if isinstance(timings, dict) and "total_s" in timings:
        rows.append(("time", f"{timings['total_s']:.1f} s"))
    for k, v in rows:
        table.add_row(k, v)
    return table


def link(
    engine: Annotated[str, typer.Option(help="duckdb (default) or spark.")] = "duckdb",
    retrain: Annotated[
        bool, typer.Option("--retrain", help="Estimate the model afresh instead of reusing it.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Link every identity record to one pseudonymous consumer id."""
    from openbureau.identity.link import link as run_link

    quiet_splink()
    with handle_errors():
        if engine not in ("duckdb", "spark"):
            raise IdentityError(f"unknown engine {engine!r}: use duckdb or spark")
        ctx = make_context()
        try:
            summary = run_link(ctx, engine=engine, retrain=retrain).as_dict()
        finally:
            ctx.close()
    if as_json:
        print_json(summary)
    else:
        console.print(summary_table(summary))


@review_app.command("list")
def review_list(
    status: Annotated[str, typer.Option(help="pending, accepted, rejected, obsolete, all")] = (
        "pending"
    ),
    limit: Annotated[int, typer.Option(help="At most this many items.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List review items, most probable first."""
    from openbureau.identity.review import list_reviews

    with handle_errors():
        ctx = make_context()
        try:
            items = list_reviews(ctx, status=status, limit=limit)
        finally:
            ctx.close()
    if as_json:
        for item in items:
            print_json(item)
        return
    table = Table("id", "status", "records", "probability", "weight", "agreeing")
    for i in items:
        table.add_row(
            str(i["id"]),
            str(i["status"]),
            f"{i['record_a']} ~ {i['record_b']}",
            f"{i['match_probability']:.3f}",
            f"{i['match_weight']:.1f}",
            ", ".join(i["agreeing"]),
        )
    console.print(table)
    if not items:
        console.print(f"no {status} review items")


@review_app.command("show")
def review_show(
    review_id: Annotated[int, typer.Argument(metavar="ID")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show one item: both records (ids masked) and the field-by-field evidence."""
    from openbureau.identity.review import show_review

    with handle_errors():
        ctx = make_context()
        try:
            item = show_review(ctx, review_id)
        finally:
            ctx.close()
    if as_json:
        print_json(item)
        return
    console.print(
        f"review {item['id']} ({item['status']}): match probability "
        f"{item['match_probability']:.4f}, weight {item['match_weight']:.2f} bits"
    )
    recs = Table("", *(f"record {r['record']}" for r in item["records"]))
    for field in (
        "furnisher",
        "account",
        "name",
        "birth_date",
        "phone",
        "address",
        "postcode",
        "national_id",
        "national_id_state",
        "consumer",
    ):
        recs.add_row(field, *(str(r[field]) for r in item["records"]))
    console.print(recs)
    ev = Table("comparison", "level", "agrees", "weight (bits)")
    for e in item["evidence"]:
        ev.add_row(
            e["comparison"], e["level"], "yes" if e["agrees"] else "no", f"{e['match_weight']:+.2f}"
        )
    console.print(ev)


def _decide(review_id: int, accept: bool, by: str | None, note: str | None) -> None:
    from openbureau.identity.review import decide

    with handle_errors():
        ctx = make_context()
        try:
            result = decide(ctx, review_id, accept=accept, by=by or getpass.getuser(), note=note)
        finally:
            ctx.close()
    console.print(
        f"review {result['id']} {result['status']} by {result['decided_by']}; "
        "the next 'openbureau link' applies it"
    )


@review_app.command("accept")
def review_accept(
    review_id: Annotated[int, typer.Argument(metavar="ID")],
    by: Annotated[str | None, typer.Option(help="Who decides (default: login name).")] = None,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
) -> None:
    """Accept: the two records are one person."""
    _decide(review_id, True, by, note)


@review_app.command("reject")
def review_reject(
    review_id: Annotated[int, typer.Argument(metavar="ID")],
    by: Annotated[str | None, typer.Option(help="Who decides (default: login name).")] = None,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
) -> None:
    """Reject: the two records are two people, and are never linked."""
    _decide(review_id, False, by, note)


def metrics_table(m: dict[str, float | int]) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row(
        "records / persons / consumer ids",
        f"{m['records']:,} / {m['persons']:,} / {m['consumers']:,}",
    )
    table.add_row("pairwise precision", f"{m['precision']:.5f}")
    table.add_row("pairwise recall", f"{m['recall']:.5f}")
    table.add_row("F1", f"{m['f1']:.5f}")
    table.add_row("mixed-file rate", f"{m['mixed_file_rate']:.4%} ({m['mixed_files']:,} files)")
    table.add_row(
        "fragmentation rate", f"{m['fragmentation_rate']:.4%} ({m['fragmented_persons']:,} persons)"
    )
    return table


@evaluate_app.command("identity")
def evaluate_identity(
    truth: Annotated[
        Path,
        typer.Option("--truth", help="A synthetic population's folder (or its truth/ folder)."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Compare the links in the credit file with a synthetic population's ground truth."""
    from openbureau.identity.evaluate import evaluate_store

    with handle_errors():
        ctx = make_context()
        try:
            result = evaluate_store(ctx, truth).as_dict()
        finally:
            ctx.close()
    if as_json:
        print_json(result)
    else:
        console.print(metrics_table(result))


__all__ = ["evaluate_app", "link", "metrics_table", "review_app", "summary_table"]
