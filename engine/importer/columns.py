"""The columns of each import kind and how one CSV row becomes a typed record.

Field checks reuse the service layer's validators, so an imported row obeys the same rules as
one created through the API. Checks that need other rows or the database live in `checks.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.calendars import check_place
from engine.notices.addresses import check_email
from engine.notices.contacts import ContactFields
from engine.services.customers import RISK_CLASSES, check_limit, check_segment, check_terms, check_timezone
from states.errors import ValidationFailed
from states.money import check_currency, to_minor


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    doc: str


COLUMNS: dict[str, tuple[Column, ...]] = {
    "customers": (
        Column("external_ref", True, "your unique customer reference"),
        Column("name", True, "legal name"),
        Column("segment", True, "enterprise | mid_market | smb | public_sector"),
        Column("currency", True, "ISO 4217 code of the account"),
        Column("credit_limit", True, "decimal text in the account currency, e.g. 50000.00"),
        Column("payment_terms_days", False, "integer 0..365 (default 30)"),
        Column("risk_class", False, "low | medium | high | critical (default medium)"),
        Column("timezone", False, "IANA time zone (default UTC): the send window's local hours"),
        Column("country", False, "ISO 3166-1 alpha-2 code, e.g. DE: the holiday calendar (empty: Monday to Friday)"),
        Column("subdivision", False, "a subdivision of the country with its own holidays, e.g. BY (needs country)"),
        Column("email", False, "where notices go: becomes the billing contact (more with `import contacts`)"),
        Column("tags", False, "tags separated by ';'"),
    ),
    "invoices": (
        Column("customer_ref", True, "external_ref of an existing customer"),
        Column("number", True, "invoice number, unique per customer"),
        Column("issue_date", True, "YYYY-MM-DD"),
        Column("due_date", False, "YYYY-MM-DD (default: issue date + the customer's payment terms)"),
        Column("amount", True, "decimal text, positive, e.g. 1250.00"),
        Column("currency", True, "ISO 4217 code"),
    ),
    "payments": (
        Column("customer_ref", True, "external_ref of an existing customer"),
        Column("reference", True, "payment reference, unique per customer"),
        Column("received_on", True, "YYYY-MM-DD"),
        Column("amount", True, "decimal text, positive: the part of the payment on this line"),
        Column("currency", True, "ISO 4217 code"),
        Column("invoice_number", False, "invoice the line pays; empty = unapplied credit"),
    ),
    "contacts": (
        Column("customer_ref", True, "external_ref of an existing customer"),
        Column("role", False, "billing | ap | other (default billing)"),
        Column("name", False, "the person or desk"),
        Column("email", False, "email address"),
        Column("phone", False, "phone number with its country code, e.g. +49 30 901820 (stored as E.164)"),
        Column("language", False, "BCP 47 tag, e.g. en, de, fr-CA (default: the templates' default language)"),
        Column("postal_address", False, "the postal address letters go to (lines as written)"),
        Column("opt_out", False, "channels this contact must not receive, separated by ';' (email;sms)"),
    ),
}
KINDS = tuple(COLUMNS)


@dataclass(frozen=True)
class CustomerRow:
    line: int
    external_ref: str
    name: str
    segment: str
    currency: str
    credit_limit: int
    payment_terms_days: int
    risk_class: str
    timezone: str
    email: str | None
    tags: tuple[str, ...]
    country: str | None = None
    subdivision: str | None = None


@dataclass(frozen=True)
class InvoiceRow:
    line: int
    customer_ref: str
    number: str
    issue_date: date
    due_date: date | None
    amount: int
    currency: str


@dataclass(frozen=True)
class PaymentRow:
    line: int
    customer_ref: str
    reference: str
    received_on: date
    amount: int
    currency: str
    invoice_number: str | None


def _required(values: dict[str, str], name: str) -> str:
    text = values.get(name, "").strip()
    if not text:
        raise ValidationFailed(f"{name} is empty", name)
    return text


def _date(values: dict[str, str], name: str, required: bool = True) -> date | None:
    text = values.get(name, "").strip()
    if not text and not required:
        return None
    if not text:
        raise ValidationFailed(f"{name} is empty", name)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{name} '{text}' is not a date (YYYY-MM-DD)", name) from None


def _money(values: dict[str, str], name: str, currency: str) -> int:
    text = _required(values, name)
    try:
        return to_minor(text, currency)
    except ValidationFailed as exc:
        raise ValidationFailed(f"{name}: {exc.message}", name) from None


def _currency(values: dict[str, str]) -> str:
    return check_currency(_required(values, "currency"))


def _int(values: dict[str, str], name: str, default: int) -> int:
    text = values.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed(f"{name} '{text}' is not a whole number", name) from None


def _email(v: dict[str, str]) -> str | None:
    text = v.get("email", "").strip()
    return check_email(text) if text else None


def parse_customer(line: int, v: dict[str, str]) -> CustomerRow:
    currency = _currency(v)
    risk = v.get("risk_class", "").strip() or "medium"
    if risk not in RISK_CLASSES:
        raise ValidationFailed(f"unknown risk class '{risk}'; one of {', '.join(RISK_CLASSES)}", "risk_class")
    tags = tuple(t.strip() for t in v.get("tags", "").split(";") if t.strip())
    return CustomerRow(
        line,
        _required(v, "external_ref"),
        _required(v, "name"),
        check_segment(_required(v, "segment")),
        currency,
        check_limit(_money(v, "credit_limit", currency)),
        check_terms(_int(v, "payment_terms_days", 30)),
        risk,
        check_timezone(v.get("timezone", "").strip() or "UTC"),
        _email(v),
        tags,
        *check_place(v.get("country"), v.get("subdivision")),
    )


def parse_invoice(line: int, v: dict[str, str]) -> InvoiceRow:
    currency = _currency(v)
    amount = _money(v, "amount", currency)
    if amount <= 0:
        raise ValidationFailed("invoice amount must be positive", "amount")
    issue = _date(v, "issue_date")
    due = _date(v, "due_date", required=False)
    assert issue is not None
    if due is not None and due < issue:
        raise ValidationFailed("due date is before the issue date", "due_date")
    return InvoiceRow(line, _required(v, "customer_ref"), _required(v, "number"), issue, due, amount, currency)


def parse_payment(line: int, v: dict[str, str]) -> PaymentRow:
    currency = _currency(v)
    amount = _money(v, "amount", currency)
    if amount <= 0:
        raise ValidationFailed("payment amount must be positive", "amount")
    received = _date(v, "received_on")
    assert received is not None
    return PaymentRow(
        line,
        _required(v, "customer_ref"),
        _required(v, "reference"),
        received,
        amount,
        currency,
        v.get("invoice_number", "").strip() or None,
    )


@dataclass(frozen=True)
class ContactRow:
    line: int
    customer_ref: str
    fields: ContactFields


def parse_contact(line: int, v: dict[str, str]) -> ContactRow:
    given = ContactFields(
        role=v.get("role", "").strip() or "billing",
        name=v.get("name"),
        email=v.get("email"),
        phone=v.get("phone"),
        postal_address=v.get("postal_address"),
        language=v.get("language"),
        opt_out=tuple(c.strip() for c in v.get("opt_out", "").split(";") if c.strip()),
    )
    return ContactRow(line, _required(v, "customer_ref"), given.checked())


PARSERS: dict[str, Any] = {
    "customers": parse_customer,
    "invoices": parse_invoice,
    "payments": parse_payment,
    "contacts": parse_contact,
}
