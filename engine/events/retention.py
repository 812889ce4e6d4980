"""Outbox retention: events older than `O2C_EVENT_RETENTION_DAYS` (30) are removed, except those a
webhook delivery still needs, and a cursor that points before a removed event is refused with
`CURSOR_EXPIRED` rather than silently skipping what was removed.

Kept whatever their age:
- events not yet fanned out to webhook deliveries (after the fan-out cursor);
- events any webhook delivery refers to — pending ones are still to be sent, finished ones can be
  redelivered until delivery retention (14 days) removes them, after which the event may go;
- the newest event (on SQLite a row id can be reused once the highest row is gone; keeping it
  keeps positions growing).

The highest position ever removed is the **watermark** (kept, like the fan-out cursor, as a row of
the `lease` table that never expires). A cursor below it may have missed a removed event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.clock import stored
from engine.events.cursor import settled_events_after
from engine.queries.events import EventView
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from engine.webhooks.fanout import FANOUT_CURSOR, NEVER
from states.errors import DomainError, ValidationFailed

DEFAULT_DAYS = 30
WATERMARK = "events.pruned-through"
BATCH = 1000


class CursorExpired(DomainError):
    """The cursor points before events that retention has removed: replaying from it would skip them."""

    code = "CURSOR_EXPIRED"

    def __init__(self, position: int, watermark: int) -> None:
        super().__init__(
            "this cursor is older than the event retention: events after it were removed; "
            "start again without `after` (the oldest event kept) and reconcile from your own records"
        )
        self.position = position
        self.watermark = watermark


@dataclass(frozen=True)
class PruneResult:
    removed: int
    kept_for_webhooks: int  # old enough, but a webhook delivery (or the fan-out) still needs them
    watermark: int  # the highest position ever removed
    cutoff: datetime


def watermark(store: Store) -> int:
    with read_only(store) as uow:
        row = uow.Lease.get(name=WATERMARK)
        return int(row.holder) if row is not None else 0


def check_cursor(store: Store, position: int) -> None:
    """Raise `CursorExpired` if events after `position` were removed by retention."""
    mark = watermark(store)
    if position < mark:
        raise CursorExpired(position, mark)


def replay(
    store: Store, position: int | None, limit: int, types: Sequence[str] = (), subject: str | None = None
) -> list[EventView]:
    """Settled events after `position` (None: from the oldest kept), checked against the
    watermark before and after the read: a prune that commits between the check and the read
    would otherwise remove events after the cursor unseen. `CursorExpired` instead of a gap."""
    start = 0 if position is None else position
    if position is not None:
        check_cursor(store, position)
    batch = settled_events_after(store, start, limit, types, subject)
    if position is not None:
        check_cursor(store, position)
    return batch


def prune(store: Store, now: datetime, days: int = DEFAULT_DAYS, batch: int = BATCH) -> PruneResult:
    """Remove outbox events older than `days` that nothing still needs; batch by batch, each in
    its own transaction. Returns what was removed and the new watermark."""
    if days < 1:
        raise ValidationFailed("the event retention is at least 1 day", "days")
    cutoff = stored(now - timedelta(days=days))
    removed = kept = 0
    scanned = 0
    while True:
        start = scanned
        n, k, scanned, more = transact(store, lambda uow: _prune_batch(uow, cutoff, start, batch))  # noqa: B023
        removed, kept = removed + n, kept + k
        if not more:
            break
    return PruneResult(removed, kept, watermark(store), cutoff.replace(tzinfo=now.tzinfo))


def _prune_batch(uow: UnitOfWork, cutoff: datetime, after: int, batch: int) -> tuple[int, int, int, bool]:
    """(removed, kept, last position scanned, more to scan) for one batch after `after`."""
    newest = int(uow.select("SELECT COALESCE(MAX(id), 0) FROM outbox")[0])
    limit = newest - 1
    fanout = uow.Lease.get(name=FANOUT_CURSOR)
    if fanout is not None:
        limit = min(limit, int(fanout.holder))
    at = cutoff.isoformat(sep=" ", timespec="microseconds")
    candidates = [
        int(i)
        for i in uow.select(
            "SELECT id FROM outbox WHERE id > $after AND id <= $limit AND time < $cutoff ORDER BY id LIMIT $n",
            {"after": after, "limit": limit, "cutoff": at, "n": batch},
        )
    ]
    if not candidates:
        return 0, 0, after, False
    needed = {
        int(p)
        for p in uow.select(
            "SELECT DISTINCT event_position FROM webhook_delivery"
            " WHERE event_position >= $lo AND event_position <= $hi",
            {"lo": candidates[0], "hi": candidates[-1]},
        )
    }
    doomed = [i for i in candidates if i not in needed]
    for start in range(0, len(doomed), 500):
        chunk = doomed[start : start + 500]
        uow.execute(f"DELETE FROM outbox WHERE id IN ({', '.join(str(i) for i in chunk)})")
    if doomed:
        row = uow.Lease.get_for_update(name=WATERMARK)
        if row is None:
            uow.Lease(name=WATERMARK, holder=str(doomed[-1]), expires_at=NEVER)
        elif int(row.holder) < doomed[-1]:
            row.holder = str(doomed[-1])
    return len(doomed), len(candidates) - len(doomed), candidates[-1], len(candidates) == batch
