"""The audit log: append-only and hash-chained, written in the transaction of the action.

The log is :data:`CHAINS` independent chains. Each entry stores its chain, its sequence number
in that chain, the hash of the entry before it in the chain and its own hash: ``sha256`` of
the canonical JSON of ``[seq, at, actor, role, action, object_type, object_id, consumer_id,
detail, prev_hash]``. Each chain has a one-row head in ``audit_head`` (``id`` = chain) with
its last sequence number and hash; appending locks that row (``SELECT ... FOR UPDATE`` on
PostgreSQL, the ``BEGIN IMMEDIATE`` write transaction on SQLite), so a chain has no forks.
The lock is taken last in a transaction and held until it commits, which is why there are
several chains: with one, every inquiry in the bureau waited for the one before it to
commit (measured: ~70 % of an inquiry's time under load). An event goes to the chain of its
consumer (or, without one, of its actor), so one consumer's history is one ordered chain.
``id`` records the order of writes across chains.

:func:`verify` recomputes every chain and names the first broken link: an edited entry (its
hash no longer matches), a deleted entry (a gap in the sequence, or a chain shorter than
its head says), a reordered entry (it does not follow the one before it), an entry on a
chain that has no head, or a missing head.

Details never hold personal data: ids (pseudonymous consumer ids, client ids), purposes,
counts and outcomes only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, text, update

from openbureau.store.models import AuditEntry, AuditHead

GENESIS = "0" * 64
# Chains 1..CHAINS. Fixed: an entry's chain is derived from its consumer or actor, and
# verify expects every head (a deleted head would otherwise hide a deleted chain).
CHAINS = 16

_LOG: Table = AuditEntry.__table__  # type: ignore[assignment]
_HEAD: Table = AuditHead.__table__  # type: ignore[assignment]
# Built once: an append runs on every request.
_LOCK_HEAD = (
    select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == bindparam("chain")).with_for_update()
)
_INSERT = insert(_LOG)
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == bindparam("chain"))
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


@dataclass(frozen=True)
class AuditEvent:
    """What happened, by whom, to what. ``detail`` must hold no personal data."""

    actor: str
    role: str
    action: str
    object_type: str | None = None
    object_id: str | None = None
    consumer_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


def chain_of(ev: AuditEvent) -> int:
    """The chain an event is appended to: its consumer's, else its actor's (stable hash)."""
    key = ev.consumer_id or ev.actor
    return zlib.crc32(key.encode("utf-8")) % CHAINS + 1


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(row: Mapping[str, Any], prev_hash: str) -> str:
    payload = canonical(
        [
            row["seq"],
            row["at"],
            row["actor"],
            row["role"],
            row["action"],
            row["object_type"],
            row["object_id"],
            row["consumer_id"],
            row["detail"],
            prev_hash,
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


# PostgreSQL appends one entry in one statement: lock the head, hash, insert, move the head.
# The hash is the same sha256 over the same canonical JSON text as entry_hash computes: the
# array's middle (every field but the sequence number and the previous hash) is rendered in
# Python, the two ends from the locked head. With ``made`` (an INSERT ... RETURNING id, see
# append_created), the row it inserts comes first and its id is the entry's object id: the
# middle then arrives in two parts, the id rendered in SQL between them.
def _pg_append_sql(made: str | None = None) -> str:
    # Every piece is a constant of this module or a compiled insert: values are all bound.
    middle = ":a_middle" if made is None else ":a_before || made.id::text || :a_after"
    object_id = ":a_object_id" if made is None else "made.id::text"
    also = "" if made is None else ", made"
    ctes = [] if made is None else [f"made AS ({made})"]
    ctes += [
        "head AS (SELECT seq, hash FROM audit_head WHERE id = :a_chain FOR UPDATE)",
        "new AS (SELECT head.seq + 1 AS seq, head.hash AS prev_hash, encode(sha256(convert_to("  # noqa: S608
        f"'[' || (head.seq + 1)::text || ',' || {middle} || ',\"' || head.hash || '\"]', "
        f"'UTF8')), 'hex') AS hash FROM head{also})",
        "ins AS (INSERT INTO audit_log (chain, seq, at, actor, role, action, object_type, "  # noqa: S608
        "object_id, consumer_id, detail, prev_hash, hash) SELECT :a_chain, new.seq, :a_at, "
        f":a_actor, :a_role, :a_action, :a_object_type, {object_id}, :a_consumer_id, "
        f":a_detail, new.prev_hash, new.hash FROM new{also} RETURNING seq, hash)",
    ]
    returning = "audit_head.seq" if made is None else "made.id"
    return (
        f"WITH {', '.join(ctes)} UPDATE audit_head SET seq = ins.seq, hash = ins.hash "  # noqa: S608
        f"FROM ins{also} WHERE audit_head.id = :a_chain RETURNING {returning}"
    )


_PG_APPEND = text(_pg_append_sql())
# The placeholder the object id stands in for while the middle is rendered (append_created):
# the fields before it are the bureau's own (time, client id, role, action, object type).
_MADE_ID = "\x00made-id\x00"
# (id(insert), its columns) -> (insert, the statement)
_PG_APPEND_AFTER: dict[tuple[int, tuple[str, ...]], tuple[Any, Any]] = {}


def _pg_params(ev: AuditEvent, stamp: str) -> tuple[dict[str, Any], str]:
    detail = canonical(dict(ev.detail))
    fields = [stamp, ev.actor, ev.role, ev.action, ev.object_type, ev.object_id]
    fields += [ev.consumer_id, detail]
    params = {
        "a_chain": chain_of(ev),
        "a_at": stamp,
        "a_actor": ev.actor,
        "a_role": ev.role,
        "a_action": ev.action,
        "a_object_type": ev.object_type,
        "a_object_id": ev.object_id,
        "a_consumer_id": ev.consumer_id,
        "a_detail": detail,
    }
    return params, canonical(fields)[1:-1]


def _append_postgres(conn: Connection, ev: AuditEvent, stamp: str) -> int:
    params, middle = _pg_params(ev, stamp)
    return int(conn.execute(_PG_APPEND, {**params, "a_middle": middle}).scalar_one())


def _append_after_statement(record: Any, columns: tuple[str, ...]) -> Any:
    """The one-statement append preceded by ``record``'s insert of ``columns`` (compiled once;
    its parameters keep their names, the append's all start with ``a_``)."""
    key = (id(record), columns)
    known = _PG_APPEND_AFTER.get(key)
    if known is None or known[0] is not record:
        from sqlalchemy.dialects.postgresql.base import PGDialect

        dialect = PGDialect(paramstyle="named")  # type: ignore[no-untyped-call]
        made = record.compile(dialect=dialect, column_keys=list(columns))
        known = (record, text(_pg_append_sql(str(made))))
        _PG_APPEND_AFTER[key] = known
    return known[1]


