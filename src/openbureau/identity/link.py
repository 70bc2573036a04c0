"""``openbureau link``: every identity record in the credit file gets one consumer id.

The job reads the identity records, decrypts national ids *in memory only* (for the
mistyped-id comparison), resolves them (:mod:`.resolve`), maps clusters onto the ids records
already carry (:mod:`.stable`), and writes — in one transaction — the new ids on records and
accounts, the merge and split events, redirects for merged ids, and the review queue.

The trained model is stored with the run and reused by later runs, so links do not drift
from one batch to the next; ``retrain=True`` estimates it afresh.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
from cryptography.exceptions import InvalidTag
from sqlalchemy import Connection, insert, select, text, update

from openbureau.context import Context
from openbureau.engine import open_engine
from openbureau.errors import IdentityError
from openbureau.identity.features import bureau_model
from openbureau.identity.model import TrainedModel
from openbureau.identity.resolve import Edge, Resolution, Thresholds, resolve
from openbureau.identity.stable import Plan, reconcile
from openbureau.ingest.load import NationalIdSealer
from openbureau.store.models import (
    ConsumerRedirect,
    IdentityEvent,
    IdentityReview,
    IdentityRun,
)

logger = logging.getLogger(__name__)

_MAX_EVIDENCE_LINKS = 20


@dataclass
class LinkSummary:
    run_id: str
    engine: str
    records: int
    consumers: int
    pairs_scored: int
    probabilistic_links: int
    refused_by_guards: int
    consumers_created: int
    merges: int
    splits: int
    records_moved: int
    accounts_moved: int
    reviews_pending: int
    model_reused: bool
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def load_records(conn: Connection, sealer: NationalIdSealer) -> pa.Table:
    """The identity records with their national ids decrypted (in memory, for this job)."""
    rows = conn.execute(
        text(
            "SELECT id, furnisher_id, furnisher_account_id, customer_ref, name, birth_date, phone,"
            " address, postcode, national_id_hmac, national_id_cipher, nid_state, consumer_id "
            "FROM identity_records ORDER BY id"
        )
    ).all()
    cols: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 13
    clear: list[str | None] = []
    for cipher in cols[10]:
        if cipher is None:
            clear.append(None)
            continue
        try:
            clear.append(sealer.open(bytes(cipher)))
        except InvalidTag as e:
            raise IdentityError(
                "a national id ciphertext does not open with the configured data key"
            ) from e
    birth = [
        d if d is None or isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in cols[5]
    ]
    return pa.table(
        {
            "unique_id": pa.array(cols[0], pa.int64()),
            "furnisher_id": pa.array(cols[1], pa.string()),
            "account_id": pa.array(cols[2], pa.string()),
            "customer_ref": pa.array(cols[3], pa.string()),
            "name": pa.array(cols[4], pa.string()),
            "birth_date": pa.array(birth, pa.date32()),
            "phone": pa.array(cols[6], pa.string()),
            "address": pa.array(cols[7], pa.string()),
            "postcode": pa.array(cols[8], pa.string()),
            "national_id_hmac": pa.array(cols[9], pa.string()),
            "nid_state": pa.array(cols[11], pa.string()),
            "consumer_id": pa.array(cols[12], pa.string()),
            "nid_clear": pa.array(clear, pa.string()),
        }
    )


def _decisions(conn: Connection) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    rows = conn.execute(
        select(IdentityReview.record_a, IdentityReview.record_b, IdentityReview.status).where(
            IdentityReview.status.in_(("accepted", "rejected"))
        )
    ).all()
    accepted = [(int(a), int(b)) for a, b, s in rows if s == "accepted"]
    rejected = [(int(a), int(b)) for a, b, s in rows if s == "rejected"]
    return accepted, rejected


def latest_model(conn: Connection) -> TrainedModel | None:
    row = conn.execute(
        select(IdentityRun.model)
        .where(IdentityRun.status == "finished", IdentityRun.model.is_not(None))
        .order_by(IdentityRun.finished_at.desc())
        .limit(1)
    ).first()
    return TrainedModel(row[0]) if row and row[0] else None


def link(
    ctx: Context,
    *,
    engine: str = "duckdb",
    retrain: bool = False,
    thresholds: Thresholds | None = None,
    u_max_pairs: float = 3e5,
    em_max_pairs: float | None = 5e5,
) -> LinkSummary:
    """Link every identity record to one consumer id (see the module docstring)."""
    ctx.require_initialised()
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    run_id = str(uuid.uuid4())
    with ctx.engine.begin() as conn:
        conn.execute(
            insert(IdentityRun).values(
                id=run_id, engine=engine, status="running", started_at=_utcnow(), summary={}
            )
        )
    try:
        sealer = ctx.sealer
        with ctx.engine.connect() as conn:
            records = load_records(conn, sealer)
            accepted, rejected = _decisions(conn)
            model = None if retrain else latest_model(conn)
            consumer_hmac: dict[str, str | None] = dict(
                conn.execute(
                    text("SELECT id, national_id_hmac FROM consumers WHERE status = 'active'")
                ).all()
            )
        timings["load_s"] = round(time.perf_counter() - t0, 3)
        spec = bureau_model(u_max_pairs=u_max_pairs, em_max_pairs=em_max_pairs)
        reused = model is not None
        if records.num_rows == 0:
            raise IdentityError("there are no identity records to link: ingest accounts first")
        with open_engine(
            engine,
            memory_mb=ctx.settings.identity_memory_mb,
            tmp=ctx.settings.home / "tmp" / f"link-{run_id}",
        ) as eng:
            res = resolve(
                records,
                eng,
                model=model,
                spec=spec,
                thresholds=thresholds,
                accepted=accepted,
                rejected=rejected,
            )
        timings.update(res.timings)
        valid = [
            h if s == "valid" else None
            for h, s in zip(
                records.column("national_id_hmac").to_pylist(),
                records.column("nid_state").to_pylist(),
                strict=True,
            )
        ]
        plan = reconcile(
            res.record_ids.tolist(),
            records.column("consumer_id").to_pylist(),
            res.cluster.tolist(),
            valid,
            consumer_hmac,
        )
        t1 = time.perf_counter()
        with ctx.engine.begin() as conn:
            summary = _write(conn, run_id, engine, records, res, plan, reused)
        timings["write_s"] = round(time.perf_counter() - t1, 3)
        timings["total_s"] = round(time.perf_counter() - t0, 3)
        summary.timings = timings
        with ctx.engine.begin() as conn:
            conn.execute(
                update(IdentityRun)
                .where(IdentityRun.id == run_id)
                .values(
                    status="finished",
                    finished_at=_utcnow(),
                    summary=summary.as_dict(),
                    model=res.model.settings,
                )
            )
        return summary
    except BaseException:
        with ctx.engine.begin() as conn:
            conn.execute(
                update(IdentityRun)
                .where(IdentityRun.id == run_id)
                .values(status="failed", finished_at=_utcnow())
            )
        raise


def _edge_json(e: Edge) -> dict[str, Any]:
    return {
        "records": [e.a, e.b],
        "match_probability": round(e.probability, 6),
        "match_weight": round(e.weight, 3),
        "evidence": e.evidence,
    }


def _write(
    conn: Connection,
    run_id: str,
    engine: str,
    records: pa.Table,
    res: Resolution,
    plan: Plan,
    reused: bool,
) -> LinkSummary:
    now = _utcnow()
    pg = conn.dialect.name == "postgresql"
    ids = res.record_ids.tolist()
    if plan.created:
        conn.execute(
            text(
                "INSERT INTO consumers (id, national_id_hmac, status, created_at) "
                "VALUES (:id, :h, 'active', :now)"
            ),
            [{"id": c, "h": h, "now": now} for c, h in plan.created.items()],
        )
    moved_accounts = 0
    if plan.changed:
        if pg:
            conn.execute(
                text(
                    "CREATE TEMP TABLE ob_link_moves (record_id BIGINT PRIMARY KEY, "
                    "consumer_id VARCHAR(32)) ON COMMIT DROP"
                )
            )
        else:
            conn.execute(text("DROP TABLE IF EXISTS temp.ob_link_moves"))
            conn.execute(
                text(
                    "CREATE TEMP TABLE ob_link_moves (record_id BIGINT PRIMARY KEY, "
                    "consumer_id VARCHAR(32))"
                )
            )
        conn.execute(
            text("INSERT INTO ob_link_moves (record_id, consumer_id) VALUES (:r, :c)"),
            [{"r": ids[i], "c": plan.consumer[i]} for i in plan.changed],
        )
        conn.execute(
            text(
                "UPDATE identity_records SET consumer_id = (SELECT m.consumer_id FROM ob_link_moves"
                " m WHERE m.record_id = identity_records.id), needs_resolution = false, "
                "updated_at = :now WHERE id IN (SELECT record_id FROM ob_link_moves)"
            ),
            {"now": now},
        )
        moved = conn.execute(
            text(
                "UPDATE accounts SET consumer_id = (SELECT m.consumer_id FROM ob_link_moves m "
                "JOIN identity_records r ON r.id = m.record_id WHERE r.furnisher_id = "
                "accounts.furnisher_id AND r.furnisher_account_id = accounts.furnisher_account_id) "
                "WHERE EXISTS (SELECT 1 FROM ob_link_moves m JOIN identity_records r ON r.id = "
                "m.record_id WHERE r.furnisher_id = accounts.furnisher_id AND "
                "r.furnisher_account_id = accounts.furnisher_account_id)"
            )
        )
        moved_accounts = max(moved.rowcount, 0)
        if not pg:
            conn.execute(text("DROP TABLE temp.ob_link_moves"))
    conn.execute(
        text(
            "UPDATE identity_records SET needs_resolution = false "
            "WHERE needs_resolution = true AND consumer_id IS NOT NULL"
        )
    )
    # Events: merges (with the links that made them) and splits.
    cluster_of = dict(zip(ids, res.cluster.tolist(), strict=True))
    links_by_cluster: dict[int, list[Edge]] = {}
    for e in res.links:
        links_by_cluster.setdefault(cluster_of[e.a], []).append(e)
    record_cluster_consumer = dict(zip(ids, plan.consumer, strict=True))
    for m in plan.merges:
        some = next(iter(m.records.values()))[0]
        evidence = [_edge_json(e) for e in links_by_cluster.get(cluster_of[some], [])][
            :_MAX_EVIDENCE_LINKS
        ]
        event_id = conn.execute(
            insert(IdentityEvent)
            .values(
                run_id=run_id,
                kind="merge",
                before={c: recs for c, recs in m.records.items()},
                after={m.primary: sorted(r for recs in m.records.values() for r in recs)},
                evidence={
                    "links": evidence,
                    "reason": "records of these consumers are linked as one person",
                },
                accounts_moved=sum(len(v) for k, v in m.records.items() if k != m.primary),
                created_at=now,
            )
            .returning(IdentityEvent.id)
        ).scalar_one()
        for gone in m.merged:
            conn.execute(
                text("UPDATE consumers SET status = 'merged' WHERE id = :id"), {"id": gone}
            )
            conn.execute(
                insert(ConsumerRedirect).values(
                    from_id=gone, to_id=m.primary, event_id=event_id, created_at=now
                )
            )
            # Earlier redirects to the merged id now lead to the survivor.
            conn.execute(
                update(ConsumerRedirect)
                .where(ConsumerRedirect.to_id == gone)
                .values(to_id=m.primary)
            )
    for s in plan.splits:
        conn.execute(
            insert(IdentityEvent).values(
                run_id=run_id,
                kind="split",
                before={s.consumer: sorted(r for recs in s.parts.values() for r in recs)},
                after=s.parts,
                evidence={
                    "reason": "no link at or above the accept threshold joins these parts "
                    "(or an operator rejected one, or their valid national ids differ)",
                    "refused": [
                        _edge_json(e)
                        for e in res.refused
                        if record_cluster_consumer.get(e.a) in s.parts
                    ][:_MAX_EVIDENCE_LINKS],
                },
                accounts_moved=sum(len(v) for k, v in s.parts.items() if k != s.consumer),
                created_at=now,
            )
        )
    pending = _write_reviews(conn, run_id, res.reviews, now)
    consumers = len(set(plan.consumer))
    return LinkSummary(
        run_id=run_id,
        engine=engine,
        records=len(ids),
        consumers=consumers,
        pairs_scored=res.pairs_scored,
        probabilistic_links=len(res.links),
        refused_by_guards=len(res.refused),
        consumers_created=len(plan.created),
        merges=len(plan.merges),
        splits=len(plan.splits),
        records_moved=len(plan.changed),
        accounts_moved=moved_accounts,
        reviews_pending=pending,
        model_reused=reused,
    )


def _write_reviews(conn: Connection, run_id: str, reviews: list[Edge], now: dt.datetime) -> int:
    existing = {
        (int(a), int(b)): (int(i), s)
        for i, a, b, s in conn.execute(
            select(
                IdentityReview.id,
                IdentityReview.record_a,
                IdentityReview.record_b,
                IdentityReview.status,
            )
        ).all()
    }
    current: set[tuple[int, int]] = set()
    for e in reviews:
        key = (e.a, e.b)
        current.add(key)
        values = {
            "match_probability": e.probability,
            "match_weight": e.weight,
            "evidence": e.evidence,
            "run_id": run_id,
        }
        if key in existing:
            rid, status = existing[key]
            if status in ("pending", "obsolete"):
                conn.execute(
                    update(IdentityReview)
                    .where(IdentityReview.id == rid)
                    .values(status="pending", **values)
                )
        else:
            conn.execute(
                insert(IdentityReview).values(
                    record_a=e.a, record_b=e.b, status="pending", created_at=now, **values
                )
            )
    stale = [rid for key, (rid, s) in existing.items() if s == "pending" and key not in current]
    if stale:
        conn.execute(
            update(IdentityReview).where(IdentityReview.id.in_(stale)).values(status="obsolete")
        )
    return len(current)


__all__ = ["LinkSummary", "latest_model", "link", "load_records"]
