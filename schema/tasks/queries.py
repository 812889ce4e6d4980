"""`task(id)` and `tasks(filter, orderBy, first, after)`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from engine.queries import tasks as q
from schema.common.pagination import AFTER_DESCRIPTION, DEFAULT_PAGE_SIZE, FIRST_DESCRIPTION, Connection, connection
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import CanRead
from schema.tasks.types import Task, TaskFilter, TaskOrder


def to_query_filter(flt: TaskFilter | None) -> q.TaskFilter:
    if flt is None:
        return q.TaskFilter()
    return q.TaskFilter(
        queues=tuple(flt.queue or ()),
        assignee=flt.assignee or None,
        unassigned=flt.assignee == "",
        statuses=tuple(s.value for s in flt.status or ()),
        due_before=flt.due_before,
        customer_id=parse_id(flt.customer_id, "customerId") if flt.customer_id is not None else None,
        invoice_id=parse_id(flt.invoice_id, "invoiceId") if flt.invoice_id is not None else None,
    )


@strawberry.type
class TaskQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def task(self, info: Info, id: strawberry.ID) -> Task | None:
        view = await info.context.run(q.get_task, info.context.store, parse_id(id))
        return Task.of(view) if view else None

    @strawberry.field(permission_classes=[CanRead], description="Tasks of queues and collectors, newest first.")
    async def tasks(
        self,
        info: Info,
        filter: TaskFilter | None = None,
        order_by: TaskOrder = TaskOrder.CREATED_AT_DESC,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Task]:
        ctx = info.context
        flt = to_query_filter(filter)
        page = await ctx.run(q.list_tasks, ctx.store, flt, order_by.value, first, after)

        async def count() -> int:
            return await ctx.run(q.count_tasks, ctx.store, flt)

        return connection(page, Task.of, count, after)
