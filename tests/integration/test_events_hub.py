"""The event hub against real databases: taking the stable position never queues outbox writers
behind a long transaction (PostgreSQL), it backs off when the position cannot be taken, and a
retention prune that commits after the cursor was checked gives CURSOR_EXPIRED, never a gap."""

from __future__ import annotations

import asyncio
import threading

import psycopg2
import pytest
from graphql_harness import codes, data, run
from test_events_retention import NOW, clean, publish

from engine.events import cursor
from engine.events.cursor import encode, stable_position
from engine.events.hub import MAX_RETRY_SECONDS, EventHub
from engine.events.retention import CursorExpired, check_cursor, prune
from engine.queries.events import last_position
from engine.services.context import Context
from engine.store.database import Store

__all__ = ["clean"]  # a fixture used by name
INSERT = (
    "INSERT INTO outbox (event_id, type, subject, entity_type, entity_id, entity_version, time, data)"
    " VALUES (%s, 'o2c.invoice.state_changed', 'invoices/1', 'invoice', 1, 1, now(), '{}')"
)


# --- the stable position and outbox writers (PostgreSQL) ----------------------------------------


def waiting_outbox_locks(dsn: str) -> int:
    probe = psycopg2.connect(dsn)
    try:
        with probe.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'relation'"
                " AND relation = 'outbox'::regclass AND NOT granted"
            )
            return int(cur.fetchone()[0])
    finally:
        probe.close()


@pytest.mark.postgres
def test_asking_for_the_stable_position_never_queues_a_lock_behind_a_long_outbox_writer(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A lock request would wait 10 s here (not 50 ms), so that one in the queue cannot go unseen.
    monkeypatch.setattr(cursor, "LOCK_TIMEOUT_MS", 10_000)
    store = Store(pg_database)
    long = psycopg2.connect(pg_database)
    try:
        with long.cursor() as cur:  # a cycle chunk: an outbox insert, its transaction left open
            cur.execute(INSERT, ("long-writer",))
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        probe = psycopg2.connect(pg_database)
        with probe.cursor() as cur:  # wait until it is older than the lock timeout the hub allows
            while True:
                cur.execute(
                    "SELECT clock_timestamp() - xact_start > interval '200 ms' FROM pg_stat_activity WHERE pid = %s",
                    (pid,),
                )
                if cur.fetchone()[0]:
                    break
                probe.rollback()
        probe.close()

        result: list[int | None] = []
        asking = threading.Thread(target=lambda: result.append(stable_position(store)))
        asking.start()
        queued = 0
        while asking.is_alive():
            queued = max(queued, waiting_outbox_locks(pg_database))
        asking.join()
        assert result == [None]  # the long writer is open: no horizon yet
        assert queued == 0  # and nobody waited in the lock queue, so no writer queued behind it

        small = psycopg2.connect(pg_database)  # a small writer commits meanwhile
        with small.cursor() as cur:
            cur.execute("SET lock_timeout = '5s'")
            cur.execute(INSERT, ("small-writer",))
        small.commit()
        small.close()
        long.commit()
        assert stable_position(store) == last_position(store)  # once it ends, the horizon moves
    finally:
        long.close()
        store.disconnect()


def test_a_hub_that_cannot_take_the_horizon_backs_off_from_its_poll_interval(store: Store) -> None:
    hub = EventHub(store, poll_seconds=0.1)
    delays = [hub.retry_delay(n) for n in range(8)]
    assert delays[:4] == pytest.approx([0.1, 0.2, 0.4, 0.8])
    assert max(delays) == MAX_RETRY_SECONDS
    assert delays == sorted(delays)
    slow = EventHub(store, poll_seconds=5.0)
    assert all(slow.retry_delay(n) == 5.0 for n in range(5))  # never faster than the poll


# --- retention racing a replay ------------------------------------------------------------------


def test_a_prune_committed_after_the_cursor_check_fails_the_subscription_replay_with_cursor_expired(
    clean: Store,
) -> None:
    before = last_position(clean)
    publish(clean, 40, 3)
    publish(clean, 1, 2)
    check_cursor(clean, before)  # the subscription checked its cursor: fine so far
    assert prune(clean, NOW, days=30).removed == 3  # then a prune commits

    async def first_replayed() -> int:
        hub = EventHub(clean)
        stream = hub.follow(before)
        try:
            return (await anext(stream)).position  # without the re-check: the first kept event
        finally:
            await stream.aclose()
            await hub.close()

    with pytest.raises(CursorExpired):
        asyncio.run(first_replayed())


def test_a_prune_committed_between_the_cursor_check_and_the_read_fails_the_events_query(
    ctx: Context, clean: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = last_position(clean)
    publish(clean, 40, 3)
    publish(clean, 1, 2)
    real = cursor.events_after

    def pruned_first(*args: object, **kwargs: object) -> object:
        prune(clean, NOW, days=30)  # commits after the query's first check, before its read
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cursor, "events_after", pruned_first)
    query = "query($after: String) { events(after: $after) { events { cursor } } }"
    assert codes(run(ctx, query, {"after": encode(before)}, role="integrator")) == ["CURSOR_EXPIRED"]
    monkeypatch.setattr(cursor, "events_after", real)
    assert data(run(ctx, query, {"after": None}, role="integrator"))["events"]["events"]  # the rest is served
