"""Reason codes: the characteristics that cost a consumer the most points.

Scorecard: a characteristic's cost is the most points it can give minus the points the
consumer received. GBM: its SHAP contribution to the log-odds of bad, in points (the same
scaling factor), counted only when it raises the risk. Up to four reasons per score, largest
cost first; ties go to the characteristic listed first in the model, so the same file
always gets the same reasons. Each reason carries a stable code and a sentence fit for an
adverse-action notice, from a registry keyed by characteristic name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from openbureau.errors import ScoringError
from openbureau.scoring._data import FloatArray, as_frame, humanise, to_float

MAX_REASONS = 4


@dataclass(frozen=True)
class ReasonText:
    """The code and sentences for one characteristic."""

    code: str
    text: str
    missing_text: str | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason a score is not higher."""

    rank: int
    code: str
    feature: str
    text: str
    points_lost: float
    missing: bool


class ReasonRegistry:
    """Reason texts keyed by characteristic name, with a generic fallback.

    The fallback code is ``X`` + five hex digits of the name's SHA-256, so it never changes
    for a name; the fallback sentence is "<description> is a risk factor".
    """

    def __init__(
        self,
        entries: Mapping[str, ReasonText] | None = None,
        descriptions: Mapping[str, str] | None = None,
    ) -> None:
        self._entries: dict[str, ReasonText] = dict(entries or {})
        self._descriptions: dict[str, str] = dict(descriptions or {})

    def register(self, feature: str, code: str, text: str, missing_text: str | None = None) -> None:
        self._entries[feature] = ReasonText(code=code, text=text, missing_text=missing_text)

    def describe(self, feature: str, description: str) -> None:
        self._descriptions[feature] = description

    def description(self, feature: str) -> str:
        return self._descriptions.get(feature) or humanise(feature)

    def lookup(self, feature: str) -> ReasonText:
        entry = self._entries.get(feature)
        if entry is not None:
            return entry
        desc = self.description(feature)
        digest = hashlib.sha256(feature.encode()).hexdigest()[:5].upper()
        return ReasonText(
            code=f"X{digest}",
            text=f"{desc} is a risk factor",
            missing_text=f"No information reported on {desc[:1].lower() + desc[1:]}",
        )

    def text(self, feature: str, *, missing: bool) -> str:
        entry = self.lookup(feature)
        if missing:
            if entry.missing_text:
                return entry.missing_text
            desc = self.description(feature)
            return f"No information reported on {desc[:1].lower() + desc[1:]}"
        return entry.text

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": {k: asdict(v) for k, v in sorted(self._entries.items())},
            "descriptions": dict(sorted(self._descriptions.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReasonRegistry:
        try:
            entries = {str(k): ReasonText(**v) for k, v in data.get("entries", {}).items()}
        except TypeError as e:
            raise ScoringError(f"invalid reason registry: {e}") from e
        return cls(entries, {str(k): str(v) for k, v in data.get("descriptions", {}).items()})

    @classmethod
    def from_json(cls, path: Path) -> ReasonRegistry:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as e:
            raise ScoringError(f"cannot read reason registry {path}: {e}") from e

    def merged(self, other: ReasonRegistry) -> ReasonRegistry:
        """This registry with ``other``'s entries taking precedence."""
        data = self.to_dict()
        more = other.to_dict()
        data["entries"].update(more["entries"])
        data["descriptions"].update(more["descriptions"])
        return ReasonRegistry.from_dict(data)


# Texts for the usual bureau characteristics, in the families lenders know. The feature
# pipeline registers its own names (docs/scoring.md); these codes never change meaning.
_DEFAULT_ENTRIES: dict[str, tuple[str, str, str | None]] = {
    # payment history
    "num_delinquencies": ("P01", "Number of accounts with late payments", None),
    "worst_status": ("P02", "Serious delinquency on one or more accounts", None),
    "months_since_last_delinquency": (
        "P03",
        "Too recent a late payment",
        "No information on the timing of late payments",
    ),
    "num_derogatory": ("P04", "Derogatory public record or collection filed", None),
    "num_charge_offs": ("P05", "Account charged off or sent to collection", None),
    # amounts owed
    "utilisation": ("A01", "Proportion of balances to credit limits is too high", None),
    "utilization": ("A01", "Proportion of balances to credit limits is too high", None),
    "total_balance": ("A02", "Amount owed on accounts is too high", None),
    "debt_to_income": ("A03", "Debt is too high relative to income", None),
    "num_accounts_with_balance": ("A04", "Too many accounts with balances", None),
    # length of history
    "oldest_account_months": (
        "L01",
        "Length of credit history is too short",
        "Insufficient credit history",
    ),
    "average_account_age_months": ("L02", "Accounts are too new on average", None),
    # new credit
    "num_inquiries": ("N01", "Too many recent inquiries for credit", None),
    "num_accounts_opened_recent": ("N02", "Too many accounts opened recently", None),
    # credit mix
    "num_accounts": ("M01", "Too few accounts paid as agreed", None),
    # payment behaviour
    "spending_volatility": ("B01", "Spending varies too much from month to month", None),
    "income_regularity": ("B02", "Income-like payments are irregular", None),
    "share_high_risk_spending": ("B03", "High share of spending in high-risk categories", None),
    "days_since_last_activity": ("B04", "No recent payment activity", None),
}


def default_registry() -> ReasonRegistry:
    """The built-in reason texts (see ``_DEFAULT_ENTRIES``)."""
    return ReasonRegistry(
        {k: ReasonText(code=c, text=t, missing_text=m) for k, (c, t, m) in _DEFAULT_ENTRIES.items()}
    )


def _costs(model: Any, X: Any) -> tuple[list[str], FloatArray, npt.NDArray[np.bool_]]:
    """Points lost per row and characteristic, and where the value was missing."""
    from openbureau.scoring.gbm import GBMChallenger
    from openbureau.scoring.scorecard import Scorecard

    if isinstance(model, Scorecard):
        compiled = model.compile()
        points = compiled.points(X)
        slots = compiled.slots(X)
        missing = slots == np.array([c.missing for c in compiled.characteristics])
        return compiled.features, compiled.max_points()[None, :] - points, missing
    if isinstance(model, GBMChallenger):
        contrib = model.contributions(X)[model.features_].to_numpy()
        frame = as_frame(X)
        missing = np.column_stack(
            [
                frame[f].isna().to_numpy()
                if f in model.categorical_
                else np.isnan(to_float(frame[f]))
                for f in model.features_
            ]
        )
        # Only risk-increasing contributions are reasons; in points via the scaling factor.
        return list(model.features_), model.scaling_.factor * np.maximum(contrib, 0.0), missing
    raise ScoringError(f"no reason codes for a {type(model).__name__}")


def _top(costs: FloatArray, max_reasons: int, min_points: float) -> npt.NDArray[np.int64]:
    """Column indices of the largest costs per row (−1 = no reason); ties → earlier column."""
    order = np.argsort(-costs, axis=1, kind="stable")[:, :max_reasons]
    picked = np.take_along_axis(costs, order, axis=1)
    return np.where(picked > min_points, order, -1).astype(np.int64)


def reasons_frame(
    model: Any,
    X: Any,
    *,
    max_reasons: int = MAX_REASONS,
    registry: ReasonRegistry | None = None,
    min_points: float = 1e-6,
) -> pd.DataFrame:
    """Columns ``reason_code_i``, ``reason_feature_i``, ``reason_points_i`` (i = 1…max)."""
    features, costs, _ = _costs(model, X)
    reg = registry or default_registry()
    top = _top(costs, max_reasons, min_points)
    codes = np.array([reg.lookup(f).code for f in features] + [None], dtype=object)
    names = np.array([*features, None], dtype=object)
    out: dict[str, Any] = {}
    for i in range(top.shape[1]):
        col = top[:, i]
        out[f"reason_code_{i + 1}"] = codes[col]
        out[f"reason_feature_{i + 1}"] = names[col]
        pts = np.where(col >= 0, costs[np.arange(len(col)), np.maximum(col, 0)], np.nan)
        out[f"reason_points_{i + 1}"] = pts
    index = X.index if isinstance(X, pd.DataFrame) else None
    return pd.DataFrame(out, index=index)


def reason_codes(
    model: Any,
    X: Any,
    *,
    max_reasons: int = MAX_REASONS,
    registry: ReasonRegistry | None = None,
    min_points: float = 1e-6,
) -> list[list[Reason]]:
    """Per row, up to ``max_reasons`` reasons with code and sentence, largest cost first.

    Two characteristics that share a code give one reason (the costlier one).
    """
    features, costs, missing = _costs(model, X)
    reg = registry or default_registry()
    # Look every characteristic up once, not once per row.
    codes = [reg.lookup(f).code for f in features]
    texts = [reg.text(f, missing=False) for f in features]
    missing_texts = [reg.text(f, missing=True) for f in features]
    # With repeated codes more candidates are needed, as duplicates are skipped.
    width = max_reasons if len(set(codes)) == len(codes) else costs.shape[1]
    top = _top(costs, width, min_points)
    picked = np.take_along_axis(costs, np.maximum(top, 0), axis=1).tolist()
    was_missing = np.take_along_axis(missing, np.maximum(top, 0), axis=1).tolist()
    result: list[list[Reason]] = []
    for cols, lost, miss in zip(top.tolist(), picked, was_missing, strict=True):
        reasons: list[Reason] = []
        seen: set[str] = set()
        for j, cost, is_missing in zip(cols, lost, miss, strict=True):
            if j < 0 or len(reasons) == max_reasons:
                break
            if codes[j] in seen:
                continue
            seen.add(codes[j])
            reasons.append(
                Reason(
                    rank=len(reasons) + 1,
                    code=codes[j],
                    feature=features[j],
                    text=missing_texts[j] if is_missing else texts[j],
                    points_lost=cost,
                    missing=is_missing,
                )
            )
        result.append(reasons)
    return result


__all__ = [
    "MAX_REASONS",
    "Reason",
    "ReasonRegistry",
    "ReasonText",
    "default_registry",
    "reason_codes",
    "reasons_frame",
]
