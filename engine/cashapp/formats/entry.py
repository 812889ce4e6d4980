"""What every statement format is read into, and how a format is recognised."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from states.errors import ValidationFailed
from states.money import check_currency, to_minor

FORMATS = ("camt053", "mt940", "bai2", "csv")
_DECIMAL = re.compile(r"^\d+(\.\d+)?$")
CREDIT, DEBIT = "credit", "debit"
MAX_REF = 140
MAX_TEXT = 2000
# Control characters no statement text may hold: PostgreSQL refuses NUL in text, and the others are
# corruption in every format here (SWIFT's and BAI2's character sets have none; XML refuses them).
# Tab, line feed and carriage return are whitespace: names and remittance texts fold them to spaces.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _visible(text: str) -> str:
    """`text` with control characters written as escapes, never sent raw to a terminal or log."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class StatementError(ValidationFailed):
    """A statement that cannot be read; `location` is `LINE` or an XML element path."""

    def __init__(self, location: str, message: str) -> None:
        detail = _visible(message)  # a message may quote the file, and the file may hold anything
        super().__init__(f"{location}: {detail}" if location else detail, "file")
        self.location = location
        self.detail = detail


def refuse_control_characters(location: str, fields: Mapping[str, str | None]) -> None:
    """StatementError naming the first of `fields` (name → text as read) holding a control character:
    the whole file is refused, like any other malformed entry."""
    for name, value in fields.items():
        found = _CONTROL.search(value or "")
        if found is not None:
            char = found.group()
            what = "a NUL (U+0000) character" if char == "\x00" else f"the control character U+{ord(char):04X}"
            raise StatementError(location, f"{name} must not contain {what}")


@dataclass(frozen=True)
class StatementEntry:
    """One booked entry: a credit becomes a bank transaction to match; a debit is recorded excluded."""

    bank_ref: str
    statement: str
    direction: str
    booked_on: date
    currency: str
    amount: int  # minor units, positive
    payer_name: str | None
    payer_iban: str | None
    remittance: str
    location: str  # where in the file (line or element path)


def entry(
    location: str,
    *,
    bank_ref: str,
    statement: str,
    direction: str,
    booked_on: date,
    currency: str,
    amount: Decimal | str,
    payer_name: str | None = None,
    payer_iban: str | None = None,
    remittance: str = "",
) -> StatementEntry:
    """Build an entry, checking what every format must give; errors name `location`."""
    texts = {"bank_ref": bank_ref, "statement": statement, "currency": currency, "payer_name": payer_name}
    refuse_control_characters(location, {**texts, "payer_iban": payer_iban, "remittance": remittance})
    ref = (bank_ref or "").strip()
    if not ref:
        raise StatementError(location, "the entry has no bank reference")
    if len(ref) > MAX_REF:
        raise StatementError(location, f"the bank reference is longer than {MAX_REF} characters")
    text = str(amount).strip().lstrip("+")
    if isinstance(amount, str) and not _DECIMAL.match(text):
        raise StatementError(location, f"'{amount}' is not a decimal amount (digits, a point, no exponent)")
    try:
        code = check_currency(currency or "")
        minor = to_minor(text, code)
    except ValidationFailed as exc:
        raise StatementError(location, exc.message) from None
    if minor < 0:
        raise StatementError(location, "the amount must not be negative (the direction says credit or debit)")
    if minor == 0:
        raise StatementError(location, "the amount is zero")
    name = " ".join((payer_name or "").split())[:200] or None
    iban = re.sub(r"\s+", "", payer_iban or "").upper()[:34] or None
    return StatementEntry(
        ref,
        statement.strip()[:MAX_REF] or "statement",
        direction,
        booked_on,
        code,
        minor,
        name,
        iban,
        " ".join(remittance.split())[:MAX_TEXT],
        location,
    )


def detect_format(text: str) -> str:
    """camt053 (XML), bai2 (starts with record 01), mt940 (SWIFT tags), else csv."""
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    if head.startswith("<"):
        return "camt053"
    if head.startswith("01,"):
        return "bai2"
    if head.startswith("{1:") or head.startswith(":20:") or re.search(r"^:(20|25|60F|61):", head, re.M):
        return "mt940"
    return "csv"
