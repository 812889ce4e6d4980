"""Load every collectible invoice and its customer's facts as numpy arrays, with set-based SQL."""

from __future__ import annotations

from collections.abc import Sequence
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
    # Invoices alone (no join: a joined row per invoice costs twice as much to fetch), unordered;
    # customers once each; both put together and ordered by (customer, id) with numpy.
    sql = (
        "SELECT i.id, i.customer, i.version, i.state, i.dunning_level, i.amount, i.open_amount, i.currency, "
        f"{_day_sql(store, 'i.due_date')}, COALESCE({_day_sql(store, 'i.last_notice_on')}, -1) "
        f"FROM invoice i WHERE {where}"
    )
    customer_sql = (
        "SELECT c.id, c.segment, c.risk_class, c.risk_score, c.credit_limit, c.broken_promises, c.state, "
        "COALESCE(c.email, '') FROM customer c ORDER BY c.id"
    )
    with UnitOfWork(store) as uow:
        rows = fetch_all(uow, sql)
        # after the invoices: every customer they name exists (customers are never deleted)
        customer_rows = fetch_all(uow, customer_sql)
    inv = _columns(rows, 10, {0, 1, 2, 4, 5, 6, 8, 9})
    cust = _columns(customer_rows, 8, {0, 3, 4, 5})
    order = np.lexsort((inv[0], inv[1]))
    inv = [col[order] for col in inv]
    at = np.searchsorted(cust[0], inv[1])
    values = [*inv, *(col[at] for col in cust[1:])]
    arrays: dict[str, Any] = dict(zip(_COLUMNS, values, strict=True))
    return Portfolio(as_of, **arrays)


def fetch_all(uow: UnitOfWork, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Raw fetch for the bulk reads. On SQLite, Pony decodes every text value in Python
    (`text_factory`); sqlite3's own decoding is several times faster for valid UTF-8, which is
    all this service writes, so it is used for the duration of the query."""
    connection = uow.connection()
    cursor = connection.cursor()
    if uow.store.is_postgres:
        cursor.execute(sql, tuple(params))
        return list(cursor.fetchall())
    previous = connection.text_factory
    connection.text_factory = str
    try:
        cursor.execute(sql, tuple(params))
        return list(cursor.fetchall())
    finally:
        connection.text_factory = previous


def _columns(rows: list[Any], width: int, ints: set[int]) -> list[Any]:
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * width
    return [
        np.asarray(col, dtype=np.int64) if i in ints else np.asarray(col, dtype=np.str_) for i, col in enumerate(cols)
    ]


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


def recent_notice_windows(store: Store, as_of: date, windows: set[int]) -> dict[int, dict[int, int]]:
    """`recent_notice_counts` for several windows in one pass over the notices."""
    if not windows:
        return {}
    ordered = sorted(windows)
    since = [(as_of - timedelta(days=d - 1)).isoformat() for d in ordered]
    cast = "DATE " if store.is_postgres else ""
    sums = ", ".join(f"SUM(CASE WHEN business_date >= {cast}'{s}' THEN 1 ELSE 0 END)" for s in since)
    sql = (
        f"SELECT customer, {sums} FROM notice WHERE business_date >= {cast}'{since[-1]}' "
        f"AND business_date <= {cast}'{as_of.isoformat()}' GROUP BY customer"
    )
    with UnitOfWork(store) as uow:
        found = fetch_all(uow, sql)
    counts: dict[int, dict[int, int]] = {d: {} for d in ordered}
    for row in found:
        for k, d in enumerate(ordered):
            if row[k + 1]:
                counts[d][int(row[0])] = int(row[k + 1])
    return counts
