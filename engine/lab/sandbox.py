"""A private SQLite copy of the live database for a simulation: the live database is only read.

SQLite is copied with the online backup API (a consistent snapshot). PostgreSQL is read table by
table inside one REPEATABLE READ transaction (a consistent snapshot too) into a fresh SQLite file
built by the same schema steps, so the simulation runs the very same code on a file nobody else
sees. The copy is deleted when the sandbox is closed."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.store.database import Store
from engine.store.upgrades import upgrade

# Tables a simulation needs no copy of (deliveries to real webhooks, keys, leases of live workers).
SKIPPED = frozenset({"webhook_attempt", "webhook_delivery", "webhook_endpoint", "api_key", "lease"})


@contextmanager
def sandbox(live: Store) -> Iterator[Store]:
    """A Store on a temporary SQLite copy of `live`; removed on exit."""
    with tempfile.TemporaryDirectory(prefix="o2c-sim-") as folder:
        path = Path(folder) / "copy.sqlite"
        copy = Store(f"sqlite:///{path}")
        upgrade(copy)
        copy.disconnect()
        if live.is_postgres:
            _from_postgres(live, path)
        else:
            _from_sqlite(live, path)
        store = Store(f"sqlite:///{path}")
        upgrade(store)
        try:
            yield store
        finally:
            store.disconnect()


def _sqlite_file(store: Store) -> str:
    url = store.url
    return url[len("sqlite:///") :]


def _from_sqlite(live: Store, target: Path) -> None:
    with sqlite3.connect(_sqlite_file(live)) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    with sqlite3.connect(target) as dst:
        for table in SKIPPED:
            dst.execute(f"DELETE FROM {table}")


def _value(v: Any) -> Any:
    if isinstance(v, dict | list):
        return json.dumps(v)
    if isinstance(v, datetime):
        return v.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else str(v)
    if isinstance(v, bool):
        return int(v)
    return v


def _from_postgres(live: Store, target: Path) -> None:
    import psycopg2  # the PostgreSQL driver is only needed when the live database is PostgreSQL

    with sqlite3.connect(target) as dst:
        tables = [
            str(r[0])
            for r in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        ]
        conn = psycopg2.connect(live.url)
        try:
            conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with conn.cursor() as cur:
                for table in tables:
                    if table in SKIPPED:
                        continue
                    dst.execute(f"DELETE FROM {table}")
                    cur.execute("SELECT to_regclass(%s)", (table,))
                    if cur.fetchone()[0] is None:
                        continue
                    cur.execute(f"SELECT * FROM {table}")
                    names = [d[0] for d in cur.description]
                    marks = ",".join("?" * len(names))
                    insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"
                    while batch := cur.fetchmany(5000):
                        dst.executemany(insert, [tuple(_value(v) for v in row) for row in batch])
        finally:
            conn.close()
