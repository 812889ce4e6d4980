"""Load the cycle's facts in one pass: every collectible invoice of the customers in scope, with
only integer columns (text enums arrive as positions in a fixed list, dates as day numbers), so
that the rows become one numpy matrix in one call. The invoice facts (the portfolio) and the
account aggregates (exposure, overdue amount, oldest past-due date) both come from these rows.

Profile of the 1M-invoice cycle before this module: the invoice fetch plus per-column conversion
of text took 8.7 s and the account aggregates were a second scan of the invoice table; an
all-integer fetch turned into a matrix by `np.array` takes about a quarter of that."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.blocks.active import blocks_in_force
from engine.calendars import business_day_flags
from engine.cycle import disputed
from engine.cycle.facts import Accounts
from engine.cycle.portfolio import _EPOCH, Portfolio, fetch_all
from engine.rules.facts import CURRENCIES
from engine.store.database import Store
from engine.store.dialect import day_number_sql
from engine.store.unit_of_work import UnitOfWork
from states import account as acc_states
from states import invoice as inv_states

IntArray = npt.NDArray[np.int64]
STATES = tuple(sorted(inv_states.COLLECTIBLE))
# Past due by date, whatever the cycle has done yet (a dry run and a real run see the same):
# every collectible invoice except a disputed one.
PAST_DUE_CODES = [k for k, s in enumerate(STATES) if s != inv_states.DISPUTED]
ACCOUNT_STATES = (acc_states.ACTIVE, acc_states.ON_HOLD)
_NO_DATE = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Customers:
    """Which customers a load covers: an id range (a cycle partition), a list, or everyone."""

    first: int | None = None
    last: int | None = None
    ids: tuple[int, ...] | None = None

    def where(self, column: str) -> str:
        parts = []
        if self.first is not None:
            parts.append(f"{column} >= {int(self.first)}")
        if self.last is not None:
            parts.append(f"{column} <= {int(self.last)}")
        if self.ids is not None:
            parts.append(f"{column} IN ({','.join(str(int(c)) for c in self.ids) or 'NULL'})")
        return " AND ".join(parts) or "1 = 1"


EVERYONE = Customers()


def _code_sql(store: Store, column: str, values: Sequence[str]) -> tuple[str, IntArray]:
    """SQL giving the 1-based position of `column` in '|v0|v1|…|' (0 when absent), and the
    lookup array from that position to the value's index (-1: not one of `values`)."""
    haystack = "|" + "|".join(values) + "|"
    lookup = np.full(len(haystack) + 1, -1, dtype=np.int64)
    position = 1
    for k, value in enumerate(values):
        lookup[position] = k
        position += len(value) + 1
    function = "strpos" if store.is_postgres else "instr"
    return f"{function}('{haystack}', '|' || {column} || '|')", lookup


def _decode(name: str, positions: IntArray, lookup: IntArray) -> IntArray:
    codes = lookup[positions]
    if codes.size and int(codes.min()) < 0:
        raise ValueError(f"{name}: a value outside the known list (row {int(np.argmin(codes))})")
    return codes


def _day_sql(store: Store, column: str) -> str:
    return day_number_sql(store, column)


def _matrix(rows: list[Any], width: int) -> IntArray:
    return np.array(rows, dtype=np.int64).reshape(-1, width) if rows else np.zeros((0, width), dtype=np.int64)


@dataclass
class Book:
    """The portfolio (invoices still to handle on `as_of`) and the accounts of the same customers."""

    portfolio: Portfolio
    accounts: Accounts


