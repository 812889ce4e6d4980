"""Load every collectible invoice and its customer's facts as numpy arrays, with set-based SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from states import invoice as inv_states

NEVER_NOTICED = 9999
PAST_DUE_STATES = (inv_states.OVERDUE, inv_states.DUNNING, inv_states.ESCALATED)
_EPOCH = date(1970, 1, 1)

IntArray = npt.NDArray[np.int64]


@dataclass
class Portfolio:
    """Column arrays, one row per collectible invoice not yet handled on `as_of`."""

    as_of: date
    invoice_id: IntArray
    customer_id: IntArray
    version: IntArray
    state: npt.NDArray[np.str_]
    dunning_level: IntArray
    amount: IntArray
    open_amount: IntArray
    currency: npt.NDArray[np.str_]
    due_day: IntArray  # days since 1970-01-01
    last_notice_day: IntArray  # -1 when never
    segment: npt.NDArray[np.str_]
    risk: npt.NDArray[np.str_]
    risk_score: IntArray
    credit_limit: IntArray
    broken_promises: IntArray
    account_state: npt.NDArray[np.str_]
    customer_email: npt.NDArray[np.str_]

    def __len__(self) -> int:
        return int(self.invoice_id.size)

    @property
    def today(self) -> int:
        return (self.as_of - _EPOCH).days

    def take(self, mask: npt.NDArray[np.bool_]) -> Portfolio:
        return Portfolio(self.as_of, **{k: getattr(self, k)[mask] for k in _COLUMNS})


_COLUMNS = (
    "invoice_id",
    "customer_id",
    "version",
    "state",
    "dunning_level",
    "amount",
    "open_amount",
    "currency",
    "due_day",
    "last_notice_day",
    "segment",
    "risk",
    "risk_score",
    "credit_limit",
    "broken_promises",
    "account_state",
    "customer_email",
)


def _day_sql(store: Store, column: str) -> str:
    if store.is_postgres:
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def load(store: Store, as_of: date, only_ids: list[int] | None = None) -> Portfolio:
    """Collectible invoices not handled by the cycle of `as_of` yet (see `invoice.last_cycle_on`)."""
    states = ", ".join(f"'{s}'" for s in sorted(inv_states.COLLECTIBLE))
    where = f"i.state IN ({states}) AND (i.last_cycle_on IS NULL OR i.last_cycle_on < '{as_of.isoformat()}')"
    if only_ids is not None:
        where += " AND i.id IN (" + (",".join(str(int(x)) for x in only_ids) or "NULL") + ")"
    sql = (
        "SELECT i.id, i.customer, i.version, i.state, i.dunning_level, i.amount, i.open_amount, i.currency, "
        f"{_day_sql(store, 'i.due_date')}, COALESCE({_day_sql(store, 'i.last_notice_on')}, -1), "
        "c.segment, c.risk_class, c.risk_score, c.credit_limit, c.broken_promises, c.state, "
        "COALESCE(c.email, '') "
        f"FROM invoice i JOIN customer c ON c.id = i.customer WHERE {where} ORDER BY i.customer, i.id"
    )
    with UnitOfWork(store) as uow:
        cursor = uow.connection().cursor()
        cursor.execute(sql)
        rows = cursor.fetchall()
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(_COLUMNS)
    ints = {0, 1, 2, 4, 5, 6, 8, 9, 12, 13, 14}
    arrays: dict[str, Any] = {
        name: (np.asarray(col, dtype=np.int64) if i in ints else np.asarray(col, dtype=np.str_))
        for i, (name, col) in enumerate(zip(_COLUMNS, cols, strict=True))
    }
    return Portfolio(as_of, **arrays)


def recent_notice_counts(store: Store, as_of: date, per_days: int) -> dict[int, int]:
    """Notices per customer within the last `per_days` business dates (for the contact cap)."""
    since = as_of - timedelta(days=per_days - 1)
    with UnitOfWork(store) as uow:
        rows = uow.select(
            "SELECT customer, COUNT(*) FROM notice WHERE business_date >= $since AND business_date <= $until "
            "GROUP BY customer",
            {"since": since, "until": as_of},
        )
    return {int(c): int(n) for c, n in rows}
