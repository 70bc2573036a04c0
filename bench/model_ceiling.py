"""How much of the true PD's AUC the features can carry at all: a diagnostic that, unlike
every product path, trains on the synthetic truth.

    python bench/model_ceiling.py [--seeds 0 1 2] [--consumers 20000] [--months 36]
                                  [--cache /tmp/openbureau-model-quality] [--no-raw]
                                  [--label-draws N] [--ablate] [--importance]

On the populations that ``bench/model_quality.py`` prepares (same cache), with the features
of the current definitions, it prints the ratio of AUC to the true PD's AUC at the two
evaluation dates for

* ``bureau outcome``: the GBM challenger itself trained as of the training date on the
  bureau's own 12-month outcome (what ``model train --kind gbm`` does);
* ``truth's own outcome``: the challenger trained on the consumers of the truth (one person
  each) with the 12-month outcome that happened in the synthetic world — against ``bureau
  outcome``, what the bureau's sample and outcome lose between the truth and the file;
* ``true PD's outcomes`` (with ``--label-draws N``): the challenger trained on the consumers
  of the truth with outcomes drawn afresh from their true PD, N times — the noise every
  12-month yes/no outcome carries and nothing more (no linking, furnishing or exclusion
  losses): the mean, spread and best of the N ratios say what the bureau's one outcome can
  give at this population size;
* ``true PD``: the challenger's LightGBM set-up (its bag, monotone constraints
  included) trained as of the training date on the *true* PD as a soft label — no label
  noise, the same out-of-time gap;
* ``true PD, in time``: an unconstrained GBM trained on the true PD at the evaluation date
  itself, scored by 2-fold cross-fitting — no label noise and no time gap, so roughly the
  most these features can tell about the true PD;
* ``true PD, + raw history``: the ``true PD`` set-up (unconstrained) with, beside the
  features, the raw columns below, trained as of the training date: the most any model
  trained on that date could carry, label noise aside;
* ``+ raw history``: the in-time row with, beside the features, some 580 columns built directly
  from the raw data held on that date (``_raw_history.py``: 24 months of account state and
  payments month by month, account habits, spending mix and amounts) — whether the raw data
  tell more about the true PD than the features do. With ``--ablate``, also that row without
  each group of raw columns; ``--importance`` prints the top raw columns by gain.

If the last rows sit near or below a target, no training change can reach it: the
features lack the information.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _raw_history import GROUPS, raw_history
from model_quality import dates, prepare
from openbureau.config import Settings
from openbureau.context import Context
from openbureau.features.asof import AsOf
from openbureau.features.compute import load_features
from openbureau.features.spec import FEATURES, feature_names
from openbureau.scores.evaluate import consumer_persons
from openbureau.scores.train import GBM_DEFAULTS, make_model, sample
from openbureau.scoring.gbm import train_bag
from openbureau.synth import SynthConfig

_DIRECTION = {"increasing": 1, "decreasing": -1, "none": 0}


def _truth_frame(ctx: Context, truth: Path, as_of: AsOf) -> pd.DataFrame:
    """Features of the consumers that are one person, with that person's truth."""
    feats = load_features(ctx, as_of).to_pandas()
    persons = consumer_persons(ctx, truth, as_of).to_pandas()
    persons = persons[persons.persons == 1]
    pm = pq.read_table(
        truth / "person_months.parquet",
        columns=["person_id", "pd_12m", "bad_12m"],
        filters=[("month", "=", f"{as_of.cutoff_month:%Y-%m}")],
    ).to_pandas()
    df = feats.merge(persons[["consumer_id", "person_id"]], on="consumer_id").merge(
        pm, on="person_id"
    )
    # in the order of the population's person ids, not of the home's keyed consumer ids
    return df[df.bad_12m.notna()].sort_values("person_id", ignore_index=True)


