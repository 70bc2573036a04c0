"""Abuse limits: per-client rate limits, request body limits, and the scraping alert.

The rate limit is a token bucket per API client (``rate`` tokens a second, ``burst`` at most),
kept in a small file every server process of the home maps (``<home>/run/rate-limits``), so
a client's budget is the same with one worker or eight: with a bucket per process, a client
whose keep-alive connections reach two workers got twice its rate (measured: 99 answers a
second against a limit of 50). Behind a load balancer over several hosts the budget is per
host. A client whose key was verified in the last seconds is limited by an ASGI middleware before
routing — its refusal costs no route, no dependency and no database — and the 429 is held
for ``service_refusal_delay_s`` before it is sent, so a client that ignores ``Retry-After``
waits instead of keeping the server busy with refusals (measured without it: a client
hammering from 32 connections doubled the other clients' p99). Other requests are limited
by the route's ``Allow`` dependency once their key is verified.
Body limits are enforced by an ASGI middleware before any route runs: a declared
``Content-Length`` above the limit is refused at once, and a body that grows past it while
streaming is cut off (413).

The scraping alert: after a lender's inquiries, at most once a minute per lender and
process, its last hour is compared with its own history — inquiries an hour against its
hourly average over the 30 days before, and the share of its matured inquiries (30 to 60
days old) that were *not* followed by a new account within 30 days against the same share
a year back. Far above its own history → an ``abuse_alerts`` row (and an audit entry) for
an operator; one per lender and kind a day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import math
import mmap
import os
import struct
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, and_, case, exists, func, insert, select

from openbureau.config import Settings
from openbureau.errors import PayloadTooLargeError, RateLimitedError
from openbureau.service import audit
from openbureau.store.models import AbuseAlert, Account, Inquiry

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPENING_WINDOW_DAYS = 30
NO_OPENING_MIN_INQUIRIES = 20
NO_OPENING_SHARE = 0.9
NO_OPENING_MARGIN = 0.25
_SCAN_EVERY_S = 60.0


class Limiter(Protocol):
    def check(self, key: str) -> None:
        """Take one token for ``key`` or raise :class:`RateLimitedError`."""


class RateLimiter:
    """Token buckets keyed by client id, in this process (thread-safe)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Take one token or raise :class:`RateLimitedError` with the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise _refused(self.rate, tokens)
            self._buckets[key] = (tokens - 1.0, now)


def _refused(rate: float, tokens: float) -> RateLimitedError:
    """The 429 for a bucket holding ``tokens`` (< 1), with the whole seconds until one."""
    wait = max(1, math.ceil((1.0 - tokens) / rate))
    return RateLimitedError(
        f"rate limit of {rate:g} requests a second exceeded; retry in {wait} s", wait
    )


