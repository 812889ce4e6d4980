"""Risk score arithmetic (numpy, no database)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.config import load_settings
from engine.scoring import compute, thresholds
from engine.scoring.data import Inputs, _sum_by
from engine.scoring.write import explanation_texts
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
    assert thresholds(load_settings({"O2C_RISK_THRESHOLDS": "10, 20, 90"})) == (10, 20, 90)
    assert thresholds(load_settings({})) == (25, 50, 75)


@pytest.mark.parametrize("raw", ["25,50", "50,25,75", "a,b,c", "0,50,75", "25,50,101"])
def test_bad_thresholds_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed, match="O2C_RISK_THRESHOLDS"):
        load_settings({"O2C_RISK_THRESHOLDS": raw})


def test_bulk_explanation_texts_are_the_json_pony_stores_for_the_same_explanation() -> None:
    rng = np.random.default_rng(5)
    n = 2_000
    columns = {name: rng.integers(0, 50, n).tolist() for name in Inputs.__dataclass_fields__}
    columns["paid"] = rng.integers(0, 100_000, n).tolist()
    columns["paid_late_weighted"] = (np.asarray(columns["paid"]) * rng.integers(0, 90, n)).tolist()
    columns["recent_paid"] = (np.asarray(columns["paid"]) // 3).tolist()
    columns["exposure"] = rng.integers(0, 3_000_000, n).tolist()
    for name in columns:  # rows 0-2 show no contribution, row 3 one, row 4 two
        for k in range(5):
            columns[name][k] = 0
    columns["allocations"][3:5] = [4, 4]
    columns["allocations_late"][3:5] = [1, 2]
    columns["disputes"][4], columns["invoices"][4] = 1, 4
    scores = compute(inputs(**columns))
    texts = explanation_texts(scores)
    assert texts == [json.dumps(e, sort_keys=True, separators=(",", ":")) for e in scores.explanations()]
    assert {len(e["top"]) for e in scores.explanations()} >= {0, 1, 2, 3}


def test_a_value_that_rounds_to_minus_zero_is_written_as_minus_zero_like_json_does() -> None:
    # trend: recent 0.00001 days late on average less than older → rounds to -0.0
    x = inputs(paid=[200_000], recent_paid=[100_000], paid_late_weighted=[1], recent_late_weighted=[0])
    scores = compute(x)
    assert '"trend":{"points":0.0,"value":-0.0}' in explanation_texts(scores)[0]
    assert explanation_texts(scores)[0] == json.dumps(scores.explanation(0), sort_keys=True, separators=(",", ":"))


def test_sums_per_customer_stay_exact_beyond_float_precision() -> None:
    big = 2**60
    sums = _sum_by(np.array([0, 1, 0, 1]), np.array([big, 3, 1, -2], dtype=np.int64), 2)
    assert sums.tolist() == [big + 1, 1]
    assert _sum_by(np.array([1, 1]), np.array([7, 8], dtype=np.int64), 3).tolist() == [0, 15, 0]
