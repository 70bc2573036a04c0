"""A lender's inquiry: the consent and purpose check, the report, the record — one transaction.

Refused unless the lender names a live consent of that consumer, to that lender, for that
purpose; the purpose must be permissible in the jurisdiction; the file must not be frozen.
A success writes exactly one inquiry row and one audit entry with it; a refusal writes no
inquiry and one audit entry saying why (scrapers show up in the log too).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select

from openbureau.errors import InquiryRefusedError, InvalidRequestError, NotFoundError
from openbureau.identity import national_id
from openbureau.rules.profiles import Profile
from openbureau.service import audit
from openbureau.service.auth import Principal, resolve_consumer
from openbureau.service.consent import consent_state
from openbureau.service.db import ServiceDB, as_utc
from openbureau.service.disputes import settle
from openbureau.service.report import (
    ReportContext,
    build_report,
    file_ids,
    header_beside,
    inquiries_since,
    resolved_header,
    with_report_rows,
)
from openbureau.store.models import Consent, Consumer, Inquiry

_INQUIRIES: Table = Inquiry.__table__  # type: ignore[assignment]
_CONSENTS: Table = Consent.__table__  # type: ignore[assignment]
# Built once: the inquiry is the hot path.
# The consent is read with the file's header (one round trip fewer), locked FOR SHARE in its
# own sub-select: PostgreSQL refuses a lock on the nullable side of an outer join, and a
# revocation must wait for an inquiry using the consent. SQLite has no row locks. The header
# row then carries the consent's fields (expires_at and revoked_at under their own names, for
# consent_state; the rest prefixed, beside the header's own id).
_CONSENT = (
    select(
        _CONSENTS.c.id.label("consent_id"),
        _CONSENTS.c.consumer_id.label("consent_owner"),
        _CONSENTS.c.lender.label("consent_lender"),
        _CONSENTS.c.purpose.label("consent_purpose"),
        _CONSENTS.c.expires_at,
        _CONSENTS.c.revoked_at,
    )
    .where(_CONSENTS.c.id == bindparam("consent_id"))
    .with_for_update(read=True)
    .subquery("consent")
)
_HEADER_AND_CONSENT = with_report_rows(header_beside(_CONSENT))
_RECORD = insert(_INQUIRIES).returning(_INQUIRIES.c.id)


@dataclass(frozen=True)
class InquiryInput:
    purpose: str
    consent_id: str
    consumer_id: str | None = None
    national_id: str | None = None


def _find_file(conn: Connection, rc: ReportContext, req: InquiryInput, now: dt.datetime) -> Any:
    """The header of the named consumer's file (merges followed) with the consent named
    and the file's recent inquiries, or None."""
    params = {"consent_id": req.consent_id, "since": inquiries_since(now)}
    if req.consumer_id is not None:
        return resolved_header(conn, req.consumer_id, stmt=_HEADER_AND_CONSENT, params=params)
    assert req.national_id is not None
    value = national_id.normalise(req.national_id)
    reason = national_id.invalid_reason(value)
    if reason is not None:
        raise InvalidRequestError(f"identity.national_id: {reason}")
    found = conn.execute(
        select(Consumer.id).where(Consumer.national_id_hmac == rc.sealer.hmac_hex(value))
    ).scalar()
    if found is None:
        return None
    return resolved_header(conn, str(found), stmt=_HEADER_AND_CONSENT, params=params)


def _refusal(
    conn: Connection,
    profile: Profile,
    principal: Principal,
    req: InquiryInput,
    cid: str,
    head: Any,
    now: dt.datetime,
) -> tuple[str, str] | None:
    if req.purpose not in profile.permissible_purposes:
        return (
            "purpose_not_permitted",
            f"purpose {req.purpose!r} is not permissible in jurisdiction {profile.code!r}",
        )
    if head.consent_id is None:
        return "consent_missing", f"there is no consent {req.consent_id!r}"
    owner: str | None = head.consent_owner
    if owner != cid:  # granted before a merge: the owner's surviving file
        owner = resolve_consumer(conn, head.consent_owner)
    lender, purpose = head.consent_lender, head.consent_purpose
    if owner != cid or lender != principal.lender or purpose != req.purpose:
        return (
            "consent_mismatch",
            f"consent {req.consent_id!r} does not cover this consumer, lender and purpose",
        )
    state = consent_state(head, now)
    if state == "revoked":
        return "consent_revoked", f"consent {req.consent_id!r} was revoked by the consumer"
    if state == "expired":
        return "consent_expired", f"consent {req.consent_id!r} has expired"
    if head.frozen:
        return "file_frozen", "the consumer's file is frozen: no report is released"
    return None


