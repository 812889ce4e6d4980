"""The one clock. Every date rule works on the business date in the configured time zone."""

from __future__ import annotations

import time
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

    def lease_now(self) -> datetime:
        """The time leases are judged by: the same in every process (see `PinnedDayClock`)."""
        return self.now()


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
    """`O2C_TODAY`: the business date stays pinned to `day`; business time starts at noon of it and
    runs, so simulations decide alike whenever they are run. Leases are judged by the wall clock
    (`lease_now`), which every process shares: a time running from each process's own start would
    let a newer process see a live leader's lease as lapsed, and a stopped one never lets it lapse."""

    def __init__(self, day: date, zone: ZoneInfo | None = None) -> None:
        super().__init__(zone)
        self._day = day
        self._start = clock_for_date(day, zone).now()
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._started)

    def today(self) -> date:
        return self._day

    def lease_now(self) -> datetime:
        return datetime.now(UTC)


def stored(at: datetime) -> datetime:
    """The store keeps UTC without a zone (portable across SQLite and PostgreSQL)."""
    if at.tzinfo is None:
        raise ValueError("aware datetime expected")
    return at.astimezone(UTC).replace(tzinfo=None)


def loaded(at: datetime) -> datetime:
    """Back from the store: mark the naive UTC value as UTC."""
    return at.replace(tzinfo=UTC)
