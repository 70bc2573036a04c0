"""Disputes: a consumer contests an item on their report, its furnisher answers by a deadline.

The item is one account, or one month of it. Opening a dispute forwards it to the account's
furnisher with a deadline of the jurisdiction's ``dispute_days``; while it is open the
report marks the item "disputed by consumer". The furnisher answers once:

* ``verified`` — the item is correct as reported; the mark goes.
* ``corrected`` — the furnisher has sent the corrected record through ingest (the normal
  correction path) and names that batch; the report shows the corrected value.
* ``deleted`` — the item comes off the report and out of the score.

Unanswered by the deadline, the dispute *expires* and the item is treated as the profile's
``dispute_unanswered`` says: ``delete`` (as a deletion) or ``unverified`` (kept on the
report, marked as not verified, out of the score). Expiry is written, audited, in its own
transaction: by ``openbureau disputes expire`` (the nightly sweep), and by any request that
meets an overdue dispute first (:class:`DisputesDueError` makes it settle them and start again),
so no answer shows a dispute open past its deadline.

What an outcome does to the item is the dispute's ``effect`` (``none``, ``removed``,
``unverified``); the credit report and the feature snapshot read it. Nothing is erased from
the credit file, so a furnisher that reports a removed item again does not bring it back.
Audit details carry ids, codes and outcomes, never the consumer's text or the note.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Table, and_, exists, func, or_, select, update

from openbureau.errors import ConflictError, InvalidRequestError, NotFoundError
from openbureau.rules.profiles import Profile
from openbureau.service import audit
from openbureau.service.db import ServiceDB, as_utc
from openbureau.store.models import (
    Account,
    AccountMonth,
    AccountMonthRevision,
    Batch,
    Dispute,
)

logger = logging.getLogger(__name__)

_DISPUTES: Table = Dispute.__table__  # type: ignore[assignment]
D = _DISPUTES.c

# The reason codes a consumer chooses from (after the dispute codes furnishers know from
# e-OSCAR / Metro 2 and the PBoC objection form), each with the sentence the furnisher sees.
REASONS: dict[str, str] = {
    "not_mine": "The account is not mine.",
    "identity_theft": "The account was opened or used by someone else without my consent.",
    "never_late": "I was not late as reported.",
    "wrong_balance": "The balance or the amounts reported are wrong.",
    "wrong_status": "The account's status is wrong (open, closed, charged off, collection).",
    "paid_or_closed": "The account was paid off or closed and is not reported so.",
    "duplicate": "The account is reported more than once.",
    "other": "Something else, explained in my own words.",
}
STATUSES = ("open", "verified", "corrected", "deleted", "expired")
OUTCOMES = ("verified", "corrected", "deleted")
# What an outcome does to the item (see the module docstring).
_EFFECT_OF = {"verified": "none", "corrected": "none", "deleted": "removed"}
_UNANSWERED_EFFECT = {"delete": "removed", "unverified": "unverified"}
# Effects that take the item out of the score (and, for removed, off the report).
SUPPRESSING = ("removed", "unverified")
LABELS = {
    "disputed": "disputed by consumer",
    "unverified": "disputed by consumer; not verified by the furnisher by its deadline",
}
MAX_OPEN_PER_FILE = 100
# Who writes an expiry on the audit log: the bureau's own clock, not a client.
CLOCK_ACTOR = "dispute-clock"
CLOCK_ROLE = "system"

T = TypeVar("T")


class DisputesDueError(ConflictError):
    """Open disputes past their deadline were met: settle them (:func:`settle`) and retry.

    Only escapes to a client (as 409) if deadlines keep passing under one request.
    """

    def __init__(self, ids: Sequence[int]) -> None:
        super().__init__("disputes passed their deadline while the request ran; retry it")
        self.ids = tuple(int(i) for i in ids)


def month_text(month: Any) -> str | None:
    if month is None:
        return None
    value = month if isinstance(month, dt.date) else dt.date.fromisoformat(str(month))
    return f"{value:%Y-%m}"


def _date(month: Any) -> dt.date | None:
    if month is None or isinstance(month, dt.date):
        return month
    return dt.date.fromisoformat(str(month))


def _overdue(rows: Sequence[Any], now: dt.datetime) -> list[int]:
    out = []
    for r in rows:
        due = as_utc(r.due_at)
        if r.status == "open" and due is not None and due <= now:
            out.append(int(r.id))
    return out


def check_due(rows: Sequence[Any], now: dt.datetime) -> None:
    """Raise :class:`DisputesDueError` if any of ``rows`` (with id, status, due_at) is overdue."""
    due = _overdue(rows, now)
    if due:
        raise DisputesDueError(due)


_SELECT = select(
    D.id,
    D.consumer_id,
    D.account_id,
    D.furnisher_id,
    Account.furnisher_account_id,
    D.month,
    D.reason,
    D.text,
    D.status,
    D.effect,
    D.opened_at,
    D.due_at,
    D.resolved_at,
    D.resolution_note,
    D.correction_batch_id,
).join(Account, Account.id == D.account_id)


def dispute_dict(row: Any) -> dict[str, Any]:
    return {
        "dispute_id": int(row.id),
        "account_id": int(row.account_id),
        "furnisher_id": row.furnisher_id,
        "furnisher_account_id": row.furnisher_account_id,
        "month": month_text(row.month),
        "reason": row.reason,
        "reason_text": REASONS.get(row.reason, row.reason),
        "text": row.text,
        "status": row.status,
        "effect": row.effect,
        "opened_at": as_utc(row.opened_at),
        "due_at": as_utc(row.due_at),
        "resolved_at": as_utc(row.resolved_at),
        "resolution_note": row.resolution_note,
        "correction_batch_id": row.correction_batch_id,
    }


# --- consumers ------------------------------------------------------------------------------


def open_dispute(
    conn: Connection,
    profile: Profile,
    *,
    consumer_id: str,
    file: Sequence[str],
    account_id: int,
    month: dt.date | None,
    reason: str,
    text: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """Open a dispute of ``consumer_id`` (whose file holds the ids ``file``) on an account of
    their file, or one month of it; forwarded to the account's furnisher."""
    if reason not in REASONS:
        raise InvalidRequestError(f"reason must be one of {', '.join(REASONS)}")
    account = conn.execute(
        select(Account.id, Account.furnisher_id).where(
            Account.id == account_id, Account.consumer_id.in_(list(file))
        )
    ).first()
    if account is None:
        raise NotFoundError(f"no account {account_id} on your file")
    if month is not None:
        reported = conn.execute(
            select(AccountMonth.month).where(
                AccountMonth.account_id == account_id, AccountMonth.month == month
            )
        ).first()
        if reported is None:
            raise InvalidRequestError(
                f"account {account_id} has nothing reported for {month:%Y-%m}: dispute a month "
                "shown on your report, or the whole account"
            )
    held = conn.execute(
        select(D.id, D.month, D.status, D.effect, D.due_at).where(
            D.account_id == account_id,
            or_(D.status == "open", D.effect == "removed"),
        )
    ).all()
    check_due(held, now)
    for h in held:
        same = h.month is None or _date(h.month) == month
        if h.effect == "removed" and same:
            raise ConflictError(
                f"that item was removed from your report by dispute {h.id}: nothing to dispute"
            )
        if h.status == "open" and _date(h.month) == month:
            raise ConflictError(f"dispute {h.id} on that item is open already")
    open_count = conn.execute(
        select(func.count()).where(D.consumer_id.in_(list(file)), D.status == "open")
    ).scalar_one()
    if open_count >= MAX_OPEN_PER_FILE:
        raise ConflictError(
            f"you have {open_count} open disputes: wait for answers before opening more"
        )
    due = now + dt.timedelta(days=profile.dispute_days)
    dispute_id = conn.execute(
        _DISPUTES.insert()
        .values(
            consumer_id=consumer_id,
            account_id=account_id,
            furnisher_id=account.furnisher_id,
            month=month,
            reason=reason,
            text=text,
            status="open",
            effect=None,
            opened_at=now,
            due_at=due,
        )
        .returning(D.id)
    ).scalar_one()
    return consumer_dispute(conn, file, int(dispute_id), now)


