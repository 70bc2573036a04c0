"""Input handling shared by the score models: frames, column kinds, screening, targets."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from openbureau.errors import ScoringInputError

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Tokens that mark a column name as an identifier rather than a characteristic.
_ID_TOKENS = frozenset({"id", "ids", "uuid", "guid", "key", "idx", "index", "rowid", "pk"})


def as_frame(X: Any) -> pd.DataFrame:
    """Accept a pandas DataFrame, an Arrow table/record batch or a mapping of columns."""
    if isinstance(X, pd.DataFrame):
        return X
    to_pandas = getattr(X, "to_pandas", None)
    if callable(to_pandas):  # pyarrow.Table / RecordBatch, polars.DataFrame
        frame = to_pandas()
        if isinstance(frame, pd.DataFrame):
            return frame
    if isinstance(X, Mapping):
        return pd.DataFrame(dict(X))
    raise ScoringInputError(
        "expected a pandas DataFrame, an Arrow table or a mapping of columns, "
        f"got {type(X).__name__}"
    )


def column_names(X: Any) -> list[str]:
    """Column names of any accepted table without converting it."""
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns]
    names = getattr(X, "column_names", None)  # pyarrow
    if names is not None:
        return [str(c) for c in names]
    if isinstance(X, Mapping):
        return [str(c) for c in X]
    return [str(c) for c in as_frame(X).columns]


def n_rows(X: Any) -> int:
    if isinstance(X, pd.DataFrame):
        return len(X)
    num_rows = getattr(X, "num_rows", None)
    if isinstance(num_rows, int):
        return num_rows
    if isinstance(X, Mapping):
        first = next(iter(X.values()), None)
        return 0 if first is None else len(first)
    return len(as_frame(X))


def column_slice(X: Any, name: str, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of one column as a numpy array (or pandas array), without copying X."""
    if isinstance(X, pd.DataFrame):
        return X[name].iloc[start:stop]
    if hasattr(X, "column") and hasattr(X, "num_rows"):  # pyarrow Table / RecordBatch
        col = X.column(name).slice(start, stop - start)
        return col.to_numpy(zero_copy_only=False) if hasattr(col, "to_numpy") else col
    if isinstance(X, Mapping):
        return X[name][start:stop]
    raise ScoringInputError(f"cannot read column {name!r} from {type(X).__name__}")


def to_float(values: Any) -> FloatArray:
    """A numeric column chunk as float64 with NaN for missing; text is parsed, unparsable → NaN."""
    if isinstance(values, pd.Series):
        if values.dtype == np.float64:
            return values.to_numpy(copy=False)  # a view: the common, fast case
        if pd.api.types.is_bool_dtype(values.dtype) and not isinstance(
            values.dtype, pd.CategoricalDtype
        ):
            return values.to_numpy(dtype=np.float64, na_value=np.nan)
        if pd.api.types.is_numeric_dtype(values.dtype):
            return values.to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    arr = np.asarray(values)
    if arr.dtype == np.float64:
        return arr
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64, copy=False)
    return pd.to_numeric(pd.Series(arr), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )


def canonical_category(value: Any) -> str:
    """One text form per category value, so ``1``, ``1.0`` and ``"1"`` are the same category."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value).strip()


def factorize_categories(values: Any) -> tuple[IntArray, list[str]]:
    """Codes (-1 = missing) and the canonical text of each distinct category."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), [canonical_category(u) for u in uniques]


def canonical_categories(values: Any) -> npt.NDArray[np.object_]:
    """Canonical text per row (None for missing), as binning fits on."""
    codes, names = factorize_categories(values)
    lut = np.array([*names, None], dtype=object)
    return lut[codes]


def name_tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if t]


def humanise(name: str) -> str:
    """``debt_to_income`` → ``Debt to income``."""
    words = " ".join(name_tokens(name))
    return (words[:1].upper() + words[1:]) if words else name


@dataclass(frozen=True)
class Screening:
    """Which columns a model uses, and why the others were dropped."""

    numeric: list[str]
    categorical: list[str]
    dropped: dict[str, str]


def _looks_like_id_name(name: str) -> bool:
    tokens = name_tokens(name)
    return bool(tokens) and (tokens[-1] in _ID_TOKENS or tokens[0] in _ID_TOKENS)


