"""The service layer's one door: entry points hold a `Collections` and call its methods."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from engine import commands as c
from engine.blocks.views import BlockView
from engine.notices.contacts import ContactFields
from engine.notices.recipients import ContactView
from engine.services import (
    bank_transactions,
    blocks,
    collectors,
    contacts,
    customers,
    disputes,
    holds,
    invoices,
    payments,
    promises,
    tasks,
    timeline,
    write_offs,
)
from engine.services.bank_transactions import StatementSummary
from engine.services.collectors import CollectorView, PortfolioReport
from engine.services.context import Context
from engine.services.timeline import AttachmentView, NoteView
from engine.services.write_offs import WriteOffOutcome, WriteOffView
from engine.tasks.views import TaskView
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

    def comment_on_dispute(self, dispute_id: int, text: str, actor: Actor) -> DisputeView:
        return disputes.comment_on_dispute(self.ctx, dispute_id, text, actor)

    def assign_dispute(self, dispute_id: int, owner: str, actor: Actor) -> DisputeView:
        return disputes.assign_dispute(self.ctx, dispute_id, owner, actor)

    def dispute_comments(self, dispute_id: int) -> list[tuple[str, str, datetime]]:
        return disputes.comments_of(self.ctx, dispute_id)

    def dispute_credit_notes(self, dispute_id: int) -> list[tuple[str | None, int]]:
        return disputes.credit_notes_of(self.ctx, dispute_id)

    def record_promise(self, cmd: c.RecordPromise, actor: Actor) -> PromiseView:
        return promises.record_promise(self.ctx, cmd, actor)

    def place_hold(self, cmd: c.PlaceHold, actor: Actor) -> HoldView:
        return holds.place_hold(self.ctx, cmd, actor)

    def release_hold(self, cmd: c.ReleaseHold, actor: Actor) -> CustomerView:
        return holds.release_hold(self.ctx, cmd, actor)

    # -- tasks (engine/services/tasks.py) --
    def create_task(
        self,
        customer_id: int,
        invoice_id: int | None,
        queue: str,
        note: str | None,
        actor: Actor,
        due_on: date | None = None,
        assignee: str | None = None,
    ) -> TaskView:
        return tasks.create_task(self.ctx, customer_id, invoice_id, queue, note, actor, due_on, assignee)

    def assign_task(self, task_id: int, assignee: str | None, actor: Actor) -> TaskView:
        return tasks.assign_task(self.ctx, task_id, assignee, actor)

    def start_task(self, task_id: int, actor: Actor) -> TaskView:
        return tasks.start_task(self.ctx, task_id, actor)

    def complete_task(self, task_id: int, outcome: str, note: str | None, actor: Actor) -> TaskView:
        return tasks.complete_task(self.ctx, task_id, outcome, note, actor)

    def snooze_task(self, task_id: int, until: date, actor: Actor, note: str | None = None) -> TaskView:
        return tasks.snooze_task(self.ctx, task_id, until, actor, note)

    def cancel_task(self, task_id: int, reason: str | None, actor: Actor) -> TaskView:
        return tasks.cancel_task(self.ctx, task_id, reason, actor)

    # -- dunning blocks (engine/services/blocks.py) --
    def place_block(
        self,
        customer_id: int,
        invoice_id: int | None,
        reason_code: str,
        ends_on: date | None,
        note: str | None,
        actor: Actor,
    ) -> BlockView:
        return blocks.place_block(self.ctx, customer_id, invoice_id, reason_code, ends_on, note, actor)

    def lift_block(self, block_id: int, reason: str | None, actor: Actor) -> BlockView:
        return blocks.lift_block(self.ctx, block_id, reason, actor)

    def blocks_of(self, customer_id: int, invoice_id: int | None = None, active_only: bool = True) -> list[BlockView]:
        return blocks.blocks_of(self.ctx, customer_id, invoice_id, active_only)

    # -- the timeline (engine/services/timeline.py) --
    def add_note(self, customer_id: int, invoice_id: int | None, text: str, actor: Actor) -> NoteView:
        return timeline.add_note(self.ctx, customer_id, invoice_id, text, actor)

    def log_call(
        self, customer_id: int, invoice_id: int | None, outcome: str, note: str | None, actor: Actor
    ) -> NoteView:
        return timeline.log_call(self.ctx, customer_id, invoice_id, outcome, note, actor)

    def add_attachment(
        self,
        customer_id: int,
        filename: str,
        content_type: str,
        content_base64: str,
        actor: Actor,
        note_id: int | None = None,
        dispute_id: int | None = None,
    ) -> AttachmentView:
        return timeline.add_attachment(
            self.ctx, customer_id, filename, content_type, content_base64, actor, note_id, dispute_id
        )

    # -- collectors and portfolios (engine/services/collectors.py) --
    def create_collector(self, name: str, email: str, queues: tuple[str, ...]) -> CollectorView:
        return collectors.create_collector(self.ctx, name, email, queues)

    def collectors(self) -> list[CollectorView]:
        return collectors.list_collectors(self.ctx)

    def assign_customer(self, customer_id: int, collector_id: int | None, actor: Actor) -> int | None:
        return collectors.assign_customer(self.ctx, customer_id, collector_id, actor)

    def assign_portfolios(self) -> PortfolioReport:
        return collectors.assign_portfolios(self.ctx)

    # -- write-offs within limits (engine/services/write_offs.py) --
    def write_off(self, invoice_id: int, note: str | None, actor: Actor, role: str) -> WriteOffOutcome:
        return write_offs.write_off(self.ctx, invoice_id, note, actor, role)

    def decide_write_off(
        self, request_id: int, approve: bool, note: str | None, actor: Actor, role: str
    ) -> WriteOffView:
        return write_offs.decide_write_off(self.ctx, request_id, approve, note, actor, role)

    def pending_write_offs(self) -> list[WriteOffView]:
        return write_offs.pending_write_offs(self.ctx)
