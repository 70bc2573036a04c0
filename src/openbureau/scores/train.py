"""Training a score model on the bureau's own data, validating it out of time, registering it.

Development sample: every consumer on file at the as-of date ``T`` who is not already bad,
with the features as of ``T`` and the outcome of the 12 months after ``T``
(:mod:`.outcomes`). Out-of-time validation repeats that at a later date. The model comes from
the scoring core — the WoE scorecard (champion) or the monotone GBM (challenger) — with the
monotone direction of each characteristic declared next to its definition
(:mod:`openbureau.features.spec`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from openbureau.context import Context
from openbureau.errors import ModelRegistryError
from openbureau.features.asof import AsOf
from openbureau.features.compute import load_features
from openbureau.features.spec import FEATURES, by_name, feature_set_hash
from openbureau.scores import registry
from openbureau.scores.outcomes import outcomes

logger = logging.getLogger(__name__)

Kind = Literal["scorecard", "gbm"]
GBM_DEFAULTS: dict[str, Any] = {"num_leaves": 7, "min_child_samples": 100, "learning_rate": 0.03}
KINDS: tuple[Kind, ...] = ("scorecard", "gbm")


@dataclass
class Sample:
    """Features and outcomes of the consumers not bad at the as-of date."""

    as_of: AsOf
    consumer_id: np.ndarray[Any, Any]
    X: pd.DataFrame
    y: np.ndarray[Any, Any]
    excluded_bad_now: int

    @property
    def bad_rate(self) -> float:
        return float(self.y.mean()) if len(self.y) else float("nan")


def _frame(table: pa.Table) -> pd.DataFrame:
    return pd.DataFrame(
        {f.name: table.column(f.name).to_numpy(zero_copy_only=False) for f in FEATURES}
    ).astype("float64")


def sample(ctx: Context, as_of: AsOf, *, engine: str = "duckdb") -> Sample:
    """The modelling sample as of ``as_of``: features joined to the bureau's outcomes."""
    feats = load_features(ctx, as_of, engine=engine)
    outs = outcomes(ctx, as_of)
    ids = feats.column("consumer_id").to_pylist()
    index = {c: i for i, c in enumerate(outs.column("consumer_id").to_pylist())}
    bad_now = np.zeros(len(ids), dtype=np.int64)
    bad = np.zeros(len(ids), dtype=np.int64)
    on = outs.column("bad_now").to_numpy()
    o12 = outs.column("bad_12m").to_numpy()
    for i, c in enumerate(ids):
        j = index.get(c)
        if j is not None:
            bad_now[i], bad[i] = on[j], o12[j]
    keep = bad_now == 0
    frame = _frame(feats)[keep].reset_index(drop=True)
    return Sample(
        as_of=as_of,
        consumer_id=np.asarray(ids, dtype=object)[keep],
        X=frame,
        y=bad[keep],
        excluded_bad_now=int((~keep).sum()),
    )


def scorecard_trends() -> dict[str, str]:
    return {f.name: ("auto" if f.risk == "none" else f.risk) for f in FEATURES}


def gbm_constraints() -> dict[str, str]:
    return {f.name: f.risk for f in FEATURES}


def make_model(kind: Kind, **params: Any) -> Any:
    """An unfitted scorecard or GBM with the declared monotone directions."""
    if kind == "scorecard":
        from openbureau.scoring.scorecard import Scorecard

        return Scorecard(monotone=scorecard_trends(), **params)
    if kind == "gbm":
        from openbureau.scoring.gbm import GBMChallenger

        # Small, well-regularised trees: a bureau sample has tens of thousands of rows and a
        # few thousand bads, and every feature already carries its monotone constraint.
        settings = {**GBM_DEFAULTS, **params}
        return GBMChallenger(monotone=gbm_constraints(), infer_monotone=False, **settings)
    raise ModelRegistryError(f"unknown model kind {kind!r}: use scorecard or gbm")


def discrimination(model: Any, s: Sample) -> dict[str, float]:
    from openbureau.scoring import metrics

    score = np.asarray(model.predict_score(s.X), dtype=np.float64)
    out = metrics.discrimination(s.y, -score)
    out.update(rows=float(len(s.y)), bad_rate=s.bad_rate)
    return out


def train(
    ctx: Context,
    as_of: AsOf,
    kind: Kind,
    *,
    validate_as_of: AsOf | None = None,
    engine: str = "duckdb",
    params: dict[str, Any] | None = None,
) -> registry.ModelInfo:
    """Fit a model as of ``as_of``, validate it out of time, register it as a candidate."""
    from openbureau.scoring.monitoring import StabilityMonitor

    ctx.require_initialised()
    if validate_as_of is not None and validate_as_of.cutoff_index <= as_of.cutoff_index:
        raise ModelRegistryError(
            f"the validation date {validate_as_of} must fall after the training date {as_of}"
        )
    t0 = time.perf_counter()
    dev = sample(ctx, as_of, engine=engine)
    if len(np.unique(dev.y)) < 2:
        raise ModelRegistryError(f"the sample as of {as_of} has no bads (or no goods)")
    t1 = time.perf_counter()
    model = make_model(kind, **(params or {}))
    model.fit(dev.X, dev.y)
    t2 = time.perf_counter()
    metrics_: dict[str, Any] = {"development": discrimination(model, dev)}
    training: dict[str, Any] = {
        "snapshot": as_of.key,
        "outcome_snapshot": as_of.months_later(12).key,
        "rows": len(dev.y),
        "bads": int(dev.y.sum()),
        "excluded_bad_now": dev.excluded_bad_now,
        "engine": engine,
        "outcome": "90+ days past due, charged off or collection in the 12 months after",
    }
    if validate_as_of is not None:
        oot = sample(ctx, validate_as_of, engine=engine)
        metrics_["out_of_time"] = discrimination(model, oot)
        metrics_["score_psi"] = float(StabilityMonitor(model).fit(dev.X).score_psi(oot.X))
        training["validation_snapshot"] = validate_as_of.key
        training["validation_rows"] = len(oot.y)
    training["timings"] = {
        "sample_s": round(t1 - t0, 3),
        "fit_s": round(t2 - t1, 3),
        "validate_s": round(time.perf_counter() - t2, 3),
    }
    specs = by_name()
    used = [str(f) for f in model.features_]
    training["monotone"] = {f: specs[f].risk for f in used if f in specs}
    return registry.register(
        ctx,
        model,
        kind=kind,
        train_as_of=as_of.date,
        validate_as_of=validate_as_of.date if validate_as_of else None,
        feature_set=feature_set_hash(),
        training=training,
        metrics=metrics_,
        params=dict(params or {}),
    )


__all__ = [
    "GBM_DEFAULTS",
    "KINDS",
    "Kind",
    "Sample",
    "discrimination",
    "gbm_constraints",
    "make_model",
    "sample",
    "scorecard_trends",
    "train",
]
