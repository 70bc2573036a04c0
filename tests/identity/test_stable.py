"""Mapping clusters onto existing consumer ids (pure)."""

from __future__ import annotations

import itertools

from openbureau.identity.stable import reconcile


def _ids() -> itertools.count[int]:
    return itertools.count(1)


def test_unchanged_clusters_keep_ids() -> None:
    counter = _ids()
    plan = reconcile(
        [1, 2, 3],
        ["A", "A", "B"],
        [1, 1, 3],
        [None, None, None],
        {},
        make_id=lambda: f"N{next(counter)}",
    )
    assert plan.consumer == ["A", "A", "B"]
    assert not (plan.merges or plan.splits or plan.created or plan.changed)


def test_new_people_get_new_ids_and_merges_prefer_the_national_id() -> None:
    counter = _ids()
    plan = reconcile(
        [1, 2, 3, 4, 5],
        ["A", "B", "B", None, None],
        [1, 1, 1, 4, 4],
        ["h1", None, None, None, None],
        {"A": "h1", "B": None},
        make_id=lambda: f"N{next(counter)}",
    )
    # B has more records, but A holds the cluster's national id: A survives.
    assert plan.consumer == ["A", "A", "A", "N1", "N1"]
    (merge,) = plan.merges
    assert merge.primary == "A" and merge.merged == ["B"]
    assert merge.records == {"A": [1], "B": [2, 3]}
    assert plan.created == {"N1": None}
    assert plan.changed == [1, 2, 3, 4]


def test_split_keeps_the_id_with_the_larger_part() -> None:
    counter = _ids()
    plan = reconcile(
        [1, 2, 3],
        ["A", "A", "A"],
        [1, 1, 3],
        [None] * 3,
        {"A": None},
        make_id=lambda: f"N{next(counter)}",
    )
    assert plan.consumer == ["A", "A", "N1"]
    (split,) = plan.splits
    assert split.consumer == "A" and split.parts == {"A": [1, 2], "N1": [3]}
