"""Customers: create and update, with validation before anything is written."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.calendars import check_place
from engine.clock import stored
from engine.commands import CreateCustomer, UpdateCustomer
from engine.journal import emit
from engine.notices.addresses import check_email
from engine.services.common import get
from engine.services.context import Context
from engine.store.unit_of_work import UnitOfWork, transact
from engine.views import CustomerView
from states.errors import ValidationFailed
from states.money import check_currency

SEGMENTS = ("enterprise", "mid_market", "smb", "public_sector")
RISK_CLASSES = ("low", "medium", "high", "critical")


def check_segment(segment: str) -> str:
    if segment not in SEGMENTS:
        raise ValidationFailed(f"unknown segment '{segment}'; one of {', '.join(SEGMENTS)}", "segment")
    return segment


def check_one_of(values: tuple[str, ...], allowed: tuple[str, ...], what: str, field: str) -> tuple[str, ...]:
    """Filter values that can match something: an unknown one is an error listing the allowed
    values, never a silently empty page."""
    for value in values:
        if value not in allowed:
            raise ValidationFailed(f"unknown {what} '{value[:40]}'; one of {', '.join(allowed)}", field)
    return values


def check_name(name: str) -> str:
    if not name.strip():
        raise ValidationFailed("customer name must not be empty", "name")
    return name


def check_terms(days: int) -> int:
    if not 0 <= days <= 365:
        raise ValidationFailed(f"payment terms of {days} days are outside 0..365", "payment_terms_days")
    return days


def check_limit(limit: int) -> int:
    if limit < 0:
        raise ValidationFailed("credit limit must not be negative", "credit_limit")
    return limit


def check_timezone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"'{tz}' is not an IANA time zone", "timezone") from None
    return tz


def validate_new_customer(cmd: CreateCustomer) -> None:
    if not cmd.external_ref.strip():
        raise ValidationFailed("customer reference must not be empty", "external_ref")
    check_name(cmd.name)
    check_segment(cmd.segment)
    check_currency(cmd.currency)
    check_limit(cmd.credit_limit)
    check_terms(cmd.payment_terms_days)
    check_timezone(cmd.timezone)
    check_place(cmd.country, cmd.subdivision)
    if cmd.risk_class not in RISK_CLASSES:
        raise ValidationFailed(f"unknown risk class '{cmd.risk_class}'", "risk_class")
    if cmd.email:
        check_email(cmd.email)


def create_customer(ctx: Context, cmd: CreateCustomer) -> CustomerView:
    validate_new_customer(cmd)
    country, subdivision = check_place(cmd.country, cmd.subdivision)

    def work(uow: UnitOfWork) -> CustomerView:
        if uow.Customer.get(external_ref=cmd.external_ref) is not None:
            raise ValidationFailed(f"customer '{cmd.external_ref}' already exists", "external_ref")
        c = uow.Customer(
            external_ref=cmd.external_ref,
            name=cmd.name,
            segment=cmd.segment,
            currency=check_currency(cmd.currency),
            credit_limit=cmd.credit_limit,
            payment_terms_days=cmd.payment_terms_days,
            timezone=cmd.timezone,
            country=country,
            subdivision=subdivision,
            tags=list(cmd.tags),
            email=cmd.email,
            risk_class=cmd.risk_class,
            created_at=stored(ctx.now()),
        )
        if cmd.email:  # the customer's email is its first billing contact
            uow.Contact(customer=c, role="billing", email=cmd.email, created_at=stored(ctx.now()))
        uow.flush()
        view = CustomerView.of(c)
        emit(
            uow,
            type="o2c.customer.created",
            entity_type="account",
            entity_id=c.id,
            entity_version=1,
            customer_id=c.id,
            at=ctx.now(),
            data={"snapshot": {"id": c.id, "externalRef": c.external_ref}},
        )
        return view

    return transact(ctx.store, work)


def _place_after(c: Any, cmd: UpdateCustomer) -> tuple[str | None, str | None]:
    """The customer's country and subdivision once `cmd` applies, checked together: a new country
    keeps the stored subdivision only if it is one of the new country's ("" clears a field)."""
    country = c.country if cmd.country is None else cmd.country
    if cmd.subdivision is not None:
        subdivision = cmd.subdivision
    elif cmd.country is not None and not cmd.country.strip():
        subdivision = None  # no country, no subdivision
    else:
        subdivision = c.subdivision
    return check_place(country, subdivision)


def update_customer(ctx: Context, cmd: UpdateCustomer) -> CustomerView:
    if cmd.segment is not None:
        check_segment(cmd.segment)
    if cmd.name is not None:
        check_name(cmd.name)
    if cmd.credit_limit is not None:
        check_limit(cmd.credit_limit)
    if cmd.payment_terms_days is not None:
        check_terms(cmd.payment_terms_days)
    if cmd.timezone is not None:
        check_timezone(cmd.timezone)

    def work(uow: UnitOfWork) -> CustomerView:
        c = get(uow, "Customer", cmd.customer_id)
        changed: dict[str, object] = {}
        for field in ("segment", "credit_limit", "payment_terms_days", "name", "email", "timezone"):
            value = getattr(cmd, field)
            if value is not None and getattr(c, field) != value:
                changed[field] = value
                setattr(c, field, value)
        for field, value in zip(("country", "subdivision"), _place_after(c, cmd), strict=True):
            if getattr(c, field) != value:
                changed[field] = value
                setattr(c, field, value)
        if cmd.tags is not None and list(cmd.tags) != list(c.tags):
            changed["tags"] = list(cmd.tags)
            c.tags = list(cmd.tags)
        if changed:
            c.version += 1
            emit(
                uow,
                type="o2c.customer.updated",
                entity_type="account",
                entity_id=c.id,
                entity_version=c.version,
                customer_id=c.id,
                at=ctx.now(),
                data={"changed": changed},
            )
        return CustomerView.of(c)

    return transact(ctx.store, work)
