"""The champion: a WoE-binned logistic scorecard scaled to points.

Fit: screen columns (constant, ID-like and date columns are dropped with a reason) → bin
each characteristic with optbinning (missing values and special codes in bins of their own,
rare categories pooled, the monotone trend asked for) → weights of evidence shrunk towards
neutral for small bins → drop characteristics with too little information value → logistic
regression on the WoE, dropping any characteristic whose coefficient comes out with the
wrong sign (more evidence of good must never cost points) → points.

Every characteristic's bins and points are in :meth:`Scorecard.points_table`; scoring
returns the points of each characteristic, from which reason codes are made.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from openbureau.errors import ScoringError, ScoringInputError
from openbureau.scoring._data import (
    FloatArray,
    IntArray,
    as_frame,
    binary_target,
    canonical_rows,
    screen_columns,
)
from openbureau.scoring.binning import (
    BinnedCharacteristic,
    BinningOptions,
    binning_frame,
    fit_binning,
)
from openbureau.scoring.compiled import DEFAULT_CHUNK_ROWS, CompiledScorecard
from openbureau.scoring.scaling import Scaling

logger = logging.getLogger(__name__)


class Scorecard(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """WoE logistic scorecard with points (default 300–850, 20 points double the odds).

    Args:
        monotone: direction of *risk* per characteristic: ``"increasing"`` (more is
            riskier), ``"decreasing"``, ``"monotone"`` (either, chosen from the data),
            ``"auto"`` (optbinning's automatic trend, which may be a peak or valley) or
            ``"none"``. Characteristics not named use ``default_trend``.
        default_trend: trend for characteristics not in ``monotone``.
        categorical: columns to treat as categorical even if numeric (codes).
        special_codes: per characteristic, values that mean "special" (e.g. ``-1`` for
            "no account of this kind"); they get a bin of their own.
        exclude: columns never used (the target, a group column, keys).
        min_iv: characteristics with a lower information value are dropped
            (0.02: "not useful for prediction" in the usual reading).
        min_bin_size: smallest bin as a share of the rows (optbinning's pre-bin size).
        max_n_bins: at most this many bins per characteristic (None: no limit).
        cat_cutoff: categories rarer than this share are pooled into "other"
            (None: 1 %, and never fewer than 30 rows).
        C: inverse L2 regularisation of the logistic regression.
        pdo, base_score, base_odds, min_score, max_score: points scaling (:class:`Scaling`).
        n_jobs: parallel binning jobs (optbinning).
    """

    def __init__(
        self,
        *,
        monotone: Mapping[str, Any] | None = None,
        default_trend: str = "auto",
        categorical: Sequence[str] | None = None,
        special_codes: Mapping[str, Sequence[float]] | None = None,
        exclude: Sequence[str] = (),
        min_iv: float = 0.02,
        min_bin_size: float = 0.05,
        max_n_bins: int | None = None,
        cat_cutoff: float | None = None,
        C: float = 1.0,
        pdo: float = 20.0,
        base_score: float = 600.0,
        base_odds: float = 50.0,
        min_score: float = 300.0,
        max_score: float = 850.0,
        n_jobs: int | None = None,
    ) -> None:
        self.monotone = monotone
        self.default_trend = default_trend
        self.categorical = categorical
        self.special_codes = special_codes
        self.exclude = exclude
        self.min_iv = min_iv
        self.min_bin_size = min_bin_size
        self.max_n_bins = max_n_bins
        self.cat_cutoff = cat_cutoff
        self.C = C
        self.pdo = pdo
        self.base_score = base_score
        self.base_odds = base_odds
        self.min_score = min_score
        self.max_score = max_score
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> Scorecard:
        """Bin, select, regress and scale. ``y`` is 0/1 with 1 = bad."""
        from sklearn.linear_model import LogisticRegression

        frame = as_frame(X)
        target = binary_target(y)
        if len(frame) != len(target):
            raise ScoringInputError(f"X has {len(frame)} rows but y has {len(target)}")
        frame, target, digest = canonical_rows(frame, target)
        scaling = Scaling(
            pdo=self.pdo,
            base_score=self.base_score,
            base_odds=self.base_odds,
            min_score=self.min_score,
            max_score=self.max_score,
        )
        screening = screen_columns(frame, categorical=self.categorical, exclude=self.exclude)
        dropped = dict(screening.dropped)
        candidates = [*screening.numeric, *screening.categorical]
        if not candidates:
            raise ScoringInputError(f"no usable characteristic; dropped: {dropped}")
        B = binning_frame(frame, screening.numeric, screening.categorical)
        options = BinningOptions(
            monotone=self.monotone,
            default_trend=self.default_trend,
            special_codes=self.special_codes,
            min_bin_size=self.min_bin_size,
            max_n_bins=self.max_n_bins,
            cat_cutoff=self.cat_cutoff,
            n_jobs=self.n_jobs,
        )
        binned = fit_binning(B, target, screening.numeric, screening.categorical, options)
        # Column order of the frame, so the model does not depend on dtype grouping.
        order = [str(c) for c in frame.columns if str(c) in binned]
        ivs = {name: binned[name].iv for name in order}

        selected = [name for name in order if ivs[name] >= self.min_iv]
        for name in order:
            if name not in selected:
                dropped[name] = f"low information value: IV {ivs[name]:.4f} < {self.min_iv}"
        if not selected:
            best = max(order, key=lambda n: ivs[n])
            dropped.pop(best, None)
            selected = [best]
            logger.warning("no characteristic reaches IV %.3f; keeping the strongest", self.min_iv)

        woe = {name: self._woe_column(binned[name], B[name]) for name in selected}
        while True:
            matrix = np.column_stack([woe[n] for n in selected])
            # Few columns, many rows: Newton steps on the Cholesky of the Hessian converge in a
            # handful of iterations, where lbfgs needs dozens of passes over the data.
            lr = LogisticRegression(C=self.C, solver="newton-cholesky", max_iter=100)
            lr.fit(matrix, target)
            coef = lr.coef_.ravel()
            # WoE is ln(good share / bad share): a positive coefficient on P(bad) means
            # better evidence costs points — a sign flip from collinearity. Drop the
            # weakest such characteristic and refit.
            wrong = [n for n, c in zip(selected, coef, strict=True) if c > 0]
            if not wrong or len(selected) == 1:
                break
            worst = min(wrong, key=lambda n: ivs[n])
            dropped[worst] = (
                "coefficient with the wrong sign (collinear with stronger characteristics)"
            )
            selected.remove(worst)

        intercept = float(lr.intercept_[0])
        k = len(selected)
        # score = offset − factor·(b0 + Σ bⱼ·woeⱼ); the constant part is shared evenly.
        shift = (scaling.offset - scaling.factor * intercept) / k
        characteristics = []
        for name, c in zip(selected, coef, strict=True):
            b = binned[name]
            points = -scaling.factor * float(c) * b.woe + shift
            characteristics.append(b.compile(points.tolist()))

        self.scaling_ = scaling
        self.binned_ = {name: binned[name] for name in order}
        self.information_value_ = ivs
        self.features_ = selected
        self.coef_ = dict(zip(selected, (float(c) for c in coef), strict=True))
        self.intercept_ = intercept
        self.dropped_ = dropped
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.classes_ = np.array([0, 1])
        self.compiled_ = CompiledScorecard(tuple(characteristics), scaling)
        self.data_hash_ = digest
        self.n_train_ = len(frame)
        self.bad_rate_ = float(target.mean())
        self.fitted_at_ = datetime.now(UTC).isoformat(timespec="seconds")
        return self

    @staticmethod
    def _woe_column(b: BinnedCharacteristic, values: Any) -> FloatArray:
        return b.woe[b.slots(values)]

    # -------------------------------------------------------------- scoring
    def predict_score(self, X: Any, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> FloatArray:
        """Points per row, clipped to ``[min_score, max_score]``."""
        check_is_fitted(self, "compiled_")
        return self.compiled_.score(X, chunk_rows=chunk_rows)

    def predict_raw_score(self, X: Any, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> FloatArray:
        """Unclipped points: the exact sum of the characteristics' points."""
        check_is_fitted(self, "compiled_")
        return self.compiled_.raw_score(X, chunk_rows=chunk_rows)

    def predict_proba(self, X: Any) -> FloatArray:
        """``[[P(good), P(bad)], …]`` implied by the unclipped points."""
        check_is_fitted(self, "compiled_")
        bad = self.compiled_.proba(X)
        return np.column_stack([1.0 - bad, bad])

    def predict(self, X: Any) -> IntArray:
        """1 (bad) where P(bad) ≥ 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def predict_points(self, X: Any) -> pd.DataFrame:
        """Points of every characteristic per row (columns in model order)."""
        check_is_fitted(self, "compiled_")
        points = self.compiled_.points(X)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(points, columns=self.features_, index=index)

    # ---------------------------------------------------------- visibility
    def points_table(self) -> pd.DataFrame:
        """Every characteristic's bins with counts, bad rate, WoE, IV and points."""
        check_is_fitted(self, "compiled_")
        frames = []
        for ch in self.compiled_.characteristics:
            t = self.binned_[ch.name].table()
            t["coefficient"] = self.coef_[ch.name]
            t["points"] = np.asarray(ch.slot_points)
            t["max_points"] = ch.max_points
            if ch.kind == "numeric":
                t = t[t["bin"] != "-"]  # numeric characteristics have no unseen-category slot
            frames.append(t)
        return pd.concat(frames, ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """One row per candidate characteristic: IV, trend, used or why dropped."""
        check_is_fitted(self, "compiled_")
        rows = []
        for name in self.feature_names_in_:
            b = self.binned_.get(str(name))
            rows.append(
                {
                    "characteristic": str(name),
                    "kind": b.kind if b else None,
                    "n_bins": b.n_bins if b else None,
                    "iv": b.iv if b else None,
                    "risk_trend": b.risk_trend if b else None,
                    "used": str(name) in self.coef_,
                    "coefficient": self.coef_.get(str(name)),
                    "dropped_reason": self.dropped_.get(str(name)),
                }
            )
        return pd.DataFrame(rows)

    def compile(self) -> CompiledScorecard:
        """The lookup tables that score (see :mod:`openbureau.scoring.compiled`)."""
        check_is_fitted(self, "compiled_")
        return self.compiled_

    # ------------------------------------------------------------- artifact
    def to_dict(self) -> dict[str, Any]:
        """Everything needed to score and to show the model; JSON-safe (see artifacts)."""
        check_is_fitted(self, "compiled_")
        return {
            "params": _json_params(self.get_params()),
            "features": list(self.features_),
            "feature_names_in": [str(c) for c in self.feature_names_in_],
            "coefficients": dict(self.coef_),
            "intercept": self.intercept_,
            "dropped": dict(self.dropped_),
            "information_value": dict(self.information_value_),
            "bins": [b.to_dict() for b in self.binned_.values()],
            "compiled": self.compiled_.to_dict(),
            "data_hash": self.data_hash_,
            "n_train": self.n_train_,
            "bad_rate": self.bad_rate_,
            "fitted_at": self.fitted_at_,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scorecard:
        """A fitted scorecard from :meth:`to_dict` output (scores are bit-identical)."""
        try:
            model = cls(**data["params"])
            model.compiled_ = CompiledScorecard.from_dict(data["compiled"])
            model.scaling_ = model.compiled_.scaling
            model.features_ = [str(f) for f in data["features"]]
            model.feature_names_in_ = np.asarray(data["feature_names_in"], dtype=object)
            model.n_features_in_ = len(model.feature_names_in_)
            model.coef_ = {str(k): float(v) for k, v in data["coefficients"].items()}
            model.intercept_ = float(data["intercept"])
            model.dropped_ = {str(k): str(v) for k, v in data["dropped"].items()}
            model.information_value_ = {
                str(k): float(v) for k, v in data["information_value"].items()
            }
            model.binned_ = {b["name"]: BinnedCharacteristic.from_dict(b) for b in data["bins"]}
            model.classes_ = np.array([0, 1])
            model.data_hash_ = str(data["data_hash"])
            model.n_train_ = int(data["n_train"])
            model.bad_rate_ = float(data["bad_rate"])
            model.fitted_at_ = str(data["fitted_at"])
        except (KeyError, TypeError, ValueError, ScoringError) as e:
            raise ScoringError(f"not a valid scorecard document: {e}") from e
        if model.compiled_.features != model.features_:
            raise ScoringError("scorecard document is inconsistent: features differ")
        return model


def _json_params(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            out[key] = {
                str(k): (list(v) if isinstance(v, (list, tuple)) else v) for k, v in value.items()
            }
        elif isinstance(value, (list, tuple)):
            out[key] = list(value)
        else:
            out[key] = value
    return out


__all__ = ["Scorecard"]
