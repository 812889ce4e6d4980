"""Dunning blocks on SQLite and PostgreSQL: a blocked invoice gets no notice while its neighbours
do, strategies see `blocked`, blocks end by themselves on their date, and every step is history."""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from cycle_support import Portfolio, clear_cycle_tables, notices, rows

from engine.cycle.runner import run_cycle
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.services.context import Context
from engine.strategies_in_force import load_registry
from engine.timers import run_timers
from states.actors import person
from states.errors import InvalidTransition, NotFound, ValidationFailed

DAY = date(2026, 3, 2)
ALICE = person("alice")

LADDER_AND_BLOCKS = """\
strategy: ladder-and-blocks
version: 1
applies_to:
  segment: [enterprise, mid_market, smb, public_sector]
  risk: [low, medium, high, critical]
settings:
  grace_days: 1
  min_amount: {EUR: 10.00}
  max_dunning_level: 3
rules:
  - id: notice
    when: days_since_last_notice >= 1
    then:
      - dun: {channel: email, template: ladder}
  - id: check-the-block
    track: follow-up
    when: blocked and days_past_due >= 10
    then:
      - create_task: {queue: blocked-review, note: "blocked and late: is the block still right?"}
"""


@pytest.fixture
def strategies(tmp_path: Path) -> StrategySet:
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "blocks.yaml").write_text(textwrap.dedent(LADDER_AND_BLOCKS))
    return load_registry(folder).current


def test_a_blocked_invoice_gets_no_notice_while_the_others_do_and_the_rules_see_blocked(
    ctx: Context, service: Collections, strategies: StrategySet
) -> None:
    clear_cycle_tables(ctx.store)
    book = Portfolio(service, DAY)
    a = book.customer("a", "smb", "low")
    book.customer("b", "smb", "low")
    blocked_one, free_one = book.invoice("a", 20), book.invoice("a", 20)
    whole = book.invoice("b", 20)
    service.place_block(a, blocked_one, "negotiation", None, "talking to their CFO", ALICE)
    service.place_block(book.customers["b"], None, "legal", DAY + timedelta(days=1), None, ALICE)
    run_cycle(ctx, strategies, DAY)
    assert notices(ctx.store, blocked_one) == [] and notices(ctx.store, whole) == []
    assert [n[0] for n in notices(ctx.store, free_one)] == ["dun"]
    tasks = rows(ctx.store, "SELECT invoice, queue FROM collector_task ORDER BY invoice")
    assert sorted((int(i), str(q)) for i, q in tasks) == [(blocked_one, "blocked-review"), (whole, "blocked-review")]
    states = rows(ctx.store, "SELECT id, state FROM invoice ORDER BY id")
    assert dict((int(i), str(s)) for i, s in states)[blocked_one] == "overdue"  # not dunned


def test_a_block_ends_on_its_date_by_itself_and_dunning_resumes(
    ctx: Context, service: Collections, strategies: StrategySet
) -> None:
    clear_cycle_tables(ctx.store)
    book = Portfolio(service, DAY)
    b = book.customer("b", "smb", "low")
    inv = book.invoice("b", 20)
    block = service.place_block(b, None, "customer_request", DAY + timedelta(days=1), None, ALICE)
    run_cycle(ctx, strategies, DAY + timedelta(days=1))  # the last blocked day
    assert notices(ctx.store, inv) == []
    run_cycle(ctx, strategies, DAY + timedelta(days=2))  # the day after: chased again, timer or not
    assert [n[3] for n in notices(ctx.store, inv)] == [(DAY + timedelta(days=2)).isoformat()]
    assert run_timers(ctx, DAY + timedelta(days=2)).blocks_expired == [block.id]
    assert run_timers(ctx, DAY + timedelta(days=3)).blocks_expired == []
    steps = rows(
        ctx.store,
        "SELECT trigger, from_state, to_state, actor FROM transition_history WHERE entity_type = 'dunning_block' "
        "ORDER BY id",
    )
    assert [tuple(s) for s in steps] == [
        ("place", None, "active", "user:alice"),
        ("expire", "active", "expired", "timer:o2c"),
    ]
    types = rows(ctx.store, "SELECT type FROM outbox WHERE entity_type = 'dunning_block' ORDER BY id")
    assert [str(t) for t in types] == ["o2c.dunning_block.placed", "o2c.dunning_block.state_changed"]


def test_a_lifted_block_is_history_and_bad_blocks_are_refused(ctx: Context, service: Collections) -> None:
    book = Portfolio(service, DAY)
    a = book.customer("a", "smb", "low")
    other = book.customer("o", "smb", "low")
    inv = book.invoice("a", 5)
    block = service.place_block(a, inv, "payment_plan", None, None, ALICE)
    assert [v.id for v in service.blocks_of(a, inv)] == [block.id]
    with pytest.raises(ValidationFailed) as no_reason:
        service.lift_block(block.id, "", ALICE)
    assert no_reason.value.field == "reason"
    lifted = service.lift_block(block.id, "plan signed", person("bob"))
    assert (lifted.status, lifted.ended_by, lifted.end_reason) == ("lifted", "user:bob", "plan signed")
    assert service.blocks_of(a, inv) == [] and len(service.blocks_of(a, inv, active_only=False)) == 1
    with pytest.raises(InvalidTransition):
        service.lift_block(block.id, "again", ALICE)
    with pytest.raises(ValidationFailed) as reason:
        service.place_block(a, None, "because", None, None, ALICE)
    assert reason.value.field == "reason_code"
    with pytest.raises(ValidationFailed) as past:
        service.place_block(a, None, "legal", DAY - timedelta(days=1), None, ALICE)
    assert past.value.field == "ends_on"
    with pytest.raises(ValidationFailed):
        service.place_block(other, inv, "legal", None, None, ALICE)  # another customer's invoice
    with pytest.raises(NotFound):
        service.place_block(999, None, "legal", None, None, ALICE)
    assert len(rows(ctx.store, "SELECT id FROM dunning_block")) == 1
