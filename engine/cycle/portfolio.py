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
    blocked: npt.NDArray[np.bool_]  # a dunning block covers it today (`engine/blocks`)
    collectible_amount: IntArray  # open amount less what active disputes contest
    expected_day: IntArray  # predicted payment day (engine/predict); the due-date baseline when unscored
    p_late: IntArray  # percent 0-100

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
    "blocked",
    "collectible_amount",
    "expected_day",
    "p_late",
)


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


# The contact cap counts messages in a window of `per_days` business dates ending with the date
# evaluated. The `recent_notices` fact counts those of the dates BEFORE it: the state as of the start
# of that date's exactly-once unit, the same for a run resumed after a kill as for one that never
# stopped. The date's own messages (written earlier by a killed run of it, or by a re-evaluation)
# enter the planner's budget instead (`messages_of`): they use up the cap, and a line joins them free.


def recent_notice_counts(store: Store, as_of: date, per_days: int) -> dict[int, int]:
    """Messages (not cancelled) per customer of the `per_days - 1` business dates before `as_of`."""
    return recent_notice_windows(store, as_of, {per_days})[per_days]


def recent_notice_windows(
    store: Store, as_of: date, windows: set[int], customers: str = "1 = 1"
) -> dict[int, dict[int, int]]:
    """`recent_notice_counts` for several windows in one pass over the notices (of the customers
    matched by the SQL condition `customers` on the column `customer`)."""
    if not windows:
        return {}
    ordered = sorted(windows)
    since = [(as_of - timedelta(days=d - 1)).isoformat() for d in ordered]
    cast = "DATE " if store.is_postgres else ""
    sums = ", ".join(f"SUM(CASE WHEN business_date >= {cast}'{s}' THEN 1 ELSE 0 END)" for s in since)
    sql = (
        f"SELECT customer, {sums} FROM notice_message WHERE business_date >= {cast}'{since[-1]}' "
        f"AND business_date < {cast}'{as_of.isoformat()}' AND state <> 'cancelled' AND {customers} "
        "GROUP BY customer"
    )
    with UnitOfWork(store) as uow:
        found = fetch_all(uow, sql)
    counts: dict[int, dict[int, int]] = {d: {} for d in ordered}
    for row in found:
        for k, d in enumerate(ordered):
            if row[k + 1]:
                counts[d][int(row[0])] = int(row[k + 1])
    return counts


def messages_of(store: Store, day: date, customers: str = "1 = 1") -> dict[int, tuple[tuple[str, int], ...]]:
    """The messages (not cancelled) of business date `day` already written, per customer, one entry
    each: (channel, invoice id under `consolidate: per_invoice`, else 0) — the planner's `Budget` keys."""
    cast = "DATE " if store.is_postgres else ""
    sql = (
        "SELECT customer, channel, group_key FROM notice_message "
        f"WHERE business_date = {cast}'{day.isoformat()}' AND state <> 'cancelled' AND {customers}"
    )
    with UnitOfWork(store) as uow:
        found = fetch_all(uow, sql)
    keys: dict[int, list[tuple[str, int]]] = {}
    for customer, channel, group in found:
        group = str(group).split("#", 1)[0]  # a further message of the date (the first moved on) is `customer#2`
        invoice = int(group.split(":", 1)[1]) if group.startswith("invoice:") else 0
        keys.setdefault(int(customer), []).append((str(channel), invoice))
    return {c: tuple(k) for c, k in keys.items()}
