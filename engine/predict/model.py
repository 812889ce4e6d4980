"""The payment model: gradient-boosted trees (scikit-learn's HistGradientBoosting, the home of that
library in this project) over `engine.predict.features`, and the customer-mean baseline it falls
back to when the record is too short to learn from (docs/adr/0016-payment-model.md).

A prediction of one invoice is a distribution of its delay (days paid after the due date):
the median from the regressor, a grid of quantiles from the residuals of a held-out slice (by
how erratic the customer is), and the probability of paying after the due date from the
classifier. An invoice still open past its due date is conditioned on not being paid yet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from engine.predict.features import COLUMN, NAMES, WORDS, Promises, Record, Targets, build

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

QUANTILES = np.linspace(0.05, 0.95, 19)  # the delay distribution is kept as these quantiles
SPREAD_BINS = (2.0, 5.0, 10.0, 20.0)  # residual quantiles are kept per bin of the customer's spread
MAX_DAYS_OUT = 730  # no prediction lies further than two years ahead


@dataclass(frozen=True)
class ModelSettings:
    """How a model is trained (policy data: `strategies/prediction.yaml` may override)."""

    min_payments: int = 200  # fewer paid invoices on record: the customer-mean baseline
    max_rows: int = 300_000  # train on a random sample of the paid invoices of up to this many
    iterations: int = 80
    classifier_rows: int = 150_000  # the late/on-time classifier learns from this many of those
    classifier_iterations: int = 60  # scoring time is per tree: the classifier gains little from more
    learning_rate: float = 0.15
    holdout_share: float = 0.1  # paid invoices held out (at random) to size the intervals


@dataclass
class Model:
    """A trained payment model, or the baseline (`kind == "baseline"`, no trees)."""

    kind: str  # "model" | "baseline"
    reason: str  # why this kind (for the baseline: what was missing)
    trained_rows: int
    residuals: FloatArray  # (len(SPREAD_BINS) + 1, len(QUANTILES)) delay minus median
    late_after: FloatArray  # (max days, 3): median and 10/90 % of the further delay of an invoice open d days late
    base_rate: float  # share of the record paid late
    metrics: dict[str, float] = field(default_factory=dict)
    regressor: Any = None
    classifier: Any = None
    reference: Any = None  # the feature values of an average invoice of the record (for factors)

    @property
    def is_baseline(self) -> bool:
        return self.kind == "baseline"


@dataclass
class Prediction:
    """Per target (aligned arrays). Days are day numbers since 1970-01-01."""

    expected_day: IntArray
    low_day: IntArray
    high_day: IntArray
    p_late: FloatArray  # 0..1
    days_late: IntArray  # expected_day - due_day, never below 0
    quantiles: FloatArray  # (n, len(QUANTILES)) delay quantiles (days after due), conditioned on today


def train(
    record: Record, promises: Promises | None, segments: IntArray, settings: ModelSettings | None = None
) -> Model:
    """Learn from `record` (paid invoices); `segments` gives each record row's segment code."""
    settings = settings or ModelSettings()
    t0 = time.perf_counter()
    delay = (record.paid_day - record.due_day).astype(np.float64)
    base_rate = float((delay > 0).mean()) if delay.size else 0.0
    if len(record) < settings.min_payments:
        reason = (
            f"{len(record)} paid invoices on record, {settings.min_payments} needed to learn from: "
            "the customer-mean baseline predicts instead"
        )
        return _baseline(reason, len(record), delay, base_rate)
    # A random sample, never "the latest paid": choosing rows by when they were paid selects on
    # the outcome (an old invoice paid recently was late) and doubled the error in a measurement.
    order = np.random.default_rng(0).permutation(len(record))[: settings.max_rows]
    rec = record.take(order)
    targets = Targets(
        rec.customer_id, rec.issue_day, rec.due_day, rec.amount, rec.disputed, segments[order], rec.issue_day
    )
    x = build(record, targets, promises)
    y = (rec.paid_day - rec.due_day).astype(np.float64)
    t1 = time.perf_counter()
    cut = int(len(y) * (1 - settings.holdout_share))
    # segment and weekday are small integer codes split on as numbers: declaring them categorical
    # made scikit-learn run a column transformer before every prediction (a fifth of scoring)
    reg = HistGradientBoostingRegressor(
        loss="absolute_error",  # the median delay: what the MAE judges (0.79 -> 0.70 of the baseline)
        max_iter=settings.iterations,
        learning_rate=settings.learning_rate,
        early_stopping=False,
        random_state=0,
    )
    clf = HistGradientBoostingClassifier(
        max_iter=settings.classifier_iterations,
        learning_rate=settings.learning_rate,
        early_stopping=False,
        random_state=0,
    )

    reg.fit(x[:cut], y[:cut])
    t2 = time.perf_counter()
    few = min(cut, settings.classifier_rows)  # the rows are in random order: any slice is a sample
    clf.fit(x[:few], y[:few] > 0)
    t3 = time.perf_counter()
    held = reg.predict(x[cut:])
    residuals = _residual_grid(y[cut:] - held, x[cut:, COLUMN["spread"]])
    model = Model(
        "model",
        f"learned from {len(y)} paid invoices",
        len(y),
        residuals,
        _late_after(delay),
        base_rate,
        {
            "features_seconds": t1 - t0,
            "regressor_seconds": t2 - t1,
            "classifier_seconds": t3 - t2,
            "holdout_mae_days": float(np.abs(y[cut:] - held).mean()) if len(held) else 0.0,
        },
        reg,
        clf,
        np.nanmedian(x, axis=0).astype(np.float32),
    )
    return model


