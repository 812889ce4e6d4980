"""Spreading open amounts over weeks along their predicted payment distributions."""

from __future__ import annotations

import numpy as np

from engine.predict.forecast import weekly


def test_an_invoice_certain_to_be_paid_on_one_day_lands_wholly_in_that_week() -> None:
    one = np.asarray([100_00.0])
    day = np.asarray([10.0])
    rows = weekly(one, day, day, day, 7, 3)  # weeks starting on days 7, 14, 21
    assert [r[0] for r in rows] == [100_00, 0, 0]


def test_the_weeks_share_the_whole_amount_and_the_band_holds_the_expectation() -> None:
    rng = np.random.default_rng(0)
    amount = rng.integers(1_000, 100_000, 500).astype(np.float64)
    mid = rng.integers(10, 60, 500).astype(np.float64)
    low, high = mid - rng.integers(0, 10, 500), mid + rng.integers(0, 20, 500)
    rows = weekly(amount, low, mid, high, 0, 20)
    assert abs(sum(r[0] for r in rows) - amount.sum()) <= 20  # rounding of 20 weeks
    assert all(lo <= e <= hi for e, lo, hi in rows)
    assert rows[0][0] < rows[3][0]  # few payments in the first week, most around the middle
