"""Loading the risk score's inputs: raw integer columns into numpy, aggregated per customer by
numpy. Works on SQLite and PostgreSQL, for every customer or for one (the same code, so the
bulk path and the one-customer path cannot disagree).

Why not `GROUP BY customer` in SQL: over 1,000,000 allocations SQLite sorts every joined row in
a temporary B-tree (~0.6 s of the ~1 s query), and handing 1,000,000 rows to Python costs
~0.8 s more in tuple building. Instead each query returns its columns as one text value per
column (SQLite: `group_concat`; PostgreSQL: `COPY (…) TO STDOUT`), which numpy parses in C
(`np.fromstring`, ~60 ms per million numbers); the sums per customer are `np.bincount` (exact:
see `_sum_by`). Lateness is computed once per allocation, in the database, as before.
"""

from __future__ import annotations

import io
import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from engine.store.bulk import Bulk
from engine.store.database import Store
from states import account as acc_states
from states import invoice as inv_states

RECENT_DAYS = 90  # payments received in the last 90 days are "recent" for the trend
COLLECTIBLE = "', '".join(sorted(inv_states.COLLECTIBLE))
CLASSES = ("low", "medium", "high", "critical")
ACCOUNT_STATES = tuple(acc_states.STATES)
SIDE_MMAP_BYTES = 1 << 30
SIDE_THREADS = 3  # worker threads (own connections) for the allocation query on SQLite files
_EXACT = float(2**52)  # below this every partial sum of integers is exact in float64


@dataclass
class Inputs:
    """Per customer (aligned arrays). Money sums are int64 minor units; lateness in days."""

    customer_id: np.ndarray
    credit_limit: np.ndarray
    broken_promises: np.ndarray
    paid: np.ndarray  # allocated amount
    paid_late_weighted: np.ndarray  # Σ amount × days late (late allocations only)
    allocations: np.ndarray
    allocations_late: np.ndarray
    recent_paid: np.ndarray
    recent_late_weighted: np.ndarray
    exposure: np.ndarray  # open amount of collectible invoices
    overdue_open: np.ndarray  # open amount past due
    overdue_weighted: np.ndarray  # Σ open amount × days past due
    overdue_count: np.ndarray
    invoices: np.ndarray
    disputes: np.ndarray

    def __len__(self) -> int:
        return int(self.customer_id.shape[0])


@dataclass
class Stored:
    """What the customer rows hold before a bulk re-score (aligned with `Inputs.customer_id`)."""

    risk_score: np.ndarray  # int64
    risk_class: np.ndarray  # int64 index into CLASSES, -1 for anything else
    version: np.ndarray  # int64
    state: np.ndarray  # int64 index into ACCOUNT_STATES, -1 for anything else
    scored: np.ndarray  # bool: the row holds a score the engine computed (its explanation is not empty)


def _code(column: str, names: tuple[str, ...]) -> str:
    """The text column as its index in `names` (-1 for anything else): numbers travel faster."""
    return f"CASE {column} " + " ".join(f"WHEN '{v}' THEN {k}" for k, v in enumerate(names)) + " ELSE -1 END"


def _days(bulk: Bulk, later: str, earlier: str) -> str:
    if bulk.postgres:
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@dataclass(frozen=True)
class Query:
    """`SELECT exprs FROM rest` written with `?` placeholders; every expression an integer, never NULL."""

    exprs: tuple[str, ...]
    rest: str
    params: tuple[object, ...] = ()


def columns(bulk: Bulk, q: Query) -> list[np.ndarray]:
    """The query's result as one int64 array per expression (row-aligned), on the unit of work's
    connection (so inside its transaction)."""
    if bulk.postgres:
        return _postgres_columns(bulk.conn, q)
    return _sqlite_columns(bulk.conn, q)


def _postgres_columns(conn: Any, q: Query) -> list[np.ndarray]:
    cur = conn.cursor()
    sql = cur.mogrify(f"SELECT {', '.join(q.exprs)} FROM {q.rest}".replace("?", "%s"), q.params).decode()
    buf = io.StringIO()
    cur.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", buf)
    cur.close()
    flat = _parse(buf.getvalue().replace("\n", ","))
    if flat.size % len(q.exprs):
        raise RuntimeError(f"risk score inputs: {flat.size} numbers for {len(q.exprs)} columns")
    table = flat.reshape(-1, len(q.exprs))
    return [np.ascontiguousarray(table[:, j]) for j in range(len(q.exprs))]