def _baseline(reason: str, rows: int, delay: FloatArray, base_rate: float) -> Model:
    """No trees: the customer's mean delay with the record's spread around it."""
    spread = np.quantile(delay - delay.mean(), QUANTILES) if delay.size else np.zeros(QUANTILES.size)
    residuals = np.tile(spread, (len(SPREAD_BINS) + 1, 1))
    return Model("baseline", reason, rows, residuals, _late_after(delay), base_rate)


def _spread_bin(spread: npt.NDArray[Any]) -> IntArray:
    s = np.nan_to_num(np.asarray(spread, dtype=np.float64), nan=SPREAD_BINS[-1] + 1)
    return np.searchsorted(np.asarray(SPREAD_BINS), s).astype(np.int64)


def _residual_grid(residual: FloatArray, spread: npt.NDArray[Any]) -> FloatArray:
    bins = _spread_bin(spread)
    overall = np.quantile(residual, QUANTILES) if residual.size else np.zeros(QUANTILES.size)
    grid = np.tile(overall, (len(SPREAD_BINS) + 1, 1))
    for b in range(len(SPREAD_BINS) + 1):
        mine = residual[bins == b]
        if mine.size >= 50:
            grid[b] = np.quantile(mine, QUANTILES)
    return np.asarray(grid)


def _late_after(delay: FloatArray, horizon: int = 366) -> FloatArray:
    """For an invoice still open d days after its due date: the median, 10 % and 90 % of how many
    more days it took invoices of the record that were open that long (empirical residual life)."""
    table = np.zeros((horizon, 3))
    ordered = np.sort(delay)
    fallback = np.array([30.0, 7.0, 90.0])
    for d in range(horizon):
        rest = ordered[np.searchsorted(ordered, d, "right") :] - d
        if rest.size >= 20:
            table[d] = np.quantile(rest, [0.5, 0.1, 0.9])
        else:  # beyond the record's experience: the wait still to come grows with the wait so far
            table[d] = (table[d - 1] + (1, 0, 1)) if d else fallback
    return table


def predict(model: Model, record: Record, targets: Targets, today: int, promises: Promises | None = None) -> Prediction:
    """Predict open invoices as of day number `today` (targets' `known_day` should be `today`)."""
    x = build(record, targets, promises)
    mean = x[:, COLUMN["mean_delay"]].astype(np.float64)
    if model.is_baseline or len(targets) == 0:
        median = np.nan_to_num(mean, nan=0.0)
        p_late_raw = None
    else:
        median = model.regressor.predict(x)
        # past due and unpaid is late already (p_late 1): the classifier judges the others only
        p_late_raw = np.ones(len(targets))
        current = targets.due_day >= today
        if current.any():
            p_late_raw[current] = model.classifier.predict_proba(x[current])[:, 1]
    quantiles = median[:, None] + model.residuals[_spread_bin(x[:, COLUMN["spread"]])]
    if p_late_raw is None:
        p_late_raw = (quantiles > 0).mean(axis=1)
    return _condition(model, targets, today, median, quantiles, p_late_raw)


