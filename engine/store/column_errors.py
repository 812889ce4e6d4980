"""A value the columns cannot hold, as the user's validation error rather than an internal one.

Pony checks every attribute against its column (length of text, range of integers, required
values) when it is set or flushed, and raises a bare ValueError naming `Entity.attribute`. The unit
of work turns those into VALIDATION_FAILED naming the field as the API spells it, so that every
column size in `models.py` is enforced once, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re

from states.errors import ValidationFailed, camel

_TOO_LONG = re.compile(r"Value for attribute (\w+)\.(\w+) is too long\. Max length is (\d+)")
_REQUIRED = re.compile(r"Attribute (\w+)(?:\[[^\]]*\])?\.(\w+) is required")
_RANGE = re.compile(r"Value .* of attr (\w+)\.(\w+) is (greater|less) than the (?:maximum|minimum) allowed value")


def as_validation(exc: BaseException) -> ValidationFailed | None:
    """The validation error a Pony column check stands for, or None when it is something else."""
    if isinstance(exc, OverflowError):  # an integer beyond what the driver binds (SQLite: 64 bits)
        return ValidationFailed("a number is too large to store")
    if not isinstance(exc, ValueError):
        return None
    text = str(exc)
    if "cannot contain NUL" in text:  # psycopg2: PostgreSQL text holds no NUL character
        return ValidationFailed("text must not contain NUL (U+0000) characters")
    if m := _TOO_LONG.search(text):
        field = camel(m.group(2))
        return ValidationFailed(f"{field} is too long: at most {m.group(3)} characters", field)
    if m := _REQUIRED.search(text):
        field = camel(m.group(2))
        return ValidationFailed(f"{field} must not be empty", field)
    if m := _RANGE.search(text):
        field = camel(m.group(2))
        return ValidationFailed(f"{field} is too {'large' if m.group(3) == 'greater' else 'small'} to store", field)
    return None
