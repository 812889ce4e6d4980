"""The send window (engine/notices/window.py): local hours of the customer's time zone, on its
business days; outside them, when the window next opens (in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from engine.notices.window import Place, next_opening, waiting_reason
from engine.rules.errors import StrategyError
from engine.rules.loader import load_text
from engine.rules.strategy import DEFAULT_SEND_WINDOW, SendWindow

BERLIN = Place("Europe/Berlin", "DE", "BE")
NINE_TO_FIVE = SendWindow(time(9, 0), time(17, 0))


def local(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


def test_inside_the_default_window_on_a_business_day_nothing_waits() -> None:
    assert next_opening(local("Europe/Berlin", 2026, 12, 7, 10, 30), DEFAULT_SEND_WINDOW, BERLIN) is None


def test_before_eight_local_it_waits_until_eight_the_same_day() -> None:
    opens = next_opening(local("Europe/Berlin", 2026, 12, 7, 7, 59), DEFAULT_SEND_WINDOW, BERLIN)
    assert opens == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # 08:00 CET


def test_the_window_opens_at_eight_sharp_and_closes_at_six_sharp() -> None:
    assert next_opening(local("Europe/Berlin", 2026, 12, 7, 8, 0), DEFAULT_SEND_WINDOW, BERLIN) is None
    assert next_opening(local("Europe/Berlin", 2026, 12, 7, 17, 59, 59), DEFAULT_SEND_WINDOW, BERLIN) is None
    opens = next_opening(local("Europe/Berlin", 2026, 12, 7, 18, 0), DEFAULT_SEND_WINDOW, BERLIN)
    assert opens == datetime(2026, 12, 8, 7, 0, tzinfo=UTC)  # Tuesday 08:00 CET


def test_after_six_on_friday_it_waits_until_monday_eight() -> None:
    opens = next_opening(local("Europe/Berlin", 2026, 12, 4, 19, 0), DEFAULT_SEND_WINDOW, BERLIN)
    assert opens == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def test_a_saturday_waits_until_monday_and_a_holiday_until_the_next_business_day() -> None:
    assert next_opening(local("Europe/Berlin", 2026, 12, 5, 11, 0), DEFAULT_SEND_WINDOW, BERLIN) == datetime(
        2026, 12, 7, 7, 0, tzinfo=UTC
    )
    # Christmas (Fri), Boxing Day (Sat), Sunday: Monday 28th
    assert next_opening(local("Europe/Berlin", 2026, 12, 25, 11, 0), DEFAULT_SEND_WINDOW, BERLIN) == datetime(
        2026, 12, 28, 7, 0, tzinfo=UTC
    )


def test_the_same_utc_moment_is_inside_for_berlin_and_after_hours_for_tokyo() -> None:
    at = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # 11:00 in Berlin, 19:00 in Tokyo
    assert next_opening(at, DEFAULT_SEND_WINDOW, BERLIN) is None
    tokyo = next_opening(at, DEFAULT_SEND_WINDOW, Place("Asia/Tokyo", "JP"))
    assert tokyo == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)  # Tue 08:00 JST


def test_los_angeles_before_eight_local_waits_even_when_it_is_afternoon_in_utc() -> None:
    at = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # 07:00 PST
    opens = next_opening(at, DEFAULT_SEND_WINDOW, Place("America/Los_Angeles", "US", "CA"))
    assert opens == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


def test_on_the_dst_change_the_window_opens_at_eight_local_time() -> None:
    # Europe/Berlin moves to CEST on Sun 29 Mar 2026: after Friday evening the window opens Monday
    # 08:00 CEST = 06:00 UTC, not 07:00
    berlin = next_opening(local("Europe/Berlin", 2026, 3, 27, 20, 0), DEFAULT_SEND_WINDOW, BERLIN)
    assert berlin == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    # Los Angeles moves to PDT on Sun 8 Mar 2026; Monday 07:30 PDT waits until 08:00 PDT = 15:00 UTC
    la = Place("America/Los_Angeles", "US", "CA")
    assert next_opening(datetime(2026, 3, 9, 14, 30, tzinfo=UTC), DEFAULT_SEND_WINDOW, la) == datetime(
        2026, 3, 9, 15, 0, tzinfo=UTC
    )
    # a window from 02:30 on the night the clocks skip 02:00-03:00: open from 03:00 on, nothing is lost
    early = SendWindow(time(2, 30), time(18, 0))
    us = Place("America/New_York", None)
    assert next_opening(datetime(2026, 3, 9, 7, 0, tzinfo=UTC), early, us) is None  # Mon 03:00 EDT


def test_a_customer_without_a_country_has_weekdays_only() -> None:
    place = Place("Europe/Berlin")  # no country: Christmas is a Friday like any other
    assert next_opening(local("Europe/Berlin", 2026, 12, 25, 11, 0), DEFAULT_SEND_WINDOW, place) is None


def test_a_strategy_window_narrows_the_hours() -> None:
    assert next_opening(local("Europe/Berlin", 2026, 12, 7, 8, 30), NINE_TO_FIVE, BERLIN) == datetime(
        2026, 12, 7, 8, 0, tzinfo=UTC
    )


def test_the_waiting_reason_names_the_local_opening_and_the_calendar() -> None:
    opens = datetime(2026, 12, 28, 7, 0, tzinfo=UTC)
    assert waiting_reason(opens, DEFAULT_SEND_WINDOW, BERLIN) == (
        "outside the send window until Mon 2026-12-28 08:00 Europe/Berlin (08:00–18:00, business days of DE-BE)"
    )
    assert "Monday to Friday" in waiting_reason(opens, DEFAULT_SEND_WINDOW, Place("UTC"))


STRATEGY = """\
strategy: s
version: 1
applies_to: {{segment: [smb], risk: [low]}}
settings:
  grace_days: 3
  min_amount: {{EUR: 50.00}}
  max_dunning_level: 3
{window}rules:
  - id: first
    when: days_past_due >= 3
    then: [dun: {{channel: email, template: dunning_1}}]
"""


def test_a_strategy_without_send_window_gets_eight_to_six_and_one_with_it_its_own() -> None:
    assert load_text(STRATEGY.format(window=""), "s.yaml").settings.send_window == DEFAULT_SEND_WINDOW
    own = load_text(STRATEGY.format(window='  send_window: {from: "09:00", to: 17:00}\n'), "s.yaml")
    assert own.settings.send_window == NINE_TO_FIVE


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ('{from: "8am", to: "18:00"}', "s.yaml:8:23: send_window from must be a time of day HH:MM"),
        ('{from: "08:00", to: "24:00"}', "s.yaml:8:36: send_window to must be a time of day HH:MM"),
        ('{from: "18:00", to: "08:00"}', "s.yaml:8:36: send_window to (08:00) must be after from (18:00)"),
        ('{from: "08:00"}', "s.yaml:8:16: missing 'to' in 'send_window'"),
        ('{from: "08:00", to: "18:00", days: 5}', "s.yaml:8:45: unknown key 'days' in 'send_window'"),
    ],
)
def test_a_bad_send_window_is_reported_at_its_file_line_and_column(window: str, message: str) -> None:
    with pytest.raises(StrategyError) as caught:
        load_text(STRATEGY.format(window=f"  send_window: {window}\n"), "s.yaml")
    assert any(str(p).startswith(message) for p in caught.value.problems), [str(p) for p in caught.value.problems]
