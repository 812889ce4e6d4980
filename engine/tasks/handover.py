"""The hand-over an escalation carries to its queue: what is owed, what happened, whom to call.
Read set-based for all the escalated invoices of one write at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from engine.store.bulk import Bulk
from states.money import format_minor

HISTORY_ROWS = 10  # the most recent transitions the hand-over lists


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def handovers(bulk: Bulk, invoice_ids: Sequence[int], today: date) -> dict[int, dict[str, Any]]:
    """invoice id → {owed, customer, contacts, history (newest first)}."""
    if not invoice_ids:
        return {}
    rows = bulk.select_in(
        "SELECT i.id, i.number, i.currency, i.amount, i.open_amount, i.due_date, i.dunning_level, i.state, "
        "c.id, c.external_ref, c.name, c.email FROM invoice i JOIN customer c ON c.id = i.customer "
        "WHERE i.id IN ({})",
        invoice_ids,
    )
    history: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entity_id, at, from_state, to_state, trigger, actor, reason in bulk.select_in(
        "SELECT entity_id, at, from_state, to_state, trigger, actor, reason FROM transition_history "
        "WHERE entity_type = 'invoice' AND entity_id IN ({}) ORDER BY entity_id, id DESC",
        invoice_ids,
    ):
        found = history[int(entity_id)]
        if len(found) < HISTORY_ROWS:
            found.append(
                {
                    "at": str(at)[:19],
                    "from": from_state,
                    "to": to_state,
                    "trigger": trigger,
                    "actor": actor,
                    "reason": reason,
                }
            )
    contacts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for cid, role, name, email, phone in bulk.select_in(
        "SELECT customer, role, name, email, phone FROM contact WHERE customer IN ({}) ORDER BY customer, id",
        sorted({int(r[8]) for r in rows}),
    ):
        contacts[int(cid)].append({"role": role, "name": name, "email": email, "phone": phone})
    out: dict[int, dict[str, Any]] = {}
    for inv_id, number, currency, amount, open_amount, due, level, state, cid, ref, name, email in rows:
        out[int(inv_id)] = {
            "owed": {
                "invoiceNumber": number,
                "amount": format_minor(int(amount), currency),
                "openAmount": format_minor(int(open_amount), currency),
                "currency": currency,
                "dueDate": _day(due).isoformat(),
                "daysPastDue": (today - _day(due)).days,
                "dunningLevel": int(level),
                "state": state,
            },
            "customer": {"id": int(cid), "externalRef": ref, "name": name},
            "contacts": contacts.get(int(cid))
            or ([{"role": "billing", "name": name, "email": email}] if email else []),
            "history": history.get(int(inv_id), []),
        }
    return out
