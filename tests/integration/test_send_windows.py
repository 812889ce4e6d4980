"""Send windows and the customer's business calendar against the real databases: a message due on
a Saturday waits (its reason and next attempt shown by the notices query) and goes out on Monday at
08:00 in the customer's time zone; the `business_day` fact follows the customer's holidays in the
daily cycle and in the per-event re-evaluation alike."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cycle_support import Portfolio, clear_cycle_tables, rows, shipped_strategies
from graphql_harness import data, run
from smtp_support import Inbox, smtp_inbox
from test_graphql_strategies import run_with

from engine.clock import FixedClock
from engine.commands import UpdateCustomer
from engine.config import load_settings
from engine.cycle.reevaluate import Reevaluator
from engine.cycle.runner import run_cycle
from engine.notices.channels import adapters_from
from engine.notices.render import render_pending
from engine.notices.send import send_due
from engine.notices.templates import load
from engine.queries.notices import NoticeFilter, list_notices
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.strategies_in_force import load_registry
from states.actors import person

ROOT = Path(__file__).resolve().parents[2]
FRIDAY = date(2026, 3, 6)
SATURDAY_NOON = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
MONDAY_8_BERLIN = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # 08:00 CET
EPIPHANY = date(2027, 1, 6)  # Wednesday: a holiday in Bavaria, not in Berlin
ADMIN = person("admin")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_inbox() as served:
        yield served


@pytest.fixture(autouse=True)
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


@pytest.fixture(scope="module")
def strategies() -> StrategySet:
    return shipped_strategies()


def _place(service: Collections, customer: int, zone: str, country: str | None, subdivision: str | None) -> None:
    service.handle(UpdateCustomer(customer, timezone=zone, country=country, subdivision=subdivision), ADMIN)


def _state(store: Store, ref: str) -> str:
    found = rows(store, "SELECT m.state FROM notice_message m JOIN customer c ON c.id = m.customer "
                        "WHERE c.external_ref = $r", {"r": ref})  # fmt: skip
    return str(found[0])


def test_a_message_due_on_saturday_waits_until_monday_eight_local_then_goes_out(
    ctx: Context, clock: FixedClock, service: Collections, strategies: StrategySet, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    book = Portfolio(service, FRIDAY)
    berlin = book.customer("berlin", "smb", "low")
    _place(service, berlin, "Europe/Berlin", "DE", "BE")
    book.invoice("berlin", 5)
    run_cycle(ctx, strategies, FRIDAY)
    templates = load(ROOT / "templates")
    render_pending(ctx.store, templates, strategies, ctx.now())
    adapters = adapters_from(
        load_settings({"O2C_SMTP_URL": f"smtp://127.0.0.1:{port}", "O2C_MAIL_FROM": "credit@northwind.example"})
    )

    clock.set(SATURDAY_NOON)
    saturday = send_due(ctx.store, templates, strategies, adapters, ctx.now())

    assert (saturday.sent, saturday.waiting) == (0, 1) and inbox.messages == []
    assert _state(ctx.store, "berlin") == "rendered"  # not queued: nothing was handed to a channel
    shown = data(run(ctx, "{ notices(first: 5) { nodes { state waiting nextAttemptAt } } }"))["notices"]["nodes"]
    assert shown == [
        {
            "state": "RENDERED",
            "waiting": "outside the send window until Mon 2026-03-09 08:00 Europe/Berlin "
            "(08:00–18:00, business days of DE-BE)",
            "nextAttemptAt": "2026-03-09T07:00:00+00:00",
        }
    ]

    clock.set(datetime(2026, 3, 9, 6, 59, tzinfo=UTC))  # Monday 07:59 in Berlin: not due yet
    early = send_due(ctx.store, templates, strategies, adapters, ctx.now())
    assert (early.sent, early.waiting) == (0, 0) and inbox.messages == []

    clock.set(MONDAY_8_BERLIN)
    monday = send_due(ctx.store, templates, strategies, adapters, ctx.now())

    assert monday.sent == 1
    (mail,) = inbox.messages
    assert mail["To"] == "berlin@example.com"
    assert _state(ctx.store, "berlin") == "sent"
    (after,) = list_notices(ctx.store, NoticeFilter(customer_id=berlin), 10, None).edges
    assert after.node.waiting is None and after.node.state == "sent"


def test_one_pass_sends_to_the_customer_in_its_hours_and_holds_the_one_after_hours(
    ctx: Context, clock: FixedClock, service: Collections, strategies: StrategySet, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    book = Portfolio(service, FRIDAY)
    _place(service, book.customer("paris", "smb", "low"), "Europe/Paris", "FR", None)
    _place(service, book.customer("tokyo", "smb", "low"), "Asia/Tokyo", "JP", None)
    book.invoice("paris", 5)
    book.invoice("tokyo", 5)
    run_cycle(ctx, strategies, FRIDAY)
    templates = load(ROOT / "templates")
    render_pending(ctx.store, templates, strategies, ctx.now())
    adapters = adapters_from(load_settings({"O2C_SMTP_URL": f"smtp://127.0.0.1:{port}"}))

    clock.set(datetime(2026, 3, 6, 10, 0, tzinfo=UTC))  # Friday 11:00 in Paris, 19:00 in Tokyo
    outcome = send_due(ctx.store, templates, strategies, adapters, ctx.now())

    assert (outcome.sent, outcome.waiting) == (1, 1)
    assert [m["To"] for m in inbox.messages] == ["paris@example.com"]
    assert (_state(ctx.store, "paris"), _state(ctx.store, "tokyo")) == ("sent", "rendered")
    (at,) = rows(ctx.store, "SELECT m.next_attempt_at FROM notice_message m JOIN customer c ON c.id = m.customer "
                            "WHERE c.external_ref = 'tokyo'")  # fmt: skip
    assert str(at).startswith("2026-03-08 23:00")  # Monday 08:00 JST


ON_BUSINESS_DAYS = """\
strategy: business-days-only
version: 1
applies_to:
  segment: [enterprise, mid_market, smb, public_sector]
  risk: [low, medium, high, critical]
