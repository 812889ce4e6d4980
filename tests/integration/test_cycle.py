"""The daily cycle on SQLite and PostgreSQL: it duns per the strategy with an explanation, once
per business date, writes nothing in a dry run, catches up missed dates one ladder step at a time,
never chases a paid, disputed, promised or cancelled invoice, never acts on stale facts, keeps
the contact cap and lets account rules place credit holds."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cycle_support import (
    AMOUNT,
    DAILY_LADDER,
    Portfolio,
    as_json,
    clear_cycle_tables,
    counts,
    daily_ladder,
    history,
    invoice_state,
    notices,
    rows,
    scalar,
    shipped_strategies,
)

from engine.clock import FixedClock, clock_for_date
from engine.commands import (
    AllocationLine,
    OpenDispute,
    PlaceHold,
    RecordPayment,
    RecordPromise,
    TransitionInvoice,
)
from engine.cycle import scope
from engine.cycle.runner import pending_dates, run_cycle, run_due
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.strategies_in_force import load_registry
from states.actors import Actor, person
from states.errors import ValidationFailed

TODAY = date(2026, 3, 2)  # the business date of the `clock` fixture (a Monday)
ALICE = person("alice")
BANK = Actor("payment", "bank-feed")


@pytest.fixture(autouse=True)
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


@pytest.fixture(scope="module")
def strategies() -> StrategySet:
    return shipped_strategies()


@pytest.fixture
def book(service: Collections) -> Portfolio:
    return Portfolio(service, TODAY)


def _pay(service: Collections, customer_id: int, invoice_id: int, amount: int, ref: str) -> None:
    service.apply_payment(
        RecordPayment(
            customer_id=customer_id,
            reference=ref,
            amount=amount,
            currency="EUR",
            received_on=TODAY,
            allocations=(AllocationLine(amount=amount, invoice_id=invoice_id),),
        ),
        BANK,
    )


def test_the_cycle_marks_invoices_past_grace_overdue_and_duns_them_per_their_strategy(
    ctx: Context, book: Portfolio, strategies: StrategySet
) -> None:
    book.customer("smb-low", "smb", "low")  # smb-standard: 3 grace days, a reminder 3 days ahead
    book.customer("smb-high", "smb", "high")  # smb-high-risk: 1 grace day, first notice from day 2
    book.customer("ent-low", "enterprise", "low")  # enterprise-low-risk: 7 grace days
    book.customer("public", "public_sector", "medium")  # public-sector: 14 grace days
    late = book.invoice("smb-low", 5)
    in_grace = book.invoice("smb-low", 2)
    reminded = book.invoice("smb-high", -5)
    risky_late = book.invoice("smb-high", 2)
    ent_in_grace = book.invoice("ent-low", 5)
    ent_late = book.invoice("ent-low", 8)
    public_in_grace = book.invoice("public", 10)
    not_due = book.invoice("public", -20)

    report = run_cycle(ctx, strategies, TODAY)

    assert invoice_state(ctx.store, late) == ("dunning", 1)
    assert invoice_state(ctx.store, risky_late) == ("dunning", 1)
    assert invoice_state(ctx.store, ent_late) == ("dunning", 1)
    assert invoice_state(ctx.store, in_grace) == ("open", 0)
    assert invoice_state(ctx.store, ent_in_grace) == ("open", 0)
    assert invoice_state(ctx.store, public_in_grace) == ("open", 0)
    assert invoice_state(ctx.store, not_due) == ("open", 0)
    assert invoice_state(ctx.store, reminded) == ("open", 0)
    assert notices(ctx.store, late) == [("dun", "smb_dunning_1", 1, "2026-03-02")]
    assert notices(ctx.store, ent_late) == [("dun", "ent_dunning_1", 1, "2026-03-02")]
    assert notices(ctx.store, reminded) == [("remind", "smb_pre_due", 0, "2026-03-02")]
    for quiet in (in_grace, ent_in_grace, public_in_grace, not_due):
        assert notices(ctx.store, quiet) == []

    compiled = strategies.route("smb", "low")
    steps = [h for h in history(ctx.store, late) if h["actor"] == "rule:cycle"]
    assert [(h["from"], h["to"], h["trigger"]) for h in steps] == [
        ("open", "overdue", "mark_overdue"),
        ("overdue", "dunning", "dun"),
    ]
    assert steps[0]["cause"]["rule"] == "grace_days"
    assert steps[0]["cause"]["strategy"] == "smb-standard"
    dun = steps[1]
    assert dun["cause"]["kind"] == "rule"
    assert dun["cause"]["rule"] == "first-notice"
    assert dun["cause"]["strategy"] == "smb-standard"
    assert dun["cause"]["version"] == compiled.version
    assert dun["cause"]["content_hash"] == compiled.content_hash
    assert dun["facts"]["days_past_due"] == 5
    assert dun["facts"]["dunning_level"] == 0
    assert dun["facts"]["state"] == "overdue"
    assert report.notices == 4  # three first notices and one reminder
    assert report.by_rule["smb-standard/first-notice"] == 1
    assert report.by_rule["smb-high-risk/pre-due-reminder"] == 1


def test_the_notice_is_a_message_of_its_own_with_a_requested_event_naming_channel_and_invoices(
    ctx: Context, book: Portfolio, strategies: StrategySet
) -> None:
    book.customer("smb-low", "smb", "low")
    late = book.invoice("smb-low", 5)

    run_cycle(ctx, strategies, TODAY)

    channel, recipient, rule, strategy, message = rows(
        ctx.store, "SELECT channel, recipient, rule, strategy, message FROM notice WHERE invoice = $i", {"i": late}
    )[0]
    assert (channel, recipient, rule, strategy) == ("email", None, "first-notice", "smb-standard")
    assert rows(ctx.store, "SELECT state, channel, template FROM notice_message WHERE id = $m", {"m": message}) == [
        ("requested", "email", "smb_dunning_1")
    ]
    invoice_events = rows(
        ctx.store, "SELECT type FROM outbox WHERE entity_type = 'invoice' AND entity_id = $i ORDER BY id", {"i": late}
    )
    assert invoice_events == ["o2c.invoice.issued", "o2c.invoice.state_changed", "o2c.invoice.state_changed"]
    (kind, version, data), *_ = rows(
        ctx.store,
        "SELECT type, entity_version, data FROM outbox WHERE entity_type = 'notice' AND entity_id = $m",
        {"m": message},
    )
    data = data if isinstance(data, dict) else json.loads(data)
    assert (kind, int(version)) == ("o2c.notice.requested", 1)
    assert (data["channel"], data["recipient"], data["invoices"]) == ("email", None, ["INV-00001"])
    assert rows(
        ctx.store, "SELECT from_state, to_state, trigger FROM transition_history WHERE entity_type = 'notice'"
    ) == [(None, "requested", "request")]


def test_a_customer_hears_once_per_channel_and_day_about_all_its_invoices_each_with_its_own_level(
    ctx: Context, book: Portfolio, strategies: StrategySet
) -> None:
    book.customer("smb-low", "smb", "low")
    invoices = [book.invoice("smb-low", dpd) for dpd in (5, 6, 7)] + [book.invoice("smb-low", -3)]

    report = run_cycle(ctx, strategies, TODAY)

    assert report.notices == 4
    messages = rows(ctx.store, "SELECT id, channel FROM notice_message ORDER BY id")
    assert [c for _, c in messages] == ["email"]
    lines = rows(ctx.store, "SELECT invoice, kind, level, message FROM notice ORDER BY invoice")
    assert [(i, k, lv) for i, k, lv, _ in lines] == [
        (invoices[0], "dun", 1),
        (invoices[1], "dun", 1),
        (invoices[2], "dun", 1),
        (invoices[3], "remind", 0),
    ]
    assert {m for *_, m in lines} == {messages[0][0]}
    assert scalar(ctx.store, "SELECT COUNT(*) FROM outbox WHERE type = 'o2c.notice.requested'") == 1


def test_a_per_invoice_strategy_sends_one_message_per_invoice_and_the_cap_counts_messages(
    ctx: Context, book: Portfolio, tmp_path: Path
) -> None:
    ladder = DAILY_LADDER.replace("max_dunning_level: 3", "max_dunning_level: 3\n  consolidate: per_invoice").replace(
        "daily-ladder", "per-invoice"
    )
    folder = tmp_path / "per-invoice"
    folder.mkdir()
    (folder / "per-invoice.yaml").write_text(ladder + "")
    per_invoice = load_registry(folder).current
    book.customer("smb-low", "smb", "low")
    for dpd in (5, 6, 7, 8):
        book.invoice("smb-low", dpd)

    report = run_cycle(ctx, per_invoice, TODAY)

    # the default cap (3 messages in 7 days) stops the fourth invoice's message
    assert report.notices == 3
    assert scalar(ctx.store, "SELECT COUNT(*) FROM notice_message") == 3
    assert scalar(ctx.store, "SELECT COUNT(DISTINCT message) FROM notice") == 3


def test_after_a_cycle_no_two_events_of_one_entity_share_an_entity_version(
    ctx: Context, book: Portfolio, strategies: StrategySet
) -> None:
    book.customer("smb-low", "smb", "low")
    book.customer("mm", "mid_market", "high")
    for dpd in (-5, 0, 3, 5, 12, 40, 75):
        book.invoice("smb-low", dpd)
        book.invoice("mm", dpd)
    report = run_cycle(ctx, strategies, TODAY)
    assert report.notices > 0
    shared = rows(
        ctx.store,
        "SELECT entity_type, entity_id, entity_version FROM outbox"
        " GROUP BY entity_type, entity_id, entity_version HAVING COUNT(*) > 1",
    )
    assert shared == []


def test_running_the_same_business_date_again_applies_nothing_new(
    ctx: Context, book: Portfolio, strategies: StrategySet
) -> None:
    book.customer("smb-low", "smb", "low")
    book.customer("mm", "mid_market", "high")
    for dpd in (5, 12, 40):
        book.invoice("smb-low", dpd)
        book.invoice("mm", dpd)
    first = run_cycle(ctx, strategies, TODAY)
    written = counts(ctx.store)

    again = run_cycle(ctx, strategies, TODAY)

    assert first.applied > 0 and first.notices > 0
    assert again.already_done
    assert (again.applied, again.notices, again.tasks, again.holds_placed) == (0, 0, 0, 0)
    assert counts(ctx.store) == written


def test_a_cycle_for_a_date_earlier_than_one_done_is_refused_unless_backfilled(
    ctx: Context, book: Portfolio, strategies: StrategySet
) -> None:
    book.customer("smb-low", "smb", "low")
    book.invoice("smb-low", 12)
    run_cycle(ctx, strategies, TODAY)
    written = counts(ctx.store)
    with pytest.raises(ValidationFailed, match="already done") as caught:
        run_cycle(ctx, strategies, TODAY - timedelta(days=3))
    assert caught.value.field == "asOf"
    assert counts(ctx.store) == written
    assert run_cycle(ctx, strategies, TODAY - timedelta(days=3), dry_run=True).dry_run  # a look is fine
    backfilled = run_cycle(ctx, strategies, TODAY - timedelta(days=3), backfill=True)
    assert not backfilled.already_done


def test_a_dry_run_writes_nothing_yet_reports_what_the_real_run_then_does(
    ctx: Context, book: Portfolio, strategies: StrategySet
) -> None:
    book.customer("smb-low", "smb", "low")
    book.customer("smb-high", "smb", "high")
    book.customer("ent-high", "enterprise", "critical")
    book.customer("mm", "mid_market", "medium")
    for dpd in (-5, -3, 2, 5, 20, 35, 70):
        for name in ("smb-low", "smb-high", "ent-high", "mm"):
            book.invoice(name, dpd)
    before = counts(ctx.store)

    dry = run_cycle(ctx, strategies, TODAY, dry_run=True)

    assert counts(ctx.store) == before
    assert pending_dates(ctx, TODAY) == [TODAY]  # not even a cycle_run row
    real = run_cycle(ctx, strategies, TODAY)
    assert dry.applied > 0 and dry.notices > 0 and dry.holds_placed > 0
    assert not real.already_done
    assert (dry.applied, dry.notices, dry.tasks, dry.holds_placed) == (
        real.applied,
        real.notices,
        real.tasks,
        real.holds_placed,
    )
    assert dry.by_rule == real.by_rule
    after = counts(ctx.store)
    assert after["notices"] - before["notices"] == real.notices


def test_after_downtime_the_missed_dates_run_in_order_one_ladder_step_and_one_notice_at_a_time(
    ctx: Context, clock: FixedClock, book: Portfolio, tmp_path: Path
) -> None:
    ladder = daily_ladder(tmp_path / "strategies")
    book.customer("a", "smb", "low")
    book.customer("b", "enterprise", "high")
    invoices = [book.invoice("a", 3), book.invoice("a", 10), book.invoice("b", 2), book.invoice("b", 30)]
    assert run_cycle(ctx, ladder, TODAY).notices == 4
    # three days of downtime
    clock.set(clock_for_date(TODAY + timedelta(days=3)).now())

    missed = pending_dates(ctx, ctx.today())
    reports = run_due(ctx, ladder, ctx.today())

    assert missed == [TODAY + timedelta(days=k) for k in (1, 2, 3)]
    assert [r.business_date for r in reports] == [d.isoformat() for d in missed]
    assert [r.notices for r in reports] == [4, 4, 0]  # level 3 is the top of this ladder
    assert pending_dates(ctx, ctx.today()) == []
    for invoice in invoices:
        sent = notices(ctx.store, invoice)
        per_date = Counter(day for _, _, _, day in sent)
        assert max(per_date.values()) == 1
        assert [level for _, _, level, _ in sent] == [1, 2, 3]
        dunned = [h for h in history(ctx.store, invoice) if h["trigger"] == "dun"]
        assert [h["facts"]["dunning_level"] for h in dunned] == [0, 1, 2]
        assert invoice_state(ctx.store, invoice) == ("dunning", 3)
        assert all(h["cause"]["strategy"] == "daily-ladder" and h["cause"]["version"] == 3 for h in dunned)


def test_catching_up_runs_the_oldest_missed_date_first_even_when_asked_for_a_later_one(
    ctx: Context, book: Portfolio, tmp_path: Path
) -> None:
    ladder = daily_ladder(tmp_path / "strategies")
    book.customer("a", "smb", "low")
    invoice = book.invoice("a", 5)
    run_cycle(ctx, ladder, TODAY - timedelta(days=2))

    reports = run_due(ctx, ladder, TODAY)

    assert [r.business_date for r in reports] == ["2026-03-01", "2026-03-02"]
    assert [(level, day) for _, _, level, day in notices(ctx.store, invoice)] == [
        (1, "2026-02-28"),
        (2, "2026-03-01"),
        (3, "2026-03-02"),
    ]


def test_the_cycle_never_chases_a_paid_disputed_promised_or_cancelled_invoice(
    ctx: Context, service: Collections, book: Portfolio, strategies: StrategySet
) -> None:
    ids = {name: book.customer(name, "smb", "high") for name in ("paid", "disputed", "promised", "cancelled", "owes")}
    paid = book.invoice("paid", 10)
    disputed = book.invoice("disputed", 10)
    promised = book.invoice("promised", 10)
    cancelled = book.invoice("cancelled", 10)
    owed = book.invoice("owes", 10)
    _pay(service, ids["paid"], paid, AMOUNT, "PAY-1")
    service.open_dispute(OpenDispute(invoice_id=disputed, reason_code="pricing"), ALICE)
    service.record_promise(
        RecordPromise(invoice_id=promised, amount=AMOUNT, promised_date=TODAY + timedelta(days=5)), ALICE
    )
    service.transition_invoice(TransitionInvoice(invoice_id=cancelled, trigger="cancel", reason="duplicate"), ALICE)

    report = run_cycle(ctx, strategies, TODAY)

    assert notices(ctx.store, owed) == [("dun", "smb_dunning_1", 1, "2026-03-02")]
    assert report.notices == 1
    for left_alone, state in ((paid, "paid"), (disputed, "disputed"), (promised, "promised"), (cancelled, "cancelled")):
        assert notices(ctx.store, left_alone) == []
        assert invoice_state(ctx.store, left_alone) == (state, 0)
        assert [h for h in history(ctx.store, left_alone) if h["actor"] == "rule:cycle"] == []


def _before_writing(monkeypatch: pytest.MonkeyPatch, meddle: Callable[[], Any]) -> list[list[int]]:
    """Run `meddle` once, after the cycle planned and right before it writes the first chunk."""
    real, seen = scope.write_chunk, []

    def write_chunk(store: Store, plans: Any, *args: Any) -> list[int]:
        seen.append([p.invoice_id for p in plans])
        if len(seen) == 1:
            meddle()
        return real(store, plans, *args)

    monkeypatch.setattr(scope, "write_chunk", write_chunk)
    return seen


def test_an_invoice_paid_between_planning_and_writing_is_a_conflict_and_is_not_chased(
    ctx: Context, service: Collections, book: Portfolio, strategies: StrategySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = book.customer("a", "smb", "high")
    book.customer("b", "smb", "high")
    paid_meanwhile = book.invoice("a", 10)
    other = book.invoice("b", 10)
    seen = _before_writing(monkeypatch, lambda: _pay(service, customer, paid_meanwhile, AMOUNT, "LATE-PAY"))

    report = run_cycle(ctx, strategies, TODAY)

    assert paid_meanwhile in seen[0]  # it was planned with the stale facts
    assert report.conflicts == 1
    assert notices(ctx.store, paid_meanwhile) == []
    assert invoice_state(ctx.store, paid_meanwhile) == ("paid", 0)
    assert [h for h in history(ctx.store, paid_meanwhile) if h["actor"] == "rule:cycle"] == []
    assert notices(ctx.store, other) == [("dun", "smb_dunning_1", 1, "2026-03-02")]
    assert report.notices == 1


def test_an_invoice_disputed_between_planning_and_writing_is_not_chased(
    ctx: Context, service: Collections, book: Portfolio, strategies: StrategySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    book.customer("a", "smb", "high")
    disputed_meanwhile = book.invoice("a", 10)
    _before_writing(
        monkeypatch,
        lambda: service.open_dispute(OpenDispute(invoice_id=disputed_meanwhile, reason_code="quality"), ALICE),
    )

    report = run_cycle(ctx, strategies, TODAY)

    assert report.conflicts == 1
    assert notices(ctx.store, disputed_meanwhile) == []
    assert invoice_state(ctx.store, disputed_meanwhile) == ("disputed", 0)


def test_an_invoice_partly_paid_between_planning_and_writing_is_replanned_on_fresh_facts(
    ctx: Context, service: Collections, book: Portfolio, strategies: StrategySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = book.customer("a", "smb", "high")
    invoice = book.invoice("a", 10)
    seen = _before_writing(monkeypatch, lambda: _pay(service, customer, invoice, 30_000, "PART-PAY"))

    report = run_cycle(ctx, strategies, TODAY)

    assert report.conflicts == 1
    assert seen[-1] == [invoice]  # written again, re-planned alone
    assert notices(ctx.store, invoice) == [("dun", "smb_dunning_1", 1, "2026-03-02")]
    dun = next(h for h in history(ctx.store, invoice) if h["trigger"] == "dun")
    assert dun["facts"]["open_amount"] == "700.00 EUR"  # what was owed when it was written, not planned


def test_the_contact_cap_counts_messages_so_one_message_carries_all_of_a_customers_invoices(
    ctx: Context, book: Portfolio, strategies: StrategySet
) -> None:
    cap = strategies.route("smb", "low").strategy.settings.contact_cap
    assert cap is not None and (cap.max, cap.per_days) == (2, 7)
    book.customer("many", "smb", "low")
    book.customer("one", "smb", "low")
    many = [book.invoice("many", dpd) for dpd in (4, 5, 6, 8, 9)]
    single = book.invoice("one", 5)

    days = [TODAY + timedelta(days=k) for k in range(4)]
    for day in days:
        run_cycle(ctx, strategies, day)

    sent = [n for invoice in many for n in notices(ctx.store, invoice)]
    # the cap counts messages: all five invoices go in the one message of the first day
    assert len(sent) == 5
    assert {day for _, _, _, day in sent} == {"2026-03-02"}
    assert (
        scalar(ctx.store, "SELECT COUNT(*) FROM notice_message WHERE customer = $c", {"c": book.customers["many"]}) == 1
    )
    assert len(notices(ctx.store, single)) == 1  # another customer is not held back
    states = Counter(invoice_state(ctx.store, invoice) for invoice in many)
    assert states == Counter({("dunning", 1): 5})


def test_account_rules_place_a_credit_hold_with_the_rule_as_its_cause(
    ctx: Context, book: Portfolio, strategies: StrategySet
) -> None:
    late_customer = book.customer("late", "smb", "low")
    fine_customer = book.customer("fine", "smb", "low")
    book.invoice("late", 35)  # smb-standard: hold-at-30-days
    book.invoice("fine", 10)

    report = run_cycle(ctx, strategies, TODAY)

    assert report.holds_placed == 1
    compiled = strategies.route("smb", "low")
    (state,) = rows(ctx.store, "SELECT state FROM customer WHERE id = $c", {"c": late_customer})
    assert state == "on_hold"
    assert rows(ctx.store, "SELECT state FROM customer WHERE id = $c", {"c": fine_customer}) == ["active"]
    holds = rows(
        ctx.store,
        "SELECT reason, placed_by, released_at FROM credit_hold WHERE customer = $c",
        {"c": late_customer},
    )
    assert [tuple(h) for h in holds] == [("overdue", "rule:cycle", None)]
    (row,) = rows(
        ctx.store,
        "SELECT from_state, to_state, trigger, cause, facts FROM transition_history "
        "WHERE entity_type = 'account' AND entity_id = $c",
        {"c": late_customer},
    )
    from_state, to_state, trigger, cause, facts = row
    cause, facts = as_json(cause), as_json(facts)
    assert (from_state, to_state, trigger) == ("active", "on_hold", "place_hold")
    assert cause["rule"] == "hold-at-30-days"
    assert (cause["strategy"], cause["version"], cause["content_hash"]) == (
        "smb-standard",
        compiled.version,
        compiled.content_hash,
    )
    assert facts["account.max_days_past_due"] == 35
    event = rows(
        ctx.store,
        "SELECT type FROM outbox WHERE entity_type = 'account' AND entity_id = $c ORDER BY id DESC",
        {"c": late_customer},
    )[0]
    assert event == "o2c.account.credit_hold_placed"


def test_a_held_account_is_not_held_twice_and_is_released_by_the_rule_once_nothing_is_late(
    ctx: Context, service: Collections, book: Portfolio, strategies: StrategySet
) -> None:
    customer = book.customer("late", "smb", "low")
    invoice = book.invoice("late", 35)
    run_cycle(ctx, strategies, TODAY)
    assert run_cycle(ctx, strategies, TODAY + timedelta(days=1)).holds_placed == 0
    assert scalar(ctx.store, "SELECT COUNT(*) FROM credit_hold WHERE customer = $c", {"c": customer}) == 1
    # a person places a manual hold too, and the overdue invoice is settled (which clears 'overdue')
    service.place_hold(PlaceHold(customer_id=customer, reason="manual", note="legal check"), ALICE)
    _pay(service, customer, invoice, AMOUNT, "PAY-ALL")

    run_cycle(ctx, strategies, TODAY + timedelta(days=2))

    active = rows(
        ctx.store, "SELECT reason FROM credit_hold WHERE customer = $c AND released_at IS NULL", {"c": customer}
    )
    assert active == ["manual"]  # the cycle never lifts a person's hold
    assert rows(ctx.store, "SELECT state FROM customer WHERE id = $c", {"c": customer}) == ["on_hold"]


HOLD_ONLY = """\
strategy: hold-only
version: 1
applies_to:
  segment: [enterprise, mid_market, smb, public_sector]
  risk: [low, medium, high, critical]
