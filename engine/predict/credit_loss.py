"""Expected credit loss by the IFRS 9 simplified approach: a provision matrix of loss rates per
aging bucket × segment, derived from the roll rates observed in the invoice history.

As of a date, every invoice issued by then has reached some aging bucket (by its days past due
when paid, when written off, or today if still open). The roll rate of bucket b is the amount
that went on to reach bucket b+1 over the amount that reached b and had its chance to move on
(invoices still sitting in b are left out). The loss rate of the last bucket is the share of the
amount that reached it and ended as a loss: written off, or still open `loss_after_days` past due
(default 180; the `lossAfterDays` argument). A bucket's loss rate is the product of the roll rates from it to
the last bucket times that last rate. A segment with fewer than MIN_INVOICES invoices in a bucket
uses the rate of all segments. Expected loss = open amount × the loss rate of its bucket and
segment. Before the as-of date partial payments are not known: an invoice open then counts its
full amount (today's open amount when as of today).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

import numpy as np
import numpy.typing as npt

from engine.cycle.portfolio import fetch_all
from engine.predict.store import day_number
from engine.rules.facts import SEGMENTS
from engine.store.database import Store
from engine.store.dialect import day_number_sql
from engine.store.unit_of_work import UnitOfWork
from states.errors import ValidationFailed
from states.money import check_currency

BUCKETS = (("current", -(10**6), 0), ("d1_30", 1, 30), ("d31_60", 31, 60), ("d61_90", 61, 90), ("d91_plus", 91, 10**6))
MIN_INVOICES = 30
LOSS_AFTER_DAYS = 180
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Cell:
    segment: str  # a segment, or "all"
    bucket: str
    loss_rate: float
    roll_rate: float | None  # to the next bucket (None for the last)
    exposure: int  # open amount in this bucket and segment
    expected_loss: int
    pooled: bool  # the segment had too few invoices: the rate of all segments is used


@dataclass(frozen=True)
class CustomerLoss:
    customer_id: int
    name: str
    exposure: int
    expected_loss: int


@dataclass(frozen=True)
class CreditLoss:
    currency: str
    as_of: date
    total_exposure: int
    total: int
    matrix: list[Cell]
    customers: list[CustomerLoss]  # largest expected loss first


def bucket_of(dpd: IntArray) -> IntArray:
    return np.searchsorted(np.asarray([b[2] for b in BUCKETS[:-1]]), dpd, "left").astype(np.int64)


def rates(
    reached: IntArray, amount: FloatArray, waiting: IntArray, lost: npt.NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray, IntArray]:
    """(loss rate per bucket, roll rate per bucket, invoices per bucket). `reached`: the furthest
    bucket of each invoice; `waiting`: the bucket an open invoice still sits in (-1: resolved)."""
    n = len(BUCKETS)
    roll = np.zeros(n)
    count = np.zeros(n, dtype=np.int64)
    for b in range(n):
        got_here = reached >= b
        count[b] = int(got_here.sum())
        if b < n - 1:
            had_chance = got_here & (waiting != b)
            base = amount[had_chance].sum()
            roll[b] = amount[had_chance & (reached > b)].sum() / base if base > 0 else 0.0
    last = reached == n - 1
    settled = last & ((waiting != n - 1) | lost)
    base = amount[settled].sum()
    final = amount[settled & lost].sum() / base if base > 0 else 0.0
    loss = np.zeros(n)
    loss[n - 1] = final
    for b in range(n - 2, -1, -1):
        loss[b] = roll[b] * loss[b + 1]
    return np.round(loss, 6), np.round(roll, 6), count  # the rates shown are the rates applied


def expected_credit_loss(
    store: Store, currency: str, as_of: date, today: date, loss_after_days: int = LOSS_AFTER_DAYS, top: int = 20
) -> CreditLoss:
    """The provision matrix and expected losses as of `as_of` (`today`: the business date, whose
    open amounts are known; an earlier `as_of` counts full amounts)."""
    cur = check_currency(currency)
    if loss_after_days < 91:
        raise ValidationFailed(f"loss_after_days={loss_after_days}: at least 91 (the last bucket)", "lossAfterDays")
    days = partial(day_number_sql, store)
    t = day_number(as_of)
    segment = "CASE c.segment " + " ".join(f"WHEN '{s}' THEN {k}" for k, s in enumerate(SEGMENTS)) + " ELSE -1 END"
    sql = (
        f"SELECT i.customer, {segment}, {days('i.issue_date')}, {days('i.due_date')}, i.amount, "
        f"i.open_amount, COALESCE({days('i.paid_on')}, -1), "
        f"CASE WHEN i.state = 'written_off' THEN {days('i.updated_at')} ELSE -1 END, "
        f"CASE WHEN i.state = 'cancelled' THEN 1 ELSE 0 END "
        f"FROM invoice i JOIN customer c ON c.id = i.customer WHERE i.currency = '{cur}'"
    )
    with UnitOfWork(store) as uow:
        rows = fetch_all(uow, sql)
        names = dict(uow.select("SELECT id, name FROM customer"))
    m = np.array(rows, dtype=np.int64).reshape(-1, 9) if rows else np.zeros((0, 9), dtype=np.int64)
    m = m[(m[:, 2] <= t) & (m[:, 8] == 0)]
    due, paid, off = m[:, 3], m[:, 6], m[:, 7]
    paid_by = (paid >= 0) & (paid <= t)
    off_by = (off >= 0) & (off <= t)
    open_then = ~paid_by & ~off_by
    end = np.where(paid_by, paid, np.where(off_by, off, t))
    reached = bucket_of(end - due)
    waiting = np.where(open_then, reached, -1)
    lost = off_by | (open_then & (t - due >= loss_after_days))
    amount = m[:, 4].astype(np.float64)
    exposure = np.where(open_then, m[:, 5] if as_of >= today else m[:, 4], 0)
    overall, overall_roll, _ = rates(reached, amount, waiting, lost)
    seg = m[:, 1]
    rate = np.zeros(m.shape[0])
    matrix: list[Cell] = []
    for k, name in enumerate(SEGMENTS):
        mine = seg == k
        if not mine.any():
            continue
        loss, roll, count = rates(reached[mine], amount[mine], waiting[mine], lost[mine])
        pooled = count < MIN_INVOICES
        loss = np.where(pooled, overall, loss)
        roll = np.where(pooled, overall_roll, roll)
        rate[mine] = loss[waiting[mine].clip(0)]
        for b, (bucket, _, _) in enumerate(BUCKETS):
            in_cell = mine & (waiting == b)
            exp = int(exposure[in_cell].sum())
            matrix.append(
                Cell(
                    name,
                    bucket,
                    round(float(loss[b]), 6),
                    None if b == len(BUCKETS) - 1 else round(float(roll[b]), 6),
                    exp,
                    round(exp * float(loss[b])),
                    bool(pooled[b]),
                )
            )
    other = ~np.isin(seg, np.arange(len(SEGMENTS)))
    rate[other] = overall[waiting[other].clip(0)]
    loss_each = np.where(open_then, exposure * rate, 0.0)
    per_customer: dict[int, list[float]] = {}
    for cid, e, x in zip(m[:, 0].tolist(), exposure.tolist(), loss_each.tolist(), strict=True):
        if e:
            acc = per_customer.setdefault(int(cid), [0.0, 0.0])
            acc[0] += e
            acc[1] += x
    ranked = sorted(per_customer.items(), key=lambda item: (-item[1][1], item[0]))[:top]
    customers = [CustomerLoss(cid, str(names.get(cid, "")), int(v[0]), round(v[1])) for cid, v in ranked]
    return CreditLoss(
        cur,
        as_of,
        int(exposure.sum()),
        sum(c.expected_loss for c in matrix) + round(float(loss_each[other].sum())),
        matrix,
        customers,
    )
