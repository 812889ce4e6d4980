"""Payment predictions as a service: train (`o2c predict train`), score every open invoice
(`o2c predict score`, and the daily refresh before the cycle), read one invoice's prediction
with its factors (the API), and predict delays for a set of invoices (the policy lab)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from engine.clock import Clock
from engine.config import Settings
from engine.cycle.book import owners_of
from engine.predict import model as m
from engine.predict.forecast import snapshot
from engine.predict.store import Book, day_of, latest_model, load, save_model, write_predictions
from engine.store.database import Store

log = logging.getLogger(__name__)


def settings_from(env: Settings) -> m.ModelSettings:
    """O2C_PREDICT_MIN_PAYMENTS, O2C_PREDICT_MAX_ROWS, O2C_PREDICT_ITERATIONS (see docs/operations.md)."""
    return m.ModelSettings(
        min_payments=env.predict_min_payments, max_rows=env.predict_max_rows, iterations=env.predict_iterations
    )


def threads(env: Settings) -> int:
    """Threads the trees may use (O2C_PREDICT_THREADS, 1): on a shared box more threads than free
    cores made training and scoring several times slower (OpenMP threads spin while they wait)."""
    return env.predict_threads


@dataclass
class Run:
    """What one training or scoring run did."""

    model_id: int
    kind: str
    reason: str
    trained_rows: int = 0
    scored: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        what = f"model {self.model_id} ({self.kind}: {self.reason})"
        secs = ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())
        return f"{what}; scored {self.scored} open invoices; {secs}"


def train(store: Store, today: date, at: datetime, env: Settings | None = None) -> Run:
    """Learn from every invoice paid before `today`, store the model, score every open invoice."""
    env = env or Settings()
    t0 = time.perf_counter()
    book = load(store, today)
    t1 = time.perf_counter()
    with threadpool_limits(threads(env)):
        model = m.train(book.record, book.promises, book.record_segment, settings_from(env))
    t2 = time.perf_counter()
    model_id = save_model(store, model, today, at)
    run = _score(store, today, model_id, model, book, env)
    run.trained_rows = model.trained_rows
    run.metrics = dict(model.metrics)
    run.seconds = {"load": t1 - t0, "train": t2 - t1, **run.seconds}
    return run


def score(store: Store, today: date, env: Settings | None = None, at: datetime | None = None) -> Run:
    """Score every open invoice with the latest model (training one first, recorded at `at`, if
    there is none)."""
    env = env or Settings()
    found = latest_model(store)
    if found is None:
        return train(store, today, at or Clock().now(), env)
    info, model = found
    t0 = time.perf_counter()
    book = load(store, today)
    run = _score(store, today, info.id, model, book, env)
    run.seconds = {"load": time.perf_counter() - t0 - sum(run.seconds.values()), **run.seconds}
    return run


def refresh(store: Store, today: date, at: datetime, env: Settings | None = None) -> Run:
    """The daily refresh: retrain when the model is older than O2C_PREDICT_RETRAIN_DAYS (7) or is
    the baseline, otherwise score with it."""
    env = env or Settings()
    found = latest_model(store)
    every = env.predict_retrain_days
    if found is None or found[0].kind == "baseline" or (today - found[0].business_date).days >= every:
        return train(store, today, at, env)
    return score(store, today, env, at)


def _score(store: Store, today: date, model_id: int, model: m.Model, book: Book, env: Settings) -> Run:
    t0 = time.perf_counter()
    with threadpool_limits(threads(env)):
        pred = m.predict(model, book.record, book.targets, _day(today), book.promises)
    t1 = time.perf_counter()
    written = write_predictions(store, model_id, today, book, pred)
    t2 = time.perf_counter()
    snapshot(store, today)
    t3 = time.perf_counter()
    seconds = {"score": t1 - t0, "write": t2 - t1, "forecast": t3 - t2}
    return Run(model_id, model.kind, model.reason, scored=written, seconds=seconds)


def _day(value: date) -> int:
    return (value - date(1970, 1, 1)).days


@dataclass(frozen=True)
class InvoicePrediction:
    """One invoice's prediction, for the API."""

    invoice_id: int
    expected_on: date
    low_on: date
    high_on: date
    p_late: float
    days_late: int
    model_id: int
    kind: str  # model | baseline
    reason: str
    factors: list[dict[str, Any]]


def explain(store: Store, invoice_ids: list[int], today: date) -> dict[int, InvoicePrediction]:
    """Predictions with their top factors for a few open invoices (computed now, with the latest
    model, or the customer-mean baseline when no model was trained yet)."""
    if not invoice_ids:
        return {}
    book = load(store, today, invoices=tuple(invoice_ids), customers=_owners(store, invoice_ids))
    if len(book.targets) == 0:
        return {}
    found = latest_model(store)
    if found is None:
        model = m.train(book.record, book.promises, book.record_segment, m.ModelSettings(min_payments=10**12))
        model_id, reason = 0, "no model trained yet (o2c predict train): " + model.reason
    else:
        model_id, model, reason = found[0].id, found[1], found[1].reason
    pred = m.predict(model, book.record, book.targets, _day(today), book.promises)
    words = m.factors(model, book.record, book.targets, _day(today))
    out = {}
    for k, invoice_id in enumerate(book.open_ids.tolist()):
        out[int(invoice_id)] = InvoicePrediction(
            int(invoice_id),
            day_of(int(pred.expected_day[k])),
            day_of(int(pred.low_day[k])),
            day_of(int(pred.high_day[k])),
            round(float(pred.p_late[k]), 3),
            int(pred.days_late[k]),
            model_id,
            model.kind,
            reason,
            words[k],
        )
    return out


def predict_delays(
    store: Store, invoice_ids: list[int], today: date, rng: np.random.Generator | None = None
) -> dict[int, tuple[int, float]]:
    """For the policy lab: per open invoice, a delay in days after its due date (the expected one,
    or one drawn from its predicted distribution when `rng` is given) and the late probability."""
    book = load(store, today, invoices=tuple(invoice_ids), customers=_owners(store, invoice_ids))
    found = latest_model(store)
    model = found[1] if found else m.train(book.record, book.promises, book.record_segment, m.ModelSettings(10**12))
    pred = m.predict(model, book.record, book.targets, _day(today), book.promises)
    delays = (pred.expected_day - book.targets.due_day) if rng is None else m.sample_delays(pred, rng)
    return {
        int(i): (int(d), float(p))
        for i, d, p in zip(book.open_ids.tolist(), np.asarray(delays).tolist(), pred.p_late.tolist(), strict=True)
    }


def _owners(store: Store, invoice_ids: list[int]) -> tuple[int, ...]:
    return owners_of(store, invoice_ids)
