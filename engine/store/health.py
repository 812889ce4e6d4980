"""Can the database take a write now? What `/readyz` reports beside "reachable": a read-only
database or a full disk leaves the service unable to do its job, so readiness says which.

The probe only reads, so it never waits for a writer nor makes one wait:
- PostgreSQL: `SHOW transaction_read_only` in a fresh transaction: `on` under
  `default_transaction_read_only` (for sessions opened after it was set) and on a hot standby. A full
  disk shows only when a commit flushes; no cheap read can see it.
- SQLite: `PRAGMA query_only`; the database file, its WAL and the folder (where SQLite makes its WAL
  and lock files) writable by this process (`access(2)` answers for read-only mounts and immutable
  files even as root); the page cap of the URL (`?max_page_count=`) reached with no free page left;
  less than `LOW_DISK_BYTES` free on the file system."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from engine.store.database import Store
from engine.store.faults import as_unavailable
from engine.store.unit_of_work import UnitOfWork
from engine.store.upgrades import current_version

State = Literal["ok", "read-only", "disk full"]
LOW_DISK_BYTES = 1024 * 1024  # below this SQLite cannot grow its WAL by a transaction of any size


def readiness(store: Store) -> tuple[int, State]:
    """(schema version, write state). A fault is asked again once on a fresh connection, in this
    same thread (connections are per thread): this thread's may date from before a restart of the
    database, and readiness tells the database's state now. Still failing, it raises."""
    try:
        return current_version(store), write_state(store)
    except Exception as exc:
        if as_unavailable(exc) is None:
            raise
        store.drop_connection()
        return current_version(store), write_state(store)


def write_state(store: Store) -> State:
    """ "ok", "read-only" or "disk full"; an unreachable database raises (UNAVAILABLE)."""
    with UnitOfWork(store) as uow:
        connection = uow.connection()
        cursor = connection.cursor()
        if store.is_postgres:
            cursor.execute("SHOW transaction_read_only")
            return "read-only" if str(cursor.fetchone()[0]).lower() == "on" else "ok"
        if int(cursor.execute("PRAGMA query_only").fetchone()[0]):
            return "read-only"
        filename = str(store.args["filename"])
        if filename == ":memory:":
            return "ok"
        if not _writable(Path(filename)):
            return "read-only"
        pages = int(cursor.execute("PRAGMA page_count").fetchone()[0])
        cap = int(cursor.execute("PRAGMA max_page_count").fetchone()[0])
        free = int(cursor.execute("PRAGMA freelist_count").fetchone()[0])
        if pages >= cap and free == 0:
            return "disk full"
    disk = os.statvfs(Path(filename).parent)
    if disk.f_bavail * disk.f_frsize < LOW_DISK_BYTES:
        return "disk full"
    return "ok"


def _writable(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    files = [path, *([wal] if wal.exists() else [])]
    return all(os.access(p, os.W_OK) for p in (*files, path.parent))
