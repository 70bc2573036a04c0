from __future__ import annotations

import numpy as np
import pytest

from openbureau.identity.national_id import (
    check_char,
    check_chars,
    invalid_reason,
    is_valid,
    normalise,
)
from openbureau.synth.noise import mistype_national_id


def test_published_example_is_valid() -> None:
    # The example printed in GB 11643-1999.
    assert check_char("11010519491231002") == "X"
    assert is_valid("11010519491231002X")


def test_normalise_strips_separators_and_lower_x() -> None:
    assert normalise(" 110105-19491231-002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1101051949123100", "17 digits"),
        ("11010519491331002X", "impossible birth date"),
        ("110105194912310021", "check character"),
    ],
)
def test_invalid_ids_say_why(value: str, reason: str) -> None:
    assert not is_valid(value)
    assert reason in (invalid_reason(value) or "")


def test_vectorised_check_matches_scalar() -> None:
    rng = np.random.default_rng(3)
    digits = rng.integers(0, 10, (500, 17))
    vector = check_chars(digits)
    for row, char in zip(digits, vector, strict=True):
        assert check_char("".join(map(str, row))) == char


def test_every_single_digit_mistype_is_detected() -> None:
    rng = np.random.default_rng(11)
    for _ in range(2000):
        wrong = mistype_national_id(rng, "11010519491231002X")
        assert wrong != "11010519491231002X"
        assert check_char(wrong[:17]) != wrong[17] or wrong[:17] != "11010519491231002"
