"""Small helpers for portable raw SQL (SQLite and PostgreSQL) through the unit of work."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.store.database import Store
from states.errors import ValidationFailed


class Params:
    """Collects bound values for Pony's `$name` placeholders; never formats values into SQL."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def many(self, values: Iterable[Any]) -> str:
        items = [self.add(v) for v in values]
        if not items:
            return "(NULL)"
        return "(" + ", ".join(items) + ")"

    def bound(self) -> dict[str, Any]:
        return dict(self.values)


def days_past_due(store: Store, today_placeholder: str, column: str = "i.due_date") -> str:
    """An integer SQL expression: days from `column` to the bound business date."""
    if store.is_postgres:
        return f"(CAST({today_placeholder} AS DATE) - {column})"
    return f"CAST(julianday({today_placeholder}) - julianday({column}) AS INTEGER)"


def day_text(day: date) -> str:
    """Dates are bound as ISO text: SQLite stores them so, PostgreSQL casts the literal."""
    return day.isoformat()


def start_of_day(day: date, zone: ZoneInfo) -> str:
    """The stored (naive UTC) instant at which the business date `day` begins in `zone`."""
    at = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(sep=" ")


def end_of_day(day: date, zone: ZoneInfo) -> str:
    return start_of_day(day + timedelta(days=1), zone)


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """Decode an opaque cursor made by `encode_cursor`; a forged or stale one is a user error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationFailed("the cursor is not one this API issued", "after") from None
    if not isinstance(values, list) or len(values) != size:
        raise ValidationFailed("the cursor does not fit this list or ordering", "after")
    return values
