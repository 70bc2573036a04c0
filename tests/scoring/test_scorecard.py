"""The scorecard: bins, points, scaling, robust defaults, sklearn conventions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from openbureau.errors import ScoringInputError
from openbureau.scoring.scaling import Scaling
from openbureau.scoring.scorecard import Scorecard


def _regular(table: pd.DataFrame, name: str) -> pd.DataFrame:
    t = table[table["characteristic"] == name]
    return t[~t["bin"].isin(["Special", "Missing", "-", "Unseen category"])]


def test_monotone_bins_hold_where_asked(hmeq_scorecard: Scorecard) -> None:
    table = hmeq_scorecard.points_table()
    for name, sign in (("DELINQ", 1), ("CLAGE", -1)):
        t = _regular(table, name)
        assert len(t) >= 2, name
        rates = t["bad_rate"].to_numpy()
        assert np.all(sign * np.diff(rates) >= 0), (name, rates)
        # more risk → less evidence of good → fewer points, bin after bin
        assert np.all(sign * np.diff(t["woe"].to_numpy()) <= 0)
        assert np.all(sign * np.diff(t["points"].to_numpy()) <= 1e-9)


def test_every_characteristic_has_visible_bins_and_points(hmeq_scorecard: Scorecard) -> None:
    table = hmeq_scorecard.points_table()
    assert set(table["characteristic"]) == set(hmeq_scorecard.features_)
    assert {"bin", "count", "bad_rate", "woe", "iv", "points", "max_points"} <= set(table.columns)
    for name, t in table.groupby("characteristic"):
        assert t["points"].max() == pytest.approx(t["max_points"].iloc[0])
        assert "Missing" in set(t["bin"]), name


def test_pdo_twenty_points_double_the_odds(
    hmeq: tuple[pd.DataFrame, np.ndarray], hmeq_scorecard: Scorecard
) -> None:
    X, _ = hmeq
    raw = hmeq_scorecard.predict_raw_score(X)
    p_bad = hmeq_scorecard.predict_proba(X)[:, 1]
    odds_good = (1 - p_bad) / p_bad
    s = hmeq_scorecard.scaling_
    # every score: points = offset + factor·ln(odds); so +20 points ⇔ ×2 odds
    np.testing.assert_allclose(raw, s.offset + s.factor * np.log(odds_good), rtol=0, atol=1e-8)
    i, j = np.argsort(raw)[[100, -100]]
    ratio = odds_good[j] / odds_good[i]
    assert ratio == pytest.approx(2 ** ((raw[j] - raw[i]) / 20.0), rel=1e-9)
    assert float(Scaling().score_from_logit(-math.log(50.0))) == pytest.approx(600.0)
    assert float(Scaling().score_from_logit(-math.log(100.0))) == pytest.approx(620.0)


def test_scores_clipped_to_300_850(
    hmeq: tuple[pd.DataFrame, np.ndarray], hmeq_scorecard: Scorecard
) -> None:
    score = hmeq_scorecard.predict_score(hmeq[0])
    assert score.min() >= 300 and score.max() <= 850
    raw = hmeq_scorecard.predict_raw_score(hmeq[0])
    np.testing.assert_array_equal(score, np.clip(raw, 300, 850))


def test_scaling_is_configurable(synth_data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = synth_data
    a = Scorecard().fit(X, y)
    b = Scorecard(pdo=40, base_score=500, base_odds=10, min_score=0, max_score=1000).fit(X, y)
    ra, rb = a.predict_raw_score(X), b.predict_raw_score(X)
    # same model, other scale: the scores are an exact affine map of each other
    slope = 40 / 20
    np.testing.assert_allclose(
        rb - 500, slope * (ra - a.scaling_.offset) + b.scaling_.factor * -math.log(10), atol=1e-6
    )


def test_compiled_scorer_reproduces_estimator_exactly(
    hmeq: tuple[pd.DataFrame, np.ndarray], hmeq_scorecard: Scorecard
) -> None:
    X, _ = hmeq
    expected = hmeq_scorecard.predict_score(X)
    compiled = hmeq_scorecard.compile()
    for chunk in (7, 1000, 1 << 20):
        np.testing.assert_array_equal(compiled.score(X, chunk_rows=chunk), expected)
    np.testing.assert_array_equal(compiled.score(X.head(100), chunk_rows=1), expected[:100])
    # Arrow tables and plain numpy columns score the same
    np.testing.assert_array_equal(compiled.score(pa.Table.from_pandas(X)), expected)
    cols = {c: X[c].to_numpy() for c in X.columns}
    np.testing.assert_array_equal(compiled.score(cols), expected)


def test_compiled_matches_an_independent_binning(
    hmeq: tuple[pd.DataFrame, np.ndarray], hmeq_scorecard: Scorecard
) -> None:
    """Points looked up with pandas from the published points table, summed in model order."""
    X, _ = hmeq
    total = np.zeros(len(X))
    for ch in hmeq_scorecard.compile().characteristics:
        pts = np.asarray(ch.slot_points)
        if ch.kind == "numeric":
            x = X[ch.name].to_numpy(dtype=float)
            idx = pd.cut(x, [-np.inf, *ch.splits, np.inf], right=False, labels=False)
            got = np.where(np.isnan(x), pts[ch.missing], pts[np.nan_to_num(idx).astype(int)])
        else:
            got = (
                X[ch.name]
                .map(
                    lambda v, ch=ch, pts=pts: (
                        pts[ch.missing]
                        if pd.isna(v)
                        else pts[ch.categories.get(str(v), ch.unknown)]
                    )
                )
                .to_numpy(dtype=float)
            )
        total = total + got
    np.testing.assert_array_equal(total, hmeq_scorecard.predict_raw_score(X))


def test_id_like_constant_and_date_columns_dropped_with_reason(
    synth_scorecard: Scorecard,
) -> None:
    dropped = synth_scorecard.dropped_
    assert "ID-like" in dropped["customer_id"]
    assert "ID-like" in dropped["reference"]
    assert "constant" in dropped["constant"]
    assert "date" in dropped["opened"]
    assert "noise" in dropped  # no information value
    assert {"util", "age_months", "income", "region"} <= set(synth_scorecard.features_)
    summary = synth_scorecard.summary()
    assert summary.loc[summary["characteristic"] == "customer_id", "used"].item() is False


def test_missing_values_get_their_own_bin(
    synth_scorecard: Scorecard, synth_data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, _ = synth_data
    table = synth_scorecard.points_table()
    income = table[table["characteristic"] == "income"].set_index("bin")
    assert income.loc["Missing", "count"] == int(X["income"].isna().sum())
    # missing income is bad news in this population: the fewest points of the characteristic
    assert income.loc["Missing", "points"] == income["points"].min()
    pts = synth_scorecard.predict_points(X)
    assert np.all(pts.loc[X["income"].isna(), "income"] == income.loc["Missing", "points"])


def test_categories_rare_unseen_and_text_forms(
    synth_scorecard: Scorecard, synth_data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, _ = synth_data
    table = synth_scorecard.points_table()
    region = table[table["characteristic"] == "region"]
    assert any(b.startswith("other (rare)") and "west" in b for b in region["bin"])
    new = X.head(3).copy()
    new["region"] = ["atlantis", None, "south"]
    pts = synth_scorecard.predict_points(new)["region"].to_numpy()
    by_bin = region.set_index("bin")["points"]
    assert pts[0] == by_bin["Unseen category"]
    assert pts[1] == by_bin["Missing"]
    # an unseen category scores neutral (WoE 0): no evidence either way
    assert region.set_index("bin").loc["Unseen category", "woe"] == 0.0


def test_infinities_and_special_codes(
    synth_scorecard: Scorecard, synth_data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, _ = synth_data
    new = X.head(4).copy()
    new["income"] = [np.inf, -np.inf, 1e300, -1e300]
    new["age_months"] = [-1.0, -1.0, 5.0, 5.0]
    pts = synth_scorecard.predict_points(new)
    assert pts["income"].iloc[0] == pts["income"].iloc[2]  # +inf is in the top bin
    assert pts["income"].iloc[1] == pts["income"].iloc[3]
    table = synth_scorecard.points_table()
    special = table[(table["characteristic"] == "age_months") & (table["bin"] == "Special")]
    assert pts["age_months"].iloc[0] == special["points"].item()


def test_numbers_stored_as_text_and_nullable_dtypes(
    synth_scorecard: Scorecard, synth_data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, _ = synth_data
    a = X.head(50)
    b = a.copy()
    b["util"] = b["util"].astype(str)
    b["income"] = b["income"].astype("Float64")
    np.testing.assert_array_equal(
        synth_scorecard.predict_score(a), synth_scorecard.predict_score(b)
    )


def test_sklearn_conventions(synth_data: tuple[pd.DataFrame, np.ndarray]) -> None:
    model = Scorecard(min_iv=0.05, C=0.5)
    assert model.get_params()["min_iv"] == 0.05
    assert not hasattr(model, "features_")
    with pytest.raises(NotFittedError):
        model.predict_score(synth_data[0])
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert model.fit(*synth_data) is model
    assert not hasattr(twin, "features_")
    assert model.predict_proba(synth_data[0]).shape == (len(synth_data[1]), 2)


def test_bad_input_is_a_clear_error(
    synth_data: tuple[pd.DataFrame, np.ndarray], synth_scorecard: Scorecard
) -> None:
    X, y = synth_data
    with pytest.raises(ScoringInputError, match="0/1"):
        Scorecard().fit(X, np.where(y == 1, 2, 3))
    with pytest.raises(ScoringInputError, match="one class"):
        Scorecard().fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ScoringInputError, match="lacks"):
        synth_scorecard.predict_score(X.drop(columns=["util"]))


def test_beats_a_coin_on_german(german: tuple[pd.DataFrame, np.ndarray]) -> None:
    from sklearn.metrics import roc_auc_score

    X, y = german
    tr = np.arange(len(y)) % 4 != 0
    model = Scorecard().fit(X[tr], y[tr])
    auc = roc_auc_score(y[~tr], model.predict_proba(X[~tr])[:, 1])
    assert auc > 0.72


@pytest.mark.parametrize("n_splits", [0, 1, 3, 16, 17, 40])
def test_compiled_bins_match_optbinning_convention(n_splits: int) -> None:
    """Both bin-finding paths (compare-and-add, searchsorted) put s_{i-1} ≤ x < s_i in bin i."""
    from openbureau.scoring.compiled import CompiledCharacteristic

    rng = np.random.default_rng(n_splits)
    splits = np.sort(rng.choice(np.arange(-50, 50), n_splits, replace=False)).astype(float)
    points = rng.normal(size=n_splits + 4)
    ch = CompiledCharacteristic(
        "x", "numeric", tuple(points.tolist()), splits=tuple(splits.tolist())
    )
    x = np.concatenate([rng.uniform(-60, 60, 500), splits, [np.nan, np.inf, -np.inf]])
    expected_bin = np.digitize(x, splits, right=False)  # optbinning's own convention
    expected_bin[np.isnan(x)] = ch.missing
    np.testing.assert_array_equal(ch.slots(x), expected_bin)
    np.testing.assert_array_equal(ch.points(x), points[expected_bin])
