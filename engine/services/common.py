"""Helpers shared by the commands: loading with NOT_FOUND, firing a machine with history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from engine.clock import stored
from engine.journal import emit, record_transition
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork
from states import dispute as dsp
from states import invoice as inv_states
from states import settlement
from states.account import ACCOUNT
from states.actors import Actor
from states.dispute import DISPUTE
from states.errors import NotFound, ValidationFailed
from states.invoice import INVOICE
from states.money import Money, format_minor


def get(uow: UnitOfWork, entity: str, key: int) -> Entity:
    obj = getattr(uow, entity).get(id=key)
    if obj is None:
        raise NotFound(f"{_label(entity)} {key} does not exist")
    return obj


def _label(entity: str) -> str:
    return {"PromiseToPay": "promise to pay", "CreditHold": "credit hold"}.get(entity, entity.lower())


def find_customer(uow: UnitOfWork, customer_id: int | None = None, ref: str | None = None) -> Entity:
    if customer_id is not None:
        return get(uow, "Customer", customer_id)
    if ref:
        found = uow.Customer.get(external_ref=ref)
        if found is None:
            raise NotFound(f"customer '{ref}' does not exist")
        return found
    raise ValidationFailed("name the customer by id or reference", "customer")


def find_invoice(uow: UnitOfWork, customer: Entity, invoice_id: int | None, number: str | None) -> Entity:
    if invoice_id is not None:
        inv = get(uow, "Invoice", invoice_id)
        if inv.customer.id != customer.id:
            raise ValidationFailed(f"invoice {invoice_id} belongs to another customer", "invoice")
        return inv
    if number:
        inv = uow.Invoice.get(customer=customer, number=number)
        if inv is None:
            raise NotFound(f"invoice '{number}' of customer {customer.external_ref} does not exist")
        return inv
    raise ValidationFailed("name the invoice by id or number", "invoice")


def require_reason(reason: str | None, what: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(f"a {what} is required", what.replace(" ", "_"))
    return text


def invoice_snapshot(inv: Entity) -> dict[str, Any]:
    return {
        "id": inv.id,
        "number": inv.number,
        "customerId": inv.customer.id,
        "state": inv.state,
        "dunningLevel": inv.dunning_level,
        "currency": inv.currency,
        "amount": format_minor(inv.amount, inv.currency),
        "openAmount": format_minor(inv.open_amount, inv.currency),
        "dueDate": inv.due_date.isoformat(),
        "version": inv.version,
    }


def close_side_records(
    uow: UnitOfWork, inv: Entity, actor: Actor, now: datetime, cause: dict[str, Any], leaving_as: str
) -> int:
    """An invoice leaves collection as `leaving_as` (paid or cancelled): its active promises and
    disputes close as `states/settlement.py` says, disputes with history. Returns rows changed."""
    changed = 0
    for promise in inv.promises.filter(lambda p: p.status == "active"):
        promise.status = settlement.promise_status_on_exit(leaving_as)
        promise.decided_at = stored(now)
        changed += 1
    trigger, why = settlement.DISPUTE_TRIGGER, settlement.why_closed(leaving_as)
    for dispute in inv.disputes.filter(lambda d: d.state in dsp.ACTIVE):
        before, after = DISPUTE.fire(dispute, trigger, dispute.id)
        dispute.version += 1
        dispute.resolved_at = stored(now)
        record_dispute_transition(uow, dispute, before, after, trigger, actor, now, cause, why)
        changed += 1
    return changed


def record_amount_change(uow: UnitOfWork, inv: Entity, at: datetime, cause: dict[str, Any], reason: str) -> None:
    """The open amount changed without a transition (a partial payment, a reversal that does not
    reopen): bump the version and emit `o2c.invoice.amount_changed`, so an invoice's subscribers
    see every version of it and never hold a stale open amount."""
    inv.version += 1
    inv.updated_at = stored(at)
    emit(
        uow,
        type="o2c.invoice.amount_changed",
        entity_type="invoice",
        entity_id=inv.id,
        entity_version=inv.version,
        customer_id=inv.customer.id,
        at=at,
        data={"cause": cause, "reason": reason, "snapshot": invoice_snapshot(inv)},
    )


def invoice_facts(inv: Entity, today: date) -> dict[str, Any]:
    """The facts a person's (or a payment's) transition records: money written as the rules'
    facts are ("120.00 EUR", `shown_facts`), so every history row reads the same way."""
    return {
        "open_amount": str(Money(inv.open_amount, inv.currency)),
        "currency": inv.currency,
        "dunning_level": inv.dunning_level,
        "days_past_due": (today - inv.due_date).days,
        "state": inv.state,
    }


def fire_invoice(
    uow: UnitOfWork,
    inv: Entity,
    trigger: str,
    actor: Actor,
    at: datetime,
    today: date,
    *,
    reason: str | None = None,
    cause: dict[str, Any] | None = None,
    facts: dict[str, Any] | None = None,
    **context: Any,
) -> tuple[str, str]:
    """Fire `trigger` on the invoice through the shared machine, then write history and outbox."""
    context.setdefault("past_due", today > inv.due_date)
    seen = facts if facts is not None else invoice_facts(inv, today)
    before, after = INVOICE.fire(inv, trigger, inv.id, **context)
    inv.version += 1
    inv.updated_at = stored(at)
    if after == inv_states.PAID:
        inv.paid_on = today
    elif before == inv_states.PAID:
        inv.paid_on = None  # reopened: no longer paid
    record_transition(
        uow,
        entity_type="invoice",
        entity_id=inv.id,
        entity_version=inv.version,
        customer_id=inv.customer.id,
        from_state=before,
        to_state=after,
        trigger=trigger,
        actor=actor,
        at=at,
        cause=cause,
        facts=seen,
        reason=reason,
        snapshot=invoice_snapshot(inv),
    )
    return before, after


def fire_account(
    uow: UnitOfWork,
    customer: Entity,
    trigger: str,
    actor: Actor,
    at: datetime,
    *,
    hold_reason: str,
    reason: str | None = None,
    cause: dict[str, Any] | None = None,
    facts: dict[str, Any] | None = None,
    **context: Any,
) -> tuple[str, str]:
    before, after = ACCOUNT.fire(customer, trigger, customer.id, reason=hold_reason, **context)
    customer.version += 1
    event = "o2c.account.credit_hold_placed" if trigger == "place_hold" else "o2c.account.credit_hold_released"
    record_transition(
        uow,
        entity_type="account",
        entity_id=customer.id,
        entity_version=customer.version,
        customer_id=customer.id,
        from_state=before,
        to_state=after,
        trigger=trigger,
        actor=actor,
        at=at,
        cause=cause,
        facts=facts or {"hold_reason": hold_reason},
        reason=reason,
        snapshot={"id": customer.id, "state": customer.state, "holdReason": hold_reason},
        event_type=event,
    )
    return before, after


def dispute_snapshot(d: Entity) -> dict[str, Any]:
    out = {
        "id": d.id,
        "invoiceId": d.invoice.id,
        "state": d.state,
        "reasonCode": d.reason_code,
        "amount": format_minor(d.amount, d.invoice.currency),
        "outcome": d.outcome,
        "version": d.version,
    }
    if d.payment is not None:  # a deduction: the short payment that left the difference
        out["paymentId"] = d.payment.id
    return out


def record_dispute_transition(
    uow: UnitOfWork,
    d: Entity,
    before: str | None,
    after: str,
    trigger: str,
    actor: Actor,
    at: datetime,
    cause: dict[str, Any] | None,
    reason: str | None,
) -> None:
    record_transition(
        uow,
        entity_type="dispute",
        entity_id=d.id,
        entity_version=d.version,
        customer_id=d.customer.id,
        from_state=before,
        to_state=after,
        trigger=trigger,
        actor=actor,
        at=at,
        cause=cause,
        facts={"reason_code": d.reason_code, "amount": str(Money(d.amount, d.invoice.currency))},
        reason=reason,
        snapshot=dispute_snapshot(d),
    )