def _params(monotone: bool, objective: str, columns: int | None = None) -> dict[str, Any]:
    risk = {f.name: f.risk for f in FEATURES}
    constraints = [_DIRECTION[risk[f]] if monotone else 0 for f in feature_names()]
    return {
        "objective": objective,
        "learning_rate": GBM_DEFAULTS["learning_rate"],
        "num_leaves": GBM_DEFAULTS["num_leaves"],
        "min_data_in_leaf": GBM_DEFAULTS["min_child_samples"],
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "monotone_constraints": constraints if columns is None else [0] * columns,
        "monotone_constraints_method": "intermediate",
        "seed": 0,
        "deterministic": True,
        "num_threads": 1,
        "verbosity": -1,
    }


def _fit(
    frame: pd.DataFrame,
    y: np.ndarray[Any, Any],
    params: dict[str, Any],
    columns: list[str] | None = None,
) -> Any:
    """LightGBM as the challenger trains it (``train_bag``), on any label: for a soft one
    (the true PD) the folds are stratified on its upper and lower half."""
    import lightgbm as lgb

    m = frame[columns or feature_names()].to_numpy(float)
    strata = (y > np.median(y)) if params["objective"] == "cross_entropy" else y
    data = lgb.Dataset(m, y, free_raw_data=False)
    booster, _ = train_bag(params, data, strata, folds=5, max_rounds=2000, patience=100, seed=0)
    return booster


def _ratio(df: pd.DataFrame, score: np.ndarray[Any, Any]) -> float:
    from sklearn.metrics import roc_auc_score

    y = df.bad_12m.astype(int)
    return float(roc_auc_score(y, score) / roc_auc_score(y, df.pd_12m))


def _cross(df: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray[Any, Any], pd.Series]:
    """Unconstrained GBM on the true PD, scored by 2-fold cross-fitting; gain per column."""
    m = df[columns].to_numpy(float)
    fold = np.arange(len(df)) % 2 == 0
    cross = np.zeros(len(df))
    gain = pd.Series(0.0, index=columns)
    for part in (fold, ~fold):
        params = _params(False, "cross_entropy", len(columns))
        b = _fit(df[part], df.pd_12m[part].to_numpy(float), params, columns)
        cross[~part] = b.predict(m[~part], raw_score=True)
        gain += b.feature_importance(importance_type="gain")
    return cross, gain


RAW = "true PD, in time, + raw history"
RAW_AT_TRAINING = "true PD, + raw history"


def ceiling(
    cache: Path,
    config: SynthConfig,
    *,
    raw: bool = True,
    ablate: bool = False,
    label_draws: int = 0,
) -> tuple[dict[str, list[float]], list[pd.Series]]:
    population, base = prepare(cache, config)
    work = cache / f"ceiling-n{config.consumers}-m{config.months}-s{config.seed}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base, work)
    train_at, _, evaluate = dates(config)
    truth = population / "truth"
    names = feature_names()
    gains: list[pd.Series] = []
    ctx = Context(Settings(home=work))
    try:
        frames = {d.key: _truth_frame(ctx, truth, d) for d in evaluate}
        dev = sample(ctx, train_at)
        bureau = make_model("gbm").fit(dev.X, dev.y)
        t0 = _truth_frame(ctx, truth, train_at)
        realised = make_model("gbm").fit(t0[names], t0.bad_12m.to_numpy(np.int64))
        drawn = []
        for k in range(label_draws):
            outcome = np.random.default_rng(k).random(len(t0)) < t0.pd_12m.to_numpy(float)
            drawn.append(make_model("gbm").fit(t0[names], outcome.astype(np.int64)))
        oracle = _fit(t0, t0.pd_12m.to_numpy(float), _params(True, "cross_entropy"))
        rows: dict[str, list[float]] = {
            "bureau outcome": [],
            "truth's own outcome": [],
            "true PD": [],
            "true PD, in time": [],
        }
        raw_oracle, raw_columns = None, []
        if raw:  # a perfect label and every raw column, at the date a model can be trained on
            extra0 = raw_history(ctx, train_at)
            raw_columns = names + list(extra0.columns)
            t0r = t0.merge(extra0, left_on="consumer_id", right_index=True, how="left")
            params = _params(False, "cross_entropy", len(raw_columns))
            raw_oracle = _fit(t0r, t0r.pd_12m.to_numpy(float), params, raw_columns)
        for d in evaluate:
            df = frames[d.key]
            m = df[names].to_numpy(float)
            rows["bureau outcome"].append(_ratio(df, bureau.decision_function(df[names])))
            rows["truth's own outcome"].append(_ratio(df, realised.decision_function(df[names])))
            if drawn:
                ratios = [_ratio(df, g.decision_function(df[names])) for g in drawn]
                head = f"true PD's outcomes ×{len(drawn)}"
                rows.setdefault(f"{head}: mean", []).append(float(np.mean(ratios)))
                rows.setdefault(f"{head}: sd", []).append(float(np.std(ratios, ddof=1)))
                rows.setdefault(f"{head}: best", []).append(float(np.max(ratios)))
            rows["true PD"].append(_ratio(df, oracle.predict(m, raw_score=True)))
            rows["true PD, in time"].append(_ratio(df, _cross(df, names)[0]))
            if not raw:
                continue
            extra = raw_history(ctx, d)
            df = df.merge(extra, left_on="consumer_id", right_index=True, how="left")
            at_d = df.reindex(columns=raw_columns).to_numpy(float)  # a column absent: missing
            rows.setdefault(RAW_AT_TRAINING, []).append(
                _ratio(df, raw_oracle.predict(at_d, raw_score=True))
            )
            cross, gain = _cross(df, names + list(extra.columns))
            rows.setdefault(RAW, []).append(_ratio(df, cross))
            gains.append(gain / gain.sum())
            if not ablate:
                continue
            for prefix, group in GROUPS.items():
                kept = [c for c in extra.columns if not c.startswith(prefix)]
                score = _cross(df, names + kept)[0]
                rows.setdefault(f"  − {group}", []).append(_ratio(df, score))
    finally:
        ctx.close()
    return rows, gains


