"""The Task type, its statuses, outcomes and filter."""

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from engine.tasks.views import TaskView
from schema.context import Info
from schema.history.types import Transition, check_last
from schema.ids import to_id

if TYPE_CHECKING:
    from schema.customers.types import Customer
    from schema.invoices.types import Invoice


@strawberry.enum(description="open → in_progress → done | cancelled; snoozed until a date, then open again.")
class TaskStatus(Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    SNOOZED = "snoozed"
    DONE = "done"
    CANCELLED = "cancelled"


@strawberry.enum(description="How a task (or a call) ended.")
class TaskOutcome(Enum):
    REACHED = "reached"
    VOICEMAIL = "voicemail"
    PROMISE = "promise"
    DISPUTE = "dispute"
    WRONG_NUMBER = "wrong_number"
    PAID = "paid"
    NO_ACTION = "no_action"
    OTHER = "other"


@strawberry.enum(description="Orderings of the task list (ties broken by id).")
class TaskOrder(Enum):
    CREATED_AT_DESC = "CREATED_AT_DESC"
    CREATED_AT_ASC = "CREATED_AT_ASC"


@strawberry.input(description="Every given condition must hold.")
class TaskFilter:
    queue: list[str] | None = None
    assignee: str | None = strawberry.field(default=None, description="A collector's name; '' for unassigned.")
    status: list[TaskStatus] | None = None
    due_before: date | None = None
    customer_id: strawberry.ID | None = None
    invoice_id: strawberry.ID | None = None


@strawberry.type(description="Work for a person or a queue; at most one unfinished per subject and queue.")
class Task:
    id: strawberry.ID
    queue: str
    status: TaskStatus
    source: str = strawberry.field(description="rule, escalation, person, phone or fallback.")
    rule: str
    note: str | None
    assignee: str | None
    due_on: date | None
    snoozed_until: date | None
    outcome: TaskOutcome | None
    result_note: str | None
    handover: JSON | None = strawberry.field(
        description="An escalation's hand-over: what is owed, the recent history, the contacts."
    )
    business_date: date
    created_at: datetime
    updated_at: datetime
    version: int
    view: strawberry.Private[TaskView]

    @staticmethod
    def of(t: TaskView) -> "Task":
        return Task(
            id=to_id(t.id),
            queue=t.queue,
            status=TaskStatus(t.status),
            source=t.source,
            rule=t.rule,
            note=t.note,
            assignee=t.assignee,
            due_on=t.due_on,
            snoozed_until=t.snoozed_until,
            outcome=TaskOutcome(t.outcome) if t.outcome else None,
            result_note=t.result_note,
            handover=t.handover,  # type: ignore[arg-type]  # JSON is the scalar of a plain dict
            business_date=t.business_date,
            created_at=t.created_at,
            updated_at=t.updated_at,
            version=t.version,
            view=t,
        )

    @strawberry.field
    async def customer(self, info: Info) -> Annotated["Customer", strawberry.lazy("schema.customers.types")]:
        from schema.customers.types import Customer

        view = await info.context.loaders.customer.load(self.view.customer_id)
        assert view is not None
        return Customer.of(view)

    @strawberry.field
    async def invoice(self, info: Info) -> Annotated["Invoice", strawberry.lazy("schema.invoices.types")] | None:
        from schema.invoices.types import Invoice

        if self.view.invoice_id is None:
            return None
        view = await info.context.loaders.invoice.load(self.view.invoice_id)
        return Invoice.of(view) if view else None

    @strawberry.field(description="The last `last` transitions, oldest first.")
    async def history(self, info: Info, last: int = 20) -> list[Transition]:
        loader = info.context.loaders.history("task", check_last(last))
        return [Transition.of(t) for t in await loader.load(self.view.id)]