def consumer_disputes(
    conn: Connection,
    file: Sequence[str],
    now: dt.datetime,
    *,
    status: str | None,
    limit: int,
    before: int | None,
) -> list[dict[str, Any]]:
    """The disputes the file's consumer opened, newest first."""
    stmt = _SELECT.where(D.consumer_id.in_(list(file)))
    if status is not None:
        stmt = stmt.where(D.status == status)
    if before is not None:
        stmt = stmt.where(D.id < before)
    rows = conn.execute(stmt.order_by(D.id.desc()).limit(limit)).all()
    check_due(rows, now)
    return [dispute_dict(r) for r in rows]


def consumer_dispute(
    conn: Connection, file: Sequence[str], dispute_id: int, now: dt.datetime
) -> dict[str, Any]:
    row = conn.execute(_SELECT.where(D.id == dispute_id, D.consumer_id.in_(list(file)))).first()
    if row is None:
        raise NotFoundError(f"no dispute {dispute_id} of yours")
    check_due([row], now)
    return dispute_dict(row)


# --- furnishers -----------------------------------------------------------------------------


def furnisher_disputes(
    conn: Connection,
    furnisher_id: str,
    now: dt.datetime,
    *,
    status: str | None,
    limit: int,
    after: int | None,
) -> list[dict[str, Any]]:
    """The furnisher's disputes, oldest first (the order their deadlines fall in)."""
    stmt = _SELECT.where(D.furnisher_id == furnisher_id)
    if status is not None:
        stmt = stmt.where(D.status == status)
    if after is not None:
        stmt = stmt.where(D.id > after)
    rows = conn.execute(stmt.order_by(D.id).limit(limit)).all()
    check_due(rows, now)
    return [dispute_dict(r) for r in rows]


