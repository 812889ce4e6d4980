"""The what-if diff of a candidate strategy set, as front ends see it (`previewStrategies`)."""

from __future__ import annotations

import strawberry

from engine.lab.diff import CustomerChange, CustomerSide, InvoiceChange, StrategyDiff, Treatment
from schema.ids import to_id
from schema.strategies.types import StrategyProblem


@strawberry.input(description="One candidate strategy file: its file name and its text (YAML).")
class StrategyFileInput:
    name: str = strawberry.field(description="e.g. smb-standard.yaml: replaces the file of that name in force.")
    source: str


@strawberry.type(description="A count under the set in force (before) and under the candidate (after).")
class BeforeAfter:
    name: str
    before: int
    after: int
    change: int


@strawberry.type
class SegmentChange:
    segment: str
    invoices_changed: int
    customers_changed: int


@strawberry.type(description="Notices (one per invoice) and messages (one per customer, channel and day).")
class ChannelChange:
    channel: str
    notices_before: int
    notices_after: int
    messages_before: int
    messages_after: int


@strawberry.type(description="Messages per changed customer on the date, against the contact cap.")
class ContactChange:
    customers_with_more_messages: int
    customers_with_fewer_messages: int
    most_messages_before: int
    most_messages_after: int
    at_contact_cap_before: int
    at_contact_cap_after: int


@strawberry.type(description="What one strategy set does to one invoice on the date.")
class InvoiceTreatment:
    rules: list[str] = strawberry.field(description='"strategy/rule" of every order carried out.')
    state: str
    dunning_level: int
    transitions: list[str]
    notice_kind: str | None
    notice_channel: str | None
    notice_template: str | None
    task_queue: str | None

    @staticmethod
    def of(t: Treatment | None) -> InvoiceTreatment | None:
        if t is None:
            return None
        n = t.notice
        return InvoiceTreatment(
            rules=list(t.rules),
            state=t.state,
            dunning_level=t.level,
            transitions=list(t.transitions),
            notice_kind=n[0] if n else None,
            notice_channel=n[1] if n else None,
            notice_template=n[2] if n else None,
            task_queue=t.task,
        )


@strawberry.type
class InvoiceDiff:
    invoice_id: strawberry.ID
    customer_id: strawberry.ID
    segment: str
    risk: str
    before: InvoiceTreatment | None = strawberry.field(description="Null: nothing is done to it.")
    after: InvoiceTreatment | None

    @staticmethod
    def of(c: InvoiceChange) -> InvoiceDiff:
        return InvoiceDiff(
            invoice_id=to_id(c.invoice_id),
            customer_id=to_id(c.customer_id),
            segment=c.segment,
            risk=c.risk,
            before=InvoiceTreatment.of(c.before),
            after=InvoiceTreatment.of(c.after),
        )


@strawberry.type(description="One customer under one strategy set on the date.")
class CustomerTreatment:
    strategy: str
    orders: list[str] = strawberry.field(description='Account orders, e.g. "credit_hold overdue by s/rule".')
    notices: int
    messages: int
    recent_notices: int = strawberry.field(description="Sent before the date inside the contact window.")
    contact_cap: int | None
    contact_cap_days: int | None
    at_contact_cap: bool

    @staticmethod
    def of(s: CustomerSide) -> CustomerTreatment:
        return CustomerTreatment(
            strategy=s.strategy,
            orders=list(s.orders),
            notices=s.notices,
            messages=s.messages,
            recent_notices=s.recent_notices,
            contact_cap=s.cap,
            contact_cap_days=s.cap_days,
            at_contact_cap=s.at_cap,
        )


@strawberry.type
class CustomerDiff:
    customer_id: strawberry.ID
    segment: str
    risk: str
    before: CustomerTreatment
    after: CustomerTreatment

    @staticmethod
    def of(c: CustomerChange) -> CustomerDiff:
        return CustomerDiff(
            customer_id=to_id(c.customer_id),
            segment=c.segment,
            risk=c.risk,
            before=CustomerTreatment.of(c.before),
            after=CustomerTreatment.of(c.after),
        )


@strawberry.type(description="What the candidate set would do differently from the set in force. Nothing is written.")
class StrategyPreview:
    ok: bool = strawberry.field(description="False: the candidate is invalid (see errors) and was not compared.")
    errors: list[StrategyProblem]
    business_date: str | None = None
    invoices_evaluated: int = 0
    invoices_changed: int = 0
    customers_changed: int = 0
    by_rule: list[BeforeAfter] = strawberry.field(default_factory=list)
    by_segment: list[SegmentChange] = strawberry.field(default_factory=list)
    by_channel: list[ChannelChange] = strawberry.field(default_factory=list)
    totals: list[BeforeAfter] = strawberry.field(
        default_factory=list, description="transitions, notices, messages, customers messaged, tasks, account orders"
    )
    contact: ContactChange | None = None
    invoices: list[InvoiceDiff] = strawberry.field(default_factory=list, description="The first `first` changes.")
    customers: list[CustomerDiff] = strawberry.field(default_factory=list, description="The first `first` changes.")

    @staticmethod
    def of(d: StrategyDiff, first: int) -> StrategyPreview:
        return StrategyPreview(
            ok=True,
            errors=[],
            business_date=d.business_date,
            invoices_evaluated=d.invoices_evaluated,
            invoices_changed=len(d.invoices),
            customers_changed=len(d.customers),
            by_rule=[BeforeAfter(name=k, **v) for k, v in d.by_rule.items()],
            by_segment=[SegmentChange(segment=k, **v) for k, v in d.by_segment.items()],
            by_channel=[ChannelChange(channel=k, **v) for k, v in d.by_channel.items()],
            totals=[BeforeAfter(name=k, **v) for k, v in d.totals.items()],
            contact=ContactChange(**d.contact),
            invoices=[InvoiceDiff.of(x) for x in d.invoices[:first]],
            customers=[CustomerDiff.of(x) for x in d.customers[:first]],
        )
