"""The credit report: one consumer's file as JSON, with a score that agrees with it.

Read with a handful of queries (the file's header with its latest score and controls, the
accounts with their statements and status grids, the inquiries); a lender's inquiry reads the
accounts and inquiries with the header, as JSON columns (:func:`with_report_rows`). The score
is the consumer's latest batch score when it is fresh: made by the approved model after the
last change to the consumer's accounts and identity links. Otherwise it is recomputed on
the spot with the online feature path (:func:`openbureau.features.compute.features_for_consumer`)
and the approved model — the same query and model as the batch, so the same number.
Inquiries recorded since the batch do not by themselves trigger a rescore; the next batch
counts them.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Integer,
    String,
    bindparam,
    cast,
    extract,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from openbureau.context import Context
from openbureau.errors import OpenBureauError
from openbureau.features.asof import AsOf, month_index, month_start
from openbureau.service.db import as_utc
from openbureau.service.disputes import LABELS, SUPPRESSING, check_due, month_text
from openbureau.store.models import (
    Account,
    AccountMonth,
    Consumer,
    ConsumerControl,
    ConsumerRedirect,
    ConsumerStatement,
    Dispute,
    Furnisher,
    IdentityRecord,
    Inquiry,
    Score,
)

logger = logging.getLogger(__name__)

GRID_SHORT = 24
GRID_LONG = 60
REPORT_INQUIRY_DAYS = 730
REPORT_INQUIRY_MAX = 100
_MODEL_INFO_TTL = 30.0


def file_ids(conn: Connection, consumer_id: str, *, merged: bool = True) -> list[str]:
    """The ids whose records are on ``consumer_id``'s file: itself and the ids merged into it.

    An explicit list (not an ``OR ... IN (subquery)``) keeps every lookup on an index.
    ``merged=False`` says the caller knows nothing was merged into it (skips the query).
    """
    if not merged:
        return [consumer_id]
    rows = conn.execute(
        select(ConsumerRedirect.from_id).where(ConsumerRedirect.to_id == consumer_id)
    ).scalars()
    return [consumer_id, *sorted(str(r) for r in rows)]


def _mask_nid(value: str) -> str:
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else "****"


def _mask_name(name: str) -> str:
    return " ".join(w[:1].upper() + "***" for w in name.split() if w)


class Scorer:
    """The approved model, loaded once per process, and on-the-spot scoring."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._lock = threading.Lock()
        self._info: Any = None
        self._info_at = -1e9
        self._models: dict[int, Any] = {}

    def approved(self) -> Any:
        """The approved model's registry entry (remembered briefly); None when none is."""
        from openbureau.errors import NoApprovedModelError
        from openbureau.scores import registry

        now = time.monotonic()
        if now - self._info_at < _MODEL_INFO_TTL:
            return self._info
        try:
            info: Any = registry.approved(self._ctx)
        except NoApprovedModelError:
            info = None
        self._info, self._info_at = info, now
        return info

    def _model(self, info: Any) -> Any:
        from openbureau.scores import registry

        with self._lock:
            model = self._models.get(info.id)
            if model is None:
                model = registry.load(self._ctx, info)
                self._models = {info.id: model}
            return model

    def warm(self) -> None:
        """Load the approved model and the online scoring path's modules now (server start),
        so the first requests do not pay for imports (measured: they dominated a fresh
        worker's first seconds under load)."""
        import pyarrow  # noqa: F401

        import openbureau.features.compute
        import openbureau.scores.batch  # noqa: F401

        info = self.approved()
        if info is not None:
            self._model(info)
        else:
            self._info_at = -1e9  # none yet: look again on first use, not 30 s from now

    def rescore(self, consumer_id: str, as_of: AsOf) -> dict[str, Any] | None:
        """Score one consumer now; None when no model serves or nothing is on file."""
        import pyarrow as pa

        from openbureau.features.compute import features_for_consumer, features_schema
        from openbureau.features.spec import feature_set_hash
        from openbureau.scores.batch import _reason_lists, score_table

        info = self.approved()
        if info is None or info.feature_set != feature_set_hash():
            return None
        feats = features_for_consumer(self._ctx, consumer_id, as_of)
        if feats is None:
            return None
        schema = features_schema()
        row: dict[str, Any] = {"consumer_id": consumer_id, **feats}
        table = pa.Table.from_pylist([row], schema=schema)
        scored = score_table(self._model(info), info.id, table)
        return {
            "value": round(float(scored.column("score")[0].as_py()), 2),
            "pd_bad": float(scored.column("pd_bad")[0].as_py()),
            "model": _model_ref(info),
            "as_of": as_of.date,
            "source": "online",
            "reasons": _reason_lists(scored)[0],
        }


