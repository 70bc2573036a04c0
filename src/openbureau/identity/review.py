"""The review queue: uncertain matches an operator accepts or rejects.

``link`` puts a pair of records here when its match probability falls in the review band (or
it is strong on name and birth date alone — a possible look-alike). The operator sees each
comparison's level and match weight (a waterfall) and the two records with identifiers
masked, and decides. A decision is recorded (who, when, why) and every later ``link`` run
respects it: an accepted pair is linked like a shared national id, a rejected pair is never
linked, not even through other records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, text, update

from openbureau.context import Context
from openbureau.errors import ReviewError
from openbureau.store.models import IdentityReview

STATUSES = ("pending", "accepted", "rejected", "obsolete")


def _mask(value: str | None, keep: int = 4) -> str | None:
    if not value:
        return value
    return "*" * max(len(value) - keep, 0) + value[-keep:]


def list_reviews(ctx: Context, *, status: str = "pending", limit: int = 50) -> list[dict[str, Any]]:
    """Review items, most probable first."""
    if status not in (*STATUSES, "all"):
        raise ReviewError(f"unknown status {status!r}: use {', '.join(STATUSES)} or all")
    ctx.require_initialised()
    query = (
        select(IdentityReview)
        .order_by(IdentityReview.match_probability.desc(), IdentityReview.id)
        .limit(limit)
    )
    if status != "all":
        query = query.where(IdentityReview.status == status)
    with ctx.sessions() as session:
        rows = session.scalars(query).all()
        return [_summary(r) for r in rows]


def _summary(r: IdentityReview) -> dict[str, Any]:
    agree = [e["comparison"] for e in r.evidence if e.get("agrees")]
    return {
        "id": r.id,
        "status": r.status,
        "record_a": r.record_a,
        "record_b": r.record_b,
        "match_probability": round(r.match_probability, 6),
        "match_weight": round(r.match_weight, 3),
        "agreeing": agree,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at,
    }


def show_review(ctx: Context, review_id: int) -> dict[str, Any]:
    """One item with its waterfall and both records (national id and phone masked)."""
    ctx.require_initialised()
    sealer = ctx.sealer
    with ctx.sessions() as session:
        r = session.get(IdentityReview, review_id)
        if r is None:
            raise ReviewError(f"no review item {review_id}")
        item = _summary(r)
        item["evidence"] = r.evidence
        item["note"] = r.note
        records = []
        for rid in (r.record_a, r.record_b):
            row = session.execute(
                text(
                    "SELECT id, furnisher_id, furnisher_account_id, name, birth_date, phone, "
                    "address, postcode, nid_state, national_id_cipher, consumer_id "
                    "FROM identity_records WHERE id = :id"
                ),
                {"id": rid},
            ).one()
            nid = sealer.open(bytes(row[9])) if row[9] is not None else None
            records.append(
                {
                    "record": row[0],
                    "furnisher": row[1],
                    "account": row[2],
                    "name": row[3],
                    "birth_date": str(row[4]) if row[4] is not None else None,
                    "phone": _mask(row[5]),
                    "address": row[6],
                    "postcode": row[7],
                    "national_id": _mask(nid),
                    "national_id_state": row[8],
                    "consumer": row[10],
                }
            )
        item["records"] = records
    return item


def decide(
    ctx: Context, review_id: int, *, accept: bool, by: str, note: str | None = None
) -> dict[str, Any]:
    """Accept or reject a pending item; the next ``link`` run applies it."""
    ctx.require_initialised()
    if not by.strip():
        raise ReviewError("say who decides (--by)")
    with ctx.sessions.begin() as session:
        r = session.get(IdentityReview, review_id, with_for_update=True)
        if r is None:
            raise ReviewError(f"no review item {review_id}")
        if r.status not in ("pending", "obsolete"):
            raise ReviewError(f"review item {review_id} is already {r.status}")
        if accept:
            states = (
                session.execute(
                    text(
                        "SELECT national_id_hmac FROM identity_records WHERE id IN (:a, :b) "
                        "AND nid_state = 'valid'"
                    ),
                    {"a": r.record_a, "b": r.record_b},
                )
                .scalars()
                .all()
            )
            if len(set(states)) > 1:
                raise ReviewError(
                    f"review item {review_id} joins two different valid national ids: "
                    "these are two people and cannot be accepted"
                )
        session.execute(
            update(IdentityReview)
            .where(IdentityReview.id == review_id)
            .values(
                status="accepted" if accept else "rejected",
                decided_by=by[:100],
                decided_at=dt.datetime.now(dt.UTC),
                note=(note or None) and note[:500],
            )
        )
    return {"id": review_id, "status": "accepted" if accept else "rejected", "decided_by": by}


__all__ = ["STATUSES", "decide", "list_reviews", "show_review"]
