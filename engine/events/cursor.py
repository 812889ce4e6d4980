"""Opaque event cursors. A cursor names an outbox position; clients must not parse it.

`encode(position)` → `"evt_" + base64url("v1:<position>")`. `decode` also accepts a bare
decimal position, the form the first subscription release handed out.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
import weakref
from collections.abc import Sequence

from engine.queries.events import EventView, events_after
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, read_only
from states.errors import ValidationFailed

log = logging.getLogger(__name__)
LOCK_TIMEOUT_MS = 50

PREFIX = "evt_"
_VERSION = "v1:"


def encode(position: int) -> str:
    raw = f"{_VERSION}{position}".encode()
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, field: str = "after") -> int:
    """The position after which to read; `ValidationFailed` (naming `field`) if malformed."""
    text = cursor.strip()
    if text.isdigit():
        return int(text)
    if text.startswith(PREFIX):
        body = text[len(PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raw = ""
        if raw.startswith(_VERSION) and raw[len(_VERSION) :].isdigit():
            return int(raw[len(_VERSION) :])
    raise ValidationFailed(f"`{field}` is not an event cursor; pass a `cursor` the API returned", field)


# Writers holding ROW EXCLUSIVE on outbox whose transaction has been open longer than the lock
# timeout: while one exists, asking for SHARE would only queue every other writer behind us.
_LONG_WRITERS = (
    "SELECT count(*) FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'relation' AND l.relation = 'outbox'::regclass AND l.mode = 'RowExclusiveLock'"
    " AND l.granted AND l.pid <> pg_backend_pid()"
    f" AND a.xact_start < clock_timestamp() - interval '{LOCK_TIMEOUT_MS} milliseconds'"
)


def stable_position(store: Store) -> int | None:
    """The highest outbox position below which every transaction has settled (committed or
    rolled back): a reader that stops here never passes a position that commits later.

    SQLite has one writer at a time, so positions commit in order: the maximum is stable.
    On PostgreSQL a sequence hands out positions before commit, so a transaction can commit
    position 7 after 8 is visible. `LOCK TABLE outbox IN SHARE MODE` waits for every
    transaction that has inserted into the outbox (they hold ROW EXCLUSIVE until they end);
    once it is granted, every position up to `max(id)` is settled, and any later insert draws
    a higher one. The lock is held only for one `SELECT max(id)`, and only `LOCK_TIMEOUT` is
    waited.

    A SHARE request that waits sits in the lock queue, and every writer that arrives after it
    queues behind it: asking while a long writer (a cycle chunk) is open stalled all outbox
    inserts for most of each wait. So the lock is asked for only when no outbox writer has been
    open longer than the lock timeout (`pg_locks`, which takes no table lock); otherwise, or when
    the wait times out, `None` is returned (keep the previous horizon; callers back off).
    """
    if not store.is_postgres:
        with read_only(store) as uow:
            return int(uow.select("SELECT COALESCE(MAX(id), 0) FROM outbox")[0])
    try:
        with UnitOfWork(store) as uow:
            if int(uow.select(_LONG_WRITERS)[0]):
                return None  # leaving the unit of work rolls back
            uow.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
            uow.execute("LOCK TABLE outbox IN SHARE MODE")
            position = int(uow.select("SELECT COALESCE(MAX(id), 0) FROM outbox")[0])
            uow.commit()
            return position
    except Exception as exc:  # lock_timeout: a writer is still open; try again later
        log.debug("outbox horizon not advanced: %s", exc)
        return None


class Horizon:
    """A per-process cache of `stable_position`, shared by every reader (subscriptions poll it
    often; the lock is taken at most once per `max_age` seconds)."""

    def __init__(self, store: Store, max_age: float = 0.2) -> None:
        self._store = weakref.ref(store)
        self.max_age = max_age
        self._lock = threading.Lock()
        self._value = 0
        self._at = -1e18

    def get(self) -> int:
        with self._lock:
            now = time.monotonic()
            if now - self._at >= self.max_age:
                store = self._store()
                fresh = stable_position(store) if store is not None else None
                if fresh is not None:
                    self._value = max(self._value, fresh)
                self._at = now
            return self._value


_horizons: weakref.WeakKeyDictionary[Store, Horizon] = weakref.WeakKeyDictionary()
_horizons_lock = threading.Lock()


def horizon_for(store: Store) -> Horizon:
    """The process's shared horizon for `store`."""
    with _horizons_lock:
        h = _horizons.get(store)
        if h is None:
            h = _horizons[store] = Horizon(store)
        return h


def settled_events_after(
    store: Store,
    after: int,
    limit: int,
    types: Sequence[str] = (),
    subject: str | None = None,
    customer_id: int | None = None,
) -> list[EventView]:
    """`events_after`, cut at the stable position: what every cursor reader should use."""
    top = horizon_for(store).get()
    if top <= after:
        return []
    return events_after(store, after, limit, types, subject, customer_id, until=top)