def _model_ref(info: Any) -> dict[str, Any]:
    return {"id": int(info.id), "kind": str(info.kind), "version": f"{info.kind}-{info.id}"}


@dataclass
class ReportContext:
    ctx: Context
    scorer: Scorer
    sealer: Any  # openbureau.ingest.load.NationalIdSealer


# The hot path's statements, built once (SQLAlchemy then reuses their compiled form).
_CID: Any = bindparam("cid")
_IDS: Any = bindparam("ids", expanding=True)


# Short aliases: the header and the accounts statement make up most of an inquiry's header
# statement, whose text must stay within psycopg's cache of converted queries (4 KB; a
# longer statement is parsed for its placeholders again on every execution).
_IR = aliased(IdentityRecord, name="ir")
_A = aliased(Account, name="a")
_M = aliased(AccountMonth, name="m")


def _latest_identity(column: Any, *extra: Any) -> Any:
    return (
        select(column)
        .where(_IR.consumer_id == _CID, *extra)
        .order_by(_IR.last_month.desc(), _IR.id.desc())
        .limit(1)
        .scalar_subquery()
    )


_HEADER = (
    select(
        Consumer.id,
        Consumer.national_id_cipher,
        _latest_identity(_IR.name).label("name"),
        _latest_identity(_IR.birth_date, _IR.birth_date.is_not(None)).label("birth_date"),
        select(func.max(ConsumerRedirect.created_at))
        .where(ConsumerRedirect.to_id == _CID)
        .scalar_subquery()
        .label("merged_at"),
        Score.model_id,
        Score.as_of,
        Score.score,
        Score.pd_bad,
        Score.reasons,
        Score.scored_at,
        ConsumerControl.frozen,
        ConsumerControl.fraud_alert_until,
        ConsumerRedirect.to_id.label("redirect_to"),
    )
    .select_from(Consumer)
    .outerjoin(Score, Score.consumer_id == Consumer.id)
    .outerjoin(ConsumerControl, ConsumerControl.consumer_id == Consumer.id)
    .outerjoin(ConsumerRedirect, ConsumerRedirect.from_id == Consumer.id)
    .where(Consumer.id == _CID)
)


def header_beside(sub: Any) -> Any:
    """The header statement with the columns of the one-row subquery ``sub`` beside it
    (nulls when it finds nothing): another read in the same round trip."""
    return _HEADER.add_columns(*sub.c).outerjoin(sub, true())


def inquiries_since(now: dt.datetime) -> dt.datetime:
    """The oldest inquiry a report made at ``now`` shows."""
    return now - dt.timedelta(days=REPORT_INQUIRY_DAYS)


def with_report_rows(stmt: Any) -> Any:
    """A header statement that also reads the consumer's own accounts (with their grids) and
    inquiries of the report (its ``since`` parameter: :func:`inquiries_since`), each as one
    JSON column, so that :func:`build_report` need not: the whole file in one round trip."""
    return stmt.add_columns(_ACCOUNT_ROWS, _RECENT_INQUIRIES)


# Whether a dispute marks or removes something on the account (an index probe per account,
# so the disputes themselves are read only for the few files that have any).
_MARKED = (
    select(Dispute.id)
    .where(
        Dispute.account_id == _A.id,
        or_(Dispute.status == "open", Dispute.effect.in_(SUPPRESSING)),
    )
    .exists()
)


class _MonthNumber(FunctionElement[int]):
    """Months since year 0 of a date column: year × 12 + month, in SQL."""

    type = Integer()
    name = "month_number"
    inherit_cache = True


