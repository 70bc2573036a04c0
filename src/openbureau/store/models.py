"""The credit-file database: the system of record for what a credit report shows.

Money is stored as integer minor units (fen, cents) in ``*_minor`` columns: exact on every
database, never a float. Months are the first day of the month.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer, "sqlite")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON}  # noqa: RUF012 - SQLAlchemy reads it


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Furnisher(Base):
    """A data furnisher: a lender, card issuer or payment platform that reports to the bureau."""

    __tablename__ = "furnishers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )


class Consumer(Base):
    """One credit file: a pseudonymous consumer id. Personal data is held only encrypted."""

    __tablename__ = "consumers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Keyed HMAC-SHA256 (hex) of the normalised national id: matching without the clear value.
    national_id_hmac: Mapped[str | None] = mapped_column(String(64), unique=True)
    # AES-256-GCM ciphertext (nonce || ciphertext || tag) for display to authorised parties.
    national_id_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )


class Batch(Base):
    """One furnisher file as received: its hash, counts and receipt."""

    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("furnisher_id", "kind", "file_sha256"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    furnisher_id: Mapped[str] = mapped_column(ForeignKey("furnishers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # accounts | payments
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    furnisher_ref: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # accepted | refused
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    received: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    corrected: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    receipt: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Account(Base):
    """A credit account as its furnisher last reported it (the current state)."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("furnisher_id", "furnisher_account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    furnisher_id: Mapped[str] = mapped_column(ForeignKey("furnishers.id"))
    furnisher_account_id: Mapped[str] = mapped_column(String(64))
    consumer_id: Mapped[str | None] = mapped_column(ForeignKey("consumers.id"), index=True)
    product: Mapped[str] = mapped_column(String(32))
    opened: Mapped[dt.date] = mapped_column(Date)
    closed: Mapped[dt.date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    credit_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    original_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    term_months: Mapped[int | None] = mapped_column(Integer)
    last_month: Mapped[dt.date] = mapped_column(Date)
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    amount_due_minor: Mapped[int] = mapped_column(BigInteger)
    amount_paid_minor: Mapped[int] = mapped_column(BigInteger)
    days_past_due: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=_now
    )


class AccountMonth(Base):
    """One month of an account's history: the rows behind a report's 24/60-month grid."""

    __tablename__ = "account_months"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    credit_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    amount_due_minor: Mapped[int] = mapped_column(BigInteger)
    amount_paid_minor: Mapped[int] = mapped_column(BigInteger)
    days_past_due: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)


# --- ingest (migration 0002) -------------------------------------------------------------

# One furnisher batch reference names one batch: a resubmission under the same reference is
# recognised as the same batch even when its bytes differ.
Index("uq_batches_furnisher_ref", Batch.furnisher_id, Batch.furnisher_ref, unique=True)


class AccountMonthRevision(Base):
    """An account-month value that a later batch corrected: the audit trail of changes."""

    __tablename__ = "account_month_revisions"
    __table_args__ = (Index("ix_account_month_revisions_account_month", "account_id", "month"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    month: Mapped[dt.date] = mapped_column(Date)
    credit_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    amount_due_minor: Mapped[int] = mapped_column(BigInteger)
    amount_paid_minor: Mapped[int] = mapped_column(BigInteger)
    days_past_due: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    # The batch that had reported this value, and the batch that superseded it.
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"))
    superseded_by: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    superseded_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )


class IdentityRecord(Base):
    """The identity a furnisher gives for one of its accounts, normalised, for linking.

    The national id is held only as a keyed HMAC (matching) and AES-GCM ciphertext (display).
    ``needs_resolution`` marks records that could not be linked deterministically.
    """

    __tablename__ = "identity_records"
    __table_args__ = (
        UniqueConstraint("furnisher_id", "furnisher_account_id"),
        Index("ix_identity_records_furnisher_customer", "furnisher_id", "customer_ref"),
        # Only the few unresolved records are indexed (a partial index).
        Index(
            "ix_identity_records_unresolved",
            "furnisher_id",
            postgresql_where=text("needs_resolution"),
            sqlite_where=text("needs_resolution"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # furnisher_id and batch_id are not foreign keys on purpose: only ingest writes them
    # (from a registered furnisher, inside the batch's transaction), and a per-row key check
    # would cost a bulk load more than the rest of this table's upkeep.
    furnisher_id: Mapped[str] = mapped_column(String(64))
    furnisher_account_id: Mapped[str] = mapped_column(String(64))
    customer_ref: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))  # lower case, single spaces
    name_key: Mapped[str] = mapped_column(String(200))  # words sorted: order-free matching
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))  # national digits only
    address: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(10))
    national_id_hmac: Mapped[str | None] = mapped_column(String(64))
    national_id_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    nid_state: Mapped[str] = mapped_column(String(8))  # valid | invalid | missing
    consumer_id: Mapped[str | None] = mapped_column(ForeignKey("consumers.id"), index=True)
    needs_resolution: Mapped[bool] = mapped_column(Boolean)
    last_month: Mapped[dt.date] = mapped_column(Date)
    batch_id: Mapped[str] = mapped_column(String(36))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )


