"""The database itself failing — unreachable, read-only, out of disk — as the typed UNAVAILABLE
error (HTTP 503 where no GraphQL result can be formed), never a bare 500, an INTERNAL or a
CONFLICT. The drivers raise these as OperationalError with a text only: we read the text."""

from __future__ import annotations

from states.errors import Unavailable

# (what the driver says, what we tell the user)
_SIGNS: tuple[tuple[str, str], ...] = (
    ("could not connect", "cannot connect to the database"),
    ("connection refused", "cannot connect to the database"),
    ("connection to server", "cannot connect to the database"),
    ("server closed the connection", "the database closed the connection"),
    ("terminating connection", "the database closed the connection"),
    ("connection already closed", "the database connection was lost"),
    ("the database system is", "the database is starting up or shutting down"),
    ("unable to open database file", "cannot open the database file"),
    ("attempt to write a readonly database", "the database is read-only"),
    ("read-only transaction", "the database is read-only"),
    ("database or disk is full", "the database disk is full"),
    ("no space left on device", "the database disk is full"),
    ("disk i/o error", "the database disk failed (I/O error)"),
)


def as_unavailable(exc: BaseException) -> Unavailable | None:
    """UNAVAILABLE for a database fault, else None (a race, a bug: someone else's to handle)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # the driver's error may be wrapped
        seen.add(id(current))
        text = str(current).lower()
        for sign, meaning in _SIGNS:
            if sign in text:
                return Unavailable(f"{meaning}; try again shortly")
        current = current.__cause__ or current.__context__
    return None
