"""Commands: small frozen dataclasses naming what a caller wants done. Amounts are minor units.

Each is a `Command[R]`, `R` being what its handler returns; `Collections.handle(cmd, actor)` is
the one door (`engine/handlers.py` maps each type to its handler)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:  # results named in quotes in `Command["…"]` (ruff does not see those uses)
    from engine.blocks.views import BlockView  # noqa: F401
    from engine.notices.contacts import ContactFields
    from engine.notices.recipients import ContactView  # noqa: F401
    from engine.services.bank_transactions import StatementSummary  # noqa: F401
    from engine.services.collectors import CollectorView, PortfolioReport  # noqa: F401
    from engine.services.timeline import AttachmentView, NoteView  # noqa: F401
    from engine.services.write_offs import WriteOffOutcome, WriteOffView  # noqa: F401
    from engine.tasks.views import TaskView  # noqa: F401
    from engine.timers import TimerReport  # noqa: F401
    from engine.views import CustomerView, DisputeView, HoldView, InvoiceView, PaymentView, PromiseView  # noqa: F401

R = TypeVar("R", covariant=True)


class Command(Generic[R]):
    """A request to change something; `R` is the handler's result."""

    __slots__ = ()


@dataclass(frozen=True)
class CreateCustomer(Command["CustomerView"]):
    external_ref: str
    name: str
    segment: str
    currency: str
    credit_limit: int
    payment_terms_days: int = 30
    timezone: str = "UTC"
    tags: tuple[str, ...] = ()
    email: str | None = None
    risk_class: str = "medium"
    country: str | None = None  # ISO 3166-1 alpha-2: the customer's holiday calendar
    subdivision: str | None = None  # of `country`, where its holidays differ (e.g. DE-BY)


@dataclass(frozen=True)
class UpdateCustomer(Command["CustomerView"]):
    customer_id: int
    segment: str | None = None
    credit_limit: int | None = None
    payment_terms_days: int | None = None
    name: str | None = None
    tags: tuple[str, ...] | None = None
    email: str | None = None
    timezone: str | None = None
    country: str | None = None  # "" clears it (and the subdivision): the weekday-only calendar
    subdivision: str | None = None  # "" clears it


@dataclass(frozen=True)
class IssueInvoice(Command["InvoiceView"]):
    customer_id: int
    number: str
    amount: int
    currency: str
    issue_date: date
    due_date: date | None = None  # default: issue date + the customer's payment terms


@dataclass(frozen=True)
class AllocationLine:  # part of a command, not one
    amount: int
    invoice_id: int | None = None
    invoice_number: str | None = None


