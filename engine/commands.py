"""Commands: small frozen dataclasses naming what a caller wants done. Amounts are minor units."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class CreateCustomer:
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


@dataclass(frozen=True)
class UpdateCustomer:
    customer_id: int
    segment: str | None = None
    credit_limit: int | None = None
    payment_terms_days: int | None = None
    name: str | None = None
    tags: tuple[str, ...] | None = None
    email: str | None = None


@dataclass(frozen=True)
class IssueInvoice:
    customer_id: int
    number: str
    amount: int
    currency: str
    issue_date: date
    due_date: date | None = None  # default: issue date + the customer's payment terms


@dataclass(frozen=True)
class AllocationLine:
    amount: int
    invoice_id: int | None = None
    invoice_number: str | None = None


@dataclass(frozen=True)
class RecordPayment:
    customer_id: int
    reference: str
    amount: int
    currency: str
    received_on: date
    allocations: tuple[AllocationLine, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ApplyCredit:
    """Apply unapplied credit in `currency`: the allocations named, or oldest due first."""

    customer_id: int
    currency: str
    allocations: tuple[AllocationLine, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class OpenDispute:
    invoice_id: int
    reason_code: str
    amount: int | None = None  # default: the whole open amount
    description: str | None = None


@dataclass(frozen=True)
class ResolveDispute:
    dispute_id: int
    outcome: str  # accepted | partial | rejected
    credit_amount: int | None = None  # required for partial
    note: str | None = None


@dataclass(frozen=True)
class RecordPromise:
    invoice_id: int
    amount: int
    promised_date: date
    note: str | None = None
    tolerance_days: int | None = None


@dataclass(frozen=True)
class PlaceHold:
    customer_id: int
    reason: str
    note: str | None = None


@dataclass(frozen=True)
class ReleaseHold:
    customer_id: int
    reason: str
    reason_code: str | None = None
    note: str | None = None
    exception_until: date | None = None  # a person releasing an automatic reason (default: policy)


@dataclass(frozen=True)
class TransitionInvoice:
    invoice_id: int
    trigger: str
    reason: str
