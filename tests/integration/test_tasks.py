"""Tasks on SQLite and PostgreSQL: the cycle opens one task per invoice and queue however often
its rule fires, an escalation hands over to its queue, and people move tasks through the machine
with history and events."""

from __future__ import annotations

import json
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from cycle_support import Portfolio, clear_cycle_tables, rows, scalar

from engine.clock import FixedClock
from engine.cycle.runner import run_cycle
from engine.queries.tasks import TaskFilter, count_tasks, list_tasks
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.services.context import Context
from engine.store.unit_of_work import UnitOfWork
from engine.strategies_in_force import load_registry
from engine.timers import run_timers
from states.actors import person
from states.errors import InvalidTransition, ValidationFailed

DAY = date(2026, 3, 2)
ALICE = person("alice")

TASKS_AND_HANDOVER = """\
strategy: tasks-and-handover
version: 1
applies_to:
  segment: [enterprise, mid_market, smb, public_sector]
  risk: [low, medium, high, critical]
settings:
  grace_days: 1
  min_amount: {EUR: 10.00}
  max_dunning_level: 3
rules:
  - id: hand-over
    when: days_past_due >= 60
    then:
      - escalate: {to: agency}
  - id: call-them
    track: follow-up
    when: days_past_due >= 10
    then:
      - create_task: {queue: collections, note: "call them"}
"""


@pytest.fixture
def strategies(tmp_path: Path) -> StrategySet:
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "tasks.yaml").write_text(textwrap.dedent(TASKS_AND_HANDOVER))
    return load_registry(folder).current


def _tasks(ctx: Context) -> list[tuple[int, str, str, str]]:
    """(invoice, queue, status, source) of every task, by id."""
    return [
        (int(i), str(q), str(s), str(src))
        for i, q, s, src in rows(ctx.store, "SELECT invoice, queue, status, source FROM collector_task ORDER BY id")
    ]


def test_a_rule_firing_every_day_keeps_one_open_task_per_invoice_and_queue(
    ctx: Context, service: Collections, strategies: StrategySet, clock: FixedClock
) -> None:
    clear_cycle_tables(ctx.store)
    book = Portfolio(service, DAY)
    book.customer("a", "smb", "low")
    inv = book.invoice("a", 20)
    for offset in range(5):
        run_cycle(ctx, strategies, DAY + timedelta(days=offset))
    assert _tasks(ctx) == [(inv, "collections", "open", "rule")]
    history = rows(
        ctx.store, "SELECT trigger, to_state, actor FROM transition_history WHERE entity_type = 'task' ORDER BY id"
    )
    assert [tuple(r) for r in history] == [("open", "open", "rule:cycle")]
    assert scalar(ctx.store, "SELECT COUNT(*) FROM outbox WHERE type = 'o2c.task.opened'") == 1


def test_a_task_a_person_finished_is_not_opened_again_by_its_rule(
    ctx: Context, service: Collections, strategies: StrategySet
) -> None:
    clear_cycle_tables(ctx.store)
    book = Portfolio(service, DAY)
    book.customer("a", "smb", "low")
    book.invoice("a", 20)
    report = run_cycle(ctx, strategies, DAY)
    assert report.tasks == 1
    (task_id,) = [int(r) for r in rows(ctx.store, "SELECT id FROM collector_task")]
    service.complete_task(task_id, "reached", "they pay Friday", ALICE)
    again = run_cycle(ctx, strategies, DAY + timedelta(days=1))
    assert again.tasks == 0
    assert [s for *_, s, _src in _tasks(ctx)] == ["done"]


def test_an_escalation_opens_a_task_in_its_queue_with_the_hand_over(
    ctx: Context, service: Collections, strategies: StrategySet
) -> None:
    clear_cycle_tables(ctx.store)
    book = Portfolio(service, DAY)
    book.customer("late", "smb", "high")
    inv = book.invoice("late", 70, amount=45_000)
    run_cycle(ctx, strategies, DAY)
    assert sorted((q, src) for _i, q, _s, src in _tasks(ctx)) == [("agency", "escalation"), ("collections", "rule")]
    raw = rows(ctx.store, "SELECT handover FROM collector_task WHERE queue = 'agency'")[0]
    handover = json.loads(raw)
    assert handover["owed"]["openAmount"] == "450.00" and handover["owed"]["daysPastDue"] == 70
    assert [c["email"] for c in handover["contacts"]] == ["late@example.com"]
    assert [h["trigger"] for h in handover["history"]] == ["escalate", "mark_overdue", "issue"][
        : len(handover["history"])
    ]
    assert handover["history"][0]["to"] == "escalated"
    page = list_tasks(ctx.store, TaskFilter(queues=("agency",)), "CREATED_AT_DESC", 10, None)
    assert [e.node.invoice_id for e in page.edges] == [inv]