@dataclass(frozen=True)
class RecordPayment(Command["PaymentView"]):
    customer_id: int
    reference: str
    amount: int
    currency: str
    received_on: date
    allocations: tuple[AllocationLine, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ApplyCredit(Command["list[PaymentView]"]):
    """Apply unapplied credit in `currency`: the allocations named, or oldest due first."""

    customer_id: int
    currency: str
    allocations: tuple[AllocationLine, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class OpenDispute(Command["DisputeView"]):
    invoice_id: int
    reason_code: str
    amount: int | None = None  # default: the whole open amount
    description: str | None = None


@dataclass(frozen=True)
class ResolveDispute(Command["DisputeView"]):
    dispute_id: int
    outcome: str  # accepted | partial | rejected
    credit_amount: int | None = None  # required for partial
    note: str | None = None


@dataclass(frozen=True)
class RecordPromise(Command["PromiseView"]):
    invoice_id: int
    amount: int
    promised_date: date
    note: str | None = None
    tolerance_days: int | None = None


@dataclass(frozen=True)
class PlaceHold(Command["HoldView"]):
    customer_id: int
    reason: str
    note: str | None = None


@dataclass(frozen=True)
class ReleaseHold(Command["CustomerView"]):
    customer_id: int
    reason: str
    reason_code: str | None = None
    note: str | None = None
    exception_until: date | None = None  # a person releasing an automatic reason (default: policy)


@dataclass(frozen=True)
class TransitionInvoice(Command["InvoiceView"]):
    invoice_id: int
    trigger: str
    reason: str


# -- contacts --


@dataclass(frozen=True)
class AddContact(Command["ContactView"]):
    customer_id: int
    fields: ContactFields


@dataclass(frozen=True)
class UpdateContact(Command["ContactView"]):
    contact_id: int
    changes: dict[str, object]


@dataclass(frozen=True)
class RemoveContact(Command[int]):
    """Returns the customer's id."""

    contact_id: int


# -- payments and cash application --


@dataclass(frozen=True)
class ReversePayment(Command["PaymentView"]):
    payment_id: int
    reason: str


@dataclass(frozen=True)
class UnapplyPayment(Command["PaymentView"]):
    payment_id: int
    reason: str


@dataclass(frozen=True)
class ImportStatement(Command["StatementSummary"]):
    text: str
    format: str | None = None  # default: sniffed


@dataclass(frozen=True)
class ApplyBankTransaction(Command[int]):
    """A person's match of a bank transaction; returns the transaction's id."""

    txn_id: int
    customer_id: int
    allocations: tuple[AllocationLine, ...] = ()


@dataclass(frozen=True)
class ExcludeBankTransaction(Command[int]):
    txn_id: int
    reason: str


@dataclass(frozen=True)
class ReturnBankTransaction(Command[int]):
    txn_id: int
    reason: str


@dataclass(frozen=True)
class AddPayerAlias(Command[tuple[str, str]]):
    customer_id: int
    kind: str
    value: str


# -- disputes --


@dataclass(frozen=True)
class AdvanceDispute(Command["DisputeView"]):
    dispute_id: int
    trigger: str
    note: str | None = None


@dataclass(frozen=True)
class CommentOnDispute(Command["DisputeView"]):
    dispute_id: int
    text: str


@dataclass(frozen=True)
class AssignDispute(Command["DisputeView"]):
    dispute_id: int
    owner: str


# -- tasks --


@dataclass(frozen=True)
class CreateTask(Command["TaskView"]):
    customer_id: int
    queue: str
    invoice_id: int | None = None
    note: str | None = None
    due_on: date | None = None
    assignee: str | None = None


@dataclass(frozen=True)
class AssignTask(Command["TaskView"]):
    task_id: int
    assignee: str | None


@dataclass(frozen=True)
class StartTask(Command["TaskView"]):
    task_id: int


@dataclass(frozen=True)
class CompleteTask(Command["TaskView"]):
    task_id: int
    outcome: str
    note: str | None = None


@dataclass(frozen=True)
class SnoozeTask(Command["TaskView"]):
    task_id: int
    until: date
    note: str | None = None


@dataclass(frozen=True)
class CancelTask(Command["TaskView"]):
    task_id: int
    reason: str | None = None


# -- dunning blocks --


@dataclass(frozen=True)
class PlaceBlock(Command["BlockView"]):
    customer_id: int
    reason_code: str
    invoice_id: int | None = None
    ends_on: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class LiftBlock(Command["BlockView"]):
    block_id: int
    reason: str | None = None


# -- the timeline --


@dataclass(frozen=True)
class AddNote(Command["NoteView"]):
    customer_id: int
    text: str
    invoice_id: int | None = None


@dataclass(frozen=True)
class LogCall(Command["NoteView"]):
    customer_id: int
    outcome: str
    invoice_id: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class AddAttachment(Command["AttachmentView"]):
    customer_id: int
    filename: str
    content_type: str
    content_base64: str
    note_id: int | None = None
    dispute_id: int | None = None


# -- collectors and portfolios --


@dataclass(frozen=True)
class CreateCollector(Command["CollectorView"]):
    name: str
    email: str
    queues: tuple[str, ...] = ()


@dataclass(frozen=True)
class AssignCustomer(Command["int | None"]):
    """Returns the collector's id (None: unassigned)."""

    customer_id: int
    collector_id: int | None


@dataclass(frozen=True)
class AssignPortfolios(Command["PortfolioReport"]):
    pass


# -- write-offs within limits --


@dataclass(frozen=True)
class WriteOff(Command["WriteOffOutcome"]):
    invoice_id: int
    role: str  # the caller's role: whose limit applies
    note: str | None = None


@dataclass(frozen=True)
class DecideWriteOff(Command["WriteOffView"]):
    request_id: int
    approve: bool
    role: str
    note: str | None = None


# -- notices --


@dataclass(frozen=True)
class CancelNotice(Command[int]):
    notice_id: int
    reason: str


# -- timers (the scheduler's between-cycles work) --


@dataclass(frozen=True)
class RunTimers(Command["TimerReport"]):
    """Judge promises due on `as_of` (default today), escalate disputes past SLA, wake snoozed
    tasks, expire blocks."""

    as_of: date | None = None
