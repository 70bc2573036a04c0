"""Stability: population stability index (PSI) of the score and of each characteristic."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from openbureau.errors import ScoringInputError
from openbureau.scoring._data import as_frame, canonical_categories, to_float

# Floor for an empty share, so an empty bin adds a large but finite term.
_EPS = 1e-4


def psi_table(expected: Any, actual: Any, *, labels: Any = None) -> pd.DataFrame:
    """PSI per bin from two count (or share) vectors over the same bins."""
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.shape != a.shape:
        raise ScoringInputError("expected and actual must cover the same bins")
    es = np.maximum(e / max(e.sum(), 1e-300), _EPS)
    as_ = np.maximum(a / max(a.sum(), 1e-300), _EPS)
    contrib = (as_ - es) * np.log(as_ / es)
    return pd.DataFrame(
        {
            "bin": list(labels) if labels is not None else list(range(len(e))),
            "expected_count": e,
            "actual_count": a,
            "expected_share": e / max(e.sum(), 1e-300),
            "actual_share": a / max(a.sum(), 1e-300),
            "psi": contrib,
        }
    )


def psi(expected: Any, actual: Any) -> float:
    """PSI from two count vectors over the same bins (< 0.1 stable, > 0.25 shifted)."""
    return float(psi_table(expected, actual)["psi"].sum())


def _edges(values: npt.NDArray[np.float64], n_bins: int) -> npt.NDArray[np.float64]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.array([-np.inf, np.inf])
    inner = np.unique(np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.concatenate([[-np.inf], inner, [np.inf]])


def _counts(values: npt.NDArray[np.float64], edges: npt.NDArray[np.float64]) -> npt.NDArray[Any]:
    """Counts per band plus a last slot for missing values."""
    idx = np.searchsorted(edges[1:-1], values, side="right")
    idx[np.isnan(values)] = len(edges) - 1
    return np.bincount(idx, minlength=len(edges))


def _band_labels(edges: npt.NDArray[np.float64]) -> list[str]:
    return [f"[{lo:.6g}, {hi:.6g})" for lo, hi in pairwise(edges)] + ["Missing"]


class StabilityMonitor(BaseEstimator):  # type: ignore[misc]
    """PSI of a model's score and characteristics between a reference sample and later ones.

    ``fit`` records the reference distributions; :meth:`psi_table` and
    :meth:`characteristic_psi` compare a new sample against them. Score bands are deciles
    of the reference scores; scorecard characteristics use the scorecard's own bins, other
    models' numeric characteristics deciles of the reference, categorical ones their values.
    """

    def __init__(self, model: Any, *, n_bins: int = 10) -> None:
        self.model = model
        self.n_bins = n_bins

    def fit(self, X: Any) -> StabilityMonitor:
        from openbureau.scoring.scorecard import Scorecard

        frame = as_frame(X)
        score = np.asarray(self.model.predict_score(frame), dtype=np.float64)
        self.score_edges_ = _edges(score, self.n_bins)
        self.score_counts_ = _counts(score, self.score_edges_)
        self.features_ = [str(f) for f in self.model.features_]
        self.is_scorecard_ = isinstance(self.model, Scorecard)
        self.reference_: dict[str, Any] = {}
        if self.is_scorecard_:
            slots = self.model.compile().slots(frame)
            for j, ch in enumerate(self.model.compile().characteristics):
                self.reference_[ch.name] = np.bincount(slots[:, j], minlength=ch.n_bins + 3)
        else:
            for f in self.features_:
                if f in getattr(self.model, "categorical_", []):
                    cats = pd.Series(canonical_categories(frame[f])).fillna("(missing)")
                    self.reference_[f] = cats.value_counts()
                else:
                    values = to_float(frame[f])
                    edges = _edges(values, self.n_bins)
                    self.reference_[f] = (edges, _counts(values, edges))
        self.n_reference_ = len(frame)
        return self

    def psi_table(self, X: Any) -> pd.DataFrame:
        """Score PSI per band for a new sample."""
        check_is_fitted(self, "score_edges_")
        score = np.asarray(self.model.predict_score(as_frame(X)), dtype=np.float64)
        actual = _counts(score, self.score_edges_)
        table = psi_table(self.score_counts_, actual, labels=_band_labels(self.score_edges_))
        return table[(table["expected_count"] > 0) | (table["actual_count"] > 0)].reset_index(
            drop=True
        )

    def score_psi(self, X: Any) -> float:
        return float(self.psi_table(X)["psi"].sum())

    def characteristic_psi(self, X: Any) -> pd.DataFrame:
        """One row per characteristic: its PSI between the reference and ``X``."""
        check_is_fitted(self, "score_edges_")
        frame = as_frame(X)
        rows = []
        if self.is_scorecard_:
            compiled = self.model.compile()
            slots = compiled.slots(frame)
            for j, ch in enumerate(compiled.characteristics):
                actual = np.bincount(slots[:, j], minlength=ch.n_bins + 3)
                expected = self.reference_[ch.name]
                keep = (expected > 0) | (actual > 0)
                rows.append({"characteristic": ch.name, "psi": psi(expected[keep], actual[keep])})
        else:
            for f in self.features_:
                ref = self.reference_[f]
                if isinstance(ref, pd.Series):
                    cats = pd.Series(canonical_categories(frame[f])).fillna("(missing)")
                    now = cats.value_counts()
                    index = ref.index.union(now.index)
                    value = psi(ref.reindex(index, fill_value=0), now.reindex(index, fill_value=0))
                else:
                    edges, expected = ref
                    actual = _counts(to_float(frame[f]), edges)
                    keep = (expected > 0) | (actual > 0)
                    value = psi(expected[keep], actual[keep])
                rows.append({"characteristic": f, "psi": value})
        out = pd.DataFrame(rows)
        out["status"] = np.select(
            [out["psi"] < 0.1, out["psi"] < 0.25], ["stable", "watch"], default="shifted"
        )
        return out


__all__ = ["StabilityMonitor", "psi", "psi_table"]
