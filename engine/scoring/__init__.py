"""Customer risk scores: recomputed for every customer in one transaction (`score_all`) or for
one customer inside the caller's unit of work (`score_customer`, after a payment, dispute or
promise changed it). Both load with `engine.scoring.data`, compute with
`engine.scoring.compute` (the factors, weights and classes are documented there) and store the
same explanation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from engine.clock import Clock
from engine.journal import record_transition
from engine.scoring.compute import (
    CLASSES,
    DEFAULT_THRESHOLDS,
    FACTORS,
    TOP,
    WEIGHTS,
    Scores,
    compute,
    thresholds,
)
from engine.scoring.data import load, load_inputs
from engine.scoring.write import class_change, write_scores
from engine.store.bulk import Bulk
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from states.errors import ValidationFailed

__all__ = [
    "CLASSES",
    "DEFAULT_THRESHOLDS",
    "FACTORS",
    "TOP",
    "WEIGHTS",
    "BulkRun",
    "Scores",
    "compute",
    "score_all",
    "score_customer",
    "thresholds",
]


@dataclass
class BulkRun:
    """What one bulk re-score did, and how long each step took (seconds)."""

    scores: Scores
    changed: int = 0  # customer rows whose score, class or explanation changed
    class_changed: int = 0
    journaled: int = 0  # class changes of customers scored before: history row + outbox event
    seconds: dict[str, float] = field(default_factory=dict)  # load, compute, write, total


def score_all(
    store: Store,
    today: date | None = None,
    limits: tuple[int, int, int] | None = None,
    now: datetime | None = None,
) -> BulkRun:
    """Recompute every customer's score in one transaction: load, compute, write what changed
    (a class change with its history row and event). `today` is the business date and `now`
    the time the history records (pass `ctx.today()` and `ctx.now()`; default: the wall clock).

    Every read sees one state of the database and nobody changes a customer meanwhile: SQLite
    has one writer, and that is us from the first read (BEGIN IMMEDIATE); on PostgreSQL the
    transaction is REPEATABLE READ and locks the customer table against writers (readers go
    on) before it reads, so a payment scoring its customer at the same moment waits ~2 s."""
    limits = limits or thresholds()
    clock = Clock()
    today = today or clock.today()
    at = now or clock.now()
    if at.tzinfo is None:
        raise ValidationFailed(f"now={at.isoformat()}: a timezone-aware time is expected", "now")
    t0 = time.perf_counter()
    with UnitOfWork(store, write=True) as uow:
        bulk = Bulk(uow)
        if bulk.postgres:
            cur = bulk.conn.cursor()
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cur.execute("LOCK TABLE customer IN SHARE ROW EXCLUSIVE MODE")
            cur.close()
        inputs, stored = load(bulk, today)
        t1 = time.perf_counter()
        scores = compute(inputs, limits)
        t2 = time.perf_counter()
        written = write_scores(bulk, scores, stored, at)
        uow.commit()
    t3 = time.perf_counter()
    seconds = {"load": t1 - t0, "compute": t2 - t1, "write": t3 - t2, "total": t3 - t0}
    return BulkRun(scores, written.changed, written.class_changed, written.journaled, seconds)


def score_customer(
    uow: UnitOfWork,
    customer_id: int,
    today: date | None = None,
    limits: tuple[int, int, int] | None = None,
    *,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Recompute one customer inside the caller's unit of work (after a payment, dispute or
    promise changed it); returns the explanation that was stored. A class change of a customer
    scored before is journaled exactly as the bulk path does it (history row + event)."""
    uow.flush()
    scores = compute(load_inputs(Bulk(uow), today or Clock().today(), customer_id), limits or thresholds())
    if len(scores.customer_id) == 0:
        raise ValidationFailed(f"customer {customer_id} does not exist", "customer_id")
    explanation = scores.explanation(0)
    customer = uow.Customer[customer_id]
    before = (customer.risk_class, customer.risk_score, bool(customer.risk_explanation))
    customer.risk_score = explanation["score"]
    customer.risk_class = explanation["class"]
    customer.risk_explanation = explanation
    if before[2] and before[0] != customer.risk_class:
        customer.version += 1
        change = class_change(
            customer.id,
            customer.version,
            customer.state,
            (before[0], before[1]),
            (customer.risk_class, customer.risk_score),
            [t["factor"] for t in explanation["top"]],
            at or Clock().now(),
        )
        record_transition(uow, **change)
    return explanation