class SharedRateLimiter:
    """Token buckets keyed by client id in a file every server process on this machine maps.

    The file is a fixed table of slots (client digest, tokens, time of the last take on the
    system-wide monotonic clock), found by linear probing from the digest's hash. A bucket
    that has refilled is as good as none, so its slot is taken over by the next client that
    needs one; with every probed slot busy, the one used longest ago is. A take holds the
    process's thread lock and an ``fcntl`` lock on the file for a few microseconds.
    """

    _MAGIC = b"OBRATE01"
    _HEADER = struct.Struct("<8sI")  # magic, slots
    _SLOT = struct.Struct("<16sdd")  # client digest, tokens, last take (monotonic seconds)
    _EMPTY = bytes(16)
    PROBES = 64  # at a quarter full, a chain this long is ~1e-18 likely

    def __init__(self, path: Path, rate: float, burst: int, *, slots: int = 16_384) -> None:
        import fcntl

        self.rate = rate
        self.burst = float(burst)
        self._slots = slots
        self._refill_s = self.burst / rate  # an untouched bucket is full again after this
        self._lockf = fcntl.lockf
        self._locked, self._unlocked = fcntl.LOCK_EX, fcntl.LOCK_UN
        size = self._HEADER.size + slots * self._SLOT.size
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            self._lockf(self._fd, self._locked)
            try:
                header = os.pread(self._fd, self._HEADER.size, 0)
                if os.fstat(self._fd).st_size < size or header != self._header():
                    # New, or laid out by another version: start with every bucket full.
                    # Zeroed in place, never shrunk: a process that maps more of the file
                    # would die of SIGBUS reading past a shorter one.
                    os.pwrite(self._fd, bytes(size), 0)
                    os.pwrite(self._fd, self._header(), 0)
            finally:
                self._lockf(self._fd, self._unlocked)
            self._map = mmap.mmap(self._fd, size)
        except BaseException:
            os.close(self._fd)
            raise
        self._lock = threading.Lock()
        self.close = weakref.finalize(self, _unmap, self._map, self._fd)

    def _header(self) -> bytes:
        return self._HEADER.pack(self._MAGIC, self._slots)

    def check(self, key: str) -> None:
        """Take one token or raise :class:`RateLimitedError` with the seconds to wait."""
        digest = hashlib.blake2b(key.encode(), digest_size=16).digest()
        with self._lock:  # fcntl locks are per process: threads take turns here first
            self._lockf(self._fd, self._locked)
            try:
                now = time.monotonic()
                offset, tokens, last = self._find(digest, now)
                # After a reboot the clock starts again below ``last``: the bucket is full.
                elapsed = now - last if last <= now else self._refill_s
                tokens = min(self.burst, tokens + elapsed * self.rate)
                taken = tokens >= 1.0
                self._SLOT.pack_into(self._map, offset, digest, tokens - taken, now)
            finally:
                self._lockf(self._fd, self._unlocked)
        if not taken:
            raise _refused(self.rate, tokens)

    def _find(self, digest: bytes, now: float) -> tuple[int, float, float]:
        """The slot of ``digest`` (offset, tokens, last); a fresh full bucket if it has none."""
        home = int.from_bytes(digest[:8], "little") % self._slots
        reusable: int | None = None  # first slot whose bucket has refilled (or never used)
        oldest, oldest_last = -1, math.inf
        for probe in range(min(self.PROBES, self._slots)):
            offset = self._HEADER.size + ((home + probe) % self._slots) * self._SLOT.size
            owner, tokens, last = self._SLOT.unpack_from(self._map, offset)
            if owner == digest:
                return offset, tokens, last
            if owner == self._EMPTY:  # the end of the probe chain: digest has no slot
                return (offset if reusable is None else reusable), self.burst, now
            if reusable is None and (last > now or now - last >= self._refill_s):
                reusable = offset
            if last < oldest_last:
                oldest, oldest_last = offset, last
        # Every probed slot is in use: the least recently used bucket gives way.
        return (oldest if reusable is None else reusable), self.burst, now


def _unmap(table: mmap.mmap, fd: int) -> None:
    table.close()
    os.close(fd)


def rate_limiter(home: Path, rate: float, burst: int) -> Limiter:
    """The limiter every server process of ``home`` shares; a per-process one where the
    platform has no ``fcntl`` (Windows)."""
    try:
        return SharedRateLimiter(home / "run" / "rate-limits", rate, burst)
    except ImportError:
        return RateLimiter(rate, burst)


RATE_CHECKED = "openbureau.rate_checked"  # scope key: the middleware took this request's token


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if there is one."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() or None if scheme.lower() == "bearer" else None
    return None


class RateLimitMiddleware:
    """Refuse a recently verified client over its rate before routing (see module doc)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: Limiter,
        client_of: Callable[[str | None], str | None],
        reject: Callable[[RateLimitedError], Any],
        delay_s: float,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.client_of = client_of
        self.reject = reject
        self.delay_s = delay_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = self.client_of(bearer_token(scope))
            if client is not None:
                try:
                    self.limiter.check(client)
                except RateLimitedError as e:
                    if self.delay_s > 0:
                        await asyncio.sleep(self.delay_s)
                    await self.reject(e)(scope, receive, send)
                    return
                scope[RATE_CHECKED] = True
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse request bodies above ``limit`` bytes (``upload_limit`` on upload paths)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        upload_limit: int,
        is_upload: Callable[[str, str], bool],
        reject: Callable[[PayloadTooLargeError], Any],
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.is_upload = is_upload
        self.reject = reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = self.is_upload(scope["method"], scope["path"])
        limit = self.upload_limit if upload else self.limit
        declared = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
        if declared is not None and declared > limit:
            response = self.reject(_too_large(limit, upload))
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    from starlette.exceptions import HTTPException

                    # An HTTPException passes FastAPI's body parsing unchanged.
                    raise HTTPException(413, str(_too_large(limit, upload)))
            return message

        await self.app(scope, limited, send)


def _too_large(limit: int, upload: bool) -> PayloadTooLargeError:
    what = "an upload" if upload else "a request body"
    return PayloadTooLargeError(f"{what} may be at most {limit} bytes")


class ScrapingWatch:
    """Decides when to scan a lender (at most once a minute per lender in this process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def due(self, lender: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(lender, -1e9) < _SCAN_EVERY_S:
                return False
            self._last[lender] = now
            return True


def _count(conn: Connection, lender: str, start: dt.datetime, end: dt.datetime) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(Inquiry)
            .where(Inquiry.lender == lender, Inquiry.created_at >= start, Inquiry.created_at < end)
        ).scalar_one()
    )


