"""The send step: rendered messages go out through their channel's adapter (`channels.py`).

Per batch: **claim** in one short transaction (`rendered → queued`, a lease until now + 120 s;
`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer lock on SQLite), so two senders never
take one message; a message outside its customer's **send window** (`window.py`: local hours on
the customer's business days) is not claimed: it waits until the window opens (`next_attempt_at`,
with the reason in `waiting`); **re-check** each message right before sending (its invoices re-read: one paid,
credited, disputed, promised or cancelled since is dropped and the text rendered again; none left:
`cancelled`); **send** outside any transaction; **record** `sent` (with what the channel said),
`bounced` (a permanent refusal: the contact's channel is marked invalid and the message falls back
to the next channel or contact its strategy allows, re-sent in the next pass; with none left it is
`bounced` with a collector task), or a retry with backoff (`failed` after the last). A crash
between sending and recording leaves the lease to expire and the message is sent again with the
same Message-ID: the only duplicate possible. A channel without an adapter leaves its messages
`queued` with the error "channel … is not configured"."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from engine.clock import stored
from engine.notices.channels import Adapter, Outgoing, Refused, Unavailable
from engine.notices.machine import fire_notice, numbers_of
from engine.notices.render import Plan, load_messages, plan_message, task_request
from engine.notices.templates import TemplateSet
from engine.notices.window import Place, next_opening, waiting_reason
from engine.rules.registry import StrategySet
from engine.rules.strategy import DEFAULT_SEND_WINDOW, SendWindow
from engine.services.contacts import mark_invalid
from engine.store.database import Store
from engine.store.dialect import timestamp_param
from engine.store.unit_of_work import UnitOfWork, read_only
from engine.tasks.opening import open_tasks
from engine.tracing import set_attribute, span
from states import notice as ntc
from states.actors import Actor

log = logging.getLogger(__name__)
ACTOR = Actor("system", "send")
LEASE = timedelta(seconds=120)
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
BATCH = 100
NOT_SENT = ("phone",)  # a phone message is a collector's task, made when it was rendered


@dataclass
class SendOutcome:
    sent: int = 0
    bounced: int = 0
    failed: int = 0
    retrying: int = 0
    cancelled: int = 0
    not_configured: int = 0
    waiting: int = 0  # outside the customer's send window: due again when it opens
    fell_back: int = 0  # refused, queued again for the next channel or contact
    by_channel: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def as_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in vars(self).items() if k != "by_channel"}, "by_channel": dict(self.by_channel)}


def send_due(
    store: Store,
    templates: TemplateSet,
    strategies: StrategySet | None,
    adapters: dict[str, Adapter],
    now: datetime,
    limit: int | None = None,
) -> SendOutcome:
    """Send every due message once (up to `limit`): one pass, as `o2c notices send --once`."""
    outcome = SendOutcome()
    windows = _windows(strategies)
    after, done = 0, 0
    while limit is None or done < limit:
        claimed, after, seen = _claim(store, adapters, windows, now, after, outcome)
        if not seen:
            break
        done += seen
        _send_batch(store, templates, strategies, adapters, claimed, now, outcome)
        for adapter in adapters.values():
            adapter.finish()
    return outcome


def _windows(strategies: StrategySet | None) -> dict[str, SendWindow]:
    """Each strategy's send window by name (a message of a strategy no longer in force: the default)."""
    return {c.name: c.strategy.settings.send_window for c in strategies.strategies} if strategies else {}


