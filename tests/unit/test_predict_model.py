"""The payment model on a generated history with pay runs, amount effects, trend, season,
disputes and broken promises (engine/predict/synthetic.py): it must beat the customer mean."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from engine.predict.features import COLUMN, Record, Targets, build, customer_mean_delay
from engine.predict.model import ModelSettings, predict, sample_delays, train
from engine.predict.synthetic import generate

START = 19000
DAYS = 600
CUT = START + DAYS - 60


@pytest.fixture(scope="module")
def history():  # type: ignore[no-untyped-def]
    return generate(800, 12000, START, DAYS, seed=3)


@pytest.fixture(scope="module")
def trained(history):  # type: ignore[no-untyped-def]
    paid = (history.paid_day >= 0) & (history.paid_day < CUT)
    with threadpool_limits(1):  # OpenMP threads on a shared box only wait for each other
        return train(
            history.record(CUT), history.promises, history.segment[paid], ModelSettings(iterations=60, max_rows=8000)
        )  # a sample of the ~11,000


def open_at_cut(history) -> tuple[np.ndarray, Targets]:  # type: ignore[no-untyped-def]
    idx = np.flatnonzero((history.issue_day <= CUT) & (history.paid_day >= CUT))
    return idx, Targets(
        history.customer_id[idx],
        history.issue_day[idx],
        history.due_day[idx],
        history.amount[idx],
        history.disputed[idx],
        history.segment[idx],
        np.full(idx.size, CUT, dtype=np.int64),
    )


def test_the_model_predicts_payment_dates_closer_than_the_customer_mean(history, trained) -> None:  # type: ignore[no-untyped-def]
    idx, targets = open_at_cut(history)
    current = history.due_day[idx] >= CUT
    idx, targets = idx[current], Targets(*(getattr(targets, f)[current] for f in targets.__dataclass_fields__))
    record = history.record(CUT)
    pred = predict(trained, record, targets, CUT, history.promises)
    mean, _ = customer_mean_delay(record, targets)
    baseline = np.maximum(targets.due_day + np.round(mean).astype(np.int64), CUT)
    mae_model = np.abs(pred.expected_day - history.paid_day[idx]).mean()
    mae_mean = np.abs(baseline - history.paid_day[idx]).mean()
    assert trained.kind == "model"
    assert mae_model < 0.85 * mae_mean
    late = history.paid_day[idx] > history.due_day[idx]
    assert ((pred.p_late - late) ** 2).mean() < ((trained.base_rate - late) ** 2).mean()


def test_an_invoice_open_past_its_due_date_is_never_expected_before_today(history, trained) -> None:  # type: ignore[no-untyped-def]
    _, targets = open_at_cut(history)
    pred = predict(trained, history.record(CUT), targets, CUT, history.promises)
    assert (pred.expected_day >= CUT).all()
    assert (pred.low_day <= pred.expected_day).all() and (pred.expected_day <= pred.high_day).all()
    overdue = targets.due_day < CUT
    assert overdue.any() and (pred.p_late[overdue] == 1.0).all()
    assert (pred.days_late == np.maximum(pred.expected_day - targets.due_day, 0)).all()


def test_sampled_delays_stay_within_the_predicted_distribution(history, trained) -> None:  # type: ignore[no-untyped-def]
    _, targets = open_at_cut(history)
    pred = predict(trained, history.record(CUT), targets, CUT, history.promises)
    drawn = sample_delays(pred, np.random.default_rng(1))
    assert (drawn >= np.floor(pred.quantiles[:, 0]) - 1).all()
    assert (drawn <= np.ceil(pred.quantiles[:, -1]) + 1).all()


def test_a_history_too_short_to_learn_from_falls_back_to_the_customer_mean_and_says_so() -> None:
    rec = Record(*(np.asarray(v, dtype=np.int64) for v in ([1, 1], [0, 10], [30, 40], [35, 47], [100, 100])),
                 np.zeros(2, dtype=bool))  # fmt: skip
    model = train(rec, None, np.zeros(2, dtype=np.int64))
    assert model.kind == "baseline"
    assert "2 paid invoices on record, 200 needed" in model.reason
    one = Targets(*(np.asarray([v], dtype=np.int64) for v in (1, 50, 80, 100)), np.zeros(1, dtype=bool),
                  np.zeros(1, dtype=np.int64), np.asarray([60]))  # fmt: skip
    pred = predict(model, rec, one, 60)
    assert int(pred.expected_day[0]) == 80 + 6  # the customer's mean delay: (5 + 7) / 2


def test_features_never_see_payments_made_on_or_after_the_known_day() -> None:
    rec = Record(*(np.asarray(v, dtype=np.int64) for v in ([1, 1], [0, 10], [30, 40], [35, 90], [100, 100])),
                 np.zeros(2, dtype=bool))  # fmt: skip
    target = Targets(*(np.asarray([v], dtype=np.int64) for v in (1, 60, 90, 100)), np.zeros(1, dtype=bool),
                     np.zeros(1, dtype=np.int64), np.asarray([60]))  # fmt: skip
    x = build(rec, target)
    assert x[0, COLUMN["history"]] == 1  # the payment on day 90 is in the future of day 60
    assert x[0, COLUMN["mean_delay"]] == 5
