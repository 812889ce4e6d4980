"""`events(after, types, subject, customerId)`: replay from a cursor, then live, over
graphql-transport-ws.

Events come from the process's shared `EventHub` (engine/events/hub.py), which reads the outbox —
not process memory — so subscribers on any replica see events committed through any other.
Limits, documented in docs/events.md:
- at most `O2C_MAX_SUBSCRIPTIONS_PER_CONNECTION` (10) at once per connection; the next one gets
  an error with code `TOO_MANY_SUBSCRIPTIONS`;
- a consumer that leaves a message unread for `O2C_SUBSCRIPTION_STALL_SECONDS` (10) — its socket
  buffers are full and the server cannot send — is too slow: the connection is closed with code
  4008 and a JSON reason naming the cursor to resume after (the last event sent before the close).
  Its server-side buffer is bounded whatever it does (`O2C_SUBSCRIPTION_BUFFER`, see the hub).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable

import strawberry

from engine.events.cursor import decode, encode
from engine.events.hub import Filter, hub_for
from engine.events.retention import check_cursor
from engine.journal.catalogue import check_event_types
from engine.queries.events import EventView
from schema.context import Info, RequestContext
from schema.events.types import Event
from schema.ids import parse_id
from schema.permissions import CanSubscribe
from states.errors import DomainError

log = logging.getLogger(__name__)

SLOW_CONSUMER_CLOSE_CODE = 4008
SLOW_CONSUMER = "SLOW_CONSUMER"
_CACHE = 2048  # recently built `Event`s, shared by every subscriber of this process


class TooManySubscriptions(DomainError):
    code = "TOO_MANY_SUBSCRIPTIONS"


_active: dict[int, int] = {}  # id(connection context) -> subscriptions running on it
_built: OrderedDict[tuple[int, str], Event] = OrderedDict()


class _Slot:
    """One of a connection's subscription slots, taken when the `subscribe` message is handled —
    in message order, before any await — and given back exactly once: when the stream ends, when
    its arguments are refused, or when a stream that never started is collected."""

    def __init__(self, ctx: RequestContext, limit: int) -> None:
        self.key = id(ctx)  # one context per WebSocket connection
        if _active.get(self.key, 0) >= limit:
            raise TooManySubscriptions(
                f"at most {limit} subscriptions at once per connection; complete one, or open another connection"
            )
        _active[self.key] = _active.get(self.key, 0) + 1
        self.held = True

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        left = _active.get(self.key, 1) - 1
        if left > 0:
            _active[self.key] = left
        else:
            _active.pop(self.key, None)


def _event(e: EventView, source: str) -> Event:
    """Build each event's GraphQL object once per process, not once per subscriber."""
    key = (e.position, source)
    built = _built.get(key)
    if built is None:
        built = _built[key] = Event.of(e, source)
        if len(_built) > _CACHE:
            _built.popitem(last=False)
    return built


def slow_consumer_reason(position: int) -> str:
    """The close reason (≤ 123 bytes): JSON with the code and the cursor to resume after."""
    return json.dumps({"code": SLOW_CONSUMER, "after": encode(position)}, separators=(",", ":"))


async def _close_slow(ctx: RequestContext, position: int) -> None:
    log.warning("closing a stalled event subscriber; it resumes after position %d", position)
    close = getattr(ctx.request, "close", None)
    if close is not None:
        with contextlib.suppress(RuntimeError):  # already closed
            await close(code=SLOW_CONSUMER_CLOSE_CODE, reason=slow_consumer_reason(position))


class _Stall:
    """Closes the connection when one message stays unsent for `seconds`. The message in flight
    was handed to the sender first, so it is written before the close frame: the close names it."""

    def __init__(self, ctx: RequestContext, seconds: float, on_close: Callable[[], None]) -> None:
        self.ctx, self.seconds, self.on_close = ctx, seconds, on_close
        self.timer: asyncio.TimerHandle | None = None
        self.closing: asyncio.Task[None] | None = None

    def arm(self, position: int) -> None:
        self.timer = asyncio.get_running_loop().call_later(self.seconds, self._fire, position)

    def disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _fire(self, position: int) -> None:
        self.timer = None
        if self.closing is None:
            self.on_close()
            self.closing = asyncio.create_task(_close_slow(self.ctx, position))


@strawberry.type
class EventSubscriptions:
    @strawberry.subscription(
        permission_classes=[CanSubscribe],
        description=(
            "Events after `after` (default: only new ones), then new events as they commit. Every event "
            "carries its `cursor`. A consumer that stops reading is closed with code 4008 and a JSON reason "
            "naming the cursor to resume after; a cursor older than the retention fails with "
            "CURSOR_EXPIRED; at most O2C_MAX_SUBSCRIPTIONS_PER_CONNECTION (10) per connection."
        ),
    )
    async def events(
        self,
        info: Info,
        after: str | None = None,
        types: list[str] | None = None,
        subject: str | None = None,
        customer_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[Event, None]:
        # The arguments are judged here, before the stream exists: a bad one is then a pre-execution
        # error — an `error` message for this operation, as a NUL in any argument is — not a `next`.
        ctx = info.context
        customer = parse_id(customer_id, "customerId") if customer_id is not None else None
        check_event_types(types or (), "types")
        position = decode(after) if after is not None else None
        slot = _Slot(ctx, ctx.engine.settings.max_subscriptions_per_connection)
        try:
            if position is not None:
                await ctx.run(check_cursor, ctx.store, position)
        except BaseException:
            slot.release()
            raise
        stream = _follow(ctx, position, Filter(tuple(types or ()), subject, customer), slot)
        weakref.finalize(stream, slot.release)  # a stream completed before it started never runs its finally
        return stream


async def _follow(
    ctx: RequestContext, position: int | None, wanted: Filter, slot: _Slot
) -> AsyncGenerator[Event, None]:
    env = ctx.engine.settings
    try:
        hub = hub_for(ctx.store, env)
        stall = _Stall(ctx, env.subscription_stall_seconds, hub.record_slow_consumer)
        stream = hub.follow(position, wanted)
        try:
            async for e in stream:
                stall.arm(e.position)
                yield _event(e, env.source)  # resumes once the message is written to the socket
                stall.disarm()
        finally:
            stall.disarm()
            await stream.aclose()
    finally:
        slot.release()
