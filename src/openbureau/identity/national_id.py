"""The 18-character resident identity number (GB 11643-1999) and its ISO 7064 MOD 11-2 check.

Layout: 6-digit area code, 8-digit birth date (YYYYMMDD), 3-digit sequence (odd for men,
even for women), one check character (0-9 or X).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import numpy.typing as npt

WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)
_SHAPE = re.compile(r"^\d{17}[\dX]$")
_SEPARATORS = re.compile(r"[\s\-_.]")


def check_char(first17: str) -> str:
    """The check character for the first 17 digits."""
    total = sum(int(c) * int(w) for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def check_chars(first17: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    """Vectorised check characters for an (n, 17) array of digits."""
    idx = (first17 @ WEIGHTS) % 11
    chars: npt.NDArray[np.str_] = np.array(list(CHECK_CHARS))[idx]
    return chars


def normalise(raw: str) -> str:
    """Strip separators and upper-case the check character ('x' and 'X' are the same)."""
    return _SEPARATORS.sub("", raw).upper()


def is_valid(value: str) -> bool:
    """True if ``value`` (already normalised) has the right shape, a real birth date and check."""
    if not _SHAPE.match(value):
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return check_char(value[:17]) == value[17]


def invalid_reason(value: str) -> str | None:
    """Why ``value`` (normalised) is invalid, in words a furnisher can act on; None if valid."""
    if not _SHAPE.match(value):
        return "national id must be 17 digits followed by a digit or X"
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "national id carries an impossible birth date"
    if check_char(value[:17]) != value[17]:
        return "national id check character does not match (ISO 7064 MOD 11-2)"
    return None


__all__ = ["check_char", "check_chars", "invalid_reason", "is_valid", "normalise"]
