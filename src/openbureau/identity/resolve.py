"""Resolution: from identity records to clusters of records that are one person.

Pure computation over an Arrow table (no database): the linking job (:mod:`.link`) feeds it
what the store holds and writes back what it decides; the benchmarks call it directly.

1. **Deterministic components**: records sharing a valid national id's keyed HMAC, and records
   a furnisher gives the same customer number (unless that number carries two valid ids),
   are one person; so are pairs an operator accepted.
2. **Probabilistic links** (Splink) score pairs that could add to that — pairs where at least
   one side lacks a valid id.
3. **Constrained clustering**: pairs are taken strongest first and join two clusters only if
   the match probability reaches ``accept``, the pair has evidence beyond name and birth date
   (look-alikes), the clusters do not hold *different valid* national ids, and no operator
   rejected a pair between them. Pairs in ``[review, accept)`` go to the review queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from openbureau.engine import Engine
from openbureau.identity.features import CORROBORATING, bureau_model, feature_sql
from openbureau.identity.model import ModelSpec, TrainedModel, level_weights, train, waterfall

logger = logging.getLogger(__name__)

Pair = tuple[int, int]


@dataclass(frozen=True)
class Thresholds:
    """Match probabilities: link at ``accept`` and above, review in ``[review, accept)``."""

    accept: float = 0.99
    review: float = 0.5


@dataclass
class Edge:
    """A scored pair of records (by record id) with its evidence."""

    a: int
    b: int
    probability: float
    weight: float
    evidence: list[dict[str, Any]]
    corroborated: bool
    decision: str | None = None  # accepted | rejected by an operator


@dataclass
class Resolution:
    """What resolution decided: a cluster label per record, and why."""

    record_ids: npt.NDArray[np.int64]
    cluster: npt.NDArray[np.int64]  # per record: the smallest record id of its cluster
    links: list[Edge]  # probabilistic pairs that joined clusters
    reviews: list[Edge]  # pairs in the review band whose clusters stay apart
    refused: list[Edge]  # strong pairs the guards kept apart
    model: TrainedModel
    pairs_scored: int
    timings: dict[str, float] = field(default_factory=dict)


class _Clusters:
    """Union-find over deterministic components, tracking valid ids and rejected pairs."""

    def __init__(
        self, n: int, valid_ids: list[frozenset[str]], rejected: dict[int, list[tuple[int, int]]]
    ) -> None:
        self.parent = list(range(n))
        self.ids = valid_ids
        self.rejected = rejected  # component -> [(rejection number, side)]

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def conflict(self, a: int, b: int) -> str | None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        if self.ids[ra] and self.ids[rb] and self.ids[ra] != self.ids[rb]:
            return "different valid national ids"
        sides = {k: s for k, s in self.rejected.get(ra, [])}
        for k, s in self.rejected.get(rb, []):
            if k in sides and sides[k] != s:
                return "an operator rejected a link between them"
        return None

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.ids[ra] = self.ids[ra] | self.ids[rb]
        if rb in self.rejected:
            self.rejected.setdefault(ra, []).extend(self.rejected.pop(rb))


def deterministic_components(
    records: pa.Table, accepted: Iterable[Pair] = ()
) -> npt.NDArray[np.int64]:
    """Component number per record row: same valid id, same customer number, accepted pairs."""
    n = records.num_rows
    index = {int(r): i for i, r in enumerate(records.column("unique_id").to_pylist())}
    rows: list[int] = []
    cols: list[int] = []
    valid = pc.equal(records.column("nid_state"), "valid").to_pylist()
    hmac = records.column("national_id_hmac").to_pylist()
    first_of_id: dict[str, int] = {}
    for i, (v, h) in enumerate(zip(valid, hmac, strict=True)):
        if v and h:
            j = first_of_id.setdefault(h, i)
            if j != i:
                rows.append(i)
                cols.append(j)
    # A furnisher's own customer number: one person, unless it carries two valid ids.
    refs: dict[tuple[str, str], list[int]] = {}
    for i, (f, c) in enumerate(
        zip(
            records.column("furnisher_id").to_pylist(),
            records.column("customer_ref").to_pylist(),
            strict=True,
        )
    ):
        if c:
            refs.setdefault((f, c), []).append(i)
    for members in refs.values():
        if len(members) < 2:
            continue
        ids = {hmac[i] for i in members if valid[i] and hmac[i]}
        if len(ids) > 1:
            continue
        for i in members[1:]:
            rows.append(i)
            cols.append(members[0])
    for a, b in accepted:
        if a in index and b in index:
            rows.append(index[a])
            cols.append(index[b])
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    out: npt.NDArray[np.int64] = np.asarray(labels, dtype=np.int64)
    return out


def _decide_ids(records: pa.Table, det: npt.NDArray[np.int64]) -> list[frozenset[str]]:
    out: list[set[str]] = [set() for _ in range(int(det.max()) + 1 if det.size else 0)]
    for d, v, h in zip(
        det.tolist(),
        records.column("nid_state").to_pylist(),
        records.column("national_id_hmac").to_pylist(),
        strict=True,
    ):
        if v == "valid" and h:
            out[d].add(h)
    return [frozenset(s) for s in out]


def resolve(
    records: pa.Table,
    engine: Engine,
    *,
    model: TrainedModel | None = None,
    spec: ModelSpec | None = None,
    thresholds: Thresholds | None = None,
    accepted: Iterable[Pair] = (),
    rejected: Iterable[Pair] = (),
) -> Resolution:
    """Cluster ``records`` into persons.

    Args:
        records: identity records with ``unique_id`` (the record id), ``furnisher_id``,
            ``customer_ref``, ``name``, ``birth_date``, ``phone``, ``address``, ``postcode``,
            ``national_id_hmac``, ``nid_state`` and ``nid_clear`` (decrypted, job-only).
        engine: where Splink scores the pairs.
        model: a trained model to reuse (stable links across runs); trained here when None.
        spec: the model specification (default: :func:`bureau_model`).
        thresholds: accept and review probabilities.
        accepted, rejected: operator decisions as record-id pairs.
    """
    spec = spec or bureau_model()
    thresholds = thresholds or Thresholds()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    accepted = list(accepted)
    rejected_pairs = {(min(a, b), max(a, b)) for a, b in rejected}
    det = deterministic_components(records, accepted)
    records = records.append_column("det", pa.array(det, pa.int64()))
    timings["deterministic_s"] = round(time.perf_counter() - t0, 3)

    import duckdb

    con = duckdb.connect()
    con.register("records", records)
    features = con.sql(feature_sql("records")).arrow()
    if hasattr(features, "read_all"):
        features = features.read_all()
    con.close()
    timings["features_s"] = round(time.perf_counter() - t0 - sum(timings.values()), 3)

    from splink import Linker

    t1 = time.perf_counter()
    if model is None:
        model = train(engine, features, spec)
        timings["train_s"] = round(time.perf_counter() - t1, 3)
    table = engine.register(features, "ob_identity_predict")
    linker = Linker(table, model.for_dialect(spec, engine.dialect), log_level=logging.WARNING)
    t2 = time.perf_counter()
    predictions = linker.inference.predict(
        threshold_match_probability=thresholds.review, warning_mode="never"
    )
    scored = predictions.as_pandas_dataframe()  # type: ignore[no-untyped-call]
    timings["predict_s"] = round(time.perf_counter() - t2, 3)

    t3 = time.perf_counter()
    names = [c.name for c in spec.comparisons]
    weights = level_weights(model.settings)
    scored = scored.sort_values(
        ["match_weight", "unique_id_l", "unique_id_r"], ascending=[False, True, True]
    )
    record_ids = np.asarray(records.column("unique_id").to_numpy(), dtype=np.int64)
    position = {int(r): i for i, r in enumerate(record_ids.tolist())}
    valid_ids = _decide_ids(records, det)
    rejections: dict[int, list[tuple[int, int]]] = {}
    for k, (a, b) in enumerate(sorted(rejected_pairs)):
        if a in position and b in position:
            rejections.setdefault(int(det[position[a]]), []).append((k, 0))
            rejections.setdefault(int(det[position[b]]), []).append((k, 1))
    clusters = _Clusters(len(valid_ids), list(valid_ids), rejections)
    links: list[Edge] = []
    band: list[Edge] = []
    refused: list[Edge] = []
    corroborating = [c for c in CORROBORATING if c in names]
    for row in scored.to_dict("records"):
        a, b = int(row["unique_id_l"]), int(row["unique_id_r"])
        a, b = min(a, b), max(a, b)
        evidence = waterfall(row, weights, names)
        corroborated = not corroborating or any(
            e["agrees"] for e in evidence if e["comparison"] in corroborating
        )
        edge = Edge(
            a,
            b,
            float(row["match_probability"]),
            float(row["match_weight"]),
            evidence,
            corroborated,
        )
        da, db = int(det[position[a]]), int(det[position[b]])
        if (a, b) in rejected_pairs:
            edge.decision = "rejected"
            continue
        if edge.probability >= thresholds.accept and corroborated:
            reason = clusters.conflict(da, db)
            if reason is None:
                if clusters.find(da) != clusters.find(db):
                    clusters.union(da, db)
                    links.append(edge)
            else:
                edge.evidence = [
                    *evidence,
                    {"comparison": "guard", "level": reason, "agrees": False, "match_weight": 0.0},
                ]
                refused.append(edge)
        else:
            band.append(edge)
    # Band pairs already in one cluster need no review; keep the strongest pair per pair of
    # clusters, so one uncertain person is one review item.
    reviews: list[Edge] = []
    seen: set[tuple[int, int]] = set()
    for edge in band:
        ra = clusters.find(int(det[position[edge.a]]))
        rb = clusters.find(int(det[position[edge.b]]))
        if ra == rb:
            continue
        key = (min(ra, rb), max(ra, rb))
        if key in seen:
            continue
        seen.add(key)
        if clusters.conflict(ra, rb) == "different valid national ids":
            continue  # never the same person: nothing to review
        reviews.append(edge)
    roots = np.array([clusters.find(int(d)) for d in det.tolist()], dtype=np.int64)
    # Label each cluster by its smallest record id: stable, independent of row order.
    smallest: dict[int, int] = {}
    for r, rid in zip(roots.tolist(), record_ids.tolist(), strict=True):
        if r not in smallest or rid < smallest[r]:
            smallest[r] = rid
    cluster = np.array([smallest[r] for r in roots.tolist()], dtype=np.int64)
    timings["cluster_s"] = round(time.perf_counter() - t3, 3)
    return Resolution(
        record_ids=record_ids,
        cluster=cluster,
        links=links,
        reviews=reviews,
        refused=refused,
        model=model,
        pairs_scored=len(scored),
        timings=timings,
    )


__all__ = ["Edge", "Pair", "Resolution", "Thresholds", "deterministic_components", "resolve"]
