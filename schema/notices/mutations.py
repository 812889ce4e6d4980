"""`cancelNotice` (collectors), `addContact`, `updateContact`, `removeContact` (master data)."""

from __future__ import annotations

import strawberry

from engine.commands import AddContact, CancelNotice, RemoveContact, UpdateContact
from engine.notices.contacts import ContactFields
from schema.common.mutation import perform
from schema.context import Info
from schema.ids import parse_id
from schema.notices.types import Channel, Contact, Notice
from schema.permissions import CanCollect, CanManageMaster
from states.errors import NotFound


@strawberry.input
class ContactInput:
    role: str = strawberry.field(default="billing", description="billing | ap | other")
    name: str | None = None
    email: str | None = None
    phone: str | None = strawberry.field(default=None, description="With its country code, e.g. +49 30 901820.")
    postal_address: str | None = None
    language: str | None = strawberry.field(default=None, description="BCP 47, e.g. en, de, fr-CA.")
    opt_out: list[Channel] = strawberry.field(default_factory=list)


@strawberry.input(description="Only the fields given change; null clears an optional field.")
class UpdateContactInput:
    id: strawberry.ID
    role: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    postal_address: str | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    opt_out: list[Channel] | None = strawberry.UNSET


@strawberry.type
class NoticeMutations:
    @strawberry.mutation(permission_classes=[CanCollect], description="Stop a message that has not left yet.")
    async def cancel_notice(self, info: Info, id: strawberry.ID, reason: str) -> Notice:
        ctx = info.context
        notice_id = await perform(info, CancelNotice(parse_id(id), reason))
        view = await ctx.loaders.notice.load(notice_id)
        if view is None:
            raise NotFound(f"notice {notice_id} does not exist")
        return Notice.of(view)

    @strawberry.mutation(permission_classes=[CanManageMaster])
    async def add_contact(self, info: Info, customer_id: strawberry.ID, input: ContactInput) -> Contact:
        fields = ContactFields(
            role=input.role,
            name=input.name,
            email=input.email,
            phone=input.phone,
            postal_address=input.postal_address,
            language=input.language,
            opt_out=tuple(c.value for c in input.opt_out),
        )
        return Contact.of(await perform(info, AddContact(parse_id(customer_id, "customerId"), fields)))

    @strawberry.mutation(permission_classes=[CanManageMaster])
    async def update_contact(self, info: Info, input: UpdateContactInput) -> Contact:
        changes: dict[str, object] = {}
        for name in ("role", "name", "email", "phone", "postal_address", "language"):
            value = getattr(input, name)
            if value is not strawberry.UNSET:
                changes[name] = value
        if input.opt_out is not strawberry.UNSET:
            changes["opt_out"] = tuple(c.value for c in input.opt_out or ())
        return Contact.of(await perform(info, UpdateContact(parse_id(input.id), changes)))

    @strawberry.mutation(permission_classes=[CanManageMaster], description="Returns the customer's id.")
    async def remove_contact(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        return strawberry.ID(str(await perform(info, RemoveContact(parse_id(id)))))
