"""Read-only snapshots that leave the unit of work (no Pony object escapes a session)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.clock import loaded
from engine.store.models import Entity


@dataclass(frozen=True)
class CustomerView:
    id: int
    external_ref: str
    name: str
    segment: str
    risk_class: str
    risk_score: int
    credit_limit: int
    currency: str
    payment_terms_days: int
    timezone: str
    tags: tuple[str, ...]
    email: str | None
    state: str
    unapplied_credit: int
    broken_promises: int
    version: int
    country: str | None = None
    subdivision: str | None = None

    @staticmethod
    def of(c: Entity) -> CustomerView:
        return CustomerView(
            c.id,
            c.external_ref,
            c.name,
            c.segment,
            c.risk_class,
            c.risk_score,
            c.credit_limit,
            c.currency,
            c.payment_terms_days,
            c.timezone,
            tuple(c.tags or ()),
            c.email,
            c.state,
            c.unapplied_credit,
            c.broken_promises,
            c.version,
            c.country,
            c.subdivision,
        )


@dataclass(frozen=True)
class InvoiceView:
    id: int
    customer_id: int
    number: str
    issue_date: date
    due_date: date
    currency: str
    amount: int
    open_amount: int
    state: str
    dunning_level: int
    last_notice_on: date | None
    paid_on: date | None
    version: int

    @staticmethod
    def of(i: Entity) -> InvoiceView:
        return InvoiceView(
            i.id,
            i.customer.id,
            i.number,
            i.issue_date,
            i.due_date,
            i.currency,
            i.amount,
            i.open_amount,
            i.state,
            i.dunning_level,
            i.last_notice_on,
            i.paid_on,
            i.version,
        )


@dataclass(frozen=True)
class AllocationView:
    invoice_id: int
    amount: int


@dataclass(frozen=True)
class PaymentView:
    id: int
    customer_id: int
    reference: str
    received_on: date
    currency: str
    amount: int
    unapplied_amount: int
    allocations: tuple[AllocationView, ...]
    reversed: bool

    @staticmethod
    def of(p: Entity) -> PaymentView:
        allocs = tuple(AllocationView(a.invoice.id, a.amount) for a in p.allocations.order_by(lambda a: a.id))
        return PaymentView(
            p.id,
            p.customer.id,
            p.reference,
            p.received_on,
            p.currency,
            p.amount,
            p.unapplied_amount,
            allocs,
            p.reversed_at is not None,
        )


@dataclass(frozen=True)
class DisputeView:
    id: int
    invoice_id: int
    customer_id: int
    reason_code: str
    amount: int
    state: str
    outcome: str | None
    credit_amount: int | None
    description: str | None
    opened_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    version: int
    owner: str | None = None  # a queue or a collector
    payment_id: int | None = None  # a deduction: the short payment that left the difference

    @staticmethod
    def of(d: Entity) -> DisputeView:
        return DisputeView(
            d.id,
            d.invoice.id,
            d.customer.id,
            d.reason_code,
            d.amount,
            d.state,
            d.outcome,
            d.credit_amount,
            d.description,
            loaded(d.opened_at),
            loaded(d.due_at),
            loaded(d.resolved_at) if d.resolved_at else None,
            d.version,
            d.owner,
            d.payment.id if d.payment is not None else None,
        )


@dataclass(frozen=True)
class PromiseView:
    id: int
    invoice_id: int
    customer_id: int
    amount: int
    promised_date: date
    tolerance_days: int
    status: str
    note: str | None

    @staticmethod
    def of(p: Entity) -> PromiseView:
        return PromiseView(
            p.id, p.invoice.id, p.customer.id, p.amount, p.promised_date, p.tolerance_days, p.status, p.note
        )


@dataclass(frozen=True)
class HoldView:
    id: int
    customer_id: int
    reason: str
    note: str | None
    placed_at: datetime
    placed_by: str
    released_at: datetime | None
    released_by: str | None
    release_reason_code: str | None
    exception_until: date | None = None  # the cycle does not place this reason again until then

    @staticmethod
    def of(h: Entity) -> HoldView:
        return HoldView(
            h.id,
            h.customer.id,
            h.reason,
            h.note,
            loaded(h.placed_at),
            h.placed_by,
            loaded(h.released_at) if h.released_at else None,
            h.released_by,
            h.release_reason_code,
            h.exception_until,
        )


@dataclass(frozen=True)
class TransitionView:
    id: int
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
    at: datetime

    @staticmethod
    def of(t: Entity) -> TransitionView:
        return TransitionView(
            t.id,
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
            loaded(t.at),
        )
