"""The Customer (credit account) type, its filter and orderings."""

import base64
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from engine.services.notices import statement
from engine.views import CustomerView
from schema.common.money import Money
from schema.common.pagination import Connection
from schema.context import Info
from schema.credit.types import CreditHold, PromiseToPay
from schema.history.types import Transition, check_last
from schema.ids import parse_id, to_id
from schema.timeline.types import TIMELINE_PAGE, TimelineAfter, TimelineEntry, TimelineFirst, timeline_page

if TYPE_CHECKING:
    from schema.cashapp.types import PayerAlias
    from schema.disputes.types import Dispute
    from schema.invoices.types import Invoice, InvoiceState
    from schema.notices.types import Contact


@strawberry.enum
class AccountState(Enum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"


@strawberry.enum(description="Orderings of the customer list (ties broken by id).")
class CustomerOrder(Enum):
    NAME_ASC = "NAME_ASC"
    EXTERNAL_REF_ASC = "EXTERNAL_REF_ASC"
    RISK_SCORE_DESC = "RISK_SCORE_DESC"


@strawberry.input(description="Every given condition must hold.")
class CustomerFilter:
    segment: list[str] | None = None
    risk: list[str] | None = None
    state: list[AccountState] | None = None
    search: str | None = strawberry.field(default=None, description="Part of the name or reference.")


@strawberry.type(description="A customer and its credit account.")
class Customer:
    id: strawberry.ID
    external_ref: str
    name: str
    segment: str
    risk_class: str
    risk_score: int
    credit_limit: Money
    currency: str
    payment_terms_days: int
    timezone: str = strawberry.field(description="IANA time zone: messages go out in its local send window.")
    country: str | None = strawberry.field(
        description="ISO 3166-1 alpha-2: the holiday calendar of business days (null: Monday to Friday)."
    )
    subdivision: str | None = strawberry.field(description="The subdivision of `country` whose holidays apply.")
    tags: list[str]
    email: str | None
    state: AccountState
    unapplied_credit: Money = strawberry.field(
        description="Unapplied credit in the customer's own currency (other currencies: `unappliedCredits`)."
    )
    broken_promises: int
    version: int
    customer_id: strawberry.Private[int]

    @staticmethod
    def of(v: CustomerView) -> "Customer":
        return Customer(
            id=to_id(v.id),
            external_ref=v.external_ref,
            name=v.name,
            segment=v.segment,
            risk_class=v.risk_class,
            risk_score=v.risk_score,
            credit_limit=Money.of(v.credit_limit, v.currency),
            currency=v.currency,
            payment_terms_days=v.payment_terms_days,
            timezone=v.timezone,
            country=v.country,
            subdivision=v.subdivision,
            tags=list(v.tags),
            email=v.email,
            state=AccountState(v.state),
            unapplied_credit=Money.of(v.unapplied_credit, v.currency),
            broken_promises=v.broken_promises,
            version=v.version,
            customer_id=v.id,
        )

    @strawberry.field(description="How this customer appears on bank statements (IBANs, payer names).")
    async def payer_aliases(self, info: Info) -> list[Annotated["PayerAlias", strawberry.lazy("schema.cashapp.types")]]:
        from schema.cashapp.types import PayerAlias

        found = await info.context.loaders.aliases_of_customer.load(self.customer_id)
        return [PayerAlias(kind=kind, value=value) for kind, value in found]

    @strawberry.field(description="Unapplied credit per currency (never added across currencies).")
    async def unapplied_credits(self, info: Info) -> list[Money]:
        found = await info.context.loaders.unapplied_of_customer.load(self.customer_id)
        return [Money.of(amount, currency) for currency, amount in found]

    @strawberry.field(description="Open receivables in the customer's currency.")
    async def exposure(self, info: Info) -> Money:
        total = await info.context.loaders.exposure.load(self.customer_id)
        return Money.of(total or 0, self.currency)

    @strawberry.field(description="Exposure / credit limit as a decimal ratio; null without a limit.")
    async def utilisation(self, info: Info) -> Decimal | None:
        if self.credit_limit.minor == 0:
            return None
        total = await info.context.loaders.exposure.load(self.customer_id) or 0
        ratio = Decimal(total) / Decimal(self.credit_limit.minor)
        return ratio.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)

    @strawberry.field(description="The latest invoices by due date; to page, use `invoices(filter)`.")
    async def invoices(
        self,
        info: Info,
        last: int = 20,
        state: list[Annotated["InvoiceState", strawberry.lazy("schema.invoices.types")]] | None = None,
    ) -> list[Annotated["Invoice", strawberry.lazy("schema.invoices.types")]]:
        from schema.invoices.types import Invoice

        states = tuple(sorted(s.value for s in state or ()))
        loader = info.context.loaders.invoices_of_customer(check_last(last), states)
        return [Invoice.of(v) for v in await loader.load(self.customer_id)]

    @strawberry.field
    async def disputes(self, info: Info) -> list[Annotated["Dispute", strawberry.lazy("schema.disputes.types")]]:
        from schema.disputes.types import Dispute

        return [Dispute.of(d) for d in await info.context.loaders.disputes_of_customer.load(self.customer_id)]

    @strawberry.field(description="Credit holds; by default only those in force.")
    async def holds(self, info: Info, active_only: bool = True) -> list[CreditHold]:
        found = await info.context.loaders.holds_of_customer.load(self.customer_id)
        return [CreditHold.of(h) for h in found if not active_only or h.released_at is None]

    @strawberry.field
    async def promises(self, info: Info) -> list[PromiseToPay]:
        found = await info.context.loaders.promises_of_customer.load(self.customer_id)
        invoices = await info.context.loaders.invoice.load_many([p.invoice_id for p in found])
        return [
            PromiseToPay.of(p, inv.currency if inv else self.currency) for p, inv in zip(found, invoices, strict=True)
        ]

    @strawberry.field(
        description="Everything that happened to the customer (transitions of its invoices, account, disputes, "
        "tasks and blocks; notes, calls, payments, messages), newest first; `invoiceId`: about one invoice."
    )
    async def timeline(
        self,
        info: Info,
        first: TimelineFirst = TIMELINE_PAGE,
        after: TimelineAfter = None,
        invoice_id: strawberry.ID | None = None,
    ) -> Connection[TimelineEntry]:
        invoice = parse_id(invoice_id, "invoiceId") if invoice_id is not None else None
        return await timeline_page(info, self.customer_id, invoice, first, after)

    @strawberry.field(description="Who receives messages: billing contacts first.")
    async def contacts(self, info: Info) -> list[Annotated["Contact", strawberry.lazy("schema.notices.types")]]:
        from schema.notices.types import Contact

        return [Contact.of(c) for c in await info.context.loaders.contacts_of_customer.load(self.customer_id)]

    @strawberry.field(description="The statement (open items, aging, unapplied credit) as a PDF, base64.")
    async def statement_pdf(self, info: Info) -> str:
        ctx = info.context
        return base64.b64encode(await ctx.run(statement, ctx.engine, self.customer_id)).decode()

    @strawberry.field(description="The last `last` account transitions (holds placed and released).")
    async def history(self, info: Info, last: int = 20) -> list[Transition]:
        loader = info.context.loaders.history("account", check_last(last))
        return [Transition.of(t) for t in await loader.load(self.customer_id)]