def append_created(
    conn: Connection, record: Any, values: Mapping[str, Any], ev: AuditEvent, at: dt.datetime
) -> int:
    """Insert one row with ``record`` (an ``INSERT ... RETURNING id`` whose parameters are
    ``values``) and append ``ev`` about it, ``ev.object_id`` being the new row's id; returns
    that id. On PostgreSQL one statement (one round trip fewer on a hot path: the inquiry),
    elsewhere the insert, then :func:`append`.
    """
    if conn.dialect.name != "postgresql":
        made = int(conn.execute(record, dict(values)).scalar_one())
        append(conn, [replace(ev, object_id=str(made))], at)
        return made
    params, middle = _pg_params(replace(ev, object_id=_MADE_ID), timestamp(at))
    before, found, after = middle.partition(canonical(_MADE_ID))
    if not found:  # cannot happen: object_id is one of the fields rendered
        raise AssertionError("the object id's place in the audit entry was not found")
    params.update(values, a_before=before + '"', a_after='"' + after)
    del params["a_object_id"]
    statement = _append_after_statement(record, tuple(values))
    return int(conn.execute(statement, params).scalar_one())


def append(conn: Connection, events: Sequence[AuditEvent], at: dt.datetime) -> int:
    """Append ``events`` in the caller's transaction; returns how many were appended.

    Heads are locked in chain order, so two transactions that append to several chains
    cannot deadlock on each other.
    """
    if conn.dialect.name == "postgresql" and len(events) == 1:
        _append_postgres(conn, events[0], timestamp(at))
        return 1
    stamp = timestamp(at)
    by_chain: dict[int, list[tuple[int, AuditEvent]]] = {}
    for i, ev in enumerate(events):
        by_chain.setdefault(chain_of(ev), []).append((i, ev))
    rows: list[tuple[int, dict[str, Any]]] = []
    for chain in sorted(by_chain):
        head = conn.execute(_LOCK_HEAD, {"chain": chain}).one()
        seq, prev = int(head.seq), str(head.hash)
        for i, ev in by_chain[chain]:
            seq += 1
            row: dict[str, Any] = {
                "chain": chain,
                "seq": seq,
                "at": stamp,
                "actor": ev.actor,
                "role": ev.role,
                "action": ev.action,
                "object_type": ev.object_type,
                "object_id": ev.object_id,
                "consumer_id": ev.consumer_id,
                "detail": canonical(dict(ev.detail)),
            }
            row["prev_hash"] = prev
            row["hash"] = prev = entry_hash(row, prev)
            rows.append((i, row))
        conn.execute(_MOVE_HEAD, {"chain": chain, "new_seq": seq, "new_hash": prev})
    if rows:
        # In the caller's order, so that ``id`` follows it.
        conn.execute(_INSERT, [row for _, row in sorted(rows, key=lambda r: r[0])])
    return len(rows)


