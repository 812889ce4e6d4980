"""A person's release of an automatic credit hold sticks until the exception's end date: the
cycle does not place that reason again before it, and does after — SQLite and PostgreSQL."""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from cycle_support import Portfolio, clear_cycle_tables, rows

from engine.commands import PlaceHold, ReleaseHold
from engine.cycle.runner import run_cycle
from engine.queries.batches import holds_by_customer_ids
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.services.context import Context
from engine.strategies_in_force import load_registry
from engine.views import HoldView
from states.actors import Actor, person
from states.errors import ValidationFailed

DAY = date(2026, 3, 2)
ALICE = person("alice")

HOLDS = """\
strategy: holds
version: 1
applies_to:
  segment: [enterprise, mid_market, smb, public_sector]
  risk: [low, medium, high, critical]
settings:
  grace_days: 1
  min_amount: {EUR: 10.00}
  max_dunning_level: 3
rules:
  - id: hold-at-30-days
    when: account.max_days_past_due >= 30
    then:
      - credit_hold: {reason: overdue}
"""


@pytest.fixture
def strategies(tmp_path: Path) -> StrategySet:
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "holds.yaml").write_text(textwrap.dedent(HOLDS))
    return load_registry(folder).current


def _state(ctx: Context, customer: int) -> str:
    return str(rows(ctx.store, "SELECT state FROM customer WHERE id = $c", {"c": customer})[0])


def test_a_released_automatic_hold_stays_released_until_the_exception_ends(
    ctx: Context, service: Collections, strategies: StrategySet
) -> None:
    clear_cycle_tables(ctx.store)
    book = Portfolio(service, DAY)
    late = book.customer("late", "smb", "low")
    book.invoice("late", 45)
    run_cycle(ctx, strategies, DAY)
    assert _state(ctx, late) == "on_hold"
    until = DAY + timedelta(days=3)
    service.release_hold(ReleaseHold(late, "overdue", "cfo_promised", "pays next week", until), ALICE)
    assert _state(ctx, late) == "active"
    for offset in (1, 2, 3):  # the exception's days, its end date included
        run_cycle(ctx, strategies, DAY + timedelta(days=offset))
        assert _state(ctx, late) == "active", offset
    run_cycle(ctx, strategies, DAY + timedelta(days=4))
    assert _state(ctx, late) == "on_hold"
    (held,) = [h for h in _holds(service, late) if h.exception_until is not None]
    assert (held.exception_until, held.released_by, held.release_reason_code) == (until, "user:alice", "cfo_promised")


def _holds(service: Collections, customer: int) -> list[HoldView]:
    return holds_by_customer_ids(service.ctx.store, [customer])[customer]


def test_the_exception_defaults_to_the_policy_and_is_bounded(ctx: Context, service: Collections) -> None:
    book = Portfolio(service, DAY)
    c = book.customer("c", "smb", "low")
    service.place_hold(PlaceHold(c, "overdue"), Actor("rule", "x"))
    with pytest.raises(ValidationFailed) as too_long:
        service.release_hold(ReleaseHold(c, "overdue", "ok", None, DAY + timedelta(days=91)), ALICE)
    assert too_long.value.field == "exception_until"
    service.release_hold(ReleaseHold(c, "overdue", "ok"), ALICE)
    (released,) = _holds(service, c)
    assert released.exception_until == DAY + timedelta(days=14)  # policy/credit.yaml
