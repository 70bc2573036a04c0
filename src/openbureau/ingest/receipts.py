"""Receipts: what the bureau tells a furnisher about each batch, and the reject file."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["accepted", "refused", "duplicate", "pending"]
# Reject details kept inside the receipt itself; the reject file always has all of them.
MAX_REJECTS_IN_RECEIPT = 1000
# Spreadsheets run cells that start with these as formulas (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Reject:
    line: int
    field: str
    reason: str


@dataclass
class Receipt:
    """The receipt of one batch. ``rejects`` holds at most MAX_REJECTS_IN_RECEIPT entries."""

    batch_id: str
    furnisher: str
    file: str
    kind: str
    format: str
    status: Status
    sha256: str
    furnisher_ref: str | None = None
    reporting_month: str | None = None
    received: int = 0
    accepted: int = 0
    rejected: int = 0
    corrected: int = 0
    duplicates: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)
    rejects_truncated: bool = False
    reject_file: str | None = None
    message: str | None = None
    original_status: str | None = None
    received_at: str = ""
    finished_at: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def neutralise(cell: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with a single quote."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def neutralise_sql(expr: str) -> str:
    """The DuckDB expression that neutralises ``expr`` the same way as :func:`neutralise`."""
    return (
        f"CASE WHEN regexp_matches({expr}, '^[=+\\-@\\t\\r]') THEN '''' || {expr} ELSE {expr} END"
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def receipts_dir(home: Path, furnisher: str) -> Path:
    return home / "receipts" / furnisher


__all__ = [
    "FORMULA_PREFIXES",
    "MAX_REJECTS_IN_RECEIPT",
    "Receipt",
    "Reject",
    "Status",
    "neutralise",
    "neutralise_sql",
    "receipts_dir",
    "utcnow",
]
