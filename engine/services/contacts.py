"""Contacts through the service layer (GraphQL): add, change, remove — checked before anything is
written. Contacts carry personal data: they are not broadcast as events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from engine.clock import stored
from engine.notices.contacts import ContactFields
from engine.notices.recipients import ADDRESS_OF, ContactView
from engine.services.common import get
from engine.services.context import Context
from engine.store.database import Store
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, read_only, transact


def view_of(c: Entity) -> ContactView:
    return ContactView(
        int(c.id),
        c.role,
        c.name,
        c.email,
        c.phone,
        c.postal_address,
        c.language,
        tuple(c.opt_out or ()),
        invalid_channels(c),
    )


def invalid_channels(c: Entity) -> tuple[str, ...]:
    return tuple(x for x in (c.invalid_channels or "").split(",") if x)


def mark_invalid(c: Entity, channel: str) -> None:
    """A permanent refusal of this contact's address for `channel`: skip it until it changes."""
    c.invalid_channels = ",".join(sorted(set(invalid_channels(c)) | {channel}))


def add_contact(ctx: Context, customer_id: int, given: ContactFields) -> ContactView:
    fields = given.checked()

    def work(uow: UnitOfWork) -> ContactView:
        customer = get(uow, "Customer", customer_id)
        c = uow.Contact(customer=customer, created_at=stored(ctx.now()), **_columns(fields))
        uow.flush()
        return view_of(c)

    return transact(ctx.store, work)


def update_contact(ctx: Context, contact_id: int, changes: dict[str, object]) -> ContactView:
    """`changes` names the fields to set (a None value clears an optional field)."""

    def work(uow: UnitOfWork) -> ContactView:
        c = get(uow, "Contact", contact_id)
        fields = replace(_fields(c), **changes).checked()  # type: ignore[arg-type]
        changed = {name for name, value in _columns(fields).items() if getattr(c, name) != value}
        for name, value in _columns(fields).items():
            setattr(c, name, value)
        # A new address makes its channel usable again.
        kept = [ch for ch in invalid_channels(c) if ADDRESS_OF.get(ch) not in changed]
        c.invalid_channels = ",".join(kept)
        c.version += 1
        return view_of(c)

    return transact(ctx.store, work)


def remove_contact(ctx: Context, contact_id: int) -> int:
    def work(uow: UnitOfWork) -> int:
        c = get(uow, "Contact", contact_id)
        customer_id = int(c.customer.id)
        c.delete()
        return customer_id

    return transact(ctx.store, work)


def contacts_of(uow: UnitOfWork, customer_ids: list[int]) -> dict[int, list[ContactView]]:
    found: dict[int, list[ContactView]] = {i: [] for i in customer_ids}
    if customer_ids:
        for c in uow.Contact.select(lambda c: c.customer.id in customer_ids).order_by(lambda c: c.id):
            found[int(c.customer.id)].append(view_of(c))
    return found


def contacts_by_customer_ids(store: Store, customer_ids: Sequence[int]) -> dict[int, list[ContactView]]:
    with read_only(store) as uow:
        return contacts_of(uow, sorted(set(customer_ids)))


def _fields(c: Entity) -> ContactFields:
    v = view_of(c)
    return ContactFields(v.role, v.name, v.email, v.phone, v.postal_address, v.language, v.opt_out)


def _columns(f: ContactFields) -> dict[str, object]:
    return {
        "role": f.role,
        "name": f.name,
        "email": f.email,
        "phone": f.phone,
        "postal_address": f.postal_address,
        "language": f.language,
        "opt_out": list(f.opt_out),
    }
