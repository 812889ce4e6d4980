"""Collector, agenda rows and figures."""

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from engine.queries.agenda import AgendaRow as RowView
from engine.queries.collector_figures import CollectorFigures as FiguresView
from engine.services.collectors import CollectorView
from schema.common.money import Money
from schema.context import Info
from schema.ids import to_id
from schema.tasks.types import Task

if TYPE_CHECKING:
    from schema.credit.types import PromiseToPay
    from schema.customers.types import Customer
    from schema.disputes.types import Dispute
    from schema.invoices.types import Invoice


@strawberry.type(description="A person who works a portfolio of customers and the tasks of some queues.")
class Collector:
    id: strawberry.ID
    name: str
    email: str
    queues: list[str]
    active: bool
    created_at: datetime

    @staticmethod
    def of(c: CollectorView) -> "Collector":
        return Collector(
            id=to_id(c.id), name=c.name, email=c.email, queues=list(c.queues), active=c.active, created_at=c.created_at
        )


@strawberry.enum(description="What a collector may do now for a customer of the agenda.")
class AgendaAction(Enum):
    LOG_CALL = "LOG_CALL"
    ADD_NOTE = "ADD_NOTE"
    RECORD_PROMISE = "RECORD_PROMISE"
    OPEN_DISPUTE = "OPEN_DISPUTE"
    PLACE_BLOCK = "PLACE_BLOCK"
    LIFT_BLOCK = "LIFT_BLOCK"
    RELEASE_HOLD = "RELEASE_HOLD"
    START_TASK = "START_TASK"
    COMPLETE_TASK = "COMPLETE_TASK"


@strawberry.type(description="One customer of a collector's agenda.")
class AgendaRow:
    money_at_risk: Money = strawberry.field(description="Open, past due on the agenda's date, not disputed.")
    open_amount: Money
    last_contact_at: datetime | None = strawberry.field(description="The latest note, call or message.")
    blocked: bool = strawberry.field(description="A dunning block on the whole customer is in force.")
    on_hold: bool
    allowed_actions: list[AgendaAction]
    open_tasks: list[Task]
    view: strawberry.Private[RowView]

    @staticmethod
    def of(r: RowView) -> "AgendaRow":
        return AgendaRow(
            money_at_risk=Money.of(r.money_at_risk, r.currency),
            open_amount=Money.of(r.open_amount, r.currency),
            last_contact_at=r.last_contact_at,
            blocked=r.blocked,
            on_hold=r.on_hold,
            allowed_actions=[AgendaAction(a) for a in r.allowed_actions],
            open_tasks=[Task.of(t) for t in r.tasks],
            view=r,
        )

    @strawberry.field
    async def customer(self, info: Info) -> Annotated["Customer", strawberry.lazy("schema.customers.types")]:
        from schema.customers.types import Customer

        view = await info.context.loaders.customer.load(self.view.customer_id)
        assert view is not None
        return Customer.of(view)

    @strawberry.field(description="Collectible invoices, oldest due first.")
    async def invoices(self, info: Info) -> list[Annotated["Invoice", strawberry.lazy("schema.invoices.types")]]:
        from schema.invoices.types import Invoice

        views = await info.context.loaders.invoice.load_many(self.view.invoice_ids)
        return [Invoice.of(v) for v in views if v is not None]

    @strawberry.field(description="Active disputes.")
    async def disputes(self, info: Info) -> list[Annotated["Dispute", strawberry.lazy("schema.disputes.types")]]:
        from schema.disputes.types import Dispute

        views = await info.context.loaders.dispute.load_many(self.view.dispute_ids)
        return [Dispute.of(v) for v in views if v is not None]

    @strawberry.field(description="Active promises to pay.")
    async def promises(self, info: Info) -> list[Annotated["PromiseToPay", strawberry.lazy("schema.credit.types")]]:
        from schema.credit.types import PromiseToPay

        found = await info.context.loaders.promises_of_customer.load(self.view.customer_id)
        wanted = set(self.view.promise_ids)
        return [PromiseToPay.of(p, self.view.currency) for p in found if p.id in wanted]


@strawberry.type(description="What a collector achieved over a period.")
class CollectorFigures:
    since: date
    until: date
    tasks_done: int
    calls_logged: int
    promises_obtained: int
    promises_kept: int
    cash_collected: list[Money] = strawberry.field(description="Per currency, on the customers of the portfolio.")

    @staticmethod
    def of(f: FiguresView) -> "CollectorFigures":
        return CollectorFigures(
            since=f.since,
            until=f.until,
            tasks_done=f.tasks_done,
            calls_logged=f.calls_logged,
            promises_obtained=f.promises_obtained,
            promises_kept=f.promises_kept,
            cash_collected=[Money.of(v, c) for c, v in sorted(f.cash_collected.items())],
        )
