"""Schema versions. Pony has no migrations: every change to the schema is an explicit step here,
applied in order, each recorded in `schema_version` in the same transaction as its DDL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pony.orm import db_session

from engine.store.database import Store


@dataclass(frozen=True)
class Step:
    """`create_tables` adds the tables of new entities (idempotent, runs in its own session);
    `statements` run in one transaction together with the version row."""

    version: int
    description: str
    statements: tuple[str, ...] = ()
    create_tables: bool = False
    before: Callable[[Store], None] | None = None


STEPS: list[Step] = [
    Step(
        1,
        "baseline: customers, invoices, payments, disputes, promises, holds, history, outbox",
        create_tables=True,
    ),
    Step(
        2,
        "index outbox by entity",
        ("CREATE INDEX IF NOT EXISTS idx_outbox_entity ON outbox (entity_type, entity_id)",),
    ),
    Step(3, "api keys (hashed)", create_tables=True),
    Step(4, "notices, collector tasks, cycle runs, leases", create_tables=True),
]

LATEST = STEPS[-1].version


def _has_version_table(store: Store) -> bool:
    return bool(store.db.provider.table_exists(store.db.get_connection(), "schema_version"))


def current_version(store: Store) -> int:
    with db_session:
        if not _has_version_table(store):
            return 0
        value = store.db.select("SELECT MAX(version) FROM schema_version")[0]
        return int(value or 0)


def upgrade(store: Store, target: int | None = None) -> list[Step]:
    """Apply every step above the current version (up to `target`); return what was applied."""
    goal = LATEST if target is None else target
    applied: list[Step] = []
    for step in STEPS:
        if step.version > goal:
            break
        if step.version <= current_version(store):
            continue
        if step.create_tables:
            store.db.create_tables()
        with db_session(ddl=True):
            for sql in step.statements:
                store.db.execute(sql)
            store.db.SchemaVersion(version=step.version, description=step.description, applied_at=_now())
        applied.append(step)
    return applied


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
