"""The service layer's one door: `Collections.handle(command, actor)` dispatches every command
through the handler registry (`engine/handlers.py`) and, once it has committed, hands the invoices
it touched to the after-commit listener (re-evaluation between cycles, wired in `engine/bootstrap.py`).

The named methods below are typed shorthands that build a command and call `handle`; they add no
behaviour (ADR door-0008). Reads (`dispute_comments`, `blocks_of`, …) are queries, not commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar, cast

from engine import commands as c
from engine.blocks.views import BlockView
from engine.handlers import HANDLERS, Handlers
from engine.notices.contacts import ContactFields
from engine.notices.recipients import ContactView
from engine.services import blocks, collectors, disputes, write_offs
from engine.services.bank_transactions import StatementSummary
from engine.services.collectors import CollectorView, PortfolioReport
from engine.services.context import Context
from engine.services.timeline import AttachmentView, NoteView
from engine.services.write_offs import WriteOffOutcome, WriteOffView
from engine.tasks.views import TaskView
from engine.views import CustomerView, DisputeView, HoldView, InvoiceView, PaymentView, PromiseView
from states.actors import SYSTEM, Actor

R = TypeVar("R")

# Called after a committed change with the invoices it touched (re-evaluation between cycles).
ChangeListener = Callable[[list[int]], object]


class Collections:
    def __init__(self, ctx: Context, on_change: ChangeListener | None = None, handlers: Handlers | None = None) -> None:
        self.ctx = ctx
        self.on_change = on_change
        self.handlers = HANDLERS if handlers is None else handlers

    def handle(self, cmd: c.Command[R], actor: Actor) -> R:
        """Carry out `cmd` in its own transaction; then re-evaluate the invoices it touched."""
        handler = self.handlers.get(type(cmd))
        if handler is None:
            raise LookupError(f"no handler for {type(cmd).__name__}")  # a wiring bug (INTERNAL)
        result = handler.run(self.ctx, cmd, actor)
        if self.on_change is not None and handler.touches is not None:
            touched: list[int] = handler.touches(result)
            if touched:
                self.on_change(touched)
        return cast(R, result)

    # -- queries (no change, no handler) --
    def dispute_comments(self, dispute_id: int) -> list[tuple[str, str, datetime]]:
        return disputes.comments_of(self.ctx, dispute_id)

    def dispute_credit_notes(self, dispute_id: int) -> list[tuple[str | None, int]]:
        return disputes.credit_notes_of(self.ctx, dispute_id)

    def blocks_of(self, customer_id: int, invoice_id: int | None = None, active_only: bool = True) -> list[BlockView]:
        return blocks.blocks_of(self.ctx, customer_id, invoice_id, active_only)

    def collectors(self) -> list[CollectorView]:
        return collectors.list_collectors(self.ctx)

    def pending_write_offs(self) -> list[WriteOffView]:
        return write_offs.pending_write_offs(self.ctx)

    # -- shorthands: each builds its command and calls `handle` --
    def create_customer(self, cmd: c.CreateCustomer) -> CustomerView:
        return self.handle(cmd, SYSTEM)

    def update_customer(self, cmd: c.UpdateCustomer) -> CustomerView:
        return self.handle(cmd, SYSTEM)

    def add_contact(self, customer_id: int, fields: ContactFields) -> ContactView:
        return self.handle(c.AddContact(customer_id, fields), SYSTEM)

    def update_contact(self, contact_id: int, changes: dict[str, object]) -> ContactView:
        return self.handle(c.UpdateContact(contact_id, changes), SYSTEM)

    def remove_contact(self, contact_id: int) -> int:
        return self.handle(c.RemoveContact(contact_id), SYSTEM)

    def issue_invoice(self, cmd: c.IssueInvoice, actor: Actor) -> InvoiceView:
        return self.handle(cmd, actor)

    def transition_invoice(self, cmd: c.TransitionInvoice, actor: Actor) -> InvoiceView:
        return self.handle(cmd, actor)

    def apply_payment(self, cmd: c.RecordPayment, actor: Actor) -> PaymentView:
        return self.handle(cmd, actor)

    def reverse_payment(self, payment_id: int, reason: str, actor: Actor) -> PaymentView:
        return self.handle(c.ReversePayment(payment_id, reason), actor)

    def import_statement(self, text: str, fmt: str | None, actor: Actor) -> StatementSummary:
        return self.handle(c.ImportStatement(text, fmt), actor)

    def apply_bank_transaction(
        self, txn_id: int, customer_id: int, allocations: tuple[c.AllocationLine, ...], actor: Actor
    ) -> int:
        return self.handle(c.ApplyBankTransaction(txn_id, customer_id, allocations), actor)

    def exclude_bank_transaction(self, txn_id: int, reason: str, actor: Actor) -> int:
        return self.handle(c.ExcludeBankTransaction(txn_id, reason), actor)

    def return_bank_transaction(self, txn_id: int, reason: str, actor: Actor) -> int:
        return self.handle(c.ReturnBankTransaction(txn_id, reason), actor)

    def add_payer_alias(self, customer_id: int, kind: str, value: str, actor: Actor) -> tuple[str, str]:
        return self.handle(c.AddPayerAlias(customer_id, kind, value), actor)

    def apply_credit(self, cmd: c.ApplyCredit, actor: Actor) -> list[PaymentView]:
        return self.handle(cmd, actor)

    def unapply_payment(self, payment_id: int, reason: str, actor: Actor) -> PaymentView:
        return self.handle(c.UnapplyPayment(payment_id, reason), actor)

    def open_dispute(self, cmd: c.OpenDispute, actor: Actor) -> DisputeView:
        return self.handle(cmd, actor)

    def advance_dispute(self, dispute_id: int, trigger: str, actor: Actor, note: str | None = None) -> DisputeView:
        return self.handle(c.AdvanceDispute(dispute_id, trigger, note), actor)

    def resolve_dispute(self, cmd: c.ResolveDispute, actor: Actor) -> DisputeView:
        return self.handle(cmd, actor)

    def comment_on_dispute(self, dispute_id: int, text: str, actor: Actor) -> DisputeView:
        return self.handle(c.CommentOnDispute(dispute_id, text), actor)

    def assign_dispute(self, dispute_id: int, owner: str, actor: Actor) -> DisputeView:
        return self.handle(c.AssignDispute(dispute_id, owner), actor)

    def record_promise(self, cmd: c.RecordPromise, actor: Actor) -> PromiseView:
        return self.handle(cmd, actor)

    def place_hold(self, cmd: c.PlaceHold, actor: Actor) -> HoldView:
        return self.handle(cmd, actor)

    def release_hold(self, cmd: c.ReleaseHold, actor: Actor) -> CustomerView:
        return self.handle(cmd, actor)

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
        return self.handle(c.CreateTask(customer_id, queue, invoice_id, note, due_on, assignee), actor)

    def assign_task(self, task_id: int, assignee: str | None, actor: Actor) -> TaskView:
        return self.handle(c.AssignTask(task_id, assignee), actor)

    def start_task(self, task_id: int, actor: Actor) -> TaskView:
        return self.handle(c.StartTask(task_id), actor)

    def complete_task(self, task_id: int, outcome: str, note: str | None, actor: Actor) -> TaskView:
        return self.handle(c.CompleteTask(task_id, outcome, note), actor)

    def snooze_task(self, task_id: int, until: date, actor: Actor, note: str | None = None) -> TaskView:
        return self.handle(c.SnoozeTask(task_id, until, note), actor)

    def cancel_task(self, task_id: int, reason: str | None, actor: Actor) -> TaskView:
        return self.handle(c.CancelTask(task_id, reason), actor)

    def place_block(
        self,
        customer_id: int,
        invoice_id: int | None,
        reason_code: str,
        ends_on: date | None,
        note: str | None,
        actor: Actor,
    ) -> BlockView:
        return self.handle(c.PlaceBlock(customer_id, reason_code, invoice_id, ends_on, note), actor)

    def lift_block(self, block_id: int, reason: str | None, actor: Actor) -> BlockView:
        return self.handle(c.LiftBlock(block_id, reason), actor)

    def add_note(self, customer_id: int, invoice_id: int | None, text: str, actor: Actor) -> NoteView:
        return self.handle(c.AddNote(customer_id, text, invoice_id), actor)

    def log_call(
        self, customer_id: int, invoice_id: int | None, outcome: str, note: str | None, actor: Actor
    ) -> NoteView:
        return self.handle(c.LogCall(customer_id, outcome, invoice_id, note), actor)

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
        return self.handle(
            c.AddAttachment(customer_id, filename, content_type, content_base64, note_id, dispute_id), actor
        )

    def create_collector(self, name: str, email: str, queues: tuple[str, ...]) -> CollectorView:
        return self.handle(c.CreateCollector(name, email, queues), SYSTEM)

    def assign_customer(self, customer_id: int, collector_id: int | None, actor: Actor) -> int | None:
        return self.handle(c.AssignCustomer(customer_id, collector_id), actor)

    def assign_portfolios(self) -> PortfolioReport:
        return self.handle(c.AssignPortfolios(), SYSTEM)

    def write_off(self, invoice_id: int, note: str | None, actor: Actor, role: str) -> WriteOffOutcome:
        return self.handle(c.WriteOff(invoice_id, role, note), actor)

    def decide_write_off(
        self, request_id: int, approve: bool, note: str | None, actor: Actor, role: str
    ) -> WriteOffView:
        return self.handle(c.DecideWriteOff(request_id, approve, role, note), actor)
