"""Fact arrays for the vectorized evaluator, built from the portfolio and account aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.cycle.portfolio import NEVER_NOTICED, Portfolio
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
    # The business date is a business day in the customer's calendar (engine/calendars.py).
    business_day: npt.NDArray[np.bool_]
    # Unapplied cash by (customer id, currency); few customers have any, so a dict beats arrays.
    unapplied: dict[tuple[int, str], int] = field(default_factory=dict)

    def unapplied_in(self, customer_ids: IntArray, currencies: npt.NDArray[np.str_]) -> IntArray:
        """Unapplied cash of each row's customer in that row's currency (0 for nearly everyone)."""
        out = np.zeros(customer_ids.size, dtype=np.int64)
        if not self.unapplied:
            return out
        holders = np.fromiter({c for c, _ in self.unapplied}, dtype=np.int64)
        for i in np.flatnonzero(np.isin(customer_ids, holders)):
            out[i] = self.unapplied.get((int(customer_ids[i]), str(currencies[i])), 0)
        return out

    def index_of(self, customer_ids: IntArray) -> IntArray:
        return np.searchsorted(self.customer_id, customer_ids).astype(np.int64)

    def take(self, mask: npt.NDArray[np.bool_]) -> Accounts:
        """The accounts of the rows `mask` selects (unapplied cash is looked up by id: kept whole)."""
        return Accounts(
            **{
                f.name: getattr(self, f.name) if f.name == "unapplied" else getattr(self, f.name)[mask]
                for f in fields(Accounts)
            }
        )


def account_facts(acc: Accounts, rows: IntArray, recent: IntArray) -> dict[str, Any]:
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
        "account.unapplied_cash": acc.unapplied_in(acc.customer_id[rows], acc.currency[rows]),
        "covered_by_credit": np.zeros(n, dtype=bool),
        "business_day": acc.business_day[rows],
        "recent_notices": recent,
    }


def invoice_facts(p: Portfolio, acc: Accounts, recent: IntArray) -> dict[str, Any]:
    """Invoice-scope facts, one row per portfolio row (state as planned after `mark_overdue`)."""
    rows = acc.index_of(p.customer_id)
    facts = account_facts(acc, rows, recent)
    dpd = p.today - p.due_day
    unapplied = acc.unapplied_in(p.customer_id, p.currency)
    facts |= {
        "account.unapplied_cash": unapplied,
        "covered_by_credit": (unapplied > 0) & (unapplied >= p.open_amount),  # states.cash.covered_by_credit
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
        "blocked": p.blocked,
        "collectible_amount": p.collectible_amount,
        "p_late": p.p_late,
        "predicted_days_late": np.maximum(p.expected_day - p.due_day, 0),
        "days_to_expected_payment": np.maximum(p.expected_day - p.today, 0),
    }
    return facts
