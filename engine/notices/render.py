"""The render step: `requested` messages become `rendered`, outside the cycle's transaction.

Per message: its invoices are re-read (one paid, credited or otherwise settled since is left out; a
message left with none is cancelled), the recipient is chosen per channel from the customer's
contacts (billing first), falling back along `templates/notices.yaml` `fallback` to channels the
strategy also uses; nobody reachable → a collector task and the message cancelled. A phone message
becomes a collector task with its script. The text is rendered in the recipient's language.
Rendering (CPU) happens between a read and a short write transaction per batch."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from engine.notices.content import Item, MessageData, Rendered, render
from engine.notices.machine import fire_notice
from engine.notices.recipients import ContactView, Recipient, language_of, recipient_for
from engine.notices.templates import TemplateSet, load
from engine.rules.registry import StrategySet
from engine.services.contacts import contacts_of
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, read_only
from engine.tasks.opening import TaskRequest, open_tasks
from states import invoice as inv_states
from states import notice as ntc
from states.actors import Actor
from states.cash import covered_by_credit, unapplied_by_currency

log = logging.getLogger(__name__)
ACTOR = Actor("system", "render")
BATCH = 200
TASK_QUEUE = "collections"


@dataclass
class Outcome:
    rendered: int = 0
    cancelled: int = 0
    tasks: int = 0
    by_channel: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass(frozen=True)
class Plan:
    """What to do with one message, decided outside the write transaction."""

    message_id: int
    version: int
    rendered: Rendered | None = None
    recipient: Recipient | None = None
    cancel_reason: str | None = None
    task_note: str | None = None
    invoices: tuple[str, ...] = ()


def allowed_channels(strategies: StrategySet | None, strategy: str, channel: str, order: Sequence[str]) -> list[str]:
    """The message's channel, then the channels of `order` its strategy also sends on."""
    used: set[str] = set()
    for c in strategies.strategies if strategies else ():
        if c.name == strategy:
            used = {a.param("channel") or "email" for r in c.strategy.rules for a in r.actions if a.spec.notice}
    return [channel] + [ch for ch in order if ch != channel and ch in used]


def plan_message(
    templates: TemplateSet,
    strategies: StrategySet | None,
    msg: dict[str, Any],
    items: list[Item],
    contacts: list[ContactView],
) -> Plan:
    mid, version = int(msg["id"]), int(msg["version"])
    numbers = tuple(sorted(i.number for i in items))
    if not items:
        return Plan(mid, version, cancel_reason="every invoice of the message was settled or stopped since")
    default = templates.settings.default_language
    channels = allowed_channels(strategies, msg["strategy"], msg["channel"], templates.settings.fallback)
    for channel in channels:
        recipient = recipient_for(channel, contacts) if channel != "phone" else Recipient("phone", None, None)
        if recipient is None:
            continue
        resolved = templates.resolve(msg["template"], channel, language_of(recipient, contacts, default))
        if resolved is None:
            continue
        template, language = resolved
        data = MessageData(
            channel,
            template,
            language,
            msg["business_date"],
            msg["customer_name"],
            msg["customer_ref"],
            recipient.contact.name if recipient.contact else None,
            recipient.address,
            recipient.contact.postal_address if recipient.contact else None,
            tuple(items),
        )
        rendered = render(templates, data)
        note = rendered.text if channel == "phone" else None
        return Plan(mid, version, rendered, recipient, task_note=note, invoices=numbers)
    tried = ", ".join(channels)
    return Plan(
        mid,
        version,
        cancel_reason=f"no usable contact for {tried}",
        task_note=f"No usable contact for {tried}: add one, then reach the customer about {', '.join(numbers)}.",
        invoices=numbers,
    )


def render_pending(
    store: Store,
    templates: TemplateSet,
    strategies: StrategySet | None,
    now: datetime,
    limit: int | None = None,
    before: date | None = None,
) -> Outcome:
    """Render every `requested` message (up to `limit`; with `before`, only those of business dates
    before it), a batch per write transaction."""
    outcome = Outcome()
    done = 0
    after = 0
    while limit is None or done < limit:
        size = BATCH if limit is None else min(BATCH, limit - done)
        ids = _pending(store, after, size, before)
        if not ids:
            break
        after = ids[-1]
        plans = [plan_message(templates, strategies, *loaded) for loaded in load_messages(store, ids)]
        _write(store, plans, now, outcome)
        done += len(ids)
    return outcome


def _pending(store: Store, after: int, size: int, before: date | None = None) -> list[int]:
    earlier = "" if before is None else " AND business_date < $b"
    params: dict[str, Any] = {"a": after, "n": size} | ({} if before is None else {"b": before.isoformat()})
    with read_only(store) as uow:
        return [
            int(i)
            for i in uow.select(
                f"SELECT id FROM notice_message WHERE state = 'requested' AND id > $a{earlier} ORDER BY id LIMIT $n",
                params,
            )
        ]


