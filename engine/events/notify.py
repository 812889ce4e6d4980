"""PostgreSQL LISTEN/NOTIFY as the event hub's wake-up (never as the data: the hub reads the log).

A statement-level trigger on `outbox` calls `pg_notify('o2c_outbox', '')`; PostgreSQL delivers a
NOTIFY only when its transaction commits (and folds identical ones in a transaction into one),
so a listener wakes exactly when new events became visible. Schema step 8 creates it;
`install_trigger` re-applies it (idempotent), and without it the hub polls.

The listener is a dedicated psycopg2 connection in autocommit mode whose socket is watched by the
event loop (`loop.add_reader`): no thread, no polling. If it breaks, the hub falls back to polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from engine.store.upgrades import OUTBOX_NOTIFY_CHANNEL, OUTBOX_NOTIFY_SQL, OUTBOX_NOTIFY_TRIGGER

log = logging.getLogger(__name__)

CHANNEL, TRIGGER, TRIGGER_SQL = OUTBOX_NOTIFY_CHANNEL, OUTBOX_NOTIFY_TRIGGER, OUTBOX_NOTIFY_SQL


def install_trigger(store: Store) -> None:
    """Create (or replace) the NOTIFY trigger on PostgreSQL; nothing on SQLite."""
    if not store.is_postgres:
        return
    with UnitOfWork(store, write=True) as uow:
        for sql in TRIGGER_SQL:
            uow.execute(sql.replace("$", "$$"))  # Pony reads `$name` as a parameter; `$$` is a `$`
        uow.commit()


def has_trigger(store: Store) -> bool:
    if not store.is_postgres:
        return False
    with UnitOfWork(store) as uow:
        return bool(uow.select("SELECT 1 FROM pg_trigger WHERE tgname = $name", {"name": TRIGGER}))


class Listener:
    """A LISTENing connection; `attach` makes the loop call `wake` when a NOTIFY arrives."""

    def __init__(self, connection: Any, has_trigger: bool) -> None:
        self.connection = connection
        self.has_trigger = has_trigger
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> None:
        self._loop = loop

        def readable() -> None:
            try:
                self.connection.poll()
                self.connection.notifies.clear()
            except Exception as exc:  # the connection broke: fall back to polling
                log.warning("event NOTIFY listener lost (%s); polling instead", exc)
                self.has_trigger = False
                self.close()
            wake()

        loop.add_reader(self.connection.fileno(), readable)

    def close(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(Exception):  # the socket may already be gone
                self._loop.remove_reader(self.connection.fileno())
            self._loop = None
        with contextlib.suppress(Exception):
            self.connection.close()


def open_listener(store: Store) -> Listener | None:
    """LISTEN on the store's database; None if that fails (the hub polls instead)."""
    try:
        trigger = has_trigger(store)
        connection = store.side_connection(timeout=5)
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
    except Exception as exc:
        log.warning("cannot LISTEN for new events (%s); polling instead", exc)
        return None
    if not trigger:
        log.info("no %s trigger on outbox: subscriptions poll (add the schema step to wake on commit)", TRIGGER)
    return Listener(connection, trigger)