def load_book(
    store: Store,
    as_of: date,
    customers: Customers = EVERYONE,
    only_ids: Sequence[int] | None = None,
    accounts_only: bool = False,
    handled_too: bool = False,
) -> Book:
    """`accounts_only`: fetch just what the account aggregates need (the portfolio comes back empty).
    `handled_too`: keep invoices already handled on `as_of` (a person's step, not a re-run of the date)."""
    state_sql, state_lookup = _code_sql(store, "i.state", STATES)
    currency_sql, currency_lookup = _code_sql(store, "i.currency", CURRENCIES)
    collectible = ", ".join(f"'{s}'" for s in STATES)
    # A whole-portfolio load scans the table; on SQLite that beats walking an index.
    scan = "invoice i NOT INDEXED" if not store.is_postgres and customers == EVERYONE else "invoice i"
    due = _day_sql(store, "i.due_date")
    columns = (
        f"0, i.customer, 0, {state_sql}, 0, 0, i.open_amount, {currency_sql}, {due}, -1, {(as_of - _EPOCH).days}"
        if accounts_only
        else f"i.id, i.customer, i.version, {state_sql}, i.dunning_level, i.amount, i.open_amount, "
        f"{currency_sql}, {due}, COALESCE({_day_sql(store, 'i.last_notice_on')}, -1), "
        f"COALESCE({_day_sql(store, 'i.last_cycle_on')}, -1)"
    )
    sql = f"SELECT {columns} FROM {scan} WHERE i.state IN ({collectible}) AND {customers.where('i.customer')}"
    acc_state_sql, acc_state_lookup = _code_sql(store, "c.state", ACCOUNT_STATES)
    customer_sql = (
        f"SELECT c.id, c.risk_score, c.credit_limit, c.broken_promises, {acc_state_sql}, c.segment, c.risk_class, "
        "c.currency, COALESCE(c.country, ''), COALESCE(c.subdivision, ''), COALESCE(c.email, '') "
        f"FROM customer c WHERE {customers.where('c.id')} ORDER BY c.id"
    )
    predicted_sql = (
        f"SELECT invoice, {_day_sql(store, 'expected_on')}, p_late FROM invoice_prediction "
        f"WHERE {customers.where('customer')} ORDER BY invoice"
    )
    unapplied_sql = (
        "SELECT p.customer, p.currency, SUM(p.unapplied_amount) FROM payment p WHERE p.unapplied_amount > 0 "
        f"AND p.reversed_at IS NULL AND {customers.where('p.customer')} GROUP BY p.customer, p.currency"
    )
    with UnitOfWork(store) as uow:
        rows = fetch_all(uow, sql)
        # after the invoices: every customer they name exists (customers are never deleted)
        customer_rows = fetch_all(uow, customer_sql)
        predicted = _matrix([] if accounts_only else fetch_all(uow, predicted_sql), 3)
        unapplied = {(int(r[0]), str(r[1])): int(r[2]) for r in fetch_all(uow, unapplied_sql)}
    inv = _matrix(rows, 11)
    del rows
    inv = inv[np.lexsort((inv[:, 0], inv[:, 1]))]
    cust = _customers(customer_rows, acc_state_lookup, as_of)
    today = (as_of - _EPOCH).days
    state = _decode("invoice.state", inv[:, 3], state_lookup)
    currency = _decode("invoice.currency", inv[:, 7], currency_lookup)
    accounts = _accounts(inv, state, currency, cust, today)
    accounts.unapplied = unapplied
    todo = inv[:, 10] < today if not handled_too else np.ones(inv.shape[0], dtype=bool)
    if only_ids is not None:
        todo &= np.isin(inv[:, 0], np.asarray(list(only_ids), dtype=np.int64))
    inv, state, currency = inv[todo], state[todo], currency[todo]
    at = np.searchsorted(cust["id"], inv[:, 1])
    portfolio = Portfolio(
        as_of,
        invoice_id=inv[:, 0].copy(),
        customer_id=inv[:, 1].copy(),
        version=inv[:, 2].copy(),
        state=np.asarray(STATES)[state],
        dunning_level=inv[:, 4].copy(),
        amount=inv[:, 5].copy(),
        open_amount=inv[:, 6].copy(),
        currency=np.asarray(CURRENCIES)[currency],
        due_day=inv[:, 8].copy(),
        last_notice_day=inv[:, 9].copy(),
        segment=cust["segment"][at],
        risk=cust["risk"][at],
        risk_score=cust["risk_score"][at],
        credit_limit=cust["credit_limit"][at],
        broken_promises=cust["broken_promises"][at],
        account_state=cust["state"][at],
        customer_email=cust["email"][at],
        blocked=blocks_in_force(store, as_of, customers.where("b.customer")).covers(inv[:, 0], inv[:, 1]),
        collectible_amount=disputed.collectible(store, customers.where("d.customer"), inv[:, 0], inv[:, 6]),
        **_predictions(predicted, inv[:, 0], inv[:, 8], today),
    )
    return Book(portfolio, accounts)


