"""Worklist items, the aging report and the collection KPIs."""

from datetime import date
from decimal import Decimal

import strawberry

from engine.queries.reports import Aging, Kpis
from engine.queries.worklist import WorkItem
from schema.common.money import Money
from schema.context import Info
from schema.customers.types import Customer
from schema.invoices.types import Invoice


@strawberry.type(description="One invoice to work, with why it is where it is in the list.")
class WorklistItem:
    open_amount: Money
    days_past_due: int
    late_probability: Decimal = strawberry.field(
        description="The payment prediction's p_late; the customer risk score / 100 when not scored yet."
    )
    urgency: int = strawberry.field(
        description="Predicted days late (days past due when not scored yet), capped at 180."
    )
    money_at_risk: Money = strawberry.field(description="Open amount × probability of late payment.")
    priority: str = strawberry.field(description="Open minor units × p_late per mille × urgency (sort key).")
    reason: str
    item: strawberry.Private[WorkItem]

    @staticmethod
    def of(w: WorkItem) -> "WorklistItem":
        return WorklistItem(
            open_amount=Money.of(w.open_amount, w.currency),
            days_past_due=w.days_past_due,
            late_probability=Decimal(w.p_late_per_mille) / 1000,
            urgency=w.urgency,
            money_at_risk=Money.of(w.money_at_risk, w.currency),
            priority=str(w.priority),
            reason=w.reason,
            item=w,
        )

    @strawberry.field
    async def invoice(self, info: Info) -> Invoice:
        view = await info.context.loaders.invoice.load(self.item.id)
        assert view is not None
        return Invoice.of(view)

    @strawberry.field
    async def customer(self, info: Info) -> Customer:
        view = await info.context.loaders.customer.load(self.item.customer_id)
        assert view is not None
        return Customer.of(view)


@strawberry.type
class AgingBucket:
    key: str = strawberry.field(description="current | d1_30 | d31_60 | d61_90 | d91_plus")
    label: str
    amount: Money
    count: int


@strawberry.type(description="Receivables by days past due as they stood at the end of `asOf`.")
class AgingReport:
    as_of: date
    currency: str
    segment: str | None
    buckets: list[AgingBucket]
    total: Money

    @staticmethod
    def of(a: Aging) -> "AgingReport":
        return AgingReport(
            as_of=a.as_of,
            currency=a.currency,
            segment=a.segment,
            buckets=[
                AgingBucket(key=b.key, label=b.label, amount=Money.of(b.amount, a.currency), count=b.count)
                for b in a.buckets
            ],
            total=Money.of(a.total, a.currency),
        )


@strawberry.type(description="Collection KPIs over a period (definitions in docs/api.md).")
class Kpi:
    from_date: date = strawberry.field(name="from")
    to_date: date = strawberry.field(name="to")
    currency: str
    days: int
    beginning_receivables: Money
    ending_receivables: Money
    ending_current_receivables: Money
    credit_sales: Money
    dso: Decimal | None = strawberry.field(description="Days sales outstanding; null without sales.")
    best_possible_dso: Decimal | None
    average_days_delinquent: Decimal | None = strawberry.field(description="ADD = DSO − best possible DSO.")
    collection_effectiveness_index: Decimal | None = strawberry.field(description="CEI, in percent.")

    @staticmethod
    def of(k: Kpis) -> "Kpi":
        cur = k.currency
        return Kpi(
            from_date=k.start,
            to_date=k.end,
            currency=cur,
            days=k.days,
            beginning_receivables=Money.of(k.beginning_ar, cur),
            ending_receivables=Money.of(k.ending_ar, cur),
            ending_current_receivables=Money.of(k.ending_current_ar, cur),
            credit_sales=Money.of(k.credit_sales, cur),
            dso=k.dso,
            best_possible_dso=k.best_possible_dso,
            average_days_delinquent=k.add,
            collection_effectiveness_index=k.cei,
        )
