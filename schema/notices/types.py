"""Messages to customers (the notice machine) and contacts."""

from __future__ import annotations

import base64
from datetime import date, datetime
from enum import Enum

import strawberry

from engine.notices.content import Rendered
from engine.notices.recipients import ContactView
from engine.queries.notices import NoticeLineView, NoticeView
from engine.views import TransitionView
from schema.context import Info
from schema.history.types import Transition, check_last
from schema.ids import to_id
from schema.loaders import now_or_later


@strawberry.enum
class NoticeState(Enum):
    REQUESTED = "requested"
    RENDERED = "rendered"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    FAILED = "failed"
    CANCELLED = "cancelled"


@strawberry.enum
class Channel(Enum):
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"
    PHONE = "phone"
    PORTAL = "portal"


@strawberry.input(description="Every given condition must hold; dates are business dates.")
class NoticeFilter:
    customer_id: strawberry.ID | None = None
    invoice_id: strawberry.ID | None = None
    channel: Channel | None = strawberry.field(default=None, description="The channel used (after any fallback).")
    status: list[NoticeState] | None = None
    from_: date | None = strawberry.field(default=None, name="from")
    to: date | None = None


@strawberry.type(description="One invoice a message concerns, with its own level.")
class NoticeLine:
    invoice_id: strawberry.ID
    number: str
    kind: str = strawberry.field(description="remind | dun")
    level: int
    template: str

    @staticmethod
    def of(v: NoticeLineView) -> NoticeLine:
        return NoticeLine(invoice_id=to_id(v.invoice_id), number=v.number, kind=v.kind, level=v.level,
                          template=v.template)  # fmt: skip


@strawberry.type(description="A message's content as rendered.")
class RenderedContent:
    channel: Channel
    language: str
    subject: str | None
    text: str
    html: str | None
    segments: int | None = strawberry.field(description="SMS segments (GSM-7 or UCS-2).")
    encoding: str | None
    pdf_base64: str | None = strawberry.field(description="A letter's PDF, base64.")

    @staticmethod
    def of(r: Rendered) -> RenderedContent:
        return RenderedContent(
            channel=Channel(r.channel),
            language=r.language,
            subject=r.subject,
            text=r.text,
            html=r.html,
            segments=r.segments.count if r.segments else None,
            encoding=r.segments.encoding if r.segments else None,
            pdf_base64=base64.b64encode(r.pdf).decode() if r.pdf else None,
        )


@strawberry.type(description="A message to a customer: one channel and business date, its invoices.")
class Notice:
    id: strawberry.ID
    customer_id: strawberry.ID
    channel: Channel = strawberry.field(description="The channel the strategy asked for.")
    via: Channel | None = strawberry.field(description="The channel used once rendered (a fallback may differ).")
    business_date: date
    state: NoticeState
    template: str
    strategy: str
    language: str | None
    recipient: str | None
    error: str | None = strawberry.field(description="Why it was cancelled or failed.")
    waiting: str | None = strawberry.field(
        description="Why a rendered or queued message is not sent yet, e.g. outside the customer's send window until …"
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When the sender takes it up again (UTC): the send window's next opening, or a retry's."
    )
    version: int
    created_at: datetime
    updated_at: datetime
    lines: list[NoticeLine]
    content: RenderedContent | None = strawberry.field(description="Null until rendered.")
    notice_id: strawberry.Private[int]

    @staticmethod
    def of(v: NoticeView) -> Notice:
        content = None
        if v.body_text is not None:
            content = RenderedContent(
                channel=Channel(v.via or v.channel),
                language=v.language or "",
                subject=v.subject,
                text=v.body_text,
                html=v.body_html,
                segments=v.segments,
                encoding=v.encoding,
                pdf_base64=base64.b64encode(v.document).decode() if v.document else None,
            )
        return Notice(
            id=to_id(v.id),
            customer_id=to_id(v.customer_id),
            channel=Channel(v.channel),
            via=Channel(v.via) if v.via else None,
            business_date=v.business_date,
            state=NoticeState(v.state),
            template=v.template,
            strategy=v.strategy,
            language=v.language,
            recipient=v.recipient,
            error=v.error,
            waiting=v.waiting if v.state in ("rendered", "queued") else None,
            next_attempt_at=v.next_attempt_at if v.state in ("rendered", "queued") else None,
            version=v.version,
            created_at=v.created_at,
            updated_at=v.updated_at,
            lines=[NoticeLine.of(line) for line in v.lines],
            content=content,
            notice_id=v.id,
        )

    @strawberry.field(description="Every transition, oldest first (the last `last`).")
    def history(self, info: Info, last: int = 20) -> list[Transition]:
        loader = info.context.loaders.history("notice", check_last(last))
        return now_or_later(loader, self.notice_id, _transitions)


def _transitions(views: list[TransitionView]) -> list[Transition]:
    return [Transition.of(t) for t in views]


@strawberry.type(description="Someone at a customer who receives messages.")
class Contact:
    id: strawberry.ID
    role: str = strawberry.field(description="billing | ap | other")
    name: str | None
    email: str | None
    phone: str | None = strawberry.field(description="E.164")
    postal_address: str | None
    language: str | None = strawberry.field(description="BCP 47")
    opt_out: list[Channel]
    invalid_channels: list[Channel] = strawberry.field(
        description="Channels whose address bounced: skipped until the address is changed."
    )

    @staticmethod
    def of(v: ContactView) -> Contact:
        return Contact(
            id=to_id(v.id),
            role=v.role,
            name=v.name,
            email=v.email,
            phone=v.phone,
            postal_address=v.postal_address,
            language=v.language,
            opt_out=[Channel(c) for c in v.opt_out],
            invalid_channels=[Channel(c) for c in v.invalid],
        )
