"""The service layer's one door: entry points hold a `Collections` and call its methods."""

from __future__ import annotations

from collections.abc import Callable

from engine import commands as c
from engine.notices.contacts import ContactFields
from engine.notices.recipients import ContactView
from engine.services import bank_transactions, contacts, customers, disputes, holds, invoices, payments, promises
from engine.services.bank_transactions import StatementSummary
from engine.services.context import Context
from engine.views import CustomerView, DisputeView, HoldView, InvoiceView, PaymentView, PromiseView
from states.actors import Actor

# Called after a committed change with the invoices it touched (re-evaluation between cycles).
ChangeListener = Callable[[list[int]], object]


class Collections:
    def __init__(self, ctx: Context, on_change: ChangeListener | None = None) -> None:
        self.ctx = ctx
        self.on_change = on_change

    def _changed(self, invoice_ids: list[int]) -> None:
        if self.on_change is not None and invoice_ids:
            self.on_change(invoice_ids)

    def create_customer(self, cmd: c.CreateCustomer) -> CustomerView:
        return customers.create_customer(self.ctx, cmd)

    def update_customer(self, cmd: c.UpdateCustomer) -> CustomerView:
        return customers.update_customer(self.ctx, cmd)

    def add_contact(self, customer_id: int, fields: ContactFields) -> ContactView:
        return contacts.add_contact(self.ctx, customer_id, fields)

    def update_contact(self, contact_id: int, changes: dict[str, object]) -> ContactView:
        return contacts.update_contact(self.ctx, contact_id, changes)

    def remove_contact(self, contact_id: int) -> int:
        return contacts.remove_contact(self.ctx, contact_id)

    def issue_invoice(self, cmd: c.IssueInvoice, actor: Actor) -> InvoiceView:
        return invoices.issue_invoice(self.ctx, cmd, actor)

    def transition_invoice(self, cmd: c.TransitionInvoice, actor: Actor) -> InvoiceView:
        return invoices.transition_invoice(self.ctx, cmd, actor)

    def apply_payment(self, cmd: c.RecordPayment, actor: Actor) -> PaymentView:
        view = payments.apply_payment(self.ctx, cmd, actor)
        self._changed([a.invoice_id for a in view.allocations])
        return view

    def reverse_payment(self, payment_id: int, reason: str, actor: Actor) -> PaymentView:
        view = payments.reverse_payment(self.ctx, payment_id, reason, actor)
        self._changed([a.invoice_id for a in view.allocations])
        return view

    # -- cash application (docs/cash-application.md) --------------------------------
    def import_statement(self, text: str, fmt: str | None, actor: Actor) -> StatementSummary:
        summary = bank_transactions.import_statement(self.ctx, text, fmt, actor)
        self._changed(summary.invoice_ids)
        return summary

    def apply_bank_transaction(
        self, txn_id: int, customer_id: int, allocations: tuple[c.AllocationLine, ...], actor: Actor
    ) -> int:
        txn, invoice_ids = bank_transactions.apply_bank_transaction(self.ctx, txn_id, customer_id, allocations, actor)
        self._changed(invoice_ids)
        return txn

    def exclude_bank_transaction(self, txn_id: int, reason: str, actor: Actor) -> int:
        return bank_transactions.settle_bank_transaction(self.ctx, txn_id, "exclude", reason, actor)

    def return_bank_transaction(self, txn_id: int, reason: str, actor: Actor) -> int:
        return bank_transactions.settle_bank_transaction(self.ctx, txn_id, "return_funds", reason, actor)

    def add_payer_alias(self, customer_id: int, kind: str, value: str, actor: Actor) -> tuple[str, str]:
        return bank_transactions.add_payer_alias(self.ctx, customer_id, kind, value, actor)

    def apply_credit(self, cmd: c.ApplyCredit, actor: Actor) -> list[PaymentView]:
        views = payments.apply_credit(self.ctx, cmd, actor)
        self._changed([a.invoice_id for v in views for a in v.allocations])
        return views

    def unapply_payment(self, payment_id: int, reason: str, actor: Actor) -> PaymentView:
        view = payments.unapply_payment(self.ctx, payment_id, reason, actor)
        self._changed([a.invoice_id for a in view.allocations])
        return view

    def open_dispute(self, cmd: c.OpenDispute, actor: Actor) -> DisputeView:
        return disputes.open_dispute(self.ctx, cmd, actor)

    def advance_dispute(self, dispute_id: int, trigger: str, actor: Actor, note: str | None = None) -> DisputeView:
        return disputes.advance_dispute(self.ctx, dispute_id, trigger, actor, note)

    def resolve_dispute(self, cmd: c.ResolveDispute, actor: Actor) -> DisputeView:
        return disputes.resolve_dispute(self.ctx, cmd, actor)

    def record_promise(self, cmd: c.RecordPromise, actor: Actor) -> PromiseView:
        return promises.record_promise(self.ctx, cmd, actor)

    def place_hold(self, cmd: c.PlaceHold, actor: Actor) -> HoldView:
        return holds.place_hold(self.ctx, cmd, actor)

    def release_hold(self, cmd: c.ReleaseHold, actor: Actor) -> CustomerView:
        return holds.release_hold(self.ctx, cmd, actor)