def _importance(gains: list[pd.Series], top: int = 15) -> str:
    """Gain shares averaged over the cells: the top raw columns and every group's total."""
    share = pd.concat(gains, axis=1).mean(axis=1)
    group = {
        c: next((g for p, g in GROUPS.items() if c.startswith(p)), "features") for c in share.index
    }
    lines = ["gain share by group (mean over cells):"]
    for g, v in share.groupby(group).sum().sort_values(ascending=False).items():
        lines.append(f"  {g:<18} {v:.3f}")
    lines.append(f"top {top} raw columns by gain share:")
    new = share[[group[c] != "features" for c in share.index]].sort_values(ascending=False)
    lines.extend(f"  {c:<34} {v:.4f}" for c, v in new.head(top).items())
    lines.append(f"top {top} features by gain share:")
    old = share[[group[c] == "features" for c in share.index]].sort_values(ascending=False)
    lines.extend(f"  {c:<34} {v:.4f}" for c, v in old.head(top).items())
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--consumers", type=int, default=20_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/openbureau-model-quality"))
    ap.add_argument("--no-raw", action="store_true", help="skip the raw-history rows")
    ap.add_argument("--ablate", action="store_true", help="also drop each raw group in turn")
    ap.add_argument("--importance", action="store_true", help="print the top raw columns")
    ap.add_argument(
        "--label-draws", type=int, default=0, help="train on N outcome draws from the true PD"
    )
    args = ap.parse_args()
    import logging

    logging.basicConfig(level=logging.ERROR)
    args.cache.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    gains: list[pd.Series] = []
    for seed in args.seeds:
        config = SynthConfig(consumers=args.consumers, months=args.months, seed=seed)
        keys = [d.key[:7] for d in dates(config)[2]]
        if not lines:
            lines.append(f"{'population':<11} {'GBM trained on':<32} " + "  ".join(keys))
        rows, cell_gains = ceiling(
            args.cache,
            config,
            raw=not args.no_raw,
            ablate=args.ablate,
            label_draws=args.label_draws,
        )
        gains.extend(cell_gains)
        for name, ratios in rows.items():
            cells = "  ".join(f"{r:.4f} " for r in ratios)
            lines.append(f"seed {seed:<6} {name:<32} {cells}")
        print(*lines[-len(rows) :], sep="\n", file=sys.stderr, flush=True)  # progress
    print("\n".join(lines))
    if args.importance and gains:
        print(_importance(gains))


if __name__ == "__main__":
    main()
