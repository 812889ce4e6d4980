"""A payment history with varied behaviour, for measuring the payment model honestly
(`benchmarks/predict.py`) and for its tests. Separate from the demo's generator on purpose: this
one exists to contain what a per-customer mean delay cannot capture, and says so.

Behaviours (each customer has one pay habit, and some carry the other effects):
- steady: pays its own typical delay, give or take a few days;
- weekly pay run: pays on the first of its pay weekday on or after its typical delay;
- monthly pay run: pays on its pay day of the month (say the 25th) on or after its typical delay;
- month end: pays on the last day of the month on or after its typical delay;
- amount effect (a third of customers): larger invoices than usual wait longer (approvals);
- trend (a fifth): the typical delay drifts later by up to 20 days over the two years;
- season (everyone): invoices due in August or December are paid about 7 days later;
- disputes (4 % of invoices): a disputed invoice is paid 15-45 days later;
- broken promises (a tenth of customers have distressed quarters): in a distressed quarter invoices
  are paid 20-40 days later and a promise to pay is broken on some of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.predict.features import Promises, Record, calendar, weekday

IntArray = npt.NDArray[np.int64]
HABITS = ("steady", "weekly pay run", "monthly pay run", "month end")


@dataclass
class History:
    """Every invoice generated (paid ones have paid_day >= 0), and the broken promises."""

    customer_id: IntArray
    segment: IntArray  # per invoice: the customer's segment code
    issue_day: IntArray
    due_day: IntArray
    paid_day: IntArray
    amount: IntArray
    disputed: npt.NDArray[np.bool_]
    promises: Promises
    habit: IntArray  # per customer: index into HABITS

    def record(self, before: int) -> Record:
        """Invoices paid before day `before`: what a model trained on that day sees."""
        mask = (self.paid_day >= 0) & (self.paid_day < before)
        return Record(
            self.customer_id[mask],
            self.issue_day[mask],
            self.due_day[mask],
            self.paid_day[mask],
            self.amount[mask],
            self.disputed[mask],
        )


def generate(customers: int, invoices: int, start_day: int, days: int = 730, seed: int = 7) -> History:
    rng = np.random.default_rng(seed)
    habit = rng.choice(len(HABITS), size=customers, p=[0.35, 0.25, 0.2, 0.2])
    typical = rng.gamma(2.0, 4.0, customers) - 7.0  # days after due, some pay early
    noise = rng.uniform(1.0, 6.0, customers)
    payday = rng.choice([10, 15, 20, 25, 28], size=customers)
    payweekday = rng.choice([1, 3, 4], size=customers)  # Tue, Thu, Fri
    amount_effect = rng.random(customers) < 0.33
    drift = np.where(rng.random(customers) < 0.2, rng.uniform(5, 20, customers), 0.0)
    distressed = rng.random(customers) < 0.1
    segment = rng.choice(4, size=customers, p=[0.1, 0.3, 0.5, 0.1])
    usual = np.exp(rng.normal(7.5, 1.0, customers))  # usual invoice amount in major units
    terms = rng.choice([14, 30, 45, 60], size=customers, p=[0.2, 0.5, 0.2, 0.1])

    owner = np.sort(rng.integers(0, customers, invoices))
    issue = start_day + rng.integers(0, days, invoices)
    due = issue + terms[owner]
    ratio = np.exp(rng.normal(0, 0.8, invoices))
    amount = np.round(usual[owner] * ratio * 100).astype(np.int64)
    disputed = rng.random(invoices) < 0.04
    progress = (issue - start_day) / days
    quarter = (issue - start_day) // 91
    bad_quarter = distressed[owner] & (((owner * 7 + quarter) % 4) == 0)
    _, due_month, _, _ = calendar(due)
    delay = (
        typical[owner]
        + rng.normal(0, 1, invoices) * np.where(habit[owner] == 0, noise[owner], 1.0)
        + np.where(amount_effect[owner], 6.0 * np.log(ratio), 0.0)
        + drift[owner] * progress
        + np.where(np.isin(due_month, (8, 12)), 7.0, 0.0)
        + np.where(disputed, rng.uniform(15, 45, invoices), 0.0)
        + np.where(bad_quarter, rng.uniform(20, 40, invoices), 0.0)
    )
    paid = due + np.round(delay).astype(np.int64)
    paid = np.maximum(paid, issue + 1)
    h = habit[owner]
    weekly = h == 1
    paid[weekly] += (payweekday[owner][weekly] - weekday(paid[weekly])) % 7
    _, _, dom, length = calendar(paid)
    monthly = h == 2
    pd = payday[owner]
    to_pd = np.where(pd >= dom, pd - dom, length - dom + pd)
    paid[monthly] += to_pd[monthly]
    ends = h == 3
    paid[ends] += (length - dom)[ends]
    broken_mask = bad_quarter & (rng.random(invoices) < 0.5)
    promises = Promises(owner[broken_mask].astype(np.int64), (due + 10)[broken_mask].astype(np.int64))
    return History(
        owner.astype(np.int64),
        segment[owner].astype(np.int64),
        issue.astype(np.int64),
        due.astype(np.int64),
        paid.astype(np.int64),
        amount,
        disputed,
        promises,
        habit.astype(np.int64),
    )
