"""Discrimination, calibration and adverse impact.

Conventions: ``y`` is 1 for bad; ``risk`` is any number that grows with risk (a
probability of bad, log-odds, or minus the points). Scores in points go the other way:
pass ``-score`` or use the ``*_from_score`` helpers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from openbureau.errors import ScoringInputError


def _check(y: Any, risk: Any) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    yy = np.asarray(y).astype(np.int64)
    rr = np.asarray(risk, dtype=np.float64)
    if yy.shape != rr.shape or yy.ndim != 1:
        raise ScoringInputError("y and risk must be 1-D and of the same length")
    if not (np.any(yy == 1) and np.any(yy == 0)):
        raise ScoringInputError("need both goods and bads to measure discrimination")
    return yy, rr


def auc(y: Any, risk: Any) -> float:
    """Area under the ROC curve (ties count one half)."""
    from sklearn.metrics import roc_auc_score

    yy, rr = _check(y, risk)
    return float(roc_auc_score(yy, rr))


def gini(y: Any, risk: Any) -> float:
    """Accuracy ratio: 2·AUC − 1."""
    return 2.0 * auc(y, risk) - 1.0


def roc(y: Any, risk: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """False-positive and true-positive rates (bads caught) over all thresholds."""
    from sklearn.metrics import roc_curve

    yy, rr = _check(y, risk)
    fpr, tpr, _ = roc_curve(yy, rr)
    return np.asarray(fpr, dtype=np.float64), np.asarray(tpr, dtype=np.float64)


def ks(y: Any, risk: Any) -> float:
    """Kolmogorov–Smirnov: the largest gap between the bads' and goods' cumulative shares."""
    fpr, tpr = roc(y, risk)
    return float(np.max(tpr - fpr))


def ks_curve(y: Any, risk: Any) -> pd.DataFrame:
    """Cumulative share of bads and goods by risk threshold (for the KS plot)."""
    yy, rr = _check(y, risk)
    order = np.argsort(-rr, kind="stable")
    ys = yy[order]
    return pd.DataFrame(
        {
            "risk": rr[order],
            "share_of_population": np.arange(1, len(ys) + 1) / len(ys),
            "cum_bads": np.cumsum(ys) / ys.sum(),
            "cum_goods": np.cumsum(1 - ys) / (1 - ys).sum(),
        }
    )


def discrimination(y: Any, risk: Any) -> dict[str, float]:
    a = auc(y, risk)
    return {"auc": a, "ks": ks(y, risk), "gini": 2 * a - 1}


def score_bands(score: Any, n_bands: int = 10) -> npt.NDArray[np.float64]:
    """Band edges at score quantiles (unique, outer edges open)."""
    s = np.asarray(score, dtype=np.float64)
    inner = np.unique(np.quantile(s, np.linspace(0, 1, n_bands + 1)[1:-1]))
    return np.concatenate([[-np.inf], inner, [np.inf]])


def calibration_table(
    y: Any, pd_bad: Any, score: Any, *, bands: Any = None, n_bands: int = 10
) -> pd.DataFrame:
    """Observed vs predicted bad rate by score band (lowest scores first)."""
    yy = np.asarray(y).astype(np.int64)
    p = np.asarray(pd_bad, dtype=np.float64)
    s = np.asarray(score, dtype=np.float64)
    edges = np.asarray(bands, dtype=np.float64) if bands is not None else score_bands(s, n_bands)
    idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for b in range(len(edges) - 1):
        mask = idx == b
        n = int(mask.sum())
        if n == 0:
            continue
        observed = float(yy[mask].mean())
        predicted = float(p[mask].mean())
        rows.append(
            {
                "band": f"[{edges[b]:.0f}, {edges[b + 1]:.0f})",
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "count": n,
                "bads": int(yy[mask].sum()),
                "observed_bad_rate": observed,
                "predicted_bad_rate": predicted,
                "ratio": observed / predicted if predicted > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows)


def adverse_impact_table(
    score: Any, group: Any, cutoff: float, *, reference: Any = None
) -> pd.DataFrame:
    """Approval rate (score ≥ cutoff) per group and its ratio to the reference group.

    The reference is the group with the highest approval rate unless given. A ratio under
    0.8 fails the usual four-fifths rule and is flagged.
    """
    s = np.asarray(score, dtype=np.float64)
    g = pd.Series(np.asarray(group, dtype=object)).fillna("(missing)").astype(str).to_numpy()
    if len(s) != len(g):
        raise ScoringInputError("score and group must have the same length")
    rows = []
    for name in sorted(set(g.tolist())):
        mask = g == name
        rows.append(
            {
                "group": name,
                "count": int(mask.sum()),
                "mean_score": float(s[mask].mean()),
                "approval_rate": float((s[mask] >= cutoff).mean()),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    if reference is None:
        ref_rate = float(table["approval_rate"].max())
    else:
        match = table.loc[table["group"] == str(reference), "approval_rate"]
        if match.empty:
            raise ScoringInputError("the reference group does not occur")
        ref_rate = float(match.iloc[0])
    table["adverse_impact_ratio"] = table["approval_rate"] / ref_rate if ref_rate > 0 else np.nan
    table["below_four_fifths"] = table["adverse_impact_ratio"] < 0.8
    return table


__all__ = [
    "adverse_impact_table",
    "auc",
    "calibration_table",
    "discrimination",
    "gini",
    "ks",
    "ks_curve",
    "roc",
    "score_bands",
]
