"""Invoices: issue, and the manual transition a person makes with a reason."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import stored
from engine.commands import IssueInvoice, TransitionInvoice
from engine.cycle.by_hand import dun_by_hand
from engine.journal import record_transition
from engine.services.common import close_side_records, fire_invoice, get, invoice_snapshot, require_reason
from engine.services.context import Context
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from engine.views import InvoiceView
from states import invoice as inv_states
from states import invoice as states
from states.actors import Actor
from states.errors import ValidationFailed
from states.money import check_currency

# Triggers a person may fire by hand; the others belong to payments, disputes and promises,
# which create their own records.
MANUAL_TRIGGERS = ("mark_overdue", "dun", "escalate", "recall", "cancel")  # write-offs: services/write_offs.py


def validate_issue(cmd: IssueInvoice) -> None:
    if not cmd.number.strip():
        raise ValidationFailed("invoice number must not be empty", "number")
    if cmd.amount <= 0:
        raise ValidationFailed("invoice amount must be positive", "amount")
    check_currency(cmd.currency)
    if cmd.due_date is not None and cmd.due_date < cmd.issue_date:
        raise ValidationFailed("due date is before the issue date", "due_date")


def issue_invoice(ctx: Context, cmd: IssueInvoice, actor: Actor) -> InvoiceView:
    validate_issue(cmd)

    def work(uow: UnitOfWork) -> InvoiceView:
        customer = get(uow, "Customer", cmd.customer_id)
        if uow.Invoice.get(customer=customer, number=cmd.number) is not None:
            raise ValidationFailed(f"invoice '{cmd.number}' already exists for this customer", "number")
        now = stored(ctx.now())
        due = cmd.due_date or cmd.issue_date + timedelta(days=customer.payment_terms_days)
        inv = uow.Invoice(
            customer=customer,
            number=cmd.number,
            issue_date=cmd.issue_date,
            due_date=due,
            currency=check_currency(cmd.currency),
            amount=cmd.amount,
            open_amount=cmd.amount,
            state=states.OPEN,
            created_at=now,
            updated_at=now,
        )
        uow.flush()
        record_transition(
            uow,
            entity_type="invoice",
            entity_id=inv.id,
            entity_version=1,
            customer_id=customer.id,
            from_state=None,
            to_state=states.OPEN,
            trigger="issue",
            actor=actor,
            at=ctx.now(),
            snapshot=invoice_snapshot(inv),
            event_type="o2c.invoice.issued",
        )
        return InvoiceView.of(inv)

    return transact(ctx.store, work)


def transition_invoice(ctx: Context, cmd: TransitionInvoice, actor: Actor) -> InvoiceView:
    """A person moves an invoice by hand; the reason is mandatory and kept in the history. A `dun`
    is the strategy's next ladder step with its notice, written by the rule's own code
    (`engine/cycle/by_hand.py`)."""
    reason = require_reason(cmd.reason)
    if cmd.trigger not in MANUAL_TRIGGERS:
        raise ValidationFailed(
            f"'{cmd.trigger}' cannot be fired by hand; use one of {', '.join(MANUAL_TRIGGERS)}", "trigger"
        )
    if cmd.trigger == "dun":
        dun_by_hand(ctx, cmd.invoice_id, actor, reason)
        with read_only(ctx.store) as uow:
            return InvoiceView.of(get(uow, "Invoice", cmd.invoice_id))

    def work(uow: UnitOfWork) -> InvoiceView:
        inv = get(uow, "Invoice", cmd.invoice_id)
        now, today = ctx.now(), ctx.today()
        fire_invoice(uow, inv, cmd.trigger, actor, now, today, reason=reason)
        if cmd.trigger == "cancel":
            cause = {"kind": "invoice_cancelled", "invoice_id": inv.id}
            close_side_records(uow, inv, actor, now, cause, inv_states.CANCELLED)
        return InvoiceView.of(inv)

    return transact(ctx.store, work)
