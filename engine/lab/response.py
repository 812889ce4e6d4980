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

`PredictedResponse` (used by `learn_response` whenever a payment prediction model has been
trained, `o2c predict train`): each open invoice's unprompted payment day is drawn from its
predicted distribution (`engine.predict.service.predict_delays`); an invoice already later than
its draw, and the effect of a notice, come from `HistoryResponse`. Without a trained model the
backtest uses `HistoryResponse` alone; the report's response-model line says which.

Without any paid history there is nothing to learn: every invoice is paid on its due date and a
notice changes nothing (stated in the report as `learned_from: 0`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt

from engine.cycle.book import _day_sql
from engine.cycle.portfolio import fetch_all
from engine.predict.service import predict_delays
from engine.predict.store import latest_model
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork

IntArray = npt.NDArray[np.int64]
NEVER = np.iinfo(np.int64).max // 2
MIN_OWN = 3
REACTION_DAYS = 14
_EPOCH = date(1970, 1, 1)


class ResponseModel(Protocol):
    @property
    def kind(self) -> str:
        """In words, which model this is (for the report)."""

    def pay_days(
        self,
        customers: IntArray,
        due_days: IntArray,
        today: int,
        rng: np.random.Generator,
        ids: IntArray | None = None,
    ) -> IntArray:
        """The day (days since 1970-01-01) each open invoice (`ids`, of `customers`) would be paid
        without prompting (> today), or NEVER."""

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

    @property
    def kind(self) -> str:
        return "observed delays"

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

    def pay_days(
        self,
        customers: IntArray,
        due_days: IntArray,
        today: int,
        rng: np.random.Generator,
        ids: IntArray | None = None,
    ) -> IntArray:
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


@dataclass
class PredictedResponse:
    """Unprompted payments from the trained payment prediction model; the rest from `history`."""

    store: Store
    history: HistoryResponse
    model_id: int

    @property
    def learned_from(self) -> int:
        return self.history.learned_from

    @property
    def notices_observed(self) -> int:
        return self.history.notices_observed

    @property
    def reaction_share(self) -> float:
        return self.history.reaction_share

    @property
    def kind(self) -> str:
        return f"payment prediction (model {self.model_id})"

    def pay_days(
        self,
        customers: IntArray,
        due_days: IntArray,
        today: int,
        rng: np.random.Generator,
        ids: IntArray | None = None,
    ) -> IntArray:
        if ids is None or ids.size == 0:
            return self.history.pay_days(customers, due_days, today, rng, ids)
        drawn = predict_delays(self.store, [int(i) for i in ids.tolist()], _EPOCH + timedelta(days=today), rng)
        fallback = self.history.pay_days(customers, due_days, today, rng, ids)
        delay = np.asarray([drawn[int(i)][0] if int(i) in drawn else NEVER for i in ids.tolist()], dtype=np.int64)
        predicted = np.where(delay == NEVER, NEVER, due_days + np.minimum(delay, NEVER - due_days))
        return np.where(predicted > today, np.where(predicted < NEVER, predicted, fallback), fallback)

    def after_notice(self, count: int, today: int, rng: np.random.Generator) -> IntArray:
        return self.history.after_notice(count, today, rng)


def learn_response(store: Store) -> ResponseModel:
    """The payment prediction model when one has been trained, else the observed delays."""
    history = HistoryResponse.learn(store)
    found = latest_model(store)
    if found is None:
        return history
    return PredictedResponse(store, history, found[0].id)
