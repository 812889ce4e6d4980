"""Set-based writes of the cycle: one chunk of invoices per transaction, guarded by versions.

Inside the chunk's transaction the invoices are re-read (locked `FOR UPDATE` on PostgreSQL; SQLite
holds its single writer lock) and any invoice whose version moved since the facts were loaded is
left out and reported as a conflict, so nothing paid, disputed or promised meanwhile is chased."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from engine.cycle import tally
from engine.cycle.event_json import JsonTexts, transition_data
from engine.cycle.messages import Line, open_messages
from engine.journal.batch import insert_journal
from engine.store.bulk import Bulk, new_event_id
from engine.store.database import Store
from engine.store.dialect import PG_PAGE, day_param, execute_many, sql_for, timestamp_param
from engine.store.unit_of_work import UnitOfWork
from engine.tasks.handover import handovers
from engine.tasks.opening import TaskRequest, open_tasks
from states.actors import Actor


@dataclass
class Change:
    """One transition of one invoice, already checked against the invoice machine."""

    invoice_id: int
    customer_id: int
    from_state: str
    to_state: str
    trigger: str
    dunning_level: int
    cause: dict[str, Any]
    facts: dict[str, Any]
    reason: str | None = None


@dataclass
class NoticeRow:
    invoice_id: int
    customer_id: int
    kind: str
    channel: str
    template: str
    recipient: str | None
    level: int
    rule: str
    strategy: str
    cause: dict[str, Any]
    per_invoice: bool = False  # the strategy's `consolidate: per_invoice`: a message of its own


@dataclass
class TaskRow:
    invoice_id: int
    customer_id: int
    queue: str
    note: str | None
    rule: str
    source: str = "rule"  # rule (create_task) | escalation (escalate: {to: queue}, with the hand-over)
    cause: dict[str, Any] | None = None


@dataclass
class InvoicePlan:
    """Everything the cycle does to one invoice on one business date."""

    invoice_id: int
    customer_id: int
    loaded_version: int
    changes: list[Change] = field(default_factory=list)
    notice: NoticeRow | None = None
    tasks: list[TaskRow] = field(default_factory=list)
    opened: int | None = None  # tasks actually opened by the write (an unfinished one may already exist)
    final_state: str = ""
    final_level: int = 0
    snapshot: dict[str, Any] = field(default_factory=dict)
    rules: list[str] = field(default_factory=list)  # "strategy/rule" of every order carried out


@dataclass
class Written:
    """What one chunk's transaction did with its plans."""

    written: list[InvoicePlan] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)  # version moved since the load: re-plan them
    handled: list[int] = field(default_factory=list)  # already handled on the date by another writer


def write_chunk(
    store: Store,
    plans: Sequence[InvoicePlan],
    as_of: date,
    now: datetime,
    source_actor: str,
    partition_id: int | None = None,
    by_hand: bool = False,
) -> Written:
    """Apply the plans in one transaction. An invoice already handled on `as_of` (its
    `last_cycle_on`, set with every write of the cycle, even a task alone that moves no version)
    is left out: another writer (a holder whose lease was taken over) did it. One whose version
    moved since the load is left out as a conflict. With `partition_id`, what was written is
    added to that partition's counts in the same transaction (`engine/cycle/tally.py`). `by_hand`:
    a person's step (`engine/cycle/by_hand.py`) is no re-run of the date, so an invoice already
    handled on it is written too; a moved version is still a conflict."""
    outcome = Written()
    if not plans:
        return outcome
    with UnitOfWork(store, write=True) as uow:
        cur = uow.connection().cursor()
        current = _reread(store, cur, [p.invoice_id for p in plans])
        day = as_of.isoformat()
        for p in plans:
            version, last_cycle_on = current.get(p.invoice_id, (None, None))
            if not by_hand and last_cycle_on is not None and last_cycle_on >= day:
                outcome.handled.append(p.invoice_id)
            elif version != p.loaded_version:
                outcome.conflicts.append(p.invoice_id)
            else:
                outcome.written.append(p)
        _write(store, cur, outcome.written, as_of, now, source_actor)
        _open_tasks(uow, outcome.written, as_of, now, source_actor)
        if partition_id is not None:
            counts = {
                "applied": sum(len(p.changes) for p in outcome.written),
                "notices": sum(p.notice is not None for p in outcome.written),
                "tasks": sum(p.opened or 0 for p in outcome.written),
                "conflicts": len(outcome.conflicts),
            }
            tally.add(store, cur, partition_id, counts, Counter(r for p in outcome.written for r in p.rules))
        uow.commit()
    return outcome


def _reread(store: Store, cur: Any, ids: list[int]) -> dict[int, tuple[int, str | None]]:
    """id -> (version, last_cycle_on as ISO text or None), locked until the commit."""
    marks = ",".join("?" * len(ids))
    lock = " FOR UPDATE" if store.is_postgres else ""
    cur.execute(sql_for(store, f"SELECT id, version, last_cycle_on FROM invoice WHERE id IN ({marks}){lock}"), ids)
    return {int(i): (int(v), None if d is None else str(d)[:10]) for i, v, d in cur.fetchall()}