def _claim(
    store: Store,
    adapters: dict[str, Adapter],
    windows: dict[str, SendWindow],
    now: datetime,
    after: int,
    outcome: SendOutcome,
) -> tuple[list[tuple[int, datetime, str]], int, int]:
    """Lease a batch of due messages; returns (id, lease, channel) claimed, the last id seen, how many."""
    at = timestamp_param(store, now)
    lease = stored(now + LEASE)
    lock = " FOR UPDATE OF m SKIP LOCKED" if store.is_postgres else ""
    claimed: list[tuple[int, datetime, str]] = []
    with UnitOfWork(store, write=True) as uow:
        rows = uow.select(
            "SELECT m.id, c.timezone, c.country, c.subdivision FROM notice_message m "
            "JOIN customer c ON c.id = m.customer WHERE m.id > $a AND m.state IN ('rendered', 'queued') "
            "AND COALESCE(m.via, m.channel) NOT IN ('phone') "
            "AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= $t) "
            f"AND (m.lease_until IS NULL OR m.lease_until <= $t) ORDER BY m.id LIMIT {BATCH}{lock}",
            {"a": after, "t": at},
        )
        places = {int(r[0]): Place(r[1], r[2], r[3]) for r in rows}
        ids = list(places)
        messages = {int(m.id): m for m in uow.Notice.select(lambda m: m.id in ids)}
        numbers = numbers_of(uow, ids)
        for mid in ids:
            msg = messages[mid]
            channel = msg.via or msg.channel
            if channel not in adapters:
                if msg.state == ntc.RENDERED:
                    fire_notice(uow, msg, "queue", ACTOR, now, invoices=numbers[mid])
                if msg.error != f"channel {channel} is not configured":
                    msg.error = f"channel {channel} is not configured"
                msg.next_attempt_at = stored(now + BACKOFF[0])
                outcome.not_configured += 1
                continue
            window = windows.get(msg.strategy, DEFAULT_SEND_WINDOW)
            opens = next_opening(now, window, places[mid])
            if opens is not None:  # stays as it is (rendered or queued) until its window opens
                msg.next_attempt_at, msg.waiting = stored(opens), waiting_reason(opens, window, places[mid])
                outcome.waiting += 1
                continue
            if msg.state == ntc.RENDERED:
                fire_notice(uow, msg, "queue", ACTOR, now, invoices=numbers[mid])
            msg.waiting = None
            msg.lease_until = lease
            claimed.append((mid, lease, channel))
        uow.commit()
    return claimed, (ids[-1] if ids else after), len(ids)


@dataclass(frozen=True)
class Attempt:
    """What sending one message did, recorded with its batch."""

    message_id: int
    lease: datetime
    plan: Plan
    dropped: list[str]
    delivery: str | None
    error: str | None
    refused: bool
    fallback: str | None = None  # after a refusal: the channel the message goes out on next


def _send_batch(
    store: Store,
    templates: TemplateSet,
    strategies: StrategySet | None,
    adapters: dict[str, Adapter],
    claimed: list[tuple[int, datetime, str]],
    now: datetime,
    outcome: SendOutcome,
) -> None:
    """Re-check the claimed messages (one read), send each, record the batch (one write). A crash
    before the record re-sends this batch's messages once their leases expire (same Message-IDs)."""
    if not claimed:
        return
    with span("o2c.notice.send_batch", {"o2c.messages": len(claimed)}):
        _send_claimed(store, templates, strategies, adapters, claimed, now, outcome)


def _send_claimed(
    store: Store,
    templates: TemplateSet,
    strategies: StrategySet | None,
    adapters: dict[str, Adapter],
    claimed: list[tuple[int, datetime, str]],
    now: datetime,
    outcome: SendOutcome,
) -> None:
    ids = [mid for mid, _, _ in claimed]
    loaded = {int(m["id"]): (m, items, contacts) for m, items, contacts in load_messages(store, ids)}
    with read_only(store) as uow:
        before = numbers_of(uow, ids)
    attempts = []
    for mid, lease, channel in claimed:
        if mid not in loaded:
            continue
        msg, items, contacts = loaded[mid]
        plan = plan_message(templates, strategies, msg, items, contacts)  # the re-check: as things stand now
        dropped = sorted(set(before[mid]) - set(plan.invoices))
        delivery = error = fallback = None
        refused = False
        if plan.rendered is not None and plan.recipient is not None and plan.recipient.address:
            r = plan.rendered
            outgoing = Outgoing(mid, r.channel, plan.recipient.address, r.subject, r.text, r.html, r.pdf,
                                msg["business_date"], msg["customer_ref"])  # fmt: skip
            with span("o2c.notice.send", {"o2c.notice.id": mid, "o2c.channel": channel}) as current:
                try:
                    delivery = adapters[channel].send(outgoing)
                except Refused as exc:
                    error, refused = str(exc), True
                    fallback = _fallback(templates, strategies, msg, items, contacts, plan)
                except Unavailable as exc:
                    error = str(exc)
                set_attribute(current, "o2c.notice.outcome", "sent" if delivery else "refused" if refused else "retry")
        attempts.append(Attempt(mid, lease, plan, dropped, delivery, error, refused, fallback))
    with UnitOfWork(store, write=True) as uow:
        list(uow.Notice.select(lambda m: m.id in ids))  # one read for the batch (Pony's identity map)
        for attempt in attempts:
            _record(store, uow, attempt, now, outcome)
        uow.commit()