def screen_columns(
    X: pd.DataFrame,
    *,
    categorical: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
) -> Screening:
    """Decide each column's kind; drop constant, ID-like and date columns with a reason.

    Rules (chosen on principle, not fitted to any dataset):
      * constant: one distinct value, missing counted as a value;
      * datetime: dropped (derive durations as characteristics instead);
      * ID-like text: more than half the non-missing values distinct, or every value
        distinct when there are at least 20 of them;
      * ID-like integer: (nearly) every value distinct, and the name says "id"/"key" or the
        values fill a dense range (a row number);
      * any column whose name says "id"/"key" and whose values are all distinct.
    """
    forced_cat = {str(c) for c in (categorical or ())}
    excluded = {str(c) for c in exclude}
    numeric: list[str] = []
    cats: list[str] = []
    dropped: dict[str, str] = {}
    n = len(X)
    for raw_name in X.columns:
        name = str(raw_name)
        if name in excluded:
            continue
        col = X[raw_name]
        dtype = col.dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
            dropped[name] = "date or time column: use a duration derived from it instead"
            continue
        is_text = not (
            pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
        ) or isinstance(dtype, pd.CategoricalDtype)
        if is_text and name not in forced_cat and not isinstance(dtype, pd.CategoricalDtype):
            non_null = col.dropna()
            parsed = pd.to_numeric(non_null.astype(str), errors="coerce")
            if len(non_null) and parsed.notna().all():
                is_text = False  # numbers stored as text
        if is_text or name in forced_cat:
            non_null = col.dropna()
            n_distinct = int(non_null.nunique())
            if n_distinct + int(len(non_null) < n) <= 1:
                dropped[name] = "constant: a single value in every row"
                continue
            all_distinct = n_distinct == len(non_null) and len(non_null) >= 20
            if len(non_null) >= 20 and (n_distinct > 0.5 * len(non_null) or all_distinct):
                dropped[name] = (
                    f"ID-like: {n_distinct} distinct values in {len(non_null)} rows "
                    "(a free-text or identifier column, not a characteristic)"
                )
                continue
            cats.append(name)
            continue
        values = to_float(col)
        finite = values[~np.isnan(values)]
        has_missing = finite.size < n
        if finite.size == 0 or (finite.min() == finite.max() and not has_missing):
            dropped[name] = "constant: a single value in every row"
            continue
        # Distinct counts cost a hash of the column: only where an identifier is possible
        # (whole numbers, or a name that says "id").
        integral = bool(np.all(np.isfinite(finite)) and np.all(finite == np.round(finite)))
        if finite.size >= 20 and (integral or _looks_like_id_name(name)):
            n_distinct = len(np.unique(finite))
            if n_distinct == finite.size and _looks_like_id_name(name):
                dropped[name] = "ID-like: every value distinct and the name marks an identifier"
                continue
            if integral and n_distinct >= 0.98 * finite.size:
                span = float(finite.max() - finite.min()) + 1.0
                if span <= 1.5 * finite.size or _looks_like_id_name(name):
                    dropped[name] = (
                        "ID-like: distinct integers filling a dense range (a row number)"
                    )
                    continue
        numeric.append(name)
    return Screening(numeric=numeric, categorical=cats, dropped=dropped)


def numeric_for_binning(col: pd.Series) -> FloatArray:
    """Float values for binning: ±inf are moved to the largest/smallest finite value.

    Scoring puts +inf in the top bin and -inf in the bottom one (searchsorted does), so
    training treats them the same way instead of refusing them.
    """
    values = to_float(col).copy()
    pos, neg = values == np.inf, values == -np.inf
    if pos.any() or neg.any():
        finite = values[np.isfinite(values)]
        top = float(finite.max()) if finite.size else 0.0
        bottom = float(finite.min()) if finite.size else 0.0
        values[pos] = top
        values[neg] = bottom
    return values


def binary_target(y: Any) -> npt.NDArray[np.int64]:
    """A 0/1 target (1 = bad) as int64; anything else is an error."""
    arr = np.asarray(pd.Series(np.asarray(y)).to_numpy())
    if arr.ndim != 1:
        raise ScoringInputError("the target must be one column")
    try:
        values = arr.astype(np.float64)
    except (TypeError, ValueError) as e:
        raise ScoringInputError(
            "the target must be 0/1 (1 = bad); map labels first (see fit-table's --bad-value)"
        ) from e
    if np.isnan(values).any():
        raise ScoringInputError("the target has missing values")
    distinct = set(np.unique(values).tolist())
    if not distinct <= {0.0, 1.0}:
        raise ScoringInputError(f"the target must be 0/1 (1 = bad), got values {sorted(distinct)}")
    if len(distinct) < 2:
        raise ScoringInputError("the target has one class only: need both goods and bads")
    return values.astype(np.int64)


def canonical_rows(X: pd.DataFrame, y: IntArray) -> tuple[pd.DataFrame, IntArray, str]:
    """The rows in an order set by their content, and the SHA-256 data hash of the table.

    A model must be a function of its training data, not of the order the rows came in: two
    bureaus holding the same file list it in different orders (consumer ids are keyed per
    home), and LightGBM's early-stopping split and bagging follow row positions — the same
    data in another order gave the same consumer a GBM score 17 points apart, and the
    scorecard's solver differed in the 13th digit. Sorting by each row's pandas hash, then
    the target, gives one order for one multiset of rows (equal rows are interchangeable).
    The hash covers column names, dtypes, the sorted row hashes and the targets in that
    order, so it too names the data, whatever its order.
    """
    rows = pd.util.hash_pandas_object(X, index=False).to_numpy()
    order = np.lexsort((y, rows))
    digest = hashlib.sha256()
    for name, dtype in zip(X.columns, X.dtypes, strict=True):
        digest.update(f"{name}:{dtype};".encode())
    digest.update(rows[order].tobytes())
    digest.update(np.asarray(y[order], dtype=np.int64).tobytes())
    return X.iloc[order].reset_index(drop=True), y[order], "sha256:" + digest.hexdigest()


__all__ = [
    "Screening",
    "as_frame",
    "binary_target",
    "canonical_categories",
    "canonical_category",
    "canonical_rows",
    "column_names",
    "column_slice",
    "factorize_categories",
    "humanise",
    "n_rows",
    "numeric_for_binning",
    "screen_columns",
    "to_float",
]
