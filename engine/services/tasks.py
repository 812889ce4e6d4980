"""Commands people run on tasks: open one by hand, assign, start, complete with an outcome,
snooze until a date, cancel; and the timer that wakes snoozed tasks. Every step goes through the
task machine and writes its history row and `o2c.task.state_changed` event."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace
from typing import Any

from engine.clock import stored
from engine.journal import record_transition
from engine.rules.actions import NAME_PATTERN
from engine.services.common import find_invoice, get, require_reason
from engine.services.context import Context
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from engine.tasks.opening import CHANGED, TaskRequest, open_tasks
from engine.tasks.views import TaskView
from states import task as tk
from states.actors import Actor
from states.errors import ValidationFailed
from states.task import TASK


def create_task(
    ctx: Context,
    customer_id: int,
    invoice_id: int | None,
    queue: str,
    note: str | None,
    actor: Actor,
    due_on: date | None = None,
    assignee: str | None = None,
) -> TaskView:
    """Open a task by hand; if the subject already has an unfinished task in that queue, that
    one is returned (a task is never doubled)."""
    if not re.fullmatch(NAME_PATTERN, queue or "") or len(queue) > 64:
        raise ValidationFailed(f"a queue is a name like 'collections-smb', not '{queue}'", "queue")

    def work(uow: UnitOfWork) -> TaskView:
        customer = get(uow, "Customer", customer_id)
        inv = find_invoice(uow, customer, invoice_id, None) if invoice_id is not None else None
        request = TaskRequest(
            customer_id=customer.id,
            invoice_id=inv.id if inv is not None else None,
            queue=queue,
            business_date=ctx.today(),
            source="person",
            rule="manual",
            note=note,
            assignee=assignee,
            due_on=due_on,
        )
        open_tasks(uow, [request], actor, ctx.now())
        found = uow.CollectorTask.select(
            lambda t: t.subject == request.subject and t.queue == queue and t.status in tk.UNFINISHED
        ).first()
        return TaskView.of(found)

    return transact(ctx.store, work)


def assign_task(ctx: Context, task_id: int, assignee: str | None, actor: Actor) -> TaskView:
    """Assign to a collector (or to nobody: back to the queue)."""
    who = (assignee or "").strip() or None
    return _step(ctx, task_id, "assign", actor, f"assigned to {who or 'the queue'}", assignee=who)


def start_task(ctx: Context, task_id: int, actor: Actor) -> TaskView:
    return _step(ctx, task_id, "start", actor, None)


def complete_task(ctx: Context, task_id: int, outcome: str, note: str | None, actor: Actor) -> TaskView:
    if outcome not in tk.OUTCOMES:
        raise ValidationFailed(f"unknown outcome '{outcome}'; one of {', '.join(tk.OUTCOMES)}", "outcome")
    return _step(ctx, task_id, "complete", actor, note, outcome=outcome)


def snooze_task(ctx: Context, task_id: int, until: date, actor: Actor, note: str | None = None) -> TaskView:
    if until <= ctx.today():
        raise ValidationFailed(f"snooze until a date after {ctx.today().isoformat()}", "until")
    return _step(ctx, task_id, "snooze", actor, note, until=until)


def cancel_task(ctx: Context, task_id: int, reason: str | None, actor: Actor) -> TaskView:
    return _step(ctx, task_id, "cancel", actor, require_reason(reason))


def _step(ctx: Context, task_id: int, trigger: str, actor: Actor, note: str | None, **kw: Any) -> TaskView:
    def work(uow: UnitOfWork) -> TaskView:
        t = get(uow, "CollectorTask", task_id)
        fire_task(uow, ctx, t, trigger, actor, note, **kw)
        return TaskView.of(t)

    return transact(ctx.store, work)


def fire_task(
    uow: UnitOfWork, ctx: Context, t: Entity, trigger: str, actor: Actor, note: str | None, **kw: Any
) -> None:
    """Fire `trigger` through the task machine; apply what it carries; write history and event."""
    today = ctx.today()
    light = SimpleNamespace(state=t.status)  # the column is `status`; the machine reads `state`
    before, after = TASK.fire(light, trigger, t.id, today=today, **kw)
    t.status = after
    if trigger == "assign":
        t.assignee = kw.get("assignee")
    elif trigger == "snooze":
        t.snoozed_until = kw["until"]
    elif trigger in ("wake", "start"):
        t.snoozed_until = None
    elif trigger == "complete":
        t.outcome, t.result_note = kw["outcome"], note
    elif trigger == "cancel":
        t.result_note = note
    t.version = (t.version or 1) + 1
    t.updated_at = stored(ctx.now())
    record_transition(
        uow,
        entity_type="task",
        entity_id=t.id,
        entity_version=t.version,
        customer_id=t.customer.id,
        from_state=before,
        to_state=after,
        trigger=trigger,
        actor=actor,
        at=ctx.now(),
        facts={k: (v.isoformat() if isinstance(v, date) else v) for k, v in kw.items()},
        reason=note,
        snapshot=_snapshot(t),
        event_type=CHANGED,
    )


def _snapshot(t: Entity) -> dict[str, Any]:
    return {
        "id": t.id,
        "subject": t.subject,
        "queue": t.queue,
        "status": t.status,
        "assignee": t.assignee,
        "outcome": t.outcome,
        "snoozedUntil": t.snoozed_until.isoformat() if t.snoozed_until else None,
        "customerId": t.customer.id,
        "invoiceId": t.invoice.id if t.invoice else None,
        "version": t.version,
    }


def wake_snoozed(ctx: Context, as_of: date, actor: Actor) -> list[int]:
    """Snoozed tasks whose date has come are open again (each its own transaction)."""
    with read_only(ctx.store) as uow:
        due = [
            int(r)
            for r in uow.select(
                "SELECT id FROM collector_task WHERE status = 'snoozed' AND snoozed_until <= $d ORDER BY id",
                {"d": as_of.isoformat()},
            )
        ]
    woken: list[int] = []
    for task_id in due:

        def work(uow: UnitOfWork, task_id: int = task_id) -> bool:
            t = uow.CollectorTask.get_for_update(id=task_id)
            if t is None or t.status != tk.SNOOZED or t.snoozed_until is None or t.snoozed_until > as_of:
                return False
            fire_task(uow, ctx, t, "wake", actor, f"snoozed until {t.snoozed_until.isoformat()}")
            return True

        if transact(ctx.store, work):
            woken.append(task_id)
    return woken
