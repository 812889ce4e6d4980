"""Risk score arithmetic (numpy, no database)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.scoring import compute, thresholds
from engine.scoring_data import Inputs
from states.errors import ValidationFailed


def inputs(**columns: list[int]) -> Inputs:
    n = len(next(iter(columns.values())))
    fields = {name: np.zeros(n, dtype=np.int64) for name in Inputs.__dataclass_fields__}
    fields["customer_id"] = np.arange(1, n + 1, dtype=np.int64)
    fields["credit_limit"] = np.full(n, 1_000_000, dtype=np.int64)
    for name, values in columns.items():
        fields[name] = np.asarray(values, dtype=np.int64)
    return Inputs(**fields)


def test_a_prompt_payer_within_its_limit_is_low_risk() -> None:
    s = compute(inputs(paid=[100_000], allocations=[10], invoices=[10], exposure=[100_000]))
    assert (int(s.score[0]), str(s.risk_class[0])) == (0, "low")
    assert s.explanation(0)["top"] == []


def test_a_chronically_late_payer_who_breaks_promises_is_critical_and_says_why() -> None:
    s = compute(
        inputs(
            paid=[100_000],
            paid_late_weighted=[100_000 * 60],
            allocations=[10],
            allocations_late=[9],
            broken_promises=[4],
            invoices=[10],
            disputes=[1],
            exposure=[1_400_000],
        )
    )
    e = s.explanation(0)
    assert e["class"] == "critical" and e["score"] >= 75
    assert [t["factor"] for t in e["top"]] == ["days_late", "share_late", "broken_promises"]
    assert e["factors"]["days_late"] == {"value": 60.0, "points": 30.0}
    assert sum(f["points"] for f in e["factors"].values()) == pytest.approx(e["score"], abs=0.6)


def test_days_late_are_weighted_by_amount() -> None:
    # 90 paid 0 days late, 10 paid 30 days late → 3 days on average, not 15
    s = compute(inputs(paid=[100], paid_late_weighted=[10 * 30], allocations=[2], allocations_late=[1]))
    assert s.values[0, 0] == pytest.approx(3.0)


def test_a_worsening_trend_adds_points_and_an_improving_one_does_not() -> None:
    worse = inputs(paid=[200], recent_paid=[100], paid_late_weighted=[100 * 30], recent_late_weighted=[100 * 30])
    better = inputs(paid=[200], recent_paid=[100], paid_late_weighted=[100 * 30], recent_late_weighted=[0])
    assert compute(worse).points[0, 2] == pytest.approx(10.0)
    assert compute(better).points[0, 2] == 0.0


def test_exposure_without_a_credit_limit_counts_as_fully_used() -> None:
    x = inputs(exposure=[500])
    x.credit_limit[:] = 0
    assert compute(x).points[0, 5] == pytest.approx(15.0)


def test_classes_follow_the_configured_thresholds() -> None:
    x = inputs(allocations=[10, 10, 10], allocations_late=[2, 5, 10])  # share late → 4, 10, 20 points
    assert compute(x, (5, 10, 20)).risk_class.tolist() == ["low", "high", "critical"]
    assert thresholds({"O2C_RISK_THRESHOLDS": "10, 20, 90"}) == (10, 20, 90)
    assert thresholds({}) == (25, 50, 75)


@pytest.mark.parametrize("raw", ["25,50", "50,25,75", "a,b,c", "0,50,75", "25,50,101"])
def test_bad_thresholds_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed, match="O2C_RISK_THRESHOLDS"):
        thresholds({"O2C_RISK_THRESHOLDS": raw})