def test_a_collector_works_a_task_from_open_to_done_with_history_and_events(ctx: Context, service: Collections) -> None:
    book = Portfolio(service, DAY)
    customer = book.customer("a", "smb", "low")
    inv = book.invoice("a", 5)
    task = service.create_task(customer, inv, "collections", "ask for the remittance", ALICE)
    assert service.create_task(customer, inv, "collections", "again", ALICE).id == task.id  # never doubled
    service.assign_task(task.id, "bob", ALICE)
    service.start_task(task.id, person("bob"))
    done = service.complete_task(task.id, "promise", "pays on the 10th", person("bob"))
    assert (done.status, done.outcome, done.result_note, done.assignee, done.version) == (
        "done",
        "promise",
        "pays on the 10th",
        "bob",
        4,
    )
    steps = rows(
        ctx.store,
        "SELECT trigger, from_state, to_state, actor FROM transition_history WHERE entity_type = 'task' "
        "AND entity_id = $t ORDER BY id",
        {"t": task.id},
    )
    assert [tuple(s) for s in steps] == [
        ("open", None, "open", "user:alice"),
        ("assign", "open", "open", "user:alice"),
        ("start", "open", "in_progress", "user:bob"),
        ("complete", "in_progress", "done", "user:bob"),
    ]
    events = rows(ctx.store, "SELECT type, entity_version FROM outbox WHERE entity_type = 'task' ORDER BY id")
    assert [tuple(e) for e in events] == [
        ("o2c.task.opened", 1),
        ("o2c.task.state_changed", 2),
        ("o2c.task.state_changed", 3),
        ("o2c.task.state_changed", 4),
    ]
    # finished: a new task for the same subject and queue may be opened by a person
    assert service.create_task(customer, inv, "collections", None, ALICE).id != task.id


def test_a_snoozed_task_wakes_when_its_date_comes(ctx: Context, service: Collections, clock: FixedClock) -> None:
    book = Portfolio(service, DAY)
    customer = book.customer("a", "smb", "low")
    task = service.create_task(customer, None, "credit-desk", None, ALICE)
    service.snooze_task(task.id, DAY + timedelta(days=3), ALICE, "back from holiday on the 5th")
    assert run_timers(ctx, DAY + timedelta(days=2)).tasks_woken == []
    assert run_timers(ctx, DAY + timedelta(days=3)).tasks_woken == [task.id]
    flt = TaskFilter(statuses=("open",), queues=("credit-desk",))
    assert [e.node.snoozed_until for e in list_tasks(ctx.store, flt, "CREATED_AT_DESC", 5, None).edges] == [None]


def test_bad_task_steps_are_refused_and_change_nothing(ctx: Context, service: Collections) -> None:
    book = Portfolio(service, DAY)
    customer = book.customer("a", "smb", "low")
    task = service.create_task(customer, None, "collections", None, ALICE)
    with pytest.raises(ValidationFailed) as bad_outcome:
        service.complete_task(task.id, "shrug", None, ALICE)
    assert bad_outcome.value.field == "outcome"
    with pytest.raises(ValidationFailed) as past:
        service.snooze_task(task.id, DAY, ALICE)
    assert past.value.field == "until"
    with pytest.raises(ValidationFailed) as no_reason:
        service.cancel_task(task.id, "  ", ALICE)
    assert no_reason.value.field == "reason"
    with pytest.raises(ValidationFailed) as queue:
        service.create_task(customer, None, "Not A Queue!", None, ALICE)
    assert queue.value.field == "queue"
    service.cancel_task(task.id, "customer paid", ALICE)
    with pytest.raises(InvalidTransition):
        service.start_task(task.id, ALICE)
    assert scalar(ctx.store, "SELECT COUNT(*) FROM transition_history WHERE entity_type = 'task'") == 2
    assert count_tasks(ctx.store, TaskFilter(statuses=("cancelled",))) == 1


def test_the_database_refuses_a_second_unfinished_task_for_a_subject_and_queue(
    ctx: Context, service: Collections
) -> None:
    book = Portfolio(service, DAY)
    customer = book.customer("a", "smb", "low")
    service.create_task(customer, None, "collections", None, ALICE)
    with pytest.raises(Exception, match=r"(?i)unique"), UnitOfWork(ctx.store, write=True) as uow:
        uow.execute(
            "INSERT INTO collector_task (customer, queue, business_date, rule, status, created_at, subject) "
            "VALUES ($c, 'collections', $d, 'x', 'in_progress', $d, $s)",
            {"c": customer, "d": DAY.isoformat(), "s": f"customer:{customer}"},
        )
