"""The webhook dispatcher: claim due deliveries with a lease, send them signed, record every
attempt, schedule retries.

Claiming is one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)` on PostgreSQL (several
dispatchers never take the same row) and the same statement without the locking clause on
SQLite (one writer at a time). A claim holds a lease (`lease_holder` = this claim's token,
`lease_until`); a dispatcher that dies after sending and before recording leaves the lease to
lapse, and the delivery is sent again — with the same `webhook-id`, the CloudEvent id, so the
receiver deduplicates it. Delivery is therefore at least once.

Outcomes: 2xx succeeds. 410 disables the endpoint (the delivery stays pending and resumes if
the endpoint is enabled again; the rest of the claimed batch for that endpoint is given back
unsent). Any other 4xx except 408 and 429 is final (dead). 408, 429,
5xx, other statuses, timeouts and connection errors are retried on `SCHEDULE` (±10 % jitter),
never sooner than a `Retry-After` the receiver sent; after the last retry the delivery is dead.
`O2C_WEBHOOK_RETRY_SCALE` multiplies every wait (0.001 turns the day-long schedule into seconds).
Before every attempt the URL's host is resolved again and refused unless public
(`engine.webhooks.destinations`); a refused destination counts as a failed attempt.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from standardwebhooks import Webhook

from engine import log_context
from engine.clock import Clock, loaded, stored
from engine.events.envelope import STRUCTURED_CONTENT_TYPE, to_json
from engine.queries.events import EventView
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, transact
from engine.tracing import set_attribute, span
from engine.webhooks.deliveries import prune
from engine.webhooks.destinations import check_destination
from engine.webhooks.endpoints import signing_secrets
from engine.webhooks.fanout import fan_out
from states.errors import ValidationFailed

log = logging.getLogger(__name__)

# Seconds to wait after failed attempt n (n = 1…10); attempt 11 failing makes the delivery dead.
SCHEDULE: tuple[int, ...] = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600, 24 * 3600)
MAX_ATTEMPTS = len(SCHEDULE) + 1
JITTER = 0.10
MAX_RETRY_AFTER = 24 * 3600
RETRYABLE_4XX = frozenset({408, 429})
PRUNE_EVERY = 600  # rounds between removals of finished deliveries past retention
USER_AGENT = "o2c-engine-webhooks/1"
GONE = "gone"  # what `deliver` returns after a 410: the endpoint is disabled


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    token: str  # the lease holder written by this claim
    endpoint_id: int
    url: str
    secrets: tuple[str, ...]  # the current secret, and the previous one within a day of a rotation
    attempts: int  # made before this one
    event: EventView


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    retry_after: float | None
    duration_ms: int


def retry_delay(failed_attempts: int, rng: random.Random, scale: float = 1.0) -> float | None:
    """Seconds until the next attempt after `failed_attempts` failures; None when exhausted.
    `scale` (`O2C_WEBHOOK_RETRY_SCALE`) shrinks or stretches the whole schedule, same attempts."""
    if failed_attempts >= MAX_ATTEMPTS:
        return None
    base = SCHEDULE[failed_attempts - 1] * scale
    return float(base * rng.uniform(1 - JITTER, 1 + JITTER))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """`Retry-After: <seconds>` or an HTTP date; capped at a day; None if absent or malformed."""
    if not value:
        return None
    value = value.strip()
    seconds: float
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return max(0.0, min(seconds, float(MAX_RETRY_AFTER)))


def sign(secrets: str | Sequence[str], msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers for `body` (each signature covers id, timestamp and body); with
    several secrets, `webhook-signature` lists one signature per secret, space-separated."""
    keys = (secrets,) if isinstance(secrets, str) else tuple(secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(Webhook(k).sign(msg_id, at.astimezone(UTC), body.decode()) for k in keys),
    }


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    """`run_once()` fans out, claims up to `batch` due deliveries and sends them; `run()` loops.

    `clock` decides what is due and when to retry; signatures use the wall clock (receivers
    check the timestamp against theirs). `after_send` is a fault hook for tests: it runs after
    the receiver answered and before the outcome is recorded.
    """

    def __init__(
        self,
        store: Store,
        *,
        source: str = "urn:o2c-engine",
        clock: Clock | None = None,
        holder: str | None = None,
        timeout: float = 10.0,
        batch: int = 10,
        lease_seconds: float | None = None,
        client: httpx.Client | None = None,
        rng: random.Random | None = None,
        after_send: Callable[[Claimed, Outcome], None] | None = None,
        allow_private: bool = False,
        retry_scale: float = 1.0,
        disable_after: timedelta = timedelta(days=5),
    ) -> None:
        self.store = store
        self.disable_after = disable_after  # an endpoint failing this long without a success is disabled
        self.source = source
        self.clock = clock or Clock()
        self.holder = holder or default_holder()
        self.timeout = timeout
        self.batch = batch
        # Sends are sequential: the lease must outlast a whole batch of timeouts.
        self.lease_seconds = lease_seconds if lease_seconds is not None else batch * (timeout + 1) + 30
        self.client = client or httpx.Client(follow_redirects=False)
        self._owns_client = client is None
        self.rng = rng or random.Random()
        self.after_send = after_send
        self.allow_private = allow_private
        self.retry_scale = retry_scale
        self._claims = itertools.count(1)
        self._rounds = 0

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    # --- the loop -------------------------------------------------------------------------

    def run_once(self) -> int:
        """One round; returns the number of deliveries attempted."""
        fan_out(self.store, self.clock.now())
        self._rounds += 1
        if self._rounds % PRUNE_EVERY == 1:
            prune(self.store, self.clock.now())
        claimed = self.claim()
        gone: set[int] = set()  # endpoints that answered 410 in this round: nothing more goes there
        for c in claimed:
            if c.endpoint_id in gone:
                self.release(c)
            elif self.deliver(c) == GONE:
                gone.add(c.endpoint_id)
        return len(claimed)

    def run(self, stop: threading.Event, idle_seconds: float = 1.0) -> None:
        while not stop.is_set():
            try:
                with log_context.bound(operation_name="webhooks"):
                    busy = self.run_once()
            except Exception:
                log.exception("dispatcher round failed; retrying")
                busy = 0
            if not busy:
                stop.wait(idle_seconds)

    # --- claim, send, record -----------------------------------------------------------------

    def _track_failures(
        self, uow: UnitOfWork, endpoint_id: int, success: bool, outcome: Outcome, now: datetime
    ) -> None:
        """A success ends the endpoint's failing streak; a failure starts one, and a streak as long
        as `disable_after` disables the endpoint with the reason (its deliveries wait)."""
        endpoint = uow.WebhookEndpoint.get_for_update(id=endpoint_id)
        if success:
            endpoint.failing_since = None
            return
        if endpoint.failing_since is None:
            endpoint.failing_since = stored(now)
            return
        since = loaded(endpoint.failing_since)
        if endpoint.enabled and now - since >= self.disable_after:
            endpoint.enabled = False
            endpoint.disabled_reason = (
                f"every attempt failed for {self.disable_after.days} days in a row (since "
                f"{since:%Y-%m-%d %H:%M} UTC; last: {_failure(outcome)})"
            )[:200]
            log.warning("webhook endpoint %d disabled: %s", endpoint_id, endpoint.disabled_reason)

    def claim(self) -> list[Claimed]:
        now = self.clock.now()
        token = f"{self.holder}#{next(self._claims)}"
        lock = "FOR UPDATE OF d SKIP LOCKED" if self.store.is_postgres else ""
        sql = (
            "UPDATE webhook_delivery SET lease_holder = $token, lease_until = $until WHERE id IN ("
            " SELECT d.id FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint"
            " WHERE d.status = 'pending' AND e.enabled AND d.next_attempt_at <= $now"
            " AND (d.lease_until IS NULL OR d.lease_until <= $now)"
            f" ORDER BY d.next_attempt_at, d.id LIMIT $n {lock})"
        )
        params = {
            "token": token,
            "until": _sql_time(now + timedelta(seconds=self.lease_seconds)),
            "now": _sql_time(now),
            "n": self.batch,
        }

        def work(uow: UnitOfWork) -> list[Claimed]:
            uow.execute(sql, params)
            out: list[Claimed] = []
            for d in uow.WebhookDelivery.select(lambda d: d.lease_holder == token).order_by(lambda d: d.id):
                out.append(
                    Claimed(
                        delivery_id=d.id,
                        token=token,
                        endpoint_id=d.endpoint.id,
                        url=d.endpoint.url,
                        secrets=signing_secrets(d.endpoint, now),
                        attempts=d.attempts,
                        event=_event(uow, d.event_position),
                    )
                )
            return out

        return transact(self.store, work)

    def deliver(self, c: Claimed) -> str:
        """Send one claimed delivery and record the outcome; returns the delivery's status
        (GONE when the receiver answered 410 and the endpoint was disabled)."""
        attributes = {"o2c.event.type": c.event.type, "o2c.event.id": c.event.id, "o2c.webhook.endpoint": c.endpoint_id}
        with span("o2c.webhook.deliver", attributes) as current:
            attempted_at = self.clock.now()
            outcome = self.send(c)
            if outcome.status_code is not None:
                set_attribute(current, "http.response.status_code", outcome.status_code)
            if self.after_send is not None:
                self.after_send(c, outcome)
            status = self.record(c, outcome, attempted_at)
            return GONE if outcome.status_code == 410 else status

    def release(self, c: Claimed) -> None:
        """Give a claimed delivery back unsent (its endpoint went away during the batch)."""

        def work(uow: UnitOfWork) -> None:
            d = uow.WebhookDelivery.get_for_update(id=c.delivery_id)
            if d is not None and d.lease_holder == c.token:
                d.lease_holder, d.lease_until = None, None

        transact(self.store, work)

    def send(self, c: Claimed) -> Outcome:
        try:  # DNS may have changed since registration: the destination is checked every time
            check_destination(c.url, self.allow_private)
        except ValidationFailed as refused:
            return Outcome(None, f"refused destination: {refused.message}"[:2000], None, 0)
        body = to_json(c.event, self.source)
        headers = {
            "content-type": STRUCTURED_CONTENT_TYPE,
            "user-agent": USER_AGENT,
            **sign(c.secrets, c.event.id, datetime.now(UTC), body),
        }
        started = time.perf_counter()
        try:
            response = self.client.post(c.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException as exc:
            return Outcome(None, f"timeout after {self.timeout:g} s ({type(exc).__name__})", None, _ms(started))
        except httpx.ConnectError as exc:
            return Outcome(None, f"could not connect: {exc}"[:2000], None, _ms(started))
        except httpx.HTTPError as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}"[:2000], None, _ms(started))
        error = None if response.is_success else f"HTTP {response.status_code}: {response.text[:500]}"
        retry_after = parse_retry_after(response.headers.get("retry-after"), self.clock.now())
        return Outcome(response.status_code, error, retry_after, _ms(started))

    def record(self, c: Claimed, outcome: Outcome, attempted_at: datetime) -> str:
        now = self.clock.now()

        def work(uow: UnitOfWork) -> str:
            d = uow.WebhookDelivery.get_for_update(id=c.delivery_id)
            uow.WebhookAttempt(
                delivery=d,
                attempted_at=stored(attempted_at),
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
                dispatcher=self.holder,
            )
            if d.lease_holder != c.token or d.status != "pending":
                # Our lease lapsed and another claim owns the delivery now: log the attempt only.
                return str(d.status)
            d.attempts += 1
            d.last_status_code = outcome.status_code
            d.last_error = outcome.error
            d.lease_holder, d.lease_until = None, None
            d.updated_at = stored(now)
            code = outcome.status_code
            self._track_failures(uow, c.endpoint_id, code is not None and 200 <= code < 300, outcome, now)
            if code is not None and 200 <= code < 300:
                d.status = "succeeded"
            elif code == 410:
                endpoint = uow.WebhookEndpoint.get_for_update(id=c.endpoint_id)
                endpoint.enabled = False
                endpoint.disabled_reason = "the receiver answered 410 Gone"
                d.next_attempt_at = stored(now)  # resumes at once if the endpoint is enabled again
            elif code is not None and 400 <= code < 500 and code not in RETRYABLE_4XX:
                d.status = "dead"
            else:
                delay = retry_delay(d.attempts, self.rng, self.retry_scale)
                if delay is None:
                    d.status = "dead"
                else:
                    delay = max(delay, outcome.retry_after or 0.0)
                    d.next_attempt_at = stored(now + timedelta(seconds=delay))
            return str(d.status)

        status = transact(self.store, work)
        log.info(
            "webhook delivery %d to endpoint %d: %s → %s",
            c.delivery_id,
            c.endpoint_id,
            outcome.status_code or outcome.error,
            status,
        )
        return status


