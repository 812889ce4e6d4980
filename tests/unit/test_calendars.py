"""Business days per customer (engine/calendars.py): the weekend and public holidays of a country
and subdivision from the `holidays` library; weekdays only for a customer without a country."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from engine.calendars import (
    business_day_flags,
    check_country,
    check_place,
    check_subdivision,
    holiday_name,
    is_business_day,
    next_business_day,
)
from states.errors import ValidationFailed

CHRISTMAS = date(2026, 12, 25)  # a Friday
EPIPHANY = date(2027, 1, 6)  # a Wednesday: a holiday in Bavaria, not in Berlin


def test_christmas_day_is_not_a_business_day_in_germany_but_is_for_a_customer_without_a_country() -> None:
    assert not is_business_day(CHRISTMAS, "DE")
    assert holiday_name(CHRISTMAS, "DE") == "Christmas Day"
    assert is_business_day(CHRISTMAS, None)
    assert holiday_name(CHRISTMAS, None) is None


def test_epiphany_is_a_holiday_in_bavaria_and_a_business_day_in_berlin() -> None:
    assert not is_business_day(EPIPHANY, "DE", "BY")
    assert is_business_day(EPIPHANY, "DE", "BE")
    assert is_business_day(EPIPHANY, "DE")  # the national calendar has no Epiphany


def test_weekends_are_not_business_days_with_or_without_a_country() -> None:
    saturday, sunday, monday = date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 7)
    for country in (None, "DE", "US"):
        assert not is_business_day(saturday, country)
        assert not is_business_day(sunday, country)
        assert is_business_day(monday, country)


def test_the_next_business_day_skips_a_holiday_weekend() -> None:
    # Fri 25 Dec and Sat 26 Dec (Boxing Day) are holidays in Germany, then a Sunday
    assert next_business_day(CHRISTMAS, "DE") == date(2026, 12, 28)
    assert next_business_day(date(2026, 12, 28), "DE") == date(2026, 12, 28)
    assert next_business_day(CHRISTMAS, None) == CHRISTMAS


def test_business_day_flags_judge_each_row_by_its_own_place() -> None:
    countries = np.asarray(["DE", "DE", "", "US", "DE"])
    subdivisions = np.asarray(["BY", "BE", "", "NY", "BY"])
    assert business_day_flags(EPIPHANY, countries, subdivisions).tolist() == [False, True, True, True, False]
    assert business_day_flags(CHRISTMAS, countries, subdivisions).tolist() == [False, False, True, False, False]
    assert business_day_flags(EPIPHANY, np.asarray([], dtype=str), np.asarray([], dtype=str)).size == 0


def test_country_and_subdivision_codes_are_normalised() -> None:
    assert check_country(" de ") == "DE"
    assert check_subdivision("DE", "by") == "BY"
    assert check_place("us", "ca") == ("US", "CA")
    assert check_place("", "") == (None, None)
    assert check_place(None, None) == (None, None)


@pytest.mark.parametrize(
    ("country", "subdivision", "field", "words"),
    [
        ("XX", None, "country", "not an ISO 3166-1 alpha-2 code"),
        ("DEU", None, "country", "not an ISO 3166-1 alpha-2 code"),
        ("DE", "CA", "subdivision", "not a subdivision of DE; one of BB, BE"),
        (None, "BY", "subdivision", "a subdivision needs a country"),
        ("NL", "X", "subdivision", "NL has none"),
    ],
)
def test_an_unknown_country_or_subdivision_is_a_validation_error_naming_its_field(
    country: str | None, subdivision: str | None, field: str, words: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_place(country, subdivision)
    assert caught.value.field == field
    assert words in caught.value.message