settings:
  grace_days: 60
  min_amount: {EUR: 10.00}
  max_dunning_level: 3
rules:
  - id: three-days-ahead
    when: days_to_due == 3
    then:
      - remind: {channel: email, template: soon}
  - id: hold-at-30-days
    when: account.max_days_past_due >= 30
    then:
      - credit_hold: {reason: overdue}
"""


def test_account_rules_see_a_payment_committed_by_another_connection_while_the_invoices_were_written(
    ctx: Context, service: Collections, book: Portfolio, tmp_path: Path
) -> None:
    folder = tmp_path / "hold-only"
    folder.mkdir()
    (folder / "hold-only.yaml").write_text(HOLD_ONLY)
    strategies = load_registry(folder).current
    late_customer = book.customer("late", "smb", "low")
    late = book.invoice("late", 35)  # in grace (60 days): no invoice rule acts on it, the account rule would
    book.customer("soon", "smb", "low")
    book.invoice("soon", -3)  # the reminder: one invoice chunk to write

    def pay_from_another_thread(_chunk: int) -> None:
        # another thread has its own database connection: as an API request or another process would
        worker = threading.Thread(target=_pay, args=(service, late_customer, late, AMOUNT, "PAID-MEANWHILE"))
        worker.start()
        worker.join()

    report = run_cycle(ctx, strategies, TODAY, after_chunk=pay_from_another_thread)

    assert report.notices == 1
    assert report.holds_placed == 0  # the account rules saw the payment, not the facts of the load
    assert rows(ctx.store, "SELECT state FROM customer WHERE id = $c", {"c": late_customer}) == ["active"]
    assert scalar(ctx.store, "SELECT COUNT(*) FROM credit_hold WHERE customer = $c", {"c": late_customer}) == 0


def test_without_a_commit_from_elsewhere_the_account_rules_decide_on_the_facts_of_the_load(
    ctx: Context, book: Portfolio, tmp_path: Path
) -> None:
    folder = tmp_path / "hold-only"
    folder.mkdir()
    (folder / "hold-only.yaml").write_text(HOLD_ONLY)
    strategies = load_registry(folder).current
    late_customer = book.customer("late", "smb", "low")
    book.invoice("late", 35)
    book.customer("soon", "smb", "low")
    book.invoice("soon", -3)

    report = run_cycle(ctx, strategies, TODAY)

    assert (report.notices, report.holds_placed) == (1, 1)
    assert rows(ctx.store, "SELECT state FROM customer WHERE id = $c", {"c": late_customer}) == ["on_hold"]
