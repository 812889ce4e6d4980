"""The handler registry: each command type → the one function that carries it out, and which
invoices it touched (re-evaluated after commit by `Collections.handle`). Built once, at import;
`engine/bootstrap.py` wires it into the service with the after-commit listener."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from engine import commands as c
from engine.services import (
    bank_transactions,
    blocks,
    collectors,
    contacts,
    customers,
    disputes,
    holds,
    invoices,
    notices,
    payments,
    promises,
    tasks,
    timeline,
    write_offs,
)
from engine.services.context import Context
from engine.timers import run_timers
from engine.views import PaymentView
from states.actors import Actor

C = TypeVar("C", bound=c.Command[Any])
R = TypeVar("R")


@dataclass(frozen=True)
class Handler(Generic[C, R]):
    run: Callable[[Context, C, Actor], R]
    touches: Callable[[R], list[int]] | None = None  # invoices to re-evaluate once committed


Handlers = dict[type[c.Command[Any]], Handler[Any, Any]]


class _h(Generic[C]):
    def __init__(self, kind: type[C]) -> None:
        self.kind = kind

    def __call__(
        self, run: Callable[[Context, C, Actor], R], touches: Callable[[R], list[int]] | None = None
    ) -> tuple[type[C], Handler[C, R]]:
        return self.kind, Handler(run, touches)


def _allocated(view: PaymentView) -> list[int]:
    return [a.invoice_id for a in view.allocations]


def _bank_match(ctx: Context, cmd: c.ApplyBankTransaction, actor: Actor) -> tuple[int, list[int]]:
    return bank_transactions.apply_bank_transaction(ctx, cmd.txn_id, cmd.customer_id, cmd.allocations, actor)


HANDLERS: Handlers = dict(
    [
        # customers and contacts
        _h(c.CreateCustomer)(lambda ctx, cmd, _a: customers.create_customer(ctx, cmd)),
        _h(c.UpdateCustomer)(lambda ctx, cmd, _a: customers.update_customer(ctx, cmd)),
        _h(c.AddContact)(lambda ctx, cmd, _a: contacts.add_contact(ctx, cmd.customer_id, cmd.fields)),
        _h(c.UpdateContact)(lambda ctx, cmd, _a: contacts.update_contact(ctx, cmd.contact_id, cmd.changes)),
        _h(c.RemoveContact)(lambda ctx, cmd, _a: contacts.remove_contact(ctx, cmd.contact_id)),
        # invoices
        _h(c.IssueInvoice)(invoices.issue_invoice),
        _h(c.TransitionInvoice)(invoices.transition_invoice),
        # payments and cash application
        _h(c.RecordPayment)(payments.apply_payment, _allocated),
        _h(c.ReversePayment)(
            lambda ctx, cmd, a: payments.reverse_payment(ctx, cmd.payment_id, cmd.reason, a),
            _allocated,
        ),
        _h(c.UnapplyPayment)(
            lambda ctx, cmd, a: payments.unapply_payment(ctx, cmd.payment_id, cmd.reason, a),
            _allocated,
        ),
        _h(c.ApplyCredit)(payments.apply_credit, lambda views: [i for v in views for i in _allocated(v)]),
        _h(c.ImportStatement)(
            lambda ctx, cmd, a: bank_transactions.import_statement(ctx, cmd.text, cmd.format, a),
            lambda summary: summary.invoice_ids,
        ),
        # the transaction's id is handed back; the invoices it paid are re-evaluated
        _h(c.ApplyBankTransaction)(_bank_match, lambda found: found[1]),
        _h(c.ExcludeBankTransaction)(
            lambda ctx, cmd, a: bank_transactions.settle_bank_transaction(ctx, cmd.txn_id, "exclude", cmd.reason, a),
        ),
        _h(c.ReturnBankTransaction)(
            lambda ctx, cmd, a: bank_transactions.settle_bank_transaction(
                ctx, cmd.txn_id, "return_funds", cmd.reason, a
            ),
        ),
        _h(c.AddPayerAlias)(
            lambda ctx, cmd, a: bank_transactions.add_payer_alias(ctx, cmd.customer_id, cmd.kind, cmd.value, a),
        ),
        # disputes, promises, holds
        _h(c.OpenDispute)(disputes.open_dispute),
        _h(c.AdvanceDispute)(
            lambda ctx, cmd, a: disputes.advance_dispute(ctx, cmd.dispute_id, cmd.trigger, a, cmd.note),
        ),
        _h(c.ResolveDispute)(disputes.resolve_dispute),
        _h(c.CommentOnDispute)(lambda ctx, cmd, a: disputes.comment_on_dispute(ctx, cmd.dispute_id, cmd.text, a)),
        _h(c.AssignDispute)(lambda ctx, cmd, a: disputes.assign_dispute(ctx, cmd.dispute_id, cmd.owner, a)),
        _h(c.RecordPromise)(promises.record_promise),
        _h(c.PlaceHold)(holds.place_hold),
        _h(c.ReleaseHold)(holds.release_hold),
        # tasks
        _h(c.CreateTask)(
            lambda ctx, cmd, a: tasks.create_task(
                ctx, cmd.customer_id, cmd.invoice_id, cmd.queue, cmd.note, a, cmd.due_on, cmd.assignee
            ),
        ),
        _h(c.AssignTask)(lambda ctx, cmd, a: tasks.assign_task(ctx, cmd.task_id, cmd.assignee, a)),
        _h(c.StartTask)(lambda ctx, cmd, a: tasks.start_task(ctx, cmd.task_id, a)),
        _h(c.CompleteTask)(lambda ctx, cmd, a: tasks.complete_task(ctx, cmd.task_id, cmd.outcome, cmd.note, a)),
        _h(c.SnoozeTask)(lambda ctx, cmd, a: tasks.snooze_task(ctx, cmd.task_id, cmd.until, a, cmd.note)),
        _h(c.CancelTask)(lambda ctx, cmd, a: tasks.cancel_task(ctx, cmd.task_id, cmd.reason, a)),
        # dunning blocks
        _h(c.PlaceBlock)(
            lambda ctx, cmd, a: blocks.place_block(
                ctx, cmd.customer_id, cmd.invoice_id, cmd.reason_code, cmd.ends_on, cmd.note, a
            ),
        ),
        _h(c.LiftBlock)(lambda ctx, cmd, a: blocks.lift_block(ctx, cmd.block_id, cmd.reason, a)),
        # the timeline
        _h(c.AddNote)(lambda ctx, cmd, a: timeline.add_note(ctx, cmd.customer_id, cmd.invoice_id, cmd.text, a)),
        _h(c.LogCall)(
            lambda ctx, cmd, a: timeline.log_call(ctx, cmd.customer_id, cmd.invoice_id, cmd.outcome, cmd.note, a),
        ),
        _h(c.AddAttachment)(
            lambda ctx, cmd, a: timeline.add_attachment(
                ctx, cmd.customer_id, cmd.filename, cmd.content_type, cmd.content_base64, a, cmd.note_id, cmd.dispute_id
            ),
        ),
        # collectors and portfolios
        _h(c.CreateCollector)(lambda ctx, cmd, _a: collectors.create_collector(ctx, cmd.name, cmd.email, cmd.queues)),
        _h(c.AssignCustomer)(lambda ctx, cmd, a: collectors.assign_customer(ctx, cmd.customer_id, cmd.collector_id, a)),
        _h(c.AssignPortfolios)(lambda ctx, _cmd, _a: collectors.assign_portfolios(ctx)),
        # write-offs within limits
        _h(c.WriteOff)(lambda ctx, cmd, a: write_offs.write_off(ctx, cmd.invoice_id, cmd.note, a, cmd.role)),
        _h(c.DecideWriteOff)(
            lambda ctx, cmd, a: write_offs.decide_write_off(ctx, cmd.request_id, cmd.approve, cmd.note, a, cmd.role),
        ),
        # notices
        _h(c.CancelNotice)(lambda ctx, cmd, a: notices.cancel_notice(ctx, cmd.notice_id, cmd.reason, a)),
        # the scheduler's between-cycles work (its actor is the timer)
        # Invoices whose promise broke are not re-evaluated at once: they return to the ladder at the next
        # date's cycle, so that a date's timers stay inside its exactly-once unit (a process killed
        # between a cycle and its timers ends, once rerun, like an uninterrupted run; ADR 0009).
        _h(c.RunTimers)(lambda ctx, cmd, _a: run_timers(ctx, cmd.as_of)),
    ]
)
