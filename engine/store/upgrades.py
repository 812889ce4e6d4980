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

# Step 12: rows written before tasks had a subject get one; the duplicates the old cycle wrote every
# day (one open task per rule and day) are cancelled, keeping the oldest, before the index forbids them.
TASK_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("collector_task", "subject", "VARCHAR(32)"),
    ("collector_task", "source", "VARCHAR(16)"),
    ("collector_task", "assignee", "VARCHAR(200)"),
    ("collector_task", "due_on", "DATE"),
    ("collector_task", "snoozed_until", "DATE"),
    ("collector_task", "outcome", "VARCHAR(32)"),
    ("collector_task", "result_note", "VARCHAR(2000)"),
    ("collector_task", "handover", "TEXT"),
    ("collector_task", "version", "INTEGER"),
    ("collector_task", "updated_at", "TIMESTAMP"),
)
TASK_UPGRADE_SQL: tuple[str, ...] = (
    "UPDATE collector_task SET subject = CASE WHEN invoice IS NULL THEN 'customer:' || CAST(customer AS TEXT) "
    "ELSE 'invoice:' || CAST(invoice AS TEXT) END WHERE subject IS NULL",
    "UPDATE collector_task SET source = 'rule' WHERE source IS NULL",
    "UPDATE collector_task SET version = 1 WHERE version IS NULL",
    "UPDATE collector_task SET status = 'cancelled' WHERE status = 'open' AND id NOT IN "
    "(SELECT MIN(id) FROM collector_task WHERE status = 'open' GROUP BY subject, queue)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_task_unfinished ON collector_task (subject, queue) "
    "WHERE status IN ('open', 'in_progress', 'snoozed')",
    "CREATE INDEX IF NOT EXISTS idx_task_queue ON collector_task (queue, status)",
    "CREATE INDEX IF NOT EXISTS idx_task_assignee ON collector_task (assignee, status)",
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
        "webhook endpoints: the secret before the last rotation (both sign for a day), the start of a failing streak",
        add_columns=(
            ("webhook_endpoint", "previous_secret", "VARCHAR(200)"),
            ("webhook_endpoint", "secret_rotated_at", "TIMESTAMP"),
            ("webhook_endpoint", "failing_since", "TIMESTAMP"),
        ),
    ),
    Step(
        12,
        "tasks as a machine: subject, assignee, snooze, outcome, hand-over; one unfinished task per subject and queue",
        TASK_UPGRADE_SQL,
        add_columns=TASK_COLUMNS,
    ),
    Step(13, "dunning blocks per customer or invoice, with a reason and an optional end date", create_tables=True),
    Step(
        14,
        "disputes: an owner and comments; credit notes: a number",
        ("CREATE UNIQUE INDEX IF NOT EXISTS uq_credit_note_number ON credit_note (number)",),
        create_tables=True,
        add_columns=(("dispute", "owner", "VARCHAR(200)"), ("credit_note", "number", "VARCHAR(32)")),
    ),
    Step(
        15,
        "the customer timeline: notes, logged calls, attachments",
        ("CREATE INDEX IF NOT EXISTS idx_customer_note_at ON customer_note (customer, at)",),
        create_tables=True,
    ),
    Step(
        16,
        "collectors: portfolios of customers, keys that act as a collector",
        ("CREATE INDEX IF NOT EXISTS idx_customer_collector ON customer (collector)",),
        create_tables=True,
        add_columns=(
            ("customer", "collector", "INTEGER"),
            ("customer", "collector_assigned_by", "VARCHAR(16)"),
            ("api_key", "collector", "INTEGER"),
        ),
    ),
    Step(
        17,
        "credit holds: the exception a person's release of an automatic reason makes, until a date",
        add_columns=(("credit_hold", "exception_until", "DATE"),),
    ),
    Step(18, "write-off requests above a role's limit, approved by another person", create_tables=True),
    Step(
        19,
        "payment predictions: models, per-invoice predictions, cash forecast and KPI snapshots",
        create_tables=True,
    ),
    Step(
        20,
        "notice delivery: attempts, retry time, sender lease, what the channel said",
        ("CREATE INDEX IF NOT EXISTS idx_notice_message_due ON notice_message (state, next_attempt_at)",),
        add_columns=(
            ("notice_message", "delivery", "VARCHAR(500)"),
            ("notice_message", "attempts", "INTEGER NOT NULL DEFAULT 0"),
            ("notice_message", "next_attempt_at", "TIMESTAMP"),
            ("notice_message", "lease_until", "TIMESTAMP"),
        ),
    ),
    Step(
        21,
        "bounces: a contact's channels whose address was refused",
        add_columns=(("contact", "invalid_channels", "VARCHAR(100) NOT NULL DEFAULT ''"),),
    ),
    Step(
        22,
        "deductions: a dispute names the short payment whose difference it contests",
        ("CREATE INDEX IF NOT EXISTS idx_dispute__payment ON dispute (payment)",),
        add_columns=(("dispute", "payment", "INTEGER REFERENCES payment (id)"),),
    ),
    Step(
        23,
        "send windows: a customer's country and subdivision (its holiday calendar); why a message waits",
        add_columns=(
            ("customer", "country", "VARCHAR(2)"),
            ("customer", "subdivision", "VARCHAR(32)"),
            ("notice_message", "waiting", "VARCHAR(200)"),
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
