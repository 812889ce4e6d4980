"""One shared reader of the event log per process, fanning new events out to local subscribers.

Every subscriber used to poll the outbox on its own (100 subscribers: 100 queries per poll).
Now one `EventHub` per (store, event loop) reads each new outbox row once and hands it to the
bounded buffer of every local subscriber whose filters match. It still reads the log, never
process memory, so events committed by any other process are seen, in commit order, without gaps:
it only reads up to `stable_position` (see `engine.events.cursor`).

When does it read? On PostgreSQL it LISTENs on `o2c_outbox` (`engine.events.notify`): a trigger
on the outbox NOTIFYs at commit, so the hub wakes at once; a slow poll is the fallback (and the
only way when the trigger is absent). On SQLite it polls (`O2C_EVENT_POLL_SECONDS`, 0.1 s): one
`MAX(id)` per poll, and one read of the new rows when there are any. With no subscriber the hub
sleeps and reads nothing.

A subscriber (`follow`) first replays from its cursor straight from the log (no buffer: a slow
reader only slows its own replay), then joins the hub. From then on its buffer holds at most
`capacity` events (`O2C_SUBSCRIPTION_BUFFER`); if it overflows — a burst such as a cycle chunk,
or a consumer slower than the event rate — the buffer is dropped and the follower catches up from
the log, then rejoins. Memory stays bounded and nothing is skipped. A consumer that stops reading
altogether is closed by the API layer (schema/events/subscriptions.py), not here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import deque
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass

from engine.config import Settings
from engine.events.cursor import stable_position
from engine.events.notify import Listener, open_listener
from engine.events.retention import CursorExpired, watermark
from engine.queries.events import EventView, events_after
from engine.store.database import Store

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1  # SQLite, or PostgreSQL without the NOTIFY trigger
NOTIFY_FALLBACK_SECONDS = 1.0  # PostgreSQL with the trigger: a poll in case a NOTIFY was missed
MAX_RETRY_SECONDS = 0.8  # the horizon could not be taken (a long writer is open): back off, from the
# poll interval doubling up to this, so that a long transaction is not asked about 20 times a second
READ_BATCH = 500  # outbox rows per read, shared by every subscriber
REPLAY_BATCH = 100  # rows per read while one subscriber replays from its cursor
BUFFER = 1000  # live events waiting per subscriber; past it, the subscriber catches up from the log


@dataclass(frozen=True)
class Filter:
    types: tuple[str, ...] = ()
    subject: str | None = None
    customer_id: int | None = None

    def matches(self, e: EventView) -> bool:
        if self.types and e.type not in self.types:
            return False
        if self.subject is not None and e.subject != self.subject:
            return False
        return self.customer_id is None or e.customer_id == self.customer_id


class Subscriber:
    """A live subscriber's bounded buffer. The hub offers; the subscriber takes."""

    def __init__(self, filter: Filter, capacity: int) -> None:
        self.filter = filter
        self.capacity = capacity
        self.buffer: deque[EventView] = deque()
        self.overflowed = False
        self._ready = asyncio.Event()

    def offer(self, e: EventView) -> bool:
        """False once the buffer has overflowed (the hub then drops this subscriber)."""
        if self.overflowed:
            return False
        if not self.filter.matches(e):
            return True
        if len(self.buffer) >= self.capacity:
            self.overflowed = True
            self.buffer.clear()  # what it did not read is in the log; memory is released now
            self._ready.set()
            return False
        self.buffer.append(e)
        self._ready.set()
        return True

    async def take(self) -> EventView | None:
        """The next event, or None after an overflow."""
        while not self.buffer:
            if self.overflowed:
                return None
            self._ready.clear()
            await self._ready.wait()
        return None if self.overflowed else self.buffer.popleft()


@dataclass(frozen=True)
class HubStats:
    subscribers: int
    buffered: int
    position: int
    reads: int
    overflows: int
    slow_consumers: int
    listening: bool


