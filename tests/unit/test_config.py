"""Numeric settings: a bad value stops the process at start with the variable's name."""

from __future__ import annotations

from datetime import time

import pytest

from engine.config import positive, switched_on, time_of_day
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


def test_a_time_of_day_comes_from_the_flag_before_the_variable_and_a_bad_one_names_it() -> None:
    assert time_of_day({}, "O2C_AT", "06:00") == time(6, 0)
    assert time_of_day({"O2C_AT": "07:30"}, "O2C_AT", "06:00") == time(7, 30)
    assert time_of_day({"O2C_AT": "07:30"}, "O2C_AT", "06:00", "05:15") == time(5, 15)
    with pytest.raises(ValidationFailed, match="O2C_AT='25:00' is not a time of day"):
        time_of_day({"O2C_AT": "25:00"}, "O2C_AT", "06:00")


@pytest.mark.parametrize(("raw", "on"), [(None, True), ("1", True), ("yes", True), ("0", False), (" OFF ", False)])
def test_a_switch_is_on_unless_turned_off(raw: str | None, on: bool) -> None:
    assert switched_on({} if raw is None else {"O2C_X": raw}, "O2C_X") is on