def furnisher_dispute(
    conn: Connection, furnisher_id: str, dispute_id: int, now: dt.datetime
) -> dict[str, Any]:
    row = conn.execute(_SELECT.where(D.id == dispute_id, D.furnisher_id == furnisher_id)).first()
    if row is None:
        raise NotFoundError(f"no dispute {dispute_id} of yours")
    check_due([row], now)
    return dispute_dict(row)


def _check_correction(conn: Connection, row: Any, furnisher_id: str, batch_id: str) -> None:
    """The batch is the furnisher's, accepted, received since the dispute opened, and it
    corrected the disputed item (for a month: superseded that month's value)."""
    batch = conn.execute(
        select(Batch.received_at).where(
            Batch.id == batch_id,
            Batch.furnisher_id == furnisher_id,
            Batch.kind == "accounts",
            Batch.status == "accepted",
        )
    ).first()
    if batch is None:
        raise InvalidRequestError(
            f"correction_batch_id: no accepted account batch {batch_id!r} of yours"
        )
    received = as_utc(batch.received_at)
    opened = as_utc(row.opened_at)
    if received is not None and opened is not None and received < opened:
        raise InvalidRequestError(
            f"correction_batch_id: batch {batch_id!r} was received before the dispute was "
            "opened; send the corrected record in a new batch"
        )
    revised = and_(
        AccountMonthRevision.account_id == row.account_id,
        AccountMonthRevision.superseded_by == batch_id,
    )
    touched: ColumnElement[bool]
    if row.month is not None:
        touched = exists().where(revised, AccountMonthRevision.month == row.month)
    else:
        touched = or_(
            exists().where(revised),
            exists().where(
                AccountMonth.account_id == row.account_id, AccountMonth.batch_id == batch_id
            ),
        )
    if not conn.execute(select(touched)).scalar():
        what = f"month {month_text(row.month)} of account" if row.month else "account"
        raise InvalidRequestError(
            f"correction_batch_id: batch {batch_id!r} did not correct {what} "
            f"{row.account_id}: send the corrected record (same account and month, new values) "
            "first"
        )


