"""Reason codes: the characteristics that cost the most points, stable codes and texts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from openbureau.scoring.gbm import GBMChallenger
from openbureau.scoring.reasons import (
    ReasonRegistry,
    ReasonText,
    default_registry,
    reason_codes,
    reasons_frame,
)
from openbureau.scoring.scorecard import Scorecard


def test_scorecard_reasons_are_the_largest_shortfalls(
    hmeq: tuple[pd.DataFrame, np.ndarray], hmeq_scorecard: Scorecard
) -> None:
    X, _ = hmeq
    sample = X.head(200)
    points = hmeq_scorecard.predict_points(sample)
    shortfall = hmeq_scorecard.compile().max_points() - points.to_numpy()
    for r, reasons in enumerate(reason_codes(hmeq_scorecard, sample)):
        assert len(reasons) <= 4
        lost = [x.points_lost for x in reasons]
        assert lost == sorted(lost, reverse=True)
        assert all(x > 0 for x in lost)
        assert [x.rank for x in reasons] == list(range(1, len(reasons) + 1))
        expected = sorted(shortfall[r][shortfall[r] > 1e-6], reverse=True)[:4]
        np.testing.assert_allclose(lost, expected)


def test_reasons_are_stable(
    hmeq: tuple[pd.DataFrame, np.ndarray], hmeq_scorecard: Scorecard
) -> None:
    X, _ = hmeq
    sample = X.sample(300, random_state=1)
    first = reason_codes(hmeq_scorecard, sample)
    assert reason_codes(hmeq_scorecard, sample) == first
    shuffled = sample.iloc[::-1]
    assert reason_codes(hmeq_scorecard, shuffled) == first[::-1]
    # codes never depend on the data or the model
    assert default_registry().lookup("some_feature") == default_registry().lookup("some_feature")


def test_ties_go_to_the_first_characteristic() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    a = rng.integers(0, 2, n).astype(float)
    b = rng.integers(0, 2, n).astype(float)
    y = (rng.random(n) < 0.1 + 0.2 * a + 0.2 * b).astype(int)
    X = pd.DataFrame({"a": a, "b": b})
    model = Scorecard().fit(X, y)
    # make both characteristics cost exactly the same (a symmetric model)
    compiled = model.compile()
    reasons = reason_codes(model, pd.DataFrame({"a": [1.0], "b": [1.0]}))[0]
    costs = compiled.max_points() - compiled.points(pd.DataFrame({"a": [1.0], "b": [1.0]}))[0]
    order = sorted(range(2), key=lambda j: (-costs[j], j))
    assert [r.feature for r in reasons] == [["a", "b"][j] for j in order]


def test_registry_codes_texts_and_fallback(
    synth_scorecard: Scorecard, synth_data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, _ = synth_data
    registry = ReasonRegistry(
        {"util": ReasonText("A01", "Proportion of balances to credit limits is too high")},
        descriptions={"income": "Reported income"},
    )
    rows = X[X["income"].isna() & (X["util"] > 1.0)].head(5)
    for reasons in reason_codes(synth_scorecard, rows, registry=registry):
        by_feature = {r.feature: r for r in reasons}
        assert by_feature["util"].code == "A01"
        assert by_feature["util"].text == "Proportion of balances to credit limits is too high"
        assert by_feature["income"].missing
        assert by_feature["income"].text == "No information reported on reported income"
        assert by_feature["income"].code.startswith("X")
    fallback = registry.lookup("months_on_book")
    assert fallback.text == "Months on book is a risk factor"
    assert ReasonRegistry.from_dict(registry.to_dict()).to_dict() == registry.to_dict()


def test_shared_codes_give_one_reason(
    synth_scorecard: Scorecard, synth_data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, _ = synth_data
    registry = ReasonRegistry(
        {f: ReasonText("Z99", "Everything") for f in synth_scorecard.features_}
    )
    for reasons in reason_codes(synth_scorecard, X.head(50), registry=registry):
        assert len(reasons) <= 1


def test_reasons_frame_matches_reason_codes(
    hmeq: tuple[pd.DataFrame, np.ndarray], hmeq_scorecard: Scorecard
) -> None:
    X, _ = hmeq
    sample = X.head(100)
    frame = reasons_frame(hmeq_scorecard, sample)
    assert list(frame.columns[:3]) == ["reason_code_1", "reason_feature_1", "reason_points_1"]
    for r, reasons in enumerate(reason_codes(hmeq_scorecard, sample)):
        for i, reason in enumerate(reasons, start=1):
            assert frame[f"reason_code_{i}"].iloc[r] == reason.code
            assert frame[f"reason_points_{i}"].iloc[r] == reason.points_lost


def test_gbm_reasons_are_risk_increasing_shap(
    german: tuple[pd.DataFrame, np.ndarray], german_gbm: GBMChallenger
) -> None:
    X, _ = german
    sample = X.head(100)
    contrib = german_gbm.contributions(sample)
    for r, reasons in enumerate(reason_codes(german_gbm, sample)):
        positive = contrib.iloc[r][german_gbm.features_]
        positive = positive[positive > 1e-6 / german_gbm.scaling_.factor].sort_values(
            ascending=False
        )
        assert [x.feature for x in reasons] == list(positive.index[:4])
        for x in reasons:
            assert x.points_lost == german_gbm.scaling_.factor * positive[x.feature]
