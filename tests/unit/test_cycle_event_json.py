"""The cycle's set-based writers build the outbox event of a transition as text; it must hold
what `engine.journal.record_transition` stores for the same transition, key for key."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.cycle.event_json import JsonTexts, transition_data
from engine.journal import record_transition
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from engine.store.upgrades import upgrade
from states.actors import Actor

AT = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
CAUSE = {"kind": "rule", "strategy": "smb-standard", "version": 4, "rule": "first-notice", "track": "main"}


def _stored_data(tmp_path: Path, **transition: Any) -> Any:
    store = Store(f"sqlite:///{tmp_path / 'o2c.sqlite'}")
    upgrade(store)
    try:
        with UnitOfWork(store, write=True) as uow:
            record_transition(uow, at=AT, **transition)
            uow.commit()
        with UnitOfWork(store) as uow:
            (data,) = uow.select("SELECT data FROM outbox")
        return json.loads(data) if isinstance(data, str) else data
    finally:
        store.disconnect()


def test_the_cycle_event_text_of_an_invoice_transition_equals_what_record_transition_stores(tmp_path: Path) -> None:
    snapshot = {"id": 7, "customerId": 3, "currency": "EUR", "state": "dunning", "dunningLevel": 1, "version": 5}
    stored = _stored_data(
        tmp_path,
        entity_type="invoice",
        entity_id=7,
        entity_version=5,
        customer_id=3,
        from_state="overdue",
        to_state="dunning",
        trigger="dun",
        actor=Actor("rule", "cycle"),
        cause=CAUSE,
        reason='first "notice" — sent',
        snapshot=snapshot,
    )
    enc = JsonTexts()

    text = transition_data(
        enc,
        from_state="overdue",
        to_state="dunning",
        trigger="dun",
        actor="rule:cycle",
        cause_json=enc.obj(CAUSE),
        reason='first "notice" — sent',
        snapshot_json=json.dumps(snapshot),
        version=5,
    )

    assert json.loads(text) == stored


def test_the_cycle_event_text_of_an_account_hold_without_a_reason_equals_what_record_transition_stores(
    tmp_path: Path,
) -> None:
    snapshot = {"id": 3, "state": "on_hold", "holdReason": "overdue_30"}
    stored = _stored_data(
        tmp_path,
        entity_type="account",
        entity_id=3,
        entity_version=2,
        customer_id=3,
        from_state="active",
        to_state="on_hold",
        trigger="place_hold",
        actor=Actor("rule", "cycle"),
        cause=CAUSE,
        reason=None,
        snapshot=snapshot,
        event_type="o2c.account.credit_hold_placed",
    )
    enc = JsonTexts()

    text = transition_data(
        enc,
        from_state="active",
        to_state="on_hold",
        trigger="place_hold",
        actor="rule:cycle",
        cause_json=enc.obj(CAUSE),
        reason=None,
        snapshot_json=json.dumps(snapshot),
        version=2,
    )

    assert json.loads(text) == stored
