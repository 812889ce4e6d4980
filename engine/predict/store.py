"""Reading the payment record and open invoices as numpy arrays, and keeping models and
predictions in the database (tables `prediction_model`, `invoice_prediction`)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.cycle.portfolio import _EPOCH, fetch_all
from engine.predict.features import Promises, Record, Targets
from engine.predict.model import Model, Prediction
from engine.rules.facts import SEGMENTS
from engine.store.bulk import Bulk
from engine.store.database import Store
from engine.store.dialect import day_number_sql
from engine.store.unit_of_work import UnitOfWork
from states import invoice as inv_states

IntArray = npt.NDArray[np.int64]
COLLECTIBLE = ", ".join(f"'{s}'" for s in sorted(inv_states.COLLECTIBLE))


def day_number(value: date) -> int:
    return (value - _EPOCH).days


def day_of(number: int) -> date:
    return _EPOCH + timedelta(days=int(number))


def _segment(column: str) -> str:
    return f"CASE {column} " + " ".join(f"WHEN '{s}' THEN {k}" for k, s in enumerate(SEGMENTS)) + " ELSE -1 END"


def _matrix(rows: list[Any], width: int) -> IntArray:
    return np.array(rows, dtype=np.int64).reshape(-1, width) if rows else np.zeros((0, width), dtype=np.int64)


@dataclass
class Book:
    """What a model learns from and what it predicts, as of one business date."""

    record: Record
    record_segment: IntArray
    promises: Promises
    open_ids: IntArray
    open_amount: IntArray
    open_currency: npt.NDArray[np.str_]
    targets: Targets


def load(store: Store, today: date, customers: tuple[int, ...] | None = None, invoices: tuple[int, ...] = ()) -> Book:
    """Paid invoices paid before `today`, broken promises, and the open invoices (all of them, or
    those of `customers`, or just `invoices`)."""
    days = partial(day_number_sql, store)
    where_c = f"i.customer IN ({','.join(str(int(c)) for c in customers) or 'NULL'})" if customers else "1 = 1"
    disputed = "EXISTS (SELECT 1 FROM dispute d WHERE d.invoice = i.id)"
    t = day_number(today)
    record_sql = (
        f"SELECT i.customer, {days('i.issue_date')}, {days('i.due_date')}, "
        f"{days('i.paid_on')}, i.amount, CASE WHEN {disputed} THEN 1 ELSE 0 END, {_segment('c.segment')} "
        f"FROM invoice i JOIN customer c ON c.id = i.customer WHERE i.state = 'paid' AND i.paid_on IS NOT NULL "
        f"AND {where_c}"
    )
    promise_sql = (
        f"SELECT p.customer, {days('p.decided_at')} FROM promise_to_pay p "
        f"WHERE p.status = 'broken' AND p.decided_at IS NOT NULL AND {where_c.replace('i.customer', 'p.customer')}"
    )
    only = f"i.id IN ({','.join(str(int(k)) for k in invoices)})" if invoices else "1 = 1"
    open_sql = (
        f"SELECT i.id, i.customer, {days('i.issue_date')}, {days('i.due_date')}, i.open_amount, "
        f"CASE WHEN i.state = 'disputed' OR {disputed} THEN 1 ELSE 0 END, {_segment('c.segment')}, i.currency "
        f"FROM invoice i JOIN customer c ON c.id = i.customer WHERE i.state IN ({COLLECTIBLE}) AND {where_c} AND {only}"
    )
    with UnitOfWork(store) as uow:
        rec = _matrix(fetch_all(uow, record_sql), 7)
        prom = _matrix(fetch_all(uow, promise_sql), 2)
        open_rows = fetch_all(uow, open_sql)
    op = _matrix([r[:7] for r in open_rows], 7)
    currency = np.asarray([r[7] for r in open_rows], dtype=np.str_)
    keep = rec[:, 3] < t
    rec = rec[keep]
    record = Record(rec[:, 0], rec[:, 1], rec[:, 2], rec[:, 3], rec[:, 4], rec[:, 5].astype(bool))
    targets = Targets(
        op[:, 1], op[:, 2], op[:, 3], op[:, 4], op[:, 5].astype(bool), op[:, 6], np.full(len(op), t, dtype=np.int64)
    )
    return Book(record, rec[:, 6], Promises(prom[:, 0], prom[:, 1]), op[:, 0], op[:, 4], currency, targets)


def save_model(store: Store, model: Model, today: date, at: datetime) -> int:
    with UnitOfWork(store, write=True) as uow:
        row = uow.PredictionModel(
            kind=model.kind,
            reason=model.reason[:400],
            business_date=today,
            trained_at=at.replace(tzinfo=None),
            rows=model.trained_rows,
            metrics={k: round(v, 4) for k, v in model.metrics.items()},
            blob=pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL),
        )
        uow.flush()
        model_id = int(row.id)
        uow.commit()
    _CACHE.clear()
    return model_id


@dataclass(frozen=True)
class Stored:
    id: int
    kind: str
    reason: str
    business_date: date
    trained_at: datetime
    rows: int
    metrics: dict[str, Any]


_CACHE: dict[int, Model] = {}


def latest_model(store: Store) -> tuple[Stored, Model] | None:
    """The newest model (unpickled once per process and id). Only the engine writes these rows."""
    with UnitOfWork(store) as uow:
        found = uow.select("SELECT MAX(id) FROM prediction_model")
        if not found or found[0] is None:
            return None
        row = uow.PredictionModel[int(found[0])]
        info = Stored(
            row.id, row.kind, row.reason, row.business_date, row.trained_at, row.rows, dict(row.metrics or {})
        )
        if row.id not in _CACHE:
            _CACHE.clear()
            _CACHE[row.id] = pickle.loads(row.blob)
    return info, _CACHE[info.id]


def write_predictions(store: Store, model_id: int, today: date, book: Book, pred: Prediction) -> int:
    """Replace every stored prediction (or those of the invoices scored, for a partial run)."""
    with UnitOfWork(store, write=True) as uow:
        bulk = Bulk(uow)
        bulk.conn.cursor().execute("DELETE FROM invoice_prediction")
        day = bulk.day(today)
        rows = [
            (int(i), int(c), model_id, day, *(bulk.day(day_of(d)) for d in (e, lo, hi)), int(p), int(dl))
            for i, c, e, lo, hi, p, dl in zip(
                book.open_ids.tolist(),
                book.targets.customer_id.tolist(),
                pred.expected_day.tolist(),
                pred.low_day.tolist(),
                pred.high_day.tolist(),
                np.round(pred.p_late * 1000).astype(np.int64).tolist(),
                pred.days_late.tolist(),
                strict=True,
            )
        ]
        bulk.insert(
            "invoice_prediction",
            (
                "invoice",
                "customer",
                "model",
                "business_date",
                "expected_on",
                "low_on",
                "high_on",
                "p_late",
                "days_late",
            ),
            rows,
        )
        uow.commit()
    return len(rows)
