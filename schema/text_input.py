"""No text the API takes may hold a NUL character (U+0000). PostgreSQL refuses NUL in text ("A string
literal cannot contain NUL (0x00) characters") and SQLite cuts or keeps it depending on the reader,
so a name, reference, note, search text, filter or strategy file with one is refused before any
resolver runs: VALIDATION_FAILED naming the argument as the client wrote it, and nothing written —
the same answer on both databases, whatever the field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from states.errors import ValidationFailed

NUL = "\x00"


def nul_path(value: object, path: str) -> str | None:
    """The path of the first text inside `value` (arguments, input objects, lists) holding NUL."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = nul_path(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list | tuple):
        for n, item in enumerate(value):
            found = nul_path(item, f"{path}[{n}]")
            if found:
                return found
    return None


class NoNulInText(SchemaExtension):
    """Checks the arguments of every field that has some (most have none: the check costs nothing
    there), as graphql-core coerced them from the document and its variables."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo, *args: Any, **kwargs: Any
    ) -> Any | Awaitable[Any]:
        if kwargs:
            found = nul_path(kwargs, "")
            if found:
                raise ValidationFailed(f"{found} must not contain a NUL (U+0000) character", found)
        return _next(root, info, *args, **kwargs)
