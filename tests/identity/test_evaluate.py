"""Evaluation metrics on a tiny hand-made truth."""

from __future__ import annotations

import pyarrow as pa
import pytest

from openbureau.identity.evaluate import metrics


def test_metrics_on_hand_made_truth() -> None:
    # Truth: p1 = {a, b, c}, p2 = {d, e}, p3 = {f}.
    truth = pa.table({"key": list("abcdef"), "person_id": ["p1"] * 3 + ["p2"] * 2 + ["p3"]})
    # Links: {a, b} | {c} (p1 fragmented) | {d, e, f} (a mixed file: p2 + p3).
    links = pa.table({"key": list("abcdef"), "consumer_id": ["X", "X", "Y", "Z", "Z", "Z"]})
    m = metrics(links, truth)
    # True pairs: ab ac bc de = 4; predicted: ab de df ef = 4; correct: ab de = 2.
    assert (m.true_pairs, m.predicted_pairs, m.correct_pairs) == (4, 4, 2)
    assert m.precision == pytest.approx(0.5) and m.recall == pytest.approx(0.5)
    assert m.f1 == pytest.approx(0.5)
    assert m.mixed_files == 1 and m.mixed_file_rate == pytest.approx(1 / 3)
    assert m.fragmented_persons == 1 and m.fragmentation_rate == pytest.approx(1 / 3)


def test_perfect_links_and_unknown_records() -> None:
    truth = pa.table({"key": ["a", "b", "c"], "person_id": ["p1", "p1", "p2"]})
    links = pa.table({"key": ["a", "b", "c", "zz"], "consumer_id": ["X", "X", "Y", "W"]})
    m = metrics(links, truth)
    assert m.records == 3  # "zz" is not in the truth: not counted
    assert (m.precision, m.recall, m.f1) == (1.0, 1.0, 1.0)
    assert m.mixed_file_rate == 0.0 and m.fragmentation_rate == 0.0