@compiles(_MonthNumber)
def _month_number(element: _MonthNumber, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    number = extract("year", column) * 12 + extract("month", column)
    return f"({compiler.process(number, **kw)})"  # a term of a larger expression


@compiles(_MonthNumber, "postgresql")
def _month_number_postgresql(element: _MonthNumber, compiler: Any, **kw: Any) -> str:
    # date_part's double precision, not EXTRACT's numeric: a grid evaluates it for every
    # month of every account (measured with pgbench: ≈ 0.05–0.1 ms less an inquiry).
    column = compiler.process(element.clauses, **kw)
    return f"(date_part('year', {column})::int * 12 + date_part('month', {column})::int)"


# How many months before the account's last reported month each reported month lies.
_AGE = _MonthNumber(_A.last_month) - _MonthNumber(_M.month)
# The status grid, read with the account: "age:status" for each of its months on the grid,
# comma-separated (the statuses are codes checked at ingestion). One row an account instead
# of one a month, and one round trip fewer; the grid is most of the report's work. The
# ``month <= last_month`` bound keeps the scan on the primary key's range.
_GRID = (
    select(func.aggregate_strings(cast(_AGE, String) + ":" + _M.status, ","))
    .where(
        _M.account_id == _A.id,
        _M.month <= _A.last_month,
        _AGE < GRID_LONG,
    )
    .scalar_subquery()
)


def _accounts_stmt(where: Any) -> Any:
    return (
        select(
            _A.id,
            _A.furnisher_id,
            Furnisher.name.label("furnisher_name"),
            _A.product,
            _A.opened,
            _A.closed,
            _A.currency,
            _A.credit_limit_minor,
            _A.original_amount_minor,
            _A.term_months,
            _A.last_month,
            _A.balance_minor,
            _A.amount_due_minor,
            _A.days_past_due,
            _A.status,
            _A.updated_at,
            ConsumerStatement.text.label("statement"),
            _MARKED.label("marked"),
            _GRID.label("grid"),
        )
        .join(Furnisher, Furnisher.id == _A.furnisher_id)
        .outerjoin(ConsumerStatement, ConsumerStatement.account_id == _A.id)
        .where(where)
        .order_by(_A.opened, _A.id)
    )


_ACCOUNTS_ONE = _accounts_stmt(_A.consumer_id == _CID)
_ACCOUNTS_MANY = _accounts_stmt(_A.consumer_id.in_(_IDS))


class _JsonRows(FunctionElement[Any]):
    """Rows aggregated into one JSON array of arrays (the arguments are each row's values):
    ``json_agg(json_build_array(...))`` on PostgreSQL, ``json_group_array(json_array(...))``
    on SQLite. Empty: NULL on PostgreSQL, ``[]`` on SQLite."""

    type = JSON()
    name = "json_rows"
    inherit_cache = True


@compiles(_JsonRows, "postgresql")
def _json_rows_postgresql(element: _JsonRows, compiler: Any, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


@compiles(_JsonRows, "sqlite")
def _json_rows_sqlite(element: _JsonRows, compiler: Any, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


def _inquiries_stmt(where: Any) -> Any:
    return (
        select(Inquiry.lender, Inquiry.purpose, Inquiry.kind, Inquiry.created_at)
        .where(where, Inquiry.created_at >= bindparam("since"))
        .order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
        .limit(REPORT_INQUIRY_MAX)
    )


# Disputes that mark or remove items: open ones, and outcomes that suppress the item.
_DISPUTES = select(
    Dispute.id,
    Dispute.account_id,
    Dispute.month,
    Dispute.reason,
    Dispute.status,
    Dispute.effect,
    Dispute.opened_at,
    Dispute.due_at,
    Dispute.resolved_at,
).where(
    Dispute.account_id.in_(bindparam("accounts", expanding=True)),
    or_(Dispute.status == "open", Dispute.effect.in_(SUPPRESSING)),
)
_LATEST_MONTHS = (
    select(
        AccountMonth.month,
        AccountMonth.credit_limit_minor,
        AccountMonth.balance_minor,
        AccountMonth.amount_due_minor,
        AccountMonth.days_past_due,
        AccountMonth.status,
    )
    .where(AccountMonth.account_id == bindparam("account"))
    .order_by(AccountMonth.month.desc())
    .limit(bindparam("n"))
)

_INQUIRIES_ONE = _inquiries_stmt(Inquiry.consumer_id == _CID)
_INQUIRIES_MANY = _inquiries_stmt(Inquiry.consumer_id.in_(_IDS))
_RECENT = _INQUIRIES_ONE.add_columns(Inquiry.id).subquery("recent")
# The rows of _ACCOUNTS_ONE and _INQUIRIES_ONE as columns of a header (see with_report_rows).
_ACCOUNT_ROWS = (
    select(_JsonRows(*_ACCOUNTS_ONE.subquery("fa").c)).scalar_subquery().label("account_rows")
)
_RECENT_INQUIRIES = select(_JsonRows(*_RECENT.c)).scalar_subquery().label("recent_inquiries")
# A row of _ACCOUNTS_ONE rebuilt from its JSON array (see _account_rows).
_AccountRow = namedtuple(  # type: ignore[misc]
    "_AccountRow", [c.key for c in _ACCOUNTS_ONE.selected_columns]
)
_ACCOUNT_DATES = tuple(_AccountRow._fields.index(f) for f in ("opened", "closed", "last_month"))


def header(conn: Connection, consumer_id: str) -> Any:
    """One row: the consumer, display identity, latest score, freeze and fraud alert."""
    return conn.execute(_HEADER, {"cid": consumer_id}).one()


def resolved_header(
    conn: Connection, consumer_id: str, *, stmt: Any = _HEADER, params: dict[str, Any] | None = None
) -> Any:
    """The header of the file ``consumer_id`` belongs to (following merges), or None.

    One query for a consumer that was never merged away (the common case). ``stmt`` may be
    a :func:`header_beside` statement, whose other parameters are ``params``.
    """
    seen = {consumer_id}
    current = consumer_id
    for _ in range(8):  # merges of merges: a short chain at most
        row = conn.execute(stmt, {**(params or {}), "cid": current}).first()
        if row is None:
            return None
        if row.redirect_to is None or row.redirect_to in seen:
            return row
        seen.add(row.redirect_to)
        current = row.redirect_to
    return None


def build_report(
    conn: Connection,
    rc: ReportContext,
    consumer_id: str,
    now: dt.datetime,
    *,
    head: Any = None,
) -> dict[str, Any]:
    """The report of ``consumer_id`` (already resolved to its surviving id) as of ``now``.

    ``head`` is the file's :func:`header` when the caller has read it already. Raises
    :class:`~openbureau.service.disputes.DisputesDueError` when a dispute on the file is open past
    its deadline (run it under :func:`~openbureau.service.disputes.settle`).
    """
    if head is None:
        head = header(conn, consumer_id)
    ids = file_ids(conn, consumer_id, merged=head.merged_at is not None)
    one = len(ids) == 1
    params: dict[str, Any] = {"cid": consumer_id} if one else {"ids": ids}
    accounts: Sequence[Any]
    if one and "account_rows" in head._fields:  # read with the header
        accounts = _account_rows(head.account_rows)
    else:
        accounts = conn.execute(_ACCOUNTS_ONE if one else _ACCOUNTS_MANY, params).all()
    latest_change: dt.datetime | None = as_utc(head.merged_at)
    marks = _Marks()
    marked = [int(a.id) for a in accounts if a.marked]
    if marked:
        found = conn.execute(_DISPUTES, {"accounts": marked}).all()
        if found:
            check_due(found, now)
            marks = _Marks.of(found)
            changed = marks.changed
            if changed is not None and (latest_change is None or changed > latest_change):
                latest_change = changed
            accounts = [a for a in accounts if int(a.id) not in marks.removed_accounts]
    since = inquiries_since(now)
    inquiries: Sequence[Any]
    if one and "recent_inquiries" in head._fields:  # read with the header
        inquiries = _recent_inquiries(head.recent_inquiries)
    else:
        inquiries = conn.execute(
            _INQUIRIES_ONE if one else _INQUIRIES_MANY, {**params, "since": since}
        ).all()

    account_out = []
    statements = []
    for a in accounts:
        changed = as_utc(a.updated_at)
        if changed is not None and (latest_change is None or changed > latest_change):
            latest_change = changed
        out = _account(a, _history(a.grid))
        removed = marks.removed_months.get(int(a.id))
        if removed and _without_months(conn, out, a, removed) is None:
            continue  # every month reported was removed: the account is off the report
        out["disputes"] = marks.flags.get(int(a.id), [])
        account_out.append(out)
        if a.statement:
            statements.append({"account_id": int(a.id), "text": a.statement})

    inquiry_out = [
        {
            "lender": i.lender,
            "purpose": i.purpose,
            "kind": i.kind,
            "created_at": as_utc(i.created_at),
        }
        for i in inquiries
    ]
    year_ago = now - dt.timedelta(days=365)
    fraud_until = as_utc(head.fraud_alert_until)
    identity: dict[str, Any] = {
        "consumer_id": consumer_id,
        "name": _mask_name(head.name) if head.name else None,
        "birth_year": head.birth_date.year if head.birth_date else None,
        "national_id": None,
    }
    if head.national_id_cipher is not None:
        try:
            identity["national_id"] = _mask_nid(rc.sealer.open(bytes(head.national_id_cipher)))
        except Exception:  # a key rotated without re-encryption: show nothing, never fail
            logger.warning("a national id could not be decrypted for display")
    return {
        "consumer_id": consumer_id,
        "generated_at": now,
        "identity": identity,
        "summary": _summary(account_out, inquiry_out, year_ago),
        "accounts": account_out,
        "inquiries": inquiry_out,
        "statements": statements,
        "alerts": {
            "frozen": bool(head.frozen),
            "fraud_alert": fraud_until is not None and fraud_until > now,
            "fraud_alert_until": fraud_until if fraud_until and fraud_until > now else None,
        },
        "score": _score(rc, head, consumer_id, latest_change, bool(account_out), now),
    }


@dataclass(frozen=True)
class _Inquiry:
    lender: str
    purpose: str
    kind: str
    created_at: dt.datetime | None
    id: int


def _account_rows(rows: list[list[Any]] | None) -> list[Any]:
    """The header's ``account_rows`` (JSON arrays, dates as text) as the rows _ACCOUNTS_ONE
    gives, in its order (opened, id: a JSON aggregate keeps no order of its own)."""
    out: list[Any] = []
    for r in rows or ():
        for i in _ACCOUNT_DATES:
            if r[i] is not None:
                r[i] = dt.date.fromisoformat(r[i])
        out.append(_AccountRow._make(r))
    out.sort(key=lambda a: (a.opened, a.id))
    return out


def _recent_inquiries(rows: list[list[Any]] | None) -> list[_Inquiry]:
    """The header's ``recent_inquiries`` (JSON arrays, timestamps as text), newest first:
    the order _INQUIRIES_ONE gives (a JSON aggregate keeps no order of its own)."""
    out = [_Inquiry(r[0], r[1], r[2], as_utc(r[3]), int(r[4])) for r in rows or ()]
    out.sort(key=lambda i: (i.created_at, i.id), reverse=True)
    return out


def _history(grid: str | None) -> list[str | None]:
    """An account's status by month, newest first, from its last reported month back
    ``GRID_LONG`` months (None where nothing was reported), from its ``grid`` column."""
    history: list[str | None] = [None] * GRID_LONG
    if grid:
        for cell in grid.split(","):
            age, _, status = cell.partition(":")
            history[int(age)] = status
    return history


def _account(a: Any, history: list[str | None]) -> dict[str, Any]:
    return {
        "account_id": int(a.id),
        "furnisher_id": a.furnisher_id,
        "furnisher_name": a.furnisher_name,
        "product": a.product,
        "opened": a.opened,
        "closed": a.closed,
        "currency": a.currency,
        "credit_limit_minor": a.credit_limit_minor,
        "original_amount_minor": a.original_amount_minor,
        "term_months": a.term_months,
        "last_reported_month": f"{a.last_month:%Y-%m}",
        "balance_minor": int(a.balance_minor),
        "amount_due_minor": int(a.amount_due_minor),
        "days_past_due": int(a.days_past_due),
        "status": a.status,
        "history_24": history[:GRID_SHORT],
        "history_60": history,
        "statement": a.statement,
    }


class _Marks:
    """What disputes do to the accounts of a report: removed accounts and months, flags."""

    def __init__(self) -> None:
        self.removed_accounts: set[int] = set()
        self.removed_months: dict[int, set[dt.date]] = {}
        self.flags: dict[int, list[dict[str, Any]]] = {}
        self.changed: dt.datetime | None = None  # the latest outcome that changed the score

    @classmethod
    def of(cls, rows: Any) -> _Marks:
        marks = cls()
        for d in rows:
            account = int(d.account_id)
            month = (
                d.month
                if d.month is None or isinstance(d.month, dt.date)
                else (dt.date.fromisoformat(str(d.month)))
            )
            if d.effect in SUPPRESSING:
                resolved = as_utc(d.resolved_at)
                if resolved is not None and (marks.changed is None or resolved > marks.changed):
                    marks.changed = resolved
            if d.effect == "removed":
                if month is None:
                    marks.removed_accounts.add(account)
                else:
                    marks.removed_months.setdefault(account, set()).add(month)
                continue
            state = "disputed" if d.status == "open" else "unverified"
            opened = as_utc(d.opened_at)
            marks.flags.setdefault(account, []).append(
                {
                    "state": state,
                    "label": LABELS[state],
                    "month": month_text(month),
                    "reason": d.reason,
                    "since": opened.date() if opened is not None else None,
                }
            )
        for flags in marks.flags.values():
            flags.sort(key=lambda f: (f["month"] or "", f["since"]))
        return marks


def _without_months(
    conn: Connection, out: dict[str, Any], a: Any, removed: set[dt.date]
) -> dict[str, Any] | None:
    """``out`` with the removed months blanked; when the latest month is one of them, the
    account's current state is taken from its latest remaining month (None: no month left)."""
    if a.last_month not in removed:
        end = month_index(a.last_month)
        for key in ("history_24", "history_60"):
            out[key] = [
                None if month_start(end - i) in removed else s for i, s in enumerate(out[key])
            ]
        return out
    rows = conn.execute(_LATEST_MONTHS, {"account": int(a.id), "n": GRID_LONG + len(removed)})
    kept = [m for m in rows if m.month not in removed]
    if not kept:
        return None
    latest = kept[0]
    grid = {m.month: str(m.status) for m in kept}
    end = month_index(latest.month)
    history = [grid.get(month_start(end - i)) for i in range(GRID_LONG)]
    out.update(
        {
            "last_reported_month": f"{latest.month:%Y-%m}",
            "credit_limit_minor": latest.credit_limit_minor,
            "balance_minor": int(latest.balance_minor),
            "amount_due_minor": int(latest.amount_due_minor),
            "days_past_due": int(latest.days_past_due),
            "status": latest.status,
            "history_24": history[:GRID_SHORT],
            "history_60": history,
        }
    )
    return out


def _summary(
    accounts: list[dict[str, Any]], inquiries: list[dict[str, Any]], year_ago: dt.datetime
) -> dict[str, Any]:
    balances: dict[str, int] = {}
    limits: dict[str, int] = {}
    for a in accounts:
        balances[a["currency"]] = balances.get(a["currency"], 0) + a["balance_minor"]
        if a["credit_limit_minor"] is not None:
            limits[a["currency"]] = limits.get(a["currency"], 0) + int(a["credit_limit_minor"])
    open_accounts = [a for a in accounts if a["closed"] is None]
    return {
        "accounts": len(accounts),
        "open_accounts": len(open_accounts),
        "delinquent_accounts": sum(1 for a in open_accounts if a["days_past_due"] > 0),
        "derogatory_accounts": sum(
            1 for a in accounts if a["status"] in ("charged_off", "collection")
        ),
        "disputed_accounts": sum(1 for a in accounts if a.get("disputes")),
        "balance_minor": balances,
        "credit_limit_minor": limits,
        "hard_inquiries_12m": sum(
            1 for i in inquiries if i["kind"] == "hard" and i["created_at"] >= year_ago
        ),
    }


def _score(
    rc: ReportContext,
    head: Any,
    consumer_id: str,
    latest_change: dt.datetime | None,
    has_accounts: bool,
    now: dt.datetime,
) -> dict[str, Any]:
    if not has_accounts:
        return {"value": None, "unavailable": "no accounts on file"}
    info = rc.scorer.approved()
    if info is None:
        return {"value": None, "unavailable": "no score model is approved"}
    scored_at = as_utc(head.scored_at)
    fresh = (
        head.model_id is not None
        and int(head.model_id) == int(info.id)
        and scored_at is not None
        and (latest_change is None or latest_change <= scored_at)
    )
    if fresh:
        return {
            "value": round(float(head.score), 2),
            "pd_bad": float(head.pd_bad),
            "model": _model_ref(info),
            "as_of": head.as_of,
            "source": "batch",
            "reasons": list(head.reasons or []),
        }
    try:
        fresh_score = rc.scorer.rescore(consumer_id, AsOf(now.date()))
    except OpenBureauError as e:
        logger.warning("online rescore failed: %s", type(e).__name__)
        fresh_score = None
    if fresh_score is None:
        return {"value": None, "unavailable": "the score could not be computed"}
    return fresh_score


def account_of(conn: Connection, consumer_id: str, account_id: int) -> bool:
    """Whether the account is on the consumer's file."""
    ids = file_ids(conn, consumer_id)
    row = conn.execute(
        select(Account.id).where(Account.id == account_id, Account.consumer_id.in_(ids))
    ).first()
    return row is not None


__all__ = [
    "GRID_LONG",
    "GRID_SHORT",
    "ReportContext",
    "Scorer",
    "account_of",
    "build_report",
    "file_ids",
    "header",
    "header_beside",
    "inquiries_since",
    "resolved_header",
    "with_report_rows",
]
