"""Outcomes, training, the registry's states, batch scores, reload and truth evaluation."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from openbureau.cli.main import app
from openbureau.config import Settings
from openbureau.context import Context
from openbureau.engine.sql import DuckDBRunner
from openbureau.errors import ModelStateError, NoApprovedModelError, OutcomeNotMatureError
from openbureau.features.asof import AsOf, month_index
from openbureau.scores import registry
from openbureau.scores.batch import load_scores, score
from openbureau.scores.outcomes import outcome_sql
from openbureau.scores.train import make_model, sample, train
from openbureau.store.models import Score, ScoreModel
from tests.features import factory

MONTHS = 26


def _as_of(built: factory.Built, i: int) -> AsOf:
    return AsOf.end_of_month(month_index(built.month(i)))


@pytest.fixture
def built(context: Context) -> factory.Built:
    return factory.build(context, consumers=300, months=MONTHS, seed=7)


def test_outcome_definition() -> None:
    as_of = AsOf.parse("2024-01")
    c = as_of.cutoff_index

    def month(age: int) -> dt.date:
        idx = c - age
        return dt.date(idx // 12, idx % 12 + 1, 1)

    rows = [
        # consumer, account, age, status
        ("bad-later", 1, 0, "current"),
        ("bad-later", 1, -3, "dpd90"),
        ("good", 2, 0, "dpd30"),
        ("good", 2, -2, "dpd60"),
        ("good", 2, -13, "dpd90"),
        ("old-charge-off", 3, 5, "charged_off"),
        ("old-charge-off", 3, 0, "collection"),
        ("old-charge-off", 3, -4, "collection"),
        ("bad-now", 4, 0, "dpd120"),
        ("bad-now", 4, -1, "charged_off"),
        ("charged-off-now", 5, 1, "dpd120"),
        ("charged-off-now", 5, 0, "charged_off"),
        ("new-loan-bad", 6, 0, "current"),
        ("new-loan-bad", 7, -6, "current"),
        ("new-loan-bad", 7, -12, "dpd90"),
    ]
    table = pa.table(
        {
            "consumer_id": [r[0] for r in rows],
            "account_id": [r[1] for r in rows],
            "month": pa.array([month(r[2]) for r in rows], pa.date32()),
            "status": [r[3] for r in rows],
        }
    )
    with DuckDBRunner() as runner:
        runner.register_arrow("account_months", table)
        got = {
            r["consumer_id"]: (r["bad_now"], r["bad_12m"])
            for r in runner.query(outcome_sql(as_of)).to_pylist()
        }
    assert got == {
        "bad-later": (0, 1),
        "good": (0, 0),  # 90 days past due only after the 12 months
        "old-charge-off": (0, 0),  # still in collection: old news
        "bad-now": (1, 1),
        "charged-off-now": (1, 0),
        "new-loan-bad": (0, 1),
    }


@pytest.mark.slow
def test_registry_lifecycle_and_scores(context: Context, built: factory.Built) -> None:
    t, v = _as_of(built, 11), _as_of(built, 13)
    with pytest.raises(OutcomeNotMatureError):
        train(context, _as_of(built, 15), "scorecard")
    with pytest.raises(NoApprovedModelError):
        score(context, t)
    first = train(context, t, "scorecard", validate_as_of=v)
    assert first.state == "candidate"
    assert {"development", "out_of_time", "score_psi"} <= set(first.metrics)
    assert first.training["snapshot"] == t.key and first.features
    assert (context.settings.home / first.artifact / "model.json").is_file()
    assert registry.approve(context, first.id, by="tester").state == "approved"
    second = train(context, t, "gbm", params={"max_rounds": 60})
    assert (context.settings.home / second.artifact / "lightgbm.txt").is_file()
    registry.approve(context, second.id)
    states = {m.id: m.state for m in registry.list_models(context)}
    assert states == {first.id: "retired", second.id: "approved"}
    # The database itself refuses a second approved model.
    with pytest.raises(IntegrityError), context.engine.begin() as conn:
        conn.execute(update(ScoreModel).where(ScoreModel.id == first.id).values(state="approved"))
    registry.retire(context, second.id)
    with pytest.raises(ModelStateError):
        registry.retire(context, second.id)
    with pytest.raises(NoApprovedModelError):
        score(context, t)
    registry.approve(context, first.id)

    later = score(context, v)
    earlier = score(context, t)  # an earlier date must not replace the later scores
    assert later.table.num_rows == earlier.table.num_rows == len(built.consumers)
    lake_scores = load_scores(context, v, first.id)
    assert lake_scores.num_rows == len(built.consumers)
    assert np.array_equal(lake_scores.column("score").to_numpy(), later.scores)
    with context.engine.connect() as conn:
        rows = conn.execute(select(Score.as_of, Score.model_id, Score.reasons)).all()
    assert len(rows) == len(built.consumers)
    assert {r.as_of for r in rows} == {v.date}
    assert {r.model_id for r in rows} == {first.id}
    reasons = [r.reasons for r in rows]
    assert all(len(x) <= 4 for x in reasons) and any(len(x) == 4 for x in reasons)
    codes = {x["code"] for rs in reasons for x in rs}
    assert codes and all(c[:2] in {"PH", "AO", "LH", "NC", "CM", "PB"} for c in codes)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_reload_gives_bit_identical_scores(sqlite_context: Context, kind: str) -> None:
    built = factory.build(sqlite_context, consumers=250, months=24, seed=8)
    t = _as_of(built, 11)
    params = {"max_rounds": 80} if kind == "gbm" else {}
    info = train(sqlite_context, t, kind, params=params)  # type: ignore[arg-type]
    dev = sample(sqlite_context, t)
    fresh = make_model(kind, **params).fit(dev.X, dev.y)  # type: ignore[arg-type]
    loaded = registry.load(sqlite_context, info)
    a = np.asarray(fresh.predict_score(dev.X), dtype=np.float64)
    b = np.asarray(loaded.predict_score(dev.X), dtype=np.float64)
    assert a.view(np.int64).tolist() == b.view(np.int64).tolist()
    assert fresh.data_hash_ == info.data_hash


def _truth(folder: Path, ctx: Context, built: factory.Built, as_of: AsOf) -> None:
    """A fake truth: consumer i is person i, except one consumer, whose file holds two."""
    from openbureau.store.models import Account

    folder.mkdir(parents=True)
    with ctx.engine.connect() as conn:
        accounts = conn.execute(
            select(Account.furnisher_id, Account.furnisher_account_id, Account.consumer_id)
        ).all()
        known = conn.execute(
            select(Account.furnisher_id, Account.furnisher_account_id, Account.opened)
        ).all()
    person = {c: f"P{i:05d}" for i, c in enumerate(built.consumers)}
    opened = {(f, a) for f, a, o in known if o <= as_of.cutoff_month}
    held = [c for f, a, c in accounts if (f, a) in opened]
    first = next(c for c in built.consumers if held.count(c) >= 2)
    rows = []
    seen_first = False
    for f, a, c in accounts:
        p = person[c]
        if c == first and seen_first and (f, a) in opened:
            p = "P99999"  # a second person in the first consumer's file: mixed
        seen_first = seen_first or (c == first and (f, a) in opened)
        rows.append((f, a, p))
    pq.write_table(
        pa.table(
            {
                "furnisher_id": [r[0] for r in rows],
                "account_id": [r[1] for r in rows],
                "person_id": [r[2] for r in rows],
            }
        ),
        folder / "accounts.parquet",
    )
    rng = np.random.default_rng(0)
    people = sorted(set(person.values()) | {"P99999"})
    pd_true = rng.random(len(people))
    pq.write_table(
        pa.table(
            {
                "person_id": people,
                "month": [f"{as_of.cutoff_month:%Y-%m}"] * len(people),
                "pd_12m": pa.array(pd_true, pa.float32()),
                "bad_12m": pa.array(rng.random(len(people)) < pd_true),
            }
        ),
        folder / "person_months.parquet",
    )
    pq.write_table(
        pa.table(
            {"person_id": people, "group": ["a" if i % 2 else "b" for i in range(len(people))]}
        ),
        folder / "people.parquet",
    )


@pytest.mark.slow
def test_cli_end_to_end(cli_env: dict[str, str], tmp_path: Path, database_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    ctx = Context(Settings(home=Path(cli_env["OPENBUREAU_HOME"]), database_url=database_url))
    try:
        built = factory.build(ctx, consumers=250, months=MONTHS, seed=9)
        t, v = _as_of(built, 11), _as_of(built, 13)
        _truth(tmp_path / "pop" / "truth", ctx, built, v)
    finally:
        ctx.close()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    out = json.loads(run("snapshot", "--as-of", t.key, "--as-of", v.key, "--json").splitlines()[0])
    assert out["consumers"] == len(built.consumers)
    out = json.loads(run("features", "--as-of", t.key, "--json"))
    assert out["consumers"] == len(built.consumers) and out["features"] >= 40
    result = runner.invoke(app, ["score", "--as-of", v.key])
    assert result.exit_code == 1 and "no model is approved" in result.output
    info = json.loads(run("model", "train", "--as-of", t.key, "--validate-as-of", v.key, "--json"))
    assert info["state"] == "candidate" and info["kind"] == "scorecard"
    assert str(info["id"]) in run("model", "list")
    assert json.loads(run("model", "show", str(info["id"]), "--json"))["id"] == info["id"]
    run("model", "approve", str(info["id"]))
    scored = json.loads(run("score", "--as-of", v.key, "--json"))
    assert scored["consumers"] == len(built.consumers)
    ev = json.loads(
        run("evaluate", "scores", "--truth", str(tmp_path / "pop"), "--as-of", v.key, "--json")
    )
    assert {"auc", "oracle_auc", "ratio"} <= set(ev)
    assert ev["mixed_consumers"] == 1
    assert ev["ratio"] == pytest.approx(ev["auc"] / ev["oracle_auc"])
    report = tmp_path / "report.html"
    run("model", "report", str(info["id"]), "--out", str(report), "--truth", str(tmp_path / "pop"))
    html = report.read_text()
    assert "Stability (PSI)" in html and "adverse-impact" in html.lower()
    result = runner.invoke(app, ["model", "approve", "999"])
    assert result.exit_code == 1 and "no model 999" in result.output
