"""Request and response bodies of the service (what /openapi.json documents)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from openbureau.rules.profiles import ALL_PURPOSES

Purpose = Literal[ALL_PURPOSES]  # type: ignore[valid-type]
MAX_PAGE = 100


# Ids in paths and queries: letters, digits and a few separators (no control characters).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        if isinstance(value, str) and _CONTROL.search(value):
            raise ValueError("must not contain control characters")
        return value


class Identity(_In):
    national_id: str = Field(min_length=15, max_length=25, description="The consumer's id.")


class InquiryRequest(_In):
    """A lender's inquiry: the consumer (by id or by identity), the purpose, the consent."""

    consumer_id: str | None = Field(default=None, min_length=1, max_length=32, pattern=ID_PATTERN)
    identity: Identity | None = None
    purpose: Purpose
    consent_id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)

    @model_validator(mode="after")
    def _one_way_to_name_the_consumer(self) -> InquiryRequest:
        if (self.consumer_id is None) == (self.identity is None):
            raise ValueError("name the consumer by exactly one of consumer_id or identity")
        return self


class ConsentRequest(_In):
    lender: str = Field(min_length=1, max_length=100)
    purpose: Purpose
    days: int = Field(default=30, ge=1, le=366, description="How long the consent lasts.")


class FraudAlertRequest(_In):
    days: int = Field(default=365, ge=1, le=2555)


class StatementRequest(_In):
    text: str = Field(min_length=1, max_length=400)


DisputeReason = Literal[
    "not_mine",
    "identity_theft",
    "never_late",
    "wrong_balance",
    "wrong_status",
    "paid_or_closed",
    "duplicate",
    "other",
]
DisputeStatus = Literal["open", "verified", "corrected", "deleted", "expired"]
MONTH_PATTERN = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$"


class DisputeRequest(_In):
    """A consumer's dispute of one of their accounts, or of one month of it."""

    account_id: int = Field(ge=1, le=2**62, description="An account on your report.")
    month: str | None = Field(
        default=None,
        pattern=MONTH_PATTERN,
        description="YYYY-MM: dispute that month of the account only (omit: the whole account).",
    )
    reason: DisputeReason
    text: str | None = Field(
        default=None,
        min_length=1,
        max_length=400,
        description="In your own words (required for reason 'other'); the furnisher reads it.",
    )

    @model_validator(mode="after")
    def _other_needs_words(self) -> DisputeRequest:
        if self.reason == "other" and not self.text:
            raise ValueError("reason 'other' needs a text saying what is wrong")
        return self


class ResolutionRequest(_In):
    """A furnisher's answer to a dispute."""

    outcome: Literal["verified", "corrected", "deleted"]
    note: str | None = Field(
        default=None, min_length=1, max_length=400, description="Shown to the consumer."
    )
    correction_batch_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=ID_PATTERN,
        description="For 'corrected': the accepted batch that carried the corrected record.",
    )


class Reason(BaseModel):
    code: str
    text: str | None = None
    feature: str | None = None
    points_lost: float | None = None


class ModelRef(BaseModel):
    id: int
    kind: str
    version: str


class ScoreOut(BaseModel):
    value: float | None
    pd_bad: float | None = None
    model: ModelRef | None = None
    as_of: dt.date | None = None
    source: Literal["batch", "online"] | None = None
    reasons: list[Reason] = Field(default_factory=list)
    unavailable: str | None = None


class DisputeFlag(BaseModel):
    """An item of the account under dispute (open), or disputed and not verified in time."""

    state: Literal["disputed", "unverified"]
    label: str
    month: str | None = Field(description="YYYY-MM, or null for the whole account.")
    reason: str
    since: dt.date


class AccountOut(BaseModel):
    account_id: int
    furnisher_id: str
    furnisher_name: str
    product: str
    opened: dt.date
    closed: dt.date | None
    currency: str
    credit_limit_minor: int | None
    original_amount_minor: int | None
    term_months: int | None
    last_reported_month: str
    balance_minor: int
    amount_due_minor: int
    days_past_due: int
    status: str
    history_24: list[str | None] = Field(description="Status by month, newest first.")
    history_60: list[str | None]
    statement: str | None
    disputes: list[DisputeFlag] = Field(default_factory=list)


class ReportInquiry(BaseModel):
    lender: str
    purpose: str
    kind: str
    created_at: dt.datetime


class IdentityOut(BaseModel):
    consumer_id: str
    name: str | None
    birth_year: int | None
    national_id: str | None


class Summary(BaseModel):
    accounts: int
    open_accounts: int
    delinquent_accounts: int
    derogatory_accounts: int
    disputed_accounts: int = 0
    balance_minor: dict[str, int]
    credit_limit_minor: dict[str, int]
    hard_inquiries_12m: int


