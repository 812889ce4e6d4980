"""A customer's timeline (or one invoice's): transitions of everything it owns (invoices, account,
disputes, tasks, blocks), notes and logged calls, payments, and messages (notices), newest first,
keyset-paginated. Each source is read newest-first after the cursor, `first + 1` rows at most, and
the sources are merged: one page costs five short indexed reads whatever the customer's size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.clock import loaded, stored
from engine.queries.pages import Edge, Page, check_page_size
from engine.queries.sql import Params, decode_cursor, encode_cursor
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, read_only
from states.errors import ValidationFailed
from states.money import format_minor

# rank: the order of sources at one instant (a tie-breaker only)
KINDS = {"transition": 5, "payment": 4, "message": 3, "call": 2, "note": 1}


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # transition | payment | message | call | note
    id: int  # the row's id in its own table
    at: datetime
    entity_type: str
    entity_id: int
    summary: str
    actor: str | None
    detail: dict[str, Any]


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return loaded(value)
    return loaded(datetime.fromisoformat(str(value)))


def _at_param(store: Store, at: datetime) -> Any:
    naive = stored(at)
    return naive if store.is_postgres else naive.strftime("%Y-%m-%d %H:%M:%S.%f")


def _after(p: Params, column: str, id_column: str, rank: int, cursor: tuple[Any, int, int] | None) -> str:
    if cursor is None:
        return "1 = 1"
    at, c_rank, c_id = cursor
    if rank < c_rank:
        return f"{column} <= {p.add(at)}"
    if rank > c_rank:
        return f"{column} < {p.add(at)}"
    return f"({column} < {p.add(at)} OR ({column} = {p.add(at)} AND {id_column} < {p.add(c_id)}))"


def timeline(
    store: Store, customer_id: int, invoice_id: int | None, first: int, after: str | None
) -> Page[TimelineEntry]:
    check_page_size(first)
    cursor = None
    if after:
        at_text, rank, last_id = decode_cursor(after, 3)
        try:
            cursor = (_at_param(store, datetime.fromisoformat(str(at_text))), int(rank), int(last_id))
        except (TypeError, ValueError):
            raise ValidationFailed("the cursor is not one this API issued", "after") from None
    with read_only(store) as uow:
        found: list[TimelineEntry] = []
        for read in (_transitions, _notes, _payments, _messages):
            found.extend(read(uow, customer_id, invoice_id, first + 1, cursor))
    found.sort(key=lambda e: (e.at, KINDS[e.kind], e.id), reverse=True)
    edges = [Edge(encode_cursor([e.at.astimezone(UTC).isoformat(), KINDS[e.kind], e.id]), e) for e in found[:first]]
    return Page(edges, len(found) > first)


def _owned(p: Params, customer_id: int, invoice_id: int | None) -> str:
    """Which history rows belong to the customer (or to the invoice)."""
    c = p.add(customer_id)
    if invoice_id is not None:
        i = p.add(invoice_id)
        return (
            f"((h.entity_type = 'invoice' AND h.entity_id = {i})"
            f" OR (h.entity_type = 'dispute' AND h.entity_id IN (SELECT id FROM dispute WHERE invoice = {i}))"
            f" OR (h.entity_type = 'task' AND h.entity_id IN (SELECT id FROM collector_task WHERE invoice = {i}))"
            " OR (h.entity_type = 'dunning_block' AND h.entity_id IN"
            f" (SELECT id FROM dunning_block WHERE invoice = {i})))"
        )
    return (
        f"((h.entity_type = 'invoice' AND h.entity_id IN (SELECT id FROM invoice WHERE customer = {c}))"
        f" OR (h.entity_type = 'account' AND h.entity_id = {c})"
        f" OR (h.entity_type = 'dispute' AND h.entity_id IN (SELECT id FROM dispute WHERE customer = {c}))"
        f" OR (h.entity_type = 'task' AND h.entity_id IN (SELECT id FROM collector_task WHERE customer = {c}))"
        " OR (h.entity_type = 'dunning_block' AND h.entity_id IN"
        f" (SELECT id FROM dunning_block WHERE customer = {c})))"
    )


def _transitions(
    uow: UnitOfWork, customer_id: int, invoice_id: int | None, limit: int, cursor: tuple[Any, int, int] | None
) -> list[TimelineEntry]:
    p = Params()
    sql = (
        "SELECT h.id, h.at, h.entity_type, h.entity_id, h.from_state, h.to_state, h.trigger, h.actor, h.reason"
        f" FROM transition_history h WHERE {_owned(p, customer_id, invoice_id)}"
        f" AND {_after(p, 'h.at', 'h.id', KINDS['transition'], cursor)} ORDER BY h.at DESC, h.id DESC"
        f" LIMIT {p.add(limit)}"
    )
    out = []
    for hid, at, etype, eid, src, dst, trigger, actor, reason in uow.select(sql, p.bound()):
        moved = f"{src} → {dst}" if src else f"{dst}"
        out.append(
            TimelineEntry(
                "transition",
                int(hid),
                _instant(at),
                str(etype),
                int(eid),
                f"{etype} {eid}: {trigger} ({moved})",
                str(actor),
                {"from": src, "to": dst, "trigger": trigger, "reason": reason},
            )
        )
    return out


def _notes(
    uow: UnitOfWork, customer_id: int, invoice_id: int | None, limit: int, cursor: tuple[Any, int, int] | None
) -> list[TimelineEntry]:
    out: list[TimelineEntry] = []
    for kind in ("call", "note"):
        p = Params()
        scope = f"n.customer = {p.add(customer_id)}" + (
            f" AND n.invoice = {p.add(invoice_id)}" if invoice_id is not None else ""
        )
        sql = (
            "SELECT n.id, n.at, n.invoice, n.text, n.call_outcome, n.author FROM customer_note n"
            f" WHERE {scope} AND n.kind = {p.add(kind)} AND {_after(p, 'n.at', 'n.id', KINDS[kind], cursor)}"
            f" ORDER BY n.at DESC, n.id DESC LIMIT {p.add(limit)}"
        )
        for nid, at, inv, text, outcome, author in uow.select(sql, p.bound()):
            title = f"call: {outcome}" if kind == "call" else "note"
            out.append(
                TimelineEntry(
                    kind,
                    int(nid),
                    _instant(at),
                    "note",
                    int(nid),
                    f"{title}: {text}" if text else title,
                    str(author),
                    {"invoiceId": inv, "text": text, "outcome": outcome},
                )
            )
    return out


def _payments(
    uow: UnitOfWork, customer_id: int, invoice_id: int | None, limit: int, cursor: tuple[Any, int, int] | None
) -> list[TimelineEntry]:
    p = Params()
    scope = f"y.customer = {p.add(customer_id)}" + (
        f" AND y.id IN (SELECT payment FROM allocation WHERE invoice = {p.add(invoice_id)})"
        if invoice_id is not None
        else ""
    )
    sql = (
        "SELECT y.id, y.created_at, y.reference, y.amount, y.currency, y.received_on, y.reversed_at FROM payment y"
        f" WHERE {scope} AND {_after(p, 'y.created_at', 'y.id', KINDS['payment'], cursor)}"
        f" ORDER BY y.created_at DESC, y.id DESC LIMIT {p.add(limit)}"
    )
    out = []
    for pid, at, ref, amount, currency, received, reversed_at in uow.select(sql, p.bound()):
        shown = f"{format_minor(int(amount), currency)} {currency}"
        out.append(
            TimelineEntry(
                "payment",
                int(pid),
                _instant(at),
                "payment",
                int(pid),
                f"payment {ref}: {shown}",
                None,
                {
                    "reference": ref,
                    "amount": shown,
                    "receivedOn": str(received)[:10],
                    "reversed": reversed_at is not None,
                },
            )
        )
    return out


def _messages(
    uow: UnitOfWork, customer_id: int, invoice_id: int | None, limit: int, cursor: tuple[Any, int, int] | None
) -> list[TimelineEntry]:
    """Messages to the customer (one per customer, date and channel; `engine/notices`), as they stand."""
    p = Params()
    scope = f"m.customer = {p.add(customer_id)}" + (
        f" AND m.id IN (SELECT message FROM notice WHERE invoice = {p.add(invoice_id)})"
        if invoice_id is not None
        else ""
    )
    sql = (
        "SELECT m.id, m.created_at, m.channel, m.via, m.state, m.template, m.subject, m.recipient FROM notice_message m"
        f" WHERE {scope} AND {_after(p, 'm.created_at', 'm.id', KINDS['message'], cursor)}"
        f" ORDER BY m.created_at DESC, m.id DESC LIMIT {p.add(limit)}"
    )
    out = []
    for mid, at, channel, via, state, template, subject, recipient in uow.select(sql, p.bound()):
        used = via or channel
        out.append(
            TimelineEntry(
                "message",
                int(mid),
                _instant(at),
                "notice",
                int(mid),
                f"{used} message ({state}){': ' + subject if subject else ''}",
                None,
                {"channel": used, "state": state, "template": template, "subject": subject, "recipient": recipient},
            )
        )
    return out
