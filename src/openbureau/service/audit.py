"""The audit log: append-only and hash-chained, written in the transaction of the action.

Each entry stores its sequence number, the hash of the entry before it and its own hash:
``sha256`` of the canonical JSON of ``[seq, at, actor, role, action, object_type,
object_id, consumer_id, detail, prev_hash]``. The one-row ``audit_head`` holds the last
sequence number and hash; appending locks it (``SELECT ... FOR UPDATE`` on PostgreSQL, the
``BEGIN IMMEDIATE`` write transaction on SQLite), so appends are serialised and the chain
has no forks. The lock is taken last in a transaction and held only for the insert.

:func:`verify` recomputes the chain and names the first broken link: an edited entry (its
hash no longer matches), a deleted entry (a gap in the sequence, or a chain shorter than
its head says), a reordered entry (it does not follow the one before it).

Details never hold personal data: ids (pseudonymous consumer ids, client ids), purposes,
counts and outcomes only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, text, update

from openbureau.store.models import AuditEntry, AuditHead

GENESIS = "0" * 64
_HEAD_ID = 1

_LOG: Table = AuditEntry.__table__  # type: ignore[assignment]
_HEAD: Table = AuditHead.__table__  # type: ignore[assignment]
# Built once: an append runs on every request.
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == _HEAD_ID).with_for_update()
_INSERT = insert(_LOG)
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == _HEAD_ID)
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
# Python, the two ends from the locked head.
_PG_APPEND = text(
    "WITH head AS (SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE), "
    "new AS (SELECT head.seq + 1 AS seq, head.hash AS prev_hash, "
    "encode(sha256(convert_to('[' || (head.seq + 1)::text || ',' || :middle || ',\"' "
    "|| head.hash || '\"]', 'UTF8')), 'hex') AS hash FROM head), "
    "ins AS (INSERT INTO audit_log (seq, at, actor, role, action, object_type, object_id, "
    "consumer_id, detail, prev_hash, hash) SELECT new.seq, :at, :actor, :role, :action, "
    ":object_type, :object_id, :consumer_id, :detail, new.prev_hash, new.hash FROM new "
    "RETURNING seq, hash) "
    "UPDATE audit_head SET seq = ins.seq, hash = ins.hash FROM ins WHERE audit_head.id = 1 "
    "RETURNING audit_head.seq"
)


def _append_postgres(conn: Connection, ev: AuditEvent, stamp: str) -> int:
    detail = canonical(dict(ev.detail))
    fields = [stamp, ev.actor, ev.role, ev.action, ev.object_type, ev.object_id]
    fields += [ev.consumer_id, detail]
    middle = canonical(fields)[1:-1]
    params = {
        "middle": middle,
        "at": stamp,
        "actor": ev.actor,
        "role": ev.role,
        "action": ev.action,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
        "consumer_id": ev.consumer_id,
        "detail": detail,
    }
    return int(conn.execute(_PG_APPEND, params).scalar_one())


def append(conn: Connection, events: Sequence[AuditEvent], at: dt.datetime) -> int:
    """Append ``events`` in the caller's transaction; returns the last sequence number."""
    if conn.dialect.name == "postgresql" and len(events) == 1:
        return _append_postgres(conn, events[0], timestamp(at))
    head = conn.execute(_LOCK_HEAD).one()
    seq, prev = int(head.seq), str(head.hash)
    stamp = timestamp(at)
    rows = []
    for ev in events:
        seq += 1
        row: dict[str, Any] = {
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
        rows.append(row)
    if rows:
        conn.execute(_INSERT, rows)
        conn.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev})
    return seq


@dataclass
class Verification:
    """The outcome of :func:`verify`. ``broken_at`` is the first bad sequence number."""

    ok: bool
    entries: int
    head_seq: int
    broken_at: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "broken_at": self.broken_at,
            "problem": self.problem,
        }


def verify(conn: Connection, *, chunk: int = 10_000) -> Verification:
    """Recompute the whole chain and compare it with the head; stop at the first break."""
    head = conn.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == _HEAD_ID)).one()
    head_seq, head_hash = int(head.seq), str(head.hash)
    expected, prev, count = 1, GENESIS, 0
    result = conn.execution_options(yield_per=chunk).execute(select(_LOG).order_by(_LOG.c.seq))
    for r in result.mappings():
        seq = int(r["seq"])
        count += 1
        if seq != expected:
            return Verification(
                False,
                count,
                head_seq,
                expected,
                f"entry {expected} is missing: the entry after {expected - 1} is {seq}",
            )
        if r["prev_hash"] != prev:
            return Verification(
                False,
                count,
                head_seq,
                seq,
                f"entry {seq} does not follow entry {seq - 1}: its previous hash differs "
                "(entries were reordered, replaced or removed)",
            )
        if entry_hash(dict(r), prev) != r["hash"]:
            return Verification(
                False,
                count,
                head_seq,
                seq,
                f"entry {seq} was altered: its content does not match its hash",
            )
        prev = str(r["hash"])
        expected += 1
    last = expected - 1
    if last != head_seq or prev != head_hash:
        broken = min(last, head_seq) + 1
        return Verification(
            False,
            count,
            head_seq,
            broken,
            f"the chain ends at entry {last} but its head records entry {head_seq} "
            "(entries were removed from the end, or the head was altered)",
        )
    return Verification(True, count, head_seq)


__all__ = ["GENESIS", "AuditEvent", "Verification", "append", "canonical", "entry_hash", "verify"]
