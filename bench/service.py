"""The service under load: lenders' inquiries with consent (report + score) over loopback.

    python bench/service.py [--consumers 100000] [--backends sqlite,postgres]
                            [--clients 50 200] [--workers 1 2] [--duration 20] [--abusive]
                            [--rate R]

What it measures: ``POST /v1/inquiries`` — consent check, credit report, batch score,
inquiry row and audit entry in one transaction (the audit write is always on) — from N
concurrent lender clients against ``openbureau serve`` started as a subprocess on
127.0.0.1, on SQLite and on PostgreSQL. Per case: inquiries a second (201s completed in the
measured window), p50 and p99 latency (client-side, request sent → body read), errors
(anything but 201), the 1-minute load average, the load generator's own CPU and the
server's CPU (% of one core). Targets (PostgreSQL, 50 clients): ≥ 500 inquiries/s and
p99 ≤ 100 ms.

``--rate R`` paces the load clients to R inquiries/s together (each like locust's
``constant_throughput``: a client starts its next inquiry 1/(R/N) s after the last began, at
once if it is late, never two at a time; each starts at a random phase of its period, as
locust's gradual spawning spreads them — started together they would arrive in bursts of
N), so latency is measured at a set throughput — the target read as "500 inquiries/s at p99
≤ 100 ms"; without it each client sends its next inquiry as soon as the last is answered
(closed loop: the mean latency is then clients / throughput, and p99 ≤ 100 ms at 50 clients
needs well over 500/s).

``--abusive`` adds, at the first client count, one more lender client that hammers the
same route with no pause from several connections at once until the rate limit answers
429, and compares the other clients' p99 with and without it (same server, back to back).

Setup (slow, done once per backend and cached; ``--rebuild`` redoes it):

* a synthetic population (``openbureau synth``) under ``--cache``
  (default ``/tmp/openbureau-bench-service``), shared by the backends;
* per backend a home folder there: ingest (:func:`openbureau.ingest.ingest_feeds`), link
  (:func:`openbureau.identity.link.link`), snapshots, features, a scorecard trained,
  approved and batch-scored, so reports carry batch scores. PostgreSQL: a database of the
  bench's own (``ob_bench_service_<consumers>``) on ``OPENBUREAU_BENCH_POSTGRES_URL``
  (default the local server), kept between runs; ``--clean`` drops it and the cache;
  ``ANALYZE`` before each run (autovacuum keeps statistics in production; it is off here);
* the load's principals: one lender API client per load client (``--lenders`` lender
  names among them), made in bulk with the library call behind ``openbureau clients
  add``; ``--consenting`` consumers drawn at random from the file, each given a credential
  in bulk (the library call behind ``openbureau consumers credential``) and then granting
  one lender a consent **through the API** (``POST /v1/me/consents`` as the consumer).
  Kept in ``bench-principals.json`` in the home folder.

The load generator is one asyncio process (aiohttp on uvloop), light enough to share the
2 cores with the server; its CPU is measured and printed beside each case.
``--profile S`` adds one run per backend at the first client count and the better worker
count, recorded with py-spy for S seconds twice at once: ``--gil`` (where the server's
Python CPU goes) and ``--idle`` (where an inquiry's wall time goes, waits for a pooled
connection, SQLite's write lock or PostgreSQL's audit-head row lock included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import psutil

POSTGRES = os.environ.get(
    "OPENBUREAU_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CACHE = Path("/tmp/openbureau-bench-service")
PURPOSE = "credit_application"
TARGET_RATE = 500.0
TARGET_P99_MS = 100.0
READY = ".bench-ready"
PRINCIPALS = "bench-principals.json"


# --- setup: the credit file ------------------------------------------------------------------


@dataclass
class Backend:
    name: str  # sqlite | postgres
    home: Path
    database_url: str | None
    pg_database: str | None = None

    def env(self) -> dict[str, str]:
        # the server's own settings (OPENBUREAU_SERVICE_THREADS, …) pass through; the home,
        # the database and everything else are the bench's
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("OPENBUREAU_") or k.startswith("OPENBUREAU_SERVICE_")
        }
        env["OPENBUREAU_HOME"] = str(self.home)
        if self.database_url:
            env["OPENBUREAU_DATABASE_URL"] = self.database_url
        return env

    def settings(self) -> Any:
        from openbureau.config import load_settings

        return load_settings(home=self.home, database_url=self.database_url)


def _backend(name: str, cache: Path, consumers: int) -> Backend:
    home = cache / f"{name}-{consumers}"
    if name == "sqlite":
        return Backend(name, home, None)
    from sqlalchemy.engine import make_url

    db = f"ob_bench_service_{consumers}"
    url = make_url(POSTGRES).set(database=db).render_as_string(hide_password=False)
    return Backend(name, home, url, db)


def _pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


def _pg_exists(name: str) -> bool:
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES)
    try:
        with admin.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
    finally:
        admin.dispose()
    return found is not None


def _population(cache: Path, consumers: int, months: int) -> Path:
    out = cache / f"population-{consumers}-m{months}"
    if (out / "furnishers.json").exists():
        return out
    if out.exists():
        shutil.rmtree(out)
    t = time.perf_counter()
    print(f"  synthesising {consumers:,} consumers × {months} months into {out}", flush=True)
    subprocess.run(
        [
            "openbureau",
            "synth",
            "--out",
            str(out),
            "--consumers",
            str(consumers),
            "--months",
            str(months),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"    took {time.perf_counter() - t:.0f} s", flush=True)
    return out


def _step(label: str, since: float) -> float:
    now = time.perf_counter()
    print(f"    {label}: {now - since:.0f} s", flush=True)
    return now


def build_file(b: Backend, population: Path, months: int, rebuild: bool) -> None:
    """Ingest, link, snapshot, features, train, approve, batch score (cached)."""
    if (
        (b.home / READY).exists()
        and not rebuild
        and (b.pg_database is None or _pg_exists(b.pg_database))
    ):
        print(f"  {b.name}: reusing the credit file in {b.home}", flush=True)
        return
    if b.home.exists():
        shutil.rmtree(b.home)
    if b.pg_database is not None:
        _pg_admin(f'DROP DATABASE IF EXISTS "{b.pg_database}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{b.pg_database}"')
    print(f"  {b.name}: building the credit file in {b.home}", flush=True)
    import logging

    from openbureau.context import Context
    from openbureau.features.asof import AsOf, month_index
    from openbureau.features.compute import compute_features
    from openbureau.features.snapshot import take_snapshots
    from openbureau.identity.link import link
    from openbureau.ingest import ingest_feeds
    from openbureau.scores import registry
    from openbureau.scores.batch import score
    from openbureau.scores.train import train

    logging.getLogger("splink").setLevel(logging.ERROR)
    ctx = Context(b.settings())
    try:
        t = time.perf_counter()
        ctx.init()
        receipts = ingest_feeds(ctx, population / "feeds", population / "furnishers.json")
        failed = [r for r in receipts if not hasattr(r, "to_dict")]
        if failed:
            raise SystemExit(f"ingest failed: {failed[:3]}")
        t = _step(f"ingest ({len(receipts)} files)", t)
        link(ctx)
        t = _step("link", t)
        truth = json.loads((population / "truth" / "config.json").read_text())
        last = month_index(dt.date.fromisoformat(truth["months_written"][-1] + "-01"))
        latest = AsOf.end_of_month(last)
        validate = AsOf.end_of_month(last - 12) if months >= 25 else None
        train_at = AsOf.end_of_month(last - 24) if validate else AsOf.end_of_month(last - 12)
        dates = sorted({d for d in (train_at, validate, latest) if d is not None})
        take_snapshots(ctx, dates)
        for d in dates:
            compute_features(ctx, d)
        t = _step("snapshots + features", t)
        info = train(ctx, train_at, "scorecard", validate_as_of=validate)
        registry.approve(ctx, info.id, by="bench")
        run = score(ctx, latest)
        _step(f"train, approve, score ({len(run.scores):,} scores)", t)
    finally:
        ctx.close()
    (b.home / READY).write_text(dt.datetime.now(dt.UTC).isoformat() + "\n")


def analyze(b: Backend) -> None:
    """Planner statistics on PostgreSQL, as autovacuum keeps them on a production server
    (it is off on the bench machine's server: without them the planner guesses thousands
    of accounts per consumer and runs each report's accounts query in parallel workers)."""
    if b.database_url is None:
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(b.database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            t = time.perf_counter()
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    print(f"  {b.name}: ANALYZE {time.perf_counter() - t:.0f} s", flush=True)


def forget_inquiries(b: Backend, state: dict[str, Any]) -> None:
    """Delete the inquiries the bench's lender clients made, so that every case reads the
    same file: each report lists the consumer's inquiries of two years, and run after run
    they would pile up (tens per consumer) far beyond a real file's few. Their audit
    entries stay; the chains still verify."""
    from sqlalchemy import create_engine, delete, text

    from openbureau.store.models import Inquiry

    ids = [c["client_id"] for c in state["clients"]]
    engine = create_engine(b.settings().resolved_database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(delete(Inquiry).where(Inquiry.client_id.in_(ids)))
            if b.database_url is not None:  # autovacuum is off here: no dead rows left behind
                conn.execute(text("VACUUM inquiries"))
    finally:
        engine.dispose()


# --- setup: the load's principals ------------------------------------------------------------


def make_lenders(b: Backend, count: int, lenders: int) -> list[dict[str, str]]:
    """``count`` lender API clients (with keys) over ``lenders`` lender names."""
    from openbureau.context import Context
    from openbureau.service.auth import create_client
    from openbureau.service.db import ServiceDB

    ctx = Context(b.settings())
    db = ServiceDB(ctx.settings)
    now = dt.datetime.now(dt.UTC)
    out = []
    try:
        for i in range(count):
            lender = f"bench-lender-{i % lenders:02d}"
            k = create_client(
                db, ctx.keys, role="lender", name=f"bench client {i}", lender=lender, now=now
            )
            out.append({"client_id": k.client_id, "key": k.key, "lender": lender})
    finally:
        db.dispose()
        ctx.close()
    return out


def consumer_credentials(b: Backend, n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` consumers with accounts, drawn at random, each with a fresh credential."""
    from openbureau.context import Context
    from openbureau.service.auth import issue_consumer_credential, list_consumers
    from openbureau.service.db import ServiceDB

    ctx = Context(b.settings())
    db = ServiceDB(ctx.settings)
    now = dt.datetime.now(dt.UTC)
    try:
        ids: list[str] = []
        after = None
        while True:
            page = list_consumers(db, limit=10_000, after=after)
            if not page:
                break
            ids.extend(str(r["consumer_id"]) for r in page if r["accounts"] > 0)
            after = str(page[-1]["consumer_id"])
        chosen = random.Random(seed).sample(ids, min(n, len(ids)))
        out = [
            (cid, issue_consumer_credential(db, ctx.keys, cid, now=now, actor="bench").key)
            for cid in chosen
        ]
    finally:
        db.dispose()
        ctx.close()
    print(f"    {len(out):,} of {len(ids):,} consumers with accounts got a credential")
    return out


async def grant_consents(
    base: str, creds: list[tuple[str, str]], lenders: list[str], concurrency: int = 32
) -> list[dict[str, str]]:
    """Each consumer grants one lender (round robin) a consent, through the API."""
    out: list[dict[str, str]] = []
    queue = list(enumerate(creds))
    failures: Counter[int] = Counter()

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            i, (cid, key) = queue.pop()
            lender = lenders[i % len(lenders)]
            body = {"lender": lender, "purpose": PURPOSE, "days": 30}
            async with session.post(
                f"{base}/v1/me/consents", json=body, headers={"Authorization": f"Bearer {key}"}
            ) as r:
                if r.status != 201:
                    failures[r.status] += 1
                    continue
                got = await r.json()
            out.append({"consumer_id": cid, "lender": lender, "consent_id": got["consent_id"]})

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    if failures:
        print(f"    consent grants refused: {dict(failures)}")
    return out


def principals(b: Backend, base: str, args: argparse.Namespace, rebuild: bool) -> dict[str, Any]:
    """Lender clients and consents for the load (cached in the home folder)."""
    path = b.home / PRINCIPALS
    need_clients = max(args.clients) + 1
    if path.exists() and not rebuild:
        state: dict[str, Any] = json.loads(path.read_text())
        # "asked": the consumers asked to consent, at most as many as have accounts (a small
        # file has fewer than --consenting); "wanted": the --consenting they were asked for
        if (
            len(state["clients"]) >= need_clients
            and state.get("wanted", state["asked"]) >= args.consenting
            and len(state["consents"]) >= 0.95 * state["asked"]
        ):
            return state
    t = time.perf_counter()
    print(f"  {b.name}: {need_clients} lender clients, {args.consenting:,} consents", flush=True)
    clients = make_lenders(b, need_clients, args.lenders)
    t = _step("lender clients (bulk, library)", t)
    creds = consumer_credentials(b, args.consenting, args.seed)
    t = _step("consumer credentials (bulk, library)", t)
    names = sorted({c["lender"] for c in clients})
    consents = _run(grant_consents(base, creds, names))
    _step(f"{len(consents):,} consents through POST /v1/me/consents", t)
    state = {
        "clients": clients,
        "consents": consents,
        "asked": len(creds),
        "wanted": args.consenting,
    }
    path.write_text(json.dumps(state))
    return state


# --- the server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    workers: int
    log: Path
    pg_database: str | None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def processes(self) -> list[psutil.Process]:
        p = psutil.Process(self.proc.pid)
        return [p, *p.children(recursive=True)]

    def worker_pids(self) -> list[int]:
        procs = self.processes()
        return [p.pid for p in procs[1:]] if self.workers > 1 else [procs[0].pid]

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.processes():
            with contextlib.suppress(psutil.Error):
                c = p.cpu_times()
                total += c.user + c.system
        return total


def start_server(b: Backend, workers: int) -> Server:
    from openbureau.context import Context

    ctx = Context(b.settings())
    try:
        ctx.init()  # idempotent: brings a cached database up to the code's schema
    finally:
        ctx.close()
    port = _free_port()
    log = b.home / f"serve-{workers}.log"
    proc = subprocess.Popen(
        ["openbureau", "serve", "--port", str(port), "--workers", str(workers)],
        env=b.env(),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(proc, port, workers, log, b.pg_database)
    # Workers load the approved model before they answer (seconds each; more on a busy
    # machine).
    _wait_ready(server)
    return server


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(f"the server exited ({server.proc.returncode}); see {server.log}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
                s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    _wait_workers_loaded(server)
                    return
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"the server did not become ready; see {server.log}")


def _wait_workers_loaded(server: Server, limit_s: float = 120.0) -> None:
    """Once one worker answers, wait for the others to finish loading (their CPU at rest for
    a second): the load's connections open at once and stay open, and a worker still loading
    gets none of them — with uvicorn's shared socket (seen: all 50 on one of two workers,
    260–270 inquiries/s against 300–380 with both) as with serve's own sockets, where a
    worker listens only once it has loaded."""
    try:
        workers = psutil.Process(server.proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return
    if not workers:  # one worker: the server process itself, and it has answered
        return
    deadline = time.monotonic() + limit_s
    last: dict[int, float] = {}
    while time.monotonic() < deadline:
        now: dict[int, float] = {}
        for w in workers:
            try:
                c = w.cpu_times()
            except psutil.NoSuchProcess:
                continue
            now[w.pid] = c.user + c.system
        if last and all(now[p] - last.get(p, 0.0) < 0.05 for p in now):
            return
        last = now
        time.sleep(1.0)


def stop_server(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGINT)
        try:
            server.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


def postgres_cpu(database: str | None) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving ``database`` (by pid)."""
    out: dict[int, float] = {}
    if database is None:
        return out
    for p in psutil.process_iter(["cmdline", "cpu_times"]):
        title = " ".join(p.info["cmdline"] or ())
        c = p.info["cpu_times"]
        if c is not None and title.startswith("postgres:") and f" {database} " in title:
            out[p.pid] = c.user + c.system
    return out


# --- ceilings: what this machine allows before the service does any work of its own ---------

BENCH_DIR = Path(__file__).resolve().parent
PGBENCH_SCRIPT = BENCH_DIR / "_inquiry.pgbench"
_PICK_ONLY = "\\set k random(1, :picks)\nSELECT consent_id FROM bench_pick WHERE n = :k;\n"
_BENCH_PICK = """
DROP TABLE IF EXISTS bench_pick;
CREATE TABLE bench_pick AS
SELECT row_number() OVER (ORDER BY c.id) AS n, c.id AS consent_id, c.consumer_id, c.lender
FROM consents c WHERE c.revoked_at IS NULL;
ALTER TABLE bench_pick ADD PRIMARY KEY (n);
ANALYZE;
"""


def start_bare_server(b: Backend, body_bytes: int) -> Server:
    """``bench/_bare_service.py`` on uvicorn: the framework with no work (one worker)."""
    port = _free_port()
    log = b.home / "serve-bare.log"
    env = b.env() | {
        "OB_BARE_BODY_BYTES": str(body_bytes),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH_DIR), os.environ.get("PYTHONPATH")])),
    }
    cmd = [sys.executable, "-m", "uvicorn", "_bare_service:app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(
        cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )
    server = Server(proc, port, 1, log, None)
    _wait_ready(server)
    return server


@dataclass
class DbCeiling:
    clients: int
    seconds: float
    transactions: int
    latencies_ms: list[float]
    pg_ms: float  # PostgreSQL CPU per inquiry (the bench_pick lookup taken out)
    pgbench_ms: float  # pgbench's own CPU per transaction
    machine_cpu: float  # % of both cores

    @property
    def rate(self) -> float:
        return self.transactions / self.seconds


def _pgbench(
    url: Any, script: Path, clients: int, seconds: float, picks: int, logs: Path
) -> tuple[list[float], float, float, float]:
    """One pgbench run, measured in a window that starts once its connections are up and ends
    before they close (a backend's CPU time is gone once it exits): the latencies (ms) of the
    transactions that ended in the window, PostgreSQL's and pgbench's CPU seconds and the
    machine's busy % in it."""
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    settle, tail = 2.0, 1.0
    cmd = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2"]
    cmd += ["-T", str(int(settle + seconds + tail)), "-D", f"picks={picks}", "-f", str(script)]
    cmd += ["-l", "--log-prefix", str(logs / "tx"), "-h", url.host or "127.0.0.1"]
    cmd += ["-p", str(url.port or 5432), "-U", url.username or "postgres", url.database]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    bench = psutil.Process(proc.pid)

    def mark() -> tuple[float, float, Any, dict[int, float]]:
        c = bench.cpu_times()
        return time.time(), c.user + c.system, psutil.cpu_times(), postgres_cpu(url.database)

    time.sleep(settle)
    t0, b0, m0, d0 = mark()
    time.sleep(seconds)
    t1, b1, m1, d1 = mark()
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"pgbench failed: {err.strip().splitlines()[-1:]}")
    latencies = []
    for f in logs.iterdir():
        for line in f.read_text().splitlines():
            field = line.split()  # client, tx, latency µs, script, end s, end µs
            if len(field) >= 6 and t0 <= int(field[4]) + int(field[5]) / 1e6 < t1:
                latencies.append(int(field[2]) / 1000)
    busy = (sum(m1) - m1.idle - m1.iowait) - (sum(m0) - m0.idle - m0.iowait)
    total = sum(m1) - sum(m0)
    pg = sum(d1[pid] - d0[pid] for pid in d1.keys() & d0.keys())
    return latencies, pg, b1 - b0, 100 * busy / total if total else 0.0


def ceiling_database(b: Backend, clients: int, seconds: float) -> DbCeiling:
    """The database work of one inquiry (``_inquiry.pgbench``) driven by pgbench — a C
    client that costs next to nothing — on a scratch copy of the bench's database, so the
    audit entries it writes never reach the real chains."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    assert b.pg_database is not None and b.database_url is not None
    scratch = f"{b.pg_database}_ceiling"
    _pg_admin(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{scratch}" TEMPLATE "{b.pg_database}"')
    url = make_url(b.database_url).set(database=scratch)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(_BENCH_PICK))
            picks = int(conn.execute(text("SELECT count(*) FROM bench_pick")).scalar_one())
        work = b.home / "pgbench"
        pick_script = work / "pick.pgbench"
        work.mkdir(parents=True, exist_ok=True)
        pick_script.write_text(_PICK_ONLY)
        # The lookup that picks a consent costs PostgreSQL something too: measured alone, and
        # taken out of the inquiry's share.
        picked, pg_pick, _, _ = _pgbench(url, pick_script, clients, 5, picks, work / "logs")
        lat, pg, child, busy = _pgbench(url, PGBENCH_SCRIPT, clients, seconds, picks, work / "logs")
        n = max(len(lat), 1)
        return DbCeiling(
            clients=clients,
            seconds=seconds,
            transactions=len(lat),
            latencies_ms=lat,
            pg_ms=1000 * (pg / n - pg_pick / max(len(picked), 1)),
            pgbench_ms=1000 * child / n,
            machine_cpu=busy,
        )
    finally:
        engine.dispose()
        _pg_admin(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def run_ceilings(
    b: Backend, state: dict[str, Any], args: argparse.Namespace, body_bytes: int
) -> tuple[DbCeiling | None, Result]:
    db = ceiling_database(b, args.clients[0], args.duration) if b.pg_database else None
    server = start_bare_server(b, body_bytes)
    try:
        bare = run_case(server, "bare", state, args.clients[0], args)
    finally:
        stop_server(server)
    return db, bare


def _ms_each(cpu_percent: float, rate: float) -> float:
    """CPU milliseconds per request from % of one core and requests a second."""
    return 10 * cpu_percent / rate if rate else float("nan")


def print_ceilings(db: DbCeiling | None, bare: Result, served: list[Result]) -> None:
    print("\nCeilings on this machine (same run, one case at a time):")
    print(f"  {'case':<56} {'/s':>6} {'p50 ms':>7} {'p99 ms':>7}  CPU per request (ms)")
    bare_cpu = _ms_each(bare.server_cpu, bare.rate), _ms_each(bare.gen_cpu, bare.rate)
    case = f"FastAPI + uvicorn, inquiry route doing nothing, {bare.clients} cl."
    print(
        f"  {case:<56} {bare.rate:>6.0f} {bare.normal.pct(50):>7.1f} "
        f"{bare.normal.pct(99):>7.1f}  server {bare_cpu[0]:.2f} + generator {bare_cpu[1]:.2f}"
    )
    if db is not None:
        p50, p99 = np.percentile(db.latencies_ms, [50, 99]) if db.latencies_ms else (0.0, 0.0)
        case = f"an inquiry's database work alone (pgbench), {db.clients} cl."
        print(
            f"  {case:<56} {db.rate:>6.0f} {p50:>7.1f} {p99:>7.1f}  PostgreSQL {db.pg_ms:.2f} "
            f"(+ pgbench {db.pgbench_ms:.2f}; machine {db.machine_cpu:.0f}% busy)"
        )
        floor = sum(bare_cpu) + db.pg_ms
        print(
            f"  => together {floor:.2f} ms of CPU per inquiry before the service does any work "
            f"of its own: at most {2000 / floor:.0f} inquiries/s on 2 cores"
        )
    for r in served:
        print(
            f"  the service ({r.backend}, {r.clients} clients, {r.workers} worker(s)): server "
            f"{_ms_each(r.server_cpu, r.rate):.2f} + generator {_ms_each(r.gen_cpu, r.rate):.2f}"
            f" + PostgreSQL {_ms_each(r.db_cpu, r.rate):.2f} ms per inquiry"
        )


# --- the load --------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one group of clients saw in the measured window."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    body_bytes: int = 0  # of the 201 responses

    def ok(self) -> int:
        return self.statuses.get(201, 0)

    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s != 201)

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000 if self.latencies else float("nan")


@dataclass
class Result:
    backend: str
    clients: int
    workers: int
    seconds: float
    normal: Tally
    abuser: Tally | None
    load: tuple[float, float]  # 1-minute load average at the start and at the end
    gen_cpu: float  # % of one core
    server_cpu: float  # % of one core
    db_cpu: float  # % of one core: the PostgreSQL backends of the bench's database
    machine_cpu: float  # % of both cores, everything on the machine
    abusive: bool = False
    offered: float = 0.0  # inquiries/s the paced clients aim at (0: closed loop, no pause)

    @property
    def rate(self) -> float:
        return self.normal.ok() / self.seconds


def _bodies(state: dict[str, Any]) -> dict[str, list[bytes]]:
    by_lender: dict[str, list[bytes]] = {}
    for c in state["consents"]:
        body = {"consumer_id": c["consumer_id"], "purpose": PURPOSE, "consent_id": c["consent_id"]}
        by_lender.setdefault(c["lender"], []).append(json.dumps(body).encode())
    return by_lender


async def _load(
    base: str,
    clients: list[dict[str, str]],
    bodies: dict[str, list[bytes]],
    *,
    warmup: float,
    duration: float,
    abuser: dict[str, str] | None,
    abuse_connections: int,
    sample_every: int,
    on_measure: Any,
    pace: float = 0.0,
) -> tuple[Tally, Tally | None, float]:
    url = f"{base}/v1/inquiries"
    loop = asyncio.get_running_loop()
    start = loop.time()
    window = (start + warmup, start + warmup + duration)
    normal, abused = Tally(), Tally()
    seen = 0

    async def one_client(client: dict[str, str], tally: Tally, seed: int, pace: float) -> None:
        nonlocal seen
        rng = random.Random(seed)
        pool = bodies[client["lender"]]
        headers = {"Authorization": f"Bearer {client['key']}", "Content-Type": "application/json"}
        if pace:  # each paced client at its own phase: together they do not arrive in bursts
            await asyncio.sleep(rng.uniform(0.0, pace))
        while True:
            t0 = loop.time()
            if t0 >= window[1]:
                return
            try:
                async with session.post(
                    url, data=pool[rng.randrange(len(pool))], headers=headers
                ) as r:
                    data = await r.read()
                    status = r.status
            except aiohttp.ClientError:
                status, data = -1, b""
            t1 = loop.time()
            if window[0] <= t1 < window[1]:
                tally.statuses[status] += 1
                if status == 201:
                    tally.latencies.append(t1 - t0)
                    tally.body_bytes += len(data)
                    seen += 1
                    if seen % sample_every == 0:
                        score = json.loads(data)["report"]["score"]
                        tally.sources[str(score.get("source") or score.get("unavailable"))] += 1
            if pace:  # locust's constant_throughput: start the next one `pace` after this one
                await asyncio.sleep(max(0.0, pace - (loop.time() - t0)))

    async def measure() -> None:
        await asyncio.sleep(max(0.0, window[0] - loop.time()))
        on_measure("start")
        await asyncio.sleep(max(0.0, window[1] - loop.time()))
        on_measure("end")

    n = len(clients) + (abuse_connections if abuser else 0)
    connector = aiohttp.TCPConnector(limit=n, limit_per_host=n, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [one_client(c, normal, i, pace) for i, c in enumerate(clients)]
        if abuser is not None:
            tasks += [one_client(abuser, abused, 10_000 + i, 0.0) for i in range(abuse_connections)]
        await asyncio.gather(measure(), *tasks)
    return normal, (abused if abuser is not None else None), window[1] - window[0]


def _run(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def run_case(
    server: Server,
    backend: str,
    state: dict[str, Any],
    nclients: int,
    args: argparse.Namespace,
    *,
    abusive: bool = False,
    duration: float | None = None,
    hook: Any = None,
) -> Result:
    clients = state["clients"][:nclients]
    abuser = state["clients"][nclients] if abusive else None
    marks: dict[str, tuple[float, float, Any, float, dict[int, float]]] = {}

    def on_measure(what: str) -> None:
        marks[what] = (
            time.process_time(),
            server.cpu_seconds(),
            psutil.cpu_times(),
            os.getloadavg()[0],
            postgres_cpu(server.pg_database),
        )
        if hook is not None:
            hook(what)

    normal, abused, seconds = _run(
        _load(
            server.base,
            clients,
            _bodies(state),
            warmup=args.warmup,
            duration=duration or args.duration,
            abuser=abuser,
            abuse_connections=args.abuse_connections,
            sample_every=args.sample_every,
            on_measure=on_measure,
            pace=nclients / args.rate if args.rate else 0.0,
        )
    )
    (g0, s0, m0, l0, d0), (g1, s1, m1, l1, d1) = marks["start"], marks["end"]
    busy = (sum(m1) - m1.idle - m1.iowait) - (sum(m0) - m0.idle - m0.iowait)
    total = sum(m1) - sum(m0)
    return Result(
        backend=backend,
        clients=nclients,
        workers=server.workers,
        seconds=seconds,
        normal=normal,
        abuser=abused,
        load=(l0, l1),
        gen_cpu=100 * (g1 - g0) / seconds,
        server_cpu=100 * (s1 - s0) / seconds,
        db_cpu=100 * sum(d1[pid] - d0[pid] for pid in d1.keys() & d0.keys()) / seconds,
        machine_cpu=100 * busy / total if total else float("nan"),
        abusive=abusive,
        offered=args.rate,
    )


def _row(r: Result) -> str:
    target = ""
    if r.backend == "postgres" and r.clients == 50 and not r.abusive:
        ok_rate = "✓" if r.rate >= TARGET_RATE else "✗"
        ok_p99 = "✓" if r.normal.pct(99) <= TARGET_P99_MS else "✗"
        target = f"≥{TARGET_RATE:.0f} {ok_rate} / ≤{TARGET_P99_MS:.0f} ms {ok_p99}"
    case = f"{r.clients}" + (f"@{r.offered:.0f}" if r.offered else "")
    case += " +abuser" if r.abusive else ""
    return (
        f"{r.backend:<9} {case:<11} {r.workers:>3} {r.rate:>9.0f} {r.normal.pct(50):>8.1f} "
        f"{r.normal.pct(99):>8.1f} {r.normal.errors():>6} {r.load[0]:>5.2f}/{r.load[1]:<5.2f} "
        f"{r.gen_cpu:>6.0f}% {r.server_cpu:>6.0f}% {r.db_cpu:>5.0f}% {r.machine_cpu:>5.0f}%  "
        f"{target}"
    )


HEADER = (
    f"{'backend':<9} {'clients':<11} {'wkr':>3} {'inq/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'errors':>6} {'load start/end':<11} {'gen CPU':>7} {'server':>7} {'pg':>6} {'mach.':>6}  "
    f"target (inq/s / p99)"
)


def _sources(r: Result) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(r.normal.sources.items()))


# --- profile ---------------------------------------------------------------------------------

_BUCKETS = [
    ("the inquiry's transaction (make_inquiry)", "make_inquiry ("),
    ("  credit report (build_report)", "build_report ("),
    ("  audit append", "append (openbureau/service/audit.py"),
    ("  commit", "_commit_impl ("),
    ("SQLAlchemy execute (all statements)", "_execute_context ("),
    ("  in the driver (cursor.execute)", "do_execute ("),
    ("response: validation + serialisation", "serialize_response ("),
    ("response: JSON encoding", "render ("),
    ("request body parsing + validation", "request_body_to_args ("),
    ("auth + rate limit (Allow)", "__call__ (openbureau/service/policy.py"),
    ("uvicorn/httptools protocol", "httptools_impl.py"),
]


def profile(server: Server, seconds: int, out: Path, *, gil: bool) -> subprocess.Popen[bytes]:
    """py-spy record on the server (its workers) while the load runs: ``gil`` samples only
    the thread holding the GIL (where the Python CPU goes), else every thread, idle ones
    too (where a request's wall time goes, waits included)."""
    cmd = ["py-spy", "record", "--pid", str(server.proc.pid), "--duration", str(seconds)]
    cmd += ["--rate", "100", "--format", "raw", "--output", str(out), "--nonblocking"]
    cmd.append("--gil" if gil else "--idle")
    if server.workers > 1:
        cmd.append("--subprocesses")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stacks(path: Path) -> list[tuple[list[str], int]]:
    out = []
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            out.append((stack.split(";"), int(n)))
    return out


def _short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1]}" if where else name


def _children(stacks: list[tuple[list[str], int]], needle: str, top: int = 8) -> None:
    """Where the samples under the frame ``needle`` go: by the frame right below it."""
    below: Counter[str] = Counter()
    for frames, n in stacks:
        for i, f in enumerate(frames):
            if f.startswith(needle):
                below[_short(frames[i + 1]) if i + 1 < len(frames) else "(itself)"] += n
                break
    total = sum(below.values())
    if not total:
        return
    print(f"    under {needle}: {total:,} samples")
    for name, n in below.most_common(top):
        print(f"      {100 * n / total:5.1f}%  {name}")


def summarise_profile(cpu: Path, wall: Path, top: int = 15) -> None:
    """The CPU profile's stage shares and top functions; the wall profile of the inquiry."""
    stacks = _stacks(cpu)
    total = sum(n for _, n in stacks)
    if total:
        print(f"  CPU (py-spy --gil: the thread holding the GIL), {total:,} samples:")
        for label, needle in _BUCKETS:
            n = sum(c for frames, c in stacks if any(needle in f for f in frames))
            print(f"    {label:<44} {100 * n / total:5.1f}%")
        leaves: Counter[str] = Counter()
        for frames, c in stacks:
            leaves[_short(frames[-1])] += c
        print(f"    top {top} functions by own time:")
        for name, c in leaves.most_common(top):
            print(f"      {100 * c / total:5.1f}%  {name}")
        _children(stacks, "make_inquiry (")
    stacks = _stacks(wall)
    if stacks:
        print("  wall time of the inquiry threads (py-spy --idle: waits included):")
        _children(stacks, "make_inquiry (")
        _children(stacks, "append (openbureau/service/audit.py")
        _children(stacks, "ServiceDB.write (")


def profile_run(
    b: Backend, state: dict[str, Any], results: list[Result], args: argparse.Namespace
) -> None:
    """One more run at the first client count, the best worker count, under py-spy."""
    best = max((r for r in results if r.backend == b.name and not r.abusive), key=lambda r: r.rate)
    cpu = b.home / f"profile-cpu-{best.workers}w-{args.clients[0]}c.txt"
    wall = b.home / f"profile-wall-{best.workers}w-{args.clients[0]}c.txt"
    server = start_server(b, best.workers)
    spies: list[subprocess.Popen[bytes]] = []

    def hook(what: str) -> None:
        if what == "start":
            spies.append(profile(server, args.profile, cpu, gil=True))
            spies.append(profile(server, args.profile, wall, gil=False))

    try:
        r = run_case(
            server, b.name, state, args.clients[0], args, duration=float(args.profile), hook=hook
        )
        for p in spies:
            p.wait(timeout=60)
    finally:
        stop_server(server)
    print(
        f"\nprofile: {b.name}, {best.workers} worker(s), {args.clients[0]} clients, "
        f"{r.rate:.0f} inq/s, p99 {r.normal.pct(99):.0f} ms under py-spy ({cpu}, {wall})"
    )
    summarise_profile(cpu, wall)


# --- main ------------------------------------------------------------------------------------


def _wait_quiet(threshold: float, max_wait: float) -> None:
    if threshold <= 0:
        return
    t = time.monotonic()
    while os.getloadavg()[0] > threshold and time.monotonic() - t < max_wait:
        print(f"  load average {os.getloadavg()[0]:.2f} > {threshold}: waiting", flush=True)
        time.sleep(30)


def clean(cache: Path, consumers: int) -> None:
    for name in ("sqlite", "postgres"):
        b = _backend(name, cache, consumers)
        if b.pg_database is not None:
            _pg_admin(f'DROP DATABASE IF EXISTS "{b.pg_database}" WITH (FORCE)')
            print(f"dropped database {b.pg_database}")
    if cache.exists():
        shutil.rmtree(cache)
        print(f"removed {cache}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--consumers", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--clients", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--duration", type=float, default=20.0, help="Measured seconds per case.")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--abusive", action="store_true", help="Add the rate-limited client case.")
    ap.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="Offered inquiries/s over the load clients, each paced like locust's "
        "constant_throughput (a client that falls behind sends at once, never two at a time); "
        "0: each client sends its next inquiry as soon as the last is answered.",
    )
    ap.add_argument("--abuse-connections", type=int, default=32)
    ap.add_argument("--lenders", type=int, default=10, help="Lender names among the clients.")
    ap.add_argument("--consenting", type=int, default=20_000, help="Consumers with a consent.")
    ap.add_argument("--sample-every", type=int, default=25, help="Parse every Nth report.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--rebuild", action="store_true", help="Rebuild the cached credit files.")
    ap.add_argument("--profile", type=int, default=0, help="py-spy seconds (one more run).")
    ap.add_argument("--quiet-load", type=float, default=0.0, help="Wait for a load below this.")
    ap.add_argument("--quiet-wait", type=float, default=900.0)
    ap.add_argument("--setup-only", action="store_true")
    ap.add_argument(
        "--ceilings",
        action="store_true",
        help="Also measure the framework with no work and (PostgreSQL) the database work alone.",
    )
    ap.add_argument("--clean", action="store_true", help="Drop the PG database and the cache.")
    args = ap.parse_args()

    # A plain kill stops the servers this run started (their own sessions) on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.clean:
        clean(args.cache, args.consumers)
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    backends = [_backend(n, args.cache, args.consumers) for n in args.backends.split(",")]
    print(f"setup ({args.consumers:,} consumers, {args.months} months; cache {args.cache})")
    population = _population(args.cache, args.consumers, args.months)
    for b in backends:
        build_file(b, population, args.months, args.rebuild)

    results: list[Result] = []
    ceilings: list[tuple[DbCeiling | None, Result, list[Result]]] = []
    for b in backends:
        server = start_server(b, args.workers[0])
        try:
            state = principals(b, server.base, args, args.rebuild)
        finally:
            stop_server(server)
        if args.setup_only:
            continue
        forget_inquiries(b, state)  # an earlier run's, profiles and interrupted runs included
        analyze(b)
        print(
            f"\n{b.name}: {len(state['consents']):,} consents over {args.lenders} lenders; "
            f"{args.warmup:g} s warm-up + {args.duration:g} s per case",
            flush=True,
        )
        _wait_quiet(args.quiet_load, args.quiet_wait)
        for workers in args.workers:
            server = start_server(b, workers)
            try:
                for i, n in enumerate(args.clients):
                    r = run_case(server, b.name, state, n, args)
                    forget_inquiries(b, state)
                    results.append(r)
                    print(_row(r), f"  [{_sources(r)}]", flush=True)
                    if args.abusive and i == 0:
                        r = run_case(server, b.name, state, n, args, abusive=True)
                        forget_inquiries(b, state)
                        results.append(r)
                        assert r.abuser is not None
                        print(
                            _row(r),
                            f"  [abuser: {r.abuser.ok() / r.seconds:.0f} 201/s, "
                            f"{r.abuser.statuses.get(429, 0) / r.seconds:.0f} 429/s, "
                            f"other {r.abuser.errors() - r.abuser.statuses.get(429, 0)}]",
                            flush=True,
                        )
            finally:
                stop_server(server)
        if args.profile:
            profile_run(b, state, results, args)
            forget_inquiries(b, state)
        if args.ceilings:
            served = [r for r in results if r.backend == b.name and not r.abusive]
            sizes = [r.normal.body_bytes / r.normal.ok() for r in served if r.normal.ok()]
            ceilings.append((*run_ceilings(b, state, args, int(np.mean(sizes or [3800]))), served))

    if not results:
        return
    for db, bare, served in ceilings:
        print_ceilings(db, bare, served)
    print(f"\nInquiries with consent (report + score), {args.consumers:,}-consumer file, audit on")
    print(HEADER)
    for r in results:
        print(_row(r))
    for backend in dict.fromkeys(r.backend for r in results):
        best = max(
            (r for r in results if r.backend == backend and not r.abusive and r.clients == 50),
            key=lambda r: r.rate,
            default=None,
        )
        if best is not None:
            print(f"{backend}: best at 50 clients with {best.workers} worker(s)")
    pairs = [
        (a, b)
        for b in results
        if b.abusive
        for a in results
        if not a.abusive and (a.backend, a.clients, a.workers) == (b.backend, b.clients, b.workers)
    ]
    if pairs:
        print("\nThe abusive client (one more lender, no pause, several connections):")
        for a, b in pairs:
            assert b.abuser is not None
            print(
                f"  {a.backend:<9} {a.clients} clients, {a.workers} worker(s): others' p99 "
                f"{a.normal.pct(99):.1f} → {b.normal.pct(99):.1f} ms, p50 "
                f"{a.normal.pct(50):.1f} → {b.normal.pct(50):.1f} ms, "
                f"{a.rate:.0f} → {b.rate:.0f} inq/s; the abuser got "
                f"{b.abuser.ok() / b.seconds:.0f} 201/s and "
                f"{b.abuser.statuses.get(429, 0) / b.seconds:.0f} 429/s"
            )
    print(
        "\ngen CPU: the load generator's own CPU (% of one core); server: the server "
        "processes' CPU; pg: the CPU of the PostgreSQL backends serving the bench's database "
        "(parallel workers excepted; all % of one core); "
        "mach.: the whole machine's busy share of both cores (other jobs included)."
    )


if __name__ == "__main__":
    sys.exit(main())
