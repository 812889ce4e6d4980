"""Business days per customer: the weekend and the public holidays of the customer's country (and
subdivision, e.g. a German state), the home of the `holidays` library. A customer without a country
has the weekday-only calendar (Monday to Friday, no holidays).

The daily cycle asks for up to a million invoices at once: holidays are computed once per
(country, subdivision, year) and kept (`_year`), and `business_day_flags` judges each distinct
place once, then maps the answer to every row."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from types import MappingProxyType

import holidays
import numpy as np
import numpy.typing as npt

from states.errors import ValidationFailed

WEEKEND = frozenset({5, 6})  # Saturday, Sunday: the weekday-only calendar's weekend
_SEARCH_DAYS = 400  # no calendar has a year without a business day; past this something is wrong


@cache
def supported() -> dict[str, tuple[str, ...]]:
    """ISO 3166-1 alpha-2 code → the subdivision codes `holidays` knows for it."""
    return {k: tuple(v) for k, v in holidays.list_supported_countries(include_aliases=False).items()}


def check_country(code: str) -> str:
    """The canonical (upper-case) code, or `ValidationFailed` on field `country`."""
    text = code.strip().upper()
    if text not in supported():
        raise ValidationFailed(
            f"country '{code[:40]}' is not an ISO 3166-1 alpha-2 code with a holiday calendar (e.g. DE, US, FR)",
            "country",
        )
    return text


def check_subdivision(country: str | None, subdivision: str) -> str:
    """The subdivision's code as `holidays` spells it (matched without regard to case), or
    `ValidationFailed` on field `subdivision`; a subdivision needs a country."""
    if country is None:
        raise ValidationFailed("a subdivision needs a country", "subdivision")
    known = supported().get(country, ())
    wanted = subdivision.strip()
    for code in known:
        if code.casefold() == wanted.casefold():
            return code
    listed = ", ".join(known[:20]) + (", …" if len(known) > 20 else "")
    raise ValidationFailed(
        f"'{subdivision[:40]}' is not a subdivision of {country}"
        + (f"; one of {listed}" if known else f" ({country} has none)"),
        "subdivision",
    )


def check_place(country: str | None, subdivision: str | None) -> tuple[str | None, str | None]:
    """Both fields checked together (empty text counts as not given)."""
    c = check_country(country) if country and country.strip() else None
    s = check_subdivision(c, subdivision) if subdivision and subdivision.strip() else None
    return c, s


@cache
def _year(country: str, subdivision: str | None, year: int) -> tuple[Mapping[date, str], frozenset[int]]:
    """The public holidays (with their names) of one year and the weekend days (0 = Monday) of a place."""
    found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return MappingProxyType(dict(found.items())), frozenset(getattr(found, "weekend", WEEKEND))


def is_business_day(day: date, country: str | None, subdivision: str | None = None) -> bool:
    if not country:
        return day.weekday() not in WEEKEND
    off, weekend = _year(country, subdivision, day.year)
    return day.weekday() not in weekend and day not in off


def holiday_name(day: date, country: str | None, subdivision: str | None = None) -> str | None:
    """The public holiday on `day` (None: not one, or no country)."""
    return _year(country, subdivision, day.year)[0].get(day) if country else None


def next_business_day(day: date, country: str | None, subdivision: str | None = None) -> date:
    """The first business day on or after `day`."""
    for offset in range(_SEARCH_DAYS):
        candidate = day + timedelta(days=offset)
        if is_business_day(candidate, country, subdivision):
            return candidate
    raise ValueError(f"no business day within {_SEARCH_DAYS} days of {day} in {country}-{subdivision}")


def business_day_flags(
    day: date, countries: npt.NDArray[np.str_], subdivisions: npt.NDArray[np.str_]
) -> npt.NDArray[np.bool_]:
    """Whether `day` is a business day for each row's place ('' = no country / no subdivision):
    one judgement per distinct place, mapped back to the rows."""
    if countries.size == 0:
        return np.zeros(0, dtype=bool)
    places, rows = np.unique(np.char.add(np.char.add(countries, "|"), subdivisions), return_inverse=True)
    judged = np.empty(places.size, dtype=bool)
    for k, place in enumerate(places.tolist()):
        country, subdivision = place.split("|", 1)
        judged[k] = is_business_day(day, country or None, subdivision or None)
    return judged[rows.reshape(-1)]
