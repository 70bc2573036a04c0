"""Cross-validated AUC on the four public credit datasets, ours vs peers on the same folds.

    python bench/fit_table_quality.py [--folds 5] [--seed 0] [--repeats 1]

Per dataset and fold (StratifiedKFold, shuffled, same seed for everyone):
  * OpenBureau scorecard and GBM with their defaults (what ``model fit-table`` runs);
  * a plain untuned ``lightgbm.LGBMClassifier()`` (text columns as pandas categories, the
    minimum it needs to run);
  * optbinning's default ``BinningProcess`` + ``Scorecard`` with ``LogisticRegression()``.
The data are read and the target mapped by the same code as ``fit-table``. Nothing here is
tuned to these datasets; the defaults are chosen on principle (docs/scoring.md).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from openbureau.scoring.gbm import GBMChallenger
from openbureau.scoring.metrics import auc
from openbureau.scoring.scorecard import Scorecard
from openbureau.scoring.table import prepare_target, read_table

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

DATASETS: dict[str, dict[str, Any]] = {
    "german": {"file": "german/germancredit_labelled.csv", "target": "creditability"},
    "hmeq": {"file": "hmeq/hmeq.csv", "target": "BAD"},
    "lending_club": {"file": "lending_club/loan_data.csv", "target": "default"},
    "australian": {"file": "australian/australian.dat", "target": "col15", "header": False},
}


def load(name: str) -> tuple[pd.DataFrame, np.ndarray]:
    spec = DATASETS[name]
    frame = read_table(DATA / spec["file"], header=spec.get("header", True))
    target = prepare_target(frame[spec["target"]])
    X = frame.loc[target.keep].drop(columns=[spec["target"]]).reset_index(drop=True)
    return X, target.y


def untuned_lightgbm(Xtr: pd.DataFrame, ytr: np.ndarray, Xte: pd.DataFrame) -> np.ndarray:
    import lightgbm as lgb

    def prep(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for c in out.columns:
            if not pd.api.types.is_numeric_dtype(out[c]):
                out[c] = pd.Categorical(out[c], categories=sorted(Xtr[c].dropna().unique()))
        return out

    model = lgb.LGBMClassifier(verbose=-1).fit(prep(Xtr), ytr)
    return np.asarray(model.predict_proba(prep(Xte))[:, 1])


def optbinning_default(Xtr: pd.DataFrame, ytr: np.ndarray, Xte: pd.DataFrame) -> np.ndarray:
    from optbinning import BinningProcess
    from optbinning import Scorecard as OptbinningScorecard
    from sklearn.linear_model import LogisticRegression

    cats = [c for c in Xtr.columns if not pd.api.types.is_numeric_dtype(Xtr[c])]
    process = BinningProcess(list(Xtr.columns), categorical_variables=cats or None)
    model = OptbinningScorecard(binning_process=process, estimator=LogisticRegression())
    model.fit(Xtr, ytr)
    return np.asarray(model.predict_proba(Xte)[:, 1])


def ours(kind: str, seed: int) -> Any:
    def run(Xtr: pd.DataFrame, ytr: np.ndarray, Xte: pd.DataFrame) -> np.ndarray:
        model = Scorecard() if kind == "scorecard" else GBMChallenger(random_state=seed)
        return np.asarray(model.fit(Xtr, ytr).predict_proba(Xte)[:, 1])

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="repeat CV with seeds seed…")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from sklearn.model_selection import StratifiedKFold

    methods = {
        "ours scorecard": ours("scorecard", args.seed),
        "optbinning default": optbinning_default,
        "ours GBM": ours("gbm", args.seed),
        "untuned LightGBM": untuned_lightgbm,
    }
    results: dict[str, dict[str, list[float]]] = {}
    cpu: dict[str, dict[str, float]] = {}
    for name in args.datasets:
        X, y = load(name)
        results[name] = {m: [] for m in methods}
        cpu[name] = dict.fromkeys(methods, 0.0)
        for r in range(args.repeats):
            splitter = StratifiedKFold(args.folds, shuffle=True, random_state=args.seed + r)
            for tr, te in splitter.split(X, y):
                for m, fn in methods.items():
                    t0 = time.process_time()
                    p = fn(X.iloc[tr], y[tr], X.iloc[te])
                    cpu[name][m] += time.process_time() - t0
                    results[name][m].append(auc(y[te], p))
        print(f"{name}: done", flush=True)

    print()
    print(
        f"Cross-validated AUC, {args.folds}-fold stratified × {args.repeats} "
        f"(seed {args.seed}), same folds for every method; mean (std over folds)"
    )
    header = f"{'dataset':<14}{'rows':>7}" + "".join(f"{m:>22}" for m in methods)
    print(header + f"{'scorecard Δ':>13}{'GBM Δ':>9}")
    for name in args.datasets:
        X, _ = load(name)
        cells = "".join(f"{np.mean(v):>14.4f} ({np.std(v):.3f})" for v in results[name].values())
        res = {m: float(np.mean(v)) for m, v in results[name].items()}
        d_sc = res["ours scorecard"] - res["optbinning default"]
        d_gbm = res["ours GBM"] - res["untuned LightGBM"]
        print(f"{name:<14}{len(X):>7}{cells}{d_sc:>+13.4f}{d_gbm:>+9.4f}")
    print()
    print("CPU seconds for all folds (time.process_time):")
    for name in args.datasets:
        print(f"{name:<14}" + "".join(f"{m}: {cpu[name][m]:.1f}   " for m in methods))


if __name__ == "__main__":
    main()