# --- identity (migration 0003) -----------------------------------------------------------


class IdentityRun(Base):
    """One run of ``openbureau link``: engine, trained model, counts and timings."""

    __tablename__ = "identity_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    engine: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # running | finished | failed
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The trained Splink model (m and u probabilities, levels): reused by later runs.
    model: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class IdentityEvent(Base):
    """A merge (several consumer ids found to be one person) or a split (one id, several)."""

    __tablename__ = "identity_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("identity_runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # merge | split
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)  # consumer id -> record ids
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    accounts_moved: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ConsumerRedirect(Base):
    """A consumer id merged into another: anything still holding the old id follows this."""

    __tablename__ = "consumer_redirects"

    from_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"), primary_key=True)
    to_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("identity_events.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class IdentityReview(Base):
    """A pair of records whose match is uncertain, for an operator to accept or reject."""

    __tablename__ = "identity_reviews"
    __table_args__ = (UniqueConstraint("record_a", "record_b"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_a: Mapped[int] = mapped_column(ForeignKey("identity_records.id", ondelete="CASCADE"))
    record_b: Mapped[int] = mapped_column(ForeignKey("identity_records.id", ondelete="CASCADE"))
    match_probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    # Field by field: comparison, level, agrees, match weight (bits). Never the values.
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # pending | accepted | rejected | obsolete
    status: Mapped[str] = mapped_column(String(16), index=True)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("identity_runs.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))


# --- features, models and scores (migration 0004) ----------------------------------------


class BatchMonth(Base):
    """When an account batch's values became known: its reporting month (see features.snapshot).

    The later of the month its file is named for and the latest month it carries. Fixed once
    the batch is accepted, so it is computed once, by the first snapshot that needs it.
    """

    __tablename__ = "batch_months"

    batch_id: Mapped[str] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True
    )
    reporting_month: Mapped[dt.date] = mapped_column(Date)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ScoreModel(Base):
    """A trained score model in the registry: candidate, then approved, then retired.

    The artifact (portable JSON, or LightGBM's text model) lives in ``<home>/models/<id>``;
    this row holds what it was trained on and how it did. At most one model is approved at a
    time (a partial unique index), and only the approved model serves scores.
    """

    __tablename__ = "score_models"
    __table_args__ = (
        Index(
            "uq_score_models_approved",
            "state",
            unique=True,
            sqlite_where=text("state = 'approved'"),
            postgresql_where=text("state = 'approved'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # scorecard | gbm
    state: Mapped[str] = mapped_column(String(16), index=True)  # candidate | approved | retired
    train_as_of: Mapped[dt.date] = mapped_column(Date)
    validate_as_of: Mapped[dt.date | None] = mapped_column(Date)
    feature_set: Mapped[str] = mapped_column(String(64))  # hash of the feature definitions
    features: Mapped[list[Any]] = mapped_column(JSON, default=list)  # characteristics used
    data_hash: Mapped[str] = mapped_column(String(100))
    artifact: Mapped[str] = mapped_column(String(500))  # folder, relative to the home
    training: Mapped[dict[str, Any]] = mapped_column(default=dict)  # snapshots, versions, rows
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    library_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(100))
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Score(Base):
    """The latest score of a consumer, with up to four reason codes (the lake keeps them all)."""

    __tablename__ = "scores"

    consumer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("score_models.id"), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    score: Mapped[float] = mapped_column(Float)
    pd_bad: Mapped[float] = mapped_column(Float)  # the model's probability of going bad
    # [{"code", "text", "feature", "points_lost"}], largest cost first.
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    scored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


# --- the service (migration 0005) --------------------------------------------------------


class ApiClient(Base):
    """A principal of the service: an API client (furnisher, lender, regulator, operator) or a
    consumer's own credential. Only a keyed hash of the key's secret is stored."""

    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)  # the key's public prefix
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    furnisher_id: Mapped[str | None] = mapped_column(ForeignKey("furnishers.id"))
    lender: Mapped[str | None] = mapped_column(String(100))
    consumer_id: Mapped[str | None] = mapped_column(ForeignKey("consumers.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Consent(Base):
    """A consumer's consent that one lender pulls their file for one purpose, until it expires."""

    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consumer_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"), index=True)
    lender: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Inquiry(Base):
    """A lender's pull of a credit file: shown on the report; ``kind='hard'`` counts in features.

    ``consumer_id, lender, purpose, created_at, kind`` is what the feature snapshot reads.
    """

    __tablename__ = "inquiries"
    __table_args__ = (
        Index("ix_inquiries_consumer_created", "consumer_id", "created_at"),
        Index("ix_inquiries_lender_created", "lender", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consumer_id: Mapped[str] = mapped_column(String(32))
    lender: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    kind: Mapped[str] = mapped_column(String(10))  # hard | soft
    client_id: Mapped[str | None] = mapped_column(String(24))
    consent_id: Mapped[str | None] = mapped_column(String(36))


class ConsumerControl(Base):
    """A consumer's security freeze and fraud alert."""

    __tablename__ = "consumer_controls"

    consumer_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"), primary_key=True)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    frozen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    fraud_alert_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ConsumerStatement(Base):
    """A consumer's short statement on one of their accounts (one per account, replaceable)."""

    __tablename__ = "consumer_statements"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    consumer_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"), index=True)
    text: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class AuditEntry(Base):
    """One link of the append-only, hash-chained audit log (see openbureau.service.audit).

    The log is several chains (``chain``), each numbered from 1 without gaps (``seq``);
    ``id`` is the order in which entries were written across chains. ``at`` and ``detail``
    are stored as the exact text that was hashed.
    """

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chain: Mapped[int] = mapped_column(SmallInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    consumer_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """A chain's head (one row per chain, ``id`` = chain): locked to serialise that chain's
    appends, and checked by verify."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AbuseAlert(Base):
    """A lender whose inquiries look like bulk scraping, for an operator to look at."""

    __tablename__ = "abuse_alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lender: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # volume | no_opening
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


# --- disputes (migration 0007) ----------------------------------------------------------

# A month-less (whole-account) dispute's item key in the one-open-dispute-per-item index.
WHOLE_ACCOUNT = "0001-01-01"


class Dispute(Base):
    """A consumer's dispute of an item on their report: one account, or one month of it.

    Forwarded to the account's furnisher, which answers by ``due_at`` (the jurisdiction's
    ``dispute_days``). ``status``: open | verified | corrected | deleted | expired.
    ``effect`` (set when it closes) is what the outcome does to the item: ``none`` (verified
    or corrected: reported as the furnisher has it), ``removed`` (off the report and out of
    the score) or ``unverified`` (on the report, marked, out of the score). The credit
    report and the feature snapshot read ``effect``; nothing is deleted from the file, so a
    furnisher re-reporting a removed item does not bring it back.
    """

    __tablename__ = "disputes"
    __table_args__ = (
        Index("ix_disputes_account_id", "account_id"),
        Index("ix_disputes_consumer_id", "consumer_id", "id"),
        Index("ix_disputes_furnisher_id", "furnisher_id", "id"),
        Index("ix_disputes_furnisher_status", "furnisher_id", "status", "id"),
        Index(
            "ix_disputes_open_due",
            "due_at",
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        # At most one open dispute per item (an account, or one month of it).
        Index(
            "uq_disputes_open_item",
            "account_id",
            text(f"coalesce(month, '{WHOLE_ACCOUNT}')"),
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # The file that opened it (merges keep it reachable through consumer_redirects).
    consumer_id: Mapped[str] = mapped_column(ForeignKey("consumers.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    furnisher_id: Mapped[str] = mapped_column(ForeignKey("furnishers.id"))
    month: Mapped[dt.date | None] = mapped_column(Date)  # None: the whole account
    reason: Mapped[str] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(String(400))  # the consumer's own words
    status: Mapped[str] = mapped_column(String(16))
    effect: Mapped[str | None] = mapped_column(String(16))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_note: Mapped[str | None] = mapped_column(String(400))
    correction_batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.id"))


__all__ = [
    "WHOLE_ACCOUNT",
    "AbuseAlert",
    "Account",
    "AccountMonth",
    "AccountMonthRevision",
    "ApiClient",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Batch",
    "BatchMonth",
    "Consent",
    "Consumer",
    "ConsumerControl",
    "ConsumerRedirect",
    "ConsumerStatement",
    "Dispute",
    "Furnisher",
    "IdentityEvent",
    "IdentityRecord",
    "IdentityReview",
    "IdentityRun",
    "Inquiry",
    "Score",
    "ScoreModel",
]
