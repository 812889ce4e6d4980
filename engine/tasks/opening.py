"""Opening tasks: the single function every writer uses (the daily cycle, escalations, people,
the phone channel, notice fallbacks). It keeps the rule that a subject (an invoice or a customer)
has at most one unfinished task per queue, and that a rule's task, once finished by a person, is
not opened again by that rule for that subject and queue (a person's decision stands)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from engine.clock import stored
from engine.journal.batch import JournalBatch
from engine.store.bulk import Bulk
from engine.store.unit_of_work import UnitOfWork
from states import task as tk
from states.actors import Actor

COLUMNS = (
    "id",
    "invoice",
    "customer",
    "queue",
    "note",
    "business_date",
    "rule",
    "status",
    "created_at",
    "subject",
    "source",
    "assignee",
    "due_on",
    "handover",
    "version",
    "updated_at",
)
OPENED = "o2c.task.opened"
CHANGED = "o2c.task.state_changed"
EVENT_TYPES = (OPENED, CHANGED)


@dataclass
class TaskRequest:
    customer_id: int
    invoice_id: int | None
    queue: str
    business_date: date
    source: str = "rule"
    rule: str = ""  # the rule (or the person's action) that asks for it
    note: str | None = None
    assignee: str | None = None
    due_on: date | None = None
    handover: dict[str, Any] | None = None
    cause: dict[str, Any] | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        if self.invoice_id is not None:
            return tk.invoice_subject(self.invoice_id)
        return tk.customer_subject(self.customer_id)


@dataclass(frozen=True)
class Opened:
    task_id: int
    request: TaskRequest


def task_snapshot(task_id: int, r: TaskRequest, status: str, version: int) -> dict[str, Any]:
    return {
        "id": task_id,
        "subject": r.subject,
        "queue": r.queue,
        "status": status,
        "source": r.source,
        "assignee": r.assignee,
        "customerId": r.customer_id,
        "invoiceId": r.invoice_id,
        "version": version,
    }


def open_tasks(uow: UnitOfWork, requests: Sequence[TaskRequest], actor: Actor, now: datetime) -> list[Opened]:
    """Open the tasks that are not already there, in the caller's transaction, with their history
    and `o2c.task.opened` events; return those opened. Skipped: a subject and queue that already
    has an unfinished task (or twice in `requests`), and a rule's task that a person already
    finished for that subject and queue."""
    if not requests:
        return []
    bulk = Bulk(uow)
    unfinished: set[tuple[str, str]] = set()
    finished_by_rule: set[tuple[str, str, str]] = set()
    for subject, queue, rule, status, source in bulk.select_in(
        "SELECT subject, queue, rule, status, source FROM collector_task WHERE subject IN ({})",
        [r.subject for r in requests],
    ):
        if status in tk.UNFINISHED:
            unfinished.add((str(subject), str(queue)))
        elif source == "rule":
            finished_by_rule.add((str(subject), str(queue), str(rule)))
    fresh: list[TaskRequest] = []
    for r in requests:
        key = (r.subject, r.queue)
        if key in unfinished or (r.source == "rule" and (*key, r.rule) in finished_by_rule):
            continue
        unfinished.add(key)
        fresh.append(r)
    if not fresh:
        return []
    ids = bulk.reserve_ids("collector_task", len(fresh))
    at = bulk.moment(stored(now))
    bulk.insert(
        "collector_task",
        COLUMNS,
        [
            (
                task_id,
                r.invoice_id,
                r.customer_id,
                r.queue,
                r.note,
                bulk.day(r.business_date),
                r.rule,
                tk.OPEN,
                at,
                r.subject,
                r.source,
                r.assignee,
                bulk.day(r.due_on),
                None if r.handover is None else json.dumps(r.handover),
                1,
                at,
            )
            for task_id, r in zip(ids, fresh, strict=True)
        ],
    )
    journal = JournalBatch(bulk)
    for task_id, r in zip(ids, fresh, strict=True):
        journal.transition(
            entity_type="task",
            entity_id=task_id,
            entity_version=1,
            customer_id=r.customer_id,
            from_state=None,
            to_state=tk.OPEN,
            trigger="open",
            actor=actor,
            at=now,
            cause=r.cause,
            facts=r.facts,
            reason=r.note,
            snapshot=task_snapshot(task_id, r, tk.OPEN, 1),
            event_type=OPENED,
        )
    journal.write()
    return [Opened(task_id, r) for task_id, r in zip(ids, fresh, strict=True)]
