"""FEBRL benchmark: OpenBureau's linker next to Splink's example and recordlinkage's ECM.

    python bench/identity_febrl.py [--data ../shared/data/febrl]

Two tasks on the public FEBRL data (true links: records sharing the number in ``rec_id``):
linking dataset 4a to 4b (5,000 true pairs) and deduplicating dataset 3. Three methods, run
here in the same process on the same data:

* **OpenBureau**: the bureau's model construction (:class:`~openbureau.identity.model.ModelSpec`
  with the same comparison kinds, deterministic u sample, prior from deterministic rules, EM)
  configured for FEBRL's columns; pairs at its accept threshold (0.99) and at 0.5.
* **Splink example**: the "detailed model" of Splink's own FEBRL4 demo (NameComparison,
  DateOfBirthComparison, Damerau-Levenshtein on soc_sec_id and postcode, exact street number,
  term frequencies), and of its FEBRL3 demo for deduplication.
* **recordlinkage**: blocking on given name or surname, the comparison vector of its
  unsupervised-learning example (exact/Jaro-Winkler >= 0.85), ECM classifier.

Metrics are pairwise precision, recall and F1 of the predicted links.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
from rich.console import Console
from rich.table import Table

from openbureau.engine import open_engine
from openbureau.identity.model import Comparison, ModelSpec, train

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "febrl"
Pairs = set[tuple[str, str]]


def read(path: Path) -> pa.Table:
    con = duckdb.connect()
    rel = con.sql(f"SELECT * FROM read_csv('{path}', all_varchar = true, header = true)")
    cols = {c: c.strip() for c in rel.columns}
    out = con.sql(
        "SELECT "
        + ", ".join(f"nullif(trim(\"{c}\"), '') AS {n}" for c, n in cols.items())
        + " FROM rel"
    ).arrow()
    return out.read_all() if hasattr(out, "read_all") else out


def entity(rec_id: str) -> str:
    return rec_id.split("-")[1]


def true_pairs(*tables: pa.Table, link: bool) -> Pairs:
    if link:
        a = {entity(r): r for r in tables[0].column("rec_id").to_pylist()}
        return {(a[entity(r)], r) for r in tables[1].column("rec_id").to_pylist() if entity(r) in a}
    groups: dict[str, list[str]] = {}
    for r in tables[0].column("rec_id").to_pylist():
        groups.setdefault(entity(r), []).append(r)
    return {(min(x, y), max(x, y)) for g in groups.values() for x in g for y in g if x < y}


def score(predicted: Pairs, truth: Pairs) -> tuple[float, float, float]:
    tp = len(predicted & truth)
    p = tp / len(predicted) if predicted else 1.0
    r = tp / len(truth) if truth else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _norm(pairs: list[tuple[str, str]], link: bool) -> Pairs:
    return {(a, b) if link else (min(a, b), max(a, b)) for a, b in pairs}


# --- OpenBureau ----------------------------------------------------------------------------

FEATURES = (
    "SELECT unique_id, rec_id, src, given_name AS given, surname, "
    "coalesce(given_name, '') || coalesce(surname, '') AS n_fwd, "
    "coalesce(surname, '') || coalesce(given_name, '') AS n_rot, "
    "CASE WHEN regexp_full_match(date_of_birth, '\\d{8}') THEN date_of_birth END AS dob, "
    "CASE WHEN regexp_full_match(date_of_birth, '\\d{8}') AND substr(date_of_birth, 7, 2) "
    "<= '12' THEN substr(date_of_birth, 1, 4) || substr(date_of_birth, 7, 2) || "
    "substr(date_of_birth, 5, 2) END AS dob_swap, "
    "soc_sec_id AS soc, street_number, address_1, suburb, postcode, state FROM recs"
)


def febrl_model(link: bool) -> ModelSpec:
    """The bureau's model construction, configured for FEBRL's columns."""
    return ModelSpec(
        comparisons=(
            Comparison("name", "name", ("n_fwd", "n_rot")),
            Comparison("birth_date", "date", ("dob", "dob_swap")),
            Comparison("soc_sec_id", "id", ("soc", "soc")),
            Comparison("street_number", "code", ("street_number",)),
            Comparison("address", "text", ("address_1",)),
            Comparison("suburb", "text", ("suburb",)),
            Comparison("postcode", "digits", ("postcode",)),
            Comparison("state", "code", ("state",)),
        ),
        blocking=(
            "l.dob = r.dob",
            "l.soc = r.soc",
            "l.given = r.given AND l.surname = r.surname",
            "l.given = r.surname AND l.surname = r.given",
            "l.postcode = r.postcode",
            "l.address_1 = r.address_1",
        ),
        restrict=("l.src <> r.src",) if link else (),
        em_blocking=("l.dob = r.dob", "l.postcode = r.postcode"),
        deterministic=(
            "l.soc = r.soc",
            "l.given = r.given AND l.surname = r.surname AND l.dob = r.dob",
        ),
        u_max_pairs=1e6,
        em_max_pairs=None,
    )


def openbureau(tables: list[pa.Table], link: bool) -> dict[str, Pairs]:
    from splink import Linker

    parts = [
        t.append_column("src", pa.array([i] * t.num_rows, pa.int64())) for i, t in enumerate(tables)
    ]
    recs = pa.concat_tables(parts)
    recs = recs.append_column("unique_id", pa.array(range(recs.num_rows), pa.int64()))
    con = duckdb.connect()
    con.register("recs", recs)
    features = con.sql(FEATURES).arrow()
    features = features.read_all() if hasattr(features, "read_all") else features
    spec = febrl_model(link)
    with open_engine("duckdb") as eng:
        model = train(eng, features, spec)
        linker = Linker(
            eng.register(features, "febrl"),
            model.for_dialect(spec, "duckdb"),
            log_level=logging.WARNING,
        )
        pred = linker.inference.predict(
            threshold_match_probability=0.5, warning_mode="never"
        ).as_pandas_dataframe()
    ids = recs.column("rec_id").to_pylist()
    src = recs.column("src").to_pylist()
    out = {}
    for threshold in (0.99, 0.5):
        sel = pred[pred.match_probability >= threshold]
        pairs = []
        for a, b in zip(sel.unique_id_l, sel.unique_id_r, strict=True):
            a, b = int(a), int(b)
            if link and src[a] > src[b]:
                a, b = b, a
            pairs.append((ids[a], ids[b]))
        out[f"OpenBureau (p >= {threshold})"] = _norm(pairs, link)
    return out


# --- Splink's documented example -------------------------------------------------------------


def splink_example(tables: list[pa.Table], link: bool) -> dict[str, Pairs]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    if link:
        rules = [
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("state", "address_1"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ]
        comparisons = [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth",
                input_is_string=True,
                datetime_format="%Y%m%d",
                invalid_dates_as_null=True,
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                term_frequency_adjustments=True
            ),
        ]
        deterministic = [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")]
        recall = 0.8
        em = [block_on("date_of_birth"), block_on("postcode")]
    else:
        rules = [
            block_on("soc_sec_id"),
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("postcode"),
        ]
        comparisons = [
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth",
                input_is_string=True,
                datetime_format="%Y%m%d",
                invalid_dates_as_null=True,
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ]
        deterministic = [
            block_on("soc_sec_id"),
            block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name and "
            "l.date_of_birth = r.date_of_birth",
        ]
        recall = 0.9
        em = [block_on("date_of_birth"), block_on("postcode")]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only" if link else "dedupe_only",
        blocking_rules_to_generate_predictions=rules,
        comparisons=comparisons,
        retain_intermediate_calculation_columns=True,
    )
    db_api = DuckDBAPI()
    frames = [db_api.register(t) for t in tables]
    linker = Linker(frames if link else frames[0], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    for rule in em:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=link
        )
    pred = linker.inference.predict(threshold_match_probability=0.2).as_pandas_dataframe()
    first = set(tables[0].column("rec_id").to_pylist())
    out = {}
    for threshold in (0.99, 0.5):
        sel = pred[pred.match_probability >= threshold]
        pairs = [
            (a, b) if (not link or a in first) else (b, a)
            for a, b in zip(sel.rec_id_l, sel.rec_id_r, strict=True)
        ]
        out[f"Splink example (p >= {threshold})"] = _norm(pairs, link)
    return out


# --- recordlinkage ---------------------------------------------------------------------------


def recordlinkage_ecm(tables: list[pa.Table], link: bool) -> dict[str, Pairs]:
    import recordlinkage as rl

    frames = [t.to_pandas().set_index("rec_id") for t in tables]
    for f in frames:
        for c in f.columns:
            f[c] = f[c].astype(object).where(f[c].notna(), None)
    indexer = rl.Index()
    indexer.block("given_name")
    indexer.block("surname")
    candidates = indexer.index(*frames) if link else indexer.index(frames[0])
    compare = rl.Compare()
    compare.exact("given_name", "given_name", label="given_name")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    compare.exact("suburb", "suburb", label="suburb")
    compare.exact("state", "state", label="state")
    compare.string("address_1", "address_1", threshold=0.85, label="address_1")
    features = (
        compare.compute(candidates, *frames) if link else compare.compute(candidates, frames[0])
    )
    ecm = rl.ECMClassifier(binarize=0.5)
    matches = ecm.fit_predict(features)
    return {"recordlinkage ECM": _norm([(str(a), str(b)) for a, b in matches], link)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    console = Console()
    table = Table(
        "task",
        "method",
        "pairs",
        "precision",
        "recall",
        "F1",
        "time (s)",
        title="FEBRL: pairwise precision / recall / F1 (same run, same data)",
    )
    tasks: list[tuple[str, list[pa.Table], bool]] = [
        ("4a <-> 4b", [read(args.data / "dataset4a.csv"), read(args.data / "dataset4b.csv")], True),
        ("dedupe 3", [read(args.data / "dataset3.csv")], False),
    ]
    methods: list[Callable[[list[pa.Table], bool], dict[str, Pairs]]] = [
        openbureau,
        splink_example,
        recordlinkage_ecm,
    ]
    for name, tables, link in tasks:
        truth = true_pairs(*tables, link=link)
        for method in methods:
            t0 = time.perf_counter()
            try:
                results = method(tables, link)
            except Exception as e:  # a peer that fails is reported, not hidden
                table.add_row(name, method.__name__, "-", "-", "-", f"failed: {e}"[:40], "-")
                continue
            seconds = time.perf_counter() - t0
            for label, pairs in results.items():
                p, r, f1 = score(pairs, truth)
                table.add_row(
                    name,
                    label,
                    f"{len(pairs):,}",
                    f"{p:.4f}",
                    f"{r:.4f}",
                    f"{f1:.4f}",
                    f"{seconds:.1f}",
                )
        table.add_row(name, f"(true pairs: {len(truth):,})", "", "", "", "", "")
    console.print(table)


if __name__ == "__main__":
    main()
