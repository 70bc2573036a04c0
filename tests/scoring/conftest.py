"""Fixtures: real datasets from ../shared/data and small synthetic frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from openbureau.scoring.gbm import GBMChallenger
from openbureau.scoring.scorecard import Scorecard

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def german() -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.read_csv(DATA / "german" / "germancredit_labelled.csv")
    y = (frame.pop("creditability") == "bad").astype(int).to_numpy()
    return frame, y


@pytest.fixture(scope="session")
def hmeq() -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.read_csv(DATA / "hmeq" / "hmeq.csv")
    y = frame.pop("BAD").to_numpy()
    return frame, y


@pytest.fixture(scope="session")
def hmeq_scorecard(hmeq: tuple[pd.DataFrame, np.ndarray]) -> Scorecard:
    X, y = hmeq
    return Scorecard(monotone={"DELINQ": "increasing", "CLAGE": "decreasing"}).fit(X, y)


@pytest.fixture(scope="session")
def german_gbm(german: tuple[pd.DataFrame, np.ndarray]) -> GBMChallenger:
    X, y = german
    return GBMChallenger(
        monotone={"duration_in_month": "increasing", "age_in_years": "none"}, n_jobs=1
    ).fit(X, y)


def synthetic(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Risk rises with ``util``, falls with ``age_months``; ``region`` matters; a missing
    ``income`` is bad news; plus columns that must be dropped."""
    rng = np.random.default_rng(seed)
    util = rng.uniform(0, 1.2, n)
    age = rng.gamma(2.0, 40.0, n)
    income = rng.lognormal(10, 1, n)  # heavy tail
    income_missing = rng.random(n) < 0.1
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.29, 0.01])
    logit = (
        -2.0
        + 2.5 * util
        - 0.01 * age
        + np.where(region == "south", 0.8, 0.0)
        + np.where(income_missing, 1.2, 0.0)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    income = np.where(income_missing, np.nan, income)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(100_000, 100_000 + n),
            "util": util,
            "age_months": age,
            "income": income,
            "region": region,
            "constant": 7,
            "reference": [f"ref-{i:06d}-{rng.integers(1e9)}" for i in range(n)],
            "opened": pd.date_range("2020-01-01", periods=n, freq="h"),
            "noise": rng.normal(size=n),
        }
    )
    return frame, y


@pytest.fixture(scope="session")
def synth_data() -> tuple[pd.DataFrame, np.ndarray]:
    return synthetic()


@pytest.fixture(scope="session")
def synth_scorecard(synth_data: tuple[pd.DataFrame, np.ndarray]) -> Scorecard:
    X, y = synth_data
    return Scorecard(monotone={"util": "increasing"}, special_codes={"age_months": [-1]}).fit(X, y)
