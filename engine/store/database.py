"""Open a database from a URL, keep the schema at its current version, hand out units of work."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

import psycopg2
from pony.orm import Database

from engine.store.models import define_entities
from states.errors import ValidationFailed


def data_tables() -> tuple[str, ...]:
    """Every table the schema holds rows in (all but `schema_version`), from the entity
    definitions in `models.py`: what a test empties between runs."""
    db = Database()
    define_entities(db)
    return tuple(sorted(t for t in (e._table_ for e in db.entities.values()) if t != "schema_version"))


# SQLite URL query parameters: per-connection PRAGMAs that every connection of the process gets.
SQLITE_PRAGMAS = ("max_page_count",)


def sqlite_pragmas(url: str) -> dict[str, int]:
    """`sqlite:///data/o2c.sqlite?max_page_count=250000`: caps the database at that many pages
    (4 KiB each); past it every write fails as "database or disk is full" (UNAVAILABLE), like a
    full disk. SQLite keeps the cap per connection, not in the file: the URL gives it to each."""
    if not url.startswith("sqlite:///") or "?" not in url:
        return {}
    pragmas: dict[str, int] = {}
    for key, value in parse_qsl(url.split("?", 1)[1], keep_blank_values=True):
        if key not in SQLITE_PRAGMAS:
            raise ValidationFailed(f"database URL: a SQLite URL takes only {', '.join(SQLITE_PRAGMAS)}, not {key!r}")
        if not value.isdigit() or int(value) < 1:
            raise ValidationFailed(f"database URL: {key} must be a positive whole number, not {value!r}")
        pragmas[key] = int(value)
    return pragmas


def bind_arguments(url: str) -> dict[str, object]:
    """`sqlite:///data/o2c.sqlite`, `sqlite:///:memory:` or `postgresql://user:pw@host:5432/db`; a
    PostgreSQL URL's query parameters (`?sslmode=require&connect_timeout=5`) go to the driver as they
    are; a SQLite URL's (`?max_page_count=N`) are PRAGMAs (`sqlite_pragmas`)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        sqlite_pragmas(url)  # checked here, applied on connect
        path = unquote(url[len("sqlite:///") :].split("?", 1)[0]) if url.startswith("sqlite:///") else ""
        if not path:
            raise ValidationFailed(f"database URL {url!r}: write sqlite:///path/to/file.sqlite")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            path = str(Path(path).resolve())
        return {"provider": "sqlite", "filename": path, "create_db": True}
    if parsed.scheme in ("postgres", "postgresql"):
        args: dict[str, object] = {
            "provider": "postgres",
            "host": parsed.hostname or "127.0.0.1",
            "port": parsed.port or 5432,
            "database": (parsed.path or "/postgres").lstrip("/") or "postgres",
            "user": unquote(parsed.username) if parsed.username else "postgres",
        }
        if parsed.password:
            args["password"] = unquote(parsed.password)
        for key, value in parse_qsl(parsed.query, keep_blank_values=True):
            if key in ("provider", "host", "port", "database", "dbname", "user", "password"):
                raise ValidationFailed(f"database URL: {key!r} belongs in the URL itself, not its query")
            args[key] = value  # libpq connection parameters: sslmode, sslrootcert, application_name, ...
        return args
    raise ValidationFailed(f"database URL {url!r}: only sqlite:/// and postgresql:// are supported")


class Store:
    """One bound Pony database. Create one per process (or per test)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.args = bind_arguments(url)
        self.provider = str(self.args["provider"])
        self.db = Database()
        define_entities(self.db)
        if self.provider == "sqlite":
            self._install_sqlite_pragmas()
        self.db.bind(**self.args)
        self.db.generate_mapping(create_tables=False, check_tables=False)
        # SQLite takes one writer at a time; serializing our writers in-process avoids
        # 'database is locked' storms between threads (other processes wait on busy_timeout).
        self.write_lock: threading.Lock | None = threading.Lock() if self.provider == "sqlite" else None

    @property
    def is_postgres(self) -> bool:
        return self.provider == "postgres"

    def _install_sqlite_pragmas(self) -> None:
        extra = sqlite_pragmas(self.url)

        @self.db.on_connect(provider="sqlite")
        def _pragmas(_db: Database, connection: object) -> None:
            cursor = connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA busy_timeout = 30000")
            cursor.execute("PRAGMA foreign_keys = ON")
            for name, value in extra.items():  # every thread's connection, not only the first
                cursor.execute(f"PRAGMA {name} = {value}")

    def side_connection(self, *, autocommit: bool = True, timeout: float = 30) -> Any:
        """A raw DB-API connection of its own, outside Pony's sessions (for a LISTEN, a WAL
        checkpoint, a read in a worker thread). The caller closes it. Opened here so that every
        connection of the process uses the same URL and options."""
        if self.is_postgres:
            a = self.args
            connection = psycopg2.connect(
                host=a.get("host"),
                port=a.get("port"),
                dbname=a.get("database"),
                user=a.get("user"),
                password=a.get("password"),
                connect_timeout=int(timeout),
            )
            connection.autocommit = autocommit
            return connection
        path = str(self.args["filename"])
        if path == ":memory:":
            raise ValueError("an in-memory SQLite database has no side connections")
        connection = sqlite3.connect(path, timeout=timeout, isolation_level=None if autocommit else "DEFERRED")
        connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        for name, value in sqlite_pragmas(self.url).items():
            connection.execute(f"PRAGMA {name} = {value}")
        return connection

    def disconnect(self) -> None:
        self.db.disconnect()

    def drop_connection(self) -> None:
        """Close this thread's connection after a database fault, so that the next unit of work
        opens a fresh one once the fault has cleared: a SQLite connection opened while the file was
        read-only stays read-only, a PostgreSQL session keeps the read-only default it started with.
        Inside an enclosing session there is nothing to drop safely; that session's end does it."""
        with contextlib.suppress(Exception):
            self.db.disconnect()
