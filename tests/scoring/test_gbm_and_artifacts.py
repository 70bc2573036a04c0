"""GBM challenger and portable artifacts (JSON, LightGBM text): reload is bit-identical."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from openbureau.errors import ArtifactError, ScoringError
from openbureau.scoring.artifacts import LIGHTGBM_FILE, MODEL_FILE, load_model, save_model
from openbureau.scoring.gbm import GBMChallenger, average_models
from openbureau.scoring.scorecard import Scorecard


def test_gbm_respects_monotone_constraints(
    german: tuple[pd.DataFrame, np.ndarray], german_gbm: GBMChallenger
) -> None:
    X, _ = german
    assert german_gbm.monotone_["duration_in_month"] == 1
    assert german_gbm.monotone_["age_in_years"] == 0
    assert all(german_gbm.monotone_[c] == 0 for c in german_gbm.categorical_)
    grid = np.linspace(X["duration_in_month"].min(), X["duration_in_month"].max(), 40)
    for i in range(0, 200, 20):
        rows = pd.concat([X.iloc[[i]]] * len(grid), ignore_index=True)
        rows["duration_in_month"] = grid
        risk = german_gbm.decision_function(rows)
        assert np.all(np.diff(risk) >= -1e-12)


def test_gbm_shap_contributions_add_up(
    german: tuple[pd.DataFrame, np.ndarray], german_gbm: GBMChallenger
) -> None:
    X, _ = german
    contrib = german_gbm.contributions(X.head(50))
    np.testing.assert_allclose(
        contrib.sum(axis=1).to_numpy(), german_gbm.decision_function(X.head(50)), atol=1e-9
    )
    assert list(contrib.columns) == [*german_gbm.features_, "bias"]


def test_gbm_handles_unseen_categories_and_missing(
    german: tuple[pd.DataFrame, np.ndarray], german_gbm: GBMChallenger
) -> None:
    X, _ = german
    new = X.head(3).copy()
    new["purpose"] = ["spaceship", None, new["purpose"].iloc[2]]
    new["duration_in_month"] = [np.nan, 12, 24]
    score = german_gbm.predict_score(new)
    assert np.all(np.isfinite(score)) and np.all((score >= 300) & (score <= 850))


def test_scorecard_reload_is_bit_identical(
    tmp_path: Path, hmeq: tuple[pd.DataFrame, np.ndarray], hmeq_scorecard: Scorecard
) -> None:
    X, _ = hmeq
    path = save_model(hmeq_scorecard, tmp_path / "sc")
    document = json.loads(path.read_text())
    assert document["kind"] == "scorecard"
    assert document["data_hash"].startswith("sha256:")
    assert {"optbinning", "numpy", "scikit-learn"} <= set(document["library_versions"])
    assert document["model"]["compiled"]["scaling"]["pdo"] == 20.0
    again = load_model(tmp_path / "sc")
    assert isinstance(again, Scorecard)
    np.testing.assert_array_equal(again.predict_score(X), hmeq_scorecard.predict_score(X))
    np.testing.assert_array_equal(again.predict_proba(X), hmeq_scorecard.predict_proba(X))
    pd.testing.assert_frame_equal(again.points_table(), hmeq_scorecard.points_table())
    # saving the reloaded model gives the same document (apart from the save time)
    second = json.loads(save_model(again, tmp_path / "sc2").read_text())
    document.pop("saved_at"), second.pop("saved_at")
    assert second == document


def test_gbm_reload_is_bit_identical(
    tmp_path: Path, german: tuple[pd.DataFrame, np.ndarray], german_gbm: GBMChallenger
) -> None:
    X, _ = german
    save_model(german_gbm, tmp_path / "gbm")
    assert (tmp_path / "gbm" / LIGHTGBM_FILE).read_text().startswith("tree")
    again = load_model(tmp_path / "gbm" / MODEL_FILE)
    assert isinstance(again, GBMChallenger)
    np.testing.assert_array_equal(again.predict_score(X), german_gbm.predict_score(X))
    np.testing.assert_array_equal(
        again.contributions(X).to_numpy(), german_gbm.contributions(X).to_numpy()
    )


def test_tampered_or_foreign_artifacts_are_refused(
    tmp_path: Path, german_gbm: GBMChallenger
) -> None:
    save_model(german_gbm, tmp_path / "gbm")
    text = tmp_path / "gbm" / LIGHTGBM_FILE
    text.write_text(text.read_text().replace("learning_rate", "learning_rat3", 1))
    with pytest.raises(ArtifactError, match="sha256"):
        load_model(tmp_path / "gbm")
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / MODEL_FILE).write_text('{"format": "pickle"}')
    with pytest.raises(ArtifactError, match="not an OpenBureau"):
        load_model(tmp_path / "x")
    with pytest.raises(ArtifactError, match="cannot read"):
        load_model(tmp_path / "nowhere")


@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_a_fit_does_not_depend_on_the_order_of_the_rows(
    kind: str, hmeq: tuple[pd.DataFrame, np.ndarray]
) -> None:
    """Two bureaus holding the same data in different orders train the same model."""
    X, y = hmeq
    shuffled = np.random.default_rng(7).permutation(len(y))
    X2, y2 = X.iloc[shuffled].reset_index(drop=True), y[shuffled]

    def fit(frame: pd.DataFrame, target: np.ndarray) -> Scorecard | GBMChallenger:
        if kind == "scorecard":
            return Scorecard().fit(frame, target)
        return GBMChallenger(n_jobs=1).fit(frame, target)

    a, b = fit(X, y), fit(X2, y2)
    assert a.data_hash_ == b.data_hash_
    np.testing.assert_array_equal(a.predict_score(X), b.predict_score(X))
    if isinstance(a, GBMChallenger) and isinstance(b, GBMChallenger):
        assert a.model_text() == b.model_text()
    # a different table (one target flipped) is a different data hash
    y3 = y.copy()
    y3[0] = 1 - y3[0]
    assert fit(X, y3).data_hash_ != a.data_hash_


def test_the_gbm_is_a_bag_of_boosters_written_as_one_lightgbm_model(
    german: tuple[pd.DataFrame, np.ndarray], german_gbm: GBMChallenger
) -> None:
    import lightgbm as lgb

    X, y = german
    assert len(german_gbm.rounds_) == german_gbm.folds == 5
    assert german_gbm.booster_.num_trees() == sum(german_gbm.rounds_)
    # averaging: the merged model's log-odds are the mean of its members', a categorical
    # split included, and its SHAP values still add up to them
    M = X.assign(purpose=X["purpose"].astype("category").cat.codes)[
        ["duration_in_month", "age_in_years", "purpose"]
    ].to_numpy(float)
    data = lgb.Dataset(M, y, categorical_feature=[2], free_raw_data=False)
    params = {"objective": "binary", "num_leaves": 4, "verbosity": -1}
    members = [lgb.train({**params, "seed": k}, data, num_boost_round=10 + 7 * k) for k in range(3)]
    merged = lgb.Booster(model_str=average_models([m.model_to_string() for m in members]))
    mean = np.mean([m.predict(M, raw_score=True) for m in members], axis=0)
    np.testing.assert_allclose(merged.predict(M, raw_score=True), mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        merged.predict(M, pred_contrib=True).sum(axis=1), mean, rtol=0, atol=1e-12
    )
    assert merged.num_trees() == sum(m.num_trees() for m in members)
    other = lgb.train(
        {"objective": "binary", "verbosity": -1}, lgb.Dataset(M[:, :2], y), num_boost_round=3
    )
    with pytest.raises(ScoringError, match="different headers"):
        average_models([members[0].model_to_string(), other.model_to_string()])


def test_a_gbm_document_from_before_the_bag_still_loads(german_gbm: GBMChallenger) -> None:
    document = german_gbm.to_dict()
    params = dict(document["params"])
    del params["folds"]
    params["validation_fraction"] = 0.2
    legacy = {**document, "params": params, "n_rounds": 37}
    del legacy["rounds"]
    again = GBMChallenger.from_dict(legacy, german_gbm.model_text())
    assert again.rounds_ == [37]
    assert again.folds == 5
