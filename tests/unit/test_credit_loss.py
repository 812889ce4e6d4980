"""The provision matrix from roll rates (IFRS 9 simplified approach)."""

from __future__ import annotations

import numpy as np

from engine.predict.credit_loss import bucket_of, rates


def test_days_past_due_fall_into_the_aging_buckets() -> None:
    assert bucket_of(np.asarray([-5, 0, 1, 30, 31, 60, 61, 90, 91, 400])).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_loss_rates_are_the_roll_rates_chained_to_the_share_lost_in_the_last_bucket() -> None:
    # ten invoices of 100: four paid on time, two paid 1-30 late, one paid 31-60 late,
    # three reached 91+: one of them paid, two lost
    reached = np.asarray([0, 0, 0, 0, 1, 1, 2, 4, 4, 4])
    waiting = np.full(10, -1)
    lost = np.asarray([False] * 8 + [True, True])
    loss, roll, count = rates(reached, np.full(10, 100.0), waiting, lost)
    assert np.allclose(roll[:4], [0.6, 4 / 6, 0.75, 1.0], atol=1e-6)
    assert abs(loss[4] - 2 / 3) < 1e-6
    assert np.allclose(
        loss, [0.6 * (4 / 6) * 0.75 * 1.0 * (2 / 3), (4 / 6) * 0.75 * (2 / 3), 0.75 * (2 / 3), 2 / 3, 2 / 3]
    )
    assert count.tolist() == [10, 6, 4, 3, 3]


def test_an_invoice_still_sitting_in_a_bucket_has_not_had_its_chance_to_roll() -> None:
    reached = np.asarray([1, 1, 2])
    waiting = np.asarray([1, -1, -1])  # the first is open in 1-30 today
    _, roll, _ = rates(reached, np.full(3, 100.0), waiting, np.zeros(3, dtype=bool))
    assert roll[1] == 0.5  # one of the two that could move on did
