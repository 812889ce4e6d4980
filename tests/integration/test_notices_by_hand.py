"""A dunning step by hand (`transitionInvoice` with `dun`) on SQLite and PostgreSQL: it writes what
the rule's `dun` writes for an identical invoice (notice row, message, history facts, events), only
the person, their reason and a cause naming them differ; its line joins the customer's message of
the day, which `o2c notices send --once` delivers to a real SMTP server; GraphQL shows the notice on
the invoice; what the machine, a block or the one-notice-a-day rule forbid is refused and writes
nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cycle_support import Portfolio, clear_cycle_tables, counts, invoice_state, rows, shipped_strategies
from graphql_harness import codes, data, run
from smtp_support import Inbox, smtp_inbox

from api.cli import main as o2c
from engine.clock import FixedClock, clock_for_date
from engine.commands import OpenDispute, TransitionInvoice
from engine.cycle.runner import run_cycle
from engine.cycle.scope import CYCLE_ACTOR
from engine.notices.render import render_pending
from engine.notices.templates import load
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from states.actors import person
from states.errors import InvalidTransition, ValidationFailed

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 3, 2)  # a Monday, the business date of the `clock` fixture
ALICE = person("alice")


@pytest.fixture(autouse=True)
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


@pytest.fixture(scope="module")
def strategies() -> StrategySet:
    return shipped_strategies()


def _dun(service: Collections, invoice: int, reason: str = "the customer asked for it in writing") -> None:
    service.transition_invoice(TransitionInvoice(invoice, "dun", reason), ALICE)


def _on(clock: FixedClock, day: date) -> None:
    clock.set(clock_for_date(day).now())


def _mark(store: Store) -> tuple[int, int]:
    """The last outbox and history row ids."""
    return (
        int(rows(store, "SELECT COALESCE(MAX(id), 0) FROM outbox")[0]),
        int(rows(store, "SELECT COALESCE(MAX(id), 0) FROM transition_history")[0]),
    )


def _written(store: Store, invoice: int, since: tuple[int, int]) -> dict[str, Any]:
    """What was written for `invoice` on TODAY (its message, notice row, history, events), with the
    ids, numbers, actor, cause and reason taken out to be compared on their own."""
    (customer,) = rows(store, "SELECT customer FROM invoice WHERE id = $i", {"i": invoice})
    notice = rows(
        store,
        "SELECT kind, channel, template, recipient, level, business_date, rule, strategy, message FROM notice "
        "WHERE invoice = $i AND business_date = $d",
        {"i": invoice, "d": TODAY},
    )
    (row,) = notice
    message = rows(
        store,
        "SELECT channel, business_date, group_key, state, template, strategy FROM notice_message WHERE id = $m",
        {"m": row[-1]},
    )
    history = rows(
        store,
        "SELECT entity_type, entity_version, from_state, to_state, trigger, actor, cause, facts, reason "
        "FROM transition_history WHERE ((entity_type = 'invoice' AND entity_id = $i) "
        "OR (entity_type = 'notice' AND entity_id = $m)) AND id > $s ORDER BY id",
        {"i": invoice, "m": row[-1], "s": since[1]},
    )
    events = rows(
        store,
        "SELECT type, entity_type, entity_version, data FROM outbox WHERE id > $s AND "
        "((entity_type = 'invoice' AND entity_id = $i) OR (entity_type = 'notice' AND entity_id = $m)) ORDER BY id",
        {"s": since[0], "i": invoice, "m": row[-1]},
    )
    (number,) = rows(store, "SELECT number FROM invoice WHERE id = $i", {"i": invoice})
    people: list[tuple[Any, ...]] = []
    shown_events = []
    for type_, entity, version, payload in events:
        body = payload if isinstance(payload, dict) else json.loads(payload)
        people.append((type_, body.pop("actor"), body.pop("cause"), body.pop("reason")))
        text = json.dumps(body, sort_keys=True).replace(json.dumps(number), '"N"')
        text = text.replace(f'"id": {invoice},', '"id": "I",').replace(
            f'"customerId": {customer},', '"customerId": "C",'
        )
        shown_events.append((type_, entity, int(version), json.loads(text)))
    return {
        "notice": tuple(row[:-1]),
        "message": tuple(message[0]),
        "invoice": rows(
            store,
            "SELECT state, dunning_level, last_notice_on, last_cycle_on, version FROM invoice WHERE id = $i",
            {"i": invoice},
        )[0],
        "history": [(h[0], int(h[1]), h[2], h[3], h[4], _obj(h[7])) for h in history],
        "events": shown_events,
        "who": [(h[0], h[4], h[5], _obj(h[6]), h[8]) for h in history],
        "event_who": people,
    }


def _obj(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_a_dun_by_hand_writes_what_the_rules_dun_writes_for_an_identical_invoice(
    ctx: Context, service: Collections, strategies: StrategySet
) -> None:
    book = Portfolio(service, TODAY)
    book.customer("rule", "smb", "low")
    book.customer("hand", "smb", "low")
    by_rule, by_hand = book.invoice("rule", 20), book.invoice("hand", 20)
    run_cycle(ctx, strategies, TODAY - timedelta(days=10))  # both: first notice, by email, ten days ago
    since = _mark(ctx.store)

    _dun(service, by_hand)  # second step, ladder of smb-standard: sms, smb_dunning_2
    run_cycle(ctx, strategies, TODAY)  # the rule's second step for the other; the one dunned by hand is done

    rule, hand = _written(ctx.store, by_rule, since), _written(ctx.store, by_hand, since)
    assert hand["notice"] == rule["notice"]
    assert hand["notice"][:5] == ("dun", "sms", "smb_dunning_2", None, 2)
    assert hand["message"] == rule["message"] == ("sms", hand["message"][1], "customer", "requested",
                                                  "smb_dunning_2", "smb-standard")  # fmt: skip
    assert hand["invoice"] == rule["invoice"]
    assert hand["history"] == rule["history"]
    assert [h[4] for h in hand["history"]] == ["dun", "request"]
    assert hand["history"][0][5]["days_since_last_notice"] == 10  # the facts as they were, not as waived
    assert hand["events"] == rule["events"]
    assert [e[0] for e in hand["events"]] == ["o2c.invoice.state_changed", "o2c.notice.requested"]
    versions = rows(ctx.store, "SELECT entity_version FROM outbox WHERE entity_type = 'invoice' AND entity_id = $i "
                               "ORDER BY id", {"i": by_hand})  # fmt: skip
    assert versions == list(range(1, len(versions) + 1))  # every version of the invoice, each once, growing
    # only who did it, why, and the cause naming them (with the rule's own cause as the step taken)
    (_, _, rule_actor, rule_cause, _), _ = rule["who"]
    (_, _, hand_actor, hand_cause, hand_reason), (_, _, _, notice_cause, _) = hand["who"]
    assert (rule_actor, hand_actor) == (str(CYCLE_ACTOR), "user:alice")
    assert rule_cause["rule"] == "second-notice"
    assert hand_cause == {"kind": "user", "name": "alice", "step": rule_cause}
    assert notice_cause == {**hand_cause, "rules": ["smb-standard/second-notice"]}
    assert hand_reason == "the customer asked for it in writing"
    assert [w[1:] for w in hand["event_who"]] == [
        ("user:alice", hand_cause, hand_reason),
        ("user:alice", notice_cause, None),
    ]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_inbox() as served:
        yield served


def test_a_dun_by_hand_joins_the_days_message_and_o2c_notices_send_delivers_it(
    ctx: Context,
    service: Collections,
    strategies: StrategySet,
    clock: FixedClock,
    database_url: str,
    smtp: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox, port = smtp
    book = Portfolio(service, TODAY)
    book.customer("ent", "enterprise", "low")  # enterprise-low-risk: email at every step
    by_cycle, by_hand = book.invoice("ent", 10), book.invoice("ent", 20)
    _on(clock, TODAY - timedelta(days=3))
    service.transition_invoice(TransitionInvoice(by_hand, "mark_overdue", "late"), ALICE)
    _dun(service, by_hand, "first notice now")
    _on(clock, TODAY)
    run_cycle(ctx, strategies, TODAY)  # the other invoice's first notice; this one waits its 14 days
    assert invoice_state(ctx.store, by_hand) == ("dunning", 1)
    since = _mark(ctx.store)

    _dun(service, by_hand, "second notice now, with the other invoice")

    ((message, lines),) = rows(
        ctx.store,
        "SELECT message, COUNT(*) FROM notice WHERE business_date = $d GROUP BY message",
        {"d": TODAY},
    )
    assert lines == 2  # one message for the customer, the date and email
    todays = "SELECT template, level, message FROM notice WHERE invoice = $i AND business_date = $d"
    assert rows(ctx.store, todays, {"i": by_cycle, "d": TODAY}) == [("ent_dunning_1", 1, message)]
    assert rows(ctx.store, todays, {"i": by_hand, "d": TODAY}) == [("ent_dunning_next", 2, message)]
    assert rows(ctx.store, "SELECT type FROM outbox WHERE id > $s ORDER BY id", {"s": since[0]}) == [
        "o2c.invoice.state_changed"  # the line joined a message already requested: no second message
    ]
    for name, value in {
        "O2C_DATABASE_URL": database_url,
        "O2C_TODAY": TODAY.isoformat(),
        "O2C_STRATEGIES_DIR": str(ROOT / "strategies"),
        "O2C_TEMPLATES_DIR": str(ROOT / "templates"),
        "O2C_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "O2C_MAIL_FROM": "credit@northwind.example",
    }.items():
        monkeypatch.setenv(name, value)
    assert o2c(["notices", "render", "--json"]) == 0
    assert o2c(["notices", "send", "--once", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["sent"] == 2  # three days ago's and today's
    (state,) = rows(ctx.store, "SELECT state FROM notice_message WHERE id = $m", {"m": message})
    assert state == "sent"
    numbers = rows(ctx.store, "SELECT number FROM invoice ORDER BY id")
    both = [m for m in inbox.messages if all(n in m.get_body(("plain",)).get_content() for n in numbers)]
    assert len(both) == 1 and both[0]["To"] == "ent@example.com"


def test_transition_invoice_dun_through_graphql_shows_the_notice_on_the_invoice(service: Collections) -> None:
    book = Portfolio(service, TODAY)
    book.customer("acme", "smb", "low")
    inv = book.invoice("acme", 5)
    service.transition_invoice(TransitionInvoice(inv, "mark_overdue", "late"), ALICE)
    mutation = (
        'mutation($i: ID!) { transitionInvoice(input: {invoiceId: $i, trigger: DUN, reason: "called, no answer"}) '
        "{ state dunningLevel notices { channel template state businessDate lines { number kind level template } } } }"
    )
    moved = data(run(service.ctx, mutation, {"i": str(inv)}, role="collector"))["transitionInvoice"]
    assert (moved["state"], moved["dunningLevel"]) == ("DUNNING", 1)
    (notice,) = moved["notices"]
    assert (notice["channel"], notice["template"], notice["state"], notice["businessDate"]) == (
        "EMAIL",
        "smb_dunning_1",
        "REQUESTED",
        TODAY.isoformat(),
    )
    assert notice["lines"] == [{"number": "INV-00001", "kind": "dun", "level": 1, "template": "smb_dunning_1"}]
    (actor,) = rows(service.ctx.store, "SELECT actor FROM transition_history WHERE trigger = 'dun'")
    assert actor == "user:collector tester (key testkey)"

    again = run(service.ctx, mutation, {"i": str(inv)}, role="collector")
    assert codes(again) == ["VALIDATION_FAILED"]  # one notice per invoice per day


def test_what_the_machine_a_block_or_the_day_forbid_is_refused_and_writes_nothing(
    ctx: Context, service: Collections, clock: FixedClock
) -> None:
    book = Portfolio(service, TODAY)
    book.customer("acme", "smb", "low")  # smb-standard: three steps
    book.customer("quarrel", "smb", "low")  # a dispute re-scores its customer: kept apart
    climbing, blocked, disputed = book.invoice("acme", 40), book.invoice("acme", 40), book.invoice("quarrel", 40)
    for inv in (climbing, blocked, disputed):
        service.transition_invoice(TransitionInvoice(inv, "mark_overdue", "late"), ALICE)
    service.place_block(book.customers["acme"], blocked, "legal", None, "lawyers look at it", ALICE)
    service.open_dispute(OpenDispute(disputed, "pricing"), ALICE)
    for day in range(3):  # one step a day up the ladder: email, sms, letter; never two in a day
        _on(clock, TODAY + timedelta(days=day))
        _dun(service, climbing)
        before = counts(ctx.store)
        with pytest.raises(ValidationFailed if day < 2 else InvalidTransition, match=r"per day|past the maximum"):
            _dun(service, climbing)  # the top step (day 2) is refused by the machine first
        assert counts(ctx.store) == before
    assert rows(
        ctx.store, "SELECT channel, template, level FROM notice WHERE invoice = $i ORDER BY level", {"i": climbing}
    ) == [
        ("email", "smb_dunning_1", 1),
        ("sms", "smb_dunning_2", 2),
        ("letter", "smb_dunning_3", 3),
    ]
    _on(clock, TODAY + timedelta(days=3))
    with pytest.raises(InvalidTransition, match="never past the maximum"):
        _dun(service, climbing)  # the ladder has three steps
    with pytest.raises(ValidationFailed, match="dunning block is in force"):
        _dun(service, blocked)
    with pytest.raises(InvalidTransition, match="in state 'disputed' cannot 'dun'"):
        _dun(service, disputed)
    assert counts(ctx.store) == before
    assert invoice_state(ctx.store, blocked) == ("overdue", 0)


def test_a_dun_by_hand_for_a_customer_without_a_usable_contact_falls_back_as_the_rules_does(
    ctx: Context, service: Collections, strategies: StrategySet
) -> None:
    book = Portfolio(service, TODAY)
    for name in ("rule", "hand", "rule-none", "hand-none"):
        book.customer(name, "smb", "low")
    invoices = {name: book.invoice(name, 20) for name in book.customers}
    with UnitOfWork(ctx.store, write=True) as uow:  # no email: smb-standard's email falls back (letter, sms)
        uow.execute("UPDATE contact SET email = NULL, phone = '+4915112345678'")
        uow.execute(
            "UPDATE contact SET phone = NULL "
            "WHERE customer IN (SELECT id FROM customer WHERE external_ref LIKE '%none')"
        )
        uow.commit()
    for inv in invoices.values():
        service.transition_invoice(TransitionInvoice(inv, "mark_overdue", "late"), ALICE)
    for name in ("hand", "hand-none"):
        _dun(service, invoices[name])
    run_cycle(ctx, strategies, TODAY)
    render_pending(ctx.store, load(ROOT / "templates"), strategies, ctx.now())

    outcome = {
        ref: rest
        for ref, *rest in rows(
            ctx.store,
            "SELECT c.external_ref, m.channel, m.via, m.state, m.recipient, m.template FROM notice_message m "
            "JOIN customer c ON c.id = m.customer",
        )
    }
    assert outcome["hand"] == outcome["rule"] == ["email", "sms", "rendered", "+4915112345678", "smb_dunning_1"]
    assert outcome["hand-none"] == outcome["rule-none"]
    assert outcome["hand-none"][2] == "cancelled"  # nobody to write to: a collector calls instead
    tasks = rows(
        ctx.store,
        "SELECT c.external_ref, t.queue, t.note FROM collector_task t JOIN customer c ON c.id = t.customer "
        "ORDER BY c.external_ref",
    )
    assert [t[0] for t in tasks] == ["hand-none", "rule-none"]
    assert tasks[0][1] == tasks[1][1] == "collections"
    assert [t[2].rsplit(" ", 1)[0] for t in tasks] == ["No usable contact for email, letter, sms: add one, then "
                                                       "reach the customer about"] * 2  # fmt: skip


def test_a_cycle_renders_the_earlier_dates_requested_messages_before_it_opens_and_joins_todays(
    ctx: Context, service: Collections, strategies: StrategySet, clock: FixedClock
) -> None:
    """A message of an earlier date still `requested` (its process was killed before rendering) is
    rendered before the next date's cycle opens; the date's own message, written by hand that
    morning, stays `requested` and the cycle's line joins it."""
    book = Portfolio(service, TODAY)
    book.customer("ent", "enterprise", "low")  # enterprise-low-risk: email at every step
    by_cycle, by_hand = book.invoice("ent", 10), book.invoice("ent", 20)
    _on(clock, TODAY - timedelta(days=3))
    service.transition_invoice(TransitionInvoice(by_hand, "mark_overdue", "late"), ALICE)
    _dun(service, by_hand, "first notice now")
    _on(clock, TODAY)
    _dun(service, by_hand, "second notice this morning")
    day = "SELECT m.id, m.state FROM notice_message m WHERE m.business_date = $d"
    ((earlier, state),) = rows(ctx.store, day, {"d": TODAY - timedelta(days=3)})
    ((todays, _),) = rows(ctx.store, day, {"d": TODAY})
    assert state == "requested"

    run_cycle(ctx, strategies, TODAY)

    assert rows(ctx.store, day, {"d": TODAY - timedelta(days=3)}) == [(earlier, "rendered")]
    assert rows(ctx.store, day, {"d": TODAY}) == [(todays, "requested")]
    lines = "SELECT invoice FROM notice WHERE message = $m ORDER BY invoice"
    assert rows(ctx.store, lines, {"m": todays}) == sorted([by_cycle, by_hand])
    assert rows(ctx.store, lines, {"m": earlier}) == [by_hand]