def make_inquiry(
    db: ServiceDB,
    rc: ReportContext,
    profile: Profile,
    principal: Principal,
    req: InquiryInput,
    now: dt.datetime,
) -> dict[str, Any]:
    """Check, report, record. Raises NotFoundError or InquiryRefusedError when refused.

    A dispute on the file found open past its deadline is expired first (in its own
    transaction), then the inquiry runs again: the report never shows an overdue dispute.
    """
    return settle(db, profile, now, lambda: _make_inquiry(db, rc, profile, principal, req, now))


def _make_inquiry(
    db: ServiceDB,
    rc: ReportContext,
    profile: Profile,
    principal: Principal,
    req: InquiryInput,
    now: dt.datetime,
) -> dict[str, Any]:
    if principal.lender is None:
        raise InvalidRequestError("this client has no lender name: it cannot make inquiries")
    error: Exception | None = None
    with db.write() as conn:
        head = _find_file(conn, rc, req, now)
        cid: str | None = None if head is None else str(head.id)
        if cid is None:
            refusal: tuple[str, str] | None = (
                "no_file",
                "no credit file matches the consumer given",
            )
        else:
            refusal = _refusal(conn, profile, principal, req, cid, head, now)
        if refusal is not None:
            reason, message = refusal
            audit.append(
                conn,
                [
                    audit.AuditEvent(
                        actor=principal.client_id,
                        role=principal.role,
                        action="inquiry.refused",
                        object_type="consent",
                        object_id=req.consent_id[:64],
                        consumer_id=cid,
                        detail={"reason": reason, "purpose": req.purpose},
                    )
                ],
                now,
            )
            error = (
                NotFoundError(message)
                if reason == "no_file"
                else InquiryRefusedError(f"inquiry refused: {message}", reason)
            )
        else:
            assert cid is not None
            report = build_report(conn, rc, cid, now, head=head)
            kind = "hard" if req.purpose in profile.hard_purposes else "soft"
            inquiry_id = audit.append_created(
                conn,
                _RECORD,
                {
                    "consumer_id": cid,
                    "lender": principal.lender,
                    "purpose": req.purpose,
                    "created_at": now,
                    "kind": kind,
                    "client_id": principal.client_id,
                    "consent_id": req.consent_id,
                },
                audit.AuditEvent(
                    actor=principal.client_id,
                    role=principal.role,
                    action="inquiry.create",
                    object_type="inquiry",
                    consumer_id=cid,
                    detail={
                        "purpose": req.purpose,
                        "kind": kind,
                        "consent_id": req.consent_id,
                        "score_source": report["score"].get("source"),
                    },
                ),
                now,
            )
    if error is not None:
        raise error
    return {
        "inquiry_id": int(inquiry_id),
        "created_at": now,
        "consumer_id": cid,
        "lender": principal.lender,
        "purpose": req.purpose,
        "kind": kind,
        "consent_id": req.consent_id,
        "report": report,
    }


def inquiry_dict(row: Any) -> dict[str, Any]:
    return {
        "inquiry_id": int(row.id),
        "consumer_id": row.consumer_id,
        "lender": row.lender,
        "purpose": row.purpose,
        "kind": row.kind,
        "created_at": as_utc(row.created_at),
        "consent_id": row.consent_id,
    }


def lender_inquiries(
    conn: Connection, lender: str, *, limit: int, before: int | None
) -> list[dict[str, Any]]:
    stmt = select(_INQUIRIES).where(_INQUIRIES.c.lender == lender)
    if before is not None:
        stmt = stmt.where(_INQUIRIES.c.id < before)
    rows = conn.execute(stmt.order_by(_INQUIRIES.c.id.desc()).limit(limit)).all()
    return [inquiry_dict(r) for r in rows]


def lender_inquiry(conn: Connection, lender: str, inquiry_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(_INQUIRIES).where(_INQUIRIES.c.id == inquiry_id, _INQUIRIES.c.lender == lender)
    ).first()
    if row is None:
        raise NotFoundError(f"no inquiry {inquiry_id} of yours")
    return inquiry_dict(row)


def consumer_inquiries(
    conn: Connection, consumer_id: str, *, limit: int, before: int | None
) -> list[dict[str, Any]]:
    stmt = select(_INQUIRIES).where(_INQUIRIES.c.consumer_id.in_(file_ids(conn, consumer_id)))
    if before is not None:
        stmt = stmt.where(_INQUIRIES.c.id < before)
    rows = conn.execute(stmt.order_by(_INQUIRIES.c.id.desc()).limit(limit)).all()
    return [inquiry_dict(r) for r in rows]


__all__ = [
    "InquiryInput",
    "consumer_inquiries",
    "inquiry_dict",
    "lender_inquiries",
    "lender_inquiry",
    "make_inquiry",
]