class StatementOut(BaseModel):
    account_id: int
    text: str


class Alerts(BaseModel):
    frozen: bool
    fraud_alert: bool
    fraud_alert_until: dt.datetime | None


class Report(BaseModel):
    consumer_id: str
    generated_at: dt.datetime
    identity: IdentityOut
    summary: Summary
    accounts: list[AccountOut]
    inquiries: list[ReportInquiry]
    statements: list[StatementOut]
    alerts: Alerts
    score: ScoreOut


class InquiryOut(BaseModel):
    inquiry_id: int
    consumer_id: str
    lender: str
    purpose: str
    kind: str
    created_at: dt.datetime
    consent_id: str | None


class InquiryResult(BaseModel):
    inquiry_id: int
    created_at: dt.datetime
    consumer_id: str
    lender: str
    purpose: str
    kind: str
    consent_id: str
    report: Report


class InquiryPage(BaseModel):
    items: list[InquiryOut]
    next_before: int | None = Field(description="Pass as ?before= for the next page.")


class ConsentOut(BaseModel):
    consent_id: str
    lender: str
    purpose: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    state: Literal["live", "expired", "revoked"]


class ConsentPage(BaseModel):
    items: list[ConsentOut]
    next_after: str | None


class ControlsOut(BaseModel):
    frozen: bool
    frozen_at: dt.datetime | None
    fraud_alert: bool
    fraud_alert_until: dt.datetime | None


class StatementResult(BaseModel):
    account_id: int
    text: str
    created_at: dt.datetime


class DisputeOut(BaseModel):
    dispute_id: int
    account_id: int
    furnisher_id: str
    furnisher_account_id: str
    month: str | None
    reason: DisputeReason
    reason_text: str
    text: str | None
    status: DisputeStatus
    effect: Literal["none", "removed", "unverified"] | None = Field(
        description="What the outcome did to the item (null while open)."
    )
    opened_at: dt.datetime
    due_at: dt.datetime
    resolved_at: dt.datetime | None
    resolution_note: str | None
    correction_batch_id: str | None


class DisputePage(BaseModel):
    items: list[DisputeOut]
    next_before: int | None = Field(description="Pass as ?before= for the next page.")


class FurnisherDisputePage(BaseModel):
    items: list[DisputeOut]
    next_after: int | None = Field(description="Pass as ?after= for the next page.")


class FurnisherDisputeCounts(BaseModel):
    furnisher_id: str
    open: int
    verified: int
    corrected: int
    deleted: int
    expired: int
    overdue: int


class DisputeSummary(BaseModel):
    generated_at: dt.datetime
    by_status: dict[str, int]
    open_overdue: int = Field(description="Open past the deadline, not yet expired.")
    open_due_within_7_days: int
    furnishers: list[FurnisherDisputeCounts]
    next_after: str | None


class Deleted(BaseModel):
    deleted: bool


class Receipt(BaseModel):
    """A batch receipt (the ingestion's receipt, as stored)."""

    model_config = ConfigDict(extra="allow")

    batch_id: str
    furnisher: str
    file: str
    kind: str
    status: str
    received: int
    accepted: int
    rejected: int


class BatchOut(BaseModel):
    batch_id: str
    kind: str
    file_name: str
    status: str
    received_at: dt.datetime
    received: int
    accepted: int
    rejected: int


class BatchPage(BaseModel):
    items: list[BatchOut]
    next_before: str | None


class Verification(BaseModel):
    ok: bool
    entries: int
    head_seq: int
    chains: int
    chain: int | None
    broken_at: int | None
    problem: str | None


class AlertOut(BaseModel):
    alert_id: int
    lender: str
    kind: str
    detail: dict[str, Any]
    created_at: dt.datetime


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_before: int | None


class ConsumerOut(BaseModel):
    consumer_id: str
    status: str
    created_at: dt.datetime
    accounts: int


class ConsumerPage(BaseModel):
    items: list[ConsumerOut]
    next_after: str | None


class Health(BaseModel):
    status: Literal["ok"]


__all__ = [
    "ID_PATTERN",
    "MAX_PAGE",
    "AlertPage",
    "BatchPage",
    "ConsentPage",
    "ConsentRequest",
    "ConsumerPage",
    "ControlsOut",
    "Deleted",
    "DisputeOut",
    "DisputePage",
    "DisputeRequest",
    "DisputeSummary",
    "FraudAlertRequest",
    "FurnisherDisputePage",
    "Health",
    "InquiryOut",
    "InquiryPage",
    "InquiryRequest",
    "InquiryResult",
    "Receipt",
    "Report",
    "ResolutionRequest",
    "StatementRequest",
    "StatementResult",
    "Verification",
]
