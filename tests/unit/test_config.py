"""Numeric settings: a bad value stops the process at start with the variable's name."""

from __future__ import annotations

import pytest

from engine.config import positive
from states.errors import ValidationFailed


def test_an_unset_or_empty_variable_gives_the_default() -> None:
    assert positive({}, "O2C_X", 4) == 4
    assert positive({"O2C_X": "  "}, "O2C_X", 2.5) == 2.5


def test_a_value_is_read_as_the_kind_of_its_default() -> None:
    assert positive({"O2C_X": "7"}, "O2C_X", 4) == 7
    assert positive({"O2C_X": "0.25"}, "O2C_X", 1.0) == 0.25
    assert positive({"O2C_X": "3"}, "O2C_X", 1.0, float) == 3.0


@pytest.mark.parametrize(
    ("raw", "default", "why"),
    [
        ("0", 4, "a whole number, at least 1"),
        ("-2", 4, "a whole number, at least 1"),
        ("1.5", 4, "a whole number, at least 1"),
        ("many", 4, "a whole number, at least 1"),
        ("0", 1.0, "a number above 0"),
        ("soon", 1.0, "a number above 0"),
    ],
)
def test_zero_negative_or_not_a_number_is_refused_naming_the_variable(raw: str, default: float, why: str) -> None:
    with pytest.raises(ValidationFailed, match=f"O2C_X='{raw}': {why}"):
        positive({"O2C_X": raw}, "O2C_X", default)