def _write(store: Store, cur: Any, plans: Sequence[InvoicePlan], as_of: date, now: datetime, actor: str) -> None:
    ts, day = timestamp_param(store, now), day_param(store, as_of)
    updates, history, outbox, notices = [], [], [], []
    lines: list[Line] = []
    enc = JsonTexts()
    for plan in plans:
        version = plan.loaded_version
        snap = plan.snapshot
        # the snapshot's fixed part, as json.dumps would write {**snapshot, "state": …} (same key order)
        head = (
            f'{{"id": {int(snap["id"])}, "customerId": {int(snap["customerId"])}, '
            f'"currency": {enc.text(snap["currency"])}'
        )
        for ch in plan.changes:
            version += 1
            cause_json = enc.obj(ch.cause)
            history.append(
                (
                    "invoice",
                    ch.invoice_id,
                    version,
                    ch.from_state,
                    ch.to_state,
                    ch.trigger,
                    actor,
                    cause_json,
                    json.dumps(ch.facts),
                    ch.reason,
                    ts,
                )
            )
            state = enc.text(ch.to_state)
            snapshot = f'{head}, "state": {state}, "dunningLevel": {int(ch.dunning_level)}, "version": {version}}}'
            data = transition_data(
                enc,
                from_state=ch.from_state,
                to_state=ch.to_state,
                trigger=ch.trigger,
                actor=actor,
                cause_json=cause_json,
                reason=ch.reason,
                snapshot_json=snapshot,
                version=version,
            )
            outbox.append(_event(ch.invoice_id, ch.customer_id, version, "o2c.invoice.state_changed", data, ts))
        notice_day = None
        if plan.notice is not None:
            n = plan.notice
            if not plan.changes:
                version += 1  # the notice is news about the invoice (its last_notice_on moves)
            notice_day = day
            lines.append(
                Line(n.invoice_id, n.customer_id, n.channel, n.template, n.level, n.kind, n.strategy, n.rule, n.cause,
                     n.per_invoice)
            )  # fmt: skip
            notices.append([n.invoice_id, n.customer_id, n.kind, n.channel, n.template, None, n.level, day, n.rule,
                            n.strategy, ts, None])  # fmt: skip
        updates.append(
            (
                plan.final_state,
                plan.final_level,
                notice_day,
                day,
                version,
                ts,
                plan.invoice_id,
                plan.loaded_version,
            )
        )
    _update_invoices(store, cur, updates)
    opened = open_messages(store, cur, lines, day, ts, actor)
    for row, message_id in zip(notices, opened.message_ids, strict=True):
        row[-1] = message_id
    insert_journal(store, cur, history + opened.history, outbox + opened.outbox)
    execute_many(
        store,
        cur,
        "INSERT INTO notice (invoice, customer, kind, channel, template, recipient, level, "
        "business_date, rule, strategy, created_at, message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        notices,
    )


def _open_tasks(uow: UnitOfWork, plans: Sequence[InvoicePlan], as_of: date, now: datetime, actor: str) -> None:
    """Through `engine.tasks.opening.open_tasks`, which keeps one unfinished task per subject and
    queue; an escalation's task carries the hand-over. Sets each plan's `opened`."""
    wanted = [(p, t) for p in plans for t in p.tasks]
    if not wanted:
        return
    escalated = [t.invoice_id for _, t in wanted if t.source == "escalation"]
    carried = handovers(Bulk(uow), escalated, as_of) if escalated else {}
    requests = [
        TaskRequest(
            customer_id=t.customer_id,
            invoice_id=t.invoice_id,
            queue=t.queue,
            business_date=as_of,
            source=t.source,
            rule=t.rule,
            note=t.note,
            handover=carried.get(t.invoice_id) if t.source == "escalation" else None,
            cause=t.cause,
        )
        for _, t in wanted
    ]
    kind, _, name = actor.partition(":")
    opened = Counter(o.request.invoice_id for o in open_tasks(uow, requests, Actor(kind, name), now))
    for p, _ in wanted:
        p.opened = opened.get(p.invoice_id, 0)


def _update_invoices(store: Store, cur: Any, updates: Sequence[tuple[Any, ...]]) -> None:
    """Rows (state, level, notice day or None, cycle day, version, updated_at, id, loaded version)."""
    if not updates:
        return
    if not store.is_postgres:
        cur.executemany(
            "UPDATE invoice SET state = ?, dunning_level = ?, last_notice_on = COALESCE(?, last_notice_on), "
            "last_cycle_on = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?",
            updates,
        )
        return
    for start in range(0, len(updates), PG_PAGE):
        page = updates[start : start + PG_PAGE]
        values = ",".join(["(%s,%s,%s,%s,%s,%s,%s,%s)"] * len(page))
        cur.execute(
            "UPDATE invoice AS i SET state = v.state, dunning_level = v.level, "
            "last_notice_on = COALESCE(v.notice::date, i.last_notice_on), last_cycle_on = v.cycle::date, "
            "version = v.version, updated_at = v.at::timestamp "
            f"FROM (VALUES {values}) AS v(state, level, notice, cycle, version, at, id, old) "
            "WHERE i.id = v.id AND i.version = v.old",
            [v for row in page for v in row],
        )


def _event(invoice_id: int, customer_id: int, version: int, type_: str, data: str, ts: object) -> tuple:
    return (
        new_event_id(),
        type_,
        f"invoices/{invoice_id}",
        "invoice",
        invoice_id,
        version,
        customer_id,
        ts,
        data,
    )