def _sqlite_columns(conn: Any, q: Query) -> list[np.ndarray]:
    # One aggregate step feeds every group_concat the same rows in the same order, and no
    # expression is NULL (group_concat would skip it): equal lengths mean aligned columns.
    cur = conn.cursor()
    cur.execute(f"SELECT {', '.join(f'group_concat({e})' for e in q.exprs)} FROM {q.rest}", q.params)
    texts = cur.fetchone()
    cur.close()
    out = [_parse(t or "") for t in texts]
    if len({a.size for a in out}) > 1:
        raise RuntimeError(f"risk score inputs: columns of {[a.size for a in out]} numbers")
    return out


def _side_store(bulk: Bulk) -> Store | None:
    """The store whose SQLite file second, read-only connections may read, or None (PostgreSQL, memory)."""
    store: Store = bulk.uow.store
    if bulk.postgres or str(store.args.get("filename", "")) in ("", ":memory:"):
        return None
    return store


def _side_columns(store: Store, q: Query) -> list[np.ndarray]:
    """`columns` on a connection of its own, for a worker thread (SQLite releases the GIL while
    it runs a statement). It sees exactly what the unit of work sees: that one holds the write
    lock (BEGIN IMMEDIATE) from before its first read until it commits, so no commit can come
    between the two snapshots."""
    conn = store.side_connection()
    try:
        conn.execute(f"PRAGMA mmap_size = {SIDE_MMAP_BYTES}")  # read pages in place, no copies
        conn.execute("PRAGMA query_only = 1")
        return _sqlite_columns(conn, q)
    finally:
        conn.close()


