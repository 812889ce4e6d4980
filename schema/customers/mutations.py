"""`createCustomer`, `updateCustomer` (master data: admin)."""

from __future__ import annotations

import strawberry

from engine import commands as c
from schema.common.mutation import perform
from schema.context import Info
from schema.customers.types import Customer
from schema.ids import parse_id
from schema.permissions import CanManageMaster
from states.errors import NotFound
from states.money import check_currency, to_minor


@strawberry.input
class CreateCustomerInput:
    external_ref: str
    name: str
    segment: str = strawberry.field(description="enterprise | mid_market | smb | public_sector")
    currency: str
    credit_limit: str = strawberry.field(description="Decimal string in the customer's currency.")
    payment_terms_days: int = 30
    timezone: str = strawberry.field(default="UTC", description="IANA time zone: the send window's local hours.")
    tags: list[str] = strawberry.field(default_factory=list)
    email: str | None = None
    risk_class: str = "medium"
    country: str | None = strawberry.field(
        default=None, description="ISO 3166-1 alpha-2 code: the holiday calendar (none: Monday to Friday)."
    )
    subdivision: str | None = strawberry.field(
        default=None, description="A subdivision of `country` with its own holidays, e.g. BY (Bavaria) of DE."
    )


@strawberry.input
class UpdateCustomerInput:
    id: strawberry.ID
    segment: str | None = None
    credit_limit: str | None = strawberry.field(default=None, description="In the customer's currency.")
    payment_terms_days: int | None = None
    name: str | None = None
    tags: list[str] | None = None
    email: str | None = None
    timezone: str | None = strawberry.field(default=None, description="IANA time zone.")
    country: str | None = strawberry.field(
        default=None, description='ISO 3166-1 alpha-2 code; "" clears it and the subdivision.'
    )
    subdivision: str | None = strawberry.field(default=None, description='Of the country; "" clears it.')


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(permission_classes=[CanManageMaster])
    async def create_customer(self, info: Info, input: CreateCustomerInput) -> Customer:
        currency = check_currency(input.currency)
        cmd = c.CreateCustomer(
            external_ref=input.external_ref,
            name=input.name,
            segment=input.segment,
            currency=currency,
            credit_limit=to_minor(input.credit_limit, currency),
            payment_terms_days=input.payment_terms_days,
            timezone=input.timezone,
            tags=tuple(input.tags),
            email=input.email,
            risk_class=input.risk_class,
            country=input.country,
            subdivision=input.subdivision,
        )
        return Customer.of(await perform(info, cmd))

    @strawberry.mutation(permission_classes=[CanManageMaster])
    async def update_customer(self, info: Info, input: UpdateCustomerInput) -> Customer:
        customer_id = parse_id(input.id)
        limit = None
        if input.credit_limit is not None:
            current = await info.context.loaders.customer.load(customer_id)
            if current is None:
                raise NotFound(f"customer {customer_id} does not exist")
            limit = to_minor(input.credit_limit, current.currency)
        cmd = c.UpdateCustomer(
            customer_id=customer_id,
            segment=input.segment,
            credit_limit=limit,
            payment_terms_days=input.payment_terms_days,
            name=input.name,
            tags=tuple(input.tags) if input.tags is not None else None,
            email=input.email,
            timezone=input.timezone,
            country=input.country,
            subdivision=input.subdivision,
        )
        return Customer.of(await perform(info, cmd))
