"""Countback DSO: open receivables counted back against the sales of each month."""

from __future__ import annotations

from datetime import date

from engine.kpi_history import countback_dso


def test_receivables_below_this_months_sales_count_a_share_of_its_days() -> None:
    sales = {date(2026, 3, 10): 1000}
    assert countback_dso(500, sales, date(2026, 3, 20)) == 10.0  # half of March 1-20


def test_receivables_beyond_a_month_count_its_days_whole_and_go_on_to_the_month_before() -> None:
    sales = {date(2026, 3, 5): 1000, date(2026, 2, 14): 2800}
    # March 1-10 (10 days) takes 1000; February (28 days) has 2800, of which 1400 are left: 14 days
    assert countback_dso(2400, sales, date(2026, 3, 10)) == 24.0


def test_no_receivables_is_zero_and_receivables_without_sales_are_not_a_figure() -> None:
    assert countback_dso(0, {}, date(2026, 3, 10)) == 0.0
    assert countback_dso(100, {}, date(2026, 3, 10)) is None