@dataclass
class Verification:
    """The outcome of :func:`verify`: the first bad link is ``(chain, broken_at)``.

    ``head_seq`` is the number of entries the heads account for (the sum over chains).
    """

    ok: bool
    entries: int
    head_seq: int
    chains: int = CHAINS
    chain: int | None = None
    broken_at: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "chains": self.chains,
            "chain": self.chain,
            "broken_at": self.broken_at,
            "problem": self.problem,
        }


def verify(conn: Connection, *, chunk: int = 10_000) -> Verification:
    """Recompute every chain and compare each with its head; stop at the first break."""
    heads = {
        int(h.id): (int(h.seq), str(h.hash))
        for h in conn.execute(select(_HEAD.c.id, _HEAD.c.seq, _HEAD.c.hash))
    }
    total = sum(seq for seq, _ in heads.values())

    def broken(count: int, chain: int, at: int, problem: str) -> Verification:
        return Verification(False, count, total, len(heads), chain, at, problem)

    for missing in range(1, CHAINS + 1):
        if missing not in heads:
            return broken(0, missing, 1, f"the head of chain {missing} is missing")
    count = 0

    def close(chain: int, expected: int, prev: str) -> Verification | None:
        head_seq, head_hash = heads[chain]
        last = expected - 1
        if last != head_seq or prev != head_hash:
            return broken(
                count,
                chain,
                min(last, head_seq) + 1,
                f"chain {chain} ends at entry {last} but its head records entry {head_seq} "
                "(entries were removed from the end, or the head was altered)",
            )
        return None

    seen: set[int] = set()
    chain, expected, prev = 0, 1, GENESIS  # chain 0: none yet (chains count from 1)
    query = select(_LOG).order_by(_LOG.c.chain, _LOG.c.seq)
    for r in conn.execution_options(yield_per=chunk).execute(query).mappings():
        if r["chain"] != chain:
            if chain and (fail := close(chain, expected, prev)):
                return fail
            chain, expected, prev = int(r["chain"]), 1, GENESIS
            if chain not in heads:
                return broken(count, chain, int(r["seq"]), f"chain {chain} has no head")
            seen.add(chain)
        seq = int(r["seq"])
        count += 1
        if seq != expected:
            return broken(
                count,
                chain,
                expected,
                f"entry {expected} of chain {chain} is missing: "
                f"the entry after {expected - 1} is {seq}",
            )
        if r["prev_hash"] != prev:
            return broken(
                count,
                chain,
                seq,
                f"entry {seq} of chain {chain} does not follow entry {seq - 1}: its previous "
                "hash differs (entries were reordered, replaced or removed)",
            )
        if entry_hash(dict(r), prev) != r["hash"]:
            return broken(
                count,
                chain,
                seq,
                f"entry {seq} of chain {chain} was altered: its content does not match its hash",
            )
        prev = str(r["hash"])
        expected += 1
    if chain and (fail := close(chain, expected, prev)):
        return fail
    for empty in sorted(set(heads) - seen):
        if fail := close(empty, 1, GENESIS):
            return fail
    return Verification(True, count, total, len(heads))


__all__ = [
    "CHAINS",
    "GENESIS",
    "AuditEvent",
    "Verification",
    "append",
    "canonical",
    "chain_of",
    "entry_hash",
    "verify",
]
