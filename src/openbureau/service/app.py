"""The FastAPI app: routes under ``/v1``, each admitting its roles (see :mod:`.policy`).

Routes are thin: they check the object's owner, call the domain functions of this package
in one database transaction, and append the audit entry in that same transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import re
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from openbureau.context import Context
from openbureau.errors import (
    ConflictError,
    IngestError,
    InvalidRequestError,
    NotFoundError,
    OpenBureauError,
    PayloadTooLargeError,
)
from openbureau.rules.profiles import Profile, get_profile
from openbureau.service import audit, consent, disputes, inquiries, limits, policy, problems
from openbureau.service import schemas as s
from openbureau.service.auth import Authenticator, Principal, list_consumers, resolve_consumer
from openbureau.service.db import Clock, ServiceDB, as_utc, system_clock
from openbureau.service.report import ReportContext, Scorer, account_of, build_report, file_ids
from openbureau.store.models import AbuseAlert, Batch

logger = logging.getLogger(__name__)

_UPLOAD_PATH = re.compile(r"^/v1/furnishers/[^/]+/batches/?$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_CHUNK = 1 << 20
T = TypeVar("T")


@dataclass
class Bureau:
    """What every request needs, built once per app."""

    ctx: Context
    db: ServiceDB
    auth: Authenticator
    limiter: limits.Limiter
    reports: ReportContext
    profile: Profile
    clock: Clock
    watch: limits.ScrapingWatch
    # Threads of their own for ingesting uploads (set at start): an upload holds its thread
    # for seconds, and must not take the route handlers' few.
    ingest_threads: anyio.CapacityLimiter | None = None

    def now(self) -> dt.datetime:
        return self.clock()


async def _bureau(request: Request) -> Bureau:
    bureau: Bureau = request.app.state.bureau
    return bureau


BureauDep = Annotated[Bureau, Depends(_bureau)]
Furnisher = Annotated[Principal, Depends(policy.Allow("furnisher"))]
Lender = Annotated[Principal, Depends(policy.Allow("lender"))]
ConsumerP = Annotated[Principal, Depends(policy.Allow("consumer"))]
Regulator = Annotated[Principal, Depends(policy.Allow("regulator"))]
Operator = Annotated[Principal, Depends(policy.Allow("operator"))]
Overseer = Annotated[Principal, Depends(policy.Allow("operator", "regulator"))]
Limit = Annotated[int, Query(ge=1, le=s.MAX_PAGE, description="Page size.")]


def _record(
    conn: Connection,
    bureau: Bureau,
    principal: Principal,
    action: str,
    now: dt.datetime,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    consumer_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.append(
        conn,
        [
            audit.AuditEvent(
                actor=principal.client_id,
                role=principal.role,
                action=action,
                object_type=object_type,
                object_id=object_id,
                consumer_id=consumer_id,
                detail=detail or {},
            )
        ],
        now,
    )


def _json(model: type[BaseModel], content: dict[str, Any], status: int = 200) -> Response:
    """``content`` validated by ``model`` and serialised by pydantic-core in one pass (a
    report is the largest body the service sends; this is its hot path)."""
    body = model.model_validate(content).model_dump_json().encode("utf-8")
    return Response(body, status_code=status, media_type="application/json")


def _me(conn: Connection, principal: Principal) -> str:
    """The consumer's own file: their id, or the id it was merged into since."""
    assert principal.consumer_id is not None
    resolved = resolve_consumer(conn, principal.consumer_id)
    if resolved is None:
        raise NotFoundError("your credit file is not on record")
    return resolved


def _settled(bureau: Bureau, now: dt.datetime, attempt: Callable[[], T]) -> T:
    """``attempt``, after expiring the disputes it finds open past their deadline."""
    return disputes.settle(bureau.db, bureau.profile, now, attempt)


router = APIRouter(
    prefix="/v1", responses=problems.responses(401, 403, 404, 405, 413, 422, 429, 500, 503)
)


@router.get("/health", response_model=s.Health, tags=["service"])
def health() -> dict[str, str]:
    """Liveness: the process answers (no data behind it)."""
    return {"status": "ok"}


# --- consumers: their own file --------------------------------------------------------------