def load_messages(store: Store, ids: list[int]) -> list[tuple[dict[str, Any], list[Item], list[ContactView]]]:
    with read_only(store) as uow:
        messages = {
            int(m.id): {
                "id": m.id,
                "version": m.version,
                "channel": m.channel,
                "template": m.template,
                "strategy": m.strategy,
                "business_date": m.business_date,
                "customer_id": int(m.customer.id),
                "customer_name": m.customer.name,
                "customer_ref": m.customer.external_ref,
            }
            for m in uow.Notice.select(lambda m: m.id in ids).prefetch(uow.Customer)
        }
        items: dict[int, list[Item]] = defaultdict(list)
        credit = unapplied_of(uow, sorted({m["customer_id"] for m in messages.values()}))
        for line in uow.NoticeLine.select(lambda n: n.message.id in ids).order_by(lambda n: n.id):
            inv = line.invoice
            if inv.state not in inv_states.CHASEABLE | {inv_states.ESCALATED} or inv.open_amount <= 0:
                continue  # settled, disputed, promised or stopped since the cycle asked
            if covered_by_credit(credit.get((int(inv.customer.id), inv.currency), 0), inv.open_amount):
                continue  # cash received since (not yet applied) pays it
            items[int(line.message.id)].append(
                Item(inv.number, inv.issue_date, inv.due_date, inv.currency, inv.amount, inv.open_amount,
                     line.level, line.kind)
            )  # fmt: skip
        contacts = contacts_of(uow, sorted({m["customer_id"] for m in messages.values()}))
    return [(m, items[mid], contacts[m["customer_id"]]) for mid, m in sorted(messages.items())]


def unapplied_of(uow: UnitOfWork, customer_ids: list[int]) -> dict[tuple[int, str], int]:
    """The customers' unapplied cash per (customer, currency), never mixed across currencies."""
    found: dict[int, list[tuple[str, int]]] = defaultdict(list)
    if customer_ids:
        for p in uow.Payment.select(lambda p: p.customer.id in customer_ids and p.unapplied_amount > 0):
            found[int(p.customer.id)].append((p.currency, int(p.unapplied_amount)))
    return {(c, cur): amount for c, pays in found.items() for cur, amount in unapplied_by_currency(pays).items()}


def _write(store: Store, plans: list[Plan], now: datetime, outcome: Outcome) -> None:
    with UnitOfWork(store, write=True) as uow:
        tasks: list[TaskRequest] = []
        for plan in plans:
            msg = uow.Notice.get(id=plan.message_id)
            if msg is None or msg.version != plan.version or msg.state != ntc.REQUESTED:
                continue  # changed meanwhile (cancelled by a person, rendered by another worker)
            if plan.task_note is not None:
                tasks.append(task_request(msg, plan.task_note))
            if plan.rendered is None:
                msg.error = plan.cancel_reason
                fire_notice(uow, msg, "cancel", ACTOR, now, reason=plan.cancel_reason, invoices=list(plan.invoices))
                outcome.cancelled += 1
                continue
            r = plan.rendered
            msg.via, msg.language = r.channel, r.language
            msg.recipient = plan.recipient.address if plan.recipient else None
            msg.subject, msg.body_text, msg.body_html, msg.document = r.subject, r.text, r.html, r.pdf
            if r.segments is not None:
                msg.segments, msg.encoding = r.segments.count, r.segments.encoding
            cause = {"kind": "render", "template": r.file, "language": r.language}
            if r.channel != msg.channel:
                cause["fallback_from"] = msg.channel
            fire_notice(uow, msg, "render", ACTOR, now, cause=cause, invoices=list(plan.invoices))
            outcome.rendered += 1
            outcome.by_channel[r.channel] += 1
        uow.flush()
        # one unfinished task per customer and queue (a second message's task joins the first), with history
        outcome.tasks += len(open_tasks(uow, tasks, ACTOR, now))
        uow.commit()


def task_request(msg: Any, note: str, source: str | None = None) -> TaskRequest:
    """A phone call to make, or a customer nobody can reach: a task for the collectors' queue."""
    return TaskRequest(
        customer_id=int(msg.customer.id),
        invoice_id=None,
        queue=TASK_QUEUE,
        business_date=msg.business_date,
        source=source or ("phone" if msg.channel == "phone" else "fallback"),
        rule=f"notice:{msg.id}",
        note=note[:2000],
        cause={"kind": "notice", "notice_id": int(msg.id), "channel": msg.channel},
    )


def render_due(
    ctx: Context, strategies: StrategySet | None, limit: int | None = None, before: date | None = None
) -> Outcome | None:
    """The render step as the cycle command, the worker and `o2c notices render` run it (and, with
    `before`, the cycle before it opens that date: the messages of earlier dates); None when the
    templates directory is missing (messages then wait, `requested`)."""
    directory = ctx.settings.templates_dir
    if not directory.is_dir():
        log.warning("no templates directory %s: notices stay requested", directory)
        return None
    return render_pending(ctx.store, load(directory), strategies, ctx.now(), limit, before)
