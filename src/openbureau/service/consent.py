"""Consents, freezes, fraud alerts and statements: what a consumer controls on their file."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update

from openbureau.errors import InvalidRequestError, NotFoundError
from openbureau.rules.profiles import Profile
from openbureau.service.db import as_utc
from openbureau.store.models import ApiClient, Consent, ConsumerControl, ConsumerStatement

_CONSENTS: Table = Consent.__table__  # type: ignore[assignment]
_CONTROLS: Table = ConsumerControl.__table__  # type: ignore[assignment]
_STATEMENTS: Table = ConsumerStatement.__table__  # type: ignore[assignment]

FRAUD_ALERT_DAYS = 365


def consent_state(row: Any, now: dt.datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    expires = as_utc(row.expires_at)
    return "expired" if expires is not None and expires <= now else "live"


def consent_dict(row: Any, now: dt.datetime) -> dict[str, Any]:
    return {
        "consent_id": row.id,
        "lender": row.lender,
        "purpose": row.purpose,
        "created_at": as_utc(row.created_at),
        "expires_at": as_utc(row.expires_at),
        "revoked_at": as_utc(row.revoked_at),
        "state": consent_state(row, now),
    }


def grant(
    conn: Connection,
    profile: Profile,
    *,
    consumer_id: str,
    lender: str,
    purpose: str,
    days: int,
    now: dt.datetime,
) -> dict[str, Any]:
    """A consumer's consent that ``lender`` pulls their file for ``purpose`` for ``days``."""
    if purpose not in profile.permissible_purposes:
        raise InvalidRequestError(
            f"purpose {purpose!r} is not permissible in jurisdiction {profile.code!r}: use "
            f"one of {', '.join(profile.permissible_purposes)}"
        )
    if days > profile.consent_max_days:
        raise InvalidRequestError(
            f"a consent may last at most {profile.consent_max_days} days in jurisdiction "
            f"{profile.code!r}"
        )
    known = conn.execute(
        select(ApiClient.id).where(
            ApiClient.role == "lender", ApiClient.lender == lender, ApiClient.revoked_at.is_(None)
        )
    ).first()
    if known is None:
        raise InvalidRequestError(f"lender {lender!r} is not a registered lender")
    consent_id = uuid.uuid4().hex
    values = {
        "id": consent_id,
        "consumer_id": consumer_id,
        "lender": lender,
        "purpose": purpose,
        "created_at": now,
        "expires_at": now + dt.timedelta(days=days),
        "revoked_at": None,
    }
    conn.execute(insert(_CONSENTS).values(**values))
    return consent_dict(_Row(values), now)


class _Row:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def list_consents(
    conn: Connection, consumer_id: str, now: dt.datetime, *, limit: int, after: str | None
) -> list[dict[str, Any]]:
    stmt = select(_CONSENTS).where(_CONSENTS.c.consumer_id == consumer_id)
    if after is not None:
        stmt = stmt.where(_CONSENTS.c.id > after)
    rows = conn.execute(stmt.order_by(_CONSENTS.c.id).limit(limit)).all()
    return [consent_dict(r, now) for r in rows]


def revoke(conn: Connection, consumer_id: str, consent_id: str, now: dt.datetime) -> dict[str, Any]:
    row = conn.execute(
        select(_CONSENTS).where(
            _CONSENTS.c.id == consent_id, _CONSENTS.c.consumer_id == consumer_id
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no consent {consent_id!r} on your file")
    if row.revoked_at is None:
        conn.execute(update(_CONSENTS).where(_CONSENTS.c.id == consent_id).values(revoked_at=now))
        row = conn.execute(select(_CONSENTS).where(_CONSENTS.c.id == consent_id)).one()
    return consent_dict(row, now)


def _control_row(conn: Connection, consumer_id: str) -> Any:
    return conn.execute(select(_CONTROLS).where(_CONTROLS.c.consumer_id == consumer_id)).first()


def _upsert_control(conn: Connection, consumer_id: str, now: dt.datetime, **values: Any) -> None:
    if _control_row(conn, consumer_id) is None:
        conn.execute(
            insert(_CONTROLS).values(
                consumer_id=consumer_id,
                frozen=values.pop("frozen", False),
                frozen_at=values.pop("frozen_at", None),
                fraud_alert_until=values.pop("fraud_alert_until", None),
                updated_at=now,
            )
        )
    else:
        conn.execute(
            update(_CONTROLS)
            .where(_CONTROLS.c.consumer_id == consumer_id)
            .values(updated_at=now, **values)
        )


def control_dict(conn: Connection, consumer_id: str, now: dt.datetime) -> dict[str, Any]:
    row = _control_row(conn, consumer_id)
    until = as_utc(row.fraud_alert_until) if row is not None else None
    live_until = until if until is not None and until > now else None
    return {
        "frozen": bool(row.frozen) if row is not None else False,
        "frozen_at": as_utc(row.frozen_at) if row is not None and row.frozen else None,
        "fraud_alert": live_until is not None,
        "fraud_alert_until": live_until,
    }


def set_freeze(conn: Connection, consumer_id: str, frozen: bool, now: dt.datetime) -> None:
    _upsert_control(conn, consumer_id, now, frozen=frozen, frozen_at=now if frozen else None)


def set_fraud_alert(conn: Connection, consumer_id: str, days: int | None, now: dt.datetime) -> None:
    until = now + dt.timedelta(days=days) if days else None
    _upsert_control(conn, consumer_id, now, fraud_alert_until=until)


def put_statement(
    conn: Connection, consumer_id: str, account_id: int, text: str, now: dt.datetime
) -> dict[str, Any]:
    conn.execute(delete(_STATEMENTS).where(_STATEMENTS.c.account_id == account_id))
    conn.execute(
        insert(_STATEMENTS).values(
            account_id=account_id, consumer_id=consumer_id, text=text, created_at=now
        )
    )
    return {"account_id": account_id, "text": text, "created_at": now}


def delete_statement(conn: Connection, account_id: int) -> bool:
    result = conn.execute(delete(_STATEMENTS).where(_STATEMENTS.c.account_id == account_id))
    return bool(result.rowcount)


__all__ = [
    "FRAUD_ALERT_DAYS",
    "consent_dict",
    "consent_state",
    "control_dict",
    "delete_statement",
    "grant",
    "list_consents",
    "put_statement",
    "revoke",
    "set_fraud_alert",
    "set_freeze",
]
