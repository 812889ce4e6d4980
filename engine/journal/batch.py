"""The bulk variant of `engine.journal`: the same history and outbox rows, field for field,
collected in memory and written with two set-based inserts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.clock import stored
from engine.journal import ENTITY_PATHS, transition_data
from engine.journal.catalogue import event_type as catalogued
from engine.store.bulk import Bulk, new_event_id
from engine.store.database import Store
from engine.store.dialect import execute_many
from engine.tracing import traceparent
from states.actors import Actor

HISTORY_COLUMNS = (
    "entity_type",
    "entity_id",
    "entity_version",
    "from_state",
    "to_state",
    "trigger",
    "actor",
    "cause",
    "facts",
    "reason",
    "at",
)
OUTBOX_COLUMNS = (
    "event_id",
    "type",
    "subject",
    "entity_type",
    "entity_id",
    "entity_version",
    "customer_id",
    "time",
    "data",
)


class JournalBatch:
    """Collects transitions and events; `write()` inserts them in the caller's transaction."""

    def __init__(self, bulk: Bulk) -> None:
        self.bulk = bulk
        self.history: list[tuple[Any, ...]] = []
        self.outbox: list[tuple[Any, ...]] = []
        self._at: tuple[datetime, Any] | None = None
        self._causes: dict[str, tuple[dict[str, Any], str]] = {}

    def _moment(self, at: datetime) -> Any:
        """Most rows of a batch share one time: adapt it once."""
        if self._at is None or self._at[0] is not at:
            self._at = (at, self.bulk.moment(stored(at)))
        return self._at[1]

    def emit(
        self,
        *,
        type: str,
        entity_type: str,
        entity_id: int,
        entity_version: int,
        customer_id: int | None,
        at: datetime,
        data: dict[str, Any],
    ) -> None:
        """Like `engine.journal.emit`."""
        b = self.bulk
        self.outbox.append(
            (
                new_event_id(),
                catalogued(type).name,
                f"{ENTITY_PATHS[entity_type]}/{entity_id}",
                entity_type,
                entity_id,
                entity_version,
                customer_id,
                self._moment(at),
                b.json({**data, "entityVersion": entity_version}),
            )
        )

    def transition(
        self,
        *,
        entity_type: str,
        entity_id: int,
        entity_version: int,
        customer_id: int | None,
        from_state: str | None,
        to_state: str,
        trigger: str,
        actor: Actor,
        at: datetime,
        cause: dict[str, Any] | None = None,
        facts: dict[str, Any] | None = None,
        reason: str | None = None,
        snapshot: dict[str, Any] | None = None,
        event_type: str | None = None,
    ) -> None:
        """Like `engine.journal.record_transition`: one history row and its outbox event."""
        b = self.bulk
        if cause is None:
            key = str(actor)
            if key not in self._causes:
                default = actor.cause()
                self._causes[key] = (default, b.json(default))
            cause, cause_json = self._causes[key]
        else:
            cause_json = b.json(cause)
        self.history.append(
            (
                entity_type,
                entity_id,
                entity_version,
                from_state,
                to_state,
                trigger,
                str(actor),
                cause_json,
                b.json(facts) if facts else "{}",
                reason,
                self._moment(at),
            )
        )
        self.emit(
            type=event_type or f"o2c.{entity_type}.state_changed",
            entity_type=entity_type,
            entity_id=entity_id,
            entity_version=entity_version,
            customer_id=customer_id,
            at=at,
            data=transition_data(from_state, to_state, trigger, actor, cause, reason, snapshot),
        )

    def write(self) -> tuple[int, int]:
        """Insert what was collected; returns (history rows, outbox rows)."""
        counts = (len(self.history), len(self.outbox))
        self.bulk.insert("transition_history", HISTORY_COLUMNS, self.history)
        self.bulk.insert("outbox", OUTBOX_COLUMNS, self.outbox)
        self.history, self.outbox = [], []
        return counts


def insert_journal(
    store: Store, cur: Any, history: Sequence[tuple[Any, ...]], outbox: Sequence[tuple[Any, ...]]
) -> None:
    """History and outbox rows already encoded (the cycle's writer builds them as text), in
    `HISTORY_COLUMNS` / `OUTBOX_COLUMNS` order, set-based on the caller's cursor."""
    for type_ in {row[1] for row in outbox}:
        catalogued(type_)
    parent = traceparent()
    if parent:  # inside a span (a cycle chunk): each event names the trace of the change that caused it
        outbox = [(*row[:-1], f'{str(row[-1])[:-1]}, "traceparent": "{parent}"}}') for row in outbox]
    for table, columns, rows in (("transition_history", HISTORY_COLUMNS, history), ("outbox", OUTBOX_COLUMNS, outbox)):
        marks = ",".join("?" * len(columns))
        execute_many(store, cur, f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
