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


# Faults where the transaction may have committed before the error reached us (the connection broke
# while a COMMIT was on its way; the disk failed mid-write): never run such work again blindly.
_OUTCOME_UNKNOWN = ("server closed the connection", "disk i/o error")


def nothing_committed(exc: BaseException) -> bool:
    """A database fault that certainly left the transaction uncommitted: a write refused (read-only,
    full), a session the server ended (it rolls back), a connection that could not be opened or was
    already closed. Such work may run again at once on a fresh connection — which a session opened
    during the fault needs once the fault has cleared."""
    text = " ".join(str(e).lower() for e in _chain(exc) if not isinstance(e, Unavailable))  # the driver's words
    return any(sign in text for sign, _ in _SIGNS) and not any(sign in text for sign in _OUTCOME_UNKNOWN)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in seen):  # the driver's error may be wrapped
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def as_unavailable(exc: BaseException) -> Unavailable | None:
    """UNAVAILABLE for a database fault, else None (a race, a bug: someone else's to handle)."""
    if isinstance(exc, Unavailable):
        return exc
    for current in _chain(exc):
        text = str(current).lower()
        for sign, meaning in _SIGNS:
            if sign in text:
                return Unavailable(f"{meaning}; try again shortly")
    return None