class EventHub:
    """The process's single outbox reader for one store on one event loop."""

    def __init__(
        self,
        store: Store,
        *,
        poll_seconds: float = POLL_SECONDS,
        fallback_seconds: float = NOTIFY_FALLBACK_SECONDS,
        capacity: int = BUFFER,
        read_batch: int = READ_BATCH,
    ) -> None:
        self.store = store
        self.poll_seconds = poll_seconds
        self.fallback_seconds = fallback_seconds
        self.capacity = capacity
        self.read_batch = read_batch
        self.position = 0  # every event up to here has been offered to the live subscribers
        self.reads = 0  # outbox row reads (not horizon checks): one per batch of new events
        self.overflows = 0  # live buffers that overflowed (the follower caught up from the log)
        self.slow_consumers = 0  # consumers closed by the API for not reading (see schema/events)
        self._subscribers: set[Subscriber] = set()
        self._followers = 0  # replaying or live
        self._wake = asyncio.Event()
        self._start_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._listener: Listener | None = None
        self._idle = True

    # --- what subscribers call ---------------------------------------------------------------

    async def follow(self, after: int | None, filter: Filter = Filter()) -> AsyncGenerator[EventView, None]:
        """Events after `after` (None: only new ones) matching `filter`: replayed from the log,
        then live from the shared reader. If the live buffer overflows (a burst, or a consumer
        slower than the event rate), the buffer is dropped and this follower catches up from
        the log again, then rejoins: memory stays bounded and nothing is skipped. `CursorExpired`
        if retention removed events after where a replay batch starts (checked after each read)."""
        self._followers += 1
        subscriber: Subscriber | None = None
        try:
            await self._wake_up()
            position = self.position if after is None else after
            while True:
                while position < self.position:  # replay / catch up: read the log, up to the hub
                    top, start = self.position, position
                    batch = await asyncio.to_thread(
                        events_after,
                        self.store,
                        position,
                        REPLAY_BATCH,
                        filter.types,
                        filter.subject,
                        filter.customer_id,
                        until=top,
                    )
                    # A prune that committed before this read may have removed events after
                    # `start` (the caller's `check_cursor` came earlier): refuse, never skip.
                    mark = await asyncio.to_thread(watermark, self.store)
                    if start < mark:
                        raise CursorExpired(start, mark)
                    for e in batch:
                        position = e.position
                        yield e
                    if len(batch) < REPLAY_BATCH:
                        position = max(position, top)
                # No await between the check above and this line: every event after `position`
                # that the hub reads from now on is offered to this subscriber.
                subscriber = Subscriber(filter, self.capacity)
                self._subscribers.add(subscriber)
                while True:
                    live = await subscriber.take()
                    if live is None:  # overflowed
                        break
                    if live.position <= position:  # a cursor ahead of this process's reader
                        continue
                    position = live.position
                    yield live
                self._subscribers.discard(subscriber)
                subscriber = None
                self.overflows += 1
        finally:
            self._followers -= 1
            if subscriber is not None:
                self._subscribers.discard(subscriber)

    def record_slow_consumer(self) -> None:
        self.slow_consumers += 1

    def stats(self) -> HubStats:
        """Safe to call from another thread (metrics scrapes): it reads a copy."""
        subscribers = list(self._subscribers)
        return HubStats(
            subscribers=len(subscribers),
            buffered=sum(len(s.buffer) for s in subscribers),
            position=self.position,
            reads=self.reads,
            overflows=self.overflows,
            slow_consumers=self.slow_consumers,
            listening=self._listener is not None and self._listener.has_trigger,
        )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._close_listener()

    # --- the reader ----------------------------------------------------------------------------

    async def _wake_up(self) -> None:
        """Start the reader, or wake it from idle; its position is then a fresh horizon."""
        async with self._start_lock:
            if self._idle:
                self.position = await self._horizon_until_known()
                self._idle = False
            if self._task is None or self._task.done():
                if self.store.is_postgres and self._listener is None:
                    self._listener = await asyncio.to_thread(open_listener, self.store)
                    if self._listener is not None:
                        self._listener.attach(asyncio.get_running_loop(), self._wake.set)
                self._task = asyncio.create_task(self._run(), name="o2c-event-hub")
            self._wake.set()

    async def _horizon_until_known(self) -> int:
        failures = 0
        while True:
            top = await asyncio.to_thread(stable_position, self.store)
            if top is not None:
                return top
            await asyncio.sleep(self.retry_delay(failures))
            failures += 1

    def retry_delay(self, failures: int) -> float:
        """After `failures` horizons not granted in a row: the poll interval, doubled each time,
        capped at `MAX_RETRY_SECONDS` (never below the poll interval)."""
        return max(self.poll_seconds, min(MAX_RETRY_SECONDS, self.poll_seconds * 2.0 ** min(failures, 16)))

    def _interval(self) -> float:
        if self._listener is not None and self._listener.has_trigger:
            return self.fallback_seconds
        return self.poll_seconds

    async def _run(self) -> None:
        failures = 0  # horizons not granted in a row
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval())
            self._wake.clear()
            if self._followers == 0:
                async with self._start_lock:
                    if self._followers == 0:
                        self._idle = True
                continue
            try:
                settled = await self._read()
            except Exception:  # a database hiccup must not end every subscription
                log.exception("event hub read failed; retrying")
                settled = False
            if settled:
                failures = 0
            else:  # wake-ups that arrive meanwhile are kept (the event stays set), not acted on sooner
                await asyncio.sleep(self.retry_delay(failures))
                failures += 1
                self._wake.set()

    async def _read(self) -> bool:
        """Offer every new settled event; False if the horizon could not be taken."""
        while True:
            top = await asyncio.to_thread(stable_position, self.store)
            if top is None:
                return False
            if top <= self.position:
                return True
            if not self._subscribers:
                self.position = top  # followers are replaying; they read the log themselves
                return True
            rows = await asyncio.to_thread(events_after, self.store, self.position, self.read_batch, until=top)
            self.reads += 1
            self._offer(rows)
            if len(rows) < self.read_batch:
                self.position = top
                return True
            self.position = rows[-1].position

    def _offer(self, rows: Sequence[EventView]) -> None:
        for e in rows:
            for s in list(self._subscribers):
                if not s.offer(e):
                    self._subscribers.discard(s)

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None


_hubs: weakref.WeakKeyDictionary[Store, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventHub]] = (
    weakref.WeakKeyDictionary()
)


def hub_for(store: Store, settings: Settings | None = None) -> EventHub:
    """This process's hub for `store` on the running loop, with `O2C_EVENT_POLL_SECONDS`,
    `O2C_EVENT_NOTIFY_FALLBACK_SECONDS` and `O2C_SUBSCRIPTION_BUFFER` of `settings` when it is created."""
    loop = asyncio.get_running_loop()
    per_loop = _hubs.setdefault(store, weakref.WeakKeyDictionary())
    hub = per_loop.get(loop)
    if hub is None:
        env = settings or Settings()
        hub = per_loop[loop] = EventHub(
            store,
            poll_seconds=env.event_poll_seconds,
            fallback_seconds=env.event_notify_fallback_seconds,
            capacity=env.subscription_buffer,
        )
    return hub


def existing_hubs(store: Store) -> list[EventHub]:
    return list(_hubs.get(store, {}).values())
