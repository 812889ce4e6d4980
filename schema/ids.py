"""IDs on the wire are the database ids as strings; a malformed one is a validation error."""

from __future__ import annotations

import re

import strawberry

from states.errors import ValidationFailed

# The largest id each kind of table holds: most tables have 32-bit keys, the append-only logs
# (history, outbox, notices, tasks, webhook deliveries) 64-bit ones.
MAX_ID = 2**31 - 1
MAX_LOG_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(value: strawberry.ID | str, field: str = "id", largest: int = MAX_ID) -> int:
    """The id a client sent, as the key of a row that may exist; anything else (not ASCII digits,
    zero, negative, beyond what the table's key holds) is VALIDATION_FAILED."""
    text = str(value)
    number = int(text) if _DIGITS.fullmatch(text) else 0
    if not 0 < number <= largest:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ValidationFailed(f"'{shown}' is not an id (a whole number from 1 to {largest})", field)
    return number


def to_id(value: int) -> strawberry.ID:
    return strawberry.ID(str(value))
