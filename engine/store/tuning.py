"""SQLite settings for the cycle's bulk writes, on the cycle's own connection, for its duration.

Profile of the 1M-invoice cycle with the defaults: 37 commits took 5.2 s, because every commit of
a chunk (thousands of pages) went past the 1,000-page WAL auto-checkpoint and copied its pages
back into the database at once, and the 2 MB page cache made the index updates of the inserts
read the same pages again and again. During the cycle the checkpoint waits until the end (one
pass copies each page once) and the cache is larger.

Crash safety is unchanged: with `journal_mode=WAL` a commit is in the WAL file before `commit()`
returns, whatever the checkpoint setting; `synchronous=NORMAL` (the store's setting) already
survives a killed process; only power loss can take the last commits, as before."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator

from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

CACHE_KIB = 256 * 1024  # page cache of the cycle's connection (256 MiB)
WAL_PAGES = 200_000  # checkpoint during the cycle only if the WAL passes ~800 MB


@contextlib.contextmanager
def bulk_writes(store: Store, dry_run: bool = False) -> Iterator[None]:
    if store.is_postgres or dry_run:
        yield
        return
    with UnitOfWork(store) as uow:
        cur = uow.connection().cursor()
        cache = int(cur.execute("PRAGMA cache_size").fetchone()[0])
        pages = int(cur.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        cur.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        cur.execute(f"PRAGMA wal_autocheckpoint = {WAL_PAGES}")
    try:
        yield
    finally:
        with UnitOfWork(store) as uow:
            cur = uow.connection().cursor()
            cur.execute(f"PRAGMA cache_size = {cache}")
            cur.execute(f"PRAGMA wal_autocheckpoint = {pages}")
        checkpoint(store)


def checkpoint(store: Store) -> None:
    """Copy the WAL back into the database now (PASSIVE: never waits for readers), so that the
    next writer (an API request) does not pay for the cycle's pages."""
    # Its own connection: a checkpoint cannot run inside the transaction a Pony session keeps open.
    try:
        with contextlib.closing(store.side_connection()) as connection:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error:  # pragma: no cover - a busy database: the auto-checkpoint does it later
        log.warning("WAL checkpoint after the cycle failed; the next auto-checkpoint does it", exc_info=True)


def data_version(store: Store) -> tuple[int, int] | None:
    """SQLite: (connection, `PRAGMA data_version`): the second part changes whenever another
    connection (thread or process) commits. None on PostgreSQL (no such cheap signal)."""
    if store.is_postgres:
        return None
    with UnitOfWork(store) as uow:
        connection = uow.connection()
        return id(connection), int(connection.execute("PRAGMA data_version").fetchone()[0])
