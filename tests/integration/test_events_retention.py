"""Outbox retention on SQLite and PostgreSQL: old events go, except what webhooks still need and
the newest one; a cursor from before the removed events is refused with CURSOR_EXPIRED."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import pytest
from event_contract import became_overdue
from graphql_harness import codes, data, run

from engine.clock import FixedClock
from engine.config import Settings, load_settings
from engine.events.cursor import encode
from engine.events.retention import CursorExpired, check_cursor, prune, watermark
from engine.journal import emit
from engine.queries.events import events_after
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, transact
from engine.strategies_in_force import load_registry
from engine.webhooks import endpoints
from engine.webhooks.fanout import FANOUT_CURSOR, fan_out
from engine.worker import build_scheduler
from states.errors import ValidationFailed

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


@pytest.fixture
def clean(store: Store) -> Store:
    with UnitOfWork(store, write=True) as uow:
        for sql in ("DELETE FROM webhook_attempt", "DELETE FROM webhook_delivery", "DELETE FROM webhook_endpoint"):
            uow.execute(sql)
        uow.execute("DELETE FROM lease")
        uow.commit()
    return store


def publish(store: Store, days_ago: int, n: int = 1) -> list[int]:
    """`n` events written `days_ago` days before NOW; returns their positions."""

    def work(uow: UnitOfWork) -> list[str]:
        return [
            emit(
                uow,
                type="o2c.invoice.state_changed",
                entity_type="invoice",
                entity_id=100 + k,
                entity_version=2,
                customer_id=None,
                at=NOW - timedelta(days=days_ago),
                data=became_overdue(100 + k),
            )
            for k in range(n)
        ]

    ids = set(transact(store, work))
    return [e.position for e in events_after(store, 0, 10_000) if e.id in ids]


def positions(store: Store) -> list[int]:
    return [e.position for e in events_after(store, 0, 10_000)]


def test_events_older_than_the_retention_are_removed_and_newer_ones_kept(clean: Store) -> None:
    old = publish(clean, 40, 3)
    recent = publish(clean, 5, 2)
    result = prune(clean, NOW, days=30)
    assert result.removed == 3
    assert positions(clean) == recent
    assert watermark(clean) == old[-1] == result.watermark


def test_a_cursor_from_before_removed_events_is_expired_and_one_after_them_is_not(clean: Store) -> None:
    old = publish(clean, 40, 3)
    publish(clean, 1)
    prune(clean, NOW, days=30)
    with pytest.raises(CursorExpired) as expired:
        check_cursor(clean, old[0])
    assert expired.value.code == "CURSOR_EXPIRED"
    check_cursor(clean, old[-1])  # everything after it is still there


def test_the_newest_event_is_kept_even_when_it_is_older_than_the_retention(clean: Store) -> None:
    old = publish(clean, 40, 3)
    result = prune(clean, NOW, days=30)
    assert result.removed == 2
    assert positions(clean) == [old[-1]]
    (after,) = publish(clean, 0)
    assert after > old[-1]  # positions keep growing


def test_events_a_webhook_delivery_still_needs_or_not_yet_fanned_out_are_kept(clean: Store) -> None:
    endpoints.register(clean, "https://erp.example.com/hooks", NOW - timedelta(days=60), allow_private=True)
    needed = publish(clean, 40, 2)
    fan_out(clean, NOW - timedelta(days=40))  # two pending deliveries refer to them
    not_fanned_out = publish(clean, 35, 2)
    with UnitOfWork(clean, write=True) as uow:  # the fan-out stopped before these two
        uow.Lease.get_for_update(name=FANOUT_CURSOR).holder = str(needed[-1])
        uow.commit()
    publish(clean, 1)
    result = prune(clean, NOW, days=30)
    assert result.removed == 0
    assert result.kept_for_webhooks == 2
    assert set(needed + not_fanned_out) <= set(positions(clean))


def test_a_finished_delivery_keeps_its_event_until_delivery_retention_removes_it(clean: Store) -> None:
    endpoints.register(clean, "https://erp.example.com/hooks", NOW - timedelta(days=60), allow_private=True)
    (position,) = publish(clean, 40)
    fan_out(clean, NOW - timedelta(days=40))
    with UnitOfWork(clean, write=True) as uow:
        uow.execute("UPDATE webhook_delivery SET status = 'dead'")
        uow.commit()
    publish(clean, 1)
    assert prune(clean, NOW, days=30).removed == 0  # it can still be redelivered
    with UnitOfWork(clean, write=True) as uow:
        uow.execute("DELETE FROM webhook_delivery")
        uow.commit()
    assert prune(clean, NOW, days=30).removed == 1
    assert position not in positions(clean)


def test_pruning_works_through_many_batches(clean: Store) -> None:
    publish(clean, 40, 250)
    publish(clean, 1)
    assert prune(clean, NOW, days=30, batch=60).removed == 250


def test_the_retention_setting_is_validated() -> None:
    assert load_settings({}).event_retention_days == 30
    assert load_settings({"O2C_EVENT_RETENTION_DAYS": "7"}).event_retention_days == 7
    for bad in ("0", "-3", "ten", "1.5"):
        with pytest.raises(ValidationFailed, match="O2C_EVENT_RETENTION_DAYS="):
            load_settings({"O2C_EVENT_RETENTION_DAYS": bad})


def test_the_events_query_refuses_an_expired_cursor_and_serves_a_valid_one(ctx: Context, clean: Store) -> None:
    old = publish(clean, 40, 3)
    recent = publish(clean, 2, 2)
    prune(clean, NOW, days=30)
    query = "query($after: String) { events(after: $after) { events { cursor } } }"
    assert codes(run(ctx, query, {"after": encode(old[0])}, role="integrator")) == ["CURSOR_EXPIRED"]
    page = data(run(ctx, query, {"after": encode(old[-1])}, role="integrator"))["events"]["events"]
    assert [e["cursor"] for e in page] == [encode(p) for p in recent]
    from_start = data(run(ctx, query, {"after": None}, role="integrator"))["events"]["events"]
    assert [e["cursor"] for e in from_start] == [encode(p) for p in recent]


def test_o2c_events_prune_removes_old_events_in_a_real_process(clean: Store, database_url: str) -> None:
    publish(clean, 400, 4)
    publish(clean, 0)
    env = {**os.environ, "O2C_DATABASE_URL": database_url, "O2C_EVENT_RETENTION_DAYS": "100"}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "events", "prune", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["removed"] == 4 and result["days"] == 100
    assert len(positions(clean)) == 1


def test_the_clock_decides_what_is_old(clean: Store) -> None:
    publish(clean, 10, 2)
    publish(clean, 0)
    later = FixedClock(NOW + timedelta(days=25))
    assert prune(clean, later.now(), days=30).removed == 2


def test_the_leaders_scheduler_prunes_the_outbox_once_per_business_date(clean: Store, database_url: str) -> None:
    clock = FixedClock(NOW)
    ctx = Context(store=clean, clock=clock, settings=Settings(database_url=database_url))
    old = publish(clean, 40, 2)
    recent = publish(clean, 1)
    strategies = Path(__file__).resolve().parents[2] / "strategies"
    leader = build_scheduler(ctx, load_registry(strategies), dtime(23, 59))  # no cycle due today

    leader.tick()
    assert leader.is_leader
    assert positions(clean) == recent
    assert watermark(clean) == old[-1]

    publish(clean, 40)  # written late with an old time: the same business date does not prune again
    leader.tick()
    assert len(positions(clean)) == 2


def test_once_the_days_cycle_is_done_the_leader_refreshes_no_predictions_on_later_ticks(
    clean: Store, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FixedClock(NOW)
    ctx = Context(store=clean, clock=clock, settings=Settings(database_url=database_url))
    strategies = Path(__file__).resolve().parents[2] / "strategies"
    leader = build_scheduler(ctx, load_registry(strategies), dtime(0, 0))  # the cycle is due at once

    with caplog.at_level(logging.INFO, logger="engine.worker"):
        leader.tick()
        leader.tick()
        leader.tick()

    refreshed = [r for r in caplog.records if r.getMessage().startswith("predictions ")]
    assert len(refreshed) == 1  # before the day's cycle, not on every tick after it
    assert any(r.getMessage().startswith("cycle ") for r in caplog.records)
