"""The one clock. Every date rule works on the business date in the configured time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


class Clock:
    """Wall clock; `today()` is the business date in `zone`."""

    def __init__(self, zone: ZoneInfo | None = None) -> None:
        self.zone = zone or ZoneInfo("UTC")

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(self.zone).date()


class FixedClock(Clock):
    """A clock that tests and simulations set and advance by hand."""

    def __init__(self, at: datetime, zone: ZoneInfo | None = None) -> None:
        super().__init__(zone)
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at

    def advance(self, days: int = 0, seconds: int = 0) -> None:
        self._at += timedelta(days=days, seconds=seconds)


def clock_for_date(day: date, zone: ZoneInfo | None = None) -> FixedClock:
    """A clock pinned to noon of `day` in `zone` (the business date is `day` in that zone)."""
    z = zone or ZoneInfo("UTC")
    return FixedClock(datetime(day.year, day.month, day.day, 12, tzinfo=z).astimezone(UTC), z)


class PinnedDayClock(Clock):
    """`O2C_TODAY`: the business date stays pinned to `day` while the time is the wall clock's.
    Every process agrees on the time, so a lease one process takes is judged alike by the others,
    and it lapses when its holder dies (a stopped clock, or one running from each process's own
    start, breaks both)."""

    def __init__(self, day: date, zone: ZoneInfo | None = None) -> None:
        super().__init__(zone)
        self._day = day

    def today(self) -> date:
        return self._day


def stored(at: datetime) -> datetime:
    """The store keeps UTC without a zone (portable across SQLite and PostgreSQL)."""
    if at.tzinfo is None:
        raise ValueError("aware datetime expected")
    return at.astimezone(UTC).replace(tzinfo=None)


def loaded(at: datetime) -> datetime:
    """Back from the store: mark the naive UTC value as UTC."""
    return at.replace(tzinfo=UTC)
