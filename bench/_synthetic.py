"""Synthetic applicants for the speed bench: numpy only, so any peer's venv can import it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def make_columns(
    n: int, k: int = 20, seed: int = 0
) -> tuple[dict[str, npt.NDArray[np.float64]], npt.NDArray[np.int64]]:
    """``k`` numeric characteristics (heavy tails, counts, ~5 % missing in half) and a 0/1 bad.

    Generated column by column so peak memory stays near the size of the result.
    """
    rng = np.random.default_rng(seed)
    logit = np.full(n, -2.2)
    cols: dict[str, npt.NDArray[np.float64]] = {}
    for j in range(k):
        kind = j % 4
        if kind == 0:
            x = rng.lognormal(8.0, 1.2, n)  # balances, incomes: heavy right tail
            signal = np.log(x) - 8.0
        elif kind == 1:
            x = rng.uniform(0.0, 1.3, n)  # utilisation-like
            signal = 2.0 * (x - 0.5)
        elif kind == 2:
            x = rng.poisson(0.6, n).astype(np.float64)  # delinquency / inquiry counts
            signal = 0.8 * x
        else:
            x = rng.gamma(2.0, 30.0, n)  # months of history
            signal = -(x - 60.0) / 60.0
        weight = 0.3  # every characteristic informative: the bench scores all of them
        logit += weight * (signal if j % 2 == 0 else -signal)
        if j % 2 == 1:
            x[rng.random(n) < 0.05] = np.nan
        cols[f"c{j:02d}"] = x
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    return cols, y
