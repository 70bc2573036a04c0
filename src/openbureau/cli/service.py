"""``openbureau serve``, ``clients add``, ``consumers credential|list``, ``audit verify`` and
``disputes expire``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from openbureau.cli._common import console, err_console, handle_errors, make_context, print_json
from openbureau.context import Context
from openbureau.service import workers as worker_processes

if TYPE_CHECKING:
    from openbureau.service.db import ServiceDB

clients_app = typer.Typer(help="Manage the service's API clients.", no_args_is_help=True)
consumers_app = typer.Typer(help="Consumers on file and their credentials.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
disputes_app = typer.Typer(help="Consumers' disputes and their deadlines.", no_args_is_help=True)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@contextmanager
def _service_db() -> Iterator[tuple[Context, ServiceDB]]:
    """An initialised context and the service's engine on it, both closed afterwards."""
    from openbureau.service.db import ServiceDB

    ctx = make_context()
    try:
        ctx.require_initialised()
        db = ServiceDB(ctx.settings)
        try:
            yield ctx, db
        finally:
            db.dispose()
    finally:
        ctx.close()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes (default: OPENBUREAU_SERVICE_WORKERS).", min=1),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request line (paths, no bodies).")
    ] = False,
) -> None:
    """Serve the bureau's HTTP API (OpenAPI document at /openapi.json)."""
    import uvicorn

    with handle_errors():
        ctx = make_context()
        try:
            ctx.require_initialised()
        finally:
            ctx.close()
        count = workers or ctx.settings.service_workers
    console.print(f"OpenBureau service on http://{host}:{port} ({count} worker(s)); Ctrl-C stops")
    config: dict[str, Any] = {
        "app": "openbureau.service.app:app_from_environment",
        "factory": True,
        "host": host,
        "port": port,
        "access_log": access_log,
        "log_level": "warning",
    }
    if count > 1 and worker_processes.available():
        # Each worker on a socket of its own: the kernel spreads the connections.
        try:
            code = worker_processes.run(config, count)
        except OSError as e:
            err_console.print(f"[bold red]Error:[/] cannot listen on {host}:{port}: {e.strerror}")
            raise typer.Exit(1) from None
        raise typer.Exit(code)
    uvicorn.run(
        **config,
        workers=count,
        # A worker loads the approved model before it answers, holding the GIL for seconds
        # on a busy machine; uvicorn's 5 s health check would kill and restart it forever.
        timeout_worker_healthcheck=120,
    )


@clients_app.command("add")
def clients_add(
    role: Annotated[str, typer.Option("--role", help="furnisher, lender, regulator or operator.")],
    name: Annotated[str, typer.Option("--name", help="Who the client is (shown in listings).")],
    furnisher: Annotated[
        str | None, typer.Option("--furnisher", help="Furnisher clients: the furnisher id.")
    ] = None,
    lender: Annotated[
        str | None,
        typer.Option("--lender", help="Lender clients: the lender name consents name."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"client_id": ..., "key": ...}.')
    ] = False,
) -> None:
    """Create an API client and print its key once (only a hash of it is stored)."""
    from openbureau.service.auth import create_client

    with handle_errors(), _service_db() as (ctx, db):
        issued = create_client(
            db,
            ctx.keys,
            role=role,
            name=name,
            furnisher_id=furnisher,
            lender=lender,
            now=_now(),
        )
    if as_json:
        print_json({"client_id": issued.client_id, "key": issued.key})
        return
    console.print(f"client {issued.client_id} ({issued.role})")
    console.print(f"key    {issued.key}")
    err_console.print("The key is shown only now: store it safely.")


@consumers_app.command("credential")
def consumers_credential(
    consumer_id: Annotated[str, typer.Argument(metavar="CONSUMER_ID", help="A consumer id.")],
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"client_id": ..., "key": ...}.')
    ] = False,
) -> None:
    """Issue a consumer's own credential (earlier ones are revoked); printed once."""
    from openbureau.service.auth import issue_consumer_credential

    with handle_errors(), _service_db() as (ctx, db):
        issued = issue_consumer_credential(db, ctx.keys, consumer_id, now=_now())
    if as_json:
        print_json({"client_id": issued.client_id, "key": issued.key})
        return
    console.print(f"credential {issued.client_id} for consumer {consumer_id}")
    console.print(f"key        {issued.key}")


