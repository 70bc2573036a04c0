"""Points scaling: log-odds ↔ score, ``pdo`` points to double the odds."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from openbureau.errors import ScoringError


@dataclass(frozen=True)
class Scaling:
    """``score = offset + factor · ln(odds of good)``, clipped to ``[min_score, max_score]``.

    ``factor = pdo / ln 2`` so ``pdo`` more points double the odds of good, and
    ``offset`` puts ``base_score`` at ``base_odds`` (good : bad). Defaults follow the
    textbook convention (600 points at 50:1, 20 points to double the odds) and the
    300–850 range lenders expect.
    """

    pdo: float = 20.0
    base_score: float = 600.0
    base_odds: float = 50.0
    min_score: float = 300.0
    max_score: float = 850.0

    def __post_init__(self) -> None:
        if not (self.pdo > 0 and self.base_odds > 0):
            raise ScoringError("scaling needs pdo > 0 and base_odds > 0")
        if not self.min_score < self.max_score:
            raise ScoringError("scaling needs min_score < max_score")

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def score_from_logit(self, logit_bad: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Unclipped points from the log-odds of bad."""
        return self.offset - self.factor * np.asarray(logit_bad, dtype=np.float64)

    def logit_from_score(self, raw_score: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return (self.offset - np.asarray(raw_score, dtype=np.float64)) / self.factor

    def proba_from_score(self, raw_score: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Probability of bad from unclipped points."""
        logit = self.logit_from_score(raw_score)
        return 1.0 / (1.0 + np.exp(-logit))

    def clip(self, raw_score: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.clip(raw_score, self.min_score, self.max_score, out=raw_score)

    def to_dict(self) -> dict[str, float]:
        out = {k: float(v) for k, v in asdict(self).items()}
        out["factor"] = self.factor
        out["offset"] = self.offset
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scaling:
        return cls(
            pdo=float(data["pdo"]),
            base_score=float(data["base_score"]),
            base_odds=float(data["base_odds"]),
            min_score=float(data["min_score"]),
            max_score=float(data["max_score"]),
        )


__all__ = ["Scaling"]
