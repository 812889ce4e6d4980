"""Messages to customers as the API reads them: the filtered, keyset-paginated list, one message,
the messages of invoices (batched for the loader)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.clock import loaded
from engine.queries.keyset import Ordering, keyset_page
from engine.queries.pages import Page
from engine.queries.sql import Params, day_text
from engine.store.database import Store
from engine.store.unit_of_work import read_only

ORDERINGS = {"NEWEST_FIRST": Ordering("m.id", descending=True)}


@dataclass(frozen=True)
class NoticeLineView:
    invoice_id: int
    number: str
    kind: str
    level: int
    template: str


@dataclass(frozen=True)
class NoticeView:
    id: int
    customer_id: int
    channel: str
    via: str | None
    business_date: date
    state: str
    template: str
    strategy: str
    language: str | None
    recipient: str | None
    subject: str | None
    body_text: str | None
    body_html: str | None
    document: bytes | None
    segments: int | None
    encoding: str | None
    error: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    lines: tuple[NoticeLineView, ...]
    waiting: str | None = None  # why a due message is not sent yet (outside the send window until …)
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class NoticeFilter:
    customer_id: int | None = None
    invoice_id: int | None = None
    channel: str | None = None
    states: tuple[str, ...] = ()
    from_date: date | None = None
    to_date: date | None = None


def _where(flt: NoticeFilter, p: Params) -> str:
    clauses = ["1 = 1"]
    if flt.customer_id is not None:
        clauses.append(f"m.customer = {p.add(flt.customer_id)}")
    if flt.invoice_id is not None:
        clauses.append(f"m.id IN (SELECT n.message FROM notice n WHERE n.invoice = {p.add(flt.invoice_id)})")
    if flt.channel is not None:
        clauses.append(f"COALESCE(m.via, m.channel) = {p.add(flt.channel)}")
    if flt.states:
        clauses.append(f"m.state IN {p.many(flt.states)}")
    if flt.from_date is not None:
        clauses.append(f"m.business_date >= {p.add(day_text(flt.from_date))}")
    if flt.to_date is not None:
        clauses.append(f"m.business_date <= {p.add(day_text(flt.to_date))}")
    return " AND ".join(clauses)


def _views(uow: Any, messages: Sequence[Any]) -> list[NoticeView]:
    ids = [int(m.id) for m in messages]
    lines: dict[int, list[NoticeLineView]] = defaultdict(list)
    if ids:
        for n in uow.NoticeLine.select(lambda n: n.message.id in ids).order_by(lambda n: n.id):
            lines[int(n.message.id)].append(NoticeLineView(int(n.invoice.id), n.invoice.number, n.kind, n.level,
                                                           n.template))  # fmt: skip
    return [_view(m, tuple(lines[int(m.id)])) for m in messages]


def _view(m: Any, lines: tuple[NoticeLineView, ...]) -> NoticeView:
    return NoticeView(
        int(m.id), int(m.customer.id), m.channel, m.via, m.business_date, m.state, m.template, m.strategy,
        m.language, m.recipient, m.subject, m.body_text, m.body_html, m.document, m.segments, m.encoding,
        m.error, m.version, m.created_at, m.updated_at, lines, m.waiting,
        loaded(m.next_attempt_at) if m.next_attempt_at else None,
    )  # fmt: skip


def list_notices(store: Store, flt: NoticeFilter, first: int, after: str | None) -> Page[NoticeView]:
    def fetch(where: str, order_sql: str, p: Params, limit: str) -> list[NoticeView]:
        sql = f"SELECT m.* FROM notice_message m WHERE {where} ORDER BY {order_sql} LIMIT {limit}"
        with read_only(store) as uow:
            return _views(uow, list(uow.Notice.select_by_sql(sql, p.bound())))

    p = Params()
    return keyset_page(ORDERINGS, "NEWEST_FIRST", first, after, _where(flt, p), p, fetch, lambda v: v.id)


def count_notices(store: Store, flt: NoticeFilter) -> int:
    p = Params()
    with read_only(store) as uow:
        return int(uow.select(f"SELECT COUNT(*) FROM notice_message m WHERE {_where(flt, p)}", p.bound())[0])


def notices_by_ids(store: Store, ids: Sequence[int]) -> dict[int, NoticeView]:
    keys = sorted(set(ids))
    with read_only(store) as uow:
        return {v.id: v for v in _views(uow, list(uow.Notice.select(lambda m: m.id in keys)))}


def notices_by_invoice_ids(store: Store, invoice_ids: Sequence[int]) -> dict[int, list[NoticeView]]:
    """The messages each invoice was in, newest first."""
    keys = sorted(set(invoice_ids))
    found: dict[int, list[NoticeView]] = defaultdict(list)
    with read_only(store) as uow:
        messages = list(
            uow.Notice.select(lambda m: m.id in (n.message.id for n in uow.NoticeLine if n.invoice.id in keys))
        )
        for v in sorted(_views(uow, messages), key=lambda v: -v.id):
            for line in v.lines:
                if line.invoice_id in keys:
                    found[line.invoice_id].append(v)
    return found
