"""The collector's worklist: past-due invoices still chased, most money at risk first.

priority = open amount × probability of late payment × urgency. With a payment prediction
(engine/predict, table `invoice_prediction`) the urgency is the predicted days late — how long
the money is expected to stay out, so an invoice the model expects to be paid tomorrow sinks
below one expected to stay out for months — and the probability is the predicted p_late.
Without one (not scored yet) the probability is the customer's risk score / 100 and the urgency
the days past due. Urgency is capped at URGENCY_CAP so that ancient debt (already escalated or
written off in practice) does not bury this week's work. Amounts are compared in minor units
without FX conversion: filter by currency for a strict order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.queries.pages import Edge, Page, check_page_size
from engine.queries.sql import Params, day_text, days_past_due, decode_cursor, encode_cursor
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states import invoice as inv_states
from states.money import check_currency, format_minor

URGENCY_CAP = 180
WORKED_STATES = (inv_states.OPEN, inv_states.OVERDUE, inv_states.DUNNING, inv_states.ESCALATED)


@dataclass(frozen=True)
class WorkItem:
    id: int  # the invoice id
    customer_id: int
    number: str
    state: str
    dunning_level: int
    currency: str
    open_amount: int
    days_past_due: int
    risk_class: str
    risk_score: int
    priority: int
    p_late_per_mille: int  # predicted, or risk score × 10 when not scored
    predicted_days_late: int | None  # None: not scored yet

    @property
    def late_probability(self) -> float:
        return self.p_late_per_mille / 1000

    @property
    def urgency(self) -> int:
        late = self.days_past_due if self.predicted_days_late is None else self.predicted_days_late
        return min(late, URGENCY_CAP)

    @property
    def money_at_risk(self) -> int:
        """Expected loss if nothing is done: open amount × probability of late payment."""
        return self.open_amount * self.p_late_per_mille // 1000

    @property
    def reason(self) -> str:
        return (
            f"{format_minor(self.open_amount, self.currency)} {self.currency} open, "
            f"{self.days_past_due} days past due, {self.risk_class} risk "
            + (
                f"({self.risk_score}% likely to pay late, no payment prediction yet)"
                if self.predicted_days_late is None
                else f"(payment prediction: {self.predicted_days_late} days late in all)"
            )
            + f"; {self.state}"
            + (f" at dunning level {self.dunning_level}" if self.dunning_level else "")
        )


def _candidates(store: Store, p: Params, today: date, currency: str | None, collector_id: int | None = None) -> str:
    t = p.add(day_text(today))
    dpd = days_past_due(store, t)
    late = f"COALESCE(ip.days_late, {dpd})"
    urgency = f"(CASE WHEN {late} > {URGENCY_CAP} THEN {URGENCY_CAP} ELSE {late} END)"
    p_late = "COALESCE(ip.p_late, c.risk_score * 10)"
    money = f" AND i.currency = {p.add(currency.upper())}" if currency else ""
    if collector_id is not None:  # one collector's portfolio
        money += f" AND c.collector = {p.add(collector_id)}"
    return (
        "SELECT i.id AS id, i.customer AS customer_id, i.number AS number, i.state AS state,"
        " i.dunning_level AS dunning_level, i.currency AS currency, i.open_amount AS open_amount,"
        f" {dpd} AS dpd, c.risk_class AS risk_class, c.risk_score AS risk_score,"
        f" i.open_amount * {p_late} * {urgency} AS priority, {p_late} AS p_late, ip.days_late AS days_late"
        " FROM invoice i JOIN customer c ON c.id = i.customer"
        " LEFT JOIN invoice_prediction ip ON ip.invoice = i.id"
        f" WHERE i.state IN {p.many(WORKED_STATES)} AND i.due_date < {p.add(day_text(today))}"
        f" AND i.open_amount > 0{money}"
    )


def _item(row: Any) -> WorkItem:
    iid, cid, number, state, level, currency, open_amount, dpd, risk_class, risk_score, priority, p_late, late = row
    return WorkItem(
        int(iid),
        int(cid),
        str(number),
        str(state),
        int(level),
        str(currency),
        int(open_amount),
        int(dpd),
        str(risk_class),
        int(risk_score),
        int(priority),
        int(p_late),
        None if late is None else int(late),
    )


def worklist_page(
    store: Store,
    today: date,
    first: int,
    after: str | None,
    currency: str | None = None,
    collector_id: int | None = None,
) -> tuple[Page[WorkItem], int]:
    check_page_size(first)
    if currency is not None:
        currency = check_currency(currency)
    p = Params()
    inner = _candidates(store, p, today, currency, collector_id)
    count_sql = f"SELECT COUNT(*) FROM ({inner}) w"
    count_params = p.bound()
    where = "1 = 1"
    if after:
        score, last_id = decode_cursor(after, 2)
        s1, s2, k = p.add(int(score)), p.add(int(score)), p.add(int(last_id))
        where = f"(w.priority < {s1} OR (w.priority = {s2} AND w.id < {k}))"
    limit = p.add(first + 1)
    sql = f"SELECT * FROM ({inner}) w WHERE {where} ORDER BY w.priority DESC, w.id DESC LIMIT {limit}"
    with read_only(store) as uow:
        rows = uow.select(sql, p.bound())
        total = int(uow.select(count_sql, count_params)[0])
    items = [_item(row) for row in rows]
    edges = [Edge(encode_cursor([w.priority, w.id]), w) for w in items[:first]]
    return Page(edges, len(items) > first), total
