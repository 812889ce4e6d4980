"""How simulated customers pay: a response model learned from the payment history.

`ResponseModel` is the one interface the backtest uses, so a better model (the payment prediction
model, when it exists) replaces this one without touching the simulation. `HistoryResponse`:

* **when an invoice would be paid unprompted**: a delay (paid date − due date) drawn from the
  customer's own paid invoices when it has at least `MIN_OWN` of them, else from every customer's;
  an invoice already later than the drawn delay draws again among the delays longer than its
  lateness (none: it is not paid within the horizon);
* **what a notice does**: the observed share of notices after which the invoice was paid within
  `REACTION_DAYS` days, and the observed gaps (days from notice to payment) of those. On each
  notice, with that probability, the payment moves to the notice date plus a drawn gap, if that
  is sooner than planned.

Without any paid history there is nothing to learn: every invoice is paid on its due date and a
notice changes nothing (stated in the report as `learned_from: 0`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from engine.cycle.book import _day_sql
from engine.cycle.portfolio import fetch_all
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork

IntArray = npt.NDArray[np.int64]
NEVER = np.iinfo(np.int64).max // 2
MIN_OWN = 3
REACTION_DAYS = 14


class ResponseModel(Protocol):
    def pay_days(self, customers: IntArray, due_days: IntArray, today: int, rng: np.random.Generator) -> IntArray:
        """The day (days since 1970-01-01) each open invoice would be paid without prompting (> today)."""

    def after_notice(self, count: int, today: int, rng: np.random.Generator) -> IntArray:
        """For `count` invoices noticed today: the day each would now be paid, or NEVER (no effect)."""


@dataclass
class HistoryResponse:
    delays: dict[int, list[int]] = field(default_factory=dict)
    everyone: list[int] = field(default_factory=list)
    reaction_share: float = 0.0
    reaction_gaps: list[int] = field(default_factory=list)
    notices_observed: int = 0

    @property
    def learned_from(self) -> int:
        return len(self.everyone)

    @staticmethod
    def learn(store: Store) -> HistoryResponse:
        delay = f"{_day_sql(store, 'paid_on')} - {_day_sql(store, 'due_date')}"
        gap = f"{_day_sql(store, 'i.paid_on')} - {_day_sql(store, 'n.business_date')}"
        with UnitOfWork(store) as uow:
            paid = fetch_all(uow, f"SELECT customer, {delay} FROM invoice WHERE paid_on IS NOT NULL ORDER BY id")
            gaps = fetch_all(
                uow,
                f"SELECT CASE WHEN i.paid_on IS NULL THEN -1 ELSE {gap} END FROM notice n "
                "JOIN invoice i ON i.id = n.invoice ORDER BY n.id",
            )
        found = HistoryResponse()
        by_customer: dict[int, list[int]] = defaultdict(list)
        for customer, days in paid:
            by_customer[int(customer)].append(int(days))
            found.everyone.append(int(days))
        found.delays = dict(by_customer)
        after = [int(g) for (g,) in gaps]
        reacted = [g for g in after if 0 <= g <= REACTION_DAYS]
        found.reaction_share = len(reacted) / len(after) if after else 0.0
        found.reaction_gaps = reacted
        found.notices_observed = len(after)
        return found

    def pay_days(self, customers: IntArray, due_days: IntArray, today: int, rng: np.random.Generator) -> IntArray:
        out = np.full(customers.size, NEVER, dtype=np.int64)
        if not self.everyone:
            return np.maximum(due_days, today + 1)
        for k, (customer, due) in enumerate(zip(customers.tolist(), due_days.tolist(), strict=True)):
            own = self.delays.get(customer, [])
            pool = own if len(own) >= MIN_OWN else self.everyone
            late = today - due
            later = [d for d in pool if d > late]
            if later:
                out[k] = due + later[int(rng.integers(len(later)))]
        return out

    def after_notice(self, count: int, today: int, rng: np.random.Generator) -> IntArray:
        out = np.full(count, NEVER, dtype=np.int64)
        if not self.reaction_gaps or count == 0:
            return out
        react = rng.random(count) < self.reaction_share
        gaps = np.asarray(self.reaction_gaps, dtype=np.int64)[rng.integers(len(self.reaction_gaps), size=count)]
        out[react] = today + np.maximum(gaps[react], 1)
        return out
