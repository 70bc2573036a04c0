"""Scores against the ground truth of a synthetic population (what a real bureau never has).

Consumers map to true persons through the accounts they hold: ``truth/accounts.parquet``
names the person of every ``(furnisher_id, account_id)``. A consumer id whose accounts
belong to several persons is a *mixed file*: it is counted and reported, and left out of the
comparison (its truth is not one person's). The comparison is on the consumers scored at the
as-of date whose person was not already 90+ days past due then (``bad_12m`` is defined):
the model's AUC against the realised outcome, the AUC of the true PD on the same consumers
(the ceiling), and their ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from openbureau.context import Context
from openbureau.errors import ModelRegistryError, TruthError
from openbureau.features import lake
from openbureau.features.asof import AsOf
from openbureau.scores import registry
from openbureau.scores.batch import load_scores


def truth_dir(path: Path) -> Path:
    path = Path(path)
    if (path / "truth").is_dir():
        path = path / "truth"
    for name in ("accounts.parquet", "person_months.parquet"):
        if not (path / name).is_file():
            raise TruthError(f"{path} is not a synthetic population's truth folder ({name})")
    return path


def consumer_persons(ctx: Context, truth: Path, as_of: AsOf) -> pa.Table:
    """``consumer_id, person_id, persons`` (persons > 1: a mixed file) from the snapshot."""
    import duckdb

    files = lake.partition_files(ctx.lake, lake.SNAPSHOT_ACCOUNTS, as_of.key)
    if not files:
        raise ModelRegistryError(f"no snapshot as of {as_of}: run 'openbureau snapshot'")
    accounts = pa.concat_tables(
        [
            pq.read_table(f, columns=["consumer_id", "furnisher_id", "furnisher_account_id"])
            for f in files
        ]
    )
    truth_accounts = pq.read_table(
        truth / "accounts.parquet", columns=["furnisher_id", "account_id", "person_id"]
    )
    con = duckdb.connect()
    try:
        con.register("a", accounts)
        con.register("t", truth_accounts)
        table: pa.Table = con.sql(
            "SELECT a.consumer_id, min(t.person_id) AS person_id, "
            "count(DISTINCT t.person_id) AS persons FROM a JOIN t "
            "ON t.furnisher_id = a.furnisher_id AND t.account_id = a.furnisher_account_id "
            "WHERE a.consumer_id IS NOT NULL GROUP BY a.consumer_id"
        ).to_arrow_table()
    finally:
        con.close()
    return table


@dataclass
class Evaluation:
    as_of: AsOf
    model_id: int
    auc: float
    oracle_auc: float
    ratio: float
    consumers: int
    bads: int
    mixed_consumers: int
    unmatched_consumers: int
    excluded_bad_now: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "auc": self.auc,
            "oracle_auc": self.oracle_auc,
            "ratio": self.ratio,
            "as_of": self.as_of.key,
            "model_id": self.model_id,
            "consumers": self.consumers,
            "bads": self.bads,
            "bad_rate": self.bads / self.consumers if self.consumers else None,
            "mixed_consumers": self.mixed_consumers,
            "unmatched_consumers": self.unmatched_consumers,
            "excluded_bad_now": self.excluded_bad_now,
        }


def evaluate_scores(
    ctx: Context, truth: Path, as_of: AsOf, *, model_id: int | None = None
) -> Evaluation:
    """The approved (or given) model's scores at ``as_of`` against the true outcomes."""
    from openbureau.scoring import metrics

    folder = truth_dir(truth)
    info = registry.get(ctx, model_id) if model_id is not None else registry.approved(ctx)
    scores = load_scores(ctx, as_of, info.id)
    if scores.num_rows == 0:
        raise ModelRegistryError(
            f"no scores of model {info.id} as of {as_of}: run 'openbureau score --as-of {as_of}'"
        )
    persons = consumer_persons(ctx, folder, as_of)
    month = f"{as_of.cutoff_month:%Y-%m}"
    pm = pq.read_table(
        folder / "person_months.parquet",
        columns=["person_id", "month", "pd_12m", "bad_12m"],
        filters=[("month", "=", month)],
    )
    if pm.num_rows == 0:
        raise TruthError(f"the truth has no person-months for {month}")
    import duckdb

    con = duckdb.connect()
    try:
        con.register("s", scores.select(["consumer_id", "score"]))
        con.register("p", persons)
        con.register("m", pm)
        row = con.sql(
            "SELECT count(*) FILTER (WHERE p.persons > 1), "
            "count(*) FILTER (WHERE p.consumer_id IS NULL) FROM s LEFT JOIN p USING (consumer_id)"
        ).fetchall()[0]
        joined: pa.Table = con.sql(
            "SELECT s.score, m.pd_12m, m.bad_12m FROM s JOIN p USING (consumer_id) "
            "JOIN m ON m.person_id = p.person_id WHERE p.persons = 1"
        ).to_arrow_table()
    finally:
        con.close()
    eligible = pc.is_valid(joined.column("bad_12m"))
    excluded = int(joined.num_rows - pc.sum(eligible.cast(pa.int64())).as_py())
    joined = joined.filter(eligible)
    y = np.asarray(joined.column("bad_12m").to_numpy(zero_copy_only=False), dtype=np.int64)
    score = np.asarray(joined.column("score").to_numpy(), dtype=np.float64)
    true_pd = np.asarray(joined.column("pd_12m").to_numpy(zero_copy_only=False), dtype=float)
    auc = metrics.auc(y, -score)
    oracle = metrics.auc(y, true_pd)
    return Evaluation(
        as_of=as_of,
        model_id=info.id,
        auc=auc,
        oracle_auc=oracle,
        ratio=auc / oracle,
        consumers=len(y),
        bads=int(y.sum()),
        mixed_consumers=int(row[0]),
        unmatched_consumers=int(row[1]),
        excluded_bad_now=excluded,
    )


__all__ = ["Evaluation", "consumer_persons", "evaluate_scores", "truth_dir"]
