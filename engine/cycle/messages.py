"""The cycle's notices become messages, in the chunk's transaction: one message per customer,
business date and channel (or one per invoice under `consolidate: per_invoice`), listing every
invoice it concerns. A message still `requested` takes the lines of later chunks or re-evaluations of
the same date; once it has moved on (rendered, sent …), a further message of that date is opened.

Each new message gets its `requested` history row and `o2c.notice.requested` event as an entity of
its own (`notice`, version 1). Rendering happens later, outside the cycle (`engine/notices/render.py`)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.store.bulk import new_event_id
from engine.store.database import Store
from engine.store.dialect import execute_many, sql_for
from states import notice as ntc

CONSOLIDATED = "customer"


@dataclass
class Line:
    """What the writer knows of one invoice's notice (a `NoticeRow` seen from the message)."""

    invoice_id: int
    customer_id: int
    channel: str
    template: str
    level: int
    kind: str
    strategy: str
    rule: str
    cause: dict[str, Any]
    per_invoice: bool

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.customer_id, self.channel, f"invoice:{self.invoice_id}" if self.per_invoice else CONSOLIDATED)


@dataclass
class Opened:
    """The message id of every line (in order), and the journal rows of the messages opened."""

    message_ids: list[int] = field(default_factory=list)
    history: list[tuple[Any, ...]] = field(default_factory=list)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)


def _existing(store: Store, cur: Any, day: object, customers: list[int]) -> dict[tuple[int, str, str], list]:
    marks = ",".join("?" * len(customers))
    cur.execute(
        sql_for(
            store,
            "SELECT id, customer, channel, group_key, state FROM notice_message "
            f"WHERE business_date = ? AND customer IN ({marks})",
        ),
        [day, *customers],
    )
    found: dict[tuple[int, str, str], list] = defaultdict(list)
    for mid, cid, channel, group, state in cur.fetchall():
        found[(int(cid), str(channel), str(group).split("#", 1)[0])].append((int(mid), str(group), str(state)))
    return found


def open_messages(store: Store, cur: Any, lines: Sequence[Line], day: object, ts: object, actor: str) -> Opened:
    """Find or open the message of every line; return their ids and the new messages' journal rows."""
    out = Opened()
    if not lines:
        return out
    customers = sorted({ln.customer_id for ln in lines})
    existing = _existing(store, cur, day, customers)
    chosen: dict[tuple[int, str, str], str] = {}  # key -> the group_key of the message the lines join
    new: dict[tuple[int, str, str], list[Line]] = defaultdict(list)
    for ln in lines:
        key = ln.key
        if key in chosen:
            if key in new:
                new[key].append(ln)
            continue
        rows = existing.get(key, [])
        open_one = next((g for _, g, s in rows if s == ntc.REQUESTED), None)
        if open_one is not None:
            chosen[key] = open_one
        else:
            chosen[key] = key[2] if not rows else f"{key[2]}#{len(rows) + 1}"
            new[key].append(ln)
    new_rows = []
    for key, group_lines in new.items():
        lead = max(group_lines, key=lambda x: (x.level, x.kind == "dun"))  # the firmest line sets the tone
        new_rows.append((key[0], key[1], day, chosen[key], ntc.REQUESTED, lead.template, lead.strategy, 0, 1, ts, ts))
    execute_many(
        store,
        cur,
        "INSERT INTO notice_message (customer, channel, business_date, group_key, state, template, strategy, "
        "attempts, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        new_rows,
    )
    ids = {
        (cid, ch, g.split("#", 1)[0]): mid
        for (cid, ch, _), rows in _existing(store, cur, day, customers).items()
        for mid, g, _s in rows
        if chosen.get((cid, ch, g.split("#", 1)[0])) == g
    }
    out.message_ids = [ids[ln.key] for ln in lines]
    numbers = _numbers(store, cur, [ln.invoice_id for group in new.values() for ln in group])
    for key, group_lines in new.items():
        mid = ids[key]
        lead = group_lines[0]
        cause = {**lead.cause, "rules": sorted({f"{ln.strategy}/{ln.rule}" for ln in group_lines})}
        cause_json = json.dumps(cause)
        out.history.append(("notice", mid, 1, None, ntc.REQUESTED, "request", actor, cause_json, "{}", None, ts))
        data = {
            "channel": key[1],
            "recipient": None,
            "invoices": [numbers.get(ln.invoice_id, str(ln.invoice_id)) for ln in group_lines],
            "lines": [
                {"invoice": numbers.get(ln.invoice_id), "kind": ln.kind, "level": ln.level, "template": ln.template}
                for ln in group_lines
            ],
            "from": None,
            "to": ntc.REQUESTED,
            "trigger": "request",
            "actor": actor,
            "cause": cause,
            "reason": None,
            "snapshot": {},
            "entityVersion": 1,
        }
        out.outbox.append(
            (new_event_id(), ntc.event_type(ntc.REQUESTED), f"notices/{mid}", "notice", mid, 1, key[0], ts,
             json.dumps(data))
        )  # fmt: skip
    return out


def _numbers(store: Store, cur: Any, invoice_ids: list[int]) -> dict[int, str]:
    if not invoice_ids:
        return {}
    found: dict[int, str] = {}
    for start in range(0, len(invoice_ids), 500):
        page = invoice_ids[start : start + 500]
        cur.execute(sql_for(store, f"SELECT id, number FROM invoice WHERE id IN ({','.join('?' * len(page))})"), page)
        found.update({int(i): str(n) for i, n in cur.fetchall()})
    return found