def _fallback(
    templates: TemplateSet,
    strategies: StrategySet | None,
    msg: dict[str, Any],
    items: list[Any],
    contacts: list[Any],
    plan: Plan,
) -> str | None:
    """The channel the message would go out on with the refused address marked invalid; None when
    only a collector can act (nobody else to write to, or only a phone call left)."""
    if plan.recipient is None or plan.recipient.contact is None or plan.rendered is None:
        return None
    refused_id, channel = plan.recipient.contact.id, plan.rendered.channel
    marked = [replace(c, invalid=(*c.invalid, channel)) if c.id == refused_id else c for c in contacts]
    again = plan_message(templates, strategies, msg, items, marked)
    if again.rendered is None or again.recipient is None or not again.recipient.address:
        return None
    return None if again.rendered.channel == "phone" else again.rendered.channel


def _record(store: Store, uow: UnitOfWork, attempt: Attempt, now: datetime, outcome: SendOutcome) -> None:
    plan, dropped, delivery, error = attempt.plan, attempt.dropped, attempt.delivery, attempt.error
    msg = uow.Notice.get(id=attempt.message_id)
    if msg is None or msg.lease_until != attempt.lease or msg.state != ntc.QUEUED:
        return  # cancelled meanwhile, or the lease was lost: whoever holds it records
    msg.lease_until = None
    cause: dict[str, Any] = {"kind": "send", "dropped": dropped} if dropped else {"kind": "send"}
    invoices = list(plan.invoices)
    if plan.rendered is None or plan.recipient is None or not plan.recipient.address:
        why = plan.cancel_reason or "nobody to send it to any more"
        msg.error = why
        fire_notice(uow, msg, "cancel", ACTOR, now, reason=why, cause=cause, invoices=invoices)
        outcome.cancelled += 1
    elif delivery is not None:
        r = plan.rendered
        msg.subject, msg.body_text, msg.body_html, msg.document = r.subject, r.text, r.html, r.pdf
        msg.recipient, msg.attempts, msg.delivery, msg.error = (
            plan.recipient.address,
            msg.attempts + 1,
            delivery,
            None,
        )
        fire_notice(uow, msg, "send", ACTOR, now, reason=delivery, cause=cause, invoices=invoices)
        outcome.sent += 1
        outcome.by_channel[r.channel] += 1
    elif attempt.refused and attempt.fallback is not None:
        _mark_refused(uow, attempt)
        msg.error, msg.attempts = f"{error}; falling back to {attempt.fallback}", msg.attempts + 1
        msg.via, msg.next_attempt_at = attempt.fallback, None  # due in the next pass
        outcome.fell_back += 1
    elif attempt.refused:
        _mark_refused(uow, attempt)
        msg.error, msg.attempts = error, msg.attempts + 1
        fire_notice(uow, msg, "bounce", ACTOR, now, reason=error, cause=cause, invoices=invoices)
        note = (
            f"Message {msg.id} to {plan.recipient.address} bounced ({error}): check the contact, "
            f"then reach the customer about {', '.join(invoices)}."
        )
        open_tasks(uow, [task_request(msg, note, source="bounce")], ACTOR, now)
        outcome.bounced += 1
    else:
        msg.error, msg.attempts = error, msg.attempts + 1
        if msg.attempts > len(BACKOFF):
            fire_notice(uow, msg, "fail", ACTOR, now, reason=error, cause=cause, invoices=invoices)
            outcome.failed += 1
        else:
            msg.next_attempt_at = stored(now + BACKOFF[msg.attempts - 1])
            outcome.retrying += 1


def _mark_refused(uow: UnitOfWork, attempt: Attempt) -> None:
    """The refused contact's channel becomes invalid (until a person changes its address)."""
    plan = attempt.plan
    if plan.recipient is None or plan.recipient.contact is None or plan.rendered is None:
        return
    contact = uow.Contact.get(id=plan.recipient.contact.id)
    if contact is not None:
        mark_invalid(contact, plan.rendered.channel)