def _failure(outcome: Outcome) -> str:
    return f"HTTP {outcome.status_code}" if outcome.status_code is not None else (outcome.error or "no answer")[:80]


def _event(uow: UnitOfWork, position: int) -> EventView:
    return EventView.of(uow.OutboxEvent[position])


def _sql_time(at: datetime) -> str:
    """Datetimes are bound as text in the stored form (naive UTC), portable across both stores."""
    return stored(at).isoformat(sep=" ", timespec="microseconds")


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def redeliver(store: Store, delivery_id: int, now: datetime) -> str:
    """Queue a dead (or succeeded) delivery again, due now, with a fresh retry schedule. The
    receiver sees the same `webhook-id`; the earlier attempts stay in the log."""
    from states.errors import NotFound, ValidationFailed

    def work(uow: UnitOfWork) -> str:
        d = uow.WebhookDelivery.get_for_update(id=delivery_id)
        if d is None:
            raise NotFound(f"webhook delivery {delivery_id} does not exist")
        if d.status == "pending":
            raise ValidationFailed(f"webhook delivery {delivery_id} is already queued", "deliveryId")
        d.status, d.attempts = "pending", 0
        d.next_attempt_at = d.updated_at = stored(now)
        d.lease_holder, d.lease_until = None, None
        return str(d.status)

    return transact(store, work)
