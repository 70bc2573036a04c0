"""Binning with optbinning, turned into plain per-characteristic bin tables.

optbinning finds the bins (pre-binning by a CART tree, then a constrained optimisation
with the monotone trend asked for). Everything after that — weights of evidence, points,
scoring — works on the :class:`BinnedCharacteristic` tables built here, so a model never
needs optbinning again once fitted.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

import numpy as np
import pandas as pd

from openbureau.errors import ScoringError, ScoringInputError
from openbureau.scoring._data import (
    FloatArray,
    IntArray,
    canonical_categories,
    numeric_for_binning,
)
from openbureau.scoring.compiled import CompiledCharacteristic, Kind

logger = logging.getLogger(__name__)

# Direction of *risk* as the characteristic grows.
Trend = Literal["increasing", "decreasing", "auto", "monotone", "none"]
TREND_ALIASES: dict[Any, Trend] = {
    "increasing": "increasing",
    "ascending": "increasing",
    "+1": "increasing",
    1: "increasing",
    "decreasing": "decreasing",
    "descending": "decreasing",
    "-1": "decreasing",
    -1: "decreasing",
    "auto": "auto",
    "monotone": "monotone",
    "auto_asc_desc": "monotone",
    "none": "none",
    "0": "none",
    0: "none",
    None: "none",
}
_OPTBINNING_TREND: dict[Trend, str | None] = {
    "increasing": "ascending",  # event (bad) rate ascending
    "decreasing": "descending",
    "auto": "auto",
    "monotone": "auto_asc_desc",
    "none": None,
}


def normalise_trend(value: Any, feature: str = "") -> Trend:
    key = value.lower() if isinstance(value, str) else value
    try:
        return TREND_ALIASES[key]
    except (KeyError, TypeError):
        raise ScoringInputError(
            f"unknown monotone direction {value!r} for {feature or 'a characteristic'}: use "
            "increasing, decreasing, monotone, auto or none (direction of risk)"
        ) from None


@dataclass
class BinnedCharacteristic:
    """One characteristic's bins with counts and weights of evidence.

    Slots follow :class:`CompiledCharacteristic`: regular bins, then special, missing and
    unknown (unseen category). ``woe`` is ln(share of goods / share of bads): positive
    means better than average.
    """

    name: str
    kind: Kind
    labels: list[str]
    n_good: FloatArray
    n_bad: FloatArray
    woe: FloatArray
    splits: list[float] = field(default_factory=list)
    special_values: list[float] = field(default_factory=list)
    categories: dict[str, int] = field(default_factory=dict)
    risk_trend: str = "flat"  # of the regular bins: increasing, decreasing, other, flat

    @property
    def n_bins(self) -> int:
        return len(self.labels) - 3

    @property
    def count(self) -> FloatArray:
        return self.n_good + self.n_bad

    @property
    def iv_terms(self) -> FloatArray:
        goods, bads = self.n_good.sum(), self.n_bad.sum()
        terms: FloatArray = (self.n_good / goods - self.n_bad / bads) * self.woe
        return terms

    @property
    def iv(self) -> float:
        return float(self.iv_terms.sum())

    def compile(self, slot_points: Sequence[float]) -> CompiledCharacteristic:
        return CompiledCharacteristic(
            name=self.name,
            kind=self.kind,
            slot_points=tuple(float(p) for p in slot_points),
            splits=tuple(self.splits),
            special_values=tuple(self.special_values),
            categories=dict(self.categories),
        )

    def slots(self, values: Any) -> IntArray:
        """Bin slot of each value, through the same code that scores."""
        return self.compile([0.0] * len(self.labels)).slots(values)

    def table(self) -> pd.DataFrame:
        count = self.count
        total = count.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            bad_rate = np.where(count > 0, self.n_bad / np.maximum(count, 1), np.nan)
        return pd.DataFrame(
            {
                "characteristic": self.name,
                "slot": np.arange(len(self.labels)),
                "bin": self.labels,
                "count": count.astype(np.int64),
                "share": count / total if total else 0.0,
                "bads": self.n_bad.astype(np.int64),
                "bad_rate": bad_rate,
                "woe": self.woe,
                "iv": self.iv_terms,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "labels": list(self.labels),
            "n_good": self.n_good.tolist(),
            "n_bad": self.n_bad.tolist(),
            "woe": self.woe.tolist(),
            "splits": list(self.splits),
            "special_values": list(self.special_values),
            "categories": dict(self.categories),
            "risk_trend": self.risk_trend,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BinnedCharacteristic:
        return cls(
            name=str(data["name"]),
            kind=data["kind"],
            labels=[str(v) for v in data["labels"]],
            n_good=np.asarray(data["n_good"], dtype=np.float64),
            n_bad=np.asarray(data["n_bad"], dtype=np.float64),
            woe=np.asarray(data["woe"], dtype=np.float64),
            splits=[float(v) for v in data.get("splits", [])],
            special_values=[float(v) for v in data.get("special_values", [])],
            categories={str(k): int(v) for k, v in data.get("categories", {}).items()},
            risk_trend=str(data.get("risk_trend", "flat")),
        )


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _numeric_labels(splits: Sequence[float]) -> list[str]:
    edges = [-math.inf, *splits, math.inf]
    labels = []
    for lo, hi in pairwise(edges):
        left = "(-inf" if lo == -math.inf else f"[{_fmt(lo)}"
        right = "inf)" if hi == math.inf else f"{_fmt(hi)})"
        labels.append(f"{left}, {right}")
    return labels


def _risk_trend(n_good: FloatArray, n_bad: FloatArray) -> str:
    count = n_good + n_bad
    keep = count > 0
    rates = n_bad[keep] / count[keep]
    if rates.size < 2 or np.all(rates == rates[0]):
        return "flat"
    diffs = np.diff(rates)
    if np.all(diffs >= 0):
        return "increasing"
    if np.all(diffs <= 0):
        return "decreasing"
    return "other"


def shrunk_woe(n_good: FloatArray, n_bad: FloatArray) -> FloatArray:
    """Weights of evidence with each bin's bad rate shrunk towards the overall rate.

    Empirical Bayes (beta-binomial, method of moments): the prior strength ``m`` is the
    binomial variance over the between-bin variance of the true rates, so a strong
    characteristic is barely shrunk while a small bin of a weak one moves towards neutral.
    Empty bins get exactly 0 and pure bins a finite value, where raw WoE would be ±inf.
    """
    count = n_good + n_bad
    total = count.sum()
    p = n_bad.sum() / total
    seen = count > 0
    rates = np.divide(n_bad, count, out=np.full_like(count, p), where=seen)
    between = float(np.sum(count * (rates - p) ** 2) / total)
    noise = p * (1 - p) * max(int(seen.sum()) - 1, 0) / total
    tau2 = between - noise
    if tau2 <= 0:
        return np.zeros_like(count)
    m = p * (1 - p) / tau2
    shrunk = (n_bad + m * p) / (count + m)
    woe: FloatArray = np.log((1 - shrunk) / shrunk) - math.log((1 - p) / p)
    woe[~seen] = 0.0
    return woe


def _pav(values: FloatArray, weights: FloatArray, increasing: bool) -> FloatArray:
    """Weighted pool-adjacent-violators: the closest monotone sequence."""
    sign = 1.0 if increasing else -1.0
    blocks: list[list[float]] = []  # [mean, weight, size]
    for v, w in zip(values * sign, np.maximum(weights, 1e-12), strict=True):
        blocks.append([float(v), float(w), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    out = np.concatenate([np.full(int(n), m) for m, _, n in blocks])
    return out * sign


def _from_optbinning(name: str, optb: Any, n_total: int) -> BinnedCharacteristic:
    from optbinning.binning.binning_statistics import bin_categorical

    n_event = np.asarray(optb._n_event, dtype=np.float64)
    n_nonevent = np.asarray(optb._n_nonevent, dtype=np.float64)
    if optb.dtype == "numerical":
        splits = [float(s) for s in np.asarray(optb.splits, dtype=np.float64)]
        n_regular = len(splits) + 1
        labels = _numeric_labels(splits)
        categories: dict[str, int] = {}
        kind: Kind = "numeric"
    else:
        bins = bin_categorical(optb._splits_optimal, optb._categories, optb._cat_others, None)
        splits = []
        n_regular = len(bins)
        categories = {str(c): i for i, b in enumerate(bins) for c in list(b)}
        labels = []
        # An ndarray (possibly empty) or None: NumPy >= 2.2 refuses the truth value of an
        # empty array, so no ``or []`` here.
        cat_others = optb._cat_others
        others = {str(c) for c in ([] if cat_others is None else list(cat_others))}
        for b in bins:
            members = [str(c) for c in list(b)]
            text = ", ".join(members) if len(members) <= 8 else ", ".join(members[:8]) + ", …"
            if others and set(members) == others:
                text = f"other (rare): {text}"
            labels.append(text)
        kind = "categorical"
    if len(n_event) < n_regular + 2:
        raise ScoringError(f"unexpected optbinning table for {name!r}")
    # optbinning: regular bins, special (one, as special codes are a list), missing.
    bad = np.concatenate([n_event[:n_regular], [n_event[n_regular:-1].sum(), n_event[-1], 0.0]])
    good = np.concatenate(
        [n_nonevent[:n_regular], [n_nonevent[n_regular:-1].sum(), n_nonevent[-1], 0.0]]
    )
    if abs(good.sum() + bad.sum() - n_total) > 0.5:
        raise ScoringError(f"optbinning counts for {name!r} do not add up to the rows")
    labels = [*labels, "Special", "Missing", "Unseen category" if kind == "categorical" else "-"]
    codes = optb.special_codes
    special_values = (
        [float(v) for v in ([] if codes is None else list(codes))] if kind == "numeric" else []
    )
    woe = shrunk_woe(good, bad)
    trend = _risk_trend(good[:n_regular], bad[:n_regular]) if kind == "numeric" else "other"
    if trend in ("increasing", "decreasing"):
        # Shrinkage moves small bins more than large ones and can break a monotone
        # trend between bins with almost equal rates; restore it (risk up ⇒ WoE down).
        woe[:n_regular] = _pav(
            woe[:n_regular], (good + bad)[:n_regular], increasing=trend == "decreasing"
        )
    return BinnedCharacteristic(
        name=name,
        kind=kind,
        labels=labels,
        n_good=good,
        n_bad=bad,
        woe=woe,
        splits=splits,
        special_values=special_values,
        categories=categories,
        risk_trend=trend,
    )


@dataclass(frozen=True)
class BinningOptions:
    """The binning knobs a model exposes (see :class:`~openbureau.scoring.Scorecard`)."""

    monotone: Mapping[str, Any] | None = None
    default_trend: Any = "auto"
    special_codes: Mapping[str, Sequence[float]] | None = None
    min_bin_size: float = 0.05
    max_n_bins: int | None = None
    cat_cutoff: float | None = None
    n_jobs: int | None = None


def binning_frame(
    X: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
) -> pd.DataFrame:
    """The columns as binning sees them: floats (±inf folded in) and canonical text."""
    cols: dict[str, Any] = {}
    for name in numeric:
        cols[name] = numeric_for_binning(X[name])
    for name in categorical:
        cols[name] = canonical_categories(X[name])
    return pd.DataFrame(cols, index=X.index)


def fit_binning(
    B: pd.DataFrame,
    y: Any,
    numeric: Sequence[str],
    categorical: Sequence[str],
    options: BinningOptions,
) -> dict[str, BinnedCharacteristic]:
    """Run optbinning's BinningProcess and return one bin table per characteristic."""
    from optbinning import BinningProcess

    n = len(B)
    monotone = {str(k): normalise_trend(v, str(k)) for k, v in (options.monotone or {}).items()}
    default = normalise_trend(options.default_trend)
    # Categories rarer than this are pooled into one "other" bin: their own bad rate is
    # mostly noise. 1 %, and never fewer than ~30 rows (the usual large-sample rule).
    cat_cutoff = options.cat_cutoff if options.cat_cutoff is not None else max(0.01, 30.0 / n)
    params: dict[str, dict[str, Any]] = {}
    for name in numeric:
        p: dict[str, Any] = {"monotonic_trend": _OPTBINNING_TREND[monotone.get(name, default)]}
        codes = (options.special_codes or {}).get(name)
        if codes:
            p["special_codes"] = [float(c) for c in codes]
        params[name] = p
    for name in categorical:
        shares = pd.Series(B[name]).value_counts(normalize=True, dropna=True)
        # Never pool every category (a tiny sample): then no pooling at all.
        pooled = bool(len(shares)) and float(shares.iloc[0]) >= cat_cutoff
        params[name] = {"cat_cutoff": cat_cutoff if pooled else None}
    variables = [*numeric, *categorical]
    process = BinningProcess(
        variable_names=variables,
        categorical_variables=list(categorical) or None,
        min_prebin_size=options.min_bin_size,
        max_n_bins=options.max_n_bins,
        binning_fit_params=params,
        n_jobs=options.n_jobs,
    )
    try:
        with warnings.catch_warnings():
            # optbinning's own pandas deprecation noise; nothing the caller can act on.
            warnings.filterwarnings("ignore", module=r"optbinning(\..*)?$")
            process.fit(B[variables], np.asarray(y))
    except Exception as e:  # optbinning raises bare ValueErrors on odd input
        raise ScoringError(f"binning failed: {e}") from e
    out: dict[str, BinnedCharacteristic] = {}
    for name in variables:
        optb = process.get_binned_variable(name)
        out[name] = _from_optbinning(name, optb, n)
    return out


__all__ = [
    "TREND_ALIASES",
    "BinnedCharacteristic",
    "BinningOptions",
    "Trend",
    "binning_frame",
    "fit_binning",
    "normalise_trend",
    "shrunk_woe",
]
