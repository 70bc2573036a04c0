"""Ingesting one furnisher file: read, validate, decide, write — all or nothing.

Phase A (no store touched): the file is checked byte by byte (size, encoding, line
lengths, hash), its columns against the format and the jurisdiction's never-collected
fields, and every record is validated in DuckDB (memory-bounded, spilling to
``<home>/tmp``). The outcome — rejects, repeats, whether the batch is refused — is known
before anything is written.

Phase B (one commit per store): account records are merged into the credit-file database in
one transaction that also writes the receipt; payment transactions go to the lake in one
Delta commit. For payments the receipt row is written first as ``pending`` (owner
``host:pid``), then the Delta commit (tagged with the batch id), then the row turns
``accepted``. A crash between the two leaves a pending row whose fate the Delta log decides:
:func:`recover` (run before every ingest) completes it or removes it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from openbureau.context import Context
from openbureau.errors import (
    BadFileError,
    BatchInProgressError,
    BatchRefusedError,
    ForbiddenFieldError,
    HeaderMismatchError,
    IngestError,
    UnknownFurnisherError,
)
from openbureau.ingest import formats, load
from openbureau.ingest.formats import Format, Kind
from openbureau.ingest.receipts import (
    MAX_REJECTS_IN_RECEIPT,
    Receipt,
    neutralise_sql,
    receipts_dir,
    utcnow,
)
from openbureau.ingest.spec import FIELDS, KEYS, Source, lit, q, validation_sql
from openbureau.rules.profiles import forbidden_match, get_profile
from openbureau.store import lake
from openbureau.store.models import Batch, Furnisher

logger = logging.getLogger(__name__)

_PENDING_STALE = dt.timedelta(hours=6)  # a pending batch of another host is abandoned after this
# DuckDB keeps every block it reads cached up to its memory limit, so in phase B, which only
# streams the validated rows out, the limit is simply what it holds. Account records need
# 128 MB for their key-order sort (64 MB fails with out of memory); payment transactions are
# one scan, which 32 MB serves as fast as 128 (measured at 10M rows).
_SORT_MB = 128
_SCAN_MB = 32
# Batches from this many records on get a fresh DuckDB connection for phase B (see _finish).
_REOPEN_ROWS = 250_000


@dataclass
class _Plan:
    """What phase A decided."""

    received: int = 0
    rejected: int = 0
    accepted: int = 0
    duplicates_in_lake: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)
    reject_file: Path | None = None
    months: list[str] = field(default_factory=list)


# --- furnishers ----------------------------------------------------------------------------


def add_furnisher(ctx: Context, furnisher_id: str, name: str) -> bool:
    """Register a furnisher. Returns False if it was already registered (name unchanged)."""
    if (
        not furnisher_id
        or len(furnisher_id) > 64
        or not furnisher_id.replace("-", "").replace("_", "").isalnum()
    ):
        raise IngestError("furnisher id must be 1-64 letters, digits, '-' or '_'")
    ctx.require_initialised()
    with ctx.engine.begin() as conn:
        if conn.execute(select(Furnisher.id).where(Furnisher.id == furnisher_id)).first():
            return False
        conn.execute(insert(Furnisher).values(id=furnisher_id, name=name, created_at=utcnow()))
    return True


def list_furnishers(ctx: Context) -> list[dict[str, Any]]:
    ctx.require_initialised()
    with ctx.engine.connect() as conn:
        counts = dict(
            conn.execute(
                select(Batch.furnisher_id, func.count())
                .where(Batch.status == "accepted")
                .group_by(Batch.furnisher_id)
            ).all()
        )
        rows = conn.execute(select(Furnisher).order_by(Furnisher.id)).all()
    return [
        {"id": r.id, "name": r.name, "created_at": r.created_at, "batches": counts.get(r.id, 0)}
        for r in rows
    ]


# --- recovery ----------------------------------------------------------------------------


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# Batches being ingested by this process right now (the service runs several at once).
_LIVE: set[str] = set()
_LIVE_LOCK = threading.Lock()


def _owner_alive(owner: str, received_at: dt.datetime | None, batch_id: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            with _LIVE_LOCK:
                return batch_id in _LIVE
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    if received_at is None:
        return False
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=dt.UTC)
    return utcnow() - received_at < _PENDING_STALE


def recover(ctx: Context) -> list[tuple[str, str]]:
    """Finish what a crashed ingest left: each pending batch is completed or removed.

    A pending batch whose Delta commit exists is marked accepted (the data is all there);
    one without it is deleted (none of its data is visible). Batches of live processes are
    left alone. Returns ``(batch_id, "completed" | "removed")`` pairs.
    """
    done: list[tuple[str, str]] = []
    _remove_stale_work(ctx.settings.home / "tmp")
    with ctx.engine.connect() as conn:
        pending = conn.execute(
            select(Batch.id, Batch.receipt, Batch.received_at).where(Batch.status == "pending")
        ).all()
    for batch_id, receipt, received_at in pending:
        owner = str((receipt or {}).get("owner", ""))
        if owner and _owner_alive(owner, received_at, batch_id):
            continue
        with ctx.engine.begin() as conn:
            if lake.batch_committed(ctx.lake, batch_id):
                rec = dict(receipt or {})
                rec.pop("owner", None)
                rec["status"] = "accepted"
                rec["finished_at"] = utcnow().isoformat()
                conn.execute(
                    update(Batch)
                    .where(Batch.id == batch_id, Batch.status == "pending")
                    .values(status="accepted", finished_at=utcnow(), receipt=rec)
                )
                done.append((batch_id, "completed"))
            else:
                conn.execute(delete(Batch).where(Batch.id == batch_id, Batch.status == "pending"))
                done.append((batch_id, "removed"))
        logger.info("recovered batch %s: %s", batch_id, done[-1][1])
    return done


def _remove_stale_work(tmp: Path) -> None:
    """Delete the work folders (decompressed input, spill files) of crashed ingests."""
    if not tmp.is_dir():
        return
    for folder in tmp.iterdir():
        owner_file = folder / "owner"
        try:
            owner = owner_file.read_text().strip()
        except OSError:
            continue  # being created right now, or not ours
        if not _owner_alive(owner, None, folder.name):
            shutil.rmtree(folder, ignore_errors=True)


# --- ingest ----------------------------------------------------------------------------


def ingest_file(
    ctx: Context,
    path: Path | str,
    furnisher_id: str,
    *,
    kind: Kind | None = None,
    fmt: Format | None = None,
    batch_ref: str | None = None,
    display_name: str | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Receipt:
    """Ingest one furnisher file as one batch and return its receipt.

    Args:
        ctx: an initialised context.
        path: the file (``.gz`` is decompressed, bounded by ``max_upload_bytes``).
        furnisher_id: a registered furnisher.
        kind: ``accounts`` or ``payments``; from the file name when not given.
        fmt: ``csv``, ``jsonl`` or ``parquet``; from the extension when not given.
        batch_ref: the furnisher's own reference for the batch (idempotency key).
        display_name: the name to show in the receipt and errors (the upload's name).
        today, now: the clock, for tests.

    Raises:
        UnknownFurnisherError, BadFileError, HeaderMismatchError, ForbiddenFieldError:
            the file was not ingested and nothing was written.
        BatchRefusedError: too many rejects; the refused receipt is stored and attached.
    """
    prepared = _prepare(
        ctx,
        path,
        furnisher_id,
        kind=kind,
        fmt=fmt,
        batch_ref=batch_ref,
        display_name=display_name,
        today=today,
        now=now,
    )
    return prepared if isinstance(prepared, Receipt) else _finish(ctx, prepared)


@dataclass
class _Prepared:
    """A file through phase A: validated in its DuckDB, nothing stored yet."""

    receipt: Receipt
    plan: _Plan
    con: Any
    work: Path
    display: str
    batch_ref: str | None
    now: dt.datetime
    t0: float
    timings: dict[str, float]

    def discard(self) -> None:
        """Release what phase A holds (its DuckDB and work folder)."""
        _release(self.receipt.batch_id, self.work, self.con)


def _release(batch_id: str, work: Path, con: Any = None) -> None:
    """Close phase A's DuckDB, remove its work folder and stop marking the batch live."""
    try:
        if con is not None:
            # The database is deleted next: closing need not checkpoint it first (80 ms a
            # file measured; the demo ingests 144).
            with contextlib.suppress(Exception):
                con.execute("PRAGMA disable_checkpoint_on_shutdown")
            con.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        with _LIVE_LOCK:
            _LIVE.discard(batch_id)


def _prepare(
    ctx: Context,
    path: Path | str,
    furnisher_id: str,
    *,
    kind: Kind | None = None,
    fmt: Format | None = None,
    batch_ref: str | None = None,
    display_name: str | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> _Prepared | Receipt:
    """Phase A: check and validate the file. Touches no store; a duplicate gives its receipt."""
    path = Path(path)
    now = now or utcnow()
    today = today or now.date()
    display = display_name or path.name
    settings = ctx.settings
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ctx.require_initialised()
    with ctx.engine.connect() as conn:
        if not conn.execute(select(Furnisher.id).where(Furnisher.id == furnisher_id)).first():
            raise UnknownFurnisherError(
                f"unknown furnisher {furnisher_id!r}: register it with 'openbureau furnishers add'"
            )
    recover(ctx)

    named = formats.parse_name(Path(display))
    kind = kind or named.kind
    fmt = fmt or named.fmt
    if kind not in formats.KINDS:
        raise BadFileError(
            f"{display}: cannot tell the kind of data; name the file <YYYY-MM>.<kind>.<ext> "
            "(kind accounts or payments) or pass --kind"
        )
    if fmt not in formats.FORMATS:
        raise BadFileError(f"{display}: unknown format; use csv, jsonl or parquet (--format)")
    file_month = dt.date.fromisoformat(named.month + "-01") if named.month else None
    if not path.is_file():
        raise BadFileError(f"{display}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise BadFileError(f"{display}: file is empty")
    if size > settings.max_upload_bytes:
        raise BadFileError(
            f"{display}: file is {size} bytes, above the upload limit of "
            f"{settings.max_upload_bytes} bytes; split it into smaller batches"
        )
    batch_id = str(uuid.uuid4())
    work = settings.home / "tmp" / batch_id
    with _LIVE_LOCK:
        _LIVE.add(batch_id)
    work.mkdir(parents=True, exist_ok=True)
    # Lets recover() clean up after a crash. Written whole, then renamed: a concurrent
    # recover() that read a half-written (empty) owner took the folder for a dead one's and
    # deleted it under a live ingest (seen once in CI: two threads ingesting the same file).
    (work / "owner.new").write_text(_owner())
    (work / "owner.new").replace(work / "owner")
    con: Any = None
    try:
        if named.compressed or path.suffix.lower() == ".gz":
            plain = work / "input"
            formats.decompress_bounded(path, plain, settings.max_upload_bytes)
            if plain.stat().st_size == 0:
                raise BadFileError(f"{display}: file is empty")
        else:
            plain = path
        scan = formats.scan(
            plain, display=display, text=fmt != "parquet", max_line=settings.ingest_max_line_bytes
        )
        timings["scan_s"] = round(time.perf_counter() - t0, 3)
        original = _find_duplicate(ctx, furnisher_id, kind, scan.sha256, batch_ref)
        if original is not None:
            _release(batch_id, work)
            return original
        receipt = Receipt(
            batch_id=batch_id,
            furnisher=furnisher_id,
            file=display,
            kind=kind,
            format=fmt,
            status="accepted",
            sha256=scan.sha256,
            furnisher_ref=batch_ref,
            reporting_month=named.month,
            received_at=now.isoformat(),
        )
        con = _duckdb(settings.ingest_memory_mb, work)
        plan = _validate(
            ctx,
            con,
            plain,
            scan,
            kind=kind,
            fmt=fmt,
            display=display,
            today=today,
            now=now,
            file_month=file_month,
            work=work,
            batch_id=batch_id,
            furnisher_id=furnisher_id,
        )
        timings["validate_s"] = round(time.perf_counter() - t0 - timings["scan_s"], 3)
    except BaseException:
        _release(batch_id, work, con)
        raise
    receipt.received, receipt.rejected = plan.received, plan.rejected
    receipt.accepted = plan.received - plan.rejected
    receipt.rejects = plan.rejects
    receipt.rejects_truncated = plan.rejected > len(plan.rejects)
    receipt.reject_file = str(plan.reject_file) if plan.reject_file else None
    return _Prepared(receipt, plan, con, work, display, batch_ref, now, t0, timings)


def _finish(ctx: Context, prepared: _Prepared) -> Receipt:
    """Phase B: refuse the batch, or write it to its store; always releases phase A."""
    receipt, plan, timings = prepared.receipt, prepared.plan, prepared.timings
    settings, display, now = ctx.settings, prepared.display, prepared.now
    try:
        share = plan.rejected / plan.received
        if share > settings.ingest_max_reject_share:
            receipt.status = "refused"
            receipt.accepted = 0
            receipt.message = (
                f"batch refused: {plan.rejected} of {plan.received} records rejected "
                f"({share:.1%}), above the limit of {settings.ingest_max_reject_share:.1%}; "
                "nothing was written — fix the rejects and resubmit"
            )
            receipt.finished_at = utcnow().isoformat()
            receipt.timings = timings
            _store_refused(ctx, receipt)
            _write_receipt_file(ctx, receipt)
            raise BatchRefusedError(f"{display}: {receipt.message}", receipt)
        t1 = time.perf_counter()
        # Phase B streams out of DuckDB: give the writers the memory phase A held. A fresh
        # connection to the same database file gives back what a lowered limit does not
        # (allocator arenas, caches: ~95 MB after 10M rows, ~70 MB after 1M), but closing
        # checkpoints the file (~0.2 s): worth it for a large batch only — on the demo's 144
        # small files it added 25 s.
        accounts = receipt.kind == "accounts"
        limit_mb = _SORT_MB if accounts else settings.ingest_memory_mb
        if receipt.received >= _REOPEN_ROWS:
            prepared.con.close()
            prepared.con = None
            prepared.con = _duckdb(limit_mb, prepared.work)
        else:
            prepared.con.execute(f"SET memory_limit = '{int(limit_mb)}MB'")
        try:
            if receipt.kind == "accounts":
                _write_accounts(ctx, prepared.con, receipt, now=now)
            else:
                _write_payments(ctx, prepared.con, receipt, plan, now=now)
        except IntegrityError as e:
            # Another process stored the same batch (content or reference) meanwhile.
            original = _find_duplicate(
                ctx, receipt.furnisher, receipt.kind, receipt.sha256, prepared.batch_ref
            )
            if original is not None:
                return original
            raise IngestError(
                f"{display}: the batch conflicts with one stored at the same time; retry"
            ) from e
        timings["write_s"] = round(time.perf_counter() - t1, 3)
    finally:
        prepared.discard()
    timings["total_s"] = round(time.perf_counter() - prepared.t0, 3)
    receipt.timings = {**timings, **receipt.timings}
    with ctx.engine.begin() as conn:
        rec = {**receipt.to_dict()}
        conn.execute(update(Batch).where(Batch.id == receipt.batch_id).values(receipt=rec))
    _write_receipt_file(ctx, receipt)
    return receipt


def _write_receipt_file(ctx: Context, receipt: Receipt) -> None:
    """A copy of the receipt next to its reject file (the database holds the original)."""
    import json

    folder = receipts_dir(ctx.settings.home, receipt.furnisher)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{receipt.batch_id}.receipt.json"
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(receipt.to_dict(), indent=1, default=str), encoding="utf-8")
    partial.replace(target)


def _duckdb(memory_mb: int, work: Path) -> Any:
    import duckdb

    # A database file, not an in-memory one: its tables can be evicted to disk, so memory
    # stays within the limit however large the file is.
    con = duckdb.connect(str(work / "validate.duckdb"))
    spill = work / "spill"
    spill.mkdir(exist_ok=True)
    con.execute(f"SET memory_limit = '{int(memory_mb)}MB'")
    con.execute(f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET TimeZone = 'UTC'")
    return con


def _arrow_reader(con: Any, sql: str, rows: int) -> pa.RecordBatchReader:
    """The result of ``sql`` as a stream of Arrow batches (DuckDB 1.x and 2.x)."""
    rel = con.sql(sql)
    if hasattr(rel, "to_arrow_reader"):
        reader: pa.RecordBatchReader = rel.to_arrow_reader(rows)
    else:
        reader = rel.fetch_record_batch(rows)
    return reader


def _find_duplicate(
    ctx: Context, furnisher_id: str, kind: str, sha256: str, batch_ref: str | None
) -> Receipt | None:
    cond = [Batch.file_sha256 == sha256]
    if batch_ref:
        cond.append(Batch.furnisher_ref == batch_ref)
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(Batch.id, Batch.status, Batch.receipt).where(
                Batch.furnisher_id == furnisher_id,
                or_(Batch.file_sha256 == sha256, Batch.furnisher_ref == batch_ref)
                if batch_ref
                else (Batch.kind == kind) & (Batch.file_sha256 == sha256),
            )
        ).all()
    for _id, status, receipt in rows:
        if status == "pending":
            raise BatchInProgressError(
                f"batch {_id} with the same content or reference is being ingested right now"
            )
        if status == "accepted":
            original = Receipt.from_dict(receipt)
            original.original_status = original.status
            original.status = "duplicate"
            original.message = f"already received as batch {original.batch_id}; nothing written"
            return original
    return None


def _resolve_columns(
    names: list[str], kind: Kind, display: str, profile_code: str, where: str
) -> dict[str, str]:
    """Map format fields to the file's column names; refuse forbidden or ambiguous ones."""
    profile = get_profile(profile_code)
    bad = forbidden_match(profile, names)
    if bad:
        cols = ", ".join(f"{c!r} ({concept})" for c, concept in bad)
        raise ForbiddenFieldError(
            f"{display}: batch refused: {where} carries fields that may never be collected "
            f"under the {profile.code} profile: {cols}; remove them and resubmit — "
            "nothing was stored"
        )
    wanted = {f.name: f for f in FIELDS[kind]}
    found: dict[str, str] = {}
    for name in names:
        key = name.strip().lower()
        if key in wanted:
            if key in found:
                raise HeaderMismatchError(f"{display}: {where} names field {key!r} twice")
            found[key] = name
    if not found:
        expected = ", ".join(f.name for f in FIELDS[kind][:4])
        raise HeaderMismatchError(
            f"{display}: {where} does not match the {kind} format (expected fields such as "
            f"{expected}, ...)"
        )
    missing = [f.name for f in FIELDS[kind] if f.required and f.name not in found]
    if missing:
        raise HeaderMismatchError(
            f"{display}: {where} is missing required {kind} fields: {', '.join(missing)}"
        )
    return found


class _Stream:
    """Wraps a batch generator so that errors raised while DuckDB pulls it are kept."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self.batches = batches
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self.batches
        except (IngestError, pa.ArrowException, OSError, ValueError) as e:
            self.error = e


def _validate(
    ctx: Context,
    con: Any,
    plain: Path,
    scan: formats.Scan,
    *,
    kind: Kind,
    fmt: Format,
    display: str,
    today: dt.date,
    now: dt.datetime,
    file_month: dt.date | None,
    work: Path,
    batch_id: str,
    furnisher_id: str,
) -> _Plan:
    settings = ctx.settings
    profile = get_profile(settings.jurisdiction)
    block = max(4 * 1024 * 1024, 2 * settings.ingest_max_line_bytes)
    lines: formats.LineMap | None = None
    header: list[str] = []
    if fmt == "csv":
        header = formats.read_csv_header(plain, display)
        found = _resolve_columns(
            header, kind, display, settings.jurisdiction, "the header (line 1)"
        )
        if len(set(header)) != len(header):
            raise HeaderMismatchError(f"{display}: the header (line 1) repeats a column name")
        keep = list(found.values())
        lines = formats.LineMap(next_row=2, next_line=2)
        batches = formats.csv_batches(plain, header, keep, block_size=block, lines=lines)
        schema = pa.schema([*(pa.field(c, pa.string()) for c in keep), ("_line", pa.int64())])
        source = Source({f: q(c) for f, c in found.items()}, {f: pa.string() for f in found})
        relation = "src"
    elif fmt == "jsonl":
        keys = formats.json_keys(plain, display)
        found = _resolve_columns(keys, kind, display, settings.jurisdiction, "the records")
        lines = formats.LineMap(next_row=1, next_line=1)
        batches = formats.jsonl_batches(plain, block_size=block, lines=lines)
        schema = pa.schema([("_json", pa.string()), ("_line", pa.int64())])
        source = Source(dict(found), {}, json=True)
        relation = "raw"
    else:
        pschema = formats.parquet_schema(plain, display)
        found = _resolve_columns(
            list(pschema.names), kind, display, settings.jurisdiction, "the columns"
        )
        cols = list(found.values())
        batches = formats.parquet_batches(plain, cols, batch_rows=settings.ingest_batch_rows)
        schema = pa.schema([*(pschema.field(c) for c in cols), ("_line", pa.int64())])
        source = Source(
            {f: q(c) for f, c in found.items()},
            {f: pschema.field(c).type for f, c in found.items()},
        )
        relation = "src"
    stream = _Stream(batches)
    reader = pa.RecordBatchReader.from_batches(schema, iter(stream))
    con.register(relation, reader)
    sql = validation_sql(kind, source, profile, today=today, now=now, file_month=file_month)
    try:
        con.execute(f"CREATE TABLE v AS {sql}")
    except Exception as e:
        if stream.error is not None:
            raise _as_bad_file(stream.error, display) from e
        raise BadFileError(f"{display}: the file could not be read ({type(e).__name__})") from e
    if stream.error is not None:
        raise _as_bad_file(stream.error, display) from stream.error
    con.unregister(relation)

    bad_lines = lines.bad_lines if lines else []
    con.execute("CREATE TABLE bad (line BIGINT, n INTEGER)")
    if bad_lines:
        con.executemany("INSERT INTO bad VALUES (?, ?)", bad_lines)
    plan = _Plan()
    n_rows = int(con.execute("SELECT count(*) FROM v").fetchall()[0][0])
    plan.received = n_rows + len(bad_lines)
    if plan.received == 0:
        raise BadFileError(f"{display}: file has no records")
    _check_truncated(con, scan, fmt, display, bad_lines)

    # Repeats of a record key inside the file: the later line is rejected.
    key = ", ".join(q(k) for k in KEYS[kind])
    con.execute(
        f"CREATE TABLE firsts AS SELECT {key}, min(_line) AS first_line FROM v "  # noqa: S608
        f"WHERE len(_rejects) = 0 GROUP BY {key} HAVING count(*) > 1"
    )
    con.execute(
        f"CREATE TABLE repeats AS SELECT v._line, f.first_line FROM v JOIN firsts f USING ({key}) "  # noqa: S608
        "WHERE len(v._rejects) = 0 AND v._line > f.first_line"
    )
    key_names = " and ".join(KEYS[kind])
    rejects_sql = (
        "SELECT _line AS line, r.field AS field, r.reason AS reason FROM "  # noqa: S608
        "(SELECT _line, unnest(_rejects) AS r FROM v WHERE len(_rejects) > 0) "
        "UNION ALL SELECT line, '' AS field, "
        + (
            f"'line has ' || n || ' fields, the header has {len(header)}'"
            if fmt == "csv"
            else "'line is not valid JSON'"
        )
        + " AS reason FROM bad "  # noqa: S608
        f"UNION ALL SELECT _line AS line, '{KEYS[kind][0]}' AS field, "
        f"'{key_names} repeat line ' || first_line AS reason FROM repeats"
    )
    con.execute(f"CREATE TABLE rejects AS {rejects_sql}")
    plan.rejected = int(con.execute("SELECT count(DISTINCT line) FROM rejects").fetchall()[0][0])
    if plan.rejected:
        rows = con.execute(
            f"SELECT line, field, reason FROM rejects ORDER BY line, field "  # noqa: S608
            f"LIMIT {MAX_REJECTS_IN_RECEIPT}"
        ).fetchall()
        plan.rejects = [{"line": int(a), "field": b, "reason": c} for a, b, c in rows]
        folder = receipts_dir(ctx.settings.home, furnisher_id)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{batch_id}.rejects.csv"
        partial = work / "rejects.csv"
        con.execute(
            f"COPY (SELECT line, {neutralise_sql('field')} AS field, "  # noqa: S608
            f"{neutralise_sql('reason')} AS reason FROM rejects ORDER BY line, field) "
            f"TO '{str(partial).replace(chr(39), chr(39) * 2)}' (FORMAT csv, HEADER)"
        )
        shutil.move(str(partial), target)
        plan.reject_file = target
    # The rows to write: valid and not a repeat.
    con.execute(
        "CREATE VIEW good AS SELECT * FROM v WHERE len(_rejects) = 0 "
        "AND _line NOT IN (SELECT _line FROM repeats)"
    )
    if kind == "payments":
        # Distinct months first, formatted after: strftime on every row costs seconds at 10M.
        plan.months = [
            str(r[0])
            for r in con.execute(
                "SELECT strftime(m, '%Y-%m') FROM (SELECT DISTINCT date_trunc('month', timestamp)"
                " AS m FROM good) ORDER BY 1"
            ).fetchall()
        ]
    return plan


def _check_truncated(
    con: Any, scan: formats.Scan, fmt: str, display: str, bad_lines: list[tuple[int, int]]
) -> None:
    """A broken last line in a file without a final line end: the file was cut off."""
    if fmt == "parquet" or scan.ends_with_newline:
        return
    last = scan.lines
    broken = any(line == last for line, _ in bad_lines)
    if fmt == "jsonl" and not broken:
        rows = con.execute("SELECT _json_ok FROM v WHERE _line = ?", [last]).fetchall()
        broken = bool(rows) and not rows[0][0]
    if broken:
        raise BadFileError(
            f"{display}: the last line ({last}) is incomplete — the file looks truncated; "
            "resend the whole file"
        )


def _as_bad_file(error: BaseException, display: str) -> IngestError:
    if isinstance(error, IngestError):
        return error
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    # Arrow's parse errors quote the offending row: keep only the part without data.
    text = text.split(": ", 1)[0] if "CSV parse error" in text else type(error).__name__
    return BadFileError(
        f"{display}: the file could not be parsed ({text}); check quoting and "
        "that every line is a complete record"
    )


def _batch_values(receipt: Receipt, status: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": receipt.batch_id,
        "furnisher_id": receipt.furnisher,
        "kind": receipt.kind,
        "file_name": receipt.file[:500],
        "file_sha256": receipt.sha256,
        "furnisher_ref": receipt.furnisher_ref,
        "status": status,
        "received_at": now,
        "received": receipt.received,
        "accepted": receipt.accepted,
        "rejected": receipt.rejected,
        "corrected": receipt.corrected,
        "duplicates": receipt.duplicates,
        "receipt": receipt.to_dict(),
    }


def _clear_refused(conn: Connection, receipt: Receipt) -> None:
    """A new attempt replaces earlier refused attempts with the same content or reference."""
    cond = (Batch.kind == receipt.kind) & (Batch.file_sha256 == receipt.sha256)
    if receipt.furnisher_ref:
        cond = cond | (Batch.furnisher_ref == receipt.furnisher_ref)
    conn.execute(
        delete(Batch).where(
            Batch.furnisher_id == receipt.furnisher, Batch.status == "refused", cond
        )
    )


def _store_refused(ctx: Context, receipt: Receipt) -> None:
    now = utcnow()
    with ctx.engine.begin() as conn:
        _clear_refused(conn, receipt)
        conn.execute(
            insert(Batch).values(**_batch_values(receipt, "refused", now), finished_at=now)
        )


def _write_accounts(ctx: Context, con: Any, receipt: Receipt, *, now: dt.datetime) -> None:
    sealer = ctx.sealer
    one_row = con.execute("SELECT count(*) = count(DISTINCT account_id) FROM good").fetchall()[0][0]
    reader = _arrow_reader(
        con,
        # In key order: the merge then inserts into the accounts and identity indexes
        # sequentially instead of all over them (about twice as fast on SQLite at 1M rows).
        f"SELECT {load.STAGE_SELECT} FROM good ORDER BY account_id, reporting_month",  # noqa: S608
        ctx.settings.ingest_batch_rows,
    )
    with ctx.engine.connect() as conn:
        try:
            with conn.begin():
                _clear_refused(conn, receipt)
                conn.execute(insert(Batch).values(**_batch_values(receipt, "accepted", now)))
                load.stage(conn, reader, sealer)
                counts = load.apply(
                    conn,
                    furnisher_id=receipt.furnisher,
                    batch_id=receipt.batch_id,
                    now=now,
                    one_row_per_account=one_row,
                )
                receipt.corrected, receipt.duplicates = counts.corrected, counts.duplicates
                receipt.timings.update(counts.timings)
                receipt.finished_at = utcnow().isoformat()
                conn.execute(
                    update(Batch)
                    .where(Batch.id == receipt.batch_id)
                    .values(
                        corrected=counts.corrected,
                        duplicates=counts.duplicates,
                        finished_at=utcnow(),
                        receipt=receipt.to_dict(),
                    )
                )
        finally:  # after the commit (or the rollback): the merge's cached pages are clean
            load.release(conn)


def _write_payments(
    ctx: Context, con: Any, receipt: Receipt, plan: _Plan, *, now: dt.datetime
) -> None:
    # Transactions the lake already holds (same furnisher and id) are duplicates.
    con.execute("CREATE TABLE seen (transaction_id VARCHAR)")
    for month in plan.months:
        files = lake.month_files(ctx.lake, month)
        if files:
            con.execute(
                "INSERT INTO seen SELECT DISTINCT transaction_id FROM read_parquet(?) "
                "WHERE furnisher_id = ?",
                [files, receipt.furnisher],
            )
    receipt.duplicates = int(
        con.execute(
            "SELECT count(*) FROM good WHERE transaction_id IN (SELECT transaction_id FROM seen)"
        ).fetchall()[0][0]
    )
    if not con.execute("SELECT count(*) FROM seen").fetchall()[0][0]:
        # Nothing held against the stream: it is a plain scan (see _SCAN_MB).
        con.execute(f"SET memory_limit = '{_SCAN_MB}MB'")
    fresh = receipt.accepted - receipt.duplicates
    if fresh == 0:  # nothing new: the receipt is the whole batch
        with ctx.engine.begin() as conn:
            _clear_refused(conn, receipt)
            receipt.finished_at = utcnow().isoformat()
            conn.execute(
                insert(Batch).values(
                    **_batch_values(receipt, "accepted", now), finished_at=utcnow()
                )
            )
        return
    pending = receipt.to_dict() | {"owner": _owner()}
    with ctx.engine.begin() as conn:
        _clear_refused(conn, receipt)
        values = _batch_values(receipt, "pending", now)
        values["receipt"] = pending
        conn.execute(insert(Batch).values(**values))
    reader = _arrow_reader(
        con,
        f"SELECT {lit(receipt.furnisher)} AS furnisher_id, transaction_id, customer_ref, "  # noqa: S608
        "CAST(timestamp AS TIMESTAMPTZ) AS ts, direction, amount AS amount_minor, "
        f"merchant_category, channel, inflow_kind, {lit(receipt.batch_id)} AS batch_id, "
        "strftime(timestamp, '%Y-%m') AS month FROM good "
        "WHERE transaction_id NOT IN (SELECT transaction_id FROM seen)",
        ctx.settings.ingest_batch_rows,
    )
    target = lake.PAYMENTS_SCHEMA

    def cast() -> Iterator[pa.RecordBatch]:
        for b in reader:
            yield pa.Table.from_batches([b]).cast(target).to_batches()[0] if b.num_rows else b

    try:
        lake.append_batch(
            ctx.lake,
            pa.RecordBatchReader.from_batches(target, cast()),
            batch_id=receipt.batch_id,
            metadata={
                "openbureau.furnisher": receipt.furnisher,
                "openbureau.sha256": receipt.sha256,
            },
        )
    except BaseException:
        # The commit did not happen (or we cannot tell): let the Delta log decide now.
        with _LIVE_LOCK:
            _LIVE.discard(receipt.batch_id)
        recover(ctx)
        raise
    receipt.finished_at = utcnow().isoformat()
    with ctx.engine.begin() as conn:
        conn.execute(
            update(Batch)
            .where(Batch.id == receipt.batch_id, Batch.status == "pending")
            .values(
                status="accepted",
                finished_at=utcnow(),
                duplicates=receipt.duplicates,
                receipt=receipt.to_dict(),
            )
        )


def ingest_path(
    ctx: Context,
    path: Path | str,
    furnisher_id: str,
    *,
    kind: Kind | None = None,
    fmt: Format | None = None,
    batch_ref: str | None = None,
) -> Iterator[Receipt | IngestError]:
    """Ingest a file, or every batch file of a folder in name order (months in order).

    Yields a receipt per file, or the error that stopped that file; a folder goes on past a
    bad file so that one bad batch does not hold back the others.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise BadFileError(f"{path}: folder has no files")
        for f in files:
            try:
                yield ingest_file(ctx, f, furnisher_id, kind=kind, fmt=fmt)
            except IngestError as e:
                yield e
        return
    try:
        yield ingest_file(ctx, path, furnisher_id, kind=kind, fmt=fmt, batch_ref=batch_ref)
    except IngestError as e:
        yield e


def ingest_feeds(
    ctx: Context, feeds: Path | str, furnishers_json: Path | str | None = None
) -> list[Receipt | IngestError]:
    """Ingest a feeds tree ``<feeds>/<furnisher>/<YYYY-MM>.<kind>.<ext>`` in month order.

    Furnishers listed in ``furnishers_json`` (``[{"id", "name"}, ...]``, as ``openbureau
    synth`` writes it) are registered first. Within a month, account records go before
    payment transactions. Returns a receipt, or the error, per file.
    """
    import json

    feeds = Path(feeds)
    if furnishers_json is not None:
        for entry in json.loads(Path(furnishers_json).read_text(encoding="utf-8")):
            add_furnisher(ctx, str(entry["id"]), str(entry.get("name") or entry["id"]))
    files: list[tuple[str, int, str, Path]] = []
    for folder in sorted(p for p in feeds.iterdir() if p.is_dir()):
        for f in folder.iterdir():
            named = formats.parse_name(f)
            if f.is_file() and named.kind is not None:
                order = formats.KINDS.index(named.kind)
                files.append((named.month or "", order, folder.name, f))
    return _ingest_pipelined(ctx, [(furnisher, f) for _m, _o, furnisher, f in sorted(files)])


def _ingest_pipelined(ctx: Context, files: list[tuple[str, Path]]) -> list[Receipt | IngestError]:
    """Ingest files in order, validating the next one while the current one is written.

    Validation (DuckDB, no store touched) and writing (the database or the lake) use
    different cores; batches are still stored one at a time, in order. A duplicate of a batch
    still being written is caught when it is stored (the batch's unique key).
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    results: list[Receipt | IngestError] = []
    with ThreadPoolExecutor(1, thread_name_prefix="ob-validate") as pool:
        pending: Future[_Prepared | Receipt] | None = None
        if files:
            pending = pool.submit(_prepare, ctx, files[0][1], files[0][0])
        try:
            for i in range(len(files)):
                assert pending is not None
                current, pending = pending, None
                if i + 1 < len(files):
                    pending = pool.submit(_prepare, ctx, files[i + 1][1], files[i + 1][0])
                try:
                    prepared = current.result()
                    results.append(
                        prepared if isinstance(prepared, Receipt) else _finish(ctx, prepared)
                    )
                except IngestError as e:
                    results.append(e)
        finally:
            if pending is not None:  # stopped early: release the file validated ahead
                try:
                    ahead = pending.result()
                    if isinstance(ahead, _Prepared):
                        ahead.discard()
                except BaseException:  # noqa: S110 - its own error does not matter any more
                    pass
    return results


__all__ = [
    "add_furnisher",
    "ingest_feeds",
    "ingest_file",
    "ingest_path",
    "list_furnishers",
    "recover",
]
