"""`createTask`, `assignTask`, `startTask`, `completeTask`, `snoozeTask`, `cancelTask` (collectors)."""

from __future__ import annotations

from datetime import date

import strawberry

from engine import commands as c
from schema.common.mutation import perform
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import CanCollect
from schema.tasks.types import Task, TaskOutcome


@strawberry.input
class CreateTaskInput:
    customer_id: strawberry.ID
    queue: str
    invoice_id: strawberry.ID | None = None
    note: str | None = None
    due_on: date | None = None
    assignee: str | None = None


@strawberry.input
class CompleteTaskInput:
    task_id: strawberry.ID
    outcome: TaskOutcome
    note: str | None = None


@strawberry.type
class TaskMutations:
    @strawberry.mutation(
        permission_classes=[CanCollect],
        description="Open a task by hand; an unfinished task of the same subject and queue is returned instead.",
    )
    async def create_task(self, info: Info, input: CreateTaskInput) -> Task:
        customer_id = parse_id(input.customer_id, "customerId")
        invoice_id = parse_id(input.invoice_id, "invoiceId") if input.invoice_id is not None else None
        view = await perform(
            info, c.CreateTask(customer_id, input.queue, invoice_id, input.note, input.due_on, input.assignee)
        )
        return Task.of(view)

    @strawberry.mutation(permission_classes=[CanCollect], description="Assign to a collector; null: back to the queue.")
    async def assign_task(self, info: Info, task_id: strawberry.ID, assignee: str | None) -> Task:
        return Task.of(await perform(info, c.AssignTask(parse_id(task_id, "taskId"), assignee)))

    @strawberry.mutation(permission_classes=[CanCollect])
    async def start_task(self, info: Info, task_id: strawberry.ID) -> Task:
        return Task.of(await perform(info, c.StartTask(parse_id(task_id, "taskId"))))

    @strawberry.mutation(permission_classes=[CanCollect])
    async def complete_task(self, info: Info, input: CompleteTaskInput) -> Task:
        task_id = parse_id(input.task_id, "taskId")
        view = await perform(info, c.CompleteTask(task_id, input.outcome.value, input.note))
        return Task.of(view)

    @strawberry.mutation(permission_classes=[CanCollect], description="Put aside until a later business date.")
    async def snooze_task(self, info: Info, task_id: strawberry.ID, until: date, note: str | None = None) -> Task:
        view = await perform(info, c.SnoozeTask(parse_id(task_id, "taskId"), until, note))
        return Task.of(view)

    @strawberry.mutation(permission_classes=[CanCollect], description="Cancel with a reason.")
    async def cancel_task(self, info: Info, task_id: strawberry.ID, reason: str) -> Task:
        return Task.of(await perform(info, c.CancelTask(parse_id(task_id, "taskId"), reason)))
