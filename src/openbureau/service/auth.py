"""Principals and their keys: API clients (furnisher, lender, regulator, operator) and
consumers' own credentials.

A key reads ``ob_<client id>_<secret>``: the client id (16 hex digits) finds the row, the
secret (32 random bytes, base64url) is checked against its stored keyed hash (HMAC-SHA256
with the bureau's HMAC key: a 256-bit random secret needs no slow password hash). The key is
shown once, when it is made; the database never holds it. A verified key is remembered in
the process for ``service_auth_cache_s`` seconds, so a busy client costs no lookup per
request (a revoked key stops working within that time).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update

from openbureau.errors import InvalidRequestError, NotAuthenticatedError, NotFoundError
from openbureau.keys import Keys
from openbureau.service import audit
from openbureau.service.db import ServiceDB, as_utc
from openbureau.store.models import Account, ApiClient, Consumer, ConsumerRedirect, Furnisher

Role = Literal["furnisher", "lender", "consumer", "regulator", "operator"]
ROLES: tuple[Role, ...] = ("furnisher", "lender", "consumer", "regulator", "operator")
CLIENT_ROLES: tuple[Role, ...] = ("furnisher", "lender", "regulator", "operator")

_CLIENTS: Table = ApiClient.__table__  # type: ignore[assignment]
_PREFIX = "ob"
_ID_HEX = 16


@dataclass(frozen=True)
class Principal:
    """Who is calling: the client id, its role and what it owns."""

    client_id: str
    role: Role
    name: str
    furnisher_id: str | None = None
    lender: str | None = None
    consumer_id: str | None = None


@dataclass(frozen=True)
class IssuedKey:
    client_id: str
    key: str
    role: Role

    def as_dict(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "key": self.key, "role": self.role}


def _secret_hash(keys: Keys, secret: str) -> str:
    return hmac.new(keys.hmac_key, b"api-key\x00" + secret.encode(), hashlib.sha256).hexdigest()


def _new_key(keys: Keys) -> tuple[str, str, str]:
    client_id = secrets.token_hex(_ID_HEX // 2)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    return client_id, f"{_PREFIX}_{client_id}_{secret}", _secret_hash(keys, secret)


_RESOLVE = (
    select(Consumer.id, ConsumerRedirect.to_id)
    .outerjoin(ConsumerRedirect, ConsumerRedirect.from_id == Consumer.id)
    .where(Consumer.id == bindparam("cid"))
)


def resolve_consumer(conn: Connection, consumer_id: str) -> str | None:
    """The surviving id of a consumer (merged ids redirect); None if there is no such file."""
    seen = {consumer_id}
    current = consumer_id
    for _ in range(8):  # merges of merges: a short chain at most
        row = conn.execute(_RESOLVE, {"cid": current}).first()
        if row is None:
            return None
        if row.to_id is None or row.to_id in seen:
            return str(row.id)
        seen.add(row.to_id)
        current = row.to_id
    return current


def create_client(
    db: ServiceDB,
    keys: Keys,
    *,
    role: str,
    name: str,
    furnisher_id: str | None = None,
    lender: str | None = None,
    now: dt.datetime,
    actor: str = "cli",
) -> IssuedKey:
    """Make an API client and its key (returned once). Furnishers name their furnisher id,
    lenders the lender name that consents and inquiries carry."""
    if role not in CLIENT_ROLES:
        raise InvalidRequestError(
            f"role {role!r} is not an API client role: use one of {', '.join(CLIENT_ROLES)} "
            "(consumers get credentials with 'openbureau consumers credential')"
        )
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidRequestError("--name must be 1 to 200 characters")
    if role == "furnisher":
        if not furnisher_id:
            raise InvalidRequestError("a furnisher client must name its furnisher (--furnisher)")
    elif furnisher_id:
        raise InvalidRequestError("--furnisher is only for furnisher clients")
    if role == "lender":
        lender = (lender or "").strip()
        if not lender or len(lender) > 100:
            raise InvalidRequestError(
                "a lender client must name its lender (--lender, 1 to 100 characters)"
            )
    elif lender:
        raise InvalidRequestError("--lender is only for lender clients")
    client_id, key, digest = _new_key(keys)
    with db.write() as conn:
        if furnisher_id is not None:
            known = conn.execute(select(Furnisher.id).where(Furnisher.id == furnisher_id)).first()
            if known is None:
                raise NotFoundError(
                    f"unknown furnisher {furnisher_id!r}: register it with "
                    "'openbureau furnishers add'"
                )
        conn.execute(
            insert(_CLIENTS).values(
                id=client_id,
                role=role,
                name=name,
                furnisher_id=furnisher_id,
                lender=lender,
                consumer_id=None,
                key_hash=digest,
                created_at=now,
            )
        )
        audit.append(
            conn,
            [
                audit.AuditEvent(
                    actor=actor,
                    role="operator",
                    action="client.create",
                    object_type="client",
                    object_id=client_id,
                    detail={"role": role},
                )
            ],
            now,
        )
    return IssuedKey(client_id, key, role)


def issue_consumer_credential(
    db: ServiceDB, keys: Keys, consumer_id: str, *, now: dt.datetime, actor: str = "cli"
) -> IssuedKey:
    """A new credential for a consumer (merged ids resolve to the surviving file); the
    consumer's earlier credentials are revoked."""
    client_id, key, digest = _new_key(keys)
    with db.write() as conn:
        resolved = resolve_consumer(conn, consumer_id)
        if resolved is None:
            raise NotFoundError(f"no consumer {consumer_id!r} on file")
        conn.execute(
            update(_CLIENTS)
            .where(_CLIENTS.c.consumer_id == resolved, _CLIENTS.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        conn.execute(
            insert(_CLIENTS).values(
                id=client_id,
                role="consumer",
                name=f"consumer {resolved}",
                consumer_id=resolved,
                key_hash=digest,
                created_at=now,
            )
        )
        audit.append(
            conn,
            [
                audit.AuditEvent(
                    actor=actor,
                    role="operator",
                    action="consumer.credential",
                    object_type="client",
                    object_id=client_id,
                    consumer_id=resolved,
                )
            ],
            now,
        )
    return IssuedKey(client_id, key, "consumer")


def list_consumers(db: ServiceDB, *, limit: int, after: str | None = None) -> list[dict[str, Any]]:
    """Consumers in id order (ids, status, accounts on file; no personal data)."""
    accounts = (
        select(func.count())
        .select_from(Account)
        .where(Account.consumer_id == Consumer.id)
        .scalar_subquery()
    )
    stmt = select(Consumer.id, Consumer.status, Consumer.created_at, accounts.label("accounts"))
    if after is not None:
        stmt = stmt.where(Consumer.id > after)
    stmt = stmt.order_by(Consumer.id).limit(limit)
    with db.read() as conn:
        return [
            {
                "consumer_id": r.id,
                "status": r.status,
                "created_at": as_utc(r.created_at),
                "accounts": int(r.accounts),
            }
            for r in conn.execute(stmt)
        ]


class Authenticator:
    """Turns a bearer key into a :class:`Principal`, with a short in-process cache."""

    def __init__(self, db: ServiceDB, keys: Keys, *, cache_seconds: float) -> None:
        self._db = db
        self._keys = keys
        self._ttl = cache_seconds
        self._cache: dict[bytes, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def cached(self, token: str | None) -> Principal | None:
        """The principal of a key verified in the last few seconds (no database access)."""
        if not token or self._ttl <= 0:
            return None
        hit = self._cache.get(hashlib.sha256(token.encode("utf-8", "replace")).digest())
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def cached_client(self, token: str | None) -> str | None:
        """The client id of a key verified in the last few seconds (for the rate limit)."""
        principal = self.cached(token)
        return principal.client_id if principal is not None else None

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise NotAuthenticatedError("send an API key as 'Authorization: Bearer <key>'")
        hit = self.cached(token)
        if hit is not None:
            return hit
        # The cache is keyed by a digest, so raw keys are not kept around in a dict.
        digest = hashlib.sha256(token.encode("utf-8", "replace")).digest()
        now = time.monotonic()
        principal = self._lookup(token)
        if self._ttl > 0:
            with self._lock:
                if len(self._cache) > 100_000:
                    self._cache.clear()
                self._cache[digest] = (now + self._ttl, principal)
        return principal

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def _lookup(self, token: str) -> Principal:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != _PREFIX or len(parts[1]) != _ID_HEX:
            raise NotAuthenticatedError("the API key is malformed")
        client_id, secret = parts[1], parts[2]
        with self._db.read() as conn:
            row = conn.execute(select(_CLIENTS).where(_CLIENTS.c.id == client_id)).first()
        if row is None or not hmac.compare_digest(
            str(row.key_hash), _secret_hash(self._keys, secret)
        ):
            raise NotAuthenticatedError("the API key is not valid")
        if row.revoked_at is not None:
            raise NotAuthenticatedError("the API key was revoked")
        return Principal(
            client_id=row.id,
            role=row.role,
            name=row.name,
            furnisher_id=row.furnisher_id,
            lender=row.lender,
            consumer_id=row.consumer_id,
        )


__all__ = [
    "CLIENT_ROLES",
    "ROLES",
    "Authenticator",
    "IssuedKey",
    "Principal",
    "Role",
    "create_client",
    "issue_consumer_credential",
    "list_consumers",
    "resolve_consumer",
]