@router.get("/me/report", response_model=s.Report, tags=["consumer"])
def my_report(principal: ConsumerP, bureau: BureauDep) -> Response:
    """The consumer's own credit report, score included."""
    now = bureau.now()

    def attempt() -> dict[str, Any]:
        with bureau.db.write() as conn:
            cid = _me(conn, principal)
            report = build_report(conn, bureau.reports, cid, now)
            _record(conn, bureau, principal, "report.view", now, consumer_id=cid)
        return report

    return _json(s.Report, _settled(bureau, now, attempt))


@router.get("/me/inquiries", response_model=s.InquiryPage, tags=["consumer"])
def my_inquiries(
    principal: ConsumerP,
    bureau: BureauDep,
    limit: Limit = 50,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """Who looked at the consumer's file, when and why (newest first)."""
    now = bureau.now()
    with bureau.db.write() as conn:
        cid = _me(conn, principal)
        items = inquiries.consumer_inquiries(conn, cid, limit=limit, before=before)
        _record(conn, bureau, principal, "inquiries.view", now, consumer_id=cid)
    return _page(items, limit, "inquiry_id")


@router.post("/me/consents", response_model=s.ConsentOut, status_code=201, tags=["consumer"])
def grant_consent(
    body: s.ConsentRequest, principal: ConsumerP, bureau: BureauDep
) -> dict[str, Any]:
    """Consent that a lender pulls the consumer's file for one purpose, for some days."""
    now = bureau.now()
    with bureau.db.write() as conn:
        cid = _me(conn, principal)
        out = consent.grant(
            conn,
            bureau.profile,
            consumer_id=cid,
            lender=body.lender,
            purpose=body.purpose,
            days=body.days,
            now=now,
        )
        _record(
            conn,
            bureau,
            principal,
            "consent.grant",
            now,
            object_type="consent",
            object_id=out["consent_id"],
            consumer_id=cid,
            detail={"lender": body.lender, "purpose": body.purpose, "days": body.days},
        )
    return out


@router.get("/me/consents", response_model=s.ConsentPage, tags=["consumer"])
def my_consents(
    principal: ConsumerP,
    bureau: BureauDep,
    limit: Limit = 50,
    after: Annotated[str | None, Query(max_length=64, pattern=s.ID_PATTERN)] = None,
) -> dict[str, Any]:
    """The consumer's consents (live, expired and revoked)."""
    now = bureau.now()
    with bureau.db.write() as conn:
        cid = _me(conn, principal)
        items = consent.list_consents(conn, cid, now, limit=limit, after=after)
        _record(conn, bureau, principal, "consents.view", now, consumer_id=cid)
    return {"items": items, "next_after": items[-1]["consent_id"] if len(items) == limit else None}


@router.delete("/me/consents/{consent_id}", response_model=s.ConsentOut, tags=["consumer"])
def revoke_consent(
    consent_id: Annotated[str, PathParam(max_length=64, pattern=s.ID_PATTERN)],
    principal: ConsumerP,
    bureau: BureauDep,
) -> dict[str, Any]:
    """Revoke a consent: no inquiry may use it from now on."""
    now = bureau.now()
    with bureau.db.write() as conn:
        cid = _me(conn, principal)
        out = consent.revoke(conn, cid, consent_id, now)
        _record(
            conn,
            bureau,
            principal,
            "consent.revoke",
            now,
            object_type="consent",
            object_id=consent_id,
            consumer_id=cid,
        )
    return out


def _controls_route(
    principal: Principal, bureau: Bureau, action: str, change: Any
) -> dict[str, Any]:
    now = bureau.now()
    with bureau.db.write() as conn:
        cid = _me(conn, principal)
        change(conn, cid, now)
        _record(conn, bureau, principal, action, now, consumer_id=cid)
        return consent.control_dict(conn, cid, now)


@router.get("/me/controls", response_model=s.ControlsOut, tags=["consumer"])
def my_controls(principal: ConsumerP, bureau: BureauDep) -> dict[str, Any]:
    """The file's freeze and fraud alert."""
    return _controls_route(principal, bureau, "controls.view", lambda c, i, n: None)


@router.put("/me/freeze", response_model=s.ControlsOut, tags=["consumer"])
def freeze(principal: ConsumerP, bureau: BureauDep) -> dict[str, Any]:
    """Freeze the file: no lender gets a report until it is lifted."""
    return _controls_route(
        principal, bureau, "freeze.set", lambda c, i, n: consent.set_freeze(c, i, True, n)
    )


@router.delete("/me/freeze", response_model=s.ControlsOut, tags=["consumer"])
def lift_freeze(principal: ConsumerP, bureau: BureauDep) -> dict[str, Any]:
    """Lift the freeze."""
    return _controls_route(
        principal, bureau, "freeze.lift", lambda c, i, n: consent.set_freeze(c, i, False, n)
    )


@router.put("/me/fraud-alert", response_model=s.ControlsOut, tags=["consumer"])
def set_fraud_alert(
    body: s.FraudAlertRequest, principal: ConsumerP, bureau: BureauDep
) -> dict[str, Any]:
    """Place a fraud alert: reports to lenders carry it for ``days``."""
    return _controls_route(
        principal,
        bureau,
        "fraud_alert.set",
        lambda c, i, n: consent.set_fraud_alert(c, i, body.days, n),
    )


@router.delete("/me/fraud-alert", response_model=s.ControlsOut, tags=["consumer"])
def remove_fraud_alert(principal: ConsumerP, bureau: BureauDep) -> dict[str, Any]:
    """Remove the fraud alert."""
    return _controls_route(
        principal,
        bureau,
        "fraud_alert.remove",
        lambda c, i, n: consent.set_fraud_alert(c, i, None, n),
    )


AccountId = Annotated[int, PathParam(ge=1, le=2**62)]


@router.put(
    "/me/accounts/{account_id}/statement", response_model=s.StatementResult, tags=["consumer"]
)
def put_statement(
    account_id: AccountId, body: s.StatementRequest, principal: ConsumerP, bureau: BureauDep
) -> dict[str, Any]:
    """A short statement of the consumer's on one of their accounts (replaces the last)."""
    now = bureau.now()
    with bureau.db.write() as conn:
        cid = _me(conn, principal)
        if not account_of(conn, cid, account_id):
            raise NotFoundError(f"no account {account_id} on your file")
        out = consent.put_statement(conn, cid, account_id, body.text, now)
        _record(
            conn,
            bureau,
            principal,
            "statement.put",
            now,
            object_type="account",
            object_id=str(account_id),
            consumer_id=cid,
        )
    return out


@router.delete("/me/accounts/{account_id}/statement", response_model=s.Deleted, tags=["consumer"])
def delete_statement(
    account_id: AccountId, principal: ConsumerP, bureau: BureauDep
) -> dict[str, Any]:
    """Remove the consumer's statement on an account."""
    now = bureau.now()
    with bureau.db.write() as conn:
        cid = _me(conn, principal)
        if not account_of(conn, cid, account_id):
            raise NotFoundError(f"no account {account_id} on your file")
        deleted = consent.delete_statement(conn, account_id)
        _record(
            conn,
            bureau,
            principal,
            "statement.delete",
            now,
            object_type="account",
            object_id=str(account_id),
            consumer_id=cid,
        )
    return {"deleted": deleted}


# --- consumers: disputes --------------------------------------------------------------------

DisputeId = Annotated[int, PathParam(ge=1, le=2**62)]
DisputeStatusQ = Annotated[
    s.DisputeStatus | None, Query(description="Only disputes in this status.")
]
_CONFLICT = problems.responses(409)


@router.post(
    "/me/disputes",
    response_model=s.DisputeOut,
    status_code=201,
    tags=["consumer"],
    responses=_CONFLICT,
)
def open_dispute(body: s.DisputeRequest, principal: ConsumerP, bureau: BureauDep) -> Any:
    """Dispute an item on your report: one account, or one month of it (``month``).

    The account's furnisher must answer within the jurisdiction's deadline (``due_at``);
    until then the report marks the item "disputed by consumer".
    """
    now = bureau.now()
    month = dt.date.fromisoformat(f"{body.month}-01") if body.month else None

    def attempt() -> dict[str, Any]:
        with bureau.db.write() as conn:
            cid = _me(conn, principal)
            out = disputes.open_dispute(
                conn,
                bureau.profile,
                consumer_id=cid,
                file=file_ids(conn, cid),
                account_id=body.account_id,
                month=month,
                reason=body.reason,
                text=body.text,
                now=now,
            )
            _record(
                conn,
                bureau,
                principal,
                "dispute.open",
                now,
                object_type="dispute",
                object_id=str(out["dispute_id"]),
                consumer_id=cid,
                detail={
                    "account_id": body.account_id,
                    "month": body.month,
                    "reason": body.reason,
                    "furnisher_id": out["furnisher_id"],
                },
            )
        return out

    try:
        return _settled(bureau, now, attempt)
    except IntegrityError as e:  # the same item disputed twice at once: one of them wins
        raise ConflictError("a dispute on that item is open already") from e


@router.get("/me/disputes", response_model=s.DisputePage, tags=["consumer"], responses=_CONFLICT)
def my_disputes(
    principal: ConsumerP,
    bureau: BureauDep,
    status: DisputeStatusQ = None,
    limit: Limit = 50,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """The disputes you opened, newest first, with the furnishers' answers."""
    now = bureau.now()

    def attempt() -> list[dict[str, Any]]:
        with bureau.db.write() as conn:
            cid = _me(conn, principal)
            items = disputes.consumer_disputes(
                conn, file_ids(conn, cid), now, status=status, limit=limit, before=before
            )
            _record(conn, bureau, principal, "disputes.view", now, consumer_id=cid)
        return items

    return _page(_settled(bureau, now, attempt), limit, "dispute_id")


@router.get(
    "/me/disputes/{dispute_id}", response_model=s.DisputeOut, tags=["consumer"], responses=_CONFLICT
)
def my_dispute(dispute_id: DisputeId, principal: ConsumerP, bureau: BureauDep) -> Any:
    """One of your disputes."""
    now = bureau.now()

    def attempt() -> dict[str, Any]:
        with bureau.db.write() as conn:
            cid = _me(conn, principal)
            out = disputes.consumer_dispute(conn, file_ids(conn, cid), dispute_id, now)
            _record(
                conn,
                bureau,
                principal,
                "dispute.view",
                now,
                object_type="dispute",
                object_id=str(dispute_id),
                consumer_id=cid,
            )
        return out

    return _settled(bureau, now, attempt)


# --- lenders --------------------------------------------------------------------------------


@router.post("/inquiries", response_model=s.InquiryResult, status_code=201, tags=["lender"])
def create_inquiry(
    body: s.InquiryRequest, principal: Lender, bureau: BureauDep, background: BackgroundTasks
) -> Response:
    """Pull a consumer's report and score, with their consent, for a permissible purpose."""
    now = bureau.now()
    req = inquiries.InquiryInput(
        purpose=body.purpose,
        consent_id=body.consent_id,
        consumer_id=body.consumer_id,
        national_id=body.identity.national_id if body.identity is not None else None,
    )
    out = inquiries.make_inquiry(bureau.db, bureau.reports, bureau.profile, principal, req, now)
    lender = principal.lender
    if lender is not None and bureau.watch.due(lender):
        # After the response is sent: the lender does not wait for its own scan.
        background.add_task(_scan, bureau, lender, now)
    return _json(s.InquiryResult, out, 201)


def _page(items: list[dict[str, Any]], limit: int, key: str) -> dict[str, Any]:
    """A page newest first: a full page names the cursor of the next one."""
    return {"items": items, "next_before": items[-1][key] if len(items) == limit else None}


def _scan(bureau: Bureau, lender: str, now: dt.datetime) -> None:
    try:
        with bureau.db.write() as conn:
            limits.scan_lender(conn, bureau.ctx.settings, lender, now)
    except Exception as e:  # the inquiry is done; a failed scan must not fail it
        logger.warning("scraping scan failed: %s", type(e).__name__)


@router.get("/inquiries", response_model=s.InquiryPage, tags=["lender"])
def list_inquiries(
    principal: Lender,
    bureau: BureauDep,
    limit: Limit = 50,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """The lender's own inquiries, newest first."""
    now = bureau.now()
    assert principal.lender is not None
    with bureau.db.write() as conn:
        items = inquiries.lender_inquiries(conn, principal.lender, limit=limit, before=before)
        _record(conn, bureau, principal, "inquiries.list", now)
    return _page(items, limit, "inquiry_id")


@router.get("/inquiries/{inquiry_id}", response_model=s.InquiryOut, tags=["lender"])
def get_inquiry(
    inquiry_id: Annotated[int, PathParam(ge=1, le=2**62)], principal: Lender, bureau: BureauDep
) -> dict[str, Any]:
    """One of the lender's own inquiries (not the report again: that needs a new inquiry)."""
    now = bureau.now()
    assert principal.lender is not None
    with bureau.db.write() as conn:
        out = inquiries.lender_inquiry(conn, principal.lender, inquiry_id)
        _record(
            conn,
            bureau,
            principal,
            "inquiry.view",
            now,
            object_type="inquiry",
            object_id=str(inquiry_id),
        )
    return out


# --- furnishers -----------------------------------------------------------------------------

FurnisherId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=s.ID_PATTERN)]


def _own_furnisher(principal: Principal, furnisher_id: str) -> None:
    if principal.furnisher_id != furnisher_id:
        raise NotFoundError(f"no furnisher {furnisher_id!r} of yours")


@router.post(
    "/furnishers/{furnisher_id}/batches",
    response_model=s.Receipt,
    status_code=201,
    tags=["furnisher"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
        "responses": {"200": {"description": "The batch was already received (its receipt)."}},
    },
)
async def upload_batch(
    request: Request,
    furnisher_id: FurnisherId,
    principal: Furnisher,
    bureau: BureauDep,
    file_name: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            pattern=_FILE_NAME.pattern,
            description="The batch file's name: <YYYY-MM>.<accounts|payments>.<csv|jsonl|parquet>"
            "[.gz]",
        ),
    ],
    batch_ref: Annotated[
        str | None, Query(min_length=1, max_length=200, pattern=s.ID_PATTERN)
    ] = None,
) -> Any:
    """Upload one batch file (the body, streamed); ingest it; return its receipt."""
    from fastapi.responses import JSONResponse

    from openbureau.ingest import ingest_file

    _own_furnisher(principal, furnisher_id)
    if not _FILE_NAME.match(file_name):
        raise InvalidRequestError(
            "file_name may hold letters, digits, '.', '_' and '-' only (no folders)"
        )
    settings = bureau.ctx.settings
    folder = settings.home / "tmp" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    now = bureau.now()
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        path = Path(tmp) / file_name
        size = 0
        with path.open("wb") as f:
            async for chunk in request.stream():
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise PayloadTooLargeError(
                        f"an upload may be at most {settings.max_upload_bytes} bytes"
                    )
                f.write(chunk)
        try:
            ingest = functools.partial(
                ingest_file,
                bureau.ctx,
                path,
                furnisher_id,
                batch_ref=batch_ref,
                display_name=file_name,
                now=now,
            )
            receipt = await anyio.to_thread.run_sync(ingest, limiter=bureau.ingest_threads)
        except IngestError as e:
            # A refused or unreadable upload is an event too (its receipt, if any, names it).
            refused = getattr(getattr(e, "receipt", None), "batch_id", None)
            with bureau.db.write() as conn:
                _record(
                    conn,
                    bureau,
                    principal,
                    "batch.refused",
                    now,
                    object_type="batch",
                    object_id=str(refused) if refused else None,
                    detail={"error": type(e).__name__, "bytes": size},
                )
            raise
    out = receipt.to_dict()
    duplicate = out.get("status") == "duplicate" or out.get("batch_id") is None
    with bureau.db.write() as conn:
        _record(
            conn,
            bureau,
            principal,
            "batch.upload",
            now,
            object_type="batch",
            object_id=str(out.get("batch_id")),
            detail={
                "status": out.get("status"),
                "received": out.get("received"),
                "rejected": out.get("rejected"),
                "bytes": size,
            },
        )
    return JSONResponse(
        s.Receipt.model_validate(out).model_dump(mode="json"), 200 if duplicate else 201
    )


