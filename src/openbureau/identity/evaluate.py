"""Measuring links against ground truth: pairwise precision/recall/F1, mixed and fragmented files.

* **precision**: of the record pairs put in one file, the share that are one true person;
* **recall**: of the record pairs that are one true person, the share put in one file;
* **mixed-file rate**: the share of consumer ids holding records of more than one person —
  the worst error a bureau makes;
* **fragmentation rate**: the share of true persons spread over more than one consumer id.

Only records present both in the links and in the truth are counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from openbureau.context import Context
from openbureau.errors import TruthError


@dataclass(frozen=True)
class IdentityMetrics:
    records: int
    persons: int
    consumers: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    f1: float
    mixed_files: int
    mixed_file_rate: float
    fragmented_persons: int
    fragmentation_rate: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def metrics(links: pa.Table, truth: pa.Table) -> IdentityMetrics:
    """``links``: (key, consumer_id); ``truth``: (key, person_id); ``key`` any join column."""
    con = duckdb.connect()
    con.register("links", links)
    con.register("truth", truth)
    con.execute(
        "CREATE TABLE j AS SELECT l.consumer_id AS c, t.person_id AS p "
        "FROM links l JOIN truth t USING (key) WHERE l.consumer_id IS NOT NULL"
    )
    row = con.execute(
        "WITH cell AS (SELECT c, p, count(*) AS n FROM j GROUP BY c, p), "
        "byc AS (SELECT c, sum(n) AS n, count(*) AS persons FROM cell GROUP BY c), "
        "byp AS (SELECT p, sum(n) AS n, count(*) AS files FROM cell GROUP BY p) "
        "SELECT (SELECT count(*) FROM j), (SELECT count(*) FROM byp), (SELECT count(*) FROM byc),"
        " (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM byp),"
        " (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM byc),"
        " (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM cell),"
        " (SELECT count(*) FILTER (WHERE persons > 1) FROM byc),"
        " (SELECT count(*) FILTER (WHERE files > 1) FROM byp)"
    ).fetchone()
    con.close()
    assert row is not None
    records, persons, consumers, true_pairs, pred_pairs, correct, mixed, fragmented = (
        int(v) for v in row
    )
    precision = correct / pred_pairs if pred_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return IdentityMetrics(
        records=records,
        persons=persons,
        consumers=consumers,
        true_pairs=true_pairs,
        predicted_pairs=pred_pairs,
        correct_pairs=correct,
        precision=precision,
        recall=recall,
        f1=f1,
        mixed_files=mixed,
        mixed_file_rate=mixed / consumers if consumers else 0.0,
        fragmented_persons=fragmented,
        fragmentation_rate=fragmented / persons if persons else 0.0,
    )


def read_truth(truth_dir: Path) -> pa.Table:
    """``truth/accounts.parquet`` as (key, person_id), key = ``furnisher_id/account_id``."""
    path = Path(truth_dir)
    if (path / "truth").is_dir():
        path = path / "truth"
    file = path / "accounts.parquet"
    if not file.is_file():
        raise TruthError(f"{file} not found: pass the truth folder of a synthetic population")
    try:
        table = pq.read_table(file, columns=["furnisher_id", "account_id", "person_id"])
    except (OSError, pa.ArrowInvalid, KeyError) as e:
        raise TruthError(f"{file} is not a truth accounts table: {e}") from e
    return _keyed(table, "person_id")


def _keyed(table: pa.Table, value: str) -> pa.Table:
    import pyarrow.compute as pc

    key = pc.binary_join_element_wise(table.column("furnisher_id"), table.column("account_id"), "/")
    return pa.table({"key": key, value: table.column(value)})


def evaluate_store(ctx: Context, truth_dir: Path) -> IdentityMetrics:
    """Compare the links held in the credit file with a synthetic population's truth."""
    from sqlalchemy import text

    ctx.require_initialised()
    truth = read_truth(truth_dir)
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT furnisher_id, furnisher_account_id, consumer_id FROM identity_records")
        ).all()
    links = pa.table(
        {
            "furnisher_id": pa.array([r[0] for r in rows], pa.string()),
            "account_id": pa.array([r[1] for r in rows], pa.string()),
            "consumer_id": pa.array([r[2] for r in rows], pa.string()),
        }
    )
    return metrics(_keyed(links, "consumer_id"), truth)


__all__ = ["IdentityMetrics", "evaluate_store", "metrics", "read_truth"]
