"""The server's CPU per lender inquiry, in process: no sockets, no load generator, no uvicorn.

    python bench/_inquiry_cpu.py [--consumers 3000] [--backend postgres|sqlite] [-n 1000]
                                 [--reps 5] [--warmup 200]
    python bench/_inquiry_cpu.py --dump FILE | --compare FILE   # same bodies before/after?

Builds the app with :func:`openbureau.service.app.create_app` on the home that
``python bench/service.py --consumers 3000 --backends postgres --setup-only`` prepares
(``--backend sqlite``: the SQLite one, ``--backends sqlite``), runs
its lifespan, and calls the ASGI app directly (an HTTP scope, a ``receive`` yielding the JSON
body, a ``send`` collecting the response) with ``POST /v1/inquiries`` for the bench's
lenders and consents, one request at a time. Prints process CPU seconds per inquiry
(``time.process_time``: every thread of this process, so the thread-pool hop counts) for
each repetition and their median; every response must be 201. What it leaves out: the HTTP
parsing of uvicorn and PostgreSQL's own CPU (another process).

The inquiries it makes are deleted at the end, so reports do not grow run after run (their
audit entries stay: the chains still verify). ``--dump``/``--compare`` run each consent once
on a fixed clock and store/compare the response bodies (inquiry ids aside), to check that a
change leaves the answers byte for byte the same.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import service as bench  # bench/service.py: the prepared file and its principals

Request = tuple[bytes, bytes]  # (bearer key, JSON body)


def requests(state: dict[str, Any]) -> list[Request]:
    """One inquiry per consent, by a client of the consent's lender (round robin)."""
    keys: dict[str, list[str]] = {}
    for c in state["clients"]:
        keys.setdefault(c["lender"], []).append(c["key"])
    out: list[Request] = []
    for lender, bodies in bench._bodies(state).items():
        for i, body in enumerate(bodies):
            key = keys[lender][i % len(keys[lender])]
            out.append((key.encode(), body))
    out.sort(key=lambda r: r[1])  # a stable order across runs
    return out


async def call(app: Any, key: bytes, body: bytes) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/inquiries",
        "raw_path": b"/v1/inquiries",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"authorization", b"Bearer " + key),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # a client that waits for the answer
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status = 0
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def run(app: Any, reqs: list[Request], n: int, start: int) -> float:
    """CPU seconds per inquiry over ``n`` inquiries (cycling through ``reqs``)."""
    t = time.process_time()
    for i in range(start, start + n):
        key, body = reqs[i % len(reqs)]
        status, out = await call(app, key, body)
        if status != 201:
            raise SystemExit(f"inquiry answered {status}: {out[:300]!r}")
    return (time.process_time() - t) / n


def _normalised(body: bytes) -> str:
    out = json.loads(body)
    out.pop("inquiry_id")
    return json.dumps(out, sort_keys=True)


async def main_async(args: argparse.Namespace) -> None:
    from openbureau.context import Context
    from openbureau.service.app import create_app

    backend = bench._backend(args.backend, args.cache, args.consumers)
    state = json.loads((backend.home / bench.PRINCIPALS).read_text())
    reqs = requests(state)
    fixed: dt.datetime | None = None
    golden: dict[str, str] = {}
    if args.compare:
        saved = json.loads(Path(args.compare).read_text())
        fixed, golden = dt.datetime.fromisoformat(saved["clock"]), saved["bodies"]
    elif args.dump:
        fixed = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ctx = Context(backend.settings())
    app = create_app(ctx, clock=(lambda: fixed) if fixed is not None else None)
    try:
        async with app.router.lifespan_context(app):
            if fixed is not None:
                await check_bodies(app, reqs, args, fixed, golden)
                return
            await run(app, reqs, args.warmup, 0)
            each = []
            for rep in range(args.reps):
                each.append(await run(app, reqs, args.n, args.warmup + rep * args.n))
                print(f"  rep {rep + 1}: {each[-1] * 1e3:.3f} ms CPU per inquiry", flush=True)
            print(
                f"median of {args.reps} × {args.n} inquiries: "
                f"{statistics.median(each) * 1e3:.3f} ms CPU per inquiry"
            )
    finally:
        app.state.bureau.db.dispose()
        bench.forget_inquiries(backend, state)  # reports stay the same size run after run
        ctx.close()


async def check_bodies(
    app: Any, reqs: list[Request], args: argparse.Namespace, fixed: dt.datetime, golden: Any
) -> None:
    bodies: dict[str, str] = {}
    for key, body in reqs[: args.n]:
        status, out = await call(app, key, body)
        if status != 201:
            raise SystemExit(f"inquiry answered {status}: {out[:300]!r}")
        bodies[body.decode()] = _normalised(out)
    if args.dump:
        Path(args.dump).write_text(json.dumps({"clock": fixed.isoformat(), "bodies": bodies}))
        print(f"{len(bodies)} bodies written to {args.dump} (clock {fixed.isoformat()})")
        return
    differ = [k for k, v in bodies.items() if golden.get(k) != v]
    print(f"{len(bodies) - len(differ)} of {len(bodies)} bodies identical")
    if differ:
        raise SystemExit(f"first difference: {differ[0]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--consumers", type=int, default=3000)
    ap.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    ap.add_argument("--cache", type=Path, default=bench.CACHE)
    ap.add_argument("-n", type=int, default=1000, help="Inquiries per repetition.")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--uvloop", action="store_true", help="Run on uvloop (as uvicorn does).")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--dump", help="Store the first -n bodies on a fixed clock.")
    mode.add_argument("--compare", help="Compare with the bodies --dump stored.")
    args = ap.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.run(main_async(args))
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