def _parse(text: str) -> np.ndarray:
    text = text.rstrip(",")
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def _sum_by(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Σ values per index, exact int64. `np.bincount` adds in float64, which is exact while the
    total magnitude stays below 2**52; past that (never seen in practice) `np.add.at`."""
    if values.size and float(np.abs(values).sum(dtype=np.float64)) >= _EXACT:
        out = np.zeros(n, dtype=np.int64)
        np.add.at(out, index, values)
        return out
    return np.rint(np.bincount(index, weights=values, minlength=n)).astype(np.int64)


def _count_by(index: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(index, minlength=n).astype(np.int64)


class _Rows:
    """Where each customer id sits in the sorted `ids`: a dense lookup table when ids are dense
    enough (a gather, ~10x faster than a binary search over 1,000,000 rows), else a search."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = ids
        top = int(ids[-1]) if len(ids) else 0
        self.table: np.ndarray | None = None
        if 0 < top <= 8 * len(ids) + 1024 and int(ids[0]) >= 0:
            self.table = np.full(top + 2, -1, dtype=np.int64)
            self.table[ids] = np.arange(len(ids), dtype=np.int64)

    def of(self, customer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row positions of `customer` values, and which of them name a loaded customer."""
        if self.table is not None:
            inside = (customer >= 0) & (customer < len(self.table))
            pos = self.table[np.where(inside, customer, len(self.table) - 1)]
            return pos, pos >= 0
        pos = np.searchsorted(self.ids, customer)
        pos[pos >= len(self.ids)] = 0
        keep = self.ids[pos] == customer if len(self.ids) else np.zeros(len(customer), dtype=bool)
        return pos, keep


def load_inputs(bulk: Bulk, today: date, customer_id: int | None = None) -> Inputs:
    """All customers, or one. `today` is the business date."""
    return load(bulk, today, customer_id)[0]


def load(bulk: Bulk, today: date, customer_id: int | None = None) -> tuple[Inputs, Stored]:
    """The inputs, and what the customer rows store now (for writing only what changed).

    For all customers on a SQLite file, the heaviest query (every allocation joined to its
    payment and invoice, ~60 % of the load) runs in `SIDE_THREADS` allocation-id ranges, each on
    a read connection of its own in a worker thread, while this thread runs the others (100,000
    customers on the shared 2-core box, median of 4: 0.56–0.61 s with three workers, 0.86–0.92 s
    with one; one query after another took 1.1 s)."""
    one = customer_id is not None
    params: tuple[object, ...] = (customer_id,) if one else ()
    where_i = " AND i.customer = ?" if one else ""
    allocations = Query(
        ("i.customer", "a.amount", _days(bulk, "p.received_on", "i.due_date"),
         "CASE WHEN p.received_on >= ? THEN 1 ELSE 0 END"),
        "allocation a JOIN payment p ON p.id = a.payment JOIN invoice i ON i.id = a.invoice"
        f" WHERE p.reversed_at IS NULL{where_i}",
        (bulk.day(today - timedelta(days=RECENT_DAYS)), *params),
    )  # fmt: skip
    side = None if one else _side_store(bulk)
    with ThreadPoolExecutor(max_workers=SIDE_THREADS, thread_name_prefix="risk-load") as pool:
        pending = []
        if side:  # the allocations in id ranges, one per worker
            top = int(bulk.select("SELECT COALESCE(MAX(id), 0) FROM allocation")[0][0])
            bounds = [top * k // SIDE_THREADS for k in range(SIDE_THREADS + 1)]
            for low, high in itertools.pairwise(bounds):
                part = Query(allocations.exprs, f"{allocations.rest} AND a.id > ? AND a.id <= ?",
                             (*allocations.params, low, high))  # fmt: skip
                pending.append(pool.submit(_side_columns, side, part))
        customers = columns(
            bulk,
            Query(
                ("c.id", "c.credit_limit", "c.broken_promises", "c.risk_score", _code("c.risk_class", CLASSES),
                 "c.version", _code("c.state", ACCOUNT_STATES),
                 f"CASE WHEN c.risk_explanation = '{{}}'{'::jsonb' if bulk.postgres else ''} THEN 0 ELSE 1 END"),
                "customer c" + (" WHERE c.id = ?" if one else ""),
                params,
            ),
        )  # fmt: skip
        invoices = columns(bulk, Query(("i.customer",), "invoice i" + (" WHERE i.customer = ?" if one else ""), params))
        collectible = columns(
            bulk,
            Query(
                ("i.customer", "i.open_amount", _days(bulk, "?", "i.due_date")),
                # money in the customer's own currency only: exposure is compared with its credit limit
                "invoice i JOIN customer ci ON ci.id = i.customer"
                f" WHERE i.state IN ('{COLLECTIBLE}') AND i.currency = ci.currency{where_i}",
                (bulk.day(today), *params),
            ),
        )
        disputes = columns(bulk, Query(("d.customer",), "dispute d" + (" WHERE d.customer = ?" if one else ""), params))
        parts = [p.result() for p in pending] if pending else [columns(bulk, allocations)]
        paid_rows = [np.concatenate([part[j] for part in parts]) for j in range(len(allocations.exprs))]
    return _aggregate(customers, paid_rows, invoices, collectible, disputes)


def _aggregate(
    customers: list[np.ndarray],
    paid_rows: list[np.ndarray],
    invoice_rows: list[np.ndarray],
    collectible: list[np.ndarray],
    dispute_rows: list[np.ndarray],
) -> tuple[Inputs, Stored]:
    """Per-customer sums of the raw rows, aligned on the sorted customer ids."""
    ids, credit_limit, broken, old_score, old_class, version, state, scored = customers
    order = np.argsort(ids, kind="stable")
    ids, credit_limit, broken = ids[order], credit_limit[order], broken[order]
    stored = Stored(old_score[order], old_class[order], version[order], state[order], scored[order] == 1)
    n = len(ids)
    rows = _Rows(ids)

    cust, amount, days, is_recent = paid_rows
    pos, keep = rows.of(cust)
    pos, amount, days, recent = pos[keep], amount[keep], days[keep], is_recent[keep] == 1
    weighted = amount * np.maximum(days, 0)

    pos_i, keep = rows.of(invoice_rows[0])
    invoices = _count_by(pos_i[keep], n)

    cust, open_amount, overdue_days = collectible
    pos_c, keep = rows.of(cust)
    pos_c, open_amount, overdue_days = pos_c[keep], open_amount[keep], overdue_days[keep]
    overdue = overdue_days > 0  # due_date < today

    pos_d, keep = rows.of(dispute_rows[0])
    inputs = Inputs(
        customer_id=ids,
        credit_limit=credit_limit,
        broken_promises=broken,
        paid=_sum_by(pos, amount, n),
        paid_late_weighted=_sum_by(pos, weighted, n),
        allocations=_count_by(pos, n),
        allocations_late=_count_by(pos[days > 0], n),
        recent_paid=_sum_by(pos[recent], amount[recent], n),
        recent_late_weighted=_sum_by(pos[recent], weighted[recent], n),
        exposure=_sum_by(pos_c, open_amount, n),
        overdue_open=_sum_by(pos_c[overdue], open_amount[overdue], n),
        overdue_weighted=_sum_by(pos_c[overdue], open_amount[overdue] * overdue_days[overdue], n),
        overdue_count=_count_by(pos_c[overdue], n),
        invoices=invoices,
        disputes=_count_by(pos_d[keep], n),
    )
    return inputs, stored
