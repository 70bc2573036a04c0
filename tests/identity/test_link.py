"""Linking a population: quality against the truth, stable ids across runs and new batches."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sqlalchemy import text

from openbureau.context import Context
from openbureau.identity.evaluate import evaluate_store
from openbureau.identity.link import link
from openbureau.identity.model import TrainedModel
from tests.identity.conftest import Loader, seed_model


def _ids(ctx: Context) -> dict[int, str]:
    with ctx.engine.connect() as conn:
        return {
            int(i): str(c)
            for i, c in conn.execute(text("SELECT id, consumer_id FROM identity_records")).all()
        }


@pytest.mark.slow
def test_link_trains_and_meets_targets(
    context: Context, load: Loader, population: tuple[Path, pa.Table]
) -> None:
    folder, records = population
    load(records)
    summary = link(context)
    assert not summary.model_reused
    assert summary.records == records.num_rows
    m = evaluate_store(context, folder)
    assert m.records == records.num_rows
    assert m.mixed_file_rate == 0.0
    assert m.fragmentation_rate <= 0.01
    assert m.precision == 1.0 and m.recall >= 0.99
    with context.engine.connect() as conn:
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM identity_records WHERE consumer_id IS "
                    "NULL OR needs_resolution"
                )
            ).scalar_one()
            == 0
        )
        # Accounts follow their identity record's consumer.
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM accounts a JOIN identity_records r ON r.furnisher_id = "
                    "a.furnisher_id AND r.furnisher_account_id = a.furnisher_account_id "
                    "WHERE a.consumer_id IS DISTINCT FROM r.consumer_id"
                )
            ).scalar_one()
            == 0
        )


def test_rerun_keeps_every_id(
    context: Context, load: Loader, trained: TrainedModel, population: tuple[Path, pa.Table]
) -> None:
    seed_model(context, trained)
    load(population[1])
    first = link(context)
    assert first.model_reused
    before = _ids(context)
    again = link(context)
    assert _ids(context) == before
    assert (again.records_moved, again.merges, again.splits, again.consumers_created) == (
        0,
        0,
        0,
        0,
    )


def test_new_batches_keep_existing_ids(
    context: Context, load: Loader, trained: TrainedModel, population: tuple[Path, pa.Table]
) -> None:
    folder, records = population
    seed_model(context, trained)
    # The first batch: every account but those of one furnisher; then that furnisher arrives.
    later = pc.equal(records.column("furnisher_id"), "microloan")
    load(records.filter(pc.invert(later)))
    link(context)
    before = _ids(context)
    load(records.filter(later))
    summary = link(context)
    after = _ids(context)
    with context.engine.connect() as conn:
        redirects = dict(conn.execute(text("SELECT from_id, to_id FROM consumer_redirects")).all())
    for rid, cid in before.items():
        # Still right, or merged (explicitly, with a redirect) into the survivor.
        assert after[rid] == cid or redirects.get(cid) == after[rid]
    assert summary.splits == 0
    assert summary.records > len(before)
    m = evaluate_store(context, folder)
    assert m.mixed_file_rate == 0.0 and m.fragmentation_rate <= 0.01
