"""Collector, agenda rows and figures."""

from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import strawberry
from strawberry.dataloader import DataLoader

from engine.queries.agenda import AgendaRow as RowView
from engine.queries.collector_figures import CollectorFigures as FiguresView
from engine.services.collectors import CollectorView
from schema.common.money import Money
from schema.context import Info
from schema.credit.types import PromiseToPay
from schema.disputes.types import Dispute
from schema.ids import to_id
from schema.invoices.types import Invoice
from schema.loaders import now_or_later
from schema.tasks.types import Task

R = TypeVar("R")

if TYPE_CHECKING:
    from schema.customers.types import Customer


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
    expected_late: Money = strawberry.field(
        description="Money at risk plus the not-yet-due open amount × its payment prediction's p_late: the order."
    )
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
            expected_late=Money.of(r.expected_late, r.currency),
            open_amount=Money.of(r.open_amount, r.currency),
            last_contact_at=r.last_contact_at,
            blocked=r.blocked,
            on_hold=r.on_hold,
            allowed_actions=[AgendaAction(a) for a in r.allowed_actions],
            open_tasks=[Task.of(t) for t in r.tasks],
            view=r,
        )

    @strawberry.field
    def customer(self, info: Info) -> Annotated["Customer", strawberry.lazy("schema.customers.types")]:

        return now_or_later(info.context.loaders.customer, self.view.customer_id, _customer)

    @strawberry.field(description="Collectible invoices, oldest due first.")
    def invoices(self, info: Info) -> list[Invoice]:
        return all_now_or_later(info.context.loaders.invoice, self.view.invoice_ids, Invoice.of)

    @strawberry.field(description="Active disputes.")
    def disputes(self, info: Info) -> list[Dispute]:
        return all_now_or_later(info.context.loaders.dispute, self.view.dispute_ids, Dispute.of)

    @strawberry.field(description="Active promises to pay.")
    def promises(self, info: Info) -> list[PromiseToPay]:
        wanted, currency = set(self.view.promise_ids), self.view.currency

        def convert(found: list[Any]) -> list[PromiseToPay]:
            return [PromiseToPay.of(p, currency) for p in found if p.id in wanted]

        return now_or_later(info.context.loaders.promises_of_customer, self.view.customer_id, convert)


def _customer(view: Any) -> Any:
    from schema.customers.types import Customer  # customers' types import this module's neighbours

    assert view is not None
    return Customer.of(view)


def all_now_or_later(loader: DataLoader[int, Any], keys: list[int], convert: Callable[[Any], R]) -> list[R]:
    """Like `now_or_later`, for a list of keys (missing rows are left out)."""
    futures = [loader.cache_map.get(k) for k in keys]
    if all(f is not None and f.done() and not f.cancelled() and f.exception() is None for f in futures):
        return [convert(f.result()) for f in futures if f is not None and f.result() is not None]

    async def later() -> list[R]:
        return [convert(v) for v in await loader.load_many(keys) if v is not None]

    return cast(list[R], later())


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
