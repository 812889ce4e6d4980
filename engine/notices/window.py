"""Send windows: a message goes out only within its customer's local hours (its strategy's
`send_window`, by default 08:00–18:00) on the customer's business days (`engine/calendars.py`:
the weekend and public holidays of the customer's country and subdivision). Judged when the send
step claims a message (ADR 0024): one outside its window waits until the window next opens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.calendars import is_business_day, next_business_day
from engine.rules.strategy import SendWindow


@dataclass(frozen=True)
class Place:
    """Where a customer is, as far as its send window goes."""

    timezone: str
    country: str | None = None
    subdivision: str | None = None

    @property
    def calendar(self) -> str:
        if not self.country:
            return "Monday to Friday"
        return f"business days of {self.country}{'-' + self.subdivision if self.subdivision else ''}"


def next_opening(now: datetime, window: SendWindow, place: Place) -> datetime | None:
    """None when `now` is inside the customer's window; else when the window next opens (UTC)."""
    zone = ZoneInfo(place.timezone)
    local = now.astimezone(zone)
    day, at = local.date(), local.time()
    if is_business_day(day, place.country, place.subdivision):
        if window.start <= at < window.end:
            return None
        if at < window.start:
            return datetime.combine(day, window.start, tzinfo=zone).astimezone(UTC)
    opens = next_business_day(day + timedelta(days=1), place.country, place.subdivision)
    return datetime.combine(opens, window.start, tzinfo=zone).astimezone(UTC)


def waiting_reason(opens: datetime, window: SendWindow, place: Place) -> str:
    """What the notices query shows for a message that waits, in the customer's own time."""
    local = opens.astimezone(ZoneInfo(place.timezone))
    return (
        f"outside the send window until {local:%a %Y-%m-%d %H:%M} {place.timezone} "
        f"({window.start:%H:%M}–{window.end:%H:%M}, {place.calendar})"
    )
