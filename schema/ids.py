"""IDs on the wire are the database ids as strings; a malformed one is a validation error."""

from __future__ import annotations

import strawberry

from states.errors import ValidationFailed


def parse_id(value: strawberry.ID | str, field: str = "id") -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ValidationFailed(f"'{value}' is not an id", field) from None
    if number <= 0:
        raise ValidationFailed(f"'{value}' is not an id", field)
    return number


def to_id(value: int) -> strawberry.ID:
    return strawberry.ID(str(value))
