"""Bring your own data: read any credit table, find the target, cross-validate a model.

What ``openbureau model fit-table`` runs; usable from notebooks too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from openbureau.errors import ScoringInputError
from openbureau.scoring._data import canonical_category
from openbureau.scoring.metrics import discrimination

logger = logging.getLogger(__name__)

ModelKind = Literal["scorecard", "gbm"]

# Labels that mean "bad" whatever the dataset calls its target.
_BAD_WORDS = frozenset(
    {
        "1",
        "bad",
        "yes",
        "y",
        "true",
        "t",
        "default",
        "defaulted",
        "charged off",
        "charged-off",
        "chargeoff",
        "delinquent",
        "event",
        "positive",
        "fraud",
        "late",
    }
)
_GOOD_WORDS = frozenset(
    {"0", "good", "no", "n", "false", "f", "paid", "fully paid", "current", "negative"}
)


def read_table(path: Path, *, sep: str | None = None, header: bool = True) -> pd.DataFrame:
    """Read CSV (any common separator, sniffed) or Parquet.

    Without a header the columns are named ``col1 … colN``.
    """
    path = Path(path)
    if not path.exists():
        raise ScoringInputError(f"no such file: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if sep is None:
            with path.open("r", encoding="utf-8", errors="replace") as fh:
                first = fh.readline()
            if "," in first:
                sep = ","
            elif "\t" in first:
                sep = "\t"
            elif ";" in first:
                sep = ";"
            elif "|" in first:
                sep = "|"
            else:
                sep = r"\s+"
        frame = pd.read_csv(
            path,
            sep=sep,
            header=0 if header else None,
            engine="python" if len(sep) > 1 else "c",
            na_values=["NA", "N/A", "NaN", "nan", "null", "NULL", "", "?"],
            keep_default_na=True,
        )
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise ScoringInputError(f"cannot read {path}: {e}") from e
    if not header:
        frame.columns = [f"col{i + 1}" for i in range(frame.shape[1])]
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise ScoringInputError(f"{path} has no rows")
    return frame


@dataclass(frozen=True)
class Target:
    """``y`` (1 = bad) for the rows in ``keep`` (rows whose target is present)."""

    y: npt.NDArray[np.int64]
    keep: npt.NDArray[np.bool_]
    bad_value: str
    how: str
    dropped_rows: int


def _norm(value: Any) -> str:
    return re.sub(r"\s+", " ", canonical_category(value).lower())


def prepare_target(column: pd.Series, *, bad_value: Any = None) -> Target:
    """Turn a target column into 0/1 (1 = bad) and say which value was taken as bad.

    With ``bad_value`` every other value is good. Without it the column must have two
    values: 0/1 → 1 is bad; else a value that reads as bad ("bad", "yes", "default"…)
    opposite one that reads as good; else the minority class.
    """
    labels = column.map(lambda v: None if pd.isna(v) else _norm(v))
    missing = int(labels.isna().sum())
    labels = labels.dropna()
    values = sorted(set(labels.tolist()))
    if bad_value is not None:
        bad = _norm(bad_value)
        if bad not in values:
            raise ScoringInputError(
                f"--bad-value {bad_value!r} does not occur in the target; values: {values[:10]}"
            )
        how = "given"
    else:
        if len(values) != 2:
            raise ScoringInputError(
                f"the target has {len(values)} distinct values {values[:10]}: it must have two, "
                "or say which one is bad with --bad-value"
            )
        a, b = values
        if {a, b} == {"0", "1"}:
            bad, how = "1", "0/1 target: 1 is bad"
        elif (a in _BAD_WORDS) != (b in _BAD_WORDS) and (a in _GOOD_WORDS) != (b in _GOOD_WORDS):
            bad = a if a in _BAD_WORDS else b
            how = f"the label {bad!r} reads as bad"
        else:
            counts = labels.value_counts()
            if counts[a] == counts[b]:
                raise ScoringInputError(
                    f"cannot tell which of {a!r} and {b!r} is bad: use --bad-value"
                )
            bad = str(counts.idxmin())
            how = f"minority class {bad!r} taken as bad"
    y = (labels == bad).to_numpy().astype(np.int64)
    if y.min() == y.max():
        raise ScoringInputError("the target has one class only after mapping: need goods and bads")
    keep = column.notna().to_numpy()
    return Target(y=y, keep=keep, bad_value=bad, how=how, dropped_rows=missing)


def make_model(kind: ModelKind, *, seed: int = 0, exclude: Sequence[str] = ()) -> Any:
    from openbureau.scoring.gbm import GBMChallenger
    from openbureau.scoring.scorecard import Scorecard

    if kind == "scorecard":
        return Scorecard(exclude=tuple(exclude))
    if kind == "gbm":
        return GBMChallenger(exclude=tuple(exclude), random_state=seed)
    raise ScoringInputError(f"unknown model kind {kind!r}: scorecard or gbm")


@dataclass
class CVResult:
    """Cross-validated discrimination plus what the report needs."""

    kind: str
    folds: int
    auc_per_fold: list[float]
    ks_per_fold: list[float]
    gini_per_fold: list[float]
    oof_score: npt.NDArray[np.float64]
    oof_pd: npt.NDArray[np.float64]
    y: npt.NDArray[np.int64]
    score_psi_per_fold: list[float] = field(default_factory=list)
    first_fold_psi: pd.DataFrame | None = None
    characteristic_psi: pd.DataFrame | None = None

    @property
    def auc(self) -> float:
        return float(np.mean(self.auc_per_fold))

    @property
    def ks(self) -> float:
        return float(np.mean(self.ks_per_fold))

    @property
    def gini(self) -> float:
        return float(np.mean(self.gini_per_fold))

    def summary(self) -> dict[str, Any]:
        return {
            "auc": self.auc,
            "ks": self.ks,
            "gini": self.gini,
            "folds": self.folds,
            "auc_per_fold": list(self.auc_per_fold),
            "ks_per_fold": list(self.ks_per_fold),
            "gini_per_fold": list(self.gini_per_fold),
        }


def cross_validate(
    X: pd.DataFrame,
    y: npt.NDArray[np.int64],
    *,
    kind: ModelKind = "scorecard",
    folds: int = 5,
    seed: int = 0,
    exclude: Sequence[str] = (),
) -> CVResult:
    """Stratified k-fold: fit on k−1 folds, score the held-out one; PSI train vs held-out."""
    from sklearn.model_selection import StratifiedKFold

    from openbureau.scoring.monitoring import StabilityMonitor

    if folds < 2:
        raise ScoringInputError("need at least 2 folds")
    if np.bincount(y, minlength=2).min() < folds:
        raise ScoringInputError(f"fewer bads or goods than folds ({folds})")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    oof_score = np.full(len(y), np.nan)
    oof_pd = np.full(len(y), np.nan)
    aucs, kss, ginis, psis = [], [], [], []
    char_psi: list[pd.DataFrame] = []
    first_psi = None
    for k, (tr, te) in enumerate(splitter.split(X, y)):
        model = make_model(kind, seed=seed, exclude=exclude)
        model.fit(X.iloc[tr], y[tr])
        test = X.iloc[te]
        oof_score[te] = model.predict_score(test)
        p = model.predict_proba(test)[:, 1]
        oof_pd[te] = p
        d = discrimination(y[te], p)
        aucs.append(d["auc"])
        kss.append(d["ks"])
        ginis.append(d["gini"])
        monitor = StabilityMonitor(model).fit(X.iloc[tr])
        table = monitor.psi_table(test)
        psis.append(float(table["psi"].sum()))
        if k == 0:
            first_psi = table
        char_psi.append(monitor.characteristic_psi(test).assign(fold=k + 1))
        logger.info("fold %d/%d: AUC %.4f", k + 1, folds, d["auc"])
    cp = pd.concat(char_psi, ignore_index=True)
    cp = (
        cp.groupby("characteristic", sort=False)["psi"]
        .agg(["mean", "max", "count"])
        .rename(columns={"mean": "psi_mean", "max": "psi_max", "count": "folds_used"})
        .reset_index()
    )
    return CVResult(
        kind=kind,
        folds=folds,
        auc_per_fold=aucs,
        ks_per_fold=kss,
        gini_per_fold=ginis,
        oof_score=oof_score,
        oof_pd=oof_pd,
        y=y,
        score_psi_per_fold=psis,
        first_fold_psi=first_psi,
        characteristic_psi=cp,
    )


@dataclass
class FitTableResult:
    cv: CVResult
    target: Target
    n_rows: int
    n_columns: int
    report: Path | None

    def summary(self) -> dict[str, Any]:
        out = self.cv.summary()
        out.update(
            {
                "kind": self.cv.kind,
                "rows": self.n_rows,
                "bad_rate": float(self.cv.y.mean()),
                "bad_value": self.target.bad_value,
                "bad_value_rule": self.target.how,
                "rows_without_target": self.target.dropped_rows,
                "report": str(self.report) if self.report else None,
            }
        )
        return out


def fit_table(
    data: Path,
    target: str,
    *,
    kind: ModelKind = "scorecard",
    folds: int = 5,
    seed: int = 0,
    bad_value: Any = None,
    group: str | None = None,
    cutoff: float | None = None,
    exclude: Sequence[str] = (),
    report: Path | None = None,
    sep: str | None = None,
    header: bool = True,
) -> FitTableResult:
    """Read a table, cross-validate a model on it and (optionally) write the HTML report.

    The report shows out-of-fold scores (every row scored by a model that did not see it),
    the bins of a final model fitted on every row, and PSI between the training folds and
    the held-out fold.
    """
    frame = read_table(data, sep=sep, header=header)
    for name in (target, group):
        if name is not None and name not in frame.columns:
            raise ScoringInputError(
                f"no column {name!r} in {data}; columns: {list(frame.columns)[:30]}"
            )
    t = prepare_target(frame[target], bad_value=bad_value)
    frame = frame.loc[t.keep].reset_index(drop=True)
    groups = frame[group].to_numpy(dtype=object) if group else None
    drop = [target, *([group] if group else [])]
    X = frame.drop(columns=drop)
    skip = [c for c in exclude if c in X.columns]
    cv = cross_validate(X, t.y, kind=kind, folds=folds, seed=seed, exclude=skip)
    written = None
    if report is not None:
        from openbureau.scoring.report import ReportData, write_report

        final = make_model(kind, seed=seed, exclude=skip).fit(X, t.y)
        fold_table = pd.DataFrame(
            {
                "fold": np.arange(1, folds + 1),
                "auc": cv.auc_per_fold,
                "ks": cv.ks_per_fold,
                "gini": cv.gini_per_fold,
                "score_psi_train_vs_held_out": cv.score_psi_per_fold,
            }
        )
        rd = ReportData(
            title=f"{kind} on {Path(data).name}: {folds}-fold cross-validation",
            model=final,
            y=t.y,
            score=cv.oof_score,
            pd_bad=cv.oof_pd,
            facts=[
                ("data", str(Path(data).name)),
                ("target", f"{target} (bad = {t.bad_value!r}: {t.how})"),
                ("rows without target (dropped)", str(t.dropped_rows)),
                ("columns offered", str(X.shape[1])),
                ("folds, seed", f"{folds}, {seed}"),
                ("scores shown", "out-of-fold: each row scored by the model that did not see it"),
                ("bins shown", "final model fitted on every row"),
            ],
            folds=fold_table,
            score_psi=cv.first_fold_psi,
            characteristic_psi=cv.characteristic_psi,
            psi_note="reference: training folds; compared: held-out fold (score bands of fold 1;"
            " per characteristic: mean and max over folds)",
            group=groups,
            group_name=group or "group",
            cutoff=cutoff,
        )
        written = write_report(rd, report)
    return FitTableResult(cv=cv, target=t, n_rows=len(X), n_columns=X.shape[1], report=written)


__all__ = [
    "CVResult",
    "FitTableResult",
    "ModelKind",
    "Target",
    "cross_validate",
    "fit_table",
    "make_model",
    "prepare_target",
    "read_table",
]
