"""Schema versions. Pony has no migrations: every change to the schema is an explicit step here,
applied in order, each recorded in `schema_version` in the same transaction as its DDL."""

from __future__ import annotations

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
    add_columns: tuple[tuple[str, str, str], ...] = ()  # (table, column, SQL type), when missing
    postgres_only: tuple[str, ...] = ()  # statements SQLite has no counterpart for (triggers calling NOTIFY)


# The trigger the event hub listens to (`engine.events.notify`): PostgreSQL delivers a NOTIFY only
# when its transaction commits, so a listener wakes exactly when new events became visible.
OUTBOX_NOTIFY_CHANNEL = "o2c_outbox"
OUTBOX_NOTIFY_TRIGGER = "outbox_notify"
OUTBOX_NOTIFY_SQL: tuple[str, ...] = (
    "CREATE OR REPLACE FUNCTION o2c_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN PERFORM pg_notify('{OUTBOX_NOTIFY_CHANNEL}', ''); RETURN NULL; END $$",
    f"DROP TRIGGER IF EXISTS {OUTBOX_NOTIFY_TRIGGER} ON outbox",
    f"CREATE TRIGGER {OUTBOX_NOTIFY_TRIGGER} AFTER INSERT ON outbox"
    " FOR EACH STATEMENT EXECUTE FUNCTION o2c_outbox_notify()",
)

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
    Step(
        5,
        "invoice.last_cycle_on: the daily cycle acts once per invoice and business date",
        ("CREATE INDEX IF NOT EXISTS idx_invoice_last_cycle ON invoice (last_cycle_on)",),
        add_columns=(("invoice", "last_cycle_on", "DATE"),),
    ),
    Step(6, "webhook endpoints, deliveries and attempts", create_tables=True),
    Step(7, "cycle partitions: workers claim slices of customers of one business date", create_tables=True),
    Step(
        8,
        "outbox NOTIFY on commit wakes subscriptions (PostgreSQL); deliveries indexed by event for pruning",
        ("CREATE INDEX IF NOT EXISTS idx_webhook_delivery_event ON webhook_delivery (event_position)",),
        postgres_only=OUTBOX_NOTIFY_SQL,
    ),
    Step(
        9,
        "cash application: bank transactions, payer aliases, allocation.short_paid",
        create_tables=True,
        add_columns=(("allocation", "short_paid", "BIGINT NOT NULL DEFAULT 0"),),
    ),
    Step(
        10,
        "contacts (the customer email becomes a billing contact); notices become messages with lines",
        (
            "INSERT INTO contact (customer, role, email, opt_out, version, created_at) "
            "SELECT id, 'billing', email, '[]', 1, created_at FROM customer WHERE email IS NOT NULL AND email <> ''",
            # notices requested before this step were never rendered: they stay as cancelled messages
            "INSERT INTO notice_message (customer, channel, business_date, group_key, state, template, strategy, "
            "error, attempts, version, created_at, updated_at) SELECT customer, channel, business_date, 'customer', "
            "'cancelled', MIN(template), MIN(strategy), "
            "'requested before notices were rendered (schema step 10)', 0, 1, "
            "MIN(created_at), MIN(created_at) FROM notice WHERE message IS NULL "
            "GROUP BY customer, channel, business_date",
            "UPDATE notice SET message = (SELECT m.id FROM notice_message m WHERE m.customer = notice.customer "
            "AND m.business_date = notice.business_date AND m.channel = notice.channel AND m.group_key = 'customer') "
            "WHERE message IS NULL",
        ),
        create_tables=True,
        add_columns=(("notice", "message", "BIGINT"),),
    ),
    Step(
        11,
        "notice delivery: attempts, retry time, sender lease, what the channel said",
        ("CREATE INDEX IF NOT EXISTS idx_notice_message_due ON notice_message (state, next_attempt_at)",),
        add_columns=(
            ("notice_message", "delivery", "VARCHAR(500)"),
            ("notice_message", "attempts", "INTEGER NOT NULL DEFAULT 0"),
            ("notice_message", "next_attempt_at", "TIMESTAMP"),
            ("notice_message", "lease_until", "TIMESTAMP"),
        ),
    ),
]

LATEST = STEPS[-1].version


def _has_version_table(store: Store) -> bool:
    return bool(store.db.provider.table_exists(store.db.get_connection(), "schema_version"))


def _has_column(store: Store, table: str, column: str) -> bool:
    if store.is_postgres:
        rows = store.db.select(
            "SELECT 1 FROM information_schema.columns WHERE table_name = $t AND column_name = $c",
            {"t": table, "c": column},
        )
        return bool(rows)
    cursor = store.db.get_connection().cursor()
    cursor.execute(f"PRAGMA table_info({table})")
    return any(row[1] == column for row in cursor.fetchall())


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
            for table, column, sql_type in step.add_columns:
                if not _has_column(store, table, column):
                    store.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")
            for sql in step.statements + (step.postgres_only if store.is_postgres else ()):
                store.db.execute(sql.replace("$", "$$"))  # Pony reads `$name` as a parameter; `$$` is a `$`
            store.db.SchemaVersion(version=step.version, description=step.description, applied_at=_now())
        applied.append(step)
    return applied


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