@router.get("/furnishers/{furnisher_id}/batches", response_model=s.BatchPage, tags=["furnisher"])
def list_batches(
    furnisher_id: FurnisherId,
    principal: Furnisher,
    bureau: BureauDep,
    limit: Limit = 50,
    before: Annotated[str | None, Query(max_length=64, pattern=s.ID_PATTERN)] = None,
) -> dict[str, Any]:
    """The furnisher's own batches, newest first."""
    _own_furnisher(principal, furnisher_id)
    now = bureau.now()
    stmt = select(
        Batch.id,
        Batch.kind,
        Batch.file_name,
        Batch.status,
        Batch.received_at,
        Batch.received,
        Batch.accepted,
        Batch.rejected,
    ).where(Batch.furnisher_id == furnisher_id)
    with bureau.db.write() as conn:
        if before is not None:
            pivot = conn.execute(
                select(Batch.received_at).where(
                    Batch.id == before, Batch.furnisher_id == furnisher_id
                )
            ).scalar()
            if pivot is None:
                raise NotFoundError(f"no batch {before!r} of yours")
            stmt = stmt.where(
                (Batch.received_at < pivot) | ((Batch.received_at == pivot) & (Batch.id < before))
            )
        rows = conn.execute(
            stmt.order_by(Batch.received_at.desc(), Batch.id.desc()).limit(limit)
        ).all()
        _record(conn, bureau, principal, "batches.list", now)
    items = [
        {
            "batch_id": r.id,
            "kind": r.kind,
            "file_name": r.file_name,
            "status": r.status,
            "received_at": as_utc(r.received_at),
            "received": r.received,
            "accepted": r.accepted,
            "rejected": r.rejected,
        }
        for r in rows
    ]
    return _page(items, limit, "batch_id")