def resolve(
    conn: Connection,
    furnisher_id: str,
    dispute_id: int,
    *,
    outcome: str,
    note: str | None,
    correction_batch_id: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The furnisher's answer to one of its open disputes."""
    if outcome not in OUTCOMES:
        raise InvalidRequestError(f"outcome must be one of {', '.join(OUTCOMES)}")
    row = conn.execute(_SELECT.where(D.id == dispute_id, D.furnisher_id == furnisher_id)).first()
    if row is None:
        raise NotFoundError(f"no dispute {dispute_id} of yours")
    check_due([row], now)
    if row.status != "open":
        raise ConflictError(
            f"dispute {dispute_id} is {row.status} already: only an open dispute is answered"
        )
    if outcome == "corrected":
        if correction_batch_id is None:
            raise InvalidRequestError(
                "correction_batch_id: a corrected dispute names the batch that carried the "
                "correction"
            )
        _check_correction(conn, row, furnisher_id, correction_batch_id)
    elif correction_batch_id is not None:
        raise InvalidRequestError("correction_batch_id: only a corrected dispute names a batch")
    changed = conn.execute(
        update(_DISPUTES)
        .where(D.id == dispute_id, D.status == "open")
        .values(
            status=outcome,
            effect=_EFFECT_OF[outcome],
            resolved_at=now,
            resolution_note=note,
            correction_batch_id=correction_batch_id,
        )
    ).rowcount
    if not changed:  # closed by someone else since it was read (PostgreSQL, READ COMMITTED)
        raise ConflictError(f"dispute {dispute_id} was closed meanwhile: read it again")
    return furnisher_dispute(conn, furnisher_id, dispute_id, now)


def owner_of(conn: Connection, dispute_id: int) -> str | None:
    """The consumer id that opened the dispute (for the audit entry's chain)."""
    owner = conn.execute(select(D.consumer_id).where(D.id == dispute_id)).scalar()
    return None if owner is None else str(owner)


# --- the deadline ---------------------------------------------------------------------------


def expire_due(
    db: ServiceDB,
    profile: Profile,
    now: dt.datetime,
    *,
    ids: Sequence[int] | None = None,
    chunk: int = 500,
) -> int:
    """Expire open disputes past their deadline (all, or those of ``ids``): the profile's
    treatment, each chunk in its own transaction with its audit entries. Returns how many."""
    effect = _UNANSWERED_EFFECT[profile.dispute_unanswered]
    total = 0
    while True:
        with db.write() as conn:
            stmt = select(D.id).where(D.status == "open", D.due_at <= now)
            if ids is not None:
                stmt = stmt.where(D.id.in_(list(ids)))
            picked = [int(i) for i in conn.execute(stmt.order_by(D.due_at).limit(chunk)).scalars()]
            if not picked:
                return total
            expired = conn.execute(
                update(_DISPUTES)
                .where(D.id.in_(picked), D.status == "open")
                .values(status="expired", effect=effect, resolved_at=now)
                .returning(D.id, D.consumer_id, D.account_id, D.furnisher_id)
            ).all()
            if expired:
                audit.append(
                    conn,
                    [
                        audit.AuditEvent(
                            actor=CLOCK_ACTOR,
                            role=CLOCK_ROLE,
                            action="dispute.expire",
                            object_type="dispute",
                            object_id=str(e.id),
                            consumer_id=e.consumer_id,
                            detail={
                                "account_id": int(e.account_id),
                                "furnisher_id": e.furnisher_id,
                                "effect": effect,
                            },
                        )
                        for e in sorted(expired, key=lambda e: int(e.id))
                    ],
                    now,
                )
        total += len(expired)
        if ids is not None or len(picked) < chunk:
            if total:
                logger.info("%d disputes expired unanswered (%s)", total, effect)
            return total


def settle(db: ServiceDB, profile: Profile, now: dt.datetime, attempt: Callable[[], T]) -> T:
    """Run ``attempt``; when it meets overdue disputes, expire them and run it again."""
    for _ in range(3):
        try:
            return attempt()
        except DisputesDueError as due:
            expire_due(db, profile, now, ids=due.ids)
    return attempt()


# --- oversight ------------------------------------------------------------------------------


def summary(conn: Connection, now: dt.datetime, *, limit: int, after: str | None) -> dict[str, Any]:
    """Counts by status, open disputes past or near their deadline, and per furnisher (a page
    of furnishers in id order). Counts only: no consumer, account or text."""
    by_status = dict.fromkeys(STATUSES, 0)
    for status, n in conn.execute(select(D.status, func.count()).group_by(D.status)):
        by_status[str(status)] = int(n)
    open_due = and_(D.status == "open", D.due_at <= now)
    soon = and_(D.status == "open", D.due_at > now, D.due_at <= now + dt.timedelta(days=7))
    overdue = conn.execute(select(func.count()).where(open_due)).scalar_one()
    due_soon = conn.execute(select(func.count()).where(soon)).scalar_one()
    page = select(D.furnisher_id).distinct()
    if after is not None:
        page = page.where(D.furnisher_id > after)
    furnishers = [
        str(f) for f in conn.execute(page.order_by(D.furnisher_id).limit(limit)).scalars()
    ]
    per: dict[str, dict[str, int]] = {
        f: {**dict.fromkeys(STATUSES, 0), "overdue": 0} for f in furnishers
    }
    if furnishers:
        counts = conn.execute(
            select(D.furnisher_id, D.status, func.count())
            .where(D.furnisher_id.in_(furnishers))
            .group_by(D.furnisher_id, D.status)
        )
        for f, status, n in counts:
            per[str(f)][str(status)] = int(n)
        late = conn.execute(
            select(D.furnisher_id, func.count())
            .where(D.furnisher_id.in_(furnishers), open_due)
            .group_by(D.furnisher_id)
        )
        for f, n in late:
            per[str(f)]["overdue"] = int(n)
    return {
        "generated_at": now,
        "by_status": by_status,
        "open_overdue": int(overdue),
        "open_due_within_7_days": int(due_soon),
        "furnishers": [{"furnisher_id": f, **per[f]} for f in furnishers],
        "next_after": furnishers[-1] if len(furnishers) == limit else None,
    }


__all__ = [
    "LABELS",
    "MAX_OPEN_PER_FILE",
    "OUTCOMES",
    "REASONS",
    "STATUSES",
    "SUPPRESSING",
    "DisputesDueError",
    "check_due",
    "consumer_dispute",
    "consumer_disputes",
    "dispute_dict",
    "expire_due",
    "furnisher_dispute",
    "furnisher_disputes",
    "month_text",
    "open_dispute",
    "owner_of",
    "resolve",
    "settle",
    "summary",
]
