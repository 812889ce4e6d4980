"""The demo's pay runs: a Friday payer pays on the next Friday, a month-end payer on the last day."""

from __future__ import annotations

from datetime import date

import numpy as np

from engine.demo.portfolio import pay_run_shift


def test_pay_runs_move_a_payment_to_the_next_friday_or_the_month_end() -> None:
    today = date(2026, 12, 6)  # a Sunday
    shift = pay_run_shift(today, np.asarray([0, 0, 0, 2, 6]), np.asarray([0, 1, 2, 1, 2]))
    assert shift.tolist() == [0, 5, 25, 0, 0]  # Nov 30 is a month end already
