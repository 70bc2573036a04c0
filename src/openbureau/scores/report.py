"""The HTML report of a registered model (the scoring core renders it).

Discrimination, score distribution and calibration are shown on the out-of-time sample when
the model has one (else on the development sample); stability (PSI of the score and of each
characteristic) compares the development sample with the out-of-time one. With a synthetic
population's truth, the score distribution by the synthetic demographic group and the
adverse-impact ratio at a cut-off are added — the group is never a model input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from openbureau.context import Context
from openbureau.features.asof import AsOf
from openbureau.scores import registry
from openbureau.scores.evaluate import consumer_persons, truth_dir
from openbureau.scores.train import sample


def _groups(ctx: Context, truth: Path, as_of: AsOf, consumers: Any) -> np.ndarray[Any, Any]:
    folder = truth_dir(truth)
    persons = consumer_persons(ctx, folder, as_of)
    people = pq.read_table(folder / "people.parquet", columns=["person_id", "group"])
    group_of = dict(
        zip(people.column("person_id").to_pylist(), people.column("group").to_pylist(), strict=True)
    )
    person_of = {
        c: (p if n == 1 else None)
        for c, p, n in zip(
            persons.column("consumer_id").to_pylist(),
            persons.column("person_id").to_pylist(),
            persons.column("persons").to_pylist(),
            strict=True,
        )
    }
    return np.asarray(
        [group_of.get(person_of.get(c)) if person_of.get(c) else None for c in consumers],
        dtype=object,
    )


def model_report(
    ctx: Context,
    model_id: int,
    *,
    out: Path | None = None,
    truth: Path | None = None,
    cutoff: float | None = None,
) -> Path:
    """Write the model's HTML report; returns its path (default: next to the artifact)."""
    from openbureau.scoring.report import report_data, write_report

    info = registry.get(ctx, model_id)
    model = registry.load(ctx, info)
    dev = sample(ctx, AsOf(info.train_as_of))
    oot = sample(ctx, AsOf(info.validate_as_of)) if info.validate_as_of else None
    shown = oot or dev
    data = report_data(
        model,
        dev.X,
        dev.y,
        title=f"Model {info.id} ({info.kind}) — {'out-of-time' if oot else 'development'} "
        f"sample as of {shown.as_of}",
        X_new=oot.X if oot is not None else None,
    )
    if oot is not None:
        data.y = np.asarray(oot.y, dtype=np.int64)
        data.score = np.asarray(model.predict_score(oot.X), dtype=np.float64)
        data.pd_bad = np.asarray(model.predict_proba(oot.X)[:, 1], dtype=np.float64)
        data.psi_note = (
            f"reference: the development sample as of {dev.as_of}; compared: the out-of-time "
            f"sample as of {oot.as_of}"
        )
    data.facts = [
        ("registry id", str(info.id)),
        ("state", info.state),
        ("trained as of", str(info.train_as_of)),
        ("validated as of", str(info.validate_as_of or "—")),
        ("development rows", f"{len(dev.y):,} (bad rate {dev.bad_rate:.4f})"),
        ("feature set", info.feature_set),
        ("data hash", info.data_hash),
        ("outcome", str(info.training.get("outcome", ""))),
    ]
    if truth is not None:
        data.group = _groups(ctx, truth, shown.as_of, shown.consumer_id)
        data.group_name = "synthetic group (truth)"
        data.cutoff = cutoff
    target = out or registry.artifact_path(ctx, info) / "report.html"
    return write_report(data, target)


__all__ = ["model_report"]
