"""The Date scalar: ISO 8601 dates within the supported range (`states.calendar`), so that no
resolver ever sees year 1 or 9999."""

from __future__ import annotations

import datetime

import strawberry

from states.calendar import check_date
from states.errors import ValidationFailed


def _parse(value: object) -> datetime.date:
    if not isinstance(value, str):
        raise ValidationFailed("a date is a string like 2026-03-02", "date")
    try:
        parsed = datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"'{value[:40]}' is not a date; write it like 2026-03-02", "date") from None
    return check_date(parsed)


DATE_SCALAR = strawberry.scalar(
    name="Date",
    description="Date (isoformat)",
    serialize=datetime.date.isoformat,
    parse_value=_parse,
)
