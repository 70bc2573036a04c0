"""Metrics, PSI monitoring, the HTML report, target handling and ``model fit-table``."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from openbureau.cli.main import app
from openbureau.errors import ScoringInputError
from openbureau.scoring import metrics
from openbureau.scoring.monitoring import StabilityMonitor, psi
from openbureau.scoring.report import SECTIONS, render, report_data
from openbureau.scoring.scorecard import Scorecard
from openbureau.scoring.table import prepare_target

from .conftest import DATA


def test_auc_ks_gini_known_values() -> None:
    y = np.array([0, 0, 1, 1])
    risk = np.array([0.1, 0.4, 0.35, 0.8])
    assert metrics.auc(y, risk) == pytest.approx(0.75)
    assert metrics.gini(y, risk) == pytest.approx(0.5)
    assert metrics.ks(y, risk) == pytest.approx(0.5)
    assert metrics.auc(y, -risk) == pytest.approx(0.25)
    with pytest.raises(ScoringInputError):
        metrics.auc([0, 0], [0.1, 0.2])


def test_psi() -> None:
    assert psi([10, 20, 30], [10, 20, 30]) == 0.0
    # (0.1 − 0.5)·ln(0.1/0.5) + (0.9 − 0.5)·ln(0.9/0.5) = 0.4·ln 9
    assert psi([50, 50], [10, 90]) == pytest.approx(0.4 * np.log(9), rel=1e-12)


def test_calibration_and_adverse_impact() -> None:
    rng = np.random.default_rng(0)
    score = rng.normal(600, 50, 5000)
    pd_bad = 1 / (1 + np.exp((score - 500) / 28.85))
    y = (rng.random(5000) < pd_bad).astype(int)
    table = metrics.calibration_table(y, pd_bad, score)
    assert len(table) == 10 and table["count"].sum() == 5000
    assert np.all(np.diff(table["observed_bad_rate"].to_numpy()) <= 0.05)
    group = np.where(np.arange(5000) % 2 == 0, "a", "b")
    shifted = score + np.where(group == "b", -30, 0)
    air = metrics.adverse_impact_table(shifted, group, 600).set_index("group")
    assert air.loc["a", "adverse_impact_ratio"] == 1.0
    assert air.loc["b", "adverse_impact_ratio"] < 0.8 and air.loc["b", "below_four_fifths"]


def test_stability_monitor(
    hmeq: tuple[pd.DataFrame, np.ndarray], hmeq_scorecard: Scorecard
) -> None:
    X, _ = hmeq
    monitor = StabilityMonitor(hmeq_scorecard).fit(X)
    assert monitor.score_psi(X) == pytest.approx(0.0, abs=1e-12)
    shifted = X.copy()
    shifted["DEBTINC"] = shifted["DEBTINC"] * 1.5
    chars = monitor.characteristic_psi(shifted).set_index("characteristic")
    assert chars.loc["DEBTINC", "psi"] > 0.25 and chars.loc["DEBTINC", "status"] == "shifted"
    assert chars.loc["LOAN", "psi"] == 0.0


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        for key in ("src", "href"):
            if a.get(key):
                self.sources.append(str(a[key]))
        if tag not in {"meta", "img", "br", "hr", "link", "input"}:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def _check_html(text: str) -> _Checker:
    assert text.startswith("<!DOCTYPE html>")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert checker.stack == []
    # self-contained: images are data URIs, links stay on the page
    assert all(s.startswith(("data:image/png;base64,", "#")) for s in checker.sources)
    assert not re.search(r"<(script|link)\b", text)
    return checker


def test_report_is_self_contained_html_with_all_sections(
    hmeq: tuple[pd.DataFrame, np.ndarray], hmeq_scorecard: Scorecard
) -> None:
    X, y = hmeq
    group = np.where(X["JOB"].fillna("") == "Office", "office", "other")
    later = X.sample(1500, random_state=3)
    html = render(report_data(hmeq_scorecard, X, y, X_new=later, group=group, cutoff=550))
    checker = _check_html(html)
    assert [sid for sid, _ in SECTIONS] == [i for i in checker.ids if i in dict(SECTIONS)]
    for words in ("ROC", "KS", "Calibration", "WoE", "IV", "PSI", "adverse-impact", "DEBTINC"):
        assert words.lower() in html.lower(), words
    assert html.count("data:image/png;base64,") == 4


@pytest.mark.parametrize(
    ("values", "bad_value", "expected_bad", "rule"),
    [
        ([0, 1, 1, 0, 0], None, "1", "0/1"),
        (["good", "bad", "good", "good"], None, "bad", "reads as bad"),
        (["No", "Yes", "No"], None, "yes", "reads as bad"),
        ([1, 2, 1, 1, 2, 1], None, "2", "minority"),
        (["A", "B", "C", "B"], "C", "c", "given"),
        ([1.0, 0.0, np.nan, 1.0], None, "1", "0/1"),
    ],
)
def test_prepare_target(
    values: list[object], bad_value: object, expected_bad: str, rule: str
) -> None:
    t = prepare_target(pd.Series(values), bad_value=bad_value)
    assert t.bad_value == expected_bad
    assert rule in t.how
    assert len(t.y) == int(t.keep.sum())


def test_prepare_target_refuses_the_ambiguous() -> None:
    with pytest.raises(ScoringInputError, match="--bad-value"):
        prepare_target(pd.Series(["a", "b", "c"]))
    with pytest.raises(ScoringInputError, match="--bad-value"):
        prepare_target(pd.Series(["x", "z", "x", "z"]))


def test_fit_table_cli_json_and_report(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    result = CliRunner().invoke(
        app,
        [
            "model",
            "fit-table",
            "--data",
            str(DATA / "german" / "germancredit_labelled.csv"),
            "--target",
            "creditability",
            "--folds",
            "3",
            "--group",
            "personal_status_and_sex",
            "--report",
            str(report),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"auc", "ks", "gini", "folds", "auc_per_fold"} <= set(out)
    assert out["folds"] == 3 and len(out["auc_per_fold"]) == 3
    assert out["auc"] == pytest.approx(np.mean(out["auc_per_fold"]))
    assert 0.7 < out["auc"] < 0.9
    assert out["bad_value"] == "bad"
    text = report.read_text()
    _check_html(text)
    assert "personal_status_and_sex" in text  # the fairness section names the group column


def test_fit_table_cli_table_output_and_errors(tmp_path: Path) -> None:
    data = tmp_path / "t.csv"
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    pd.DataFrame(
        {
            "x": x,
            "loan_id": np.arange(400),
            "status": np.where(x + rng.normal(size=400) > 1, "charged off", "paid"),
        }
    ).to_csv(data, index=False)
    runner = CliRunner()
    ok = runner.invoke(app, ["model", "fit-table", "--data", str(data), "--target", "status"])
    assert ok.exit_code == 0, ok.output
    assert "mean" in ok.stdout and "'charged off'" in ok.stdout
    bad = runner.invoke(app, ["model", "fit-table", "--data", str(data), "--target", "nope"])
    assert bad.exit_code == 1 and "Error:" in bad.output
    missing = runner.invoke(
        app, ["model", "fit-table", "--data", str(tmp_path / "none.csv"), "--target", "status"]
    )
    assert missing.exit_code == 1 and "no such file" in missing.output


@pytest.mark.slow
def test_fit_table_cli_gbm_on_hmeq() -> None:
    result = CliRunner().invoke(
        app,
        [
            "model",
            "fit-table",
            "--data",
            str(DATA / "hmeq" / "hmeq.csv"),
            "--target",
            "BAD",
            "--kind",
            "gbm",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["auc"] > 0.93


def test_read_table_csv_variants_and_parquet(tmp_path: Path) -> None:
    from openbureau.scoring.table import read_table

    frame = pd.DataFrame({"a": [1.5, None, 3.0], "b": ["x", "y", None], "t": [0, 1, 0]})
    frame.to_parquet(tmp_path / "t.parquet")
    (tmp_path / "t.txt").write_text("1 2.5 x 0\n2 NA y 1\n")
    (tmp_path / "s.csv").write_text("a;b;t\n1,5;x;0\n")
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet"), frame)
    spaced = read_table(tmp_path / "t.txt", header=False)
    assert list(spaced.columns) == ["col1", "col2", "col3", "col4"]
    assert spaced["col2"].isna().tolist() == [False, True]
    assert list(read_table(tmp_path / "s.csv").columns) == ["a", "b", "t"]
