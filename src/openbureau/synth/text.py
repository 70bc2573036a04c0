"""Fast fixed-width text columns (ids, dates, phone numbers) straight into Arrow buffers.

Formatting millions of numbers one by one is the slowest thing a generator can do; these
build the ASCII bytes of whole columns with numpy and hand them to Arrow without copies.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

Part = "str | npt.NDArray[np.uint8]"


def digits(values: npt.NDArray[np.integer], width: int) -> npt.NDArray[np.uint8]:
    """Zero-padded decimal digits of non-negative ``values``: an (n, width) ASCII matrix."""
    v = values.astype(np.uint64)
    out = np.empty((v.shape[0], width), dtype=np.uint8)
    ten = np.uint64(10)
    for j in range(width - 1, -1, -1):  # one pass per digit beats a 2-D broadcast
        q = v // ten
        out[:, j] = (v - q * ten).astype(np.uint8) + 48
        v = q
    return out


def join(
    n: int, *parts: str | npt.NDArray[np.uint8], valid: npt.NDArray[np.bool_] | None = None
) -> pa.Array:
    """Concatenate constant strings and ASCII matrices column-wise into an Arrow string array."""
    blocks = []
    for part in parts:
        if isinstance(part, str):
            raw = np.frombuffer(part.encode("ascii"), dtype=np.uint8)
            blocks.append(np.broadcast_to(raw, (n, raw.size)))
        else:
            blocks.append(part)
    matrix = np.ascontiguousarray(np.hstack(blocks)) if blocks else np.zeros((n, 0), np.uint8)
    width = matrix.shape[1]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    validity = None
    if valid is not None and not valid.all():
        validity = pa.array(valid, pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(
        pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(matrix.tobytes())]
    )


def date_parts(days: npt.NDArray[np.integer]) -> tuple[npt.NDArray[np.uint8], ...]:
    """(YYYY, MM, DD) digit matrices for days since 1970-01-01."""
    d = days.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    years = months.astype("datetime64[Y]")
    y = years.astype(np.int64) + 1970
    m = (months - years).astype(np.int64) + 1
    dd = (d - months).astype(np.int64) + 1
    return digits(y, 4), digits(m, 2), digits(dd, 2)


def format_dates(
    days: npt.NDArray[np.integer], style: str, valid: npt.NDArray[np.bool_] | None = None
) -> pa.Array:
    """Dates as text: ``iso`` (YYYY-MM-DD), ``compact`` (YYYYMMDD) or ``dmy`` (DD/MM/YYYY)."""
    y, m, d = date_parts(days)
    n = y.shape[0]
    if style == "iso":
        return join(n, y, "-", m, "-", d, valid=valid)
    if style == "compact":
        return join(n, y, m, d, valid=valid)
    if style == "dmy":
        return join(n, d, "/", m, "/", y, valid=valid)
    raise ValueError(f"unknown date style {style!r}")


__all__ = ["date_parts", "digits", "format_dates", "join"]
