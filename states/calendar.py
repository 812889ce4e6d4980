"""The dates the service works with. Business dates, due dates, promise dates and report ranges all
lie within FIRST_DATE..LAST_DATE: far enough for any real ledger, near enough that date arithmetic
(due date + terms, today − days past due, a report's days) never leaves what Python and the
databases hold."""

from __future__ import annotations

from datetime import date

from states.errors import ValidationFailed

FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2199, 12, 31)
MAX_DAYS = (LAST_DATE - FIRST_DATE).days


def check_date(value: date, field: str = "date") -> date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValidationFailed(
            f"{value.isoformat()} is outside the supported dates ({FIRST_DATE} to {LAST_DATE})", field
        )
    return value


def check_days(value: int, field: str) -> int:
    """A count of days (a filter's days past due, a term, a tolerance) that fits the supported dates."""
    if not -MAX_DAYS <= value <= MAX_DAYS:
        raise ValidationFailed(f"{value} days is beyond the supported dates (at most {MAX_DAYS})", field)
    return value
