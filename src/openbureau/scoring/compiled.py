"""The compiled scorecard: plain arrays that score millions of rows in flat memory.

Every characteristic is a lookup table of points:

* numeric: sorted split points ``s_0 < … < s_{k-1}``; bin ``i`` holds ``s_{i-1} ≤ x < s_i``
  (the same convention as optbinning), plus points for missing values and for the
  characteristic's special codes;
* categorical: a category → bin map, plus points for missing and for categories never
  seen in training (neutral points: no evidence either way).

A numeric value's bin is found with ``numpy.searchsorted`` over the splits or, for the
usual scorecard characteristic with at most 16 splits, by one branch-free compare-and-add
pass per split (about 3× faster than the binary search on unsorted data; same bins).
Scoring walks the rows in chunks so memory stays flat in the batch size, and sums the
characteristics in a fixed order so every path (the estimator, this scorer, a model
reloaded from JSON) gives bit-identical scores.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from openbureau.errors import ScoringError, ScoringInputError
from openbureau.scoring._data import (
    FloatArray,
    IntArray,
    column_names,
    column_slice,
    factorize_categories,
    n_rows,
    to_float,
)
from openbureau.scoring.scaling import Scaling

Kind = Literal["numeric", "categorical"]

DEFAULT_CHUNK_ROWS = 1 << 15
# Up to this many splits, bins are found by comparisons rather than binary search.
_COMPARE_MAX_SPLITS = 16


@dataclass(frozen=True)
class CompiledCharacteristic:
    """One characteristic as lookup tables.

    Bin slots: ``0 … n_bins-1`` regular bins, then ``special``, ``missing`` and ``unknown``
    (an unseen category); ``slot_points`` has ``n_bins + 3`` entries.
    """

    name: str
    kind: Kind
    slot_points: tuple[float, ...]
    splits: tuple[float, ...] = ()
    special_values: tuple[float, ...] = ()
    categories: Mapping[str, int] = field(default_factory=dict)
    _points: FloatArray = field(init=False, repr=False, compare=False)
    _splits_ext: FloatArray = field(init=False, repr=False, compare=False)
    _lut: FloatArray = field(init=False, repr=False, compare=False)
    _specials: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.slot_points) < 4:
            raise ScoringError(f"characteristic {self.name!r} has no bins")
        if self.kind == "numeric":
            if len(self.slot_points) != len(self.splits) + 4:
                raise ScoringError(f"characteristic {self.name!r}: splits and points disagree")
            if list(self.splits) != sorted(set(self.splits)) or not all(np.isfinite(self.splits)):
                raise ScoringError(f"characteristic {self.name!r}: splits must be finite, sorted")
        elif any(not 0 <= b < self.n_bins for b in self.categories.values()):
            raise ScoringError(f"characteristic {self.name!r}: category mapped outside the bins")
        # Lookup arrays built once; frozen dataclass, so set through object.__setattr__.
        points = np.asarray(self.slot_points, dtype=np.float64)
        object.__setattr__(self, "_points", points)
        if self.kind == "numeric":
            # A trailing NaN split sends NaN to index n_bins (NaN sorts last in numpy), so
            # one searchsorted + one take scores missing values too, with no mask.
            ext = np.append(np.asarray(self.splits, dtype=np.float64), np.nan)
            object.__setattr__(self, "_splits_ext", ext)
            object.__setattr__(self, "_lut", np.append(points[: self.n_bins], points[self.missing]))
            object.__setattr__(self, "_specials", np.asarray(self.special_values, dtype=np.float64))

    @property
    def n_bins(self) -> int:
        return len(self.slot_points) - 3

    @property
    def special(self) -> int:
        return self.n_bins

    @property
    def missing(self) -> int:
        return self.n_bins + 1

    @property
    def unknown(self) -> int:
        return self.n_bins + 2

    @property
    def category_points(self) -> dict[str, float]:
        """Category → points (categorical characteristics; empty for numeric ones)."""
        return {c: float(self.slot_points[b]) for c, b in self.categories.items()}

    @property
    def max_points(self) -> float:
        return float(max(self.slot_points))

    def _bin_index(
        self, x: FloatArray, scratch: tuple[npt.NDArray[np.bool_], npt.NDArray[np.uint8]] | None
    ) -> npt.NDArray[Any]:
        """Regular bin of each value, ``n_bins`` for NaN (the index into ``_lut``)."""
        if len(self.splits) > _COMPARE_MAX_SPLITS:
            return np.searchsorted(self._splits_ext, x, side="right")
        # Few splits (the usual scorecard): one branch-free compare-and-add pass per split
        # into a uint8 counter beats a binary search, whose unpredictable branches cost
        # more than all the compares. NaN fails every compare and starts at n_bins.
        n = len(x)
        if scratch is None:
            ge, idx = np.empty(n, dtype=np.bool_), np.empty(n, dtype=np.uint8)
        else:
            ge, idx = scratch[0][:n], scratch[1][:n]
        ge8 = ge.view(np.uint8)
        np.isnan(x, out=ge)
        np.multiply(ge8, np.uint8(self.n_bins), out=idx)
        for split in self.splits:
            np.greater_equal(x, split, out=ge)
            np.add(idx, ge8, out=idx)
        return idx

    def slots(self, values: Any) -> IntArray:
        """Bin slot of each value."""
        if self.kind == "numeric":
            x = to_float(values)
            idx: IntArray = np.searchsorted(self._splits_ext, x, side="right").astype(np.int64)
            idx[idx == self.n_bins] = self.missing
            if len(self.special_values):
                idx[np.isin(x, self._specials)] = self.special
            return idx
        codes, names = factorize_categories(values)
        lut = np.array(
            [*(self.categories.get(n, self.unknown) for n in names), self.missing], dtype=np.int64
        )
        return lut[codes]

    def points(
        self,
        values: Any,
        out: FloatArray | None = None,
        scratch: tuple[npt.NDArray[np.bool_], npt.NDArray[np.uint8]] | None = None,
    ) -> FloatArray:
        """Points of each value (``out`` is filled when given; ``scratch`` buffers reused)."""
        if self.kind == "numeric":
            x = to_float(values)
            res = np.take(self._lut, self._bin_index(x, scratch), out=out)
            if len(self.special_values):
                res[np.isin(x, self._specials)] = self.slot_points[self.special]
            return res
        codes, names = factorize_categories(values)
        pts = self._points
        lut = np.array(
            [*(pts[self.categories.get(n, self.unknown)] for n in names), pts[self.missing]],
            dtype=np.float64,
        )
        return np.take(lut, codes, out=out)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "slot_points": list(self.slot_points),
        }
        if self.kind == "numeric":
            out["splits"] = list(self.splits)
            out["special_values"] = list(self.special_values)
        else:
            out["categories"] = dict(self.categories)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompiledCharacteristic:
        return cls(
            name=str(data["name"]),
            kind=data["kind"],
            slot_points=tuple(float(v) for v in data["slot_points"]),
            splits=tuple(float(v) for v in data.get("splits", ())),
            special_values=tuple(float(v) for v in data.get("special_values", ())),
            categories={str(k): int(v) for k, v in data.get("categories", {}).items()},
        )


@dataclass(frozen=True)
class CompiledScorecard:
    """A fitted scorecard reduced to lookup tables; scores any table in flat memory."""

    characteristics: tuple[CompiledCharacteristic, ...]
    scaling: Scaling

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.characteristics]

    def _check_columns(self, X: Any) -> None:
        have = set(column_names(X))
        missing = [c for c in self.features if c not in have]
        if missing:
            raise ScoringInputError(f"the table lacks the model's characteristics: {missing}")

    def _chunks(self, X: Any, chunk_rows: int) -> Iterator[tuple[int, int]]:
        if chunk_rows <= 0:
            raise ScoringError("chunk_rows must be positive")
        total = n_rows(X)
        for start in range(0, total, chunk_rows):
            yield start, min(start + chunk_rows, total)

    def raw_score(self, X: Any, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> FloatArray:
        """Unclipped total points per row (the sum of the characteristics' points)."""
        self._check_columns(X)
        out = np.zeros(n_rows(X), dtype=np.float64)
        size = min(chunk_rows, max(len(out), 1))
        buf = np.empty(size, dtype=np.float64)
        scratch = (np.empty(size, dtype=np.bool_), np.empty(size, dtype=np.uint8))
        for start, stop in self._chunks(X, chunk_rows):
            acc = out[start:stop]
            tmp = buf[: stop - start]
            for ch in self.characteristics:
                ch.points(column_slice(X, ch.name, start, stop), out=tmp, scratch=scratch)
                np.add(acc, tmp, out=acc)
        return out

    def score(self, X: Any, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> FloatArray:
        """Scores clipped to the scaling's range."""
        return self.scaling.clip(self.raw_score(X, chunk_rows=chunk_rows))

    def proba(self, X: Any, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> FloatArray:
        """Probability of bad implied by the (unclipped) points."""
        return self.scaling.proba_from_score(self.raw_score(X, chunk_rows=chunk_rows))

    def points(self, X: Any, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> FloatArray:
        """Points per row and characteristic, shape ``(n_rows, n_characteristics)``."""
        self._check_columns(X)
        out = np.empty((n_rows(X), len(self.characteristics)), dtype=np.float64)
        for start, stop in self._chunks(X, chunk_rows):
            for j, ch in enumerate(self.characteristics):
                out[start:stop, j] = ch.points(column_slice(X, ch.name, start, stop))
        return out

    def slots(self, X: Any, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> IntArray:
        """Bin slot per row and characteristic (see CompiledCharacteristic)."""
        self._check_columns(X)
        out = np.empty((n_rows(X), len(self.characteristics)), dtype=np.int64)
        for start, stop in self._chunks(X, chunk_rows):
            for j, ch in enumerate(self.characteristics):
                out[start:stop, j] = ch.slots(column_slice(X, ch.name, start, stop))
        return out

    def max_points(self) -> FloatArray:
        return np.array([c.max_points for c in self.characteristics], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scaling": self.scaling.to_dict(),
            "characteristics": [c.to_dict() for c in self.characteristics],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompiledScorecard:
        return cls(
            characteristics=tuple(
                CompiledCharacteristic.from_dict(c) for c in data["characteristics"]
            ),
            scaling=Scaling.from_dict(data["scaling"]),
        )


def score_table(
    model: CompiledScorecard, X: Any, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> FloatArray:
    """Batch-score a table (pandas, Arrow or a mapping of numpy columns) in flat memory."""
    return model.score(X, chunk_rows=chunk_rows)


__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "CompiledCharacteristic",
    "CompiledScorecard",
    "Kind",
    "score_table",
]