def _no_opening(
    conn: Connection, lender: str, start: dt.datetime, end: dt.datetime
) -> tuple[int, int]:
    """(inquiries, of which without a new account within 30 days) in [start, end)."""
    opened = exists().where(
        and_(
            Account.consumer_id == Inquiry.consumer_id,
            Account.opened >= func.date(Inquiry.created_at),
            Account.opened <= func.date(Inquiry.created_at + dt.timedelta(days=OPENING_WINDOW_DAYS))
            if conn.dialect.name == "postgresql"
            else Account.opened <= func.date(Inquiry.created_at, f"+{OPENING_WINDOW_DAYS} days"),
        )
    )
    row = conn.execute(
        select(func.count(), func.sum(case((opened, 0), else_=1)))
        .select_from(Inquiry)
        .where(Inquiry.lender == lender, Inquiry.created_at >= start, Inquiry.created_at < end)
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def scan_lender(
    conn: Connection, settings: Settings, lender: str, now: dt.datetime
) -> list[dict[str, Any]]:
    """Raise the scraping alerts ``lender`` deserves now (in the caller's transaction)."""
    alerts: list[dict[str, Any]] = []
    hour = now - dt.timedelta(hours=1)
    recent = _count(conn, lender, hour, now)
    if recent >= settings.scraping_min_inquiries:
        history_start = now - dt.timedelta(days=30)
        before = _count(conn, lender, history_start, hour)
        hourly = before / (30 * 24 - 1)
        if recent > settings.scraping_volume_ratio * max(hourly, 1.0):
            alerts.append(
                {
                    "kind": "volume",
                    "inquiries_last_hour": recent,
                    "usual_per_hour": round(hourly, 2),
                    "ratio_limit": settings.scraping_volume_ratio,
                }
            )
    mature_end = now - dt.timedelta(days=OPENING_WINDOW_DAYS)
    mature_start = now - dt.timedelta(days=2 * OPENING_WINDOW_DAYS)
    n, without = _no_opening(conn, lender, mature_start, mature_end)
    if n >= NO_OPENING_MIN_INQUIRIES:
        hn, hwithout = _no_opening(conn, lender, now - dt.timedelta(days=365), mature_start)
        share = without / n
        usual = hwithout / hn if hn else 0.5
        if share >= max(NO_OPENING_SHARE, usual + NO_OPENING_MARGIN):
            alerts.append(
                {
                    "kind": "no_opening",
                    "inquiries": n,
                    "share_without_opening": round(share, 4),
                    "usual_share": round(usual, 4),
                }
            )
    raised = []
    day_ago = now - dt.timedelta(days=1)
    for alert in alerts:
        recent_alert = conn.execute(
            select(AbuseAlert.id).where(
                AbuseAlert.lender == lender,
                AbuseAlert.kind == alert["kind"],
                AbuseAlert.created_at >= day_ago,
            )
        ).first()
        if recent_alert is not None:
            continue
        alert_id = conn.execute(
            insert(AbuseAlert)
            .values(lender=lender, kind=alert["kind"], detail=alert, created_at=now)
            .returning(AbuseAlert.id)
        ).scalar_one()
        audit.append(
            conn,
            [
                audit.AuditEvent(
                    actor="system",
                    role="operator",
                    action="alert.raise",
                    object_type="abuse_alert",
                    object_id=str(alert_id),
                    detail={"lender": lender, "kind": alert["kind"]},
                )
            ],
            now,
        )
        raised.append({"alert_id": int(alert_id), "lender": lender, **alert})
    return raised


__all__ = [
    "RATE_CHECKED",
    "BodyLimitMiddleware",
    "RateLimitMiddleware",
    "RateLimiter",
    "ScrapingWatch",
    "bearer_token",
    "scan_lender",
]
