"""Payment transactions on the payment platform: the alternative data.

Spending level, mix, timing and income-like inflows follow each user's habits, income and
risk, and shift when the user is under financial stress (fewer and smaller salary inflows,
more cash-like and gambling spend, more late-night activity). The signal is real but noisy:
habits differ far more between people than stress moves them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from openbureau.synth.money import cents_to_decimal
from openbureau.synth.population import MEDIAN_INCOME, People
from openbureau.synth.reference import MCC_CATEGORIES
from openbureau.synth.text import digits, join

# Base spending mix (share of transactions) and median amount in CNY, per MCC category.
_MIX = np.array(
    [0.25, 0.20, 0.05, 0.10, 0.05, 0.04, 0.07, 0.03, 0.03, 0.06, 0.04, 0.01, 0.005, 0.03]
)
_MEDIAN = np.array([80, 60, 250, 8, 200, 100, 300, 1500, 90, 400, 500, 800, 300, 1000.0])
# log-multipliers of each category's share per unit of risk and under stress
_TILT_RISK = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.4, 0.6, 0.8, 0.5])
_TILT_STRESS = np.array([0.1, -0.3, -0.2, 0, 0, 0, -0.4, -0.6, 0, -0.3, 0.8, 1.0, 0.5, 0.8])
_CHANNEL = np.array(["app", "qr", "online", "pos", "transfer"], dtype=object)
# channel per category: probability of (app, qr, online, pos, transfer)
_CHANNEL_MIX = np.array(
    [
        [0.1, 0.55, 0.05, 0.3, 0],
        [0.1, 0.6, 0.1, 0.2, 0],
        [0.1, 0.3, 0, 0.6, 0],
        [0.3, 0.6, 0, 0.1, 0],
        [0.6, 0, 0.4, 0, 0],
        [0.7, 0, 0.3, 0, 0],
        [0.1, 0.3, 0.4, 0.2, 0],
        [0.1, 0.1, 0.6, 0.2, 0],
        [0.1, 0.5, 0.1, 0.3, 0],
        [0.1, 0.4, 0.2, 0.3, 0],
        [0, 0, 0, 1.0, 0],
        [0.3, 0, 0.7, 0, 0],
        [0.3, 0, 0.7, 0, 0],
        [0.4, 0, 0, 0, 0.6],
    ]
)
_MCC = np.array([code for code, _ in MCC_CATEGORIES], dtype=object)
_INFLOW_KINDS = np.array(["salary", "transfer", "refund"], dtype=object)


def _labels(codes: npt.NDArray[np.integer], labels: list[str]) -> pa.Array:
    """Strings from small integer codes (negative = missing), via a dictionary array."""
    indices = pa.array(np.maximum(codes, 0).astype(np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(labels, pa.string())).cast(pa.string())


@dataclass
class Habits:
    """Per-person spending habits, drawn once."""

    activity: npt.NDArray[np.float32]
    platform_share: npt.NDArray[np.float32]  # share of income that passes through the platform
    gambler: npt.NDArray[np.float32]
    salary_day: npt.NDArray[np.int8]

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int) -> Habits:
        return cls(
            activity=np.exp(rng.normal(0, 0.6, n)).astype(np.float32),
            platform_share=rng.uniform(0.3, 1.0, n).astype(np.float32),
            gambler=np.exp(rng.normal(-1.0, 1.2, n)).astype(np.float32),
            salary_day=rng.integers(1, 29, n).astype(np.int8),
        )


def month_transactions(
    rng: np.random.Generator,
    people: People,
    habits: Habits,
    users: npt.NDArray[np.int32],
    stressed: npt.NDArray[np.int8],
    risk: npt.NDArray[np.float32],
    month: dt.date,
    mean_per_month: float,
    first_id: int,
) -> Transactions:
    """All transactions of ``users`` in ``month``, sorted by time, in the furnishing format."""
    k = users.shape[0]
    s = stressed[users].astype(np.float64)
    r = risk[users].astype(np.float64)
    income_factor = people.income[users] / MEDIAN_INCOME
    days_in_month = ((month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - month).days

    # Outgoing payments.
    lam = mean_per_month * habits.activity[users] * (1 - 0.25 * s)
    count = rng.poisson(lam)
    logits = np.log(_MIX)[None, :] + np.outer(r, _TILT_RISK) + np.outer(s, _TILT_STRESS)
    logits[:, 12] += np.log(habits.gambler[users])
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    per_category = rng.multinomial(count, probs)  # (k, categories)
    n_cat = len(_MIX)
    owner = np.repeat(np.repeat(np.arange(k), n_cat), per_category.ravel())
    category = np.repeat(np.tile(np.arange(n_cat), k), per_category.ravel())
    m = owner.size
    amount = _MEDIAN[category] * income_factor[owner] ** 0.4 * np.exp(rng.normal(0, 0.6, m))
    ch_cdf = np.cumsum(_CHANNEL_MIX, axis=1)
    draw = rng.random(m)
    channel = np.zeros(m, dtype=np.int64)
    for j in range(ch_cdf.shape[1] - 1):
        channel += draw >= ch_cdf[category, j]
    night = rng.random(m) < 0.04 + 0.05 * s[owner] + 0.03 * (r[owner] > 1)
    hour = np.where(night, rng.integers(0, 6, m), np.clip(rng.normal(14, 4, m), 6, 23)).astype(
        np.int64
    )
    day = rng.integers(0, days_in_month, m)
    seconds = day * 86_400 + hour * 3600 + rng.integers(0, 3600, m)

    # Income-like inflows: salary for the salaried (often lost under stress), transfers otherwise.
    salaried = people.salaried[users]
    lost_job = rng.random(k) < 0.6 * s
    gets_salary = salaried & ~lost_job
    sal_owner = np.nonzero(gets_salary)[0]
    sal_amount = (
        people.income[users][sal_owner]
        * habits.platform_share[users][sal_owner]
        * rng.normal(1.0, 0.03, sal_owner.size)
    )
    sal_day = np.clip(
        habits.salary_day[users][sal_owner] + rng.integers(-1, 2, sal_owner.size),
        0,
        days_in_month - 1,
    )
    sal_seconds = sal_day * 86_400 + rng.integers(9 * 3600, 11 * 3600, sal_owner.size)
    n_transfer = rng.poisson(np.where(salaried, 0.3, 1.5) * (1 - 0.3 * s))
    tr_owner = np.repeat(np.arange(k), n_transfer)
    tr_amount = (
        people.income[users][tr_owner]
        * habits.platform_share[users][tr_owner]
        * 0.35
        * np.exp(rng.normal(0, 0.7, tr_owner.size))
    )
    tr_seconds = rng.integers(0, days_in_month * 86_400, tr_owner.size)
    n_refund = rng.poisson(0.05 * count)
    rf_owner = np.repeat(np.arange(k), n_refund)
    rf_amount = 50 * np.exp(rng.normal(0, 0.8, rf_owner.size))
    rf_seconds = rng.integers(0, days_in_month * 86_400, rf_owner.size)

    all_owner = np.concatenate([owner, sal_owner, tr_owner, rf_owner])
    n_in = sal_owner.size + tr_owner.size + rf_owner.size
    direction = np.concatenate([np.zeros(m, np.int8), np.ones(n_in, np.int8)])
    cents = np.round(np.concatenate([amount, sal_amount, tr_amount, rf_amount]) * 100).clip(1, None)
    secs = np.concatenate([seconds, sal_seconds, tr_seconds, rf_seconds]).astype(np.int64)
    mcc_idx = np.concatenate([category, np.full(n_in, -1)])
    chan_idx = np.concatenate([channel, np.full(n_in, 4)])
    inflow = np.concatenate(
        [
            np.full(m, -1),
            np.zeros(sal_owner.size, np.int64),
            np.ones(tr_owner.size, np.int64),
            np.full(rf_owner.size, 2),
        ]
    )
    # Sorted to the minute: a month has < 65,536 minutes, and numpy radix-sorts 16-bit keys.
    order = np.argsort((secs // 60).astype(np.uint16), kind="stable")

    start_us = int(
        (np.datetime64(month) - np.datetime64("1970-01-01"))
        .astype("timedelta64[us]")
        .astype(np.int64)
    )
    return Transactions(
        first_id=first_id,
        person=users[all_owner[order]],
        micros=start_us + secs[order] * 1_000_000,
        direction=direction[order],
        cents=cents[order].astype(np.int64),
        mcc=mcc_idx[order],
        channel=chan_idx[order],
        inflow=inflow[order],
    )


@dataclass
class Transactions:
    """One month of transactions as arrays; turned into Arrow on a writer thread."""

    first_id: int
    person: npt.NDArray[np.int32]
    micros: npt.NDArray[np.int64]
    direction: npt.NDArray[np.int8]
    cents: npt.NDArray[np.int64]
    mcc: npt.NDArray[np.int64]
    channel: npt.NDArray[np.int64]
    inflow: npt.NDArray[np.int64]

    @property
    def size(self) -> int:
        return int(self.person.shape[0])

    def to_table(self, customer_ref: pa.Array) -> pa.Table:
        ids = self.first_id + np.arange(self.size, dtype=np.int64)
        return pa.table(
            {
                "transaction_id": join(self.size, "T", digits(ids, 12)),
                "customer_ref": customer_ref,
                "timestamp": pa.array(self.micros, pa.timestamp("us", tz="UTC")),
                "direction": _labels(self.direction, ["out", "in"]),
                "amount": cents_to_decimal(self.cents),
                "merchant_category": _labels(self.mcc, list(_MCC)),
                "channel": _labels(self.channel, list(_CHANNEL)),
                "inflow_kind": _labels(self.inflow, list(_INFLOW_KINDS)),
            }
        )


__all__ = ["Habits", "Transactions", "month_transactions"]
