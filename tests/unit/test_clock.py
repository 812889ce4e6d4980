"""The clock: `O2C_TODAY` pins the business date, never the time that leases are judged by."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.clock import PinnedDayClock


def test_a_pinned_day_keeps_its_business_date_whatever_the_wall_clock_says() -> None:
    clock = PinnedDayClock(date(2026, 3, 2), ZoneInfo("Europe/Berlin"))
    assert clock.today() == date(2026, 3, 2)
    assert clock.now().tzinfo is not None


def test_processes_pinned_to_one_day_agree_on_the_time_whenever_they_started() -> None:
    """Leases compare times taken by different processes: a clock that ran from each process's own
    start would let a newer process see a live leader's lease as lapsed."""
    started_first = PinnedDayClock(date(2026, 3, 2))
    before = datetime.now(UTC)
    started_later = PinnedDayClock(date(2026, 3, 2))
    first, later = started_first.now(), started_later.now()
    assert before <= later and before <= first  # both read the wall clock, not a private origin
    assert abs(later - first) < timedelta(seconds=5)
