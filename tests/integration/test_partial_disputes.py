"""Disputes that pause only what is disputed, SLAs from the policy file, owners, comments and
numbered credit notes — on SQLite and PostgreSQL."""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from cycle_support import Portfolio, clear_cycle_tables, history, notices, rows

from engine.commands import OpenDispute, ResolveDispute
from engine.cycle.runner import run_cycle
from engine.policy.disputes import read_dispute_policy
from engine.rules.errors import StrategyError
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.services.context import Context
from engine.strategies_in_force import load_registry
from states.actors import person
from states.errors import ValidationFailed

DAY = date(2026, 3, 2)
ALICE = person("alice")

LADDER = """\
strategy: ladder
version: 1
applies_to:
  segment: [enterprise, mid_market, smb, public_sector]
  risk: [low, medium, high, critical]
settings:
  grace_days: 1
  min_amount: {EUR: 50.00}
  max_dunning_level: 3
rules:
  - id: notice
    when: days_since_last_notice >= 1
    then:
      - dun: {channel: email, template: ladder}
"""


@pytest.fixture
def strategies(tmp_path: Path) -> StrategySet:
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "ladder.yaml").write_text(textwrap.dedent(LADDER))
    return load_registry(folder).current


def test_a_partial_dispute_leaves_the_rest_of_the_invoice_on_the_ladder(
    ctx: Context, service: Collections, strategies: StrategySet
) -> None:
    clear_cycle_tables(ctx.store)
    book = Portfolio(service, DAY)
    book.customer("a", "smb", "low")
    partly, wholly, mostly = book.invoice("a", 20, 30_000), book.invoice("a", 20, 30_000), book.invoice("a", 20, 30_000)
    d = service.open_dispute(OpenDispute(partly, "quantity", 10_000, "two of six pallets missing"), ALICE)
    service.open_dispute(OpenDispute(wholly, "pricing"), ALICE)
    service.open_dispute(OpenDispute(mostly, "quality", 26_000), ALICE)  # leaves 40.00: below the 50.00 minimum
    states = {int(i): str(s) for i, s in rows(ctx.store, "SELECT id, state FROM invoice")}
    assert (states[partly], states[wholly], states[mostly]) == ("open", "disputed", "open")  # the cycle marks overdue
    run_cycle(ctx, strategies, DAY)
    assert [n[0] for n in notices(ctx.store, partly)] == ["dun"]
    assert notices(ctx.store, wholly) == [] and notices(ctx.store, mostly) == []
    dun = next(h for h in history(ctx.store, partly) if h["trigger"] == "dun")
    assert dun["facts"]["collectible_amount"] == "200.00 EUR" and dun["facts"]["open_amount"] == "300.00 EUR"
    resolved = service.resolve_dispute(ResolveDispute(d.id, "accepted"), ALICE)
    assert resolved.state == "resolved"
    assert service.dispute_credit_notes(d.id) == [(f"CN-{DAY.year}-{1:06d}", 10_000)]


def test_the_sla_comes_from_the_policy_per_reason_and_segment(ctx: Context, service: Collections) -> None:
    book = Portfolio(service, DAY)
    book.customer("big", "enterprise", "low")
    book.customer("small", "smb", "low")
    big = service.open_dispute(OpenDispute(book.invoice("big", 5), "quality"), ALICE)
    small = service.open_dispute(OpenDispute(book.invoice("small", 5), "quality"), ALICE)
    assert (big.due_at - big.opened_at, small.due_at - small.opened_at) == (timedelta(days=20), timedelta(days=15))
    assert big.owner == "disputes"


def test_a_dispute_gets_an_owner_and_comments_with_events(ctx: Context, service: Collections) -> None:
    book = Portfolio(service, DAY)
    book.customer("a", "smb", "low")
    d = service.open_dispute(OpenDispute(book.invoice("a", 5), "not_received"), ALICE)
    service.comment_on_dispute(d.id, "asked the carrier for the proof of delivery", ALICE)
    owned = service.assign_dispute(d.id, "bob", ALICE)
    assert (owned.owner, owned.version) == ("bob", d.version + 2)
    assert [(a, t) for a, t, _ in service.dispute_comments(d.id)] == [
        ("user:alice", "asked the carrier for the proof of delivery")
    ]
    types = [str(t) for t in rows(ctx.store, "SELECT type FROM outbox WHERE entity_type = 'dispute' ORDER BY id")]
    assert types[-2:] == ["o2c.dispute.commented", "o2c.dispute.owner_changed"]
    with pytest.raises(ValidationFailed) as empty:
        service.comment_on_dispute(d.id, "  ", ALICE)
    assert empty.value.field == "text"


def test_a_policy_file_with_mistakes_names_each_with_its_line() -> None:
    text = textwrap.dedent(
        """\
        sla_days:
          default: {pricing: 10}
          retail: {pricing: 3}
          smb:
            pricing: 0
        owner: disputes
        """
    )
    with pytest.raises(StrategyError) as bad:
        read_dispute_policy(text, "disputes.yaml")
    messages = [str(p) for p in bad.value.problems]
    assert any(m.startswith("disputes.yaml:2:") and "missing 'quantity'" in m for m in messages)
    assert any(m.startswith("disputes.yaml:3:3:") and "unknown key 'retail'" in m for m in messages)
    assert any(m.startswith("disputes.yaml:5:") and "pricing" in m for m in messages)


def test_the_shipped_dispute_policy_reads_without_problems() -> None:
    text = (Path(__file__).resolve().parents[2] / "policy" / "disputes.yaml").read_text()
    policy = read_dispute_policy(text, "disputes.yaml")
    assert policy.sla_days("terms", "public_sector") == 30 and policy.sla_days("terms", "smb") == 15