def _condition(
    model: Model, targets: Targets, today: int, median: FloatArray, quantiles: FloatArray, p_late: FloatArray
) -> Prediction:
    """Condition on the invoice being unpaid today: a delay that already passed is impossible."""
    past = (today - targets.due_day).astype(np.float64)  # days already late (negative: not yet due)
    overdue = past > 0
    # The grid is sorted, so the quantiles still possible (not before today) are a suffix of it.
    life = model.late_after[np.clip(past, 0, len(model.late_after) - 1).astype(np.int64)]
    width = quantiles.shape[1]
    left = (quantiles >= past[:, None]).sum(axis=1)  # how many remain
    enough = left >= 3
    first = width - np.maximum(left, 1)
    rows = np.arange(len(past))

    below = first * (QUANTILES[1] - QUANTILES[0])  # the probability mass already impossible

    def at(u: float) -> FloatArray:
        """The conditional u-quantile: level below + u × (1 - below) of the unconditioned grid."""
        level = below + u * (1 - below)
        k = np.round((level - QUANTILES[0]) / (QUANTILES[1] - QUANTILES[0])).astype(np.int64)
        return np.asarray(quantiles[rows, np.clip(k, first, width - 1)])

    lo = np.where(enough, at(0.1), past + life[:, 1])
    mid = np.maximum(np.where(enough, at(0.5), past + life[:, 0]), past)
    hi = np.where(enough, at(0.9), past + life[:, 2])
    grid = np.where(enough[:, None], np.maximum(quantiles, past[:, None]), (past + life[:, 0])[:, None])
    days = np.clip(np.round(mid), -(targets.due_day - targets.issue_day), MAX_DAYS_OUT).astype(np.int64)
    expected = np.maximum(targets.due_day + days, today)
    low = np.minimum(np.maximum(targets.due_day + np.round(lo).astype(np.int64), today), expected)
    high = np.maximum(targets.due_day + np.round(hi).astype(np.int64), expected)
    return Prediction(
        expected_day=expected,
        low_day=low,
        high_day=high,
        p_late=np.where(overdue, 1.0, np.clip(p_late, 0.0, 1.0)),
        days_late=np.maximum(expected - targets.due_day, 0),
        quantiles=grid,
    )


def factors(model: Model, record: Record, targets: Targets, today: int, top: int = 3) -> list[list[dict[str, Any]]]:
    """Per target, the features that moved its predicted delay most (against the same invoice with
    that feature at the value of an average invoice of the record), in words, with the days they add."""
    x = build(record, targets, None)
    if model.is_baseline:
        return [
            [
                {
                    "feature": "mean_delay",
                    "words": WORDS["mean_delay"] + " (baseline: too little history for the model)",
                    "days": round(float(np.nan_to_num(x[k, COLUMN["mean_delay"]])), 1),
                }
            ]
            for k in range(len(targets))
        ]

    base = model.regressor.predict(x)
    reference = model.reference
    effect = np.zeros((len(targets), len(NAMES)))
    for j in range(len(NAMES)):
        swapped = x.copy()
        swapped[:, j] = reference[j]
        effect[:, j] = base - model.regressor.predict(swapped)
    out: list[list[dict[str, Any]]] = []
    for k in range(len(targets)):
        best = np.argsort(-np.abs(effect[k]))[:top]
        out.append(
            [
                {"feature": NAMES[j], "words": WORDS[NAMES[j]], "days": round(float(effect[k, j]), 1)}
                for j in best
                if abs(effect[k, j]) >= 0.05
            ]
        )
    return out


def sample_delays(pred: Prediction, rng: np.random.Generator) -> IntArray:
    """One delay (days after the due date) per invoice drawn from its predicted distribution
    (linear between the kept quantiles): a payment response for simulations."""
    u = rng.uniform(QUANTILES[0], QUANTILES[-1], len(pred.expected_day))
    k = np.clip(np.searchsorted(QUANTILES, u) - 1, 0, QUANTILES.size - 2)
    w = (u - QUANTILES[k]) / (QUANTILES[k + 1] - QUANTILES[k])
    rows = np.arange(len(u))
    value = pred.quantiles[rows, k] * (1 - w) + pred.quantiles[rows, k + 1] * w
    return np.round(value).astype(np.int64)