settings:
  grace_days: 1
  min_amount: {EUR: 10.00}
  max_dunning_level: 3
rules:
  - id: first-notice
    when: dunning_level == 0 and business_day
    then:
      - dun: {channel: email, template: dunning_1}
"""


@pytest.mark.parametrize("path", ["cycle", "per-event"])
def test_business_day_is_false_on_a_customers_holiday_in_the_cycle_and_per_event(
    ctx: Context, service: Collections, tmp_path: Path, path: str
) -> None:
    (tmp_path / "business-days-only.yaml").write_text(textwrap.dedent(ON_BUSINESS_DAYS))
    registry = load_registry(tmp_path)
    book = Portfolio(service, EPIPHANY)
    _place(service, book.customer("munich", "smb", "low"), "Europe/Berlin", "DE", "BY")
    _place(service, book.customer("berlin", "smb", "low"), "Europe/Berlin", "DE", "BE")
    book.customer("nowhere", "smb", "low")  # no country: weekdays only
    invoices = [book.invoice(name, 5) for name in ("munich", "berlin", "nowhere")]

    if path == "cycle":
        run_cycle(ctx, registry.current, EPIPHANY)
    else:
        Reevaluator(ctx, registry)(invoices, EPIPHANY)

    levels = dict(rows(ctx.store, "SELECT c.external_ref, i.dunning_level FROM invoice i "
                                  "JOIN customer c ON c.id = i.customer"))  # fmt: skip
    assert levels == {"munich": 0, "berlin": 1, "nowhere": 1}


LUNCH_HOUR = """\
strategy: lunch-hour
version: 1
applies_to:
  segment: [enterprise, mid_market, smb, public_sector]
  risk: [low, medium, high, critical]
settings:
  grace_days: 1
  min_amount: {EUR: 10.00}
  max_dunning_level: 3
  send_window: {from: "13:00", to: "14:00"}
rules:
  - id: first-notice
    when: dunning_level == 0
    then:
      - dun: {channel: email, template: smb_dunning_1}
"""


def test_a_strategys_own_send_window_holds_its_messages_until_its_hours(
    ctx: Context, clock: FixedClock, service: Collections, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    (tmp_path / "lunch-hour.yaml").write_text(LUNCH_HOUR)
    registry = load_registry(tmp_path)
    book = Portfolio(service, FRIDAY)
    book.customer("utc", "smb", "low")  # no country, time zone UTC
    book.invoice("utc", 5)
    run_cycle(ctx, registry.current, FRIDAY)
    templates = load(ROOT / "templates")
    render_pending(ctx.store, templates, registry.current, ctx.now())
    adapters = adapters_from(load_settings({"O2C_SMTP_URL": f"smtp://127.0.0.1:{port}"}))

    clock.set(datetime(2026, 3, 6, 12, 0, tzinfo=UTC))  # inside 08-18, before the strategy's 13:00
    noon = send_due(ctx.store, templates, registry.current, adapters, ctx.now())
    assert (noon.sent, noon.waiting) == (0, 1)
    (reason,) = rows(ctx.store, "SELECT waiting FROM notice_message")
    assert reason == "outside the send window until Fri 2026-03-06 13:00 UTC (13:00–14:00, Monday to Friday)"

    clock.set(datetime(2026, 3, 6, 13, 0, tzinfo=UTC))
    assert send_due(ctx.store, templates, registry.current, adapters, ctx.now()).sent == 1
    assert len(inbox.messages) == 1


def test_graphql_shows_each_strategys_send_window(ctx: Context, tmp_path: Path) -> None:
    (tmp_path / "lunch-hour.yaml").write_text(LUNCH_HOUR)
    found = data(run_with(ctx, load_registry(tmp_path), "{ strategies { name settings { sendWindow { from to } } } }"))
    assert found["strategies"] == [{"name": "lunch-hour", "settings": {"sendWindow": {"from": "13:00", "to": "14:00"}}}]
    shipped = data(
        run_with(ctx, load_registry(ROOT / "strategies"), "{ strategies { settings { sendWindow { from to } } } }")
    )
    assert {
        (s["settings"]["sendWindow"]["from"], s["settings"]["sendWindow"]["to"]) for s in shipped["strategies"]
    } == {("08:00", "18:00")}