def _predictions(predicted: IntArray, invoice_id: IntArray, due_day: IntArray, today: int) -> dict[str, IntArray]:
    """The stored prediction of each invoice (engine/predict: invoice, expected day, p_late per
    mille, sorted by invoice), or, for one not scored yet, the due-date baseline: expected on the
    due date (today once past it), p_late 100 past due else 0."""
    expected = np.maximum(due_day, today)
    p_late = np.where(due_day < today, 100, 0)
    if predicted.shape[0]:
        at = np.minimum(np.searchsorted(predicted[:, 0], invoice_id), predicted.shape[0] - 1)
        found = predicted[at, 0] == invoice_id
        expected = np.where(found, predicted[at, 1], expected)
        p_late = np.where(found, (predicted[at, 2] + 5) // 10, p_late)
    return {"expected_day": expected.astype(np.int64), "p_late": p_late.astype(np.int64)}


def _customers(rows: list[Any], state_lookup: IntArray, as_of: date) -> dict[str, Any]:
    ints = _matrix([r[:5] for r in rows], 5)
    text: list[Any] = list(zip(*(r[5:] for r in rows), strict=True)) if rows else [(), (), (), (), (), ()]
    return {
        "id": ints[:, 0].copy(),
        "risk_score": ints[:, 1].copy(),
        "credit_limit": ints[:, 2].copy(),
        "broken_promises": ints[:, 3].copy(),
        "state": np.asarray(ACCOUNT_STATES)[_decode("customer.state", ints[:, 4], state_lookup)],
        "segment": np.asarray(text[0], dtype=np.str_),
        "risk": np.asarray(text[1], dtype=np.str_),
        "currency": np.asarray(text[2], dtype=np.str_),
        # one judgement per distinct (country, subdivision), not per customer
        "business_day": business_day_flags(
            as_of, np.asarray(text[3], dtype=np.str_), np.asarray(text[4], dtype=np.str_)
        ),
        "email": np.asarray(text[5], dtype=object),  # only read for rows acted on: no 1M-row text copy
    }


def _accounts(inv: IntArray, state: IntArray, currency: IntArray, cust: dict[str, Any], today: int) -> Accounts:
    """Per customer (rows sorted by customer): exposure = open amounts of collectible invoices;
    overdue = open amounts past due (not disputed); max_days_past_due from the oldest such due date.
    Money is summed in the customer's own currency only (never EUR plus USD); days count every
    invoice. Integer sums (`np.add.reduceat`), never floats."""
    customer_ids = inv[:, 1]
    if customer_ids.size:
        starts = np.flatnonzero(np.r_[True, customer_ids[1:] != customer_ids[:-1]])
        owners = customer_ids[starts]
        past_due = (inv[:, 8] < today) & np.isin(state, PAST_DUE_CODES)
        own = np.asarray(CURRENCIES)[currency] == cust["currency"][np.searchsorted(cust["id"], customer_ids)]
        money = np.where(own, inv[:, 6], 0)
        exposure = np.add.reduceat(money, starts)
        overdue = np.add.reduceat(np.where(past_due, money, 0), starts)
        oldest = np.minimum.reduceat(np.where(past_due, inv[:, 8], _NO_DATE), starts)
        max_dpd = np.where(oldest == _NO_DATE, 0, today - np.minimum(oldest, today))
    else:
        owners = exposure = overdue = max_dpd = np.zeros(0, dtype=np.int64)
    # accounts: customers with collectible invoices, or on hold
    on_hold = cust["id"][cust["state"] == acc_states.ON_HOLD]
    ids = np.union1d(owners, on_hold).astype(np.int64)
    have = np.searchsorted(owners, ids)
    found = (have < owners.size) & (owners[np.minimum(have, max(owners.size - 1, 0))] == ids) if owners.size else None

    def per_account(values: IntArray) -> IntArray:
        out = np.zeros(ids.size, dtype=np.int64)
        if found is not None:
            out[found] = values[have[found]]
        return out

    at = np.searchsorted(cust["id"], ids)
    return Accounts(
        customer_id=ids,
        exposure=per_account(exposure),
        overdue_amount=per_account(overdue),
        max_days_past_due=per_account(max_dpd),
        segment=cust["segment"][at],
        risk=cust["risk"][at],
        risk_score=cust["risk_score"][at],
        credit_limit=cust["credit_limit"][at],
        broken_promises=cust["broken_promises"][at],
        state=cust["state"][at],
        currency=cust["currency"][at],
        business_day=cust["business_day"][at],
    )


def owners_of(store: Store, invoice_ids: Sequence[int]) -> tuple[int, ...]:
    """The customers of these invoices (sorted)."""
    if not invoice_ids:
        return ()
    marks = ",".join(str(int(i)) for i in invoice_ids)
    with UnitOfWork(store) as uow:
        return tuple(sorted({int(r[0]) for r in fetch_all(uow, f"SELECT customer FROM invoice WHERE id IN ({marks})")}))
