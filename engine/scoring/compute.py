"""Customer risk score, the arithmetic (numpy, no database): 0–100 from payment behaviour and exposure, a class, and the
contributions that explain it.

Factors and their maximum points (they add up to 100):

| factor              | value                                                   | full points at |
| ------------------- | ------------------------------------------------------- | -------------- |
| days_late (30)      | amount-weighted average days late (paid + open overdue) | 45 days        |
| share_late (20)     | share of allocations paid late + open overdue invoices  | 100 %          |
| trend (10)          | recent (90 d) average days late minus the older average | +30 days       |
| broken_promises (15)| promises to pay broken                                  | 3              |
| dispute_rate (10)   | disputes per invoice                                    | 25 %           |
| utilisation (15)    | exposure / credit limit, counted above 50 %             | 150 %          |

Classes: below the first threshold `low`, then `medium`, `high`, at or above the last
`critical`; thresholds come from `O2C_RISK_THRESHOLDS` (default "25,50,75").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.config import Settings, current
from engine.scoring.data import CLASSES, Inputs

DEFAULT_THRESHOLDS = (25, 50, 75)
WEIGHTS = {
    "days_late": 30.0,
    "share_late": 20.0,
    "trend": 10.0,
    "broken_promises": 15.0,
    "dispute_rate": 10.0,
    "utilisation": 15.0,
}
FACTORS = tuple(WEIGHTS)
TOP = 3


def thresholds(settings: Settings | None = None) -> tuple[int, int, int]:
    """`O2C_RISK_THRESHOLDS="25,50,75"` (checked by the settings model) of `settings`, else the process's."""
    return (settings or current()).risk_thresholds


@dataclass
class Scores:
    customer_id: np.ndarray
    score: np.ndarray  # int64 0..100
    risk_class: np.ndarray  # str
    values: np.ndarray  # (n, factors) float64, the factor values
    points: np.ndarray  # (n, factors) float64, the points each factor adds

    def explanation(self, k: int) -> dict[str, Any]:
        """Why customer `k` (row index) scored what it did: every factor, the top ones first."""
        return self.explanations(np.array([k]))[0]

    def explanations(self, rows: np.ndarray | None = None) -> list[dict[str, Any]]:
        """Explanations for many rows at once (rounding and ranking vectorized)."""
        pick = slice(None) if rows is None else rows
        values = np.round(self.values[pick], 4).tolist()
        points = np.round(self.points[pick], 1).tolist()
        order = np.argsort(-self.points[pick], axis=1, kind="stable")[:, :TOP].tolist()
        scores = self.score[pick].tolist()
        classes = self.risk_class[pick].tolist()
        out = []
        for v, p, o, s, c in zip(values, points, order, scores, classes, strict=True):
            top = [{"factor": FACTORS[j], "points": p[j], "value": v[j]} for j in o if p[j] > 0]
            factors = {name: {"value": v[j], "points": p[j]} for j, name in enumerate(FACTORS)}
            out.append({"score": s, "class": c, "top": top, "factors": factors})
        return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num_f, den_f = num.astype(np.float64), den.astype(np.float64)
    out = np.zeros_like(num_f)
    np.divide(num_f, den_f, out=out, where=den_f > 0)
    return out


def compute(x: Inputs, limits: tuple[int, int, int] = DEFAULT_THRESHOLDS) -> Scores:
    """Pure numpy over aligned arrays: no database, no Python loop."""
    days_late = _ratio(x.paid_late_weighted + x.overdue_weighted, x.paid + x.overdue_open)
    share_late = _ratio(x.allocations_late + x.overdue_count, x.allocations + x.overdue_count)
    older_paid = x.paid - x.recent_paid
    recent_avg = _ratio(x.recent_late_weighted, x.recent_paid)
    older_avg = _ratio(x.paid_late_weighted - x.recent_late_weighted, older_paid)
    trend = np.where((x.recent_paid > 0) & (older_paid > 0), recent_avg - older_avg, 0.0)
    broken = x.broken_promises.astype(np.float64)
    dispute_rate = _ratio(x.disputes, x.invoices)
    utilisation = np.where(x.credit_limit > 0, _ratio(x.exposure, x.credit_limit), np.where(x.exposure > 0, 2.0, 0.0))
    values = np.column_stack([days_late, share_late, trend, broken, dispute_rate, utilisation])
    scaled = np.column_stack(
        [
            days_late / 45.0,
            share_late,
            trend / 30.0,
            broken / 3.0,
            dispute_rate / 0.25,
            (utilisation - 0.5) / 1.0,
        ]
    )
    weights = np.array([WEIGHTS[f] for f in FACTORS])
    points = np.clip(scaled, 0.0, 1.0) * weights
    score = np.clip(np.rint(points.sum(axis=1)), 0, 100).astype(np.int64)
    classes = np.asarray(CLASSES)[np.searchsorted(np.asarray(limits), score, side="right")]
    return Scores(x.customer_id, score, classes, values, points)
