"""The event contract, checked on every store a test used: each outbox row's `data` must validate
against its catalogue schema (the same schemas docs/asyncapi.yaml publishes)."""

from __future__ import annotations

import json
from functools import cache

from jsonschema import Draft202012Validator

from engine.journal.catalogue import CATALOGUE
from engine.store.database import Store
from engine.store.unit_of_work import read_only


@cache
def _validator(event_type: str) -> Draft202012Validator:
    return Draft202012Validator(CATALOGUE[event_type].schema())


def contract_breaches(store: Store, limit: int = 5) -> list[str]:
    """Up to `limit` events in this store whose type is not catalogued or whose data breaks its schema."""
    with read_only(store) as uow:
        rows = uow.select("SELECT type, entity_type, data FROM outbox ORDER BY id")
    breaches: list[str] = []
    for event_type, entity_type, data in rows:
        if event_type not in CATALOGUE:
            breaches.append(f"{event_type}: not in the event catalogue")
        else:
            body = data if isinstance(data, dict) else json.loads(data)
            errors = [e.message for e in _validator(event_type).iter_errors(body)][:2]
            if CATALOGUE[event_type].entity_type != entity_type:
                errors.append(f"entity_type {entity_type}, catalogued {CATALOGUE[event_type].entity_type}")
            if errors:
                breaches.append(f"{event_type}: {errors}")
        if len(breaches) >= limit:
            break
    return breaches


def became_overdue(invoice_id: int, version: int = 2) -> dict[str, object]:
    """The data of a valid `o2c.invoice.state_changed` event, for tests that write events directly."""
    return {
        "from": "open",
        "to": "overdue",
        "trigger": "become_overdue",
        "actor": "system:cycle",
        "cause": {"kind": "timer"},
        "reason": None,
        "snapshot": {"id": invoice_id, "state": "overdue", "version": version},
    }
