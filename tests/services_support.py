"""What the service-layer tests share: the business dates, the journal of history and outbox rows
written since a mark, and small helpers that issue, pay and read invoices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.commands import AllocationLine, IssueInvoice, RecordPayment, TransitionInvoice
from engine.service import Collections
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states.actors import Actor, person

TODAY = date(2026, 3, 2)  # the business date of the `clock` fixture
ISSUED = date(2026, 1, 15)
NOT_DUE = date(2026, 4, 1)
PAST_DUE = date(2026, 2, 14)
ALICE = person("alice")
BANK = Actor("payment", "bank-feed")
RULE = Actor("rule", "smb-standard/hold-when-late")


@dataclass(frozen=True)
class Row:
    entity_type: str
    entity_id: int
    entity_version: int
    from_state: str | None
    to_state: str
    trigger: str
    actor: str
    cause: dict[str, Any]
    facts: dict[str, Any]
    reason: str | None


@dataclass(frozen=True)
class Event:
    type: str
    subject: str
    entity_type: str
    entity_id: int
    entity_version: int
    customer_id: int | None
    data: dict[str, Any]


class Journal:
    """What the commands since the last mark wrote to history and outbox."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.history_mark = self.outbox_mark = 0
        self.mark()

    def _max(self, table: str) -> int:
        with read_only(self.store) as uow:
            return int(uow.select(f"SELECT COALESCE(MAX(id), 0) FROM {table}")[0])

    def mark(self) -> None:
        self.history_mark, self.outbox_mark = self._max("transition_history"), self._max("outbox")

    def history(self) -> list[Row]:
        with read_only(self.store) as uow:
            rows = uow.TransitionRecord.select(lambda t: t.id > self.history_mark).order_by(lambda t: t.id)
            return [
                Row(
                    t.entity_type,
                    t.entity_id,
                    t.entity_version,
                    t.from_state,
                    t.to_state,
                    t.trigger,
                    t.actor,
                    dict(t.cause),
                    dict(t.facts),
                    t.reason,
                )
                for t in rows
            ]

    def events(self) -> list[Event]:
        with read_only(self.store) as uow:
            rows = uow.OutboxEvent.select(lambda e: e.id > self.outbox_mark).order_by(lambda e: e.id)
            return [
                Event(
                    e.type,
                    e.subject,
                    e.entity_type,
                    e.entity_id,
                    e.entity_version,
                    e.customer_id,
                    dict(e.data),
                )
                for e in rows
            ]

    def moves(self) -> list[tuple[str, str | None, str, str]]:
        return [(r.entity_type, r.from_state, r.to_state, r.trigger) for r in self.history()]

    def types(self) -> list[str]:
        return [e.type for e in self.events()]

    def assert_every_transition_has_its_event(self) -> None:
        events = {(e.entity_type, e.entity_id, e.entity_version, e.data.get("trigger")): e for e in self.events()}
        for row in self.history():
            event = events.get((row.entity_type, row.entity_id, row.entity_version, row.trigger))
            assert event is not None, f"no outbox event for {row}"
            assert (event.data["from"], event.data["to"], event.data["actor"]) == (
                row.from_state,
                row.to_state,
                row.actor,
            )


def counts(store: Store) -> dict[str, int]:
    tables = (
        "invoice",
        "payment",
        "allocation",
        "credit_note",
        "dispute",
        "promise_to_pay",
        "credit_hold",
        "transition_history",
        "outbox",
    )
    with read_only(store) as uow:
        return {t: int(uow.select(f"SELECT COUNT(*) FROM {t}")[0]) for t in tables}


def issue(service: Collections, customer: int, number: str, amount: int, due: date = NOT_DUE) -> int:
    return service.issue_invoice(IssueInvoice(customer, number, amount, "EUR", ISSUED, due), ALICE).id


def pay(service: Collections, customer: int, ref: str, amount: int, *lines: tuple[int, int]) -> int:
    allocations = tuple(AllocationLine(amount=a, invoice_id=i) for i, a in lines)
    return service.apply_payment(RecordPayment(customer, ref, amount, "EUR", TODAY, allocations), BANK).id


def invoice(store: Store, invoice_id: int) -> dict[str, Any]:
    with read_only(store) as uow:
        i = uow.Invoice[invoice_id]
        return {
            "state": i.state,
            "open": i.open_amount,
            "level": i.dunning_level,
            "paid_on": i.paid_on,
            "version": i.version,
        }


def mark_overdue(service: Collections, invoice_id: int) -> None:
    service.transition_invoice(TransitionInvoice(invoice_id, "mark_overdue", "past grace days"), ALICE)