@router.get(
    "/furnishers/{furnisher_id}/batches/{batch_id}", response_model=s.Receipt, tags=["furnisher"]
)
def get_receipt(
    furnisher_id: FurnisherId,
    batch_id: Annotated[str, PathParam(min_length=1, max_length=64, pattern=s.ID_PATTERN)],
    principal: Furnisher,
    bureau: BureauDep,
) -> dict[str, Any]:
    """The receipt of one of the furnisher's batches."""
    _own_furnisher(principal, furnisher_id)
    now = bureau.now()
    with bureau.db.write() as conn:
        row = conn.execute(
            select(
                Batch.id,
                Batch.furnisher_id,
                Batch.file_name,
                Batch.kind,
                Batch.status,
                Batch.received,
                Batch.accepted,
                Batch.rejected,
                Batch.receipt,
            ).where(Batch.id == batch_id, Batch.furnisher_id == furnisher_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no batch {batch_id!r} of yours")
        _record(
            conn,
            bureau,
            principal,
            "receipt.view",
            now,
            object_type="batch",
            object_id=batch_id,
        )
    # The stored receipt, over the batch row's own columns (which every batch has).
    receipt: dict[str, Any] = {
        "batch_id": row.id,
        "furnisher": row.furnisher_id,
        "file": row.file_name,
        "kind": row.kind,
        "status": row.status,
        "received": row.received,
        "accepted": row.accepted,
        "rejected": row.rejected,
    }
    receipt.update(dict(row.receipt or {}))
    return receipt


# --- furnishers: disputes -------------------------------------------------------------------


@router.get(
    "/furnishers/{furnisher_id}/disputes",
    response_model=s.FurnisherDisputePage,
    tags=["furnisher"],
    responses=_CONFLICT,
)
def furnisher_disputes(
    furnisher_id: FurnisherId,
    principal: Furnisher,
    bureau: BureauDep,
    status: DisputeStatusQ = None,
    limit: Limit = 50,
    after: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """Disputes of the furnisher's records, oldest first (``status=open``: the work queue)."""
    _own_furnisher(principal, furnisher_id)
    now = bureau.now()

    def attempt() -> list[dict[str, Any]]:
        with bureau.db.write() as conn:
            items = disputes.furnisher_disputes(
                conn, furnisher_id, now, status=status, limit=limit, after=after
            )
            _record(
                conn,
                bureau,
                principal,
                "disputes.list",
                now,
                detail={"status": status, "count": len(items)},
            )
        return items

    items = _settled(bureau, now, attempt)
    return {"items": items, "next_after": items[-1]["dispute_id"] if len(items) == limit else None}


@router.get(
    "/furnishers/{furnisher_id}/disputes/{dispute_id}",
    response_model=s.DisputeOut,
    tags=["furnisher"],
    responses=_CONFLICT,
)
def furnisher_dispute(
    furnisher_id: FurnisherId, dispute_id: DisputeId, principal: Furnisher, bureau: BureauDep
) -> Any:
    """One dispute of the furnisher's records."""
    _own_furnisher(principal, furnisher_id)
    now = bureau.now()

    def attempt() -> dict[str, Any]:
        with bureau.db.write() as conn:
            out = disputes.furnisher_dispute(conn, furnisher_id, dispute_id, now)
            _record(
                conn,
                bureau,
                principal,
                "dispute.view",
                now,
                object_type="dispute",
                object_id=str(dispute_id),
            )
        return out

    return _settled(bureau, now, attempt)


@router.post(
    "/furnishers/{furnisher_id}/disputes/{dispute_id}/resolution",
    response_model=s.DisputeOut,
    tags=["furnisher"],
    responses=_CONFLICT,
)
def resolve_dispute(
    furnisher_id: FurnisherId,
    dispute_id: DisputeId,
    body: s.ResolutionRequest,
    principal: Furnisher,
    bureau: BureauDep,
) -> Any:
    """Answer an open dispute before its deadline: ``verified`` (correct as reported),
    ``corrected`` (naming the batch that carried the correction) or ``deleted`` (the item
    comes off the report and out of the score). 409 once it is closed or expired."""
    _own_furnisher(principal, furnisher_id)
    now = bureau.now()

    def attempt() -> dict[str, Any]:
        with bureau.db.write() as conn:
            out = disputes.resolve(
                conn,
                furnisher_id,
                dispute_id,
                outcome=body.outcome,
                note=body.note,
                correction_batch_id=body.correction_batch_id,
                now=now,
            )
            detail: dict[str, Any] = {"outcome": body.outcome, "account_id": out["account_id"]}
            if body.correction_batch_id is not None:
                detail["batch_id"] = body.correction_batch_id
            _record(
                conn,
                bureau,
                principal,
                "dispute.resolve",
                now,
                object_type="dispute",
                object_id=str(dispute_id),
                consumer_id=disputes.owner_of(conn, dispute_id),
                detail=detail,
            )
        return out

    return _settled(bureau, now, attempt)


# --- regulators and operators ---------------------------------------------------------------


@router.get("/audit/verify", response_model=s.Verification, tags=["regulator"])
def verify_audit(principal: Regulator, bureau: BureauDep) -> dict[str, Any]:
    """Recompute the audit chain; report the first broken link."""
    now = bureau.now()
    with bureau.db.read() as conn:
        result = audit.verify(conn)
    with bureau.db.write() as conn:
        _record(
            conn,
            bureau,
            principal,
            "audit.verify",
            now,
            detail={
                "ok": result.ok,
                "entries": result.entries,
                "chain": result.chain,
                "broken_at": result.broken_at,
            },
        )
    return result.as_dict()


@router.get("/alerts", response_model=s.AlertPage, tags=["regulator", "operator"])
def list_alerts(
    principal: Overseer,
    bureau: BureauDep,
    limit: Limit = 50,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """Scraping alerts raised on lenders, newest first."""
    now = bureau.now()
    stmt = select(
        AbuseAlert.id, AbuseAlert.lender, AbuseAlert.kind, AbuseAlert.detail, AbuseAlert.created_at
    )
    if before is not None:
        stmt = stmt.where(AbuseAlert.id < before)
    with bureau.db.write() as conn:
        rows = conn.execute(stmt.order_by(AbuseAlert.id.desc()).limit(limit)).all()
        _record(conn, bureau, principal, "alerts.list", now)
    items = [
        {
            "alert_id": int(a.id),
            "lender": a.lender,
            "kind": a.kind,
            "detail": dict(a.detail or {}),
            "created_at": as_utc(a.created_at),
        }
        for a in rows
    ]
    return _page(items, limit, "alert_id")


@router.get("/disputes/summary", response_model=s.DisputeSummary, tags=["regulator", "operator"])
def dispute_summary(
    principal: Overseer,
    bureau: BureauDep,
    limit: Limit = 50,
    after: Annotated[str | None, Query(max_length=64, pattern=s.ID_PATTERN)] = None,
) -> dict[str, Any]:
    """Disputes by status, open ones past or near their deadline, and per furnisher (a page
    of furnishers in id order): counts only."""
    now = bureau.now()
    with bureau.db.write() as conn:
        out = disputes.summary(conn, now, limit=limit, after=after)
        _record(conn, bureau, principal, "disputes.summary", now)
    return out


@router.get("/consumers", response_model=s.ConsumerPage, tags=["operator"])
def consumers(
    principal: Operator,
    bureau: BureauDep,
    limit: Limit = 50,
    after: Annotated[str | None, Query(max_length=32, pattern=s.ID_PATTERN)] = None,
) -> dict[str, Any]:
    """Consumers on file, in id order (ids and counts only)."""
    now = bureau.now()
    items = list_consumers(bureau.db, limit=limit, after=after)
    with bureau.db.write() as conn:
        _record(conn, bureau, principal, "consumers.list", now, detail={"count": len(items)})
    return {"items": items, "next_after": items[-1]["consumer_id"] if len(items) == limit else None}


# --- the app --------------------------------------------------------------------------------


def create_app(ctx: Context, *, clock: Clock | None = None) -> FastAPI:
    """The service on ``ctx``'s database; ``clock`` (UTC) lets tests move time."""
    from fastapi.responses import JSONResponse

    ctx.require_initialised()
    settings = ctx.settings
    db = ServiceDB(settings)
    keys = ctx.keys
    bureau = Bureau(
        ctx=ctx,
        db=db,
        auth=Authenticator(db, keys, cache_seconds=settings.service_auth_cache_s),
        limiter=limits.rate_limiter(
            settings.home, settings.service_rate_per_s, settings.service_rate_burst
        ),
        reports=ReportContext(ctx=ctx, scorer=Scorer(ctx), sealer=ctx.sealer),
        profile=get_profile(settings.jurisdiction),
        clock=clock or system_clock,
        watch=limits.ScrapingWatch(settings),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync routes run on AnyIO's thread pool (40 threads by default): a few (settings
        # service_threads, 4) — more only contend for the GIL and churn overflow connections
        # (measured: 2 × pool cost 9 % more CPU per inquiry; 4 threads a lower p99 than 10).
        threads = settings.service_threads or settings.service_db_pool
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        bureau.ingest_threads = anyio.CapacityLimiter(settings.service_ingest_threads)
        try:
            await run_in_threadpool(bureau.reports.scorer.warm)
        except OpenBureauError as e:  # the model loads on first use instead; say why
            logger.warning("approved model not loaded at start: %s", type(e).__name__)
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="OpenBureau",
        version="1",
        description="Consent-gated credit reports, scores and consumer self-service.",
        docs_url=None,
        redoc_url=None,
        default_response_class=JSONResponse,
    )
    app.state.bureau = bureau
    problems.install(app)
    # The router's routes are complete (prefix, responses, roles); adding them directly
    # keeps app.routes a flat list of APIRoutes, which the policy check walks.
    app.router.routes.extend(router.routes)
    policy.check(app)
    policy.document(app)
    app.add_middleware(
        limits.BodyLimitMiddleware,
        limit=settings.service_max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        is_upload=lambda method, path: method == "POST" and bool(_UPLOAD_PATH.match(path)),
        reject=problems.from_error,
    )
    # Outermost: a limited client is refused before its body is even read.
    app.add_middleware(
        limits.RateLimitMiddleware,
        limiter=bureau.limiter,
        client_of=bureau.auth.cached_client,
        reject=problems.from_error,
        delay_s=settings.service_refusal_delay_s,
    )
    return app


def app_from_environment() -> FastAPI:
    """The app on the configured database (``openbureau serve``'s factory, per worker)."""
    return create_app(Context())


__all__ = ["Bureau", "app_from_environment", "create_app"]
