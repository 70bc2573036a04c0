"""Guards against mixed files: different valid ids never merge; look-alikes need evidence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import text

from openbureau.context import Context
from openbureau.identity.link import link
from openbureau.identity.model import TrainedModel
from tests.identity.conftest import Loader, consumer_of, person, seed_model, valid_nid

TWIN = {
    "name": "huangfu jiayi",
    "birth_date": dt.date(1990, 5, 4),
    "phone": "13600000000",
    "address": "No. 9 Jiefang Road, Yuexiu District, Guangzhou",
    "postcode": "510000",
}


def test_different_valid_ids_never_merge(
    context: Context, load: Loader, trained: TrainedModel, population: tuple[Path, pa.Table]
) -> None:
    seed_model(context, trained)
    load(population[1])
    one = person(national_id=valid_nid(1, "19900504"), **TWIN)
    two = person(national_id=valid_nid(2, "19900504"), furnisher_id="pay", **TWIN)
    # A third record without an id matches both perfectly: it may join one, never bridge them.
    bridge = person(furnisher_id="micro", **TWIN)
    ids = load([one, two, bridge])
    summary = link(context)
    c1, c2 = (consumer_of(context, ids[r["account_id"]]) for r in (one, two))
    assert c1 != c2
    assert consumer_of(context, ids[bridge["account_id"]]) in (c1, c2)
    assert summary.refused_by_guards >= 1


def test_population_lookalikes_are_not_merged(
    context: Context, load: Loader, trained: TrainedModel, population: tuple[Path, pa.Table]
) -> None:
    folder, records = population
    seed_model(context, trained)
    load(records)
    link(context)
    with context.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT furnisher_id, furnisher_account_id, consumer_id FROM identity_records")
        ).all()
    con = duckdb.connect()
    con.register(
        "links",
        pa.table({"f": [r[0] for r in rows], "a": [r[1] for r in rows], "c": [r[2] for r in rows]}),
    )
    con.register("acc", pq.read_table(folder / "truth" / "accounts.parquet"))
    con.register("people", pq.read_table(folder / "truth" / "people.parquet"))
    pairs, shared = con.execute(
        "WITH pc AS (SELECT DISTINCT acc.person_id, links.c FROM links JOIN acc ON "
        "acc.furnisher_id = links.f AND acc.account_id = links.a) "
        "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM pc x JOIN pc y "
        "ON x.c = y.c WHERE x.person_id = p.person_id AND y.person_id = p.lookalike_of)) "
        "FROM people p WHERE lookalike_of IS NOT NULL AND p.person_id IN (SELECT person_id "
        "FROM pc) AND p.lookalike_of IN (SELECT person_id FROM pc)"
    ).fetchone() or (0, 0)
    assert pairs > 0, "the population should contain look-alikes with furnished accounts"
    assert shared == 0
