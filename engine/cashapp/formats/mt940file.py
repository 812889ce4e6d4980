"""SWIFT MT940 read with the `mt-940` package. Its `:86:` parsing understands the German
structured fields (`?20`–`?29` purpose, `?31` IBAN, `?32`/`?33` name); free-text `:86:` is kept
whole as the remittance text. Errors name the line of the `:61:` entry they concern."""

from __future__ import annotations

from datetime import date
from typing import Any

import mt940

from engine.cashapp.formats.entry import CREDIT, DEBIT, StatementEntry, StatementError, entry


def _line_of(text: str, needle: str, start: int = 0) -> int:
    at = text.find(needle, start)
    return text.count("\n", 0, at) + 1 if at >= 0 else 0


def parse(text: str) -> list[StatementEntry]:
    if ":61:" not in text and ":60F:" not in text and ":60M:" not in text:
        raise StatementError("line 1", "not an MT940 statement (no :60F: balance or :61: entry)")
    try:
        # `?31` is the payer's account (IBAN) and `?32`/`?33` the name; keep values a later tag omits.
        statement = mt940.models.Transactions(options=mt940.Options(applicant_iban=True, merge_keeps_values=True))
        statement.parse(text)
    except Exception as exc:  # the library raises bare RuntimeError/ValueError/KeyError on bad tags
        raise StatementError(
            f"line {_first_bad_line(text)}", f"not a valid MT940 statement ({_first_line(exc)})"
        ) from None
    stmt_id = str(statement.data.get("transaction_reference") or "")
    lines = [n for n, raw in enumerate(text.splitlines(), 1) if raw.startswith(":61:")]
    out = []
    for no, tx in enumerate(statement.transactions, 1):
        line = f"line {lines[no - 1] if no <= len(lines) else 0}"
        out.append(_entry(tx.data, line, stmt_id, no))
    return out


def _entry(d: dict[str, Any], line: str, stmt_id: str, no: int) -> StatementEntry:
    amount = d.get("amount")
    if amount is None:
        raise StatementError(line, "the :61: entry has no amount")
    value = amount.amount
    status = str(d.get("status") or "")
    ref = str(d.get("bank_reference") or "")
    if not ref or ref == "NONREF":
        cust = str(d.get("customer_reference") or "")
        ref = cust if cust and cust != "NONREF" else f"{stmt_id}/{no}"
    booked = d.get("entry_date") or d.get("date")
    if booked is None:
        raise StatementError(line, "the :61: entry has no date")
    purpose = d.get("purpose") or d.get("transaction_details") or ""
    return entry(
        line,
        bank_ref=ref,
        statement=stmt_id,
        direction=DEBIT if status.endswith("D") and not status.startswith("R") else CREDIT,
        booked_on=date(booked.year, booked.month, booked.day),
        currency=str(d.get("currency") or amount.currency),
        amount=abs(value),
        payer_name=d.get("applicant_name"),
        payer_iban=d.get("applicant_iban"),
        remittance=str(purpose),
    )


def _first_bad_line(text: str) -> int:
    """The first line that is neither a tag (`:NN:`), a continuation nor a block marker."""
    for n, raw in enumerate(text.splitlines(), 1):
        if raw.startswith(":61:") and not raw[4:10].isdigit():
            return n
    return _line_of(text, ":61:") or 1


def _first_line(exc: Exception) -> str:
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    return text.splitlines()[0][:200] if text else type(exc).__name__
