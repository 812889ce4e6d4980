"""The clock: `O2C_TODAY` pins the business date (and a reproducible business time), never the
time that leases are judged by."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.clock import FixedClock, PinnedDayClock


def test_a_pinned_day_keeps_its_business_date_and_runs_from_noon_of_it() -> None:
    zone = ZoneInfo("Europe/Berlin")
    clock = PinnedDayClock(date(2026, 3, 2), zone)
    assert clock.today() == date(2026, 3, 2)
    local = clock.now().astimezone(zone)
    assert local.date() == date(2026, 3, 2)
    assert timedelta(0) <= local - datetime(2026, 3, 2, 12, tzinfo=zone) < timedelta(minutes=5)


def test_processes_pinned_to_one_day_judge_leases_by_one_time_whenever_they_started() -> None:
    """Leases compare times taken by different processes: business time that ran from each
    process's own start would let a newer process see a live leader's lease as lapsed."""
    started_first = PinnedDayClock(date(2026, 3, 2))
    before = datetime.now(UTC)
    started_later = PinnedDayClock(date(2026, 3, 2))
    first, later = started_first.lease_now(), started_later.lease_now()
    assert before <= first and before <= later  # the wall clock, not a private origin
    assert abs(later - first) < timedelta(seconds=5)


def test_a_test_clock_judges_leases_by_its_own_time() -> None:
    clock = FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC))
    clock.advance(seconds=40)
    assert clock.lease_now() == datetime(2026, 3, 2, 12, 0, 40, tzinfo=UTC)
