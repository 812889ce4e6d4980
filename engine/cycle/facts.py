"""Fact arrays for the vectorized evaluator, built from the portfolio and account aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.cycle.portfolio import NEVER_NOTICED, Portfolio, fetch_all
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from states import invoice as inv_states

IntArray = npt.NDArray[np.int64]


@dataclass
class Accounts:
    """One row per customer that has collectible invoices or is on hold (sorted by id)."""

    customer_id: IntArray
    exposure: IntArray
    overdue_amount: IntArray
    max_days_past_due: IntArray
    segment: npt.NDArray[np.str_]
    risk: npt.NDArray[np.str_]
    risk_score: IntArray
    credit_limit: IntArray
    broken_promises: IntArray
    state: npt.NDArray[np.str_]
    currency: npt.NDArray[np.str_]

    def index_of(self, customer_ids: IntArray) -> IntArray:
        return np.searchsorted(self.customer_id, customer_ids).astype(np.int64)


def load_accounts(store: Store, as_of: date) -> Accounts:
    collectible = ", ".join(f"'{s}'" for s in sorted(inv_states.COLLECTIBLE))
    # Past due by date, whatever the cycle has done yet (a dry run and a real run see the same):
    # every collectible invoice except a disputed one.
    past_due = ", ".join(f"'{s}'" for s in sorted(inv_states.COLLECTIBLE - {inv_states.DISPUTED}))
    day = f"DATE '{as_of.isoformat()}'" if store.is_postgres else f"'{as_of.isoformat()}'"  # a date: safe to inline
    # The oldest past-due date per customer, then one date difference per customer (not per
    # invoice); on SQLite a plain table scan beats walking the (customer, number) index.
    oldest = "a.oldest_due"
    max_dpd = (
        f"COALESCE({day} - {oldest}, 0)"
        if store.is_postgres
        else f"COALESCE(CAST(julianday({day}) - julianday({oldest}) AS INTEGER), 0)"
    )
    scan = "invoice i" if store.is_postgres else "invoice i NOT INDEXED"
    sql = (
        f"SELECT c.id, COALESCE(a.exposure, 0), COALESCE(a.overdue, 0), {max_dpd}, c.segment, "
        "c.risk_class, c.risk_score, c.credit_limit, c.broken_promises, c.state, c.currency FROM customer c "
        "LEFT JOIN (SELECT i.customer AS cid, SUM(i.open_amount) AS exposure, "
        f"SUM(CASE WHEN i.due_date < {day} AND i.state IN ({past_due}) THEN i.open_amount ELSE 0 END) AS overdue, "
        f"MIN(CASE WHEN i.due_date < {day} AND i.state IN ({past_due}) THEN i.due_date END) AS oldest_due "
        f"FROM {scan} WHERE i.state IN ({collectible}) GROUP BY i.customer) a ON a.cid = c.id "
        "WHERE a.cid IS NOT NULL OR c.state = 'on_hold' ORDER BY c.id"
    )
    with UnitOfWork(store) as uow:
        rows = fetch_all(uow, sql)
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * 11
    ints = {0, 1, 2, 3, 6, 7, 8}
    arrays: list[Any] = [np.asarray(col, dtype=np.int64 if i in ints else np.str_) for i, col in enumerate(cols)]
    return Accounts(*arrays)


def account_facts(acc: Accounts, rows: IntArray, as_of: date, recent: IntArray) -> dict[str, Any]:
    """Customer-scope facts for account rows `rows` (indices into `acc`)."""
    exposure, limit = acc.exposure[rows], acc.credit_limit[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(
            exposure <= 0, 0, np.where(limit > 0, (exposure * 100) // np.maximum(limit, 1), NEVER_NOTICED)
        ).astype(np.int64)
    n = rows.size
    return {
        "currency": acc.currency[rows],
        "segment": acc.segment[rows],
        "risk": acc.risk[rows],
        "risk_score": acc.risk_score[rows],
        "account.exposure": exposure,
        "account.credit_limit": limit,
        "account.utilisation": utilisation,
        "account.overdue_amount": acc.overdue_amount[rows],
        "account.max_days_past_due": acc.max_days_past_due[rows],
        "account.broken_promises": acc.broken_promises[rows],
        "account.on_hold": acc.state[rows] == "on_hold",
        "business_day": np.full(n, as_of.weekday() < 5, dtype=bool),
        "recent_notices": recent,
    }


def invoice_facts(p: Portfolio, acc: Accounts, recent: IntArray) -> dict[str, Any]:
    """Invoice-scope facts, one row per portfolio row (state as planned after `mark_overdue`)."""
    rows = acc.index_of(p.customer_id)
    facts = account_facts(acc, rows, p.as_of, recent)
    dpd = p.today - p.due_day
    facts |= {
        "currency": p.currency,
        "days_past_due": dpd,
        "days_to_due": -dpd,
        "amount": p.amount,
        "open_amount": p.open_amount,
        "dunning_level": p.dunning_level,
        "days_since_last_notice": np.where(p.last_notice_day < 0, NEVER_NOTICED, p.today - p.last_notice_day),
        "state": p.state,
        "disputed": p.state == inv_states.DISPUTED,
        "promise_active": p.state == inv_states.PROMISED,
    }
    return facts
