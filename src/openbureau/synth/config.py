"""Parameters of a synthetic population. Every number that shapes the data lives here."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from openbureau.errors import SynthError


@dataclass(frozen=True)
class IdentityNoise:
    """How one furnisher records identities: its error and omission rates per account."""

    nid_missing: float  # national id not captured
    nid_mistyped: float  # one digit wrong or two digits swapped
    name_typo: float  # a letter dropped, doubled, swapped or replaced
    name_variant: float  # another romanisation (Wade-Giles, Cantonese) or spacing
    dob_missing: float
    dob_swapped: float  # day and month exchanged at data entry
    phone_missing: float
    phone_typo: float
    updates_address: bool  # follows a customer who moves
    updates_phone: bool


DEFAULT_NOISE: dict[str, IdentityNoise] = {
    "bankcard": IdentityNoise(
        nid_missing=0.005,
        nid_mistyped=0.005,
        name_typo=0.01,
        name_variant=0.01,
        dob_missing=0.0,
        dob_swapped=0.002,
        phone_missing=0.02,
        phone_typo=0.005,
        updates_address=True,
        updates_phone=True,
    ),
    "microloan": IdentityNoise(
        nid_missing=0.06,
        nid_mistyped=0.02,
        name_typo=0.04,
        name_variant=0.08,
        dob_missing=0.01,
        dob_swapped=0.02,
        phone_missing=0.05,
        phone_typo=0.02,
        updates_address=False,
        updates_phone=False,
    ),
    "payplat": IdentityNoise(
        nid_missing=0.03,
        nid_mistyped=0.03,
        name_typo=0.02,
        name_variant=0.03,
        dob_missing=0.005,
        dob_swapped=0.005,
        phone_missing=0.0,
        phone_typo=0.002,
        updates_address=True,
        updates_phone=True,
    ),
}


@dataclass(frozen=True)
class SynthConfig:
    """A synthetic national credit population.

    Attributes:
        consumers: number of true persons.
        months: reporting months written to the feeds.
        seed: the whole output is a function of the configuration, this seed included.
        start_month: first reporting month, ``YYYY-MM``.
        burn_in_months: months simulated before the first feed, so the window opens on a
            portfolio already in motion (people already behind, accounts of every age).
        lookalike_share: share of persons who share name and birth date with another person.
        mover_share: share of persons who move house during the window.
        phone_change_share: share of persons who change mobile number during the window.
        payplat_share: share of persons who use the payment platform.
        transactions_per_month: mean payment transactions per platform user and month.
        noise: identity noise per furnisher.
    """

    consumers: int = 20_000
    months: int = 36
    seed: int = 0
    start_month: str = "2023-01"
    burn_in_months: int = 12
    lookalike_share: float = 0.004
    mover_share: float = 0.10
    phone_change_share: float = 0.05
    payplat_share: float = 0.65
    transactions_per_month: float = 3.0
    noise: dict[str, IdentityNoise] = field(default_factory=lambda: dict(DEFAULT_NOISE))

    def __post_init__(self) -> None:
        if self.consumers < 10:
            raise SynthError(f"consumers must be at least 10, got {self.consumers}")
        if not 1 <= self.months <= 240:
            raise SynthError(f"months must be between 1 and 240, got {self.months}")
        if self.seed < 0:
            raise SynthError(f"seed must be a non-negative integer, got {self.seed}")
        try:
            first = dt.date.fromisoformat(self.start_month + "-01")
        except ValueError as e:
            raise SynthError(f"start month must be YYYY-MM, got {self.start_month!r}") from e
        last = _add_months(first, self.months - 1)
        if last > dt.date.today():
            raise SynthError(
                f"the last reporting month {last:%Y-%m} would be in the future; "
                "choose an earlier --start or fewer --months"
            )
        for name in ("lookalike_share", "mover_share", "phone_change_share", "payplat_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SynthError(f"{name} must be between 0 and 1, got {value}")
        if set(self.noise) != set(DEFAULT_NOISE):
            raise SynthError(f"noise must be given for exactly {sorted(DEFAULT_NOISE)}")

    @property
    def first_month(self) -> dt.date:
        return dt.date.fromisoformat(self.start_month + "-01")

    def month(self, index: int) -> dt.date:
        """The first day of reporting month ``index`` (0 = start_month; negative = burn-in)."""
        return _add_months(self.first_month, index)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + (day.month - 1) + months
    return dt.date(total // 12, total % 12 + 1, 1)


__all__ = ["DEFAULT_NOISE", "IdentityNoise", "SynthConfig"]
