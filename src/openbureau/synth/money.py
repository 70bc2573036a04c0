"""Money as Arrow decimals built straight from integer cents (exact, no float formatting)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

MONEY = pa.decimal128(14, 2)


def cents_to_decimal(
    cents: npt.NDArray[np.int64], valid: npt.NDArray[np.bool_] | None = None
) -> pa.Array:
    """``decimal128(14, 2)`` from integer cents, by laying out the 128-bit values directly."""
    n = cents.shape[0]
    words = np.empty((n, 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)  # two's-complement sign extension
    validity = None
    if valid is not None and not valid.all():
        validity = pa.array(valid, pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(MONEY, n, [validity, pa.py_buffer(words)])


__all__ = ["MONEY", "cents_to_decimal"]