@consumers_app.command("list")
def consumers_list(
    limit: Annotated[int, typer.Option(help="How many consumers.", min=1, max=100_000)] = 20,
    after: Annotated[str | None, typer.Option(help="Start after this consumer id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List consumers on file, in id order (ids and account counts, no personal data)."""
    from openbureau.service.auth import list_consumers

    with handle_errors(), _service_db() as (_ctx, db):
        rows = list_consumers(db, limit=limit, after=after)
    for row in rows:
        if as_json:
            print_json(row)
        else:
            console.print(f"{row['consumer_id']:<34} {row['status']:<8} {row['accounts']} accounts")


@audit_app.command("verify")
def audit_verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Recompute the audit chain; exit 1 at the first broken link."""
    from openbureau.service import audit

    with handle_errors(), _service_db() as (_ctx, db), db.read() as conn:
        result = audit.verify(conn)
    if as_json:
        print_json(result.as_dict())
    elif result.ok:
        console.print(f"audit log intact: {result.entries} entries in {result.chains} chains")
    else:
        err_console.print(
            f"[bold red]Error:[/] audit chain {result.chain} broken at entry "
            f"{result.broken_at}: {result.problem}"
        )
    if not result.ok:
        raise typer.Exit(1)


@disputes_app.command("expire")
def disputes_expire(
    as_json: Annotated[bool, typer.Option("--json", help='Print {"expired": N}.')] = False,
) -> None:
    """Expire disputes unanswered by their deadline (daily, before scoring).

    Each unanswered item is treated as the jurisdiction profile says: deleted (us) or kept
    and marked unverified (cn); either way it no longer counts in the score.
    """
    from openbureau.rules.profiles import get_profile
    from openbureau.service.disputes import expire_due

    with handle_errors(), _service_db() as (ctx, db):
        profile = get_profile(ctx.settings.jurisdiction)
        expired = expire_due(db, profile, _now())
    if as_json:
        print_json({"expired": expired})
    else:
        treatment = {"delete": "deleted", "unverified": "marked unverified"}
        console.print(
            f"{expired} disputes expired unanswered: their items are "
            f"{treatment[profile.dispute_unanswered]} ({profile.code} profile)"
        )


DEMO_LENDER = "demo-microloans"


def print_demo_access(ctx: Context, host: str, port: int) -> None:
    """Make the demo's clients, a consumer credential and a consent; print them and three
    example ``curl`` commands (the keys are the demo's own, printed once)."""
    from openbureau.rules.profiles import get_profile
    from openbureau.service import audit, consent
    from openbureau.service.auth import (
        create_client,
        issue_consumer_credential,
        list_consumers,
    )
    from openbureau.service.db import ServiceDB

    db = ServiceDB(ctx.settings)
    try:
        now = _now()
        keys = ctx.keys
        lender = create_client(
            db, keys, role="lender", name="Demo microloans", lender=DEMO_LENDER, now=now
        )
        regulator = create_client(db, keys, role="regulator", name="Demo regulator", now=now)
        operator = create_client(db, keys, role="operator", name="Demo operator", now=now)
        candidates = [c for c in list_consumers(db, limit=50) if c["accounts"] > 0]
        if not candidates:
            err_console.print("[bold red]Error:[/] no consumer with accounts on file to show")
            raise typer.Exit(1)
        consumer_id = str(candidates[0]["consumer_id"])
        credential = issue_consumer_credential(db, keys, consumer_id, now=now)
        profile = get_profile(ctx.settings.jurisdiction)
        with db.write() as conn:
            granted = consent.grant(
                conn,
                profile,
                consumer_id=consumer_id,
                lender=DEMO_LENDER,
                purpose="credit_application",
                days=30,
                now=now,
            )
            audit.append(
                conn,
                [
                    audit.AuditEvent(
                        actor=credential.client_id,
                        role="consumer",
                        action="consent.grant",
                        object_type="consent",
                        object_id=granted["consent_id"],
                        consumer_id=consumer_id,
                        detail={"lender": DEMO_LENDER, "purpose": "credit_application"},
                    )
                ],
                now,
            )
    finally:
        db.dispose()
    url = f"http://{host}:{port}"
    console.rule("[bold]Serving the demo bureau")
    console.print(f"lender    {DEMO_LENDER:<18} key {lender.key}", soft_wrap=True)
    console.print(f"consumer  {consumer_id:<18} key {credential.key}", soft_wrap=True)
    console.print(f"regulator {'':<18} key {regulator.key}", soft_wrap=True)
    console.print(f"operator  {'':<18} key {operator.key}", soft_wrap=True)
    console.print(
        f"consent   {granted['consent_id']} (the consumer's, to {DEMO_LENDER})", soft_wrap=True
    )
    body = (
        f'{{"consumer_id": "{consumer_id}", "purpose": "credit_application", '
        f'"consent_id": "{granted["consent_id"]}"}}'
    )
    console.print("\n# 1. the lender's inquiry, with the consumer's consent (report + score)")
    console.print(
        f"curl -s -X POST {url}/v1/inquiries -H 'Authorization: Bearer {lender.key}' "
        f"-H 'Content-Type: application/json' -d '{body}'",
        soft_wrap=True,
    )
    console.print("\n# 2. the consumer's own report (the inquiry shows on it)")
    console.print(
        f"curl -s {url}/v1/me/report -H 'Authorization: Bearer {credential.key}'",
        soft_wrap=True,
    )
    console.print("\n# 3. the regulator verifies the audit chain")
    console.print(
        f"curl -s {url}/v1/audit/verify -H 'Authorization: Bearer {regulator.key}'",
        soft_wrap=True,
    )
    console.print()


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve)
    app.add_typer(clients_app, name="clients")
    app.add_typer(consumers_app, name="consumers")
    app.add_typer(audit_app, name="audit")
    app.add_typer(disputes_app, name="disputes")


__all__ = ["register"]
