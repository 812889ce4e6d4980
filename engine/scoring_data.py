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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from engine.importer.bulk import Bulk
from states import invoice as inv_states

RECENT_DAYS = 90  # payments received in the last 90 days are "recent" for the trend
COLLECTIBLE = "', '".join(sorted(inv_states.COLLECTIBLE))
CLASSES = ("low", "medium", "high", "critical")
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


def _days(bulk: Bulk, later: str, earlier: str) -> str:
    if bulk.postgres:
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def columns(bulk: Bulk, exprs: Sequence[str], rest: str, params: Sequence[object] = ()) -> list[np.ndarray]:
    """`SELECT exprs FROM rest` as one int64 array per expression (row-aligned). Every
    expression must be an integer and never NULL."""
    if bulk.postgres:
        cur = bulk.conn.cursor()
        query = f"SELECT {', '.join(exprs)} FROM {rest}".replace("?", "%s")
        sql = cur.mogrify(query, tuple(params)).decode()
        buf = io.StringIO()
        cur.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", buf)
        cur.close()
        text = buf.getvalue()
        flat = _parse(text.replace("\n", ","))
        if flat.size % len(exprs):
            raise RuntimeError(f"risk score inputs: {flat.size} numbers for {len(exprs)} columns")
        table = flat.reshape(-1, len(exprs))
        return [np.ascontiguousarray(table[:, j]) for j in range(len(exprs))]
    # One aggregate step feeds every group_concat the same rows in the same order.
    aggregates = ", ".join(f"group_concat({e})" for e in exprs)
    row = bulk.select(f"SELECT COUNT(*), {aggregates} FROM {rest}", params)[0]
    count, texts = int(row[0]), row[1:]
    out = [_parse(t or "") for t in texts]
    if any(a.size != count for a in out):
        raise RuntimeError(f"risk score inputs: columns of {[a.size for a in out]} numbers for {count} rows")
    return out


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
    """The inputs, and what the customer rows store now (for writing only what changed)."""
    one = customer_id is not None
    params: tuple[object, ...] = (customer_id,) if one else ()
    codes = " ".join(f"WHEN '{c}' THEN {k}" for k, c in enumerate(CLASSES))
    ids, credit_limit, broken, old_score, old_class, version = columns(
        bulk,
        ("c.id", "c.credit_limit", "c.broken_promises", "c.risk_score", f"CASE c.risk_class {codes} ELSE -1 END",
         "c.version"),
        "customer c" + (" WHERE c.id = ?" if one else ""),
        params,
    )  # fmt: skip
    order = np.argsort(ids, kind="stable")
    ids, credit_limit, broken = ids[order], credit_limit[order], broken[order]
    stored = Stored(old_score[order], old_class[order], version[order])
    n = len(ids)
    rows = _Rows(ids)

    recent = bulk.day(today - timedelta(days=RECENT_DAYS))
    late = _days(bulk, "p.received_on", "i.due_date")
    where_i = " AND i.customer = ?" if one else ""
    cust, amount, days, is_recent = columns(
        bulk,
        ("i.customer", "a.amount", late, "CASE WHEN p.received_on >= ? THEN 1 ELSE 0 END"),
        "allocation a JOIN payment p ON p.id = a.payment JOIN invoice i ON i.id = a.invoice"
        f" WHERE p.reversed_at IS NULL{where_i}",
        (recent, *params),
    )
    pos, keep = rows.of(cust)
    pos, amount, days, is_recent = pos[keep], amount[keep], days[keep], is_recent[keep] == 1
    weighted = amount * np.maximum(days, 0)
    paid = _sum_by(pos, amount, n)
    paid_late = _sum_by(pos, weighted, n)
    n_alloc = _count_by(pos, n)
    n_late = _count_by(pos[days > 0], n)
    recent_paid = _sum_by(pos[is_recent], amount[is_recent], n)
    recent_late = _sum_by(pos[is_recent], weighted[is_recent], n)

    (inv_cust,) = columns(bulk, ("i.customer",), "invoice i" + (" WHERE i.customer = ?" if one else ""), params)
    pos, keep = rows.of(inv_cust)
    invoices = _count_by(pos[keep], n)

    past_due = _days(bulk, "?", "i.due_date")
    cust, open_amount, overdue_days = columns(
        bulk,
        ("i.customer", "i.open_amount", past_due),
        f"invoice i WHERE i.state IN ('{COLLECTIBLE}'){where_i}",
        (bulk.day(today), *params),
    )
    pos, keep = rows.of(cust)
    pos, open_amount, overdue_days = pos[keep], open_amount[keep], overdue_days[keep]
    overdue = overdue_days > 0  # due_date < today
    exposure = _sum_by(pos, open_amount, n)
    overdue_open = _sum_by(pos[overdue], open_amount[overdue], n)
    overdue_weighted = _sum_by(pos[overdue], open_amount[overdue] * overdue_days[overdue], n)
    overdue_count = _count_by(pos[overdue], n)

    where_d = " WHERE d.customer = ?" if one else ""
    (dispute_cust,) = columns(bulk, ("d.customer",), f"dispute d{where_d}", params)
    pos, keep = rows.of(dispute_cust)
    disputes = _count_by(pos[keep], n)

    inputs = Inputs(
        customer_id=ids,
        credit_limit=credit_limit,
        broken_promises=broken,
        paid=paid,
        paid_late_weighted=paid_late,
        allocations=n_alloc,
        allocations_late=n_late,
        recent_paid=recent_paid,
        recent_late_weighted=recent_late,
        exposure=exposure,
        overdue_open=overdue_open,
        overdue_weighted=overdue_weighted,
        overdue_count=overdue_count,
        invoices=invoices,
        disputes=disputes,
    )
    return inputs, stored
